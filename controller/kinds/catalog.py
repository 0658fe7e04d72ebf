"""Every kind this controller serves, in dependency order."""

from __future__ import annotations

from controller.api.crd import KindDefinition
from controller.kinds.experiment.model import DEFINITION as EXPERIMENT
from controller.kinds.gitfolder.model import DEFINITION as GITFOLDER
from controller.kinds.mljob.model import DEFINITION as MLJOB
from controller.kinds.mlmodel.model import DEFINITION as MLMODEL
from controller.kinds.modelmonitor.model import DEFINITION as MODELMONITOR
from controller.kinds.servingendpoint.model import DEFINITION as SERVINGENDPOINT
from controller.kinds.workspace.model import DEFINITION as WORKSPACE

KINDS: tuple[KindDefinition, ...] = (WORKSPACE, MLMODEL, SERVINGENDPOINT, GITFOLDER, MLJOB, MODELMONITOR, EXPERIMENT)
