"""Checking a credential or presentation as any verifier would, saying why it is not valid.

The issuer's signature and the disclosures are checked by the reference SD-JWT verifier with
the key the trust list publishes; the rest (every disclosure accounted for, the time, the
status list entry, the key-binding JWT) here.
"""
from __future__ import annotations

import json

from flask import current_app
from jwcrypto.common import JWException
from sqlalchemy import select
from jwcrypto.jwk import JWK
from jwcrypto.jws import JWS
from sd_jwt.verifier import SDJWTVerifier

from core import clock
from core.extensions import db
from codes import keys as code_keys
from codes.format import CodeError, Keyring, MalformedCode
from wallet import compact, issuers, keys, sdjwt, status
from wallet.catalogue import REGISTERED_CLAIMS
from wallet.models import Credential, Issuer, IssuerKey
from wallet.service import status_of

MALFORMED = "malformed"
ISSUER_UNKNOWN = "issuer-unknown"
SIGNATURE = "signature"
DISCLOSURE = "disclosure"
TYPE_NOT_ALLOWED = "type-not-allowed"
EXPIRED = "expired"
NOT_YET_VALID = "not-yet-valid"
REVOKED = "revoked"
STATUS_UNKNOWN = "status-unknown"
KEY_BINDING = "key-binding"
KEY_BINDING_TOO_OLD = "key-binding-too-old"
AUDIENCE = "audience"
CODE_EXPIRED = "code-expired"


def _result(problems, issuer=None, vct=None, state="unknown", disclosed=None, **extra) -> dict:
    return {"valid": not problems, "issuer": issuer, "type": vct, "status": state,
            "disclosed": disclosed or {}, "problems": problems, **extra}


def verify(text: str, audience: str | None = None, base_url: str = "") -> dict:
    """``{valid, issuer, type, status, disclosed, problems}`` for an SD-JWT or presentation.

    ``problems`` is empty when it is valid, else the reasons (``signature``,
    ``issuer-unknown``, ``expired``, ``revoked``, ``key-binding-too-old`` ...). A credential
    that names a holder key (``cnf``) is valid only in a presentation whose key-binding JWT
    that key signed within ``PRESENTATION_MAX_AGE_SECONDS`` (``key-binding`` otherwise,
    audience or not); the issuer, type, status and disclosures are reported all the same.
    An ``OCV1:`` compact code (亮证) is checked by ``verify_compact``.
    """
    if text.startswith(compact.PREFIX):
        return verify_compact(text, base_url)
    try:
        parsed = sdjwt.parse_untrusted(text)
    except ValueError:
        return _result([MALFORMED])
    payload, header = parsed.payload, parsed.header
    vct = payload.get("vct") if isinstance(payload.get("vct"), str) else None
    issuer = issuers.issuer_from_url(payload.get("iss"))
    if issuer is None:
        return _result([ISSUER_UNKNOWN], {"id": payload.get("iss"), "name": None}, vct)
    issuer_ref = {"id": payload.get("iss"), "name": issuer.name}
    key = db.session.get(IssuerKey, header.get("kid")) if isinstance(header.get("kid"), str) else None
    if key is None or key.issuer_id != issuer.id or header.get("alg") != keys.EDDSA:
        return _result([SIGNATURE], issuer_ref, vct)
    public = JWK(**keys.public_jwk(key))
    try:
        verified = SDJWTVerifier(text, lambda _iss, _header: public).get_verified_payload()
    except JWException:
        return _result([SIGNATURE], issuer_ref, vct)
    except (ValueError, KeyError, TypeError):
        return _result([MALFORMED], issuer_ref, vct)

    problems = []
    digests = payload.get("_sd") if isinstance(payload.get("_sd"), list) else []
    if any(sdjwt.digest(d) not in digests for d in parsed.disclosures):
        problems.append(DISCLOSURE)
    if vct not in issuer.types:
        problems.append(TYPE_NOT_ALLOWED)
    now = clock.timestamp()
    state = "valid"
    if isinstance(payload.get("exp"), (int, float)) and payload["exp"] <= now:
        problems.append(EXPIRED)
        state = "expired"
    if isinstance(payload.get("nbf"), (int, float)) and payload["nbf"] > now:
        problems.append(NOT_YET_VALID)
        state = "not-yet-valid"
    entry = (payload.get("status") or {}).get("status_list") if isinstance(payload.get("status"), dict) else None
    revoked = status.is_revoked(status.list_id_from_url(entry.get("uri")), entry.get("idx")) \
        if isinstance(entry, dict) else None
    if revoked is None:
        problems.append(STATUS_UNKNOWN)
        state = "unknown"
    elif revoked:
        problems.append(REVOKED)
        state = "revoked"
    extra = {}
    if parsed.key_binding:
        kb_problems, kb = _check_key_binding(parsed, payload.get("cnf"), audience, now)
        problems += kb_problems
        extra["key_binding"] = {k: kb.get(k) for k in ("iat", "aud", "nonce")} if kb else None
    elif "cnf" in payload or audience is not None:
        # A credential bound to a holder key proves its holder only with a fresh key-binding
        # JWT: without one it is a copy that anyone who once saw it could show again.
        problems.append(KEY_BINDING)
    disclosed = {k: v for k, v in verified.items() if k not in REGISTERED_CLAIMS}
    return _result(problems, issuer_ref, vct, state, disclosed, **extra)


def _check_key_binding(parsed: sdjwt.Parsed, cnf, audience: str | None, now: float):
    try:
        holder = JWK(**cnf["jwk"])
        jws = JWS()
        jws.deserialize(parsed.key_binding)
        jws.verify(holder, alg="ES256")
        header = jws.jose_header
        claims = json.loads(jws.payload)
    except (JWException, KeyError, TypeError, ValueError):
        return [KEY_BINDING], None
    if header.get("typ") != sdjwt.KB_TYP or not isinstance(claims, dict) \
            or claims.get("sd_hash") != sdjwt.digest(parsed.presented) \
            or not isinstance(claims.get("iat"), int) or isinstance(claims["iat"], bool):
        return [KEY_BINDING], None
    problems = []
    leeway = current_app.config["CODE_LEEWAY_SECONDS"]
    max_age = current_app.config["PRESENTATION_MAX_AGE_SECONDS"]
    if claims["iat"] > now + leeway:
        problems.append(KEY_BINDING)
    elif claims["iat"] < now - max_age:
        problems.append(KEY_BINDING_TOO_OLD)
    if audience is not None and claims.get("aud") != audience:
        problems.append(AUDIENCE)
    return problems, claims


def verify_compact(text: str, base_url: str) -> dict:
    """An ``OCV1:`` code: the platform's signature (the keys of the JWKS), its ``exp`` (plus
    ``CODE_LEEWAY_SECONDS``; else ``code-expired``), the issuer and type, and the credential it
    names: revoked, expired or not yet valid now. ``disclosed`` is the claims it carries."""
    try:
        shown = compact.decode(text, Keyring.from_jwks(code_keys.jwks()), now=None)
    except compact.Malformed:
        return _result([MALFORMED])
    except MalformedCode:
        return _result([MALFORMED])
    except CodeError:  # InvalidCode, UnknownKey: not the platform's signature
        return _result([SIGNATURE])
    issuer = db.session.get(Issuer, shown.issuer_id)
    issuer_ref = {"id": issuers.issuer_url(base_url, shown.issuer_id),
                  "name": issuer.name if issuer else None}
    if issuer is None:
        return _result([ISSUER_UNKNOWN], issuer_ref, shown.type)
    problems = []
    now = clock.timestamp()
    if shown.exp + current_app.config["CODE_LEEWAY_SECONDS"] < now:
        problems.append(CODE_EXPIRED)
    if shown.type not in issuer.types:
        problems.append(TYPE_NOT_ALLOWED)
    credential = db.session.scalars(select(Credential).where(
        Credential.status_list_id == shown.status_list_id,
        Credential.status_idx == shown.status_idx)).first()
    if credential is None or credential.issuer_id != issuer.id or credential.vct != shown.type:
        problems.append(STATUS_UNKNOWN)
        state = "unknown"
    else:
        state = status_of(credential)
        if state != "valid":
            problems.append(state)  # revoked, expired, not-yet-valid: the problem names
    return _result(problems, issuer_ref, shown.type, state, dict(shown.claims))
