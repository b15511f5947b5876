"""The OpenID Connect provider: Authlib's authorization server and resource protector, bound
to an application by ``init_oidc`` (called from ``create_app``)."""
from __future__ import annotations

import secrets

from authlib.integrations.flask_oauth2 import AuthorizationServer, ResourceProtector
from flask import Flask, current_app

from partners import client_auth, grants, service
from partners.models import SUPPORTED_SCOPES


def _new_token(**_context) -> str:
    return secrets.token_urlsafe(32)


def init_oidc(app: Flask) -> None:
    """Build the server for ``app`` from its settings and keep it in ``app.extensions``."""
    cfg = app.config
    app.config.update(
        OAUTH2_SCOPES_SUPPORTED=list(SUPPORTED_SCOPES),
        # 256 random bits each, from the system's CSPRNG in one call.
        OAUTH2_ACCESS_TOKEN_GENERATOR=_new_token,
        OAUTH2_REFRESH_TOKEN_GENERATOR=_new_token,
        OAUTH2_TOKEN_EXPIRES_IN={
            "authorization_code": cfg["OIDC_ACCESS_TOKEN_SECONDS"],
            "refresh_token": cfg["OIDC_ACCESS_TOKEN_SECONDS"],
            grants.DeviceGrant.GRANT_TYPE: cfg["OIDC_ACCESS_TOKEN_SECONDS"],
        },
    )
    # The sign-in pages' session: a signed cookie that scripts cannot read and that other
    # sites' forms do not carry.
    app.config["SESSION_COOKIE_NAME"] = "onecode_signin"
    app.config["SESSION_COOKIE_HTTPONLY"] = True
    app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    if (cfg.get("PUBLIC_URL") or "").startswith("https://"):
        app.config["SESSION_COOKIE_SECURE"] = True

    server = AuthorizationServer(query_client=service.get_client, save_token=grants.save_token)
    server.init_app(app)
    client_auth.register(server)
    server.register_grant(grants.CodeGrant, [grants.S256CodeChallenge(required=True),
                                             grants.OpenIDCodeTokens(require_nonce=False)])
    server.register_grant(grants.RefreshGrant)
    server.register_grant(grants.DeviceGrant, [grants.OpenIDDeviceTokens()])
    server.register_extension(grants.Issuer())

    protector = ResourceProtector()
    protector.register_token_validator(grants.AccessTokens())
    server.register_endpoint(grants.Revocation)
    server.register_endpoint(grants.Introspection)
    server.register_endpoint(grants.DeviceAuthorization)
    server.register_endpoint(grants.UserInfo(resource_protector=protector))
    app.extensions["oidc_server"] = server
    app.extensions["oidc_protector"] = protector


def authorization_server() -> AuthorizationServer:
    return current_app.extensions["oidc_server"]
