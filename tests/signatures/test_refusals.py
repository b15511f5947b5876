"""Bad input and refusals: clear 4xx answers, never a 5xx, and nothing recorded."""
from __future__ import annotations

from io import BytesIO

import pytest
from sqlalchemy import func, select

from core.audit import AuditEntry
from core.extensions import db
from signatures.models import Signature
from tests.helpers import resident
from tests.signatures.support import make_pdf, sign, verify


def _problem(response) -> str:
    return response.json["type"].rsplit("/", 1)[1]


def _nothing_recorded():
    assert db.session.scalar(select(func.count()).select_from(Signature)) == 0
    assert db.session.scalar(select(func.count()).select_from(AuditEntry).where(
        AuditEntry.action.in_(("document-signed", "document-sealed")))) == 0


@pytest.mark.parametrize("document, status, problem", [
    (b"GIF89a not a pdf at all", 422, "not-a-pdf"),
    (b"", 422, "not-a-pdf"),
    (make_pdf(password="secret"), 422, "encrypted-pdf"),
    (b"%PDF-1.7\n1 0 obj << /Type /Catalog >> garbage without xref\n%%EOF", 422, "broken-pdf"),
    (make_pdf()[:300], 422, "broken-pdf"),
])
def test_bad_documents_are_refused_for_signing_and_verifying(client, document, status, problem):
    signer = resident(client)
    response = sign(client, signer, document)
    assert response.status_code == status and _problem(response) == problem, response.json
    checked = verify(client, document)
    assert checked.status_code == status and _problem(checked) == problem, checked.json
    _nothing_recorded()


def test_over_10_mb_is_413(client):
    signer = resident(client)
    big = make_pdf() + b"%" + b"x" * (10 * 1024 * 1024)
    response = sign(client, signer, big)
    assert response.status_code == 413 and _problem(response) == "payload-too-large"
    assert verify(client, big).status_code == 413
    _nothing_recorded()


def test_without_a_step_up_nothing_is_signed(client):
    signer = resident(client)
    for password in (None, "", "not my password"):
        response = sign(client, signer, make_pdf(), password=password)
        assert response.status_code == 401 and _problem(response) == "reauthentication-required"
    no_totp = sign(client, signer, make_pdf(), password=None, otp="123456")
    assert no_totp.status_code == 401 and _problem(no_totp) == "reauthentication-required"
    _nothing_recorded()


def test_without_a_token_the_answer_is_401_before_the_body_is_read(client):
    response = client.post("/api/v1/me/signatures", data={"document": (BytesIO(b"x"), "a.pdf")},
                           content_type="multipart/form-data")
    assert response.status_code == 401
    assert client.get("/api/v1/me/signatures").status_code == 401
    _nothing_recorded()


def test_a_missing_document_is_a_validation_error(client):
    signer = resident(client)
    response = client.post("/api/v1/me/signatures", headers=signer["headers"],
                           data={"password": "x"}, content_type="multipart/form-data")
    assert response.status_code == 422 and "document" in response.json["errors"]


def test_a_pdf_without_signatures_verifies_to_none_and_truncated_signed_pdfs_never_5xx(client):
    signer = resident(client)
    assert verify(client, make_pdf()).json == {"signatures": []}
    signed = sign(client, signer, make_pdf()).data
    for cut in (len(signed) - 10, len(signed) // 2, len(signed) - 400):
        response = verify(client, signed[:cut])
        assert response.status_code in (200, 422), (cut, response.status_code)
        if response.status_code == 200:
            assert not any(s["intact"] for s in response.json["signatures"])
