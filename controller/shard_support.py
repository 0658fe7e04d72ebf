"""Ask the API server whether it filters by shard, before a sharded controller starts.

One list of Leases in the controller's own namespace (it may list them: leader election lives there), with
the shard's selector and a limit of one. Custom resources cannot tell: their list answers never carry
`metadata.shardInfo`, even from a server that filtered them. The decision itself is `sharding.applied`.
"""

from __future__ import annotations

from typing import Any

from kubernetes import client, config
from kubernetes.client.exceptions import ApiException

from controller import sharding

_TIMEOUT_SECONDS = 10


def server_supports(namespace: str, shard_selector: str, *, api: Any = None) -> bool:
    """True when the server applied `shard_selector` to a list; raises ShardingError when it cannot be asked."""
    api_client = api or _api_client()
    try:
        body, _, _ = api_client.call_api(
            "/apis/coordination.k8s.io/v1/namespaces/{namespace}/leases",
            "GET",
            path_params={"namespace": namespace},
            query_params=[("shardSelector", shard_selector), ("limit", 1)],
            header_params={"Accept": "application/json"},
            auth_settings=["BearerToken"],
            response_type="object",
            _request_timeout=_TIMEOUT_SECONDS,
        )
    except ApiException as exc:
        raise sharding.ShardingError(
            f"cannot tell whether the API server filters by shard (--shard-count): listing Leases in namespace "
            f"{namespace} (--lease-namespace) answered {exc.status} {exc.reason}"
        ) from exc
    except Exception as exc:  # refused, reset, timed out: the controller could not start anyway
        raise sharding.ShardingError(
            f"cannot tell whether the API server filters by shard (--shard-count): {type(exc).__name__}: {exc}"
        ) from exc
    return sharding.applied(body if isinstance(body, dict) else {}, shard_selector)


def _api_client() -> Any:
    try:
        config.load_incluster_config()
    except config.ConfigException:
        config.load_kube_config()
    return client.ApiClient(client.Configuration.get_default_copy())
