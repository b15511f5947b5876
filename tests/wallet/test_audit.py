"""The tamper-evident record: what is in it, what is not, and that an edit is found."""
from __future__ import annotations

import json

from core.audit import AuditEntry
from core.extensions import db
from tests.codes.support import make_service_point, my_code, scan
from tests.helpers import resident
from tests.wallet.support import issued, make_issuer


def _verify(runner):
    result = runner.invoke(args=["audit", "verify"])
    return result.exit_code, json.loads(result.output.strip().splitlines()[-1])


def _history(client):
    holder = resident(client)
    issuer = make_issuer(client)
    body = issued(client, issuer, holder)
    hall = make_service_point(client)
    scan_id = scan(client, hall, my_code(client, holder)["code"]).json["scan_id"]
    request_id = client.post(f"/api/v1/scans/{scan_id}/requests", json={"types": ["resident-id"]},
                             headers=hall["headers"]).json["request_id"]
    consent = client.get("/api/v1/me/consents", headers=holder["headers"]).json[0]
    client.post(f"/api/v1/me/consents/{consent['id']}/approve", headers=holder["headers"])
    client.get(f"/api/v1/scans/{scan_id}/requests/{request_id}", headers=hall["headers"])
    client.post(f"/api/v1/issuer/credentials/{body['id']}/revoke", json={"reason": "lost"},
                headers=issuer["headers"])
    return holder


def test_the_chain_records_each_act_without_personal_data(client, runner):
    holder = _history(client)
    entries = db.session.query(AuditEntry).order_by(AuditEntry.seq).all()
    assert [e.action for e in entries][-6:] == ["issue", "scan", "request", "consent", "share", "revoke"]
    text = json.dumps([e.refs for e in entries], ensure_ascii=False)
    for personal in (holder["id_number"], holder["name"], holder["phone"], "lost"):
        assert personal not in text
    code, report = _verify(runner)
    assert code == 0 and report["ok"] and report["entries"] == len(entries)


def test_an_edited_row_is_found(client, runner):
    _history(client)
    entry = db.session.query(AuditEntry).filter_by(action="consent").one()
    entry.refs = {**entry.refs, "decision": "denied"}
    db.session.commit()
    code, report = _verify(runner)
    assert code == 1 and report["broken_at"] == entry.seq and "edited" in report["reason"]


def test_a_deleted_last_row_is_found(client, runner):
    _history(client)
    last = db.session.query(AuditEntry).order_by(AuditEntry.seq.desc()).first()
    db.session.delete(last)
    db.session.commit()
    code, report = _verify(runner)
    assert code == 1 and report["broken_at"] == last.seq


def test_a_rewritten_chain_does_not_link(client, runner):
    from core.audit import entry_hash

    _history(client)
    first = db.session.query(AuditEntry).order_by(AuditEntry.seq).first()
    first.refs = {"forged": True}
    first.hash = entry_hash(first.seq, first.at, first.action, first.refs, first.prev_hash)
    db.session.commit()
    code, report = _verify(runner)
    assert code == 1 and report["broken_at"] == first.seq + 1


def test_entries_left_unsealed_are_counted_then_sealed_by_the_command(client, runner):
    from core import audit

    _history(client)
    audit.record("issue", credential="c", issuer="i", type="resident-id", holder="h")
    db.session.commit()  # committed but not sealed, as when a worker stops in between
    code, report = _verify(runner)
    assert code == 0 and report["unsealed"] == 1
    sealed = runner.invoke(args=["audit", "seal"])
    assert json.loads(sealed.output.strip().splitlines()[-1]) == {"sealed": 1}
    code, report = _verify(runner)
    assert code == 0 and report["unsealed"] == 0
