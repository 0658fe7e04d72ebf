"""What kopf keeps on each object between handling cycles, kept small whatever the size of the spec.

kopf tells create, resume and update apart, and fires `on.update(field="spec")`, by comparing the essence
(spec, labels, annotations) it last handled with the current one. Its annotation storage keeps that whole
essence in one annotation, and Kubernetes refuses an object whose annotations exceed 256 KiB in total: with
a large spec every patch fails, the finalizer's removal included, and the object can never be deleted.

Here the annotation holds a digest of each top-level part of the essence instead. On fetch, kopf gets back
the current essence for every part whose digest still matches and a stand-in value for every part that
changed, so it sees a change of `spec` exactly when the spec changed. This is exact for handlers whose
`field` is a whole top-level part (the controller's are `spec`); a field inside a part would fire on any
change of that part.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from typing import Any, cast

import kopf

DIGEST_KEY = "last-handled-digest"
LEGACY_KEY = "last-handled-configuration"
"""Where earlier versions kept the whole essence (kopf's AnnotationsDiffBaseStorage)."""

MAX_MESSAGE = 500
"""Characters of a handler's error message kept in its progress annotation; status and Events say it all."""


class DigestDiffBaseStorage(kopf.AnnotationsDiffBaseStorage):
    """kopf's diff base as one small annotation of digests, migrating the legacy full-essence annotation."""

    def __init__(self, *, prefix: str) -> None:
        super().__init__(prefix=prefix, key=DIGEST_KEY, v1=False)
        self._legacy = kopf.AnnotationsDiffBaseStorage(prefix=prefix, key=LEGACY_KEY)
        self._migration_part = self._legacy.make_v2_key(LEGACY_KEY)

    def build(self, *, body: kopf.Body, extra_fields: Iterable[Any] | None = None) -> kopf.BodyEssence:
        # Everything under our prefix is this controller's own bookkeeping, never the user's intent;
        # kopf drops it too, but only once its marker annotation is there.
        essence = super().build(body=body, extra_fields=extra_fields)
        annotations = essence.get("metadata", {}).get("annotations", {})
        self.remove_annotations(essence, {key for key in annotations if key.startswith(f"{self.prefix}/")})
        self.remove_empty_stanzas(essence)
        return essence

    def fetch(self, *, body: kopf.Body) -> kopf.BodyEssence | None:
        legacy = self._legacy.fetch(body=body)
        if legacy is not None:
            # The exact essence an earlier version handled, plus one part the current essence never has:
            # kopf sees a change (not of spec, so no reconcile for it) and stores digests in its place.
            return cast(kopf.BodyEssence, {**legacy, self._migration_part: "legacy"})
        digests = self._digests(body)
        if digests is None:
            return None
        current: dict[str, Any] = dict(self.build(body=body))
        old: dict[str, Any] = {}
        for part, digest in digests.items():
            value = current.get(part)
            # A stand-in is a mapping like the parts it replaces: kopf reads `metadata` of the old essence
            # as one (to drop its own progress annotations), and nothing the user writes can equal it.
            stand_in = {f"{self.prefix}/{DIGEST_KEY}": f"sha256:{digest}"}
            old[part] = value if part in current and _digest(value) == digest else stand_in
        return cast(kopf.BodyEssence, old)

    def store(self, *, body: kopf.Body, patch: kopf.Patch, essence: kopf.BodyEssence) -> None:
        digests = {part: _digest(value) for part, value in essence.items()}
        encoded = json.dumps(digests, sort_keys=True, separators=(",", ":"))
        for key in self.make_keys(self.key, body=body):
            patch.metadata.annotations[key] = encoded
        for key in self._legacy.make_keys(LEGACY_KEY, body=body):
            if key in body.metadata.annotations:
                patch.metadata.annotations[key] = None
        self._store_marker(prefix=self.prefix, patch=patch, body=body)

    def _digests(self, body: kopf.Body) -> dict[str, str] | None:
        """The stored digests by part; None when there are none (or they are unreadable: handled as new)."""
        for key in self.make_keys(self.key, body=body):
            encoded = body.metadata.annotations.get(key)
            if encoded is None:
                continue
            try:
                decoded = json.loads(encoded)
            except ValueError:
                return None
            if isinstance(decoded, dict) and all(isinstance(v, str) for v in decoded.values()):
                return decoded
        return None


class BoundedProgressStorage(kopf.AnnotationsProgressStorage):
    """kopf's per-handler progress annotations, with the error message cut to MAX_MESSAGE characters."""

    def store(self, *, key: kopf.HandlerId, record: kopf.ProgressRecord, body: kopf.Body, patch: kopf.Patch) -> None:
        message = record.get("message")
        if message is not None and len(message) > MAX_MESSAGE:
            record = {**record, "message": message[: MAX_MESSAGE - 1] + "…"}
        super().store(key=key, record=record, body=body, patch=patch)


def _digest(value: Any) -> str:
    canonical = json.dumps(value, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()
