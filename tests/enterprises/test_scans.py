"""Scanning an enterprise's code: the enterprise is the subject, the member who showed it is
named; material requests go to members with `consent` and read the enterprise's wallet."""
from __future__ import annotations

from codes.format import ENTERPRISE, parse_code
from tests.codes.support import make_service_point, problem_type, scan
from tests.enterprises.support import member_id, verified_enterprise
from tests.helpers import resident


def _code(client, person, enterprise_id):
    response = client.get(f"/api/v1/enterprises/{enterprise_id}/code", headers=person["headers"])
    assert response.status_code == 200, response.json
    return response.json["code"]


def test_a_scan_answers_the_enterprise_and_names_the_member(client):
    boss, clerk = resident(client), resident(client, name="李四")
    enterprise = verified_enterprise(client, boss)
    member_id(client, boss, enterprise["id"], clerk, scopes=["show-code"])
    code = _code(client, clerk, enterprise["id"])
    assert code.startswith("OC1:")
    from codes import keys

    claims, _ = keys.verify_signature(parse_code(code))
    assert claims.kind == ENTERPRISE and len(claims.sub) <= 12
    hall = make_service_point(client, "税务大厅")
    response = scan(client, hall, code)
    assert response.status_code == 201, response.json
    subject = response.json["subject"]
    assert subject["kind"] == "enterprise" and subject["display_name"] == "北京一码科技有限公司"
    assert subject["shown_by"]["display_name"] == "李*" and subject["shown_by"]["role"] == "staff"
    again = scan(client, hall, code)
    assert again.status_code == 409 and problem_type(again) == "code-already-used"
    # After the scan the member gets a new code at once.
    assert _code(client, clerk, enterprise["id"]) != code


def test_two_members_get_codes_of_their_own(client):
    boss, clerk = resident(client, name="王五"), resident(client, name="李四")
    enterprise = verified_enterprise(client, boss)
    member_id(client, boss, enterprise["id"], clerk, scopes=["show-code"])
    mine, theirs = _code(client, boss, enterprise["id"]), _code(client, clerk, enterprise["id"])
    assert mine != theirs
    hall = make_service_point(client)
    assert scan(client, hall, mine).json["subject"]["shown_by"]["display_name"] == "王*"
    assert scan(client, hall, theirs).json["subject"]["shown_by"]["display_name"] == "李*"


def test_a_code_of_a_member_revoked_since_is_invalid(client):
    boss, clerk = resident(client), resident(client)
    enterprise = verified_enterprise(client, boss)
    mid = member_id(client, boss, enterprise["id"], clerk, scopes=["show-code"])
    code = _code(client, clerk, enterprise["id"])
    client.delete(f"/api/v1/enterprises/{enterprise['id']}/members/{mid}", headers=boss["headers"])
    response = scan(client, make_service_point(client), code)
    assert response.status_code == 422 and problem_type(response) == "invalid-code"


def test_a_code_of_an_enterprise_unverified_since_is_refused(client):
    from tests.enterprises.support import revoke

    boss = resident(client)
    enterprise = verified_enterprise(client, boss)
    code = _code(client, boss, enterprise["id"])
    revoke(client, enterprise["regulator"], enterprise["licence"]["id"])
    response = scan(client, make_service_point(client), code)
    assert response.status_code == 403 and problem_type(response) == "subject-suspended"


def test_an_enterprise_code_nobody_showed_is_invalid(client):
    from sqlalchemy import select

    from core.extensions import db
    from codes.service import issue_code
    from enterprises.models import Enterprise

    boss = resident(client)
    enterprise = verified_enterprise(client, boss)
    handle = db.session.scalar(select(Enterprise.handle).where(Enterprise.id == enterprise["id"]))
    response = scan(client, make_service_point(client), issue_code(handle, ENTERPRISE).code)
    assert response.status_code == 422 and problem_type(response) == "invalid-code"


def test_materials_come_from_the_enterprise_wallet_with_a_consent_members_approval(client):
    boss, clerk, signer = resident(client), resident(client), resident(client)
    enterprise = verified_enterprise(client, boss)
    member_id(client, boss, enterprise["id"], clerk, scopes=["show-code"])
    member_id(client, boss, enterprise["id"], signer, scopes=["consent"])
    hall = make_service_point(client, "市场监管窗口")
    scan_id = scan(client, hall, _code(client, clerk, enterprise["id"])).json["scan_id"]
    asked = client.post(f"/api/v1/scans/{scan_id}/requests", json={"types": ["business-licence", "resident-id"]},
                        headers=hall["headers"])
    assert asked.status_code == 201, asked.json
    assert asked.json["missing"] == ["resident-id"]

    # The member who showed the code has no `consent`: nothing to answer.
    assert client.get("/api/v1/me/consents?status=pending", headers=clerk["headers"]).json == []
    [consent] = client.get("/api/v1/me/consents?status=pending", headers=signer["headers"]).json
    assert consent["types"] == ["business-licence", "resident-id"]
    assert consent["on_behalf_of"] == {"kind": "enterprise", "display_name": "北京一码科技有限公司"}
    denied = client.post(f"/api/v1/me/consents/{consent['id']}/approve", headers=clerk["headers"])
    assert denied.status_code == 404
    approved = client.post(f"/api/v1/me/consents/{consent['id']}/approve", headers=signer["headers"])
    assert approved.status_code == 204
    state = client.get(f"/api/v1/scans/{scan_id}/requests/{asked.json['request_id']}", headers=hall["headers"])
    assert state.json["status"] == "approved"
    [material] = state.json["materials"]
    assert material["type"] == "business-licence"
    from tests.wallet.support import outside_verifier

    assert outside_verifier(client, material["credential"], hall["client_id"],
                            asked.json["request_id"])["uscc"] == enterprise["uscc"]


def test_a_members_own_consents_stay_theirs(client):
    """A member's personal requests are not shown to the enterprise's consent members."""
    from tests.codes.support import my_code

    boss, clerk = resident(client), resident(client)
    enterprise = verified_enterprise(client, boss)
    member_id(client, boss, enterprise["id"], clerk, scopes=["show-code"])
    hall = make_service_point(client)
    scan_id = scan(client, hall, my_code(client, clerk)["code"]).json["scan_id"]
    client.post(f"/api/v1/scans/{scan_id}/requests", json={"types": ["resident-id"]}, headers=hall["headers"])
    assert client.get("/api/v1/me/consents?status=pending", headers=boss["headers"]).json == []
    assert len(client.get("/api/v1/me/consents?status=pending", headers=clerk["headers"]).json) == 1
