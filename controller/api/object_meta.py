"""`metadata` as the API server checks it on every object, custom resources included.

A CRD's schema says nothing about metadata (`type: object`); the API server applies the rules of
ObjectMeta instead, and `kubectl apply` needs a name.
"""

from __future__ import annotations

import re
from typing import Any

from controller.api.located import Path, Problem, shown

_FIELDS = {
    "name",
    "generateName",
    "namespace",
    "labels",
    "annotations",
    "finalizers",
    "ownerReferences",
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "managedFields",
    "selfLink",
}
_LABEL = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?"
_DNS_LABEL = re.compile(_LABEL)
_DNS_SUBDOMAIN = re.compile(rf"{_LABEL}(\.{_LABEL})*")
_NAME_PART = re.compile(r"([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]")
_ANNOTATIONS_BYTES = 256 * 1024

_SUBDOMAIN_RULE = (
    "must be a lowercase RFC 1123 subdomain: lowercase letters, digits, '-' and '.', "
    "starting and ending with a letter or digit, at most 253 characters"
)
_LABEL_RULE = (
    "must be a lowercase RFC 1123 label: lowercase letters, digits and '-', "
    "starting and ending with a letter or digit, at most 63 characters"
)
_NAME_PART_RULE = "must be at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit"


def problems(metadata: Any) -> list[Problem]:
    """What the API server refuses in an object's metadata (paths start at `metadata`)."""
    if metadata is None:
        return [Problem(("metadata", "name"), "Required value")]
    if not isinstance(metadata, dict):
        return [Problem(("metadata",), f"Invalid value: {shown(metadata)}: must be of type object")]
    found = [
        Problem(("metadata", key), "field not declared in the schema", at_key=True)
        for key in metadata
        if key not in _FIELDS
    ]
    name = metadata.get("name")
    if name is None or name == "":
        hint = " (kubectl apply needs a name; generateName only works with kubectl create)"
        found.append(Problem(("metadata", "name"), "Required value" + (hint if "generateName" in metadata else "")))
    else:
        found += _matching(("metadata", "name"), name, _DNS_SUBDOMAIN, 253, _SUBDOMAIN_RULE)
    if metadata.get("namespace") is not None:
        found += _matching(("metadata", "namespace"), metadata["namespace"], _DNS_LABEL, 63, _LABEL_RULE)
    found += _strings(("metadata", "labels"), metadata.get("labels"), _label)
    found += _strings(("metadata", "annotations"), metadata.get("annotations"), _annotation)
    annotations = metadata.get("annotations")
    if isinstance(annotations, dict):
        size = sum(len(str(k).encode()) + len(str(v).encode()) for k, v in annotations.items())
        if size > _ANNOTATIONS_BYTES:
            found.append(
                Problem(("metadata", "annotations"), f"Too long: must have at most {_ANNOTATIONS_BYTES} bytes")
            )
    finalizers = metadata.get("finalizers")
    if finalizers is not None and not isinstance(finalizers, list):
        found.append(Problem(("metadata", "finalizers"), f"Invalid value: {shown(finalizers)}: must be of type array"))
    elif finalizers is not None:
        for index, finalizer in enumerate(finalizers):
            found += _qualified(("metadata", "finalizers", index), finalizer)
    return found


def _matching(path: Path, value: Any, pattern: re.Pattern[str], limit: int, rule: str) -> list[Problem]:
    if not isinstance(value, str):
        return [Problem(path, f"Invalid value: {shown(value)}: must be of type string")]
    if len(value) > limit or not pattern.fullmatch(value):
        return [Problem(path, f"Invalid value: {shown(value)}: {rule}")]
    return []


def _strings(path: Path, value: Any, check: Any) -> list[Problem]:
    """A map of strings to strings (labels, annotations), each entry checked by `check`."""
    if value is None:
        return []
    if not isinstance(value, dict):
        return [Problem(path, f"Invalid value: {shown(value)}: must be of type object")]
    found: list[Problem] = []
    for key, item in value.items():
        if not isinstance(item, str):
            found.append(Problem((*path, key), f"Invalid value: {shown(item)}: must be of type string"))
        else:
            found += check((*path, key), key, item)
    return found


def _label(path: Path, key: str, value: str) -> list[Problem]:
    found = _qualified(path, key)
    if value and (len(value) > 63 or not _NAME_PART.fullmatch(value)):
        found.append(Problem(path, f"Invalid value: {shown(value)}: a label value {_NAME_PART_RULE}"))
    return found


def _annotation(path: Path, key: str, value: str) -> list[Problem]:
    return _qualified(path, key.lower())


def _qualified(path: Path, key: Any) -> list[Problem]:
    """A label or annotation key: an optional DNS subdomain prefix and '/', then a name."""
    if not isinstance(key, str):
        return [Problem(path, f"Invalid value: {shown(key)}: must be of type string")]
    prefix, _, name = key.rpartition("/") if "/" in key else ("", "", key)
    if prefix and (len(prefix) > 253 or not _DNS_SUBDOMAIN.fullmatch(prefix)):
        return [Problem(path, f"Invalid value: {shown(key)}: the prefix before '/' {_SUBDOMAIN_RULE}", at_key=True)]
    if len(name) > 63 or not _NAME_PART.fullmatch(name):
        return [Problem(path, f"Invalid value: {shown(key)}: the name {_NAME_PART_RULE}", at_key=True)]
    return []
