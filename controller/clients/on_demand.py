"""A module imported on its first use, so that an installation loads only the SDKs its Workspaces use.

databricks-sdk and mlflow each cost tens of MiB of memory once imported. The modules bound to one of them
(`controller.clients.databricks` and `.mlflow`, each kind's `external`, the Unity Catalog registry) are
reached through `on_demand` by what the controller loads at start, so the SDK is imported when a Workspace
of that kind first connects, and never in an installation without one.

Type checkers see the real module:

    if TYPE_CHECKING:
        from controller.clients import databricks
    else:
        databricks = on_demand("controller.clients.databricks")
"""

from __future__ import annotations

import importlib
from typing import Any


class OnDemand:
    """Stands for a module; the first attribute read imports it (thread-safe: Python's import lock)."""

    __slots__ = ("_name",)

    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, attribute: str) -> Any:
        return getattr(importlib.import_module(self._name), attribute)

    def __repr__(self) -> str:
        return f"<module {self._name!r}, imported on first use>"


def on_demand(name: str) -> Any:
    """The module `name`, imported when one of its attributes is first read."""
    return OnDemand(name)
