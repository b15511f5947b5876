"""The home screen: built in a fixed number of queries, then served from Redis until it changes.

Building it runs the same statements whatever the wallet holds: the person, the wallet
(credentials with their types and issuers, one query), the enterprises whose requests the
person answers, pending consents, applications in progress, policies found, the next start
or end of a policy, recent scans, and notices with the unread count. Only cards are
decrypted (their summaries are shown); certificates are counted.

The phone asks for its home whenever the app comes to the front, and little on it changes
between two asks. So the screen without its code (which rotates on its own, ``codes.service``)
is kept at ``home:v2:{<person>}`` as the JSON the route answers, with the change stamps it
was built under (``app.changes``: the person's, their holder index's and everyone's) and the
moment it would go out of date by itself: a card's validity starting or ending, a consent
request expiring, a membership or an enterprise's verification running out, a policy
starting or ending, and ``HOME_CACHE_SECONDS`` at most. The route reads the entry, its stamps
and the cached code in the round trip that checks the sign-in (``app.auth.require``); while
the stamps match and the moment has not come, it answers the entry with the code spliced in,
and runs no SQL.
"""
from __future__ import annotations

import logging
from datetime import datetime

import redis
from flask import current_app
from sqlalchemy import case, select

from core import changes, clock
from core.extensions import db
from core.responses import dumps
from core.store import redis_client
from catalog import applications, notices, policies
from codes import scans
from codes.service import NOT_READ, code_key, current_code
from enterprises import service as enterprises
from identity import service as identity
from identity.schemas import ProfileSchema
from mobile_api.schemas import HomeSchema
from materials import service as consents
from wallet import service as wallet
from wallet.models import CARD, Credential, CredentialType, Issuer

log = logging.getLogger(__name__)

RECENT = 5
_NONE = "-"


# The entry's layout (``_store``); a new layout gets a new version, so that processes of two
# releases side by side never read each other's entries.
ENTRY_VERSION = 2


def entry_key(person_id: str) -> str:
    return f"home:v{ENTRY_VERSION}:{{{person_id}}}"


def _stamp_keys(claims: dict) -> list[str] | None:
    """The three stamps a person's screen depends on (app.changes), or None for a token that
    lacks the holder index (issued before it was added): such a request builds its screen."""
    if not claims.get("hx"):
        return None
    return [changes.stamp_key(claims["sub"]), changes.holder_stamp_key(claims["hx"]),
            changes.EVERYONE_KEY]


def prefetch(claims: dict) -> list[str]:
    """The keys the home route reads with the sign-in check: the entry, its stamps and the
    cached code."""
    keys = [entry_key(claims["sub"]), *(_stamp_keys(claims) or ())]
    if claims.get("h"):
        keys.append(code_key(claims["h"]))
    return keys


def notice_body(notice) -> dict:
    return {"id": notice.id, "kind": notice.kind, "text": notice.text, "ref": notice.ref,
            "created_at": notice.created_at, "read_at": notice.read_at}


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


def build(person_id: str, now: datetime) -> tuple[dict, str, datetime | None]:
    """The screen without its code, the person's code handle, and the first moment after
    ``now`` at which the screen would change with no write (None: no such moment)."""
    person = identity.signed_in_person(person_id)
    moments = []
    cards, certificate_count = [], 0
    for row in _wallet_rows(person.id_number_index):
        if row.kind != CARD:
            certificate_count += 1
            continue
        cards.append({"id": row.id, "type": row.vct, "name": row.type_name,
                      "issuer": {"name": row.issuer_name},
                      "summary": wallet.summary(wallet.claims_of(row)),
                      "status": wallet.status_of(row, now)})
        moments += [row.valid_from, row.valid_until]
    # An enterprise's requests leave a member's screen when the membership or the
    # enterprise's verification runs out; the requests are chosen by these same memberships.
    memberships = enterprises.my_enterprises(person.id)
    for enterprise, member in memberships:
        moments += [member.expires_at, enterprise.verified_until]
    requests = consents.pending_consents(person.id, memberships)
    pending = [{"id": r.consent_id, "request_id": r.id, "service_point": {"name": name},
                "purpose": r.purpose, "types": r.types, "expires_at": r.expires_at}
               for r, name in requests]
    moments += [r.expires_at for r, _ in requests]
    in_progress = [{"id": a.id, "name": name, "status": a.status, "service_item": a.item_code,
                    "bundle": a.bundle_code, "missing": a.missing, "updated_at": a.updated_at}
                   for a, name in applications.in_progress_with_names(person.id)]
    found = [{"id": p.id, "name": p.name, "benefit": p.benefit, "status": m.status,
              "found_at": m.found_at}
             for m, p in policies.found_for(person.id_number_index, limit=20)]
    moments.append(policies.next_change(now))
    recent = [{"scan_id": s.id, "scanned_at": s.created_at, "service_point": {"name": name},
               "purpose": s.purpose} for s, name in scans.scans_of(person.id, RECENT)]
    latest, unread = notices.latest_with_unread(person.id, RECENT)
    body = {"profile": ProfileSchema().dump(person), "cards": cards,
            "certificate_count": certificate_count, "pending_consents": pending,
            "applications": in_progress, "policies": found, "recent_scans": recent,
            "notices": [notice_body(n) for n in latest], "unread_notices": unread}
    later = [clock.aware(m) for m in moments if m is not None and clock.aware(m) > now]
    return body, person.handle, min(later, default=None)


def _text(raw: bytes | None) -> str:
    return raw.decode() if raw else _NONE


def answer(claims: dict, prefetched: dict) -> bytes:
    """The home screen as JSON: from the cached entry when it is still good, else built,
    stored and answered."""
    person_id = claims["sub"]
    stamp_keys = _stamp_keys(claims)
    cached = bool(stamp_keys) and current_app.config["HOME_CACHE_SECONDS"] > 0
    stamps = "|".join(_text(prefetched.get(k)) for k in stamp_keys or ())
    now = clock.now()
    screen = handle = None
    entry = prefetched.get(entry_key(person_id))
    if entry and cached:
        fresh = _fresh(entry, stamps, now)
        if fresh is not None:
            screen, handle = fresh
    if screen is None:
        body, handle, changes_at = build(person_id, now)
        screen = dumps(HomeSchema().dump(body))
        if cached:
            _store(person_id, stamps, handle, screen, now, changes_at)
    code = current_code(handle, cached_value=prefetched.get(code_key(handle), NOT_READ)).as_dict()
    return b'{"code":' + dumps(code) + b"," + screen[1:]


def _fresh(entry: bytes, stamps: str, now: datetime) -> tuple[bytes, str] | None:
    """The screen and handle of a cached entry still good now, else None (also for an
    entry that does not parse: it is built again and overwritten)."""
    header, _, cached = entry.partition(b"\n")
    try:
        entry_stamps, until, handle = header.decode().rsplit("|", 2)
        good = entry_stamps == stamps and now.timestamp() < float(until)
    except ValueError:  # UnicodeDecodeError too
        return None
    return (cached, handle) if good and handle and cached.startswith(b"{") else None


def _store(person_id: str, stamps: str, handle: str, screen: bytes, now: datetime,
           changes_at: datetime | None) -> None:
    """Keep the built screen; best effort: the answer is built already, and a Redis that
    refuses the write (read-only after a failover, out of memory) costs the next request a
    build, not this one its answer."""
    seconds = current_app.config["HOME_CACHE_SECONDS"]
    until = now.timestamp() + seconds
    if changes_at is not None:
        until = min(until, clock.aware(changes_at).timestamp())
    ttl_ms = int((until - now.timestamp()) * 1000)
    if ttl_ms > 0:
        header = f"{stamps}|{until}|{handle}\n".encode()
        try:
            redis_client().set(entry_key(person_id), header + screen, px=ttl_ms)
        except redis.RedisError as exc:
            log.warning("home screen not cached", extra={"error_type": type(exc).__name__})
