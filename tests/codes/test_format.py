"""The code format on its own: encoding, strict decoding, the QR size limit."""
from __future__ import annotations

import base45
import cbor2
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from codes import format as fmt
from codes.format import (
    ENTERPRISE,
    PERSON,
    PROXIED,
    Claims,
    CodeSigner,
    ExpiredCode,
    InvalidCode,
    Keyring,
    MalformedCode,
    UnknownKey,
    parse_code,
    verify_code,
)
from codes.render import make_qr

KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
OTHER_KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(1, 33)))
KID = "ab3dk9"
SIGNER = CodeSigner(KID, KEY)
RING = Keyring({KID: KEY.public_key()})
EXP = 1_795_000_000
CLAIMS = Claims("k3m9p2q7x4", EXP, bytes(8), PERSON)


def _cose(protected, payload, signature=None, unprotected=None, tag=18, extra=()):
    if signature is None:
        signature = KEY.sign(fmt.sig_structure(protected, payload))
    body = [protected, {} if unprotected is None else unprotected, payload, signature, *extra]
    item = cbor2.CBORTag(tag, body) if tag is not None else body
    return item


def _text(item, trailing=b"") -> str:
    return fmt.PREFIX + base45.b45encode(cbor2.dumps(item) + trailing).decode()


def _payload(changes: dict | None = None) -> bytes:
    base = {2: CLAIMS.sub, 4: CLAIMS.exp, 7: CLAIMS.cti, "k": PERSON}
    base.update(changes or {})
    return cbor2.dumps({k: v for k, v in base.items() if v is not _DROP})


_DROP = object()
PROTECTED = fmt.protected_header(KID)


def test_a_code_roundtrips_and_has_the_documented_shape():
    text = SIGNER.sign(CLAIMS)
    assert text.startswith("OC1:")
    assert verify_code(text, RING, now=EXP) == CLAIMS
    item = cbor2.loads(base45.b45decode(text[4:]))
    assert item.tag == 18
    protected, unprotected, payload, signature = item.value
    assert cbor2.loads(protected) == {1: -8, 4: KID.encode()}
    assert unprotected == {}
    assert cbor2.loads(payload) == {2: CLAIMS.sub, 4: EXP, 7: bytes(8), "k": 1}
    assert len(signature) == 64


@pytest.mark.parametrize("handle_length", [10, 11])
def test_the_qr_code_stays_at_version_7_or_lower_at_m(handle_length):
    text = SIGNER.sign(Claims("x" * handle_length, 4_102_444_800, bytes(8), ENTERPRISE))
    qr = make_qr(text)
    assert qr.error == "M"
    assert qr.mode == "alphanumeric"
    assert qr.version <= 7, (len(text), qr.version)


@settings(max_examples=200, deadline=None)
@given(sub=st.text(min_size=1, max_size=12), exp=st.integers(0, 2**63 - 1),
       cti=st.binary(min_size=8, max_size=8), kind=st.sampled_from([PERSON, ENTERPRISE, PROXIED]))
def test_any_claims_roundtrip(sub, exp, cti, kind):
    claims = Claims(sub, exp, cti, kind)
    assert verify_code(SIGNER.sign(claims), RING, now=0, leeway=0) == claims


@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_any_flipped_byte_is_refused_as_malformed_or_invalid(data):
    raw = bytearray(base45.b45decode(SIGNER.sign(CLAIMS)[4:]))
    index = data.draw(st.integers(0, len(raw) - 1))
    flip = data.draw(st.integers(1, 255))
    raw[index] ^= flip
    text = "OC1:" + base45.b45encode(bytes(raw)).decode()
    with pytest.raises((MalformedCode, InvalidCode)):
        verify_code(text, RING, now=EXP)


@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_any_changed_character_is_refused_as_malformed_or_invalid(data):
    text = SIGNER.sign(CLAIMS)
    index = data.draw(st.integers(0, len(text) - 1))
    char = data.draw(st.characters().filter(lambda c: c != text[index]))
    with pytest.raises((MalformedCode, InvalidCode)):
        verify_code(text[:index] + char + text[index + 1:], RING, now=EXP)


@settings(max_examples=300, deadline=None)
@given(text=st.one_of(st.text(max_size=300), st.text(max_size=300).map(lambda t: "OC1:" + t),
                      st.binary(max_size=200).map(lambda b: "OC1:" + base45.b45encode(b).decode())))
def test_arbitrary_text_is_refused_without_any_other_exception(text):
    with pytest.raises((MalformedCode, InvalidCode)):
        verify_code(text, RING, now=EXP)


@settings(max_examples=300, deadline=None)
@given(raw=st.binary(max_size=300))
def test_our_base45_decoder_agrees_with_the_package(raw):
    text = base45.b45encode(raw).decode()
    assert fmt.b45decode(text) == raw


@pytest.mark.parametrize("text", ["ab", "AB CD:E", "ZZZ", "GGW", "::", "A", "ABCD", "AB\n",
                                  "ab0", "ÀB", "A\x00B"])
def test_base45_decoder_refuses_what_is_not_base45(text):
    with pytest.raises(ValueError):
        fmt.b45decode(text)


@pytest.mark.parametrize("text", [
    "", "HC1:6BFOXN", "oc1:" + "A" * 10, "OC1:", "OC1:abc", "OC1:A",
    "OC1:" + base45.b45encode(b"\xff\xfe").decode(),  # not CBOR
    "OC1:" + base45.b45encode(cbor2.dumps([1, 2, 3, 4])).decode(),  # untagged
    "OC1:" + base45.b45encode(cbor2.dumps("text")).decode(),
])
def test_malformed_texts(text):
    with pytest.raises(MalformedCode):
        parse_code(text)


def test_a_newline_after_a_valid_code_is_malformed():
    with pytest.raises(MalformedCode):
        parse_code(SIGNER.sign(CLAIMS) + "\n")


def test_trailing_bytes_are_malformed():
    with pytest.raises(MalformedCode):
        parse_code(_text(_cose(PROTECTED, _payload()), trailing=b"\x00"))


def test_the_untagged_structure_and_wrong_tags_are_malformed():
    for tag in (None, 17, 98, 61):
        with pytest.raises(MalformedCode):
            parse_code(_text(_cose(PROTECTED, _payload(), tag=tag)))


@pytest.mark.parametrize("item", [
    cbor2.CBORTag(18, [PROTECTED, {}, _payload()]),
    cbor2.CBORTag(18, [PROTECTED, {}, _payload(), b"s" * 64, b""]),
    cbor2.CBORTag(18, ["text", {}, _payload(), b"s" * 64]),
    cbor2.CBORTag(18, [PROTECTED, [], _payload(), b"s" * 64]),
    cbor2.CBORTag(18, [PROTECTED, {}, None, b"s" * 64]),
    cbor2.CBORTag(18, [PROTECTED, {}, _payload(), "sig"]),
    cbor2.CBORTag(18, {1: 2}),
])
def test_wrong_cose_structures_are_malformed(item):
    with pytest.raises(MalformedCode):
        parse_code(_text(item))


def _invalid(item):
    with pytest.raises(InvalidCode):
        verify_code(_text(item), RING, now=EXP)


def test_a_signature_by_another_key_is_invalid():
    payload = _payload()
    _invalid(_cose(PROTECTED, payload, OTHER_KEY.sign(fmt.sig_structure(PROTECTED, payload))))


def test_a_tampered_payload_is_invalid():
    good = _cose(PROTECTED, _payload())
    tampered = list(good.value)
    tampered[2] = _payload({2: "someoneelse"})
    _invalid(cbor2.CBORTag(18, tampered))


def test_an_unknown_kid_says_which():
    protected = fmt.protected_header("zzzzzz")
    with pytest.raises(UnknownKey) as caught:
        verify_code(_text(_cose(protected, _payload())), RING, now=EXP)
    assert caught.value.kid == "zzzzzz"


@pytest.mark.parametrize("header", [
    {1: -7, 4: KID.encode()},           # ES256
    {1: "EdDSA", 4: KID.encode()},
    {4: KID.encode()},                  # no alg
    {1: -8},                            # no kid
    {1: -8, 4: KID},                    # kid as text
    {1: -8, 4: KID.encode(), 3: 0},     # an extra parameter
    {1: -8, 4: b"\xff\xfe"},            # not UTF-8
])
def test_wrong_protected_headers_are_invalid(header):
    protected = cbor2.dumps(header)
    _invalid(_cose(protected, _payload()))


def test_a_protected_header_that_is_not_a_map_is_invalid():
    _invalid(_cose(b"\xff", _payload()))
    _invalid(_cose(cbor2.dumps([1, -8]), _payload()))


def test_a_non_empty_unprotected_header_is_invalid():
    _invalid(_cose(PROTECTED, _payload(), unprotected={4: KID.encode()}))


@pytest.mark.parametrize("claims", [
    {2: _DROP}, {4: _DROP}, {7: _DROP}, {"k": _DROP},          # missing
    {1: "issuer"}, {"x": 1}, {6: EXP},                         # extra
    {2: ""}, {2: "x" * 13}, {2: b"handle"}, {2: 5},            # sub
    {4: "1795000000"}, {4: 1.5e9}, {4: -1}, {4: True},         # exp
    {7: bytes(7)}, {7: bytes(9)}, {7: "12345678"},             # cti
    {"k": 0}, {"k": 4}, {"k": "person"}, {"k": True},          # kind
])
def test_bad_claims_are_invalid_even_when_signed(claims):
    _invalid(_cose(PROTECTED, _payload(claims)))


def test_a_payload_that_is_not_a_cbor_map_is_invalid():
    _invalid(_cose(PROTECTED, cbor2.dumps([1, 2])))
    _invalid(_cose(PROTECTED, cbor2.dumps({2: "a", 4: 1, 7: bytes(8), "k": 1}) + b"\x00"))


def test_expiry_allows_the_leeway_and_no_more():
    text = SIGNER.sign(CLAIMS)
    assert verify_code(text, RING, now=EXP + 5, leeway=5) == CLAIMS
    with pytest.raises(ExpiredCode):
        verify_code(text, RING, now=EXP + 5.001, leeway=5)
    with pytest.raises(ExpiredCode):
        verify_code(text, RING, now=EXP + 1, leeway=0)


def test_claims_out_of_range_are_not_signed():
    for claims in (Claims("", EXP, bytes(8)), Claims("x" * 13, EXP, bytes(8)),
                   Claims("abc", -1, bytes(8)), Claims("abc", EXP, bytes(7)),
                   Claims("abc", EXP, bytes(8), kind=9)):
        with pytest.raises(ValueError):
            SIGNER.sign(claims)


def test_a_keyring_from_a_jwks_verifies():
    import base64

    x = base64.urlsafe_b64encode(KEY.public_key().public_bytes_raw()).rstrip(b"=").decode()
    ring = Keyring.from_jwks({"keys": [{"kty": "OKP", "crv": "Ed25519", "x": x, "kid": KID}]})
    assert verify_code(SIGNER.sign(CLAIMS), ring, now=EXP) == CLAIMS
