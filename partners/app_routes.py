"""The phone app's side of partner apps: approving a scan-to-login, and consents."""
from datetime import datetime, timezone

from flask import g
from flask_smorest import Blueprint

from core.auth import BEARER, RESIDENT, require
from core.errors import NotFound
from identity.errors import InvalidToken
from partners import device, service
from partners.schemas import LoginRequestSchema, PartnerSchema
from partners.subjects import remember_subject
from identity.service import get_person

blp = Blueprint("partners", __name__, url_prefix="/api/v1",
                description="Partner apps: scan-to-login and what each partner may read")


class LoginNotFound(NotFound):
    title = "No such sign-in request (unknown, expired or answered)"


def _login(user_code: str) -> device.LoginRequest:
    found = device.find_for_resident(user_code, g.principal_id)
    if found is None:
        raise LoginNotFound()
    return found


def _answer(user_code: str, approved: bool) -> None:
    found = _login(user_code)
    person = get_person(g.principal_id)
    client = service.get_client(found.client_id)
    if person is None or not device.is_current(found, client):
        raise InvalidToken() if person is None else LoginNotFound()
    if not device.answer(found, approved, person.id, str(person.assurance_level)):
        raise LoginNotFound()
    if approved:
        # The app showed the partner and what it asks for: approving is consenting.
        service.grant_consent(person.id, client.client_id, found.scope)
        remember_subject(client, person.id)


_NOT_FOUND = {"description": "`not-found`: unknown, expired or already answered"}
_THROTTLED = {"description": "`too-many-attempts`: too many unknown codes tried"}


@blp.get("/me/logins/<user_code>")
@blp.response(200, LoginRequestSchema)
@blp.alt_response(404, **_NOT_FOUND)
@blp.alt_response(429, **_THROTTLED)
@blp.doc(security=BEARER)
@require(RESIDENT)
def show_login(user_code):
    """A scan-to-login request: which partner asks, for what, and the code to compare"""
    found = _login(user_code)
    client = service.get_client(found.client_id)
    if not device.is_current(found, client):
        raise LoginNotFound()  # the partner is disabled, or was since the request began
    return {"user_code": found.user_code,
            "partner": {"client_id": client.client_id, "name": client.name},
            "scopes": found.scope.split(), "may_read": service.describe_scope(found.scope),
            "kind": found.kind,
            "expires_at": datetime.fromtimestamp(found.expires_at, timezone.utc)}


@blp.post("/me/logins/<user_code>/approve")
@blp.response(204)
@blp.alt_response(404, **_NOT_FOUND)
@blp.alt_response(429, **_THROTTLED)
@blp.doc(security=BEARER)
@require(RESIDENT)
def approve_login(user_code):
    """Approve a scan-to-login: the partner (or the browser) is signed in as me"""
    _answer(user_code, True)


@blp.post("/me/logins/<user_code>/deny")
@blp.response(204)
@blp.alt_response(404, **_NOT_FOUND)
@blp.alt_response(429, **_THROTTLED)
@blp.doc(security=BEARER)
@require(RESIDENT)
def deny_login(user_code):
    """Decline a scan-to-login"""
    _answer(user_code, False)


@blp.get("/me/partners")
@blp.response(200, PartnerSchema(many=True))
@blp.doc(security=BEARER)
@require(RESIDENT)
def my_partners():
    """The partner apps I signed in to, with what each may read"""
    return service.partners_of(g.principal_id)


@blp.delete("/me/partners/<client_id>")
@blp.response(204)
@blp.alt_response(404, description="`not-found`: no consent with this partner")
@blp.doc(security=BEARER)
@require(RESIDENT)
def withdraw(client_id):
    """Withdraw my consent to a partner: its tokens stop working at once"""
    service.withdraw_consent(g.principal_id, client_id)
