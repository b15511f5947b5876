"""An operator disables a service point: its tokens stop at once on every route, and enabling
it again lets it ask for new ones while the old ones stay dead."""
from __future__ import annotations

import json

import pytest

from tests.codes.support import my_code, problem_type, scan, scanner_token_again


def _switch(runner, action: str, client_id: str):
    return runner.invoke(args=["service-point", action, client_id])


def _routes(client, scanner, scan_id: str, request_id: str, code: str) -> dict:
    """Every route a service point uses, called with its token: name → response."""
    headers = scanner["headers"]
    return {
        "scan": scan(client, scanner, code),
        "request materials": client.post(f"/api/v1/scans/{scan_id}/requests",
                                         json={"types": ["resident-id"]}, headers=headers),
        "request state": client.get(f"/api/v1/scans/{scan_id}/requests/{request_id}",
                                    headers=headers),
        "face check": client.post(f"/api/v1/scans/{scan_id}/face", data={"image": (b"x", "x.jpg")},
                                  headers=headers, content_type="multipart/form-data"),
    }


@pytest.fixture
def scanned(client, holder, scanner):
    """A scan of the holder by the scanner, with a pending request for materials."""
    made = scan(client, scanner, my_code(client, holder)["code"])
    assert made.status_code == 201, made.json
    scan_id = made.json["scan_id"]
    asked = client.post(f"/api/v1/scans/{scan_id}/requests", json={"types": ["resident-id"]},
                        headers=scanner["headers"])
    assert asked.status_code == 201, asked.json
    return scan_id, asked.json["request_id"]


def test_a_disabled_service_points_token_stops_on_every_route(client, runner, holder, scanner,
                                                               scanned):
    scan_id, request_id = scanned
    result = _switch(runner, "disable", scanner["client_id"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == {"client_id": scanner["client_id"], "active": False}

    for route, response in _routes(client, scanner, scan_id, request_id,
                                   my_code(client, holder)["code"]).items():
        assert response.status_code == 401, route
        assert problem_type(response) == "client-disabled", route
        assert response.headers["WWW-Authenticate"].startswith("Bearer"), route
    # No new token either, with the answer a wrong secret gets.
    token = client.post("/api/v1/service-points/token", json={
        "client_id": scanner["client_id"], "client_secret": scanner["client_secret"]})
    assert token.status_code == 401 and problem_type(token) == "invalid-client"


def test_enabling_again_gives_new_tokens_while_the_old_ones_stay_dead(client, runner, holder,
                                                                       scanner, scanned):
    scan_id, request_id = scanned
    assert _switch(runner, "disable", scanner["client_id"]).exit_code == 0
    result = _switch(runner, "enable", scanner["client_id"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == {"client_id": scanner["client_id"], "active": True}

    for route, response in _routes(client, scanner, scan_id, request_id,
                                   my_code(client, holder)["code"]).items():
        assert response.status_code == 401, route
        assert problem_type(response) == "token-revoked", route

    renewed = scanner_token_again(client, scanner)
    answers = _routes(client, renewed, scan_id, request_id, my_code(client, holder)["code"])
    assert answers["scan"].status_code == 201, answers["scan"].json
    assert answers["request materials"].status_code == 201
    assert answers["request state"].status_code == 200
    assert answers["request state"].json == {"status": "pending"}
    # Past the token check: the face check itself answers (this upload is no JPEG or PNG).
    assert answers["face check"].status_code == 422
    assert problem_type(answers["face check"]) == "validation-error"


def test_disable_and_enable_are_in_the_audit_chain(client, runner, scanner, app):
    from core.audit import AuditEntry
    from core.extensions import db

    assert _switch(runner, "disable", scanner["client_id"]).exit_code == 0
    assert _switch(runner, "enable", scanner["client_id"]).exit_code == 0
    entries = db.session.scalars(db.select(AuditEntry).where(
        AuditEntry.action.in_(["client-disabled", "client-enabled"])).order_by(AuditEntry.id)).all()
    assert [(e.action, e.refs) for e in entries] == [
        ("client-disabled", {"kind": "service-point", "client": scanner["client_id"]}),
        ("client-enabled", {"kind": "service-point", "client": scanner["client_id"]})]
    assert all(e.seq is not None for e in entries)  # sealed by the command


def test_disabling_twice_changes_nothing_more(client, runner, scanner):
    assert _switch(runner, "disable", scanner["client_id"]).exit_code == 0
    again = _switch(runner, "disable", scanner["client_id"])
    assert again.exit_code == 0 and json.loads(again.output)["active"] is False
    assert _switch(runner, "enable", scanner["client_id"]).exit_code == 0
    assert scanner_token_again(client, scanner)["headers"] != scanner["headers"]


@pytest.mark.parametrize("action", ["disable", "enable"])
def test_an_unknown_client_id_is_a_clear_error(runner, action):
    result = _switch(runner, action, "sp_nosuchclient")
    assert result.exit_code != 0
    assert "no service point has this client id" in result.output


def test_a_scan_reads_its_service_point_once(client, holder, scanner, count_queries):
    # The first scan of a worker takes its snapshot of the service point; every scan reads
    # the row once more where it writes, and nothing else reads it.
    assert scan(client, scanner, my_code(client, holder)["code"]).status_code == 201
    code = my_code(client, holder)["code"]
    with count_queries() as counted:
        response = scan(client, scanner, code)
    assert response.status_code == 201, response.json
    reads = [s for s in counted.statements if "FROM service_points" in s]
    assert len(reads) == 1, reads


def _disable_elsewhere(scanner) -> None:
    """Disable the service point as another worker would: this worker's snapshot of it
    stays as it was."""
    from sqlalchemy import update

    from codes.models import ServicePoint
    from core.extensions import db

    db.session.execute(update(ServicePoint).where(ServicePoint.client_id == scanner["client_id"])
                       .values(active=False, generation=ServicePoint.generation + 1))


def test_a_disable_by_another_worker_stops_scans_at_once(client, holder, scanner):
    from sqlalchemy import func, select

    from codes.models import Scan
    from core.extensions import db

    assert scan(client, scanner, my_code(client, holder)["code"]).status_code == 201
    _disable_elsewhere(scanner)
    code = my_code(client, holder)["code"]
    refused = scan(client, scanner, code)
    assert refused.status_code == 401 and problem_type(refused) == "client-disabled"
    assert db.session.scalar(select(func.count()).select_from(Scan)) == 1
    # The code was not spent by the refused scan: another counter may still take it.
    from tests.codes.support import make_service_point

    assert scan(client, make_service_point(client), code).status_code == 201
