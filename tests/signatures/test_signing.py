"""A resident signs a PDF; an outside PAdES validator trusting only the CA agrees with
/signatures/verify; evidence lands in the audit chain."""
from __future__ import annotations

import hashlib
from datetime import timedelta

import pyotp
from sqlalchemy import select

from core.audit import AuditEntry, verify_chain
from core.extensions import db
from tests.conftest import START
from tests.helpers import resident
from tests.signatures.support import (
    make_pdf,
    outside_verdicts,
    published_root,
    sign,
    verify,
)


def test_a_resident_signs_and_an_outside_validator_trusting_only_the_ca_agrees(client):
    signer = resident(client, name="李小龙")
    original = make_pdf()
    response = sign(client, signer, original, reason="同意", location="北京")
    assert response.status_code == 201, response.get_data()
    assert response.mimetype == "application/pdf" and response.headers["X-Signature-Id"]
    signed = response.data
    assert signed.startswith(original) and len(signed) > len(original)  # an incremental update

    [outside] = outside_verdicts(signed, published_root(client))
    assert outside["intact"] and outside["trusted"]
    assert outside["subject"]["common_name"] == "李小龙"
    assert outside["subject"]["serial_number"].startswith("OC")
    assert outside["reason"] == "同意"
    # The ID number is nowhere: not in the certificate's subject, not in the file.
    assert signer["id_number"] not in str(outside["subject"])
    assert signer["id_number"].encode() not in signed

    [ours] = verify(client, signed).json["signatures"]
    assert ours["intact"] is True and ours["trusted"] is True and ours["evidence"] is True
    assert ours["signer"] == "李小龙" and ours["kind"] == "person"
    assert ours["certificate_serial"] == outside["serial"]
    assert ours["signed_at"].endswith("Z")


def test_a_changed_byte_is_not_intact_for_us_nor_for_the_outside_validator(client):
    signer = resident(client)
    signed = bytearray(sign(client, signer, make_pdf()).data)
    # A byte of the page's text, well inside what the signature covers.
    at = signed.index(b"Contract 2026-001")
    signed[at] = ord("K")
    [outside] = outside_verdicts(bytes(signed), published_root(client))
    [ours] = verify(client, bytes(signed)).json["signatures"]
    assert outside["intact"] is False and ours["intact"] is False
    assert ours["evidence"] is False  # no signature here made this document


def test_the_same_resident_keeps_one_serial_and_a_second_signature_adds_to_the_first(client):
    signer = resident(client)
    first = sign(client, signer, make_pdf()).data
    second = sign(client, signer, first)
    assert second.status_code == 201
    root = published_root(client)
    verdicts = outside_verdicts(second.data, root)
    assert len(verdicts) == 2 and all(v["intact"] and v["trusted"] for v in verdicts)
    assert verdicts[0]["subject"]["serial_number"] == verdicts[1]["subject"]["serial_number"]
    assert verdicts[0]["serial"] != verdicts[1]["serial"]  # one certificate per signature
    ours = verify(client, second.data).json["signatures"]
    assert [s["evidence"] for s in ours] == [True, True]
    assert [s["intact"] for s in ours] == [True, True]


def test_a_one_time_password_is_a_step_up_too(client, clock):
    signer = resident(client)
    secret = client.post("/api/v1/auth/totp", headers=signer["headers"]).json["secret"]
    totp = pyotp.TOTP(secret)
    assert client.post("/api/v1/auth/totp/confirm", json={"otp": totp.at(START)},
                       headers=signer["headers"]).status_code == 204
    # The code that confirmed set-up is spent; the next step's code signs, once.
    code = totp.at(START + timedelta(seconds=30))
    response = sign(client, signer, make_pdf(), password=None, otp=code)
    assert response.status_code == 201, response.json
    again = sign(client, signer, make_pdf(), password=None, otp=code)
    assert again.status_code == 401 and again.json["type"].endswith("/reauthentication-required")


def test_my_signatures_and_the_evidence_of_a_document_naming_nobody(client):
    signer, other = resident(client), resident(client)
    original = make_pdf()
    response = sign(client, signer, original)
    signed_hash = hashlib.sha256(response.data).hexdigest()
    [mine] = client.get("/api/v1/me/signatures", headers=signer["headers"]).json
    assert mine["id"] == response.headers["X-Signature-Id"] and mine["kind"] == "person"
    assert mine["document_sha256"] == signed_hash
    assert mine["original_sha256"] == hashlib.sha256(original).hexdigest()
    assert client.get("/api/v1/me/signatures", headers=other["headers"]).json == []

    found = client.get(f"/api/v1/evidence/{signed_hash}")
    assert found.status_code == 200
    assert found.json == {"signed_at": mine["signed_at"], "kind": "person",
                          "certificate_serial": mine["certificate_serial"]}
    assert signer["name"] not in found.get_data(as_text=True)
    for unknown in (hashlib.sha256(original).hexdigest(), "0" * 64, "not-a-hash"):
        assert client.get(f"/api/v1/evidence/{unknown}").status_code == 404


def test_each_signature_is_a_record_in_the_audit_chain(client):
    signer = resident(client)
    original = make_pdf()
    response = sign(client, signer, original)
    [entry] = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "document-signed"))
    assert entry.refs["before"] == hashlib.sha256(original).hexdigest()
    assert entry.refs["after"] == hashlib.sha256(response.data).hexdigest()
    assert entry.refs["signature"] == response.headers["X-Signature-Id"]
    assert entry.refs["signer"] == signer["profile"]["id"]
    assert entry.refs["certificate_serial"]
    assert entry.seq is not None and entry.hash  # sealed into the chain
    assert verify_chain().ok


def test_the_ca_is_in_the_trust_list_and_verification_judges_at_the_signing_time(client, clock):
    signer = resident(client)
    signed = sign(client, signer, make_pdf()).data
    root = published_root(client)
    signing = client.get("/api/v1/trust-list").json["signing"]
    assert signing["ca"].endswith("/api/v1/signing/ca")
    assert [r["sha256"] for r in signing["roots"] if r["current"]] == [
        hashlib.sha256(root.dump()).hexdigest()]
    # Days later the one-time certificate has lapsed: judged at the signing time the platform
    # wrote, the signature still holds, for us and for the outside validator.
    clock.shift(timedelta(days=3))
    [outside] = outside_verdicts(signed, root, moment=outside_verdicts(signed, root)[0]["signed_at"])
    [ours] = verify(client, signed).json["signatures"]
    assert outside["intact"] and outside["trusted"]
    assert ours["intact"] and ours["trusted"]
