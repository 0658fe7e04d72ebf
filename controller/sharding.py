"""Shards: which slice of the resources one controller handles, and how the API server is asked for that slice.

The namespace is the key, so a resource and everything it references (references are namespaced) land in
one shard. Kubernetes 1.36 can filter list and watch on the server (feature gate ShardedListAndWatch, the
`shardSelector` parameter): it hashes `object.metadata.namespace` with 64-bit FNV-1a and keeps objects whose
hash h has start <= h < end. A server without the feature ignores the parameter and sends everything; only
a list answer tells them apart: a server that applied the selector echoes it in `metadata.shardInfo`.

Without the feature a shard can still be cut by hand (a fallback): by the namespaces it is given, or by a
label on the resources. A chosen fallback is used whatever the server supports, so an upgraded API server
never moves resources between shards. Nothing here does I/O.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

HASH_SPACE = 1 << 64
SHARD_FIELD = "object.metadata.namespace"
SHARD_LABEL = "mlops.gitops.dev/shard"
FEATURE_GATE = "ShardedListAndWatch"

_FNV_OFFSET = 0xCBF29CE484222325
_FNV_PRIME = 0x100000001B3


class Fallback(enum.StrEnum):
    """How to split without the API server's sharded watches (NONE: with them)."""

    NONE = "none"
    NAMESPACES = "namespaces"
    """Each shard is given its namespaces (`--namespace`); kopf watches only those."""
    LABEL = "label"
    """Each shard watches resources labelled mlops.gitops.dev/shard=<index> (a label selector on the server)."""


class ShardingError(ValueError):
    """The shard options cannot work; the message names the flag to change."""


def parse_fallback(value: str | None) -> Fallback:
    """The --shard-fallback value (or $MLOPS_SHARD_FALLBACK), empty for none."""
    try:
        return Fallback(value or Fallback.NONE)
    except ValueError:
        choices = ", ".join(f.value for f in Fallback if f is not Fallback.NONE)
        raise ShardingError(f"--shard-fallback must be one of {choices}, not {value!r}") from None


def namespace_hash(namespace: str) -> int:
    """The API server's hash of a namespace (FNV-1a, 64 bits, over its UTF-8 bytes)."""
    value = _FNV_OFFSET
    for byte in namespace.encode():
        value = ((value ^ byte) * _FNV_PRIME) % HASH_SPACE
    return value


def hash_range(index: int, count: int) -> tuple[int, int]:
    """Shard `index` of `count` equal slices of the hash space: [start, end)."""
    return index * HASH_SPACE // count, (index + 1) * HASH_SPACE // count


def shard_of(namespace: str, count: int) -> int:
    """Which of `count` shards handles the resources of `namespace`."""
    hashed = namespace_hash(namespace)
    return next(index for index in range(count) if hashed < hash_range(index, count)[1])


def selector(index: int, count: int) -> str:
    """The `shardSelector` for shard `index` of `count`.

    The server compares bounds as hex strings, shorter first: they must be zero-padded to 16 digits as its
    hashes are (the end of the last shard, 2**64, is the one 17-digit value).
    """
    start, end = hash_range(index, count)
    return f"shardRange({SHARD_FIELD}, '0x{start:016x}', '0x{end:016x}')"


def applied(list_body: Mapping[str, Any], requested: str) -> bool:
    """Whether a list answer shows the server filtered it by the `requested` selector (else it ignored it)."""
    info = (list_body.get("metadata") or {}).get("shardInfo") or {}
    return bool(info.get("selector")) and _canonical(str(info["selector"])) == _canonical(requested)


def _canonical(expression: str) -> str:
    return "".join(expression.split()).replace('"', "'")


@dataclass(frozen=True)
class Shard:
    """One controller's slice: shard `index` of `count`, and how it is cut."""

    index: int = 0
    count: int = 1
    fallback: Fallback = Fallback.NONE

    def __post_init__(self) -> None:
        if self.count < 1:
            raise ShardingError(f"--shard-count must be 1 or more, not {self.count}")
        if not 0 <= self.index < self.count:
            raise ShardingError(
                f"--shard-index must be between 0 and {self.count - 1} (--shard-count), not {self.index}"
            )

    @property
    def sharded(self) -> bool:
        return self.count > 1

    @property
    def needs_server_support(self) -> bool:
        """Whether this shard relies on the API server's sharded list and watch."""
        return self.sharded and self.fallback is Fallback.NONE

    def lease_name(self, base: str) -> str:
        """Each shard campaigns for its own Lease, so each can have a standby; one shard keeps today's name."""
        return f"{base}-shard-{self.index}-of-{self.count}" if self.sharded else base

    def shard_selector(self) -> str | None:
        """The `shardSelector` every watch of the controller's kinds carries, if any."""
        return selector(self.index, self.count) if self.needs_server_support else None

    def label_selector(self) -> str | None:
        """The label selector every watch of the controller's kinds carries, if any."""
        return f"{SHARD_LABEL}={self.index}" if self.sharded and self.fallback is Fallback.LABEL else None

    def check(self, *, namespaces: list[str], server_supports: Callable[[], bool]) -> None:
        """Refuse options that would leave resources to no shard or to two; the server is asked only if needed."""
        if not self.sharded:
            return
        if self.fallback is Fallback.NAMESPACES and not namespaces:
            raise ShardingError(
                "--shard-fallback=namespaces needs the shard's namespaces: give each shard its own --namespace"
            )
        if self.needs_server_support and not server_supports():
            raise ShardingError(
                f"--shard-count={self.count} needs an API server with sharded list and watch (Kubernetes 1.36+, "
                f"feature gate {FEATURE_GATE}=true); this one ignored the shard selector. Turn the gate on, or "
                "split without it: --shard-fallback=namespaces (each shard with its own --namespace) or "
                f"--shard-fallback=label (each resource labelled {SHARD_LABEL}=<shard index>)"
            )
