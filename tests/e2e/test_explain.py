"""`kubectl explain` on the installed CRDs, as a user reads it.

kubectl prints a field's type only from the schema's `type` (else "Object"), and an int-or-string
value cannot have one, so `spec.aliases` shows as `map[string]Object`: the description must say
what the values are, and the API server must publish them as int-or-string.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support import Kubectl

pytestmark = pytest.mark.e2e


def test_explain_says_an_alias_is_an_int_or_string(kubeconfig: Path) -> None:
    kubectl = Kubectl(kubeconfig)
    explained = kubectl("explain", "mlmodels.spec.aliases").stdout
    description = " ".join(explained.split("DESCRIPTION:", 1)[1].split())
    assert "Each value is an int-or-string: an integer or a string." in description

    published = json.loads(kubectl("get", "--raw", "/openapi/v3/apis/mlops.gitops.dev/v1alpha1").stdout)
    spec = published["components"]["schemas"]["dev.gitops.mlops.v1alpha1.MLModel"]["properties"]["spec"]
    values = spec["properties"]["aliases"]["additionalProperties"]
    assert values["x-kubernetes-int-or-string"] is True
    assert values["anyOf"] == [{"type": "integer"}, {"type": "string"}]
