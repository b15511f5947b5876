"""The OpenID Connect provider in the OpenAPI document, as its routes really answer.

``identity.oidc.routes`` answers as the RFCs say, not as the rest of the API: form-encoded
requests, RFC 6749 JSON errors ``{error, error_description}`` (401 with ``WWW-Authenticate``
for a client that failed to authenticate), HTML pages and redirects for the browser. The app's
own request checks still apply before any of it (``app.openapi``): 415, 413 and 400
``malformed-json`` for a body, 503 for a dependency that is down, as problems.
"""
from __future__ import annotations

from apispec import APISpec
from flask import Flask

from core.openapi import CHECK_RESPONSES, problem_content
from core.schemas import PROBLEM_JSON
from partners.models import SUPPORTED_SCOPES

TAG = "OpenID Connect"
FORM = "application/x-www-form-urlencoded"
CLIENT_AUTH = [{"partnerBasic": []}, {}]  # client_secret_basic, or client_secret_post in the form
DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"

_string = {"type": "string"}
_integer = {"type": "integer"}
_no_store = {"Cache-Control": {"description": "`no-store`", "schema": _string}}
_cached = {"Cache-Control": {"description": "`public, max-age=300`", "schema": _string}}

SCHEMAS = {
    "OAuthError": {
        "type": "object",
        "description": "RFC 6749 section 5.2 (and RFC 6750, 7009, 7662, 8628)",
        "properties": {
            "error": {"type": "string", "description": "`invalid_request`, `invalid_client`, "
                      "`invalid_grant`, `unauthorized_client`, `unsupported_grant_type`, "
                      "`invalid_scope`, `authorization_pending`, `slow_down`, "
                      "`expired_token`, `access_denied`, `invalid_token`, "
                      "`missing_authorization`, `insufficient_scope`, ..."},
            "error_description": _string, "error_uri": _string, "state": _string},
        "required": ["error"]},
    "TokenRequest": {
        "type": "object",
        "properties": {
            "grant_type": {"type": "string", "enum": ["authorization_code", "refresh_token",
                                                      DEVICE_GRANT]},
            "code": _string, "redirect_uri": _string,
            "code_verifier": {"type": "string", "description": "PKCE (S256)"},
            "refresh_token": _string, "device_code": _string, "scope": _string,
            "client_id": {"type": "string", "description": "client_secret_post"},
            "client_secret": {"type": "string", "description": "client_secret_post"}},
        "required": ["grant_type"]},
    "TokenResponse": {
        "type": "object",
        "properties": {"access_token": _string, "token_type": {"type": "string"},
                       "expires_in": _integer, "refresh_token": _string,
                       "id_token": {"type": "string", "description": "RS256 JWT"},
                       "scope": _string},
        "required": ["access_token", "token_type", "expires_in"]},
    "TokenActionRequest": {
        "type": "object",
        "properties": {"token": _string,
                       "token_type_hint": {"type": "string",
                                           "enum": ["access_token", "refresh_token"]},
                       "client_id": _string, "client_secret": _string},
        "required": ["token"]},
    "Introspection": {
        "type": "object",
        "properties": {"active": {"type": "boolean"}, "client_id": _string,
                       "token_type": _string,
                       "token_kind": {"type": "string", "enum": ["access_token", "refresh_token"]},
                       "scope": _string, "sub": _string, "aud": _string, "iss": _string,
                       "exp": _integer, "iat": _integer,
                       "acr": {"type": "string", "nullable": True}},
        "required": ["active"]},
    "DeviceAuthorizationRequest": {
        "type": "object",
        "properties": {"scope": _string, "client_id": _string, "client_secret": _string}},
    "DeviceAuthorization": {
        "type": "object",
        "properties": {"device_code": _string, "user_code": _string,
                       "verification_uri": _string, "verification_uri_complete": _string,
                       "expires_in": _integer, "interval": _integer},
        "required": ["device_code", "user_code", "verification_uri",
                     "verification_uri_complete", "expires_in", "interval"]},
    "UserInfo": {
        "type": "object",
        "description": "`sub` always; `name` and `birthdate` with `profile`; `phone_number` "
                       "(E.164) with `phone`",
        "properties": {"sub": _string, "name": _string,
                       "birthdate": {"type": "string", "format": "date"},
                       "phone_number": _string},
        "required": ["sub"]},
    "PartnerJwks": {
        "type": "object",
        "properties": {"keys": {"type": "array", "items": {
            "type": "object",
            "properties": {"kty": _string, "kid": _string, "use": _string, "alg": _string,
                           "n": _string, "e": _string, "crv": _string, "x": _string},
            "required": ["kty", "kid"]}}},
        "required": ["keys"]},
    "OpenIDConfiguration": {
        "type": "object",
        "description": "OpenID Connect Discovery 1.0 section 3, RFC 8414",
        "properties": {
            "issuer": _string, "authorization_endpoint": _string, "token_endpoint": _string,
            "userinfo_endpoint": _string, "jwks_uri": _string, "revocation_endpoint": _string,
            "introspection_endpoint": _string, "device_authorization_endpoint": _string,
            "scopes_supported": {"type": "array", "items": {"type": "string",
                                                            "enum": list(SUPPORTED_SCOPES)}},
            "response_types_supported": {"type": "array", "items": _string},
            "grant_types_supported": {"type": "array", "items": _string},
            "subject_types_supported": {"type": "array", "items": _string},
            "id_token_signing_alg_values_supported": {"type": "array", "items": _string},
            "code_challenge_methods_supported": {"type": "array", "items": _string},
            "authorization_response_iss_parameter_supported": {"type": "boolean"}},
        "required": ["issuer", "authorization_endpoint", "token_endpoint", "jwks_uri",
                     "response_types_supported", "subject_types_supported",
                     "id_token_signing_alg_values_supported"]},
}


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(name: str, description: str, headers: dict | None = None) -> dict:
    response = {"description": description, "content": {"application/json": {"schema": _ref(name)}}}
    if headers:
        response["headers"] = headers
    return response


def _html(description: str) -> dict:
    return {"description": description, "content": {"text/html": {"schema": _string}}}


def _check(name: str) -> str:
    return name  # a response component of app.openapi, resolved (and registered) by apispec


def _oauth_errors(also_401: str = "") -> dict:
    """400 and 401 as RFC 6749 section 5.2 has them, and the app's own checks."""
    malformed = CHECK_RESPONSES["MalformedJson"][1]["description"]
    bad_request = _json("OAuthError", "the request is not valid (`invalid_request`, "
                        "`invalid_grant`, `unsupported_grant_type`, `invalid_scope`, ...); or, "
                        f"as a problem, {malformed}")
    bad_request["content"][PROBLEM_JSON] = problem_content()[PROBLEM_JSON]
    return {
        "400": bad_request,
        "401": _json("OAuthError", "`invalid_client`: the client failed to authenticate "
                     "(an unknown client and a wrong secret alike)" + also_401, {
                         "WWW-Authenticate": {"description": "`Basic`", "schema": _string}}),
        "413": _check("PayloadTooLarge"),
        "415": _check("UnsupportedMediaType"),
        "503": _check("ServiceUnavailable"),
    }


# Authlib answers a token_type_hint it does not know with 401.
_TOKEN_TYPE = ("; `unsupported_token_type`: a `token_type_hint` other than `access_token` or "
               "`refresh_token`")


def _form(name: str) -> dict:
    return {"required": True, "content": {FORM: {"schema": _ref(name)}}}


def _authorize_operation(method: str) -> dict:
    parameters = [{"in": "query", "name": name, "schema": _string, "required": False,
                   "description": text} for name, text in [
        ("response_type", "`code`"), ("client_id", ""), ("redirect_uri", "registered, exactly"),
        ("scope", "`openid` and `profile`, `phone`"), ("state", ""), ("nonce", ""),
        ("code_challenge", "PKCE, required"), ("code_challenge_method", "`S256`"),
        ("prompt", "`none`, `login`, `consent`"), ("max_age", "seconds")]]
    operation = {
        "tags": [TAG], "parameters": parameters,
        "summary": "Authorization request (code + PKCE): the sign-in and consent pages",
        "responses": {
            "200": _html("the sign-in page (password, one-time code, or a QR code to scan with "
                         "the app) or the consent page; both forms carry a CSRF token"),
            "302": {"description": "back to the partner's redirect URI with `code`, `state` and "
                                   "`iss`, or `error` (`access_denied`, `login_required`, ...)",
                    "headers": {"Location": {"schema": _string}}},
            "400": _html("an authorization request that is not valid, whose redirect URI is not "
                         "known good; or an expired form"),
            "503": _check("ServiceUnavailable"),
        },
    }
    if method == "post":
        operation["summary"] = "The sign-in and consent forms, posted back"
        operation["requestBody"] = {"required": False, "content": {FORM: {"schema": {
            "type": "object", "properties": {
                "action": {"type": "string", "enum": ["login", "scan", "logout", "consent"]},
                "csrf_token": _string, "username": _string, "password": _string,
                "otp": _string, "decision": {"type": "string", "enum": ["allow", "deny"]}}}}}}
        operation["responses"].update({
            "401": _html("the sign-in page again: wrong credentials or a one-time code needed"),
            "403": _html("the sign-in page again: the account is suspended"),
            "429": _html("the sign-in page again: too many failed attempts"),
            "413": _check("PayloadTooLarge"), "415": _check("UnsupportedMediaType"),
        })
        operation["responses"]["400"] = {
            **operation["responses"]["400"],
            "content": {**operation["responses"]["400"]["content"], **problem_content()}}
        operation["responses"]["400"]["description"] += (
            "; or, as a problem, " + CHECK_RESPONSES["MalformedJson"][1]["description"])
    return operation


def _userinfo(method: str) -> dict:
    operation = {
        "tags": [TAG], "summary": "The signed-in person's claims, as the scope releases them",
        "security": [{"partnerBearer": []}],
        "responses": {
            "200": _json("UserInfo", "the claims"),
            "401": _json("OAuthError", "`missing_authorization` or `invalid_token`", {
                "WWW-Authenticate": {"description": "`Bearer` with the error", "schema": _string}}),
            "403": _json("OAuthError", "`insufficient_scope`: the token lacks `openid`"),
            "503": _check("ServiceUnavailable"),
        }}
    if method == "post":
        operation["responses"].update({"400": {**CHECK_RESPONSES["MalformedJson"][1],
                                               "content": problem_content()},
                                       "413": _check("PayloadTooLarge"),
                                       "415": _check("UnsupportedMediaType")})
    return operation


PATHS = {
    "/.well-known/openid-configuration": {"get": {
        "tags": [TAG], "summary": "OpenID Connect discovery",
        "responses": {"200": _json("OpenIDConfiguration", "the provider's metadata; its "
                                   "`issuer` is `PUBLIC_URL`, else the request's scheme and host",
                                   _cached)}}},
    "/oauth/jwks": {"get": {
        "tags": [TAG], "summary": "The keys that verify ID tokens (current, and retired ones "
                                  "for `OIDC_RETIRED_KEY_SECONDS`)",
        "responses": {"200": _json("PartnerJwks", "a JWK set", _cached),
                      "503": _check("ServiceUnavailable")}}},
    "/oauth/token": {"post": {
        "tags": [TAG], "summary": "Token endpoint (RFC 6749 section 3.2; RFC 8628 device grant)",
        "security": CLIENT_AUTH, "requestBody": _form("TokenRequest"),
        "responses": {"200": _json("TokenResponse", "an access token, a refresh token and, "
                                   "with `openid`, an ID token", _no_store), **_oauth_errors()}}},
    "/oauth/revoke": {"post": {
        "tags": [TAG], "summary": "Revoke a token (RFC 7009)",
        "security": CLIENT_AUTH, "requestBody": _form("TokenActionRequest"),
        "responses": {"200": {"description": "revoked, or not a token of this client: the same "
                                             "answer either way",
                              "content": {"application/json": {"schema": {"type": "object"}}}},
                      **_oauth_errors(_TOKEN_TYPE)}}},
    "/oauth/introspect": {"post": {
        "tags": [TAG], "summary": "Introspect one of this client's tokens (RFC 7662)",
        "security": CLIENT_AUTH, "requestBody": _form("TokenActionRequest"),
        "responses": {"200": _json("Introspection", "`active: false` for a token that is not "
                                   "live or not this client's"), **_oauth_errors(_TOKEN_TYPE)}}},
    "/oauth/device_authorization": {"post": {
        "tags": [TAG], "summary": "Start scan-to-login (RFC 8628 device authorization)",
        "security": CLIENT_AUTH, "requestBody": _form("DeviceAuthorizationRequest"),
        "responses": {"200": _json("DeviceAuthorization", "show `verification_uri_complete` "
                                   "as a QR code beside `user_code`"), **_oauth_errors()}}},
    "/oauth/userinfo": {"get": _userinfo("get"), "post": _userinfo("post")},
    "/oauth/authorize": {"get": _authorize_operation("get"), "post": _authorize_operation("post")},
    "/oauth/device": {"get": {
        "tags": [TAG], "summary": "Where a phone without the app lands after scanning a "
                                  "partner's QR code",
        "parameters": [{"in": "query", "name": "user_code", "schema": _string, "required": False}],
        "responses": {"200": _html("how to approve the sign-in in the OneCode app")}}},
}


def document_partner_endpoints(spec: APISpec, app: Flask) -> None:
    """Add the provider's paths, schemas and security schemes to ``spec``, for the routes
    ``identity.oidc.routes`` registered on ``app``."""
    spec.components.security_scheme("partnerBasic", {
        "type": "http", "scheme": "basic",
        "description": "client_secret_basic: the partner's client id and secret"})
    spec.components.security_scheme("partnerBearer", {
        "type": "http", "scheme": "bearer",
        "description": "an access token from /oauth/token"})
    for name, schema in SCHEMAS.items():
        spec.components.schema(name, component=schema)
    spec.tag({"name": TAG, "description": "Partner apps: the OpenID Connect provider "
                                          "(RFC 6749 bodies and errors, not problems)"})
    rules = {rule.rule: rule for rule in app.url_map.iter_rules()}
    for path, operations in PATHS.items():
        # by_hand: app.openapi's ErrorResponses leaves these operations as they are.
        spec.path(rule=rules[path], operations=operations, by_hand=True)
