"""The tags the controller writes on the versions it registers or copies (they outlive the resource)."""

from __future__ import annotations

from controller.reconciling.ownership import TAG_PREFIX

FINGERPRINT_TAG = f"{TAG_PREFIX}/source-fingerprint"
"""Identifies the source a version was made from, so it is never made twice."""
HANDLE_TAG = f"{TAG_PREFIX}/version-name"
"""The spec.versions handle the version was made for."""

# Lineage of a version copied from another registry.
SOURCE_LOCATION_TAG = f"{TAG_PREFIX}/copied-from-location"
"""The source registry: its MLflow tracking URI or Databricks workspace host."""
SOURCE_MODEL_TAG = f"{TAG_PREFIX}/copied-from-model"
SOURCE_VERSION_TAG = f"{TAG_PREFIX}/copied-from-version"
SOURCE_RUN_TAG = f"{TAG_PREFIX}/copied-from-run"
"""The run that logged the source version (it lives in the source workspace, not in this one)."""
