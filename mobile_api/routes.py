"""The phone app's own surface: the home screen in one round trip, and notices.

Home runs a fixed number of SQL statements whatever the wallet holds: the person, the wallet
(credentials with their types and issuers, one query), pending consents, applications in
progress, policies found, recent scans, and notices with the unread count, one query each;
the code comes from Redis. Only cards are decrypted (their summaries are shown); certificates
are counted.
"""
from flask import g
from flask_smorest import Blueprint
from sqlalchemy import case, select

from app import clock
from app.auth import BEARER, RESIDENT, require
from app.extensions import db
from catalog import applications, notices, policies
from codes import scans
from codes.service import current_code
from identity import service as identity
from identity.schemas import ProfileSchema
from mobile_api.schemas import HomeSchema, NoticeQuerySchema, NoticeSchema
from wallet import consents
from wallet import service as wallet
from wallet.models import CARD, Credential, CredentialType, Issuer

blp = Blueprint("mobile", __name__, url_prefix="/api/v1", description="The phone app's home and notices")

RECENT = 5


def _time(moment):
    return clock.rfc3339(moment) if moment is not None else None


def notice_body(notice) -> dict:
    return {"id": notice.id, "kind": notice.kind, "text": notice.text, "ref": notice.ref,
            "created_at": _time(notice.created_at), "read_at": _time(notice.read_at)}


def _me():
    return identity.signed_in_person(g.principal_id)


def _wallet_rows(holder_index: str):
    """The holder's credentials, newest first, with type and issuer names, in one query; the
    encrypted SD-JWT comes only for cards (certificates are counted, not shown)."""
    return db.session.execute(
        select(Credential.id, Credential.vct, Credential.valid_from, Credential.valid_until,
               Credential.revoked_at, CredentialType.kind, CredentialType.name.label("type_name"),
               Issuer.name.label("issuer_name"),
               case((CredentialType.kind == CARD, Credential.sd_jwt_enc)).label("sd_jwt_enc"))
        .join(CredentialType, CredentialType.vct == Credential.vct)
        .join(Issuer, Issuer.id == Credential.issuer_id)
        .where(Credential.holder_index == holder_index)
        .order_by(Credential.issued_at.desc(), Credential.id)).all()


@blp.get("/me/home")
@blp.doc(security=BEARER)
@blp.response(200, HomeSchema)
@require(RESIDENT)
def home():
    """Everything the home screen shows, in one response

    Profile, a fresh code, cards, the number of certificates, pending consents, applications in
    progress, policies found for me, recent scans and notices.
    """
    person = _me()
    now = clock.now()
    cards, certificate_count = [], 0
    for row in _wallet_rows(person.id_number_index):
        if row.kind != CARD:
            certificate_count += 1
            continue
        cards.append({"id": row.id, "type": row.vct, "name": row.type_name,
                      "issuer": {"name": row.issuer_name},
                      "summary": wallet.summary(wallet.claims_of(row)),
                      "status": wallet.status_of(row, now)})
    pending = [{"id": r.consent_id, "request_id": r.id, "service_point": {"name": name},
                "purpose": r.purpose, "types": r.types, "expires_at": _time(r.expires_at)}
               for r, name in consents.pending_consents(person.id)]
    in_progress = [{"id": a.id, "name": name, "status": a.status, "service_item": a.item_code,
                    "bundle": a.bundle_code, "missing": a.missing, "updated_at": _time(a.updated_at)}
                   for a, name in applications.in_progress_with_names(person.id)]
    found = [{"id": p.id, "name": p.name, "benefit": p.benefit, "status": m.status,
              "found_at": _time(m.found_at)}
             for m, p in policies.found_for(person.id_number_index, limit=20)]
    recent = [{"scan_id": s.id, "scanned_at": _time(s.created_at), "service_point": {"name": name},
               "purpose": s.purpose} for s, name in scans.scans_of(person.id, RECENT)]
    latest, unread = notices.latest_with_unread(person.id, RECENT)
    code = current_code(person.handle).as_dict()
    profile = ProfileSchema().dump(person)  # before the commit expires the row
    db.session.commit()  # a first signing key, if this request had to create one
    return {"profile": profile, "code": code, "cards": cards,
            "certificate_count": certificate_count, "pending_consents": pending,
            "applications": in_progress, "policies": found, "recent_scans": recent,
            "notices": [notice_body(n) for n in latest], "unread_notices": unread}


@blp.get("/me/notices")
@blp.doc(security=BEARER)
@blp.arguments(NoticeQuerySchema, location="query")
@blp.response(200, NoticeSchema(many=True))
@require(RESIDENT)
def my_notices(query):
    """My notices, newest first (`?unread=true` for the unread ones)"""
    return [notice_body(n) for n in notices.notices_of(g.principal_id, unread_only=query["unread"],
                                                        limit=query["limit"])]


@blp.post("/me/notices/<notice_id>/read")
@blp.doc(security=BEARER)
@blp.response(204)
@blp.alt_response(404, description="`not-found`: not one of my notices")
@require(RESIDENT)
def read_notice(notice_id):
    """Mark a notice read"""
    notices.mark_read(g.principal_id, notice_id)
    db.session.commit()
