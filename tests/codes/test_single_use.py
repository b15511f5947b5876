"""A code is accepted at most once, whatever happens to Redis (the fast gate in front of the
durable record): a restart without persistence or a failover to an empty replica loses every
mark, and the scan record's unique nonce still refuses the replay."""
from __future__ import annotations

from core.extensions import db
from core.store import redis_client
from codes.models import Scan
from tests.codes.support import make_service_point, my_code, problem_type, scan, signed_in_again
from tests.helpers import resident


def _scans() -> int:
    return db.session.scalar(db.select(db.func.count()).select_from(Scan))


def test_a_code_replayed_after_redis_lost_its_data_is_refused(client, holder, scanner):
    code = my_code(client, holder)["code"]
    assert scan(client, scanner, code).status_code == 201
    redis_client().flushdb()
    replay = scan(client, scanner, code)
    assert replay.status_code == 409 and problem_type(replay) == "code-already-used"
    # Another service point fares no better.
    other = make_service_point(client, "Library")
    assert problem_type(scan(client, other, code)) == "code-already-used"
    assert _scans() == 1


def test_the_refused_replay_leaves_the_next_code_working(client, holder, scanner):
    code = my_code(client, holder)["code"]
    assert scan(client, scanner, code).status_code == 201
    redis_client().flushdb()
    assert scan(client, scanner, code).status_code == 409
    holder = signed_in_again(client, holder)  # sign-ins lived in Redis too
    fresh = my_code(client, holder)["code"]
    assert fresh != code
    assert scan(client, scanner, fresh).status_code == 201
    assert _scans() == 2


def test_the_scan_keeps_the_codes_nonce(client, holder, scanner):
    from codes.format import b45decode
    import cbor2

    code = my_code(client, holder)["code"]
    scan_id = scan(client, scanner, code).json["scan_id"]
    payload = cbor2.loads(cbor2.loads(b45decode(code[4:])).value[2])
    assert db.session.get(Scan, scan_id).nonce == payload[7].hex()


def _proxy_code(client) -> tuple[str, dict]:
    """A code that a son shows for his mother, and the mother."""
    code, mother, _ = _proxy_and_code(client)
    return code, mother


def _proxy_and_code(client) -> tuple[str, dict, callable]:
    """As ``_proxy_code``, with a function that asks for the son's shown code again."""
    son, mother = resident(client, name="王小二"), resident(client, name="李秀英")
    invited = client.post("/api/v1/me/proxies", json={"id_number": mother["id_number"],
                                                      "relation": "parent"},
                          headers=son["headers"])
    assert invited.status_code == 201, invited.json
    proxy_id = invited.json["id"]
    assert client.post(f"/api/v1/me/proxies/{proxy_id}/accept",
                       headers=mother["headers"]).status_code == 200

    def show():
        shown = client.get(f"/api/v1/me/proxies/{proxy_id}/code", headers=son["headers"])
        assert shown.status_code == 200, shown.json
        return shown.json["code"]

    return show(), mother, show


def test_a_proxys_code_whose_note_redis_lost_fails_closed(client, scanner):
    code, mother = _proxy_code(client)
    redis_client().flushdb()
    response = scan(client, scanner, code)
    # Never a scan of the mother's own code: who showed it is unknown now.
    assert response.status_code == 422 and problem_type(response) == "invalid-code"
    assert _scans() == 0
    listed = client.get("/api/v1/me/scans", headers=signed_in_again(client, mother)["headers"])
    assert listed.status_code == 200 and listed.json == []


def test_a_proxys_code_with_its_note_still_names_who_showed_it(client, scanner):
    code, _ = _proxy_code(client)
    response = scan(client, scanner, code)
    assert response.status_code == 201, response.json
    assert response.json["subject"]["shown_by"]["relation"] == "parent"
    redis_client().flushdb()
    assert problem_type(scan(client, scanner, code)) == "invalid-code"  # its note is gone too
    assert _scans() == 1


def test_an_offline_code_replayed_after_redis_lost_its_data_is_refused(client, holder, scanner):
    device = client.post("/api/v1/me/devices", headers=holder["headers"]).json
    import pyotp

    from core import clock

    otp = pyotp.TOTP(device["secret"], digits=device["digits"], interval=device["period"]).at(
        clock.timestamp())
    code = f"OCD1:{device['device_id']}:{otp}"
    assert scan(client, scanner, code).status_code == 201
    redis_client().flushdb()
    assert problem_type(scan(client, scanner, code)) == "code-already-used"
    assert _scans() == 1
