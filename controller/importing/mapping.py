"""From what was read to assets and refusals: the kinds' own export mappings, plus what only an import
knows (who owns an asset, which assets the user asked for, jobs sharing a name)."""

from __future__ import annotations

import fnmatch
import re
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import chain

from pydantic import BaseModel

from controller.api.crd import KindDefinition
from controller.importing.assets import Asset, Skipped
from controller.importing.naming import short_hash
from controller.importing.reading import Estate
from controller.kinds.mljob import export as job_export
from controller.kinds.mljob.model import DEFINITION as MLJOB
from controller.kinds.mlmodel import export as model_export
from controller.kinds.mlmodel.model import DEFINITION as MLMODEL
from controller.kinds.modelmonitor import export as monitor_export
from controller.kinds.modelmonitor.model import DEFINITION as MODELMONITOR
from controller.kinds.servingendpoint import export as endpoint_export
from controller.kinds.servingendpoint.model import DEFINITION as SERVINGENDPOINT
from controller.reconciling.ownership import OWNER_TAG


@dataclass
class Mapped:
    """The assets to write, those refused, and how many the filter left out."""

    assets: list[Asset] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    filtered_out: int = 0


class Filter:
    """Which external names to import: shell-style globs, or regular expressions written /like this/."""

    def __init__(self, patterns: Sequence[str]) -> None:
        self._matchers: list[Callable[[str], bool]] = [self._matcher(p) for p in patterns]

    def __call__(self, name: str) -> bool:
        return not self._matchers or any(match(name) for match in self._matchers)

    @staticmethod
    def _matcher(pattern: str) -> Callable[[str], bool]:
        """A ValueError naming the pattern when a regular expression does not compile."""
        if len(pattern) > 1 and pattern.startswith("/") and pattern.endswith("/"):
            try:
                compiled = re.compile(pattern[1:-1])
            except re.error as exc:
                raise ValueError(f"--filter {pattern}: not a regular expression: {exc}") from exc
            return lambda name: compiled.fullmatch(name) is not None
        return lambda name: fnmatch.fnmatchcase(name, pattern)


@dataclass(frozen=True)
class _Found:
    """One asset read: what --filter matches, who owns it, and its spec or why there is none."""

    kind: KindDefinition
    external: str
    name: str
    owner: str | None
    result: Asset | list[str]


def map_estate(estate: Estate, *, workspace: str, wanted: Filter, monitor_owners: Mapping[str, str]) -> Mapped:
    """Every asset read, as a spec to write or a refusal; `monitor_owners` maps a table id to the
    ModelMonitor that manages its monitor (monitors carry no ownership tags)."""
    out = Mapped()
    found = chain(
        _models(estate, workspace),
        _endpoints(estate, workspace),
        _jobs(estate, workspace),
        _monitors(estate, workspace, monitor_owners),
    )
    for each in found:
        if not wanted(each.name):
            out.filtered_out += 1
        elif each.owner:
            out.skipped.append(Skipped(each.kind, each.external, (f"it is managed by {each.owner}",)))
        elif isinstance(each.result, Asset):
            out.assets.append(each.result)
        else:
            out.skipped.append(Skipped(each.kind, each.external, tuple(each.result)))
    return out


def _models(estate: Estate, workspace: str) -> Iterator[_Found]:
    for model in estate.models:
        external = f"registered model {model.name}"
        spec = model_export.spec_of(model, workspace=workspace)
        short = model.name.rsplit(".", 1)[-1]
        result = _asset(MLMODEL, external, short, short_hash(model.name), spec)
        yield _Found(MLMODEL, external, model.name, model.tags.get(OWNER_TAG), result)


def _endpoints(estate: Estate, workspace: str) -> Iterator[_Found]:
    for endpoint in estate.endpoints:
        name = str(endpoint.get("name"))
        external = f"serving endpoint {name}"
        owner = next((t.get("value") for t in endpoint.get("tags") or [] if t.get("key") == OWNER_TAG), None)
        spec = endpoint_export.spec_of(endpoint, workspace=workspace)
        notes = [f"left as it is, outside Git: {what}" for what in endpoint_export.left_alone(endpoint)]
        yield _Found(
            SERVINGENDPOINT,
            external,
            name,
            owner,
            _asset(SERVINGENDPOINT, external, name, short_hash(name), spec, notes),
        )


def _jobs(estate: Estate, workspace: str) -> Iterator[_Found]:
    names = Counter(str(job.settings.get("name")) for job, _ in estate.jobs)
    for job, unknown in estate.jobs:
        name = str(job.settings.get("name"))
        external = f"job {job.job_id} ({name})"
        result: Asset | list[str]
        if names[name] > 1:
            result = [f"{names[name]} jobs are named {name!r}; an MLJob adopts a job by its name"]
        else:
            spec = job_export.spec_of(job, workspace=workspace, unknown=unknown)
            result = _asset(MLJOB, external, name, str(job.job_id), spec)
        yield _Found(MLJOB, external, name, job.tags.get(OWNER_TAG), result)


def _monitors(estate: Estate, workspace: str, owners: Mapping[str, str]) -> Iterator[_Found]:
    for monitor in estate.monitors:
        table_id = str(monitor.config.get("object_id"))
        table = monitor.table_name or f"table id {table_id}"
        external = f"monitor on {table}"
        result: Asset | list[str]
        if monitor.table_name is None:
            result = ["the monitor does not name its table"]
        elif monitor.output_schema is None:
            result = ["its output schema could not be named (its metric tables are not in the schema it names)"]
        else:
            spec = monitor_export.spec_of(
                monitor.config, workspace=workspace, table_name=table, output_schema=monitor.output_schema
            )
            result = _asset(MODELMONITOR, external, table.rsplit(".", 1)[-1], short_hash(table), spec)
        yield _Found(MODELMONITOR, external, table, owners.get(table_id), result)


def _asset(
    kind: KindDefinition,
    external: str,
    base: str,
    disambiguator: str,
    spec: BaseModel | list[str],
    comments: list[str] | None = None,
) -> Asset | list[str]:
    if isinstance(spec, list):
        return spec
    return Asset(kind, external, base, disambiguator, spec, comments or [])
