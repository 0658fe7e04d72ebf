"""Credentials: personal access tokens and OAuth machine-to-machine (client credentials).

OAuth follows what the SDK's `oauth-m2m` provider does: it reads
`/.well-known/databricks-config` for the OIDC root, then the discovery document
at `{root}/.well-known/oauth-authorization-server`, then POSTs
`grant_type=client_credentials` with HTTP Basic client credentials to the token
endpoint. Access tokens issued here are accepted like PATs until they expire.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import zlib

from sandbox.databricks.state import ApiError, Clock, Json, Request, Route, new_hex_id

UNAUTHENTICATED = ApiError(
    401, "UNAUTHENTICATED", "Credential was not sent or was of an unsupported type for this API."
)
INVALID_TOKEN = ApiError(403, "PERMISSION_DENIED", "Invalid access token.")


class OAuthError(ApiError):
    """A token endpoint refusal: OAuth 2.0's `{"error", "error_description"}` body (RFC 6749 5.2), not Databricks'."""

    def body(self) -> Json:
        return {"error": self.error_code, "error_description": self.message}


@dataclasses.dataclass
class Issued:
    client_id: str
    expires: float


class Auth:
    """Who may call the emulator, and as whom."""

    def __init__(
        self, clock: Clock, tokens: dict[str, str], clients: dict[str, str], token_ttl: int, workspace_id: str
    ) -> None:
        self._clock = clock
        self.tokens = tokens
        """PAT → user name."""
        self.clients = clients
        """OAuth client id → secret; the client id is the service principal's user name."""
        self.token_ttl = token_ttl
        self.workspace_id = workspace_id
        self.base_url = ""
        self._issued: dict[str, Issued] = {}

    def principal(self, authorization: str | None) -> str:
        """The user behind an `Authorization` header, or the 401/403 Databricks answers."""
        if not authorization or not authorization.startswith("Bearer "):
            raise UNAUTHENTICATED
        token = authorization.removeprefix("Bearer ").strip()
        if token in self.tokens:
            return self.tokens[token]
        issued = self._issued.get(token)
        if issued is None or issued.expires <= self._clock.now() or issued.client_id not in self.clients:
            raise INVALID_TOKEN
        return issued.client_id

    def host_metadata(self, req: Request) -> Json:
        return {"oidc_endpoint": f"{self.base_url}/oidc", "workspace_id": self.workspace_id}

    def discovery(self, req: Request) -> Json:
        root = f"{self.base_url}/oidc"
        return {
            "issuer": root,
            "authorization_endpoint": f"{root}/v1/authorize",
            "token_endpoint": f"{root}/v1/token",
            "grant_types_supported": ["client_credentials", "authorization_code", "refresh_token"],
            "response_types_supported": ["code"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        }

    def issue(self, req: Request) -> Json:
        """The token endpoint: client credentials (Basic header or form fields) → bearer token."""
        form, authorization = req.body, req.headers.get("Authorization")
        client_id, secret = form.get("client_id"), form.get("client_secret")
        if authorization and authorization.startswith("Basic "):
            try:
                decoded = base64.b64decode(authorization.removeprefix("Basic ")).decode()
            except (binascii.Error, UnicodeDecodeError):
                decoded = ":"
            client_id, _, secret = decoded.partition(":")
        if form.get("grant_type") != "client_credentials":
            raise OAuthError(400, "unsupported_grant_type", "Use client_credentials.")
        if not client_id or self.clients.get(client_id) != secret:
            raise OAuthError(401, "invalid_client", "Client authentication failed.")
        token = f"emu-oauth-{new_hex_id()}"
        self._issued[token] = Issued(client_id, self._clock.now() + self.token_ttl)
        return {
            "access_token": token,
            "token_type": "Bearer",
            "expires_in": self.token_ttl,
            "scope": form.get("scope") or "all-apis",
        }

    def me(self, req: Request) -> Json:
        """SCIM `Me`: a user for PATs, a service principal (user name = client id) for OAuth."""
        is_sp = req.principal in self.clients
        out: Json = {
            "id": str(zlib.crc32(req.principal.encode())),
            "userName": req.principal,
            "displayName": f"Service principal {req.principal}" if is_sp else req.principal.split("@")[0],
            "active": True,
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "groups": [{"display": "users", "value": "1", "type": "direct"}],
        }
        if not is_sp:
            out["emails"] = [{"value": req.principal, "type": "work", "primary": True}]
        return out

    def routes(self) -> list[Route]:
        return [
            Route("GET", "/.well-known/databricks-config", self.host_metadata, public=True),
            Route("GET", "/oidc/.well-known/oauth-authorization-server", self.discovery, public=True),
            Route("POST", "/oidc/v1/token", self.issue, public=True, form=True),
            Route("GET", "/api/2.0/preview/scim/v2/Me", self.me),
        ]
