"""Status lists (IETF Token Status List): one bit per credential, set when it is revoked.

A credential takes a random free entry of the open list, so that neighbouring entries say
nothing about when or to whom credentials were issued. The bits are not stored apart: they are
the revoked credentials of the list, so revocation shows in the next token at once.
"""
from __future__ import annotations

import json
import secrets
import zlib
from collections.abc import Iterator
from dataclasses import dataclass

from flask import current_app
from jwcrypto.jws import JWS
from sqlalchemy import select

from core import clock
from core.extensions import db
from wallet import keys, sdjwt
from wallet.models import Credential, StatusList

TYP = "statuslist+jwt"
MEDIA_TYPE = "application/statuslist+jwt"
# Random picks per list before it counts as full: at 90 % use, 1 in 3 issues reaches this.
_TRIES_PER_LIST = 10


@dataclass(frozen=True)
class Entry:
    list_id: str
    idx: int


def list_url(base_url: str, list_id: str) -> str:
    return f"{base_url}/api/v1/status-lists/{list_id}"


def list_id_from_url(uri) -> str | None:
    if not isinstance(uri, str) or "/api/v1/status-lists/" not in uri:
        return None
    return uri.rsplit("/api/v1/status-lists/", 1)[1]


def _new_list() -> StatusList:
    keys.platform_signing_key()
    status_list = StatusList(size=current_app.config["STATUS_LIST_SIZE"], full=False,
                             created_at=clock.now())
    db.session.add(status_list)
    db.session.flush()
    return status_list


def entries() -> Iterator[Entry]:
    """Random entries to try in turn; the caller stops at the first its unique insert takes."""
    status_list = db.session.scalars(select(StatusList).where(StatusList.full.is_(False))
                                     .order_by(StatusList.created_at).limit(1)).first()
    status_list = status_list or _new_list()
    while True:
        for _ in range(_TRIES_PER_LIST):
            yield Entry(status_list.id, secrets.randbelow(status_list.size))
        status_list.full = True
        db.session.flush()
        status_list = _new_list()


def is_revoked(list_id: str, idx) -> bool | None:
    """Whether the entry is set; None when no credential has it."""
    if not isinstance(idx, int) or isinstance(idx, bool):
        return None
    revoked_at = db.session.execute(select(Credential.revoked_at).where(
        Credential.status_list_id == list_id, Credential.status_idx == idx)).first()
    return None if revoked_at is None else revoked_at[0] is not None


def status_list_token(list_id: str, base_url: str) -> str | None:
    """The signed status list token (``statuslist+jwt``), or None for an unknown list."""
    status_list = db.session.get(StatusList, list_id)
    key = keys.signing_key(None)
    if status_list is None or key is None:
        return None
    bits = bytearray(status_list.size // 8)
    for idx in db.session.scalars(select(Credential.status_idx).where(
            Credential.status_list_id == list_id, Credential.revoked_at.is_not(None))):
        bits[idx >> 3] |= 1 << (idx & 7)  # entry 0 is the least significant bit of byte 0
    now = int(clock.timestamp())
    ttl = current_app.config["STATUS_LIST_TTL_SECONDS"]
    payload = {"sub": list_url(base_url, list_id), "iss": base_url, "iat": now, "exp": now + ttl,
               "ttl": ttl, "status_list": {"bits": 1, "lst": sdjwt.b64url(zlib.compress(bytes(bits), 9))}}
    token = JWS(json.dumps(payload))
    token.add_signature(keys.private_jwk(key), alg=keys.EDDSA,
                        protected=json.dumps({"alg": keys.EDDSA, "kid": key.kid, "typ": TYP}))
    return token.serialize(compact=True)

