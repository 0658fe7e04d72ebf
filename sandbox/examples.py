"""The examples as they are, except that their Workspaces point at local services.

The sandbox applies them so, the e2e tests apply or plan them so: one rewrite, so an example that gains
a connection field is pointed at the local services everywhere at once.
"""

from __future__ import annotations

import copy
import shutil
from pathlib import Path
from typing import Any

import yaml

from sandbox.cluster import repo_root
from sandbox.databricks import DEFAULT_TOKEN

EXAMPLES = repo_root() / "examples"


def localized(
    document: dict[str, Any],
    *,
    mlflow_url: str | None = None,
    databricks_url: str | None = None,
    token: str | None = DEFAULT_TOKEN,
) -> dict[str, Any]:
    """A copy of one example document: a Workspace's tracking URI or host set to the URL given for it, and the
    credentials Secret's token set to `token` (None: left as the example has it)."""
    document = copy.deepcopy(document)
    spec = document.get("spec") or {}
    if document.get("kind") == "Workspace":
        if mlflow_url is not None and "mlflow" in spec:
            spec["mlflow"]["trackingUri"] = mlflow_url
        if databricks_url is not None and "databricks" in spec:
            spec["databricks"]["host"] = databricks_url
    data = document.get("stringData") or {}
    if token is not None and document.get("kind") == "Secret" and "token" in data:
        data["token"] = token
    return document


def example_documents(
    *folders: str, mlflow_url: str | None = None, databricks_url: str | None = None, token: str | None = DEFAULT_TOKEN
) -> list[dict[str, Any]]:
    """Every document of the example folders (examples/<folder>/*.yaml, in name order), localized."""
    return [
        localized(document, mlflow_url=mlflow_url, databricks_url=databricks_url, token=token)
        for folder in folders
        for path in sorted((EXAMPLES / folder).glob("*.yaml"))
        for document in yaml.safe_load_all(path.read_text())
        if document
    ]


def copy_examples(
    destination: Path,
    *folders: str,
    mlflow_url: str | None = None,
    databricks_url: str | None = None,
    token: str | None = DEFAULT_TOKEN,
) -> None:
    """The example folders copied to destination/<folder>, localized; files with nothing to point stay as they are
    (comments and all)."""
    for folder in folders:
        shutil.copytree(EXAMPLES / folder, destination / folder)
        for path in sorted((destination / folder).glob("*.yaml")):
            documents = list(yaml.safe_load_all(path.read_text()))
            local = [
                localized(d, mlflow_url=mlflow_url, databricks_url=databricks_url, token=token) if d else d
                for d in documents
            ]
            if local != documents:
                path.write_text(yaml.safe_dump_all(local))
