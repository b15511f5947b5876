"""The counter console, ``/counter/``: a service point's staff scan codes and receive materials.

The page never holds the service point's token (``web.counter_session``): it calls the JSON
routes below with its CSRF token, and they call the services in process, as the API's routes
do. Their refusals are the API's problems, translated.
"""
from __future__ import annotations

from functools import wraps

from flask import Blueprint, redirect, render_template, request
from flask_babel import gettext as _
from sqlalchemy import select

from core import clock, signals
from core.clients import InvalidClient
from core.errors import NotFound, Problem, ValidationProblem, handle_problem
from core.extensions import db
from catalog.items import list_items, materials_for_item
from codes import scans, service_points
from identity import face
from materials import service as materials
from wallet import compact, verify
from wallet.models import CredentialType
from web import counter_session, words
from web.security import CsrfFailed, check_csrf, csrf_token, page_headers, renew_csrf_token

bp = Blueprint("counter", __name__, url_prefix="/counter")
bp.after_request(page_headers)
bp.after_request(counter_session.set_cookie)

CONSOLE = "/counter/"
_TEXT_LIMIT = 2048


@bp.get("/")
def console():
    counter = counter_session.current()
    if counter is None:
        return render_template("web/counter_login.html", csrf_token=csrf_token(), message=None)
    point = counter.point
    purposes = [(p, words.purpose(p)) for p in point.purposes]
    types = [(t.vct, words.type_name(t.vct, t.name))
             for t in db.session.scalars(select(CredentialType).order_by(CredentialType.vct))]
    items = [(item.code, item.name) for item in list_items()]
    return render_template("web/counter.html", csrf_token=csrf_token(), point=point,
                           purposes=purposes, purpose=counter.purpose, types=types, items=items,
                           messages=_page_messages())


@bp.post("/login")
def login():
    check_csrf()
    client_id = request.form.get("client_id", "").strip()[:128]
    secret = request.form.get("client_secret", "")[:256]
    try:
        token = service_points.issue_token(client_id, secret)
    except InvalidClient:
        message = _("The client ID or secret is not correct. Check them with your administrator "
                    "and try again.")
        return render_template("web/counter_login.html", csrf_token=csrf_token(),
                               message=message, client_id=client_id), 401
    counter_session.start(token)
    renew_csrf_token()
    return redirect(CONSOLE, 303)


@bp.post("/logout")
def logout():
    check_csrf()
    counter_session.end()
    renew_csrf_token()
    return redirect(CONSOLE, 303)


# The console's JSON calls ---------------------------------------------------------------


def refusals_answered(view):
    """A refusal (an expired code, a missing face ...) is an answer the console shows, not a
    failure of the call: ``200 {"refused": <the problem, translated>}``. Nothing of the
    refused call is kept. A session that has ended or a missing CSRF token stay HTTP errors."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        try:
            return view(*args, **kwargs)
        except (counter_session.SignInAgain, CsrfFailed):
            raise
        except Problem as refused:
            # Answered 200, so the request's unit of work would commit: drop its writes first.
            db.session.rollback()
            problem = handle_problem(refused).get_json(force=True)
            problem["type"] = refused.type
            return {"refused": problem}

    return wrapper


def _json_body() -> dict:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ValidationProblem({"_schema": ["Send a JSON object."]})
    return body


def _text(body: dict, name: str) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value.strip() or len(value) > _TEXT_LIMIT:
        raise ValidationProblem({name: ["Missing or too long."]})
    return value.strip()


@bp.post("/api/scans")
@refusals_answered
def scan():
    check_csrf()
    counter = counter_session.require()
    body = _json_body()
    code, purpose = _text(body, "code"), _text(body, "purpose")
    if code.startswith(compact.PREFIX):  # a licence shown (亮证), not a person's code
        return {"licence": _licence(code)}, 200
    result = scans.scan_code(counter.point, code, purpose)
    answer = {"scan_id": result.scan_id, "subject": _subject(result.subject),
              "expires_at": clock.rfc3339(result.expires_at)}
    counter_session.remember_purpose(purpose)
    return answer, 201


def _licence(code: str) -> dict:
    """A licence shown as an ``OCV1:`` code (亮证): checked as ``POST /credentials/verify``
    checks it (signature, expiry, revocation), with the claims it carries."""
    checked = verify.verify(code, base_url=request.host_url.rstrip("/"))
    type_row = db.session.get(CredentialType, checked.get("type") or "")
    return {"valid": checked["valid"], "problems": checked["problems"],
            "type": type_row.name if type_row else checked.get("type"),
            "issuer": (checked.get("issuer") or {}).get("name"),
            "claims": [{"name": str(words.CLAIMS.get(name, name)), "value": str(value)}
                       for name, value in (checked.get("disclosed") or {}).items()]}


def _subject(subject: dict) -> dict:
    shown = subject.get("shown_by")
    out = {"kind": subject["kind"], "kind_name": str(words.KINDS.get(subject["kind"], subject["kind"])),
           "display_name": subject["display_name"], "assurance_level": subject["assurance_level"]}
    if shown:
        out["shown_by"] = {"display_name": shown["display_name"],
                           "assurance_level": shown["assurance_level"], "text": _shown_by(shown)}
    return out


def _shown_by(shown: dict) -> str:
    """Who showed a code that is not their own, in a sentence: a family proxy (``relation``
    is the subject's relation to them) or an enterprise's member (``role``)."""
    name = shown["display_name"]
    if shown.get("relation"):
        relation = words.RELATIONS.get(shown["relation"], shown["relation"])
        return _("Shown by %(name)s, for their %(relation)s", name=name, relation=relation)
    role = words.ROLES.get(shown.get("role"), shown.get("role") or "")
    return _("Shown by %(name)s (%(role)s)", name=name, role=role)


@bp.post("/api/scans/<scan_id>/requests")
@refusals_answered
def request_materials(scan_id):
    check_csrf()
    counter = counter_session.require()
    body = _json_body()
    if body.get("service_item"):
        types = materials_for_item(_text(body, "service_item"))
        if types is None:
            raise NotFound("No service item has this code.")
    else:
        types = body.get("types")
        if not isinstance(types, list) or not all(isinstance(t, str) for t in types):
            raise ValidationProblem({"types": ["Choose at least one kind of material."]})
    created = materials.request_materials(counter.point.id, scan_id, types)
    answer = {"request_id": created.id, "status": created.status,
              "types": [words.type_name(t) for t in created.types],
              "missing": [words.type_name(t) for t in created.missing],
              "expires_at": clock.rfc3339(created.expires_at)}
    return answer, 201


@bp.get("/api/scans/<scan_id>/requests/<request_id>")
@refusals_answered
def request_state(scan_id, request_id):
    counter = counter_session.require()
    state = materials.request_state(counter.point.id, scan_id, request_id)
    answer = {"status": state["status"]}
    if "materials" in state:
        answer["materials"] = [_verified(counter.point.client_id, m) for m in state["materials"]]
        answer["missing"] = [words.type_name(t) for t in state.get("missing", [])]
    return answer


def _verified(client_id: str, material: dict) -> dict:
    """A shared credential as staff read it: checked here as any verifier would (issuer's
    signature, status, key binding to this service point), its claims by label."""
    checked = verify.verify(material["credential"], audience=client_id)
    claims = [{"label": words.claim_label(name), "value": words.claim_value(value)}
              for name, value in checked["disclosed"].items() if name != "portrait"]
    return {"type": words.type_name(material["type"]), "valid": checked["valid"],
            "issuer": (checked.get("issuer") or {}).get("name"), "problems": checked["problems"],
            "claims": claims}


@bp.post("/api/scans/<scan_id>/face")
@refusals_answered
def face_check(scan_id):
    check_csrf()
    counter = counter_session.require()
    image = request.files.get("image")
    if image is None:
        raise ValidationProblem({"image": ["Take a photo first."]})
    scan = signals.live_scan(scan_id, counter.point.id)
    if scan is None:
        raise NotFound("The scan has expired. Scan the code again.")
    match = face.check_face_at_counter(scan, image.read())
    return {"match": match}


def _page_messages() -> dict:
    """What the console's script says, in the reader's language."""
    return {
        "status": {"pending": _("Waiting for the holder"),
                   "approved": _("Approved"), "denied": _("Denied"), "expired": _("Expired")},
        "refusals": {
            "code-expired": _("Expired: ask the holder to refresh the code, then scan again."),
            "code-already-used": _("Already used: ask the holder for a fresh code."),
            "invalid-code": _("Not valid: this is not a OneCode code, or it was forged."),
            "malformed-code": _("Not a code: scan the holder's OneCode QR code."),
            "purpose-not-allowed": _("Not permitted: this counter may not scan for this purpose."),
            "subject-suspended": _("Suspended: this account may not be used. Ask for another "
                                   "document."),
        },
        "face": {"match": _("Same person"), "mismatch": _("Not the same person"),
                 "checking": _("Checking…")},
        "camera_unavailable": _("The camera cannot be used. Type or paste the code instead."),
        "network": _("No connection to the server. Check the network and try again."),
        "level": _("Assurance level %(level)s"),
        "missing": _("Not in the holder's wallet: %(types)s"),
        "valid": _("Verified"),
        "licence_valid": _("Licence verified: signed by OneCode, not revoked"),
        "licence_invalid": _("Licence not valid: %(problems)s"),
        "invalid": _("Not valid"),
    }
