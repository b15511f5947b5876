"""The code's wire format: a CWT in a COSE_Sign1, base45-encoded behind ``OC1:``.

Pure functions and small classes, no Flask, so an offline gate can use this module as it is.

The text is ``"OC1:" + base45(COSE_Sign1)`` (RFC 9285, the EU DCC's ``HC1:`` pattern); base45
uses only the QR alphanumeric character set, so the QR code stays small. The COSE_Sign1
(RFC 9052, CBOR tag 18) is::

    18([
        protected:   bstr .cbor {1: -8 (EdDSA), 4: kid (UTF-8 bytes of the JWK's kid)},
        unprotected: {},
        payload:     bstr .cbor {2 (sub): handle (text, 1-12 chars),
                                 4 (exp): seconds since the epoch (uint),
                                 7 (cti): 8 random bytes,
                                 "k": 1 person | 2 enterprise | 3 person, shown by a proxy},
        signature:   Ed25519 over ["Signature1", protected, h'', payload]
    ])

``"k"`` is a private claim with a text key (RFC 8392 allows text keys): two bytes, where an
integer key in the private-use range would take five. Kind 3 is a person's code that someone
acting for them (a family proxy) shows: its subject is the person, and the server accepts it
only with the note of who showed it (a code that says so cannot pass for the person's own when
that note is lost). It costs no byte more than kind 1.

Decoding is strict and sorts failures into three kinds, so a scanner can tell them apart:

- ``MalformedCode``: not ``OC1:``, not base45, not CBOR, trailing bytes, or not a COSE_Sign1;
- ``InvalidCode``: unknown key, wrong algorithm or header, bad signature, bad claims;
- ``ExpiredCode``: ``exp`` plus the verifier's leeway has passed.

Verification is on the hot path of every gate, so the work around the Ed25519 check is kept
small: a ``Keyring`` maps each key's exact protected-header bytes to a ready public key object,
so a known header is never decoded, and the Sig_structure is built by concatenation.
"""
from __future__ import annotations

import io
import os
import struct
from dataclasses import dataclass
from typing import Mapping

import base45
import cbor2
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

PREFIX = "OC1:"
COSE_SIGN1_TAG = 18
ALG_EDDSA = -8
HEADER_ALG = 1
HEADER_KID = 4
CLAIM_SUB = 2
CLAIM_EXP = 4
CLAIM_CTI = 7
CLAIM_KIND = "k"
PERSON = 1
ENTERPRISE = 2
PROXIED = 3  # a person's code shown by someone acting for them
KIND_NAMES = {PERSON: "person", ENTERPRISE: "enterprise", PROXIED: "person"}

MAX_SUB_LENGTH = 12
CTI_LENGTH = 8
SIGNATURE_LENGTH = 64
# Far longer than any real code (about 180 characters); a bound on the work a bad input costs.
MAX_TEXT_LENGTH = 1024

# Each byte of the text to its base45 digit, 255 for anything outside the alphabet.
_BASE45_DIGITS = bytes(base45.BASE45_CHARSET.index(chr(c)) if chr(c) in base45.BASE45_CHARSET
                       else 255 for c in range(256))
_CLAIM_KEYS = frozenset((CLAIM_SUB, CLAIM_EXP, CLAIM_CTI, CLAIM_KIND))
_MAX_EXP = 2**63 - 1


class CodeError(Exception):
    """Base class of the ways a code can fail to verify."""


class MalformedCode(CodeError):
    """The text is not a code at all: prefix, base45, CBOR or COSE_Sign1 structure."""


class InvalidCode(CodeError):
    """A well-formed code that does not verify: key, algorithm, signature or claims."""


class UnknownKey(InvalidCode):
    """The code names a key id the keyring does not hold; ``kid`` says which."""

    def __init__(self, kid: str):
        super().__init__("unknown key id")
        self.kid = kid


class ExpiredCode(CodeError):
    """The code verified but its ``exp`` plus the leeway has passed."""


@dataclass(frozen=True, slots=True)
class Claims:
    """The claims a code carries. ``kind`` is ``PERSON``, ``ENTERPRISE`` or ``PROXIED``."""

    sub: str
    exp: int
    cti: bytes
    kind: int = PERSON

    @property
    def kind_name(self) -> str:
        return KIND_NAMES[self.kind]


@dataclass(frozen=True, slots=True)
class SignedCode:
    """A parsed COSE_Sign1, not yet verified."""

    protected: bytes
    payload: bytes
    signature: bytes


def new_cti() -> bytes:
    """A fresh 8-byte nonce for a code's ``cti``."""
    return os.urandom(CTI_LENGTH)


def _bstr_head(length: int) -> bytes:
    # CBOR major type 2 (byte string) with the shortest length encoding.
    if length < 24:
        return bytes((0x40 | length,))
    if length < 0x100:
        return bytes((0x58, length))
    if length < 0x10000:
        return b"\x59" + length.to_bytes(2, "big")
    return b"\x5a" + length.to_bytes(4, "big")


_SIG_STRUCTURE_HEAD = b"\x84" + cbor2.dumps("Signature1")


def sig_structure(protected: bytes, payload: bytes) -> bytes:
    """``["Signature1", protected, h'', payload]`` as CBOR (RFC 9052 section 4.4)."""
    return b"".join((_SIG_STRUCTURE_HEAD, _bstr_head(len(protected)), protected, b"\x40",
                     _bstr_head(len(payload)), payload))


def protected_header(kid: str) -> bytes:
    """The protected header bytes for a key id: ``{1: -8, 4: kid}`` in deterministic CBOR."""
    return cbor2.dumps({HEADER_ALG: ALG_EDDSA, HEADER_KID: kid.encode()})


def _check_claims(claims: Claims) -> None:
    if type(claims.sub) is not str or not 1 <= len(claims.sub) <= MAX_SUB_LENGTH:
        raise ValueError("sub must be a text string of 1 to 12 characters")
    if type(claims.exp) is not int or not 0 <= claims.exp <= _MAX_EXP:
        raise ValueError("exp must be a non-negative integer")
    if type(claims.cti) is not bytes or len(claims.cti) != CTI_LENGTH:
        raise ValueError("cti must be 8 bytes")
    if claims.kind not in KIND_NAMES:
        raise ValueError("kind must be PERSON, ENTERPRISE or PROXIED")


class CodeSigner:
    """Signs codes with one Ed25519 key; the header and its encoding are computed once."""

    def __init__(self, kid: str, private_key: Ed25519PrivateKey):
        self.kid = kid
        self._key = private_key
        self._protected = protected_header(kid)
        self._head = b"\xd2\x84" + _bstr_head(len(self._protected)) + self._protected + b"\xa0"

    def sign(self, claims: Claims) -> str:
        """The code text for these claims. Raises ``ValueError`` for claims out of range."""
        _check_claims(claims)
        payload = cbor2.dumps({CLAIM_SUB: claims.sub, CLAIM_EXP: claims.exp,
                               CLAIM_CTI: claims.cti, CLAIM_KIND: claims.kind})
        return self.sign_payload(payload)

    def sign_payload(self, payload: bytes, prefix: str = PREFIX) -> str:
        """``prefix`` + base45 of a COSE_Sign1 over any payload (CBOR bytes) with this key:
        the same envelope for other signed texts of the platform (``wallet.compact``)."""
        signature = self._key.sign(sig_structure(self._protected, payload))
        raw = b"".join((self._head, _bstr_head(len(payload)), payload,
                        _bstr_head(len(signature)), signature))
        return prefix + base45.b45encode(raw).decode("ascii")


def encode_code(claims: Claims, kid: str, private_key: Ed25519PrivateKey) -> str:
    """The code text for ``claims`` signed with ``private_key`` under ``kid``."""
    return CodeSigner(kid, private_key).sign(claims)


def b45decode(text: str) -> bytes:
    """Base45 (RFC 9285) to bytes, strictly: only the 45 characters, no stripping.

    Twice as fast as the ``base45`` package's decoder (which the encoder uses, and which the
    tests check this against): verification is on every gate's hot path.
    Raises ``ValueError`` for anything that is not base45.
    """
    try:
        digits = text.encode("ascii").translate(_BASE45_DIGITS)
    except UnicodeEncodeError:
        raise ValueError("not base45") from None
    if 255 in digits:
        raise ValueError("not base45")
    rest = len(digits) % 3
    if rest == 1:
        raise ValueError("not base45")
    full = len(digits) - rest
    values = [a + b * 45 + c * 2025
              for a, b, c in zip(digits[0:full:3], digits[1:full:3], digits[2:full:3])]
    if values and max(values) > 0xFFFF:
        raise ValueError("not base45")
    out = struct.pack(">%dH" % len(values), *values)
    if rest:
        last = digits[full] + digits[full + 1] * 45
        if last > 0xFF:
            raise ValueError("not base45")
        out += bytes((last,))
    return out


def _decode_one(data: bytes):
    """One CBOR item that must span ``data`` exactly (``cbor2.loads`` ignores trailing bytes)."""
    stream = io.BytesIO(data)
    item = cbor2.CBORDecoder(stream).decode()
    if stream.tell() != len(data):
        raise ValueError("trailing bytes after the CBOR item")
    return item


# Strict CBOR for payloads that other modules verify with ``Keyring.verify_payload``.
decode_cbor = _decode_one


def parse_code(text: str, prefix: str = PREFIX, max_length: int = MAX_TEXT_LENGTH) -> SignedCode:
    """Split a code text into its COSE_Sign1 parts, without verifying anything.

    Raises ``MalformedCode`` unless the text is ``OC1:`` (or ``prefix``) + base45 of exactly
    one tagged COSE_Sign1 of the expected shape; ``InvalidCode`` when its unprotected header
    is not empty.
    """
    if type(text) is not str or not text.startswith(prefix) or len(text) > max_length:
        raise MalformedCode(f"not an {prefix.rstrip(':')} code")
    try:
        raw = b45decode(text[len(prefix):])
    except ValueError:
        raise MalformedCode("not base45") from None
    try:
        item = _decode_one(raw)
    except Exception:  # cbor2 raises CBORDecodeError, and a few others on hostile input
        raise MalformedCode("not CBOR") from None
    if not isinstance(item, cbor2.CBORTag) or item.tag != COSE_SIGN1_TAG:
        raise MalformedCode("not a COSE_Sign1")
    parts = item.value
    if type(parts) not in (list, tuple) or len(parts) != 4:
        raise MalformedCode("not a COSE_Sign1")
    protected, unprotected, payload, signature = parts
    if (type(protected) is not bytes or type(unprotected) is not dict
            or type(payload) is not bytes or type(signature) is not bytes):
        raise MalformedCode("not a COSE_Sign1")
    if unprotected:
        raise InvalidCode("unexpected unprotected header")
    return SignedCode(protected, payload, signature)


def _kid_from_header(protected: bytes) -> str:
    """The key id of a protected header this keyring does not know (slow path)."""
    try:
        header = _decode_one(protected)
    except Exception:
        raise InvalidCode("protected header is not CBOR") from None
    if type(header) is not dict or set(header) != {HEADER_ALG, HEADER_KID}:
        raise InvalidCode("protected header must hold exactly alg and kid")
    if header[HEADER_ALG] != ALG_EDDSA or type(header[HEADER_ALG]) is not int:
        raise InvalidCode("algorithm is not EdDSA")
    kid = header[HEADER_KID]
    if type(kid) is not bytes or not kid:
        raise InvalidCode("kid must be a byte string")
    try:
        kid_text = kid.decode()
    except UnicodeDecodeError:
        raise InvalidCode("kid is not UTF-8") from None
    if protected != protected_header(kid_text):
        raise InvalidCode("protected header is not in deterministic encoding")
    return kid_text


def _claims_from_payload(payload: bytes) -> Claims:
    try:
        claims = _decode_one(payload)
    except Exception:
        raise InvalidCode("payload is not CBOR") from None
    if type(claims) is not dict or claims.keys() != _CLAIM_KEYS:
        raise InvalidCode("claims must be exactly sub, exp, cti and k")
    sub, exp, cti, kind = (claims[CLAIM_SUB], claims[CLAIM_EXP], claims[CLAIM_CTI],
                           claims[CLAIM_KIND])
    if type(sub) is not str or not 1 <= len(sub) <= MAX_SUB_LENGTH:
        raise InvalidCode("bad sub")
    if type(exp) is not int or not 0 <= exp <= _MAX_EXP:
        raise InvalidCode("bad exp")
    if type(cti) is not bytes or len(cti) != CTI_LENGTH:
        raise InvalidCode("bad cti")
    if type(kind) is not int or kind not in KIND_NAMES:
        raise InvalidCode("bad subject kind")
    return Claims(sub, exp, cti, kind)


class Keyring:
    """Public keys by key id, ready to verify codes offline.

    ``keys`` maps each kid to an ``Ed25519PublicKey`` or its 32 raw bytes. The key objects are
    built once; a code whose protected header is one of ours is matched by its bytes.
    """

    def __init__(self, keys: Mapping[str, Ed25519PublicKey | bytes] | None = None):
        self._by_header: dict[bytes, tuple[str, Ed25519PublicKey]] = {}
        for kid, key in (keys or {}).items():
            self.add(kid, key)

    @classmethod
    def from_jwks(cls, jwks: Mapping) -> "Keyring":
        """A keyring from a JWKS document (the OKP/Ed25519 keys in it)."""
        import base64

        keys = {}
        for jwk in jwks.get("keys", []):
            if jwk.get("kty") == "OKP" and jwk.get("crv") == "Ed25519" and "kid" in jwk:
                x = jwk["x"]
                keys[jwk["kid"]] = base64.urlsafe_b64decode(x + "=" * (-len(x) % 4))
        return cls(keys)

    def add(self, kid: str, key: Ed25519PublicKey | bytes) -> None:
        if isinstance(key, (bytes, bytearray)):
            key = Ed25519PublicKey.from_public_bytes(bytes(key))
        self._by_header[protected_header(kid)] = (kid, key)

    def kids(self) -> list[str]:
        return [kid for kid, _ in self._by_header.values()]

    def __contains__(self, kid: str) -> bool:
        return protected_header(kid) in self._by_header

    def __len__(self) -> int:
        return len(self._by_header)

    def key_id(self, signed: SignedCode) -> str:
        """The kid a parsed code names. Raises ``InvalidCode`` for a bad header."""
        known = self._by_header.get(signed.protected)
        return known[0] if known else _kid_from_header(signed.protected)

    def verify(self, signed: SignedCode) -> Claims:
        """The claims of a parsed code whose signature checks out under one of these keys.

        Raises ``UnknownKey`` for a kid not held here, ``InvalidCode`` for anything else wrong.
        Does not look at the time; see ``check_expiry``.
        """
        self.verify_payload(signed)
        return _claims_from_payload(signed.payload)

    def verify_payload(self, signed: SignedCode) -> bytes:
        """The payload bytes of a parsed COSE_Sign1 whose signature checks out under one of
        these keys, whatever the payload holds. Raises ``UnknownKey`` or ``InvalidCode``."""
        known = self._by_header.get(signed.protected)
        if known is None:
            raise UnknownKey(_kid_from_header(signed.protected))
        if len(signed.signature) != SIGNATURE_LENGTH:
            raise InvalidCode("bad signature length")
        try:
            known[1].verify(signed.signature, sig_structure(signed.protected, signed.payload))
        except InvalidSignature:
            raise InvalidCode("bad signature") from None
        return signed.payload


def check_expiry(claims: Claims, now: float, leeway: int) -> None:
    """Raise ``ExpiredCode`` when ``exp + leeway`` is before ``now`` (seconds)."""
    if claims.exp + leeway < now:
        raise ExpiredCode("code expired")


def verify_code(text: str, keyring: Keyring, now: float, leeway: int = 5) -> Claims:
    """Parse, verify and time-check a code: the whole offline check a gate makes.

    Raises ``MalformedCode``, ``InvalidCode`` (``UnknownKey`` for an unknown kid) or
    ``ExpiredCode``.
    """
    claims = keyring.verify(parse_code(text))
    check_expiry(claims, now, leeway)
    return claims

