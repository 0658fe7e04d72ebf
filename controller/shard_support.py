"""Ask the API server whether it filters by shard, before a sharded controller starts.

One list of Leases in the controller's own namespace (it may list them: leader election lives there), with
the shard's selector and a limit of one. Custom resources cannot tell: their list answers never carry
`metadata.shardInfo`, even from a server that filtered them. The decision itself is `sharding.applied`.
"""

from __future__ import annotations

import json
from typing import Any

from kubernetes import client, config

from controller import sharding

_TIMEOUT_SECONDS = 10
_CANNOT_TELL = "cannot tell whether the API server filters by shard (--shard-count)"


def server_supports(namespace: str, shard_selector: str, *, api: Any = None) -> bool:
    """True when the server applied `shard_selector` to a list; raises ShardingError when it cannot be asked."""
    api_client = api or _api_client()
    try:
        request = api_client.param_serialize(
            "GET",
            "/apis/coordination.k8s.io/v1/namespaces/{namespace}/leases",
            path_params={"namespace": namespace},
            query_params=[("shardSelector", shard_selector), ("limit", 1)],
            header_params={"Accept": "application/json"},
            auth_settings=["BearerToken"],
        )
        method, url, headers, body, post_params = request
        response = api_client.call_api(
            method, url, header_params=headers, body=body, post_params=post_params, _request_timeout=_TIMEOUT_SECONDS
        )
        response.read()
    except Exception as exc:  # refused, reset, timed out: the controller could not start anyway
        raise sharding.ShardingError(f"{_CANNOT_TELL}: {type(exc).__name__}: {exc}") from exc
    if response.status != 200:
        raise sharding.ShardingError(
            f"{_CANNOT_TELL}: listing Leases in namespace {namespace} (--lease-namespace) answered {response.status} "
            f"{response.reason}"
        )
    listed = json.loads(response.data)
    return sharding.applied(listed if isinstance(listed, dict) else {}, shard_selector)


def _api_client() -> Any:
    try:
        config.load_incluster_config()
    except config.ConfigException:
        config.load_kube_config()
    return client.ApiClient(client.Configuration.get_default_copy())
