"""Verification as any verifier would: why a credential or presentation is not valid."""
from __future__ import annotations

import base64
import json

import pytest

from tests.helpers import resident
from tests.wallet.support import issued, make_issuer, resident_id_claims


def _verify(client, text, **extra):
    response = client.post("/api/v1/credentials/verify", json={"credential": text, **extra})
    assert response.status_code == 200, response.json
    return response.json


def _b64(obj) -> str:
    return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()


def _present(client, holder, credential_id, claims=("name", "birthdate"), **extra) -> str:
    response = client.post(f"/api/v1/me/wallet/{credential_id}/presentations",
                           json={"claims": list(claims), **extra}, headers=holder["headers"])
    assert response.status_code == 201, response.json
    return response.json["presentation"]


def _without_key_binding(presentation: str) -> str:
    return presentation.rsplit("~", 1)[0] + "~"


def test_a_fresh_presentation_is_valid(client):
    holder = resident(client)
    body = issued(client, make_issuer(client), holder)
    result = _verify(client, _present(client, holder, body["id"], list(resident_id_claims(holder))))
    assert result["valid"] is True and result["problems"] == []
    assert result["issuer"]["name"] == "市公安局" and result["type"] == "resident-id"
    assert result["status"] == "valid"
    assert result["disclosed"] == resident_id_claims(holder)


def test_a_bare_credential_is_not_valid_but_its_checks_are_reported(client):
    # Whoever once saw a credential (its issuer's answer, the holder's own copy) could show it
    # again forever: without a key-binding JWT by the holder key it proves no holder.
    holder = resident(client)
    body = issued(client, make_issuer(client), holder)
    own_copy = client.get(f"/api/v1/me/wallet/{body['id']}", headers=holder["headers"]).json["credential"]
    for bare in (body["credential"], own_copy):
        for audience in ({}, {"audience": "counter-7"}):
            result = _verify(client, bare, **audience)
            assert result["valid"] is False and result["problems"] == ["key-binding"]
            assert result["issuer"]["name"] == "市公安局" and result["type"] == "resident-id"
            assert result["status"] == "valid" and result["disclosed"] == resident_id_claims(holder)


def test_a_presentation_stripped_of_its_key_binding_jwt_is_not_valid(client):
    holder = resident(client)
    body = issued(client, make_issuer(client), holder)
    for audience in ({}, {"audience": "counter-7"}):
        stripped = _without_key_binding(_present(client, holder, body["id"], **audience))
        result = _verify(client, stripped, **audience)
        assert result["valid"] is False and result["problems"] == ["key-binding"]
        assert result["status"] == "valid"
        assert result["disclosed"] == {"name": holder["name"], "birthdate": "1990-03-07"}


def test_a_key_binding_jwt_by_another_key_is_refused(client):
    from jwcrypto.jwk import JWK

    from wallet import sdjwt

    holder = resident(client)
    body = issued(client, make_issuer(client), holder)
    unbound = _without_key_binding(_present(client, holder, body["id"]))
    from core import clock

    thief = JWK.generate(kty="EC", crv="P-256")
    # Someone who saw the presentation binds it again with a key of their own: a fresh,
    # well-formed key-binding JWT over exactly what was shown, but not by the holder key.
    forged, _ = sdjwt.present(unbound, ["name", "birthdate"], holder_key=thief,
                              iat=int(clock.timestamp()))
    assert forged.startswith(unbound)
    result = _verify(client, forged)
    assert result["valid"] is False and result["problems"] == ["key-binding"]


def test_a_key_binding_jwt_from_the_future_is_refused_beyond_the_leeway(client, clock):
    holder = resident(client)
    body = issued(client, make_issuer(client), holder)
    presentation = _present(client, holder, body["id"])
    clock.shift(-60)  # the verifier's clock is a minute behind the moment it was signed
    ahead = _verify(client, presentation)
    assert ahead["valid"] is False and ahead["problems"] == ["key-binding"]
    clock.shift(57)  # three seconds behind: within CODE_LEEWAY_SECONDS
    assert _verify(client, presentation)["valid"] is True


def test_materials_a_service_point_fetched_verify_only_with_their_key_binding(client):
    from tests.codes.support import make_service_point, my_code, scan

    holder = resident(client)
    issued(client, make_issuer(client), holder)
    hall = make_service_point(client, "市民服务中心")
    scan_id = scan(client, hall, my_code(client, holder)["code"]).json["scan_id"]
    request_id = client.post(f"/api/v1/scans/{scan_id}/requests", json={"types": ["resident-id"]},
                             headers=hall["headers"]).json["request_id"]
    [consent] = client.get("/api/v1/me/consents?status=pending", headers=holder["headers"]).json
    client.post(f"/api/v1/me/consents/{consent['id']}/approve", headers=holder["headers"])
    [material] = client.get(f"/api/v1/scans/{scan_id}/requests/{request_id}",
                            headers=hall["headers"]).json["materials"]
    for audience in ({}, {"audience": hall["client_id"]}):
        assert _verify(client, material["credential"], **audience)["valid"] is True
        stripped = _verify(client, _without_key_binding(material["credential"]), **audience)
        assert stripped["valid"] is False and stripped["problems"] == ["key-binding"]
    assert _verify(client, material["credential"], audience="another-point")["problems"] == ["audience"]


def test_tampered_payload_fails_the_signature(client):
    holder = resident(client)
    sd_jwt = issued(client, make_issuer(client), holder)["credential"]
    jwt, rest = sd_jwt.split("~", 1)
    header, payload, signature = jwt.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["vct"] = "driver-licence"
    forged = ".".join([header, _b64(claims), signature]) + "~" + rest
    result = _verify(client, forged)
    assert result["valid"] is False and "signature" in result["problems"]


def test_a_forged_disclosure_is_caught(client):
    holder = resident(client)
    sd_jwt = issued(client, make_issuer(client), holder)["credential"]
    jwt, *disclosures, last = sd_jwt.split("~")
    salt = json.loads(base64.urlsafe_b64decode(disclosures[0] + "=="))[0]
    forged = "~".join([jwt, _b64([salt, "name", "李四"]), *disclosures[1:], last])
    result = _verify(client, forged)
    assert result["valid"] is False and "disclosure" in result["problems"]
    assert result["disclosed"].get("name") != "李四"


def test_a_credential_signed_by_a_stranger_names_no_known_issuer(client):
    from jwcrypto.jwk import JWK
    from sd_jwt.common import SDObj
    from sd_jwt.issuer import SDJWTIssuer

    key = JWK.generate(kty="OKP", crv="Ed25519")
    fake = SDJWTIssuer({"iss": "https://evil.example/issuers/x", "vct": "resident-id",
                        SDObj("name"): "张三"}, key, sign_alg="EdDSA").sd_jwt_issuance
    result = _verify(client, fake)
    assert result["valid"] is False and result["problems"] == ["issuer-unknown"]
    # Naming a real issuer does not help without its key.
    issuer = make_issuer(client)
    holder = resident(client)
    real_iss = json.loads(base64.urlsafe_b64decode(
        issued(client, issuer, holder)["credential"].split(".")[1] + "=="))["iss"]
    impostor = SDJWTIssuer({"iss": real_iss, "vct": "resident-id", SDObj("name"): "张三"}, key,
                           sign_alg="EdDSA", extra_header_parameters={"kid": "made-up"}).sd_jwt_issuance
    assert "signature" in _verify(client, impostor)["problems"]


def test_expiry_and_revocation_are_reported(client, clock):
    issuer = make_issuer(client)
    holder = resident(client)
    other = issued(client, issuer, holder)
    shown = _present(client, holder, other["id"])
    response = client.post(f"/api/v1/issuer/credentials/{other['id']}/revoke",
                           json={"reason": "reported lost"}, headers=issuer["headers"])
    assert response.status_code == 200 and response.json["status"] == "revoked"
    revoked = _verify(client, shown)
    assert revoked["valid"] is False and revoked["problems"] == ["revoked"] and revoked["status"] == "revoked"
    bare = _verify(client, other["credential"])
    assert bare["problems"] == ["revoked", "key-binding"] and bare["status"] == "revoked"

    short = issued(client, issuer, holder, claims=resident_id_claims(holder, valid_until="2026-11-26"),
                   valid_until="2026-11-26T09:00:00Z")
    clock.shift(86400)
    expired = _verify(client, short["credential"])
    assert expired["valid"] is False and expired["status"] == "expired"
    assert expired["problems"] == ["expired", "key-binding"]


def test_key_binding_older_than_five_minutes_is_refused(client, clock):
    holder = resident(client)
    body = issued(client, make_issuer(client), holder)
    shown = client.post(f"/api/v1/me/wallet/{body['id']}/presentations",
                        json={"claims": ["name"], "audience": "counter-7"}, headers=holder["headers"]).json
    assert _verify(client, shown["presentation"], audience="counter-7")["valid"] is True
    assert "audience" in _verify(client, shown["presentation"], audience="counter-8")["problems"]
    clock.shift(301)
    late = _verify(client, shown["presentation"])
    assert late["valid"] is False and late["problems"] == ["key-binding-too-old"]


def test_a_presentation_with_a_swapped_disclosure_breaks_the_key_binding(client):
    holder = resident(client)
    body = issued(client, make_issuer(client), holder)
    url = f"/api/v1/me/wallet/{body['id']}/presentations"
    only_name = client.post(url, json={"claims": ["name"]}, headers=holder["headers"]).json["presentation"]
    with_birth = client.post(url, json={"claims": ["birthdate"]}, headers=holder["headers"]).json["presentation"]
    jwt, name_disclosure, kb = only_name.split("~")
    birth_disclosure = with_birth.split("~")[1]
    spliced = "~".join([jwt, name_disclosure, birth_disclosure, kb])
    assert "key-binding" in _verify(client, spliced)["problems"]


def test_rotated_issuer_key_keeps_old_credentials_verifiable(client, runner):
    issuer = make_issuer(client)
    holder = resident(client)
    before = issued(client, issuer, holder)
    result = runner.invoke(args=["issuer", "rotate-key", issuer["client_id"]])
    assert result.exit_code == 0, result.output
    after = issued(client, issuer, holder)
    kid = lambda text: json.loads(base64.urlsafe_b64decode(text.split(".")[0] + "=="))["kid"]  # noqa: E731
    assert kid(before["credential"]) != kid(after["credential"])
    entry = next(e for e in client.get("/api/v1/trust-list").json["issuers"] if e["name"] == "市公安局")
    assert {k["kid"] for k in entry["jwks"]["keys"]} == {kid(before["credential"]), kid(after["credential"])}
    assert entry["types"] == ["household-register", "resident-id"]
    assert _verify(client, _present(client, holder, before["id"]))["valid"]
    assert _verify(client, _present(client, holder, after["id"]))["valid"]
    # The credential's iss answers with the same entry.
    iss = json.loads(base64.urlsafe_b64decode(after["credential"].split(".")[1] + "=="))["iss"]
    assert client.get(iss.removeprefix("http://onecode.test")).json == entry
    assert client.get("/api/v1/issuers/nope").status_code == 404


@pytest.mark.parametrize("text", ["", "abc", "a.b.c~", "~~~", "x" * 5000, "eyJ9.eyJ9.sig~", "a.b~c.d.e~",
                                  "eyJhbGciOiJFZERTQSJ9.W10.c2ln~"])
def test_garbage_is_malformed_not_a_5xx(client, text):
    response = client.post("/api/v1/credentials/verify", json={"credential": text})
    assert response.status_code in (200, 422)
    if response.status_code == 200:
        assert response.json["valid"] is False and response.json["problems"]
