"""Authentication through the real SDK: PAT, OAuth M2M, and refused credentials."""

from __future__ import annotations

from typing import Any

import pytest
import requests
from databricks.sdk import WorkspaceClient
from databricks.sdk.core import Config
from databricks.sdk.errors import PermissionDenied

from sandbox.databricks import Emulator

pytestmark = pytest.mark.integration
CLIENT_ID = "3f1c1d6e-0000-4000-8000-000000000001"
CLIENT_SECRET = "emulator-client-secret"


def test_pat_identity(w: WorkspaceClient) -> None:
    me = w.current_user.me()
    assert me.user_name == "emulator-user@example.com"
    assert me.active is True
    assert me.emails[0].value == "emulator-user@example.com"


def test_host_metadata_sets_workspace_id(w: WorkspaceClient) -> None:
    assert w.config.workspace_id == "1234567890123456"


def test_bad_token_is_permission_denied(make_client: Any) -> None:
    with pytest.raises(PermissionDenied, match="Invalid access token"):
        make_client(token="dapi-wrong").current_user.me()


def test_missing_credentials_are_unauthenticated(emu: Emulator) -> None:
    answer = requests.get(f"{emu.url}/api/2.0/serving-endpoints", timeout=5)
    assert answer.status_code == 401
    assert answer.json()["error_code"] == "UNAUTHENTICATED"


def test_rotated_token(emu: Emulator, make_client: Any) -> None:
    emu.add_token("dapi-new", "rotated@example.com")
    assert make_client(token="dapi-new").current_user.me().user_name == "rotated@example.com"
    emu.revoke_token("dapi-new")
    with pytest.raises(PermissionDenied):
        make_client(token="dapi-new").current_user.me()


def oauth(emu: Emulator, secret: str) -> WorkspaceClient:
    return WorkspaceClient(
        config=Config(host=emu.url, client_id=CLIENT_ID, client_secret=secret, retry_timeout_seconds=5)
    )


def test_oauth_m2m(emu: Emulator) -> None:
    w = oauth(emu, CLIENT_SECRET)
    assert w.config.auth_type == "oauth-m2m"
    me = w.current_user.me()
    assert me.user_name == CLIENT_ID
    assert w.serving_endpoints.create("by-sp").response.creator == CLIENT_ID
    calls = emu.counters()["calls"]
    assert calls["POST /oidc/v1/token"] == 1
    assert calls["GET /oidc/.well-known/oauth-authorization-server"] >= 1


def test_oauth_wrong_secret_is_refused(emu: Emulator) -> None:
    with pytest.raises(ValueError, match="invalid_client"):
        oauth(emu, "wrong").current_user.me()


def test_expired_oauth_token_is_refused(emu: Emulator) -> None:
    w = oauth(emu, CLIENT_SECRET)
    w.current_user.me()
    emu.advance_clock(7200)
    with pytest.raises(PermissionDenied):
        w.current_user.me()


def test_oauth_client_added_at_run_time(emu: Emulator) -> None:
    emu.add_oauth_client("new-client", "new-secret")
    w = WorkspaceClient(
        config=Config(host=emu.url, client_id="new-client", client_secret="new-secret", retry_timeout_seconds=5)
    )
    assert w.current_user.me().user_name == "new-client"


def test_a_chunked_token_request_is_read_whole(emu: Emulator) -> None:
    """Databricks' Go SDK sends the token form chunked; the old server read no body, answered
    unsupported_grant_type, then answered the unread chunk as a request (a stray HTML 400)."""
    form = iter([b"grant_type=client_credentials", b"&scope=all-apis"])
    with requests.Session() as session:
        answer = session.post(
            f"{emu.url}/oidc/v1/token",
            data=form,
            auth=(CLIENT_ID, CLIENT_SECRET),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            timeout=5,
        )
        assert answer.request.headers["Transfer-Encoding"] == "chunked"
        assert answer.status_code == 200, answer.text
        token = answer.json()["access_token"]
        me = session.get(
            f"{emu.url}/api/2.0/preview/scim/v2/Me", headers={"Authorization": f"Bearer {token}"}, timeout=5
        )
    assert me.status_code == 200, me.text
    assert me.json()["userName"] == CLIENT_ID
