"""亮证 as a compact code: chosen claims of a credential, vouched for by the platform, small
enough for a counter scanner.

The text is ``"OCV1:" + base45(COSE_Sign1)``: the envelope of the codes (``codes.format``),
signed with the platform's code key, so the JWKS at ``/.well-known/jwks.json`` verifies it
offline. The payload is a CWT claims set (RFC 8392)::

    {4 (exp): seconds since the epoch, at most 5 minutes after it was made,
     7 (cti): 8 random bytes,
     "v": {"t": the credential type (vct),
           "i": the issuer's id (the last segment of its ``iss``, as in the trust list),
           "c": {claim name: value, ...} the chosen claims, nothing else,
           "s": [status list id, index] the credential's status-list entry}}

The platform signs it only for a credential that is valid when it is shown (its issuer's
signature was checked when it was issued, and the holder is signed in). A verifier offline
checks the signature and ``exp``; ``POST /api/v1/credentials/verify`` also checks the status
list entry (revoked?) and the credential's own period.

The pure part (encode, decode) needs no Flask; ``sign`` and ``verify_online`` use the app.
"""
from __future__ import annotations

import os
from dataclasses import dataclass

import cbor2

from codes.format import (
    CLAIM_CTI,
    CLAIM_EXP,
    CTI_LENGTH,
    CodeSigner,
    ExpiredCode,
    Keyring,
    decode_cbor,
    parse_code,
)

PREFIX = "OCV1:"
CLAIM_VOUCHED = "v"
MAX_LIFETIME_SECONDS = 300
# QR version 40 at error correction M holds 3,391 alphanumeric characters: a code longer than
# that (a portrait chosen, say) cannot be shown as a QR code at all.
MAX_TEXT_LENGTH = 3391
_PAYLOAD_KEYS = frozenset((CLAIM_EXP, CLAIM_CTI, CLAIM_VOUCHED))
_VOUCHED_KEYS = frozenset(("t", "i", "c", "s"))


class TooLarge(ValueError):
    """The chosen claims do not fit a QR code."""


@dataclass(frozen=True)
class Shown:
    """What a compact code says."""

    exp: int
    cti: bytes
    type: str
    issuer_id: str
    claims: dict
    status_list_id: str
    status_idx: int


def encode(signer: CodeSigner, shown: Shown) -> str:
    """The ``OCV1:`` text of ``shown``, signed by ``signer``. ``TooLarge`` beyond a QR code."""
    payload = cbor2.dumps({CLAIM_EXP: shown.exp, CLAIM_CTI: shown.cti, CLAIM_VOUCHED: {
        "t": shown.type, "i": shown.issuer_id, "c": shown.claims,
        "s": [shown.status_list_id, shown.status_idx]}})
    text = signer.sign_payload(payload, PREFIX)
    if len(text) > MAX_TEXT_LENGTH:
        raise TooLarge("too large for a QR code")
    return text


class Malformed(ValueError):
    """Not an ``OCV1:`` code of the expected shape."""


def _shown(payload: bytes) -> Shown:
    try:
        claims = decode_cbor(payload)
    except Exception:
        raise Malformed("payload is not CBOR") from None
    if type(claims) is not dict or claims.keys() != _PAYLOAD_KEYS:
        raise Malformed("claims must be exactly exp, cti and v")
    exp, cti, vouched = claims[CLAIM_EXP], claims[CLAIM_CTI], claims[CLAIM_VOUCHED]
    if type(exp) is not int or exp < 0 or type(cti) is not bytes or len(cti) != CTI_LENGTH:
        raise Malformed("bad exp or cti")
    if type(vouched) is not dict or vouched.keys() != _VOUCHED_KEYS:
        raise Malformed("v must hold exactly t, i, c and s")
    vct, issuer_id, shown, entry = vouched["t"], vouched["i"], vouched["c"], vouched["s"]
    if (type(vct) is not str or type(issuer_id) is not str or type(shown) is not dict
            or not all(type(k) is str for k in shown)
            or type(entry) is not list or len(entry) != 2 or type(entry[0]) is not str
            or type(entry[1]) is not int):
        raise Malformed("bad type, issuer, claims or status")
    return Shown(exp, cti, vct, issuer_id, shown, entry[0], entry[1])


def decode(text: str, keyring: Keyring, now: float | None, leeway: int = 5) -> Shown:
    """The offline check: signature under one of the keyring's keys, then ``exp`` (unless
    ``now`` is None: the caller checks the time itself).

    Raises ``codes.format.MalformedCode`` or ``Malformed`` for a text that is not a compact
    code, ``InvalidCode`` (``UnknownKey``) for a bad signature or key, ``ExpiredCode``.
    """
    signed = parse_code(text, PREFIX, MAX_TEXT_LENGTH)
    shown = _shown(keyring.verify_payload(signed))
    if now is not None and shown.exp + leeway < now:
        raise ExpiredCode("code expired")
    return shown


def new_cti() -> bytes:
    return os.urandom(CTI_LENGTH)
