"""Answers racing each other, with real commits from several threads."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from core.audit import AuditEntry, verify_chain
from core.extensions import db
from tests.codes.support import make_service_point, my_code, scan
from tests.helpers import resident
from tests.wallet.support import issued, make_issuer


def _asked(client, issuer, hall):
    holder = resident(client)
    issued(client, issuer, holder)
    scan_id = scan(client, hall, my_code(client, holder)["code"]).json["scan_id"]
    request_id = client.post(f"/api/v1/scans/{scan_id}/requests", json={"types": ["resident-id"]},
                             headers=hall["headers"]).json["request_id"]
    consent_id = client.get("/api/v1/me/consents", headers=holder["headers"]).json[0]["id"]
    return holder, scan_id, request_id, consent_id


def test_of_racing_answers_exactly_one_lands_and_the_chain_stays_one(committing_app):
    app = committing_app
    client = app.test_client()
    issuer, hall = make_issuer(client), make_service_point(client)
    holder, scan_id, request_id, consent_id = _asked(client, issuer, hall)
    others = [_asked(client, issuer, hall) for _ in range(4)]

    def answer(n):
        verb = "approve" if n % 2 == 0 else "deny"
        return app.test_client().post(f"/api/v1/me/consents/{consent_id}/{verb}",
                                      headers=holder["headers"]).status_code

    def approve_other(item):
        other, _scan, _request, other_consent = item
        return app.test_client().post(f"/api/v1/me/consents/{other_consent}/approve",
                                      headers=other["headers"]).status_code

    # The set-up requests ran in this thread's app context, whose session is still open
    # (on SQLite, holding the write lock): end it before the threads start.
    db.session.remove()
    with ThreadPoolExecutor(max_workers=8) as pool:
        racing = pool.map(answer, range(8))
        parallel = pool.map(approve_other, others)
        codes, other_codes = sorted(racing), list(parallel)
    assert codes.count(204) == 1 and codes.count(409) == 7
    assert other_codes == [204] * 4
    state = client.get(f"/api/v1/scans/{scan_id}/requests/{request_id}", headers=hall["headers"]).json
    assert state["status"] in ("approved", "denied")

    with app.app_context():
        report = verify_chain()
        assert report.ok, report.reason
        assert report.unsealed == 0 and report.entries == db.session.query(AuditEntry).count()
        consents = [e for e in db.session.query(AuditEntry).filter_by(action="consent")
                    if e.refs["request"] == request_id]
        assert len(consents) == 1 and consents[0].refs["decision"] == state["status"]
        assert len(db.session.query(AuditEntry).filter_by(action="consent").all()) == 5


def test_concurrent_issuers_append_to_one_chain(committing_app):
    app = committing_app
    client = app.test_client()
    issuers = [make_issuer(client, name=f"公安局{n}") for n in range(4)]
    holders = [resident(client) for _ in range(4)]
    db.session.remove()

    def issue_some(n):
        worker = app.test_client()
        return [worker.post("/api/v1/issuer/credentials", headers=issuers[n % 4]["headers"], json={
            "type": "resident-id", "holder": {"id_number": holders[k % 4]["id_number"]},
            "claims": {"name": "张三丰", "id_number": holders[k % 4]["id_number"], "birthdate": "1990-03-07",
                       "sex": "male", "address": "北京", "valid_until": "2036-03-07"}}).status_code
                for k in range(5)]

    with ThreadPoolExecutor(max_workers=8) as pool:
        codes = [c for batch in pool.map(issue_some, range(8)) for c in batch]
    assert codes == [201] * 40
    with app.app_context():
        report = verify_chain()
        assert report.ok and report.unsealed == 0
        issues = db.session.query(AuditEntry).filter_by(action="issue").count()
        assert issues == 40 and report.entries == db.session.query(AuditEntry).count()
        assert [e.seq for e in db.session.query(AuditEntry).order_by(AuditEntry.seq)] == \
            list(range(1, report.entries + 1))


def test_first_credentials_of_a_new_holder_at_once_share_one_holder_key(committing_app):
    from tests.helpers import registration_data
    from tests.wallet.support import jwt_payload

    app = committing_app
    client = app.test_client()
    issuer = make_issuer(client)
    data = registration_data()
    db.session.remove()

    def issue_one(_):
        response = app.test_client().post("/api/v1/issuer/credentials", headers=issuer["headers"], json={
            "type": "resident-id", "holder": {"id_number": data["id_number"]},
            "claims": {"name": data["name"], "id_number": data["id_number"], "birthdate": "1990-03-07",
                       "sex": "male", "address": "北京", "valid_until": "2036-03-07"}})
        assert response.status_code == 201, response.json
        return response.json

    with ThreadPoolExecutor(max_workers=6) as pool:
        bodies = list(pool.map(issue_one, range(6)))
    assert len({str(jwt_payload(b["credential"])["cnf"]) for b in bodies}) == 1
    # Registered later, the holder presents each of them with the one key the platform kept.
    person = resident(client, **data)
    for body in bodies:
        shown = client.post(f"/api/v1/me/wallet/{body['id']}/presentations",
                            json={"claims": ["name"], "audience": "x"}, headers=person["headers"])
        result = client.post("/api/v1/credentials/verify",
                             json={"credential": shown.json["presentation"], "audience": "x"}).json
        assert result["valid"], result
