"""Family proxies: invite, accept (a minor's guardian for them), the limit of five, ending,
showing the other person's code, answering their consents; 403 `not-a-proxy` for others."""
from __future__ import annotations

import itertools

import pytest

from tests.codes.support import make_service_point, my_code, problem_type, scan
from tests.helpers import resident, valid_id_number
from tests.wallet.support import issued, make_issuer

_children = itertools.count(1)


def _invite(client, inviter, invited, relation="child"):
    return client.post("/api/v1/me/proxies", json={"id_number": invited["id_number"], "relation": relation},
                       headers=inviter["headers"])


def _accept(client, person, proxy_id):
    return client.post(f"/api/v1/me/proxies/{proxy_id}/accept", headers=person["headers"])


def _active(client, inviter, invited, relation="child") -> str:
    response = _invite(client, inviter, invited, relation)
    assert response.status_code == 201, response.json
    assert _accept(client, invited, response.json["id"]).status_code == 200
    return response.json["id"]


def _listed(client, person) -> list:
    return client.get("/api/v1/me/proxies", headers=person["headers"]).json


def _child(client, name="张小明"):
    return resident(client, name=name, id_number=valid_id_number(next(_children), "20150601"))


def test_invite_and_accept_are_seen_on_both_sides_with_one_id(client):
    daughter, father = resident(client, name="张丽"), resident(client, name="张大山")
    invited = _invite(client, daughter, father, "parent")
    assert invited.status_code == 201, invited.json
    assert invited.json["status"] == "invited" and invited.json["id"]
    proxy_id = invited.json["id"]
    [mine], [theirs] = _listed(client, daughter), _listed(client, father)
    assert mine["id"] == theirs["id"] == proxy_id
    assert mine["role"] == "proxy" and theirs["role"] == "principal"
    assert mine["other"]["display_name"] == "张**" and theirs["other"]["display_name"] == "张*"
    assert mine["other"]["id_number"] != father["id_number"]
    accepted = _accept(client, father, proxy_id)
    assert accepted.status_code == 200 and accepted.json["status"] == "active"
    assert _listed(client, daughter)[0]["status"] == "active"
    again = _accept(client, father, proxy_id)
    assert again.status_code == 409 and problem_type(again) == "not-invited"


def test_only_the_invited_adult_accepts(client):
    inviter, invited, stranger = resident(client), resident(client), resident(client)
    proxy_id = _invite(client, inviter, invited).json["id"]
    for person in (inviter, stranger):
        response = _accept(client, person, proxy_id)
        assert response.status_code == 403 and problem_type(response) == "not-a-proxy"
    assert _accept(client, invited, "no-such-proxy").status_code == 404


def test_the_proxy_shows_the_other_persons_code_and_the_scan_names_both(client):
    son, mother = resident(client, name="王小二"), resident(client, name="李秀英")
    proxy_id = _active(client, son, mother, "parent")
    response = client.get(f"/api/v1/me/proxies/{proxy_id}/code", headers=son["headers"])
    assert response.status_code == 200, response.json
    code = response.json["code"]
    assert code != my_code(client, mother)["code"]
    scanned = scan(client, make_service_point(client, "社区医院"), code)
    assert scanned.status_code == 201, scanned.json
    subject = scanned.json["subject"]
    assert subject["kind"] == "person" and subject["display_name"] == "李**"
    assert subject["shown_by"] == {"display_name": "王**", "assurance_level": 1, "relation": "parent"}
    # The principal's own scans list it: it was their code.
    assert [s["scan_id"] for s in client.get("/api/v1/me/scans", headers=mother["headers"]).json] == [
        scanned.json["scan_id"]]
    # Both see it in the relation's record; nobody else does.
    for person in (son, mother):
        record = client.get(f"/api/v1/me/proxies/{proxy_id}", headers=person["headers"])
        assert record.status_code == 200 and record.json["id"] == proxy_id
        assert [(s["scan_id"], s["service_point"]["name"]) for s in record.json["scans"]] == [
            (scanned.json["scan_id"], "社区医院")]
    record = client.get(f"/api/v1/me/proxies/{proxy_id}", headers=resident(client)["headers"])
    assert record.status_code == 403 and problem_type(record) == "not-a-proxy"


def test_nobody_else_shows_the_code(client):
    son, mother, stranger = resident(client), resident(client), resident(client)
    invited_only = _invite(client, son, mother).json["id"]
    response = client.get(f"/api/v1/me/proxies/{invited_only}/code", headers=son["headers"])
    assert response.status_code == 403 and problem_type(response) == "not-a-proxy"
    _accept(client, mother, invited_only)
    for person in (mother, stranger):
        response = client.get(f"/api/v1/me/proxies/{invited_only}/code", headers=person["headers"])
        assert response.status_code == 403 and problem_type(response) == "not-a-proxy"
    response = client.delete(f"/api/v1/me/proxies/{invited_only}", headers=stranger["headers"])
    assert response.status_code == 403 and problem_type(response) == "not-a-proxy"


@pytest.mark.parametrize("side", ["proxy", "principal"])
def test_either_side_ends_it_and_a_shown_code_stops_working(client, side):
    son, mother = resident(client), resident(client)
    proxy_id = _active(client, son, mother)
    code = client.get(f"/api/v1/me/proxies/{proxy_id}/code", headers=son["headers"]).json["code"]
    ender = son if side == "proxy" else mother
    assert client.delete(f"/api/v1/me/proxies/{proxy_id}", headers=ender["headers"]).status_code == 204
    assert client.delete(f"/api/v1/me/proxies/{proxy_id}", headers=ender["headers"]).status_code == 204
    response = client.get(f"/api/v1/me/proxies/{proxy_id}/code", headers=son["headers"])
    assert response.status_code == 403 and problem_type(response) == "not-a-proxy"
    response = scan(client, make_service_point(client), code)
    assert response.status_code == 422 and problem_type(response) == "invalid-code"
    assert _listed(client, mother)[0]["status"] == _listed(client, son)[0]["status"] == "ended"


def test_at_most_five_each_way(client):
    helper = resident(client)
    principals = [resident(client) for _ in range(6)]
    for person in principals[:5]:
        assert _invite(client, helper, person).status_code == 201
    sixth = _invite(client, helper, principals[5])
    assert sixth.status_code == 409 and problem_type(sixth) == "too-many-proxies"

    elder = resident(client)
    helpers = [resident(client) for _ in range(6)]
    for person in helpers[:5]:
        assert _invite(client, person, elder).status_code == 201
    sixth = _invite(client, helpers[5], elder)
    assert sixth.status_code == 409 and problem_type(sixth) == "too-many-proxies"
    # Ending one frees a place.
    first = next(p for p in _listed(client, elder) if p["status"] == "invited")
    assert client.delete(f"/api/v1/me/proxies/{first['id']}", headers=elder["headers"]).status_code == 204
    assert _invite(client, helpers[5], elder).status_code == 201


def test_inviting_twice_or_oneself_is_refused(client):
    son, mother = resident(client), resident(client)
    assert _invite(client, son, mother).status_code == 201
    again = _invite(client, son, mother)
    assert again.status_code == 409 and problem_type(again) == "already-invited"
    myself = _invite(client, son, son)
    assert myself.status_code == 422


@pytest.mark.parametrize("body", [
    {}, {"id_number": "110101199003070000", "relation": "child"}, {"id_number": 1, "relation": "child"},
    {"id_number": "x", "relation": "boss"}, {"id_number": "\x00", "relation": "child"},
    {"id_number": valid_id_number(998, "19600101"), "relation": "child"}, [], "x",
])
def test_bad_invitations_are_4xx(client, body):
    response = client.post("/api/v1/me/proxies", json=body, headers=resident(client)["headers"])
    assert 400 <= response.status_code < 500, response.json


@pytest.mark.parametrize("bad", ["nope", "a" * 40, "%00", "x y"])
def test_odd_ids_are_404(client, bad):
    person = resident(client)
    for method, path in (("post", f"/{bad}/accept"), ("delete", f"/{bad}"), ("get", f"/{bad}/code"),
                         ("get", f"/{bad}")):
        response = getattr(client, method)(f"/api/v1/me/proxies{path}", headers=person["headers"])
        assert response.status_code in (404, 405), (method, path, response.status_code)


# Minors --------------------------------------------------------------------------------


def _birth_certificate(client, mother, child, father_id_number=None):
    health = make_issuer(client, "卫生健康委员会", ("birth-certificate",))
    claims = {"child_name": child["name"], "child_id_number": child["id_number"], "birthdate": "2015-06-01",
              "mother_id_number": mother["id_number"],
              "father_id_number": father_id_number or valid_id_number(997, "19800101")}
    return issued(client, health, mother, "birth-certificate", claims)


def test_a_minor_cannot_accept_and_a_parent_proven_by_a_birth_certificate_does(client):
    mother, child = resident(client, name="李秀英"), _child(client)
    proxy_id = _invite(client, mother, child).json["id"]
    response = _accept(client, child, proxy_id)
    assert response.status_code == 403 and problem_type(response) == "guardian-required"
    response = _accept(client, mother, proxy_id)
    assert response.status_code == 403 and problem_type(response) == "not-a-proxy"
    _birth_certificate(client, mother, child)
    accepted = _accept(client, mother, proxy_id)
    assert accepted.status_code == 200 and accepted.json["accepted_by_guardian"] is True
    assert client.get(f"/api/v1/me/proxies/{proxy_id}/code", headers=mother["headers"]).status_code == 200


def test_a_revoked_birth_certificate_proves_nothing(client):
    mother, child = resident(client), _child(client)
    proxy_id = _invite(client, mother, child).json["id"]
    health = make_issuer(client, "卫生健康委员会", ("birth-certificate",))
    claims = {"child_name": child["name"], "child_id_number": child["id_number"], "birthdate": "2015-06-01",
              "mother_id_number": mother["id_number"], "father_id_number": valid_id_number(997, "19800101")}
    credential = issued(client, health, mother, "birth-certificate", claims)
    client.post(f"/api/v1/issuer/credentials/{credential['id']}/revoke", json={"reason": "错误"},
                headers=health["headers"])
    assert _accept(client, mother, proxy_id).status_code == 403


def test_a_birth_certificate_of_another_child_proves_nothing(client):
    mother, child, other = resident(client), _child(client), _child(client, "王小红")
    proxy_id = _invite(client, mother, child).json["id"]
    _birth_certificate(client, mother, other)
    assert _accept(client, mother, proxy_id).status_code == 403


def test_a_household_head_of_the_same_household_accepts_for_the_child(client):
    grandfather, aunt, child = resident(client, name="张大山"), resident(client), _child(client)
    police = make_issuer(client)
    address = "北京市东城区东华门街道1号"
    issued(client, police, grandfather, "household-register", {
        "name": "张大山", "id_number": grandfather["id_number"], "household_head": "张大山",
        "relation_to_head": "户主", "address": address})
    issued(client, police, child, "household-register", {
        "name": child["name"], "id_number": child["id_number"], "household_head": "张大山",
        "relation_to_head": "孙子", "address": address})
    proxy_id = _invite(client, aunt, child, "other").json["id"]
    assert _accept(client, aunt, proxy_id).status_code == 403
    accepted = _accept(client, grandfather, proxy_id)
    assert accepted.status_code == 200, accepted.json
    assert _listed(client, aunt)[0]["status"] == "active"


def test_an_adult_accepts_for_themself_even_with_a_parent_around(client, clock):
    mother, son = resident(client), resident(client)  # born 1980 or so: an adult
    proxy_id = _invite(client, mother, son).json["id"]
    assert _accept(client, son, proxy_id).status_code == 200


# Consents ------------------------------------------------------------------------------


def test_the_proxy_answers_the_other_persons_consent_requests(client):
    son, mother, stranger = resident(client), resident(client, name="李秀英"), resident(client)
    proxy_id = _active(client, son, mother, "parent")
    hall = make_service_point(client)
    code = client.get(f"/api/v1/me/proxies/{proxy_id}/code", headers=son["headers"]).json["code"]
    scan_id = scan(client, hall, code).json["scan_id"]
    asked = client.post(f"/api/v1/scans/{scan_id}/requests", json={"types": ["resident-id"]},
                        headers=hall["headers"])
    assert asked.status_code == 201
    [seen_by_son] = client.get("/api/v1/me/consents?status=pending", headers=son["headers"]).json
    [seen_by_mother] = client.get("/api/v1/me/consents?status=pending", headers=mother["headers"]).json
    assert seen_by_son["id"] == seen_by_mother["id"]
    assert seen_by_son["on_behalf_of"] == {"kind": "person", "display_name": "李**"}
    assert "on_behalf_of" not in seen_by_mother
    assert client.get("/api/v1/me/consents?status=pending", headers=stranger["headers"]).json == []
    assert client.post(f"/api/v1/me/consents/{seen_by_son['id']}/approve",
                       headers=stranger["headers"]).status_code == 404
    assert client.post(f"/api/v1/me/consents/{seen_by_son['id']}/approve",
                       headers=son["headers"]).status_code == 204
    # Ended: the son no longer sees the mother's requests.
    client.delete(f"/api/v1/me/proxies/{proxy_id}", headers=mother["headers"])
    scan_id = scan(client, hall, my_code(client, mother)["code"]).json["scan_id"]
    client.post(f"/api/v1/scans/{scan_id}/requests", json={"types": ["resident-id"]}, headers=hall["headers"])
    assert client.get("/api/v1/me/consents?status=pending", headers=son["headers"]).json == []


def test_every_act_is_in_both_peoples_records(client):
    from sqlalchemy import select

    from core.audit import AuditEntry
    from core.extensions import db

    son, mother = resident(client), resident(client)
    proxy_id = _active(client, son, mother)
    client.delete(f"/api/v1/me/proxies/{proxy_id}", headers=son["headers"])
    entries = [e for e in db.session.scalars(select(AuditEntry).order_by(AuditEntry.id))
               if e.refs.get("proxy") == proxy_id]
    assert [e.action for e in entries] == ["proxy-invite", "proxy-accept", "proxy-end"]
    assert all({e.refs["person"], e.refs["principal"]} == {son["profile"]["id"], mother["profile"]["id"]}
               for e in entries)
