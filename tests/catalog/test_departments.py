"""A department's system moving applications on: its work queue (its items, the bundles it
leads, never drafts), one application, and its answer, which the resident sees at once."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from core.audit import AuditEntry, verify_chain
from core.extensions import db
from tests.catalog.support import load_sample_catalogue, my_notices, problem_type
from tests.helpers import resident
from tests.wallet.support import issued, make_issuer, resident_id_claims

HR = "市人力资源和社会保障局"  # basic-pension-claim, so it leads the retirement bundle
POLICE = "市公安局"  # household-address-change, so it leads the moving-house bundle
CIVIL = "市民政局"  # senior-citizen-card, the last item of the retirement bundle
QUEUE = "/api/v1/issuer/applications"


def _apply(client, holder, submit=True, **what) -> dict:
    response = client.post("/api/v1/me/applications", json=what, headers=holder["headers"])
    assert response.status_code == 201, response.json
    if not submit:
        return response.json
    response = client.post(f"/api/v1/me/applications/{response.json['id']}/submit", json={},
                           headers=holder["headers"])
    assert response.status_code == 200, response.json
    return response.json


def _queue(client, department, **query) -> list:
    response = client.get(QUEUE, query_string=query, headers=department["headers"])
    assert response.status_code == 200, response.json
    return response.json


def _move(client, department, application_id, status, **body):
    return client.post(f"{QUEUE}/{application_id}/status", json={"status": status, **body},
                       headers=department["headers"])


def _moved(client, department, application_id, status, **body) -> dict:
    response = _move(client, department, application_id, status, **body)
    assert response.status_code == 200, response.json
    return response.json


def _mine(client, holder, application_id) -> dict:
    response = client.get(f"/api/v1/me/applications/{application_id}", headers=holder["headers"])
    assert response.status_code == 200, response.json
    return response.json


@pytest.fixture
def world(client, clock):
    """A resident with a resident ID, the three departments signed in, and the applications:
    hr's item, the retirement bundle (hr leads), moving house (police leads, hr is in it),
    civil affairs' item, each submitted a minute apart, and a draft of an hr item."""
    load_sample_catalogue()
    holder = resident(client, name="王建国")
    police = make_issuer(client, POLICE, ("resident-id", "household-register"))
    card = issued(client, police, holder, claims=resident_id_claims(holder, name="王建国"))
    hr = make_issuer(client, HR, ("social-security-card",))
    civil = make_issuer(client, CIVIL, ("resident-id",))
    applied = {}
    for key, what in (("pension", {"service_item": "basic-pension-claim"}),
                      ("retirement", {"bundle": "retirement"}),
                      ("moving", {"bundle": "moving-house"}),
                      ("senior", {"service_item": "senior-citizen-card"})):
        applied[key] = _apply(client, holder, **what)
        clock.shift(60)
    applied["draft"] = _apply(client, holder, submit=False, service_item="social-security-card-update")
    return {"holder": holder, "hr": hr, "police": police, "civil": civil, "card": card, **applied}


def test_the_queue_holds_my_items_and_the_bundles_i_lead_not_drafts_nor_other_departments(client, world):
    hr_queue = _queue(client, world["hr"])
    assert [a["id"] for a in hr_queue] == [world["pension"]["id"], world["retirement"]["id"]]  # oldest first
    # The lead department of a bundle is its first item's, not every department in it.
    assert [a["id"] for a in _queue(client, world["police"])] == [world["moving"]["id"]]
    assert [a["id"] for a in _queue(client, world["civil"])] == [world["senior"]["id"]]
    assert _queue(client, make_issuer(client, "市外事办公室", ("resident-id",))) == []  # no items: nothing

    pension = hr_queue[0]
    assert pension["status"] == "submitted" and pension["name"] == "城镇职工基本养老保险待遇申领"
    # What the resident sees of it, and the credentials shared at submission; nothing more.
    assert {k: v for k, v in pension.items() if k != "shared"} == _mine(client, world["holder"], pension["id"])
    assert pension["shared"] == [{"type": "resident-id", "credential_id": world["card"]["id"]}]
    assert pension["missing"] == ["social-security-card"]
    one = client.get(f"{QUEUE}/{pension['id']}", headers=world["hr"]["headers"])
    assert one.status_code == 200 and one.json == pension


def test_the_status_filter_and_the_limit(client, world):
    hr = world["hr"]
    _moved(client, hr, world["pension"]["id"], "accepted")
    assert [a["id"] for a in _queue(client, hr, status="submitted")] == [world["retirement"]["id"]]
    assert [a["id"] for a in _queue(client, hr, status="accepted")] == [world["pension"]["id"]]
    assert _queue(client, hr, status="completed") == [] and _queue(client, hr, status="rejected") == []
    assert [a["id"] for a in _queue(client, hr, limit=1)] == [world["pension"]["id"]]
    for query in ({"status": "draft"}, {"status": "nope"}, {"status": ""}, {"limit": 0}, {"limit": 201},
                  {"limit": "abc"}, {"limit": "1e3"}, {"status": "已提交"}):
        response = client.get(QUEUE, query_string=query, headers=hr["headers"])
        assert response.status_code == 422 and problem_type(response) == "validation-error", query


def test_accepted_then_completed_the_resident_sees_the_timeline_and_notices(client, world, clock):
    hr, holder, application_id = world["hr"], world["holder"], world["retirement"]["id"]
    clock.shift(60)
    accepted = _moved(client, hr, application_id, "accepted", note="材料齐全，已受理")
    assert accepted["status"] == "accepted" and accepted["timeline"][-1]["note"] == "材料齐全，已受理"
    clock.shift(60)
    completed = _moved(client, hr, application_id, "completed")
    assert completed == client.get(f"{QUEUE}/{application_id}", headers=hr["headers"]).json

    tracked = _mine(client, holder, application_id)
    assert [(e["status"], e["at"]) for e in tracked["timeline"]] == [
        ("draft", "2026-11-25T09:01:00Z"), ("submitted", "2026-11-25T09:01:00Z"),
        ("accepted", "2026-11-25T09:05:00Z"), ("completed", "2026-11-25T09:06:00Z")]
    assert tracked["timeline"][2]["note"] == "材料齐全，已受理" and "note" not in tracked["timeline"][3]
    texts = [n["text"] for n in my_notices(client, holder) if n["ref"] == application_id]
    assert texts == ["Your application for 退休一件事 is completed.",
                     "Your application for 退休一件事 was accepted.",
                     "Your application for 退休一件事 was submitted."]
    moves = [e.refs for e in db.session.query(AuditEntry).filter_by(action="application-status")]
    assert moves == [{"application": application_id, "status": "accepted", "issuer": hr["id"]},
                     {"application": application_id, "status": "completed", "issuer": hr["id"]}]


def test_rejected_with_a_note(client, world):
    application_id = world["moving"]["id"]
    rejected = _moved(client, world["police"], application_id, "rejected", note="新住址与房产证不符，请核对后重新申请")
    assert rejected["status"] == "rejected"
    last = _mine(client, world["holder"], application_id)["timeline"][-1]
    assert last["status"] == "rejected" and last["note"] == "新住址与房产证不符，请核对后重新申请"
    [notice] = [n for n in my_notices(client, world["holder"]) if n["text"].endswith("was rejected.")]
    assert notice["ref"] == application_id
    # A rejected application leaves the submitted queue for the rejected one.
    assert _queue(client, world["police"], status="submitted") == []
    assert [a["id"] for a in _queue(client, world["police"], status="rejected")] == [application_id]


def test_moves_the_lifecycle_does_not_allow(client, world):
    hr, holder = world["hr"], world["holder"]
    pension_id = world["pension"]["id"]
    refused = _move(client, hr, pension_id, "completed")  # not accepted yet
    assert refused.status_code == 409 and problem_type(refused) == "wrong-status"
    _moved(client, hr, pension_id, "accepted")
    _moved(client, hr, pension_id, "completed")
    for status in ("accepted", "rejected", "completed"):
        refused = _move(client, hr, pension_id, status)
        assert refused.status_code == 409 and problem_type(refused) == "wrong-status", status
    assert _mine(client, holder, pension_id)["status"] == "completed"
    retirement_id = world["retirement"]["id"]
    _moved(client, hr, retirement_id, "rejected")
    assert _move(client, hr, retirement_id, "accepted").status_code == 409

    # A draft is not shared with anyone yet: to the department it does not exist.
    draft_id = world["draft"]["id"]
    for status in ("accepted", "rejected", "completed"):
        response = _move(client, hr, draft_id, status)
        assert response.status_code == 404 and problem_type(response) == "not-found", status
    assert client.get(f"{QUEUE}/{draft_id}", headers=hr["headers"]).status_code == 404
    draft = _mine(client, holder, draft_id)
    assert draft["status"] == "draft" and len(draft["timeline"]) == 1
    assert not [n for n in my_notices(client, holder) if n["ref"] == draft_id]


def test_another_departments_application_is_not_found(client, world):
    hr, civil = world["hr"], world["civil"]
    # Civil affairs handles senior-citizen-card, but not the retirement bundle that ends with it.
    for department, application in ((civil, "retirement"), (civil, "pension"), (hr, "moving"),
                                    (hr, "senior"), (world["police"], "retirement")):
        application_id = world[application]["id"]
        assert client.get(f"{QUEUE}/{application_id}", headers=department["headers"]).status_code == 404
        response = _move(client, department, application_id, "accepted")
        assert response.status_code == 404 and problem_type(response) == "not-found"
        assert _mine(client, world["holder"], application_id)["status"] == "submitted"


def test_bad_bodies_and_ids_get_a_4xx_never_a_5xx(client, world):
    hr, application_id = world["hr"], world["pension"]["id"]
    path = f"{QUEUE}/{application_id}/status"
    for body in ({}, {"status": "submitted"}, {"status": "draft"}, {"status": "Accepted"}, {"status": 1},
                 {"status": None}, {"status": ["accepted"]}, {"status": {"x": 1}}, {"status": "accepted\x00"},
                 {"status": "accepted", "note": "x" * 501}, {"status": "accepted", "note": 7},
                 {"status": "accepted", "note": None}, {"status": "accepted", "note": "a\x00b"},
                 {"status": "accepted", "note": ["a"]}, {"status": "accepted", "reason": "x"},
                 [], "accepted", 1, None):
        response = client.post(path, json=body, headers=hr["headers"])
        assert response.status_code == 422 and problem_type(response) == "validation-error", (body, response.json)
    malformed = client.post(path, data="{", content_type="application/json", headers=hr["headers"])
    assert malformed.status_code == 400
    assert _mine(client, world["holder"], application_id)["status"] == "submitted"

    for bad_id in ("", "x" * 300, "x" * 10_000, "申请", "%00", "a%2Fb", "..", "0", "ZZZZZZZZZZZZZZZZZZZZZZ",
                   "'; DROP TABLE applications; --", "🙂" * 20):
        for response in (client.get(f"{QUEUE}/{bad_id}", headers=hr["headers"]),
                         client.post(f"{QUEUE}/{bad_id}/status", json={"status": "accepted"}, headers=hr["headers"])):
            assert 400 <= response.status_code < 500, (bad_id, response.status_code)
            if bad_id:
                assert response.status_code == 404, bad_id

    # At the limits: a note of exactly 500 characters, in any script, is taken as it is.
    note = ("材料齐全✓ " * 100)[:500]
    assert _moved(client, hr, application_id, "accepted", note=note)["timeline"][-1]["note"] == note


def test_only_an_active_issuer_may_use_these_routes(client, world):
    holder, application_id = world["holder"], world["pension"]["id"]
    for response in (client.get(QUEUE, headers=holder["headers"]),
                     client.get(f"{QUEUE}/{application_id}", headers=holder["headers"]),
                     client.post(f"{QUEUE}/{application_id}/status", json={"status": "accepted"},
                                 headers=holder["headers"])):
        assert response.status_code == 403 and problem_type(response) == "forbidden"
    assert client.get(QUEUE).status_code == 401
    assert client.post(f"{QUEUE}/{application_id}/status", json={"status": "accepted"}).status_code == 401
    assert _mine(client, holder, application_id)["status"] == "submitted"

    from wallet.models import Issuer

    db.session.get(Issuer, world["hr"]["id"]).active = False
    db.session.commit()
    # Its last token is still a well-signed token, but the department no longer answers through it.
    response = _move(client, world["hr"], application_id, "accepted")
    assert response.status_code == 401 and problem_type(response) == "client-disabled"
    assert client.get(QUEUE, headers=world["hr"]["headers"]).status_code == 401


def test_the_home_screen_shows_the_new_status_at_once(client, world, app, count_queries, monkeypatch):
    monkeypatch.setitem(app.config, "HOME_CACHE_SECONDS", 3600)
    holder, hr, application_id = world["holder"], world["hr"], world["pension"]["id"]

    def home():
        response = client.get("/api/v1/me/home", headers=holder["headers"])
        assert response.status_code == 200, response.json
        return response.json

    def status_on_home(body):
        return {a["id"]: a["status"] for a in body["applications"]}.get(application_id)

    first = home()
    with count_queries() as queries:
        assert home() == first  # served from the cache
    assert queries.n == 0, queries.statements
    assert status_on_home(first) == "submitted"

    _moved(client, hr, application_id, "accepted")
    accepted = home()
    assert status_on_home(accepted) == "accepted"
    assert accepted["unread_notices"] == first["unread_notices"] + 1
    assert accepted["notices"][0]["text"] == "Your application for 城镇职工基本养老保险待遇申领 was accepted."
    _moved(client, hr, application_id, "completed")
    assert status_on_home(home()) is None  # no longer in progress


def test_the_operator_command_moves_any_application_without_a_department(client, world, runner):
    application_id = world["senior"]["id"]
    result = runner.invoke(args=["catalog", "application-status", application_id, "accepted", "--note", "现场核验"])
    assert result.exit_code == 0, result.output
    assert client.get(f"{QUEUE}/{application_id}", headers=world["civil"]["headers"]).json["status"] == "accepted"
    assert _mine(client, world["holder"], application_id)["timeline"][-1]["note"] == "现场核验"
    refused = runner.invoke(args=["catalog", "application-status", world["draft"]["id"], "accepted"])
    assert refused.exit_code != 0 and "cannot become accepted" in refused.output
    [entry] = db.session.query(AuditEntry).filter_by(action="application-status").all()
    assert entry.refs == {"application": application_id, "status": "accepted"}
    report = verify_chain()
    assert report.ok and report.unsealed == 0, report  # the command sealed its entry


def test_of_racing_answers_exactly_one_lands(committing_app):
    app = committing_app
    client = app.test_client()
    load_sample_catalogue()
    holder = resident(client)
    hr = make_issuer(client, HR, ("social-security-card",))
    application_id = _apply(client, holder, service_item="basic-pension-claim")["id"]
    db.session.remove()  # end this thread's transaction (on SQLite it holds the write lock)

    def accept(_n):
        return _move(app.test_client(), hr, application_id, "accepted").status_code

    with ThreadPoolExecutor(max_workers=6) as pool:
        codes = sorted(pool.map(accept, range(6)))
    assert codes == [200] + [409] * 5
    timeline = _mine(client, holder, application_id)["timeline"]
    assert [e["status"] for e in timeline] == ["draft", "submitted", "accepted"]
    assert len([n for n in my_notices(client, holder) if n["text"].endswith("was accepted.")]) == 1
    db.session.remove()  # the reads above ran in this thread's session: start a fresh one
    assert verify_chain().ok
    assert db.session.query(AuditEntry).filter_by(action="application-status").count() == 1
