"""SD-JWT VCs with the IETF reference implementation (``sd-jwt``), and the few pieces it
leaves to its caller: a key-binding JWT without an audience, and reading a credential's
disclosures without verifying it (the wallet's own copy, already trusted)."""
from __future__ import annotations

import base64
import hashlib
import json
import secrets
from dataclasses import dataclass

from jwcrypto.jwk import JWK
from jwcrypto.jws import JWS
from sd_jwt.common import SDObj
from sd_jwt.holder import SDJWTHolder
from sd_jwt.issuer import SDJWTIssuer

from core import untrusted_json

VC_TYP = "vc+sd-jwt"
KB_TYP = "kb+jwt"
SEPARATOR = "~"


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def digest(disclosure: str) -> str:
    return b64url(hashlib.sha256(disclosure.encode("ascii")).digest())


def issue(claims: dict, *, registered: dict, issuer_key: JWK, kid: str, holder_jwk: dict) -> str:
    """The SD-JWT (issuer-signed JWT ``~`` every disclosure ``~``): each of ``claims``
    selectively disclosable, ``registered`` (iss, iat, vct, status ...) in the clear, and the
    holder's public key as ``cnf``."""
    user_claims = dict(registered)
    user_claims.update({SDObj(name): value for name, value in claims.items()})
    issuer = SDJWTIssuer(user_claims, issuer_key, holder_key=JWK(**holder_jwk), sign_alg="EdDSA",
                         extra_header_parameters={"typ": VC_TYP, "kid": kid})
    return issuer.sd_jwt_issuance


@dataclass(frozen=True)
class Parsed:
    """An SD-JWT split into its parts, nothing verified."""

    jwt: str
    header: dict
    payload: dict
    disclosures: list[str]
    key_binding: str

    @property
    def presented(self) -> str:
        """The part that a key-binding JWT's ``sd_hash`` covers."""
        return SEPARATOR.join([self.jwt, *self.disclosures, ""])


def parse(text: str, load=json.loads) -> Parsed:
    """Split an SD-JWT or presentation, its header and payload read with ``load``;
    ``ValueError`` when it is not one."""
    if not isinstance(text, str) or SEPARATOR not in text:
        raise ValueError("not an SD-JWT")
    jwt, *disclosures, key_binding = text.split(SEPARATOR)
    parts = jwt.split(".")
    if len(parts) != 3:
        raise ValueError("not an SD-JWT")
    try:
        header = load(b64url_decode(parts[0]))
        payload = load(b64url_decode(parts[1]))
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValueError("not an SD-JWT") from exc
    if not isinstance(header, dict) or not isinstance(payload, dict):
        raise ValueError("not an SD-JWT")
    return Parsed(jwt, header, payload, disclosures, key_binding)


def parse_untrusted(text: str) -> Parsed:
    """``parse`` for text from outside: every JSON part, the disclosures and the key-binding
    JWT's included, is loaded within ``app.untrusted_json``'s bounds first, since the
    reference verifier and jwcrypto load them with plain ``json`` (a part nested thousands
    deep would be a ``RecursionError``). ``ValueError`` when it is not an SD-JWT or a part
    is out of bounds; parts that are not base64url are left to the verifiers to refuse."""
    parsed = parse(text, load=untrusted_json.loads)
    key_binding = parsed.key_binding.split(".")
    for part in [*parsed.disclosures, *(key_binding[:2] if len(key_binding) == 3 else [])]:
        try:
            raw = b64url_decode(part)
        except ValueError:
            continue
        untrusted_json.loads(raw)
    return parsed


def decode_disclosure(disclosure: str) -> tuple[str, object]:
    """``(claim name, value)`` of an object-property disclosure; ``ValueError`` otherwise."""
    try:
        salt_name_value = json.loads(b64url_decode(disclosure))
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValueError("malformed disclosure") from exc
    if not isinstance(salt_name_value, list) or len(salt_name_value) != 3 \
            or not isinstance(salt_name_value[1], str):
        raise ValueError("malformed disclosure")
    return salt_name_value[1], salt_name_value[2]


def claims_of(sd_jwt: str) -> dict:
    """The disclosed claims of an SD-JWT the platform issued itself (no verification)."""
    return dict(decode_disclosure(d) for d in parse(sd_jwt).disclosures)


def present(sd_jwt: str, claims: list[str], *, holder_key: JWK, iat: int,
            aud: str | None = None, nonce: str | None = None) -> tuple[str, str]:
    """A presentation with only the disclosures of ``claims`` and a key-binding JWT (ES256,
    ``iat``, ``nonce``, ``sd_hash``, and ``aud`` when given). Returns it and its nonce."""
    holder = SDJWTHolder(sd_jwt)
    holder.create_presentation({name: True for name in claims})
    # The library signs a key-binding JWT only with an audience; the platform signs its own so
    # that a presentation shown at a counter (亮证), with no audience, is bound too.
    unbound = holder.sd_jwt_presentation
    nonce = nonce or secrets.token_urlsafe(16)
    payload = {"iat": iat, "nonce": nonce, "sd_hash": digest(unbound)}
    if aud is not None:
        payload["aud"] = aud
    kb = JWS(json.dumps(payload))
    kb.add_signature(holder_key, alg="ES256", protected=json.dumps({"alg": "ES256", "typ": KB_TYP}))
    return unbound + kb.serialize(compact=True), nonce
