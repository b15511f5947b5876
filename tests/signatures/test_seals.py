"""An enterprise seals a PDF: the legal representative, or a member with the `seal` scope."""
from __future__ import annotations

from sqlalchemy import func, select

from core.audit import AuditEntry
from core.extensions import db
from tests.enterprises.support import member_id, verified_enterprise
from tests.helpers import resident
from tests.signatures.support import (
    make_pdf,
    outside_verdicts,
    published_root,
    seal,
    verify,
)


def _problem(response) -> str:
    return response.json["type"].rsplit("/", 1)[1]


def test_the_legal_representative_seals_and_the_certificate_names_the_enterprise(client):
    boss = resident(client)
    enterprise = verified_enterprise(client, boss)
    response = seal(client, boss, enterprise["id"], make_pdf(), reason="合同盖章")
    assert response.status_code == 201, response.get_data()
    assert response.mimetype == "application/pdf" and response.headers["X-Signature-Id"]

    [outside] = outside_verdicts(response.data, published_root(client))
    assert outside["intact"] and outside["trusted"]
    assert outside["subject"]["organization_name"] == "北京一码科技有限公司"
    assert outside["subject"]["organization_identifier"] == f"NTRCN-{enterprise['uscc']}"
    assert boss["name"] not in str(outside["subject"])

    [ours] = verify(client, response.data).json["signatures"]
    assert ours["kind"] == "enterprise" and ours["signer"] == "北京一码科技有限公司"
    assert ours["intact"] and ours["trusted"] and ours["evidence"]
    [mine] = client.get("/api/v1/me/signatures", headers=boss["headers"]).json
    assert mine["kind"] == "enterprise" and mine["enterprise_id"] == enterprise["id"]
    [entry] = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "document-sealed"))
    assert entry.refs["enterprise"] == enterprise["id"]
    assert entry.refs["signer"] == boss["profile"]["id"]


def test_a_member_with_the_seal_scope_seals_and_one_without_gets_scope_missing(client):
    boss, clerk, intern, stranger = (resident(client) for _ in range(4))
    enterprise = verified_enterprise(client, boss)
    member_id(client, boss, enterprise["id"], clerk, scopes=["seal"])
    member_id(client, boss, enterprise["id"], intern, scopes=["show-code"])
    assert seal(client, clerk, enterprise["id"], make_pdf()).status_code == 201

    refused = seal(client, intern, enterprise["id"], make_pdf())
    assert refused.status_code == 403 and _problem(refused) == "scope-missing"
    assert seal(client, stranger, enterprise["id"], make_pdf()).status_code == 404
    assert client.get("/api/v1/me/signatures", headers=intern["headers"]).json == []
    assert db.session.scalar(select(func.count()).select_from(AuditEntry)
                             .where(AuditEntry.action == "document-sealed")) == 1


def test_the_seal_scope_can_be_granted_and_the_legal_representative_holds_it(client):
    boss = resident(client)
    enterprise = verified_enterprise(client, boss)
    seen = client.get(f"/api/v1/enterprises/{enterprise['id']}", headers=boss["headers"]).json
    assert "seal" in seen["scopes"]


def test_sealing_needs_a_step_up(client):
    boss = resident(client)
    enterprise = verified_enterprise(client, boss)
    for password in (None, "wrong password entirely"):
        response = seal(client, boss, enterprise["id"], make_pdf(), password=password)
        assert response.status_code == 401 and _problem(response) == "reauthentication-required"
    assert client.get("/api/v1/me/signatures", headers=boss["headers"]).json == []
