"""Applications: one form pre-filled from the wallet, missing types, submit, the timeline."""
from __future__ import annotations

import pytest

from tests.catalog.support import load_sample_catalogue, my_notices, problem_type
from tests.codes.support import make_service_point, my_code, scan
from tests.helpers import resident
from tests.wallet.support import issued, make_issuer, resident_id_claims


@pytest.fixture
def catalogue(app):
    load_sample_catalogue()


@pytest.fixture
def holder(client, catalogue, clock):
    person = resident(client, name="王建国")
    police = make_issuer(client, "市公安局", ("resident-id", "household-register"))
    issued(client, police, person, claims=resident_id_claims(person, name="王建国", birthdate="1966-03-12"))
    issued(client, police, person, "household-register", {
        "name": "王建国", "id_number": person["id_number"], "household_head": "王建国",
        "relation_to_head": "本人", "address": "北京市西城区西长安街1号"})
    return person


def _apply(client, holder, **body):
    return client.post("/api/v1/me/applications", json=body, headers=holder["headers"])


def test_one_form_for_a_bundle_prefilled_from_the_wallet(client, holder, clock):
    response = _apply(client, holder, bundle="retirement")
    assert response.status_code == 201, response.json
    body = response.json
    assert body["status"] == "draft" and body["bundle"] == "retirement" and body["name"] == "退休一件事"
    # One field each, however many items ask for it; filled from the valid credentials.
    assert body["form"]["name"] == "王建国"
    assert body["form"]["id_number"] == holder["id_number"]
    assert body["form"]["birthdate"] == "1966-03-12"
    assert body["form"]["address"] == "北京市西城区西长安街1号"
    assert body["form"]["card_number"] is None and body["form"]["bank_account"] is None
    assert body["missing"] == ["social-security-card", "medical-insurance-card"]
    assert body["timeline"] == [{"status": "draft", "at": "2026-11-25T09:00:00Z"}]


def test_an_item_and_the_wrong_bodies(client, holder):
    item = _apply(client, holder, service_item="senior-citizen-card")
    assert item.status_code == 201 and item.json["missing"] == [] and item.json["service_item"] == "senior-citizen-card"
    for body, status in (({"service_item": "no-such"}, 404), ({"bundle": "no-such"}, 404),
                         ({}, 422), ({"service_item": "a", "bundle": "b"}, 422),
                         ({"service_item": 7}, 422), ({"service_item": "x" * 65}, 422),
                         ({"service_item": "a\x00"}, 422)):
        response = _apply(client, holder, **body)
        assert response.status_code == status, (body, response.json)
    assert client.post("/api/v1/me/applications", data="{", content_type="application/json",
                       headers=holder["headers"]).status_code == 400
    assert client.post("/api/v1/me/applications", json={"bundle": "birth"}).status_code == 401


def test_submit_moves_it_along_the_timeline_with_a_notice_at_each_change(client, holder, clock, runner):
    draft = _apply(client, holder, service_item="senior-citizen-card").json
    clock.shift(60)
    submitted = client.post(f"/api/v1/me/applications/{draft['id']}/submit", json={},
                            headers=holder["headers"])
    assert submitted.status_code == 200, submitted.json
    assert submitted.json["status"] == "submitted"
    assert [e["status"] for e in submitted.json["timeline"]] == ["draft", "submitted"]
    assert submitted.json["timeline"][1]["at"] == "2026-11-25T09:01:00Z"
    again = client.post(f"/api/v1/me/applications/{draft['id']}/submit", json={}, headers=holder["headers"])
    assert again.status_code == 409 and problem_type(again) == "wrong-status"

    clock.shift(120)
    result = runner.invoke(args=["catalog", "application-status", draft["id"], "accepted", "--note", "材料齐全"])
    assert result.exit_code == 0, result.output
    clock.shift(120)
    result = runner.invoke(args=["catalog", "application-status", draft["id"], "completed"])
    assert result.exit_code == 0, result.output
    refused = runner.invoke(args=["catalog", "application-status", draft["id"], "rejected"])
    assert refused.exit_code != 0 and "cannot become rejected" in refused.output

    tracked = client.get(f"/api/v1/me/applications/{draft['id']}", headers=holder["headers"]).json
    assert [e["status"] for e in tracked["timeline"]] == ["draft", "submitted", "accepted", "completed"]
    assert tracked["timeline"][2]["note"] == "材料齐全"
    notices = my_notices(client, holder)
    assert [n["text"] for n in notices] == [
        "Your application for 老年人优待证办理 is completed.",
        "Your application for 老年人优待证办理 was accepted.",
        "Your application for 老年人优待证办理 was submitted."]
    assert {n["ref"] for n in notices} == {draft["id"]} and {n["kind"] for n in notices} == {"application"}


def test_submit_keeps_what_the_holder_typed_for_unfilled_fields(client, holder):
    draft = _apply(client, holder, bundle="retirement").json
    bad = client.post(f"/api/v1/me/applications/{draft['id']}/submit",
                      json={"form": {"no_such_field": "x"}}, headers=holder["headers"])
    assert bad.status_code == 422 and "form" in bad.json["errors"]
    odd = client.post(f"/api/v1/me/applications/{draft['id']}/submit",
                      json={"form": {"bank_account": {"nested": 1}}}, headers=holder["headers"])
    assert odd.status_code == 422
    done = client.post(f"/api/v1/me/applications/{draft['id']}/submit",
                       json={"form": {"bank_account": "6222 0000 1111", "name": "冒名"}},
                       headers=holder["headers"])
    assert done.status_code == 200, done.json
    assert done.json["form"]["bank_account"] == "6222 0000 1111"
    assert done.json["form"]["name"] == "王建国"  # a credential's value is not overwritten


def test_the_list_and_someone_elses_application(client, holder):
    first = _apply(client, holder, service_item="senior-citizen-card").json
    second = _apply(client, holder, bundle="retirement").json
    listed = client.get("/api/v1/me/applications", headers=holder["headers"]).json
    assert {a["id"] for a in listed} == {first["id"], second["id"]}
    other = resident(client)
    for path in (f"/api/v1/me/applications/{first['id']}", "/api/v1/me/applications/%00",
                 "/api/v1/me/applications/" + "x" * 300):
        assert client.get(path, headers=other["headers"]).status_code == 404
    assert client.post(f"/api/v1/me/applications/{first['id']}/submit", json={},
                       headers=other["headers"]).status_code == 404
    assert client.get("/api/v1/me/applications", headers=other["headers"]).json == []


def test_a_service_point_asks_for_an_items_materials_by_its_code(client, holder):
    hall = make_service_point(client, "市民服务中心")
    scan_id = scan(client, hall, my_code(client, holder)["code"]).json["scan_id"]
    asked = client.post(f"/api/v1/scans/{scan_id}/requests", json={"service_item": "basic-pension-claim"},
                        headers=hall["headers"])
    assert asked.status_code == 201, asked.json
    assert asked.json["types"] == ["resident-id", "social-security-card"]
    assert asked.json["missing"] == ["social-security-card"]
    unknown = client.post(f"/api/v1/scans/{scan_id}/requests", json={"service_item": "nope"},
                          headers=hall["headers"])
    assert unknown.status_code == 404
