"""The provider's HTTP surface: discovery, JWKS, the OAuth endpoints and the sign-in pages.

These answer as the RFCs say (OAuth error bodies, redirects, HTML), not with problem+json.
The request's unit of work (``core.unit_of_work``) commits once after Authlib has answered;
the back-channel endpoints and the sign-in page ask it to keep their writes on error answers
(``keep_on_error``): a replayed code or refresh token revokes tokens, and that must stick.
"""
from __future__ import annotations

import hmac
import secrets

import segno
from authlib.common.urls import add_params_to_uri
from authlib.oauth2 import OAuth2Error
from authlib.oidc.core.errors import ConsentRequiredError
from flask import Blueprint, jsonify, render_template, request, session
from flask_babel import gettext as _
from markupsafe import Markup

from core import clock
from core.unit_of_work import keep_on_error
from identity import service as identity_service
from identity.errors import InvalidCredentials, OtpRequired, SubjectSuspended, TooManyAttempts
from partners import device, keys, service
from partners.grants import DeviceGrant, issuer
from partners.models import SUPPORTED_SCOPES
from partners.server import authorization_server
from partners.subjects import remember_subject, signed_in_subject

bp = Blueprint("oidc", __name__, template_folder="templates")

_SESSION = "oidc"  # {p: person id, t: auth_time, acr, amr}
_SCAN = "oidc_scan"  # {d: device code, c: client id, u: user code}


@bp.after_request
def _page_headers(response):
    response.headers.setdefault("Cache-Control", "no-store")
    if response.mimetype == "text/html":
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Content-Security-Policy"] = (
            "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'")
    return response


@bp.errorhandler(OAuth2Error)
def _oauth_error(error):
    # Raised outside Authlib's own handling, e.g. a request over plain http.
    return authorization_server().handle_error_response(None, error)


# Discovery and keys ----------------------------------------------------------------------


@bp.get("/.well-known/openid-configuration")
def discovery():
    base = issuer()
    body = {
        "issuer": base,
        "authorization_endpoint": base + "/oauth/authorize",
        "token_endpoint": base + "/oauth/token",
        "userinfo_endpoint": base + "/oauth/userinfo",
        "jwks_uri": base + "/oauth/jwks",
        "revocation_endpoint": base + "/oauth/revoke",
        "introspection_endpoint": base + "/oauth/introspect",
        "device_authorization_endpoint": base + "/oauth/device_authorization",
        "scopes_supported": list(SUPPORTED_SCOPES),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token", DeviceGrant.GRANT_TYPE],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": [keys.ALG],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "revocation_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "introspection_endpoint_auth_methods_supported": ["client_secret_basic",
                                                          "client_secret_post"],
        "code_challenge_methods_supported": ["S256"],
        "claims_supported": ["sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "acr",
                             "amr", "at_hash", "name", "birthdate", "phone_number"],
        "acr_values_supported": ["1", "2", "3"],
        "prompt_values_supported": ["none", "login", "consent"],
        "authorization_response_iss_parameter_supported": True,
        "claims_parameter_supported": False,
        "request_parameter_supported": False,
        "request_uri_parameter_supported": False,
    }
    response = jsonify(body)
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


@bp.get("/oauth/jwks")
def jwks():
    body = keys.jwks()
    response = jsonify(body)
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


# Back-channel endpoints --------------------------------------------------------------------


def _answer(endpoint: str | None = None):
    server = authorization_server()
    if endpoint is None:
        response = server.create_token_response()
    else:
        response = server.create_endpoint_response(endpoint)
    # Authlib answers a replayed code or refresh token 400 after revoking what it gave.
    keep_on_error()
    return response


@bp.post("/oauth/token")
def token():
    return _answer()


@bp.post("/oauth/revoke")
def revoke():
    return _answer("revocation")


@bp.post("/oauth/introspect")
def introspect():
    return _answer("introspection")


@bp.post("/oauth/device_authorization")
def device_authorization():
    return _answer("device_authorization")


@bp.route("/oauth/userinfo", methods=["GET", "POST"])
def userinfo():
    return _answer("userinfo")


@bp.get("/oauth/device")
def device_page():
    code = device.normalise_user_code(request.args.get("user_code", ""))
    return render_template("oidc/device.html", user_code=code)


# The browser's sign-in -----------------------------------------------------------------------


def _csrf_token() -> str:
    if "csrf" not in session:
        session["csrf"] = secrets.token_urlsafe(32)
    return session["csrf"]


def _csrf_ok() -> bool:
    sent = request.form.get("csrf_token", "")
    # As bytes: compare_digest refuses str with characters outside ASCII.
    return bool(sent) and hmac.compare_digest(sent.encode(), session.get("csrf", "").encode())


def _remember_sign_in(person_id: str, auth_time: int, acr: str, amr) -> dict:
    signed = {"p": person_id, "t": int(auth_time), "acr": acr, "amr": list(amr)}
    session[_SESSION] = signed
    session.pop(_SCAN, None)
    return signed


def _finish_scan() -> tuple[dict | None, str | None]:
    """The browser's sign-in when the phone app approved its QR code; else a message."""
    scan = session.get(_SCAN)
    if not scan:
        return None, None
    found = device.login_request(scan["d"])
    if found is None or found.is_expired():
        session.pop(_SCAN, None)
        return None, _("The QR code expired; scan the new one.")
    answer = device.answer_of(found)
    if answer is None:
        return None, _("Not approved in the app yet. Scan the QR code, approve, then continue.")
    session.pop(_SCAN, None)
    if not answer.approved or not device.take_approval(found):
        return None, _("The sign-in was declined in the app.")
    return _remember_sign_in(answer.person_id, answer.auth_time, answer.acr, answer.amr), None


def _scan_code(client, scope: str) -> dict:
    """The browser's live login request for this partner, started when there is none."""
    scan = session.get(_SCAN)
    if scan and scan["c"] == client.client_id:
        found = device.login_request(scan["d"])
        if found is not None and not found.is_expired() and device.answer_of(found) is None:
            return scan
    started = device.start_login_request(client, scope, device.BROWSER)
    scan = {"d": started["device_code"], "c": client.client_id, "u": started["user_code"]}
    session[_SCAN] = scan
    return scan


def _password_sign_in() -> tuple[dict | None, str | None, int]:
    try:
        person, amr = identity_service.authenticate(
            request.form.get("username", ""), request.form.get("password", ""),
            request.form.get("otp") or None, request.remote_addr)
    except TooManyAttempts as exc:
        wait = exc.headers.get("Retry-After", 1)
        return None, _("Too many failed attempts. Try again in %(seconds)s seconds.", seconds=wait), 429
    except OtpRequired:
        return None, _("Enter the one-time code from your authenticator app as well."), 401
    except SubjectSuspended:
        return None, _("This account is suspended."), 403
    except InvalidCredentials:
        return None, _("The username, password or one-time code is not correct."), 401
    signed = _remember_sign_in(person.id, int(clock.timestamp()),
                               str(person.assurance_level), amr)
    return signed, None, 200


def _error_page(title: str, detail: str, status: int = 400):
    return render_template("oidc/error.html", title=title, detail=detail), status


def _redirect_error(error: OAuth2Error):
    """An error for the partner: redirected (with ``iss``) when its redirect URI is known
    good, else a page for the person, never a redirect to an unchecked address."""
    if not error.redirect_uri:
        return _error_page(_("This sign-in link is not valid"),
                           error.description or error.error.replace("_", " "))
    response = authorization_server().handle_error_response(None, error)
    response.location = add_params_to_uri(response.location, {"iss": issuer()})
    return response


def _fresh_enough(signed: dict) -> bool:
    max_age = request.values.get("max_age")
    if max_age is None or not (max_age.isascii() and max_age.isdigit()):
        return True
    return clock.timestamp() - signed["t"] <= int(max_age)


@bp.route("/oauth/authorize", methods=["GET", "POST"])
def authorize():
    server = authorization_server()
    action = request.form.get("action") if request.method == "POST" else None
    if action is not None and not _csrf_ok():
        return _error_page(_("This form has expired"), _("Go back to the app and start again."))
    prompts = (request.values.get("prompt") or "").split()
    client = service.get_client(request.values.get("client_id"))
    if client is None:
        action = None  # nothing is checked for a request that is not valid
    signed, message, status = session.get(_SESSION), None, 200
    if action == "login":
        signed, message, status = _password_sign_in()
    elif action == "scan" or (signed is None and action is None):
        signed_by_scan, scan_message = _finish_scan()
        signed = signed_by_scan or signed
        message = scan_message if action == "scan" else None
    elif action == "logout":
        session.pop(_SESSION, None)  # "not you?": sign in as someone else
        signed = None
    elif signed is not None and action is None and "login" in prompts:
        signed = None  # prompt=login: sign in again, whatever the session
    # max_age: the last sign-in is too old. Checked when the request arrives, not again when
    # its consent form comes back, however long the person took to answer.
    if signed is not None and action is None and not _fresh_enough(signed):
        signed = None

    subject = None
    if signed is not None and client is not None:
        subject = signed_in_subject(client, signed["p"], signed["t"], signed["acr"], signed["amr"])
    try:
        grant = server.get_consent_grant(end_user=subject)
    except OAuth2Error as error:
        return _redirect_error(error)
    except ValueError:
        # Authlib quotes some parameters (an unsupported response_type) in its error and
        # refuses to build one whose description has characters RFC 6749 does not allow.
        return _error_page(_("This sign-in link is not valid"), _("Its parameters are not valid."))

    scope = grant.request.scope
    if subject is None:
        scan = _scan_code(client, scope)
        # The page shows this login request's code, also when it answers a refused sign-in
        # (401, 403, 429); failures are counted in Redis.
        keep_on_error()
        return _signin_page(client, scan, message, scope), status

    person = subject.person
    if action == "consent":
        allowed = request.form.get("decision") == "allow"
        if allowed:
            service.grant_consent(person.id, client.client_id, scope)
            remember_subject(client, person.id)
        response = server.create_authorization_response(grant=grant,
                                                        grant_user=subject if allowed else None)
        return response
    remembered = set(scope.split()) <= service.consented_scope(person.id, client.client_id)
    if remembered and "consent" not in prompts:
        remember_subject(client, person.id)
        response = server.create_authorization_response(grant=grant, grant_user=subject)
        return response
    if "none" in prompts:
        return _redirect_error(ConsentRequiredError(redirect_uri=grant.redirect_uri,
                                                    state=grant.request.payload.state))
    return render_template("oidc/consent.html", partner=client.name, person=person,
                           claims=service.describe_scope(scope), csrf_token=_csrf_token(),
                           action=_authorize_url())


_FORM_FIELDS = frozenset({"action", "csrf_token", "username", "password", "otp", "decision"})


def _authorize_url() -> str:
    """This authorization request as a URL, for the forms to post back to."""
    params = [(k, v) for k, v in request.values.items(multi=True) if k not in _FORM_FIELDS]
    return add_params_to_uri("/oauth/authorize", params)


def _signin_page(client, scan: dict, message: str | None, scope: str):
    link = f"{issuer()}/oauth/device?user_code={scan['u']}"
    qr = segno.make(link, error="m").svg_inline(scale=4, title=_("Scan with the OneCode app"))
    return render_template("oidc/signin.html", partner=client.name, message=message,
                           csrf_token=_csrf_token(), action=_authorize_url(),
                           qr_svg=Markup(qr), user_code=scan["u"],
                           claims=service.describe_scope(scope))
