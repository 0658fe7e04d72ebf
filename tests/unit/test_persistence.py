"""kopf's diff base kept as digests: create, resume and spec updates are told apart as before, on a small annotation.

Each cycle here takes kopf's own steps (its cause detection and handler matching) over the storages the
controller configures, on a plain object that stands in for what the API server returns.
"""

from __future__ import annotations

import copy
import json
import logging
from typing import Any, cast

import kopf
import pytest
from kopf._cogs.structs import diffs
from kopf._core.intents import causes

from controller.api.crd import GROUP, VERSION
from controller.kinds.catalog import KINDS
from controller.persistence import MAX_MESSAGE, BoundedProgressStorage, DigestDiffBaseStorage

DIFFBASE = DigestDiffBaseStorage(prefix=GROUP)
PROGRESS = BoundedProgressStorage(prefix=GROUP)
LEGACY = kopf.AnnotationsDiffBaseStorage(prefix=GROUP, key="last-handled-configuration")
DIGEST_ANNOTATION = f"{GROUP}/last-handled-digest"
LEGACY_ANNOTATION = f"{GROUP}/last-handled-configuration"
FINALIZER = f"{GROUP}/finalizer"
RESOURCE = kopf.Resource(GROUP, VERSION, "mljobs")

# The controller's shape of handlers: create and resume, an update of spec only, and delete.
HANDLERS = kopf.OperatorRegistry()
kopf.on.create(GROUP, VERSION, "mljobs", id="created", registry=HANDLERS)(lambda **_: None)
kopf.on.resume(GROUP, VERSION, "mljobs", id="resumed", registry=HANDLERS)(lambda **_: None)
kopf.on.update(GROUP, VERSION, "mljobs", id="updated", field="spec", registry=HANDLERS)(lambda **_: None)
kopf.on.delete(GROUP, VERSION, "mljobs", id="deleted", registry=HANDLERS)(lambda **_: None)


def _mljob(tasks: int = 1, **meta: Any) -> dict[str, Any]:
    return {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": "MLJob",
        "metadata": {"name": "big", "namespace": "ns", "uid": "u-1", "finalizers": [FINALIZER], **meta},
        "spec": {
            "workspaceRef": {"name": "dbx"},
            "settings": {
                "name": "big",
                "tasks": [{"task_key": f"t{i}", "notebook_task": {"notebook_path": f"/n/{i}"}} for i in range(tasks)],
            },
        },
    }


def _cycle(obj: dict[str, Any], *, initial: bool = False) -> tuple[str, list[str], dict[str, Any]]:
    """One handling cycle as kopf runs it: the cause, the handlers it calls, and the object after its patch."""
    body = _body(obj)
    old = DIFFBASE.fetch(body=body)
    new = PROGRESS.clear(essence=DIFFBASE.build(body=body, extra_fields=[("spec",)]))
    old = PROGRESS.clear(essence=old) if old is not None else None
    patch = kopf.Patch()
    cause = causes.detect_changing_cause(
        finalizer=FINALIZER,
        raw_event=cast(kopf.RawEvent, {"type": "MODIFIED", "object": obj}),
        resource=RESOURCE,
        indices={},
        logger=logging.getLogger("test"),
        patch=patch,
        body=body,
        old=old,
        new=new,
        diff=diffs.diff(old, new),
        memo=kopf.Memo(),
        initial=initial,
    )
    fired = [str(handler.id) for handler in HANDLERS._changing.get_handlers(cause=cause)]
    if cause.reason in causes.HANDLER_REASONS and cause.old != new:  # kopf stores once handlers are done
        DIFFBASE.store(body=body, patch=patch, essence=new)
    return cause.reason.value, fired, _patched(obj, patch)


def _body(obj: dict[str, Any]) -> kopf.Body:
    return kopf.Body(cast(kopf.RawBody, copy.deepcopy(obj)))


def _patched(obj: dict[str, Any], patch: kopf.Patch) -> dict[str, Any]:
    result = copy.deepcopy(obj)
    annotations = result["metadata"].setdefault("annotations", {})
    for key, value in patch.get("metadata", {}).get("annotations", {}).items():
        if value is None:
            annotations.pop(key, None)
        else:
            annotations[key] = value
    return result


def _annotations_size(obj: dict[str, Any]) -> int:
    return sum(len(k) + len(v) for k, v in obj["metadata"].get("annotations", {}).items())


def test_create_then_spec_updates_fire_the_update_handler_and_nothing_else_does() -> None:
    reason, fired, obj = _cycle(_mljob())
    assert (reason, fired) == ("create", ["created"])

    reason, fired, obj = _cycle(obj)
    assert (reason, fired) == ("noop", [])

    edited = copy.deepcopy(obj)
    edited["spec"]["settings"]["tasks"][0]["notebook_task"]["notebook_path"] = "/n/changed"
    reason, fired, obj = _cycle(edited)
    assert (reason, fired) == ("update", ["updated/spec"])
    assert _cycle(obj)[:2] == ("noop", [])

    # Labels and annotations are part of what kopf tracks, but the controller reacts to spec only.
    labelled = copy.deepcopy(obj)
    labelled["metadata"]["labels"] = {"app.kubernetes.io/instance": "risk"}
    reason, fired, obj = _cycle(labelled)
    assert (reason, fired) == ("update", [])
    assert _cycle(obj)[:2] == ("noop", [])

    # A status write is no change at all.
    obj["status"] = {"observedGeneration": 3}
    assert _cycle(obj)[:2] == ("noop", [])


def test_metadata_changes_on_an_object_with_labels_leave_spec_changes_detected() -> None:
    # What Argo CD does: the object has labels, then gets a tracking annotation and another label.
    _, _, obj = _cycle(_mljob(labels={"team": "risk"}))
    for edit in (
        lambda o: o["metadata"].setdefault("annotations", {}).update({"argocd.argoproj.io/tracking-id": "app:x"}),
        lambda o: o["metadata"]["labels"].update({"app.kubernetes.io/instance": "app"}),
    ):
        edited = copy.deepcopy(obj)
        edit(edited)
        reason, fired, obj = _cycle(edited)
        assert (reason, fired) == ("update", [])
        assert _cycle(obj)[:2] == ("noop", [])
    edited = copy.deepcopy(obj)
    edited["spec"]["settings"]["name"] = "renamed"
    assert _cycle(edited)[:2] == ("update", ["updated/spec"])


def test_a_restarted_controller_resumes_unchanged_objects_and_updates_changed_ones() -> None:
    obj = _cycle(_mljob())[2]
    assert _cycle(obj, initial=True)[:2] == ("resume", ["resumed"])

    obj["spec"]["runOnChange"] = True
    reason, fired, _ = _cycle(obj, initial=True)
    assert (reason, sorted(fired)) == ("update", ["resumed", "updated/spec"])


def test_a_spec_changed_back_and_forth_is_detected_each_time() -> None:
    obj = _cycle(_mljob())[2]
    for policy in ("Delete", "Retain", "Delete"):
        obj["spec"]["deletionPolicy"] = policy
        reason, fired, obj = _cycle(obj)
        assert (reason, fired) == ("update", ["updated/spec"])


def test_deletion_calls_the_delete_handler_whatever_the_stored_digests() -> None:
    obj = _cycle(_mljob(tasks=1000))[2]
    obj["metadata"]["deletionTimestamp"] = "2026-01-01T00:00:00Z"
    assert _cycle(obj)[:2] == ("delete", ["deleted"])


def test_the_annotation_stays_small_and_the_same_size_whatever_the_spec_size() -> None:
    small = _cycle(_mljob(tasks=1))[2]
    large = _cycle(_mljob(tasks=1000))[2]
    assert len(json.dumps(large["spec"])) > 64 * 1024
    assert _annotations_size(large) == _annotations_size(small) < 512
    assert large["metadata"]["annotations"][DIGEST_ANNOTATION] != small["metadata"]["annotations"][DIGEST_ANNOTATION]


def test_an_object_with_the_legacy_annotation_is_migrated_without_a_reconcile() -> None:
    obj = _legacy(_mljob(tasks=50))
    reason, fired, obj = _cycle(obj, initial=True)
    assert (reason, fired) == ("update", ["resumed"])  # what any restart does; the spec handler stays quiet
    annotations = obj["metadata"]["annotations"]
    assert LEGACY_ANNOTATION not in annotations
    assert DIGEST_ANNOTATION in annotations
    assert _cycle(obj)[:2] == ("noop", [])
    assert _cycle(obj, initial=True)[:2] == ("resume", ["resumed"])


def test_a_spec_changed_while_the_legacy_annotation_was_there_is_an_update_of_spec() -> None:
    obj = _legacy(_mljob())
    obj["spec"]["settings"]["name"] = "renamed"
    reason, fired, obj = _cycle(obj)
    assert (reason, fired) == ("update", ["updated/spec"])
    assert LEGACY_ANNOTATION not in obj["metadata"]["annotations"]
    assert _cycle(obj)[:2] == ("noop", [])


def test_a_legacy_annotation_written_after_the_digests_wins() -> None:
    """Rolled back to a version that writes the full essence, then forward again: the newer record is the legacy one."""
    obj = _cycle(_mljob())[2]
    stale = obj["metadata"]["annotations"][DIGEST_ANNOTATION]
    obj["spec"]["runOnChange"] = True
    obj = _legacy(obj)
    obj["metadata"]["annotations"][DIGEST_ANNOTATION] = stale
    reason, fired, obj = _cycle(obj)
    assert (reason, fired) == ("update", [])
    assert LEGACY_ANNOTATION not in obj["metadata"]["annotations"]


@pytest.mark.parametrize("garbage", ["not json", '["a list"]', '{"spec": 1}'])
def test_an_unreadable_digest_annotation_is_handled_as_a_new_object(garbage: str) -> None:
    obj = _mljob()
    obj["metadata"]["annotations"] = {DIGEST_ANNOTATION: garbage}
    reason, fired, obj = _cycle(obj)
    assert (reason, fired) == ("create", ["created"])  # a create reconciles, and finds the job by its uid tag
    assert _cycle(obj)[:2] == ("noop", [])


def test_a_long_handler_error_is_cut_in_its_progress_annotation() -> None:
    body, patch = _body(_mljob()), kopf.Patch()
    for key, message in (("deleted", "x" * 100_000), ("short", "refused")):
        PROGRESS.store(key=kopf.HandlerId(key), record={"retries": 1, "message": message}, body=body, patch=patch)
    stored = patch["metadata"]["annotations"]
    assert len(json.loads(stored[f"{GROUP}/deleted"])["message"]) == MAX_MESSAGE
    assert json.loads(stored[f"{GROUP}/short"])["message"] == "refused"


def test_the_controller_reacts_to_changes_of_whole_top_level_fields_only() -> None:
    """The digests are per top-level part of the object; a handler on a field inside one would fire too often."""
    import controller.operator  # noqa: F401  (registers every kind's handlers)

    registry = kopf.get_default_registry()
    for definition in KINDS:
        resource = kopf.Resource(GROUP, VERSION, definition.plural)
        handlers = registry._changing.get_resource_handlers(resource=resource)
        assert handlers, definition.plural
        assert all(len(h.field or ()) <= 1 for h in handlers), [(h.id, h.field) for h in handlers]


def _legacy(obj: dict[str, Any]) -> dict[str, Any]:
    """The object as an earlier version left it: the whole essence it handled in one annotation."""
    patch = kopf.Patch()
    body = _body(obj)
    LEGACY.store(body=body, patch=patch, essence=PROGRESS.clear(essence=LEGACY.build(body=body)))
    return _patched(obj, patch)
