"""`mlopsctl run`'s endpoints: where the liveness probe is served."""

from __future__ import annotations

from controller.runner import liveness_url


def test_the_liveness_endpoint_is_served_on_the_bind_address() -> None:
    assert liveness_url("127.0.0.1", 8081) == "http://127.0.0.1:8081/healthz"
    assert liveness_url("::", 8081) == "http://[::]:8081/healthz"
