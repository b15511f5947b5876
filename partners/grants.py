"""Authlib's grants and endpoints, bound to our storage. Only storage is written here: the
protocol rules (PKCE, redirect URI binding, client authentication, errors) are Authlib's.

Nothing here commits; the request's unit of work commits once, also after an error answer
(the route calls ``keep_on_error``), so that a revocation caused by a replayed code or
refresh token sticks.
"""
from __future__ import annotations

from authlib.oauth2.rfc6749 import grants
from authlib.oauth2.rfc6749.errors import (
    AccessDeniedError,
    InvalidGrantError,
    InvalidRequestError,
    InvalidScopeError,
)
from authlib.oauth2.rfc6749.util import scope_to_list
from authlib.oauth2.rfc6750 import BearerTokenValidator
from authlib.oauth2.rfc7009 import RevocationEndpoint
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oauth2.rfc7662 import IntrospectionEndpoint
from authlib.oauth2.rfc8628 import (
    AuthorizationPendingError,
    DeviceAuthorizationEndpoint,
    DeviceCodeGrant,
    ExpiredTokenError,
    SlowDownError,
)
from authlib.oauth2.rfc9207 import IssuerParameter
from authlib.oidc.core import UserInfoEndpoint
from authlib.oidc.core.grants import OpenIDCode, OpenIDToken
from authlib.consts import default_json_headers
from flask import current_app, request

from core import clock
from partners import device, keys, service
from partners.models import AuthorizationCode, digest
from partners.subjects import signed_in_subject, user_info

CLIENT_AUTH = ["client_secret_basic", "client_secret_post"]


def issuer() -> str:
    """The issuer identifier: ``PUBLIC_URL``, else the scheme and host of this request."""
    return (current_app.config.get("PUBLIC_URL") or request.host_url).rstrip("/")


# PKCE: required, S256 only (RFC 9700 §2.1.1) ------------------------------------------------


class S256CodeChallenge(CodeChallenge):
    SUPPORTED_CODE_CHALLENGE_METHOD = ["S256"]

    def validate_code_challenge(self, grant, redirect_uri):
        data = grant.request.payload.data
        if not data.get("code_challenge"):
            raise InvalidRequestError("PKCE is required: send 'code_challenge' with "
                                      "'code_challenge_method=S256'.")
        if data.get("code_challenge_method") != "S256":
            raise InvalidRequestError("Only 'code_challenge_method=S256' is supported.")
        super().validate_code_challenge(grant, redirect_uri)


# ID tokens ----------------------------------------------------------------------------------


class _IdTokenSigning:
    """RS256 always (never ``none``), with the current key's kid; the pairwise subject."""

    def _key(self):
        # Once per request (header and signature must name the same key); not on ``g``,
        # which outlives a request where an application context was pushed around it.
        if "onecode.oidc_key" not in request.environ:
            request.environ["onecode.oidc_key"] = keys.signing_key()
        return request.environ["onecode.oidc_key"]

    def get_client_algorithm(self, client):
        return keys.ALG

    def get_encode_header(self, client):
        return {"alg": keys.ALG, "kid": self._key()[0], "typ": "JWT"}

    def resolve_client_private_key(self, client):
        return self._key()[1]

    def get_client_claims(self, client):
        now = int(clock.timestamp())
        return {"iss": issuer(), "aud": client.get_client_id(), "iat": now,
                "exp": now + current_app.config["OIDC_ID_TOKEN_SECONDS"]}

    def generate_user_info(self, user, scope):
        return user_info(user, scope)


class OpenIDCodeTokens(_IdTokenSigning, OpenIDCode):
    def exists_nonce(self, nonce, request):
        # The nonce binds the ID token to the partner's session; replay is the partner's check.
        return False


class OpenIDDeviceTokens(_IdTokenSigning, OpenIDToken):
    pass


# Grants ------------------------------------------------------------------------------------


class CodeGrant(grants.AuthorizationCodeGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = CLIENT_AUTH

    def save_authorization_code(self, code, request):
        data = request.payload.data
        service.save_code(code, request.client, request.user, request.payload.redirect_uri,
                          request.scope, data.get("nonce"), data["code_challenge"],
                          data["code_challenge_method"])

    def query_authorization_code(self, code, client):
        return service.spend_code(code, client)

    def delete_authorization_code(self, authorization_code):
        pass  # spent already by query_authorization_code, atomically

    def authenticate_user(self, authorization_code):
        return signed_in_subject(self.request.client, authorization_code.person_id,
                                 authorization_code.auth_time, authorization_code.acr,
                                 authorization_code.get_amr())


class RefreshGrant(grants.RefreshTokenGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = CLIENT_AUTH
    INCLUDE_NEW_REFRESH_TOKEN = True  # rotation: each refresh token works once

    def authenticate_refresh_token(self, refresh_token):
        requested = self.request.payload.scope
        if requested:
            # Authlib checks the scope after this; a refused scope must not spend the token.
            row = service.find_token(refresh_token, "refresh_token")
            if row is not None and not set(scope_to_list(requested)) <= set(row.scope.split()):
                raise InvalidScopeError()
        return service.spend_refresh_token(refresh_token, self.request.client)

    def authenticate_user(self, refresh_token):
        return signed_in_subject(self.request.client, refresh_token.person_id,
                                 refresh_token.auth_time, refresh_token.acr,
                                 refresh_token.amr.split())

    def revoke_old_credential(self, refresh_token):
        pass  # spent already by authenticate_refresh_token, atomically


class DeviceGrant(DeviceCodeGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = CLIENT_AUTH

    def authenticate_token_endpoint_client(self):
        client = super().authenticate_token_endpoint_client()
        self.request.client = client  # read by validate_device_credential
        return client

    def query_device_credential(self, device_code):
        found = device.login_request(device_code)
        return found if found is not None and found.kind == device.DEVICE else None

    def validate_device_credential(self, credential):
        # One from before the client was disabled has ended, as if it had expired.
        if credential.is_expired() or not device.is_current(credential, self.request.client):
            raise ExpiredTokenError()
        answer = device.answer_of(credential)
        if answer is None:
            if device.note_poll(credential):
                raise SlowDownError()
            raise AuthorizationPendingError()
        if not answer.approved:
            raise AccessDeniedError()
        if not device.take_approval(credential):
            raise InvalidGrantError("This device code was used already.")
        return answer

    def validate_token_request(self):
        super().validate_token_request()
        answer = self.request.user
        subject = signed_in_subject(self.request.client, answer.person_id, answer.auth_time,
                                    answer.acr, answer.get_amr())
        if subject is None:
            raise InvalidGrantError()
        self.request.user = subject
        # The ID token reads auth_time, acr and amr from here, as from a code.
        self.request.authorization_code = answer


def save_token(token, request):
    """Authlib's callback: store the pair issued by any grant."""
    code = request.authorization_code
    previous = request.refresh_token
    service.save_token(
        token, request.client, request.user,
        code_hash=code.code_hash if isinstance(code, AuthorizationCode) else None,
        family=previous.family if previous is not None else None)


# Endpoints ---------------------------------------------------------------------------------


class DeviceAuthorization(DeviceAuthorizationEndpoint):
    CLIENT_AUTH_METHODS = CLIENT_AUTH

    def get_verification_uri(self):
        return issuer() + "/oauth/device"

    def create_endpoint_response(self, request):
        client = self.authenticate_client(request)
        self.server.validate_requested_scope(request.payload.scope)
        scope = client.get_allowed_scope(request.payload.scope or "openid")
        data = device.start_login_request(client, scope, device.DEVICE)
        uri = self.get_verification_uri()
        data.update(verification_uri=uri,
                    verification_uri_complete=f"{uri}?user_code={data['user_code']}")
        return 200, data, default_json_headers


class Revocation(RevocationEndpoint):
    CLIENT_AUTH_METHODS = CLIENT_AUTH

    def query_token(self, token_string, token_type_hint):
        return service.find_token(token_string)

    def revoke_token(self, token, request):
        service.revoke_token(token, request.form["token"])


class Introspection(IntrospectionEndpoint):
    CLIENT_AUTH_METHODS = CLIENT_AUTH

    def query_token(self, token_string, token_type_hint):
        row = service.find_token(token_string)
        if row is not None:
            row.presented_refresh = row.refresh_token_hash == digest(token_string)
        return row

    def check_permission(self, token, client, request):
        # A partner may introspect its own tokens only (RFC 7662 §4).
        return token.client_id == client.get_client_id()

    def create_introspection_payload(self, token):
        if token is None:
            return {"active": False}
        now = clock.timestamp()
        if token.presented_refresh:
            active = token.refresh_revoked_at is None and (token.refresh_expires_at or 0) > now
            exp, kind = token.refresh_expires_at, "refresh_token"
        else:
            active = not token.is_revoked() and not token.is_expired()
            exp, kind = token.issued_at + token.expires_in, "access_token"
        if not active:
            return {"active": False}
        subject = token.get_user()
        if subject is None:
            return {"active": False}
        return {"active": True, "client_id": token.client_id, "token_type": "Bearer",
                "token_kind": kind, "scope": token.scope, "sub": subject.sub,
                "aud": token.client_id, "iss": issuer(), "exp": exp, "iat": token.issued_at,
                "acr": token.acr}


class UserInfo(UserInfoEndpoint):
    def get_issuer(self):
        return issuer()

    def generate_user_info(self, user, scope):
        return user_info(user, scope)


class AccessTokens(BearerTokenValidator):
    def authenticate_token(self, token_string):
        return service.find_token(token_string, "access_token")

    def validate_token(self, token, scopes, request):
        super().validate_token(token, scopes, request)
        if token.get_user() is None:  # the person is gone or suspended
            from authlib.oauth2.rfc6750 import InvalidTokenError

            raise InvalidTokenError()


class Issuer(IssuerParameter):
    def get_issuer(self):
        return issuer()
