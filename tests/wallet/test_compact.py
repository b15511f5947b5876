"""亮证 as a compact code (``OCV1:``): small enough for a counter scanner, verified offline with
the JWKS by libraries of its own, and online with the status of the credential it names."""
from __future__ import annotations

import base64

import base45
import cbor2
import cwt
import pytest
import segno
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cwt import COSEKey

from tests.codes.support import problem_type
from tests.conftest import START
from tests.helpers import resident
from tests.wallet.support import issued, make_issuer, resident_id_claims

NOW = int(START.timestamp())


def _show(client, holder, credential_id, claims=("name", "id_number", "birthdate")):
    response = client.post(f"/api/v1/me/wallet/{credential_id}/presentations",
                           json={"claims": list(claims)}, headers=holder["headers"])
    assert response.status_code == 201, response.json
    return response.json


def _verify(client, text):
    response = client.post("/api/v1/credentials/verify", json={"credential": text})
    assert response.status_code == 200, response.json
    return response.json


def _version(text: str) -> int:
    return segno.make(text, error="m", boost_error=False, micro=False).version


@pytest.fixture
def shown(client, clock):
    holder = resident(client)
    issuer = make_issuer(client)
    body = issued(client, issuer, holder)
    return {"holder": holder, "issuer": issuer, "credential": body,
            "answer": _show(client, holder, body["id"])}


def test_qr_text_is_a_compact_code_beside_the_sd_jwt(shown):
    answer = shown["answer"]
    assert answer["qr_text"].startswith("OCV1:")
    assert "~" in answer["presentation"]  # the SD-JWT presentation stays, for sharing online
    assert len(answer["qr_text"]) < len(answer["presentation"]) / 3


def test_three_claims_fit_qr_version_12_at_m(shown):
    assert _version(shown["answer"]["qr_text"]) <= 12


def test_three_claims_of_twenty_characters_fit_qr_version_12_at_m(client, clock):
    holder = resident(client)
    issuer = make_issuer(client, types=("social-security-card",))
    body = issued(client, issuer, holder, "social-security-card", {
        "name": holder["name"], "id_number": holder["id_number"],
        "card_number": "A1234567890123456789", "city": "C" * 20})
    answer = _show(client, holder, body["id"], ("id_number", "card_number", "city"))
    assert _version(answer["qr_text"]) <= 12


def _cwt_claims(client, text):
    keys = [COSEKey.from_jwk(jwk) for jwk in client.get("/.well-known/jwks.json").json["keys"]]
    return cwt.CWT.new(leeway=5).decode(base45.b45decode(text[len("OCV1:"):]), keys=keys)


def test_it_verifies_offline_with_an_independent_cose_library(client, shown):
    claims = _cwt_claims(client, shown["answer"]["qr_text"])
    holder = shown["holder"]
    assert NOW < claims[4] <= NOW + 300  # exp: at most 5 minutes away
    assert len(claims[7]) == 8  # cti
    vouched = claims["v"]
    assert vouched["t"] == "resident-id" and vouched["i"] == shown["issuer"]["id"]
    assert vouched["c"] == {"name": holder["name"], "id_number": holder["id_number"],
                            "birthdate": "1990-03-07"}
    status = shown["credential"]["status_list"]
    assert vouched["s"] == [status["uri"].rsplit("/", 1)[1], status["idx"]]


def test_it_verifies_offline_with_the_jwks_and_cryptography_alone(client, shown):
    tag = cbor2.loads(base45.b45decode(shown["answer"]["qr_text"][len("OCV1:"):]))
    assert tag.tag == 18
    protected, unprotected, payload, signature = tag.value
    header = cbor2.loads(protected)
    assert header[1] == -8 and unprotected == {}
    jwk = next(k for k in client.get("/.well-known/jwks.json").json["keys"]
               if k["kid"] == header[4].decode())
    key = Ed25519PublicKey.from_public_bytes(base64.urlsafe_b64decode(jwk["x"] + "=="))
    to_sign = cbor2.dumps(["Signature1", protected, b"", payload])
    key.verify(signature, to_sign)  # raises if it does not verify
    with pytest.raises(InvalidSignature):
        key.verify(signature, to_sign.replace(b"1990", b"1991"))
    assert cbor2.loads(payload)["v"]["c"]["name"] == shown["holder"]["name"]


def test_it_expires_within_five_minutes_offline_and_online(client, shown, clock):
    text = shown["answer"]["qr_text"]
    clock.shift(300 + 5)
    assert _cwt_claims(client, text)["v"]["t"] == "resident-id"
    assert _verify(client, text)["valid"] is True
    clock.shift(1)
    with pytest.raises(cwt.VerifyError):
        _cwt_claims(client, text)
    result = _verify(client, text)
    assert result["valid"] is False and result["problems"] == ["code-expired"]


def test_online_verification_shows_the_claims_then_the_revocation(client, shown):
    text = shown["answer"]["qr_text"]
    result = _verify(client, text)
    assert result["valid"] is True and result["problems"] == [] and result["status"] == "valid"
    assert result["type"] == "resident-id"
    assert result["issuer"] == {"id": f"http://onecode.test/api/v1/issuers/{shown['issuer']['id']}",
                                "name": "市公安局"}
    assert set(result["disclosed"]) == {"name", "id_number", "birthdate"}
    revoked = client.post(f"/api/v1/issuer/credentials/{shown['credential']['id']}/revoke",
                          json={"reason": "reported lost"}, headers=shown["issuer"]["headers"])
    assert revoked.status_code == 200
    result = _verify(client, text)
    assert result["valid"] is False and result["problems"] == ["revoked"]
    assert result["status"] == "revoked"


def test_a_changed_or_foreign_code_is_refused(client, shown):
    from codes.format import CodeSigner
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    text = shown["answer"]["qr_text"]
    raw = bytearray(base45.b45decode(text[5:]))
    raw[-1] ^= 1
    assert _verify(client, "OCV1:" + base45.b45encode(bytes(raw)).decode())["problems"] == ["signature"]
    payload = cbor2.loads(cbor2.loads(base45.b45decode(text[5:])).value[2])
    kid = cbor2.loads(cbor2.loads(base45.b45decode(text[5:])).value[0])[4].decode()
    forged = CodeSigner(kid, Ed25519PrivateKey.generate()).sign_payload(cbor2.dumps(payload), "OCV1:")
    assert _verify(client, forged)["problems"] == ["signature"]
    for junk in ("OCV1:", "OCV1:%%%", "OCV1:" + base45.b45encode(b"\xa0").decode()):
        assert _verify(client, junk)["problems"] == ["malformed"]


def test_claims_too_large_for_a_qr_code_are_refused(client, clock):
    holder = resident(client)
    body = issued(client, make_issuer(client), holder,
                  claims=resident_id_claims(holder, address="北" * 2000))
    response = client.post(f"/api/v1/me/wallet/{body['id']}/presentations",
                           json={"claims": ["address"]}, headers=holder["headers"])
    assert response.status_code == 422 and problem_type(response) == "validation-error"
