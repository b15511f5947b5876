"""Offline codes: a registered device shows OCD1:<device_id>:<otp> with no network."""
from __future__ import annotations

import pyotp
import pytest

from core.extensions import db
from codes.models import Device
from tests.codes.support import problem_type, scan
from tests.conftest import START

NOW = int(START.timestamp())


def _add_device(client, holder) -> dict:
    response = client.post("/api/v1/me/devices", headers=holder["headers"])
    assert response.status_code == 201, response.json
    return response.json


def _offline_code(device: dict, at: float = NOW) -> str:
    otp = pyotp.TOTP(device["secret"], digits=device["digits"], interval=device["period"]).at(at)
    return f"OCD1:{device['device_id']}:{otp}"


def test_registering_a_device(client, holder):
    device = _add_device(client, holder)
    assert set(device) == {"device_id", "secret", "period", "digits"}
    assert device["period"] == 30 and device["digits"] == 8
    assert len(device["secret"]) == 32
    pyotp.TOTP(device["secret"]).now()  # valid base32
    stored = db.session.get(Device, device["device_id"])
    assert device["secret"].encode() not in stored.secret_enc


def test_an_offline_code_is_accepted_once(client, holder, scanner):
    device = _add_device(client, holder)
    code = _offline_code(device)
    response = scan(client, scanner, code)
    assert response.status_code == 201, response.json
    assert response.json["subject"]["display_name"] == "张**"
    again = scan(client, scanner, code)
    assert again.status_code == 409
    assert problem_type(again) == "code-already-used"
    [listed] = client.get("/api/v1/me/scans", headers=holder["headers"]).json
    assert listed["code_kind"] == "offline"


@pytest.mark.parametrize("steps", [-1, 0, 1])
def test_one_step_either_side_is_accepted(client, holder, scanner, steps):
    device = _add_device(client, holder)
    assert scan(client, scanner, _offline_code(device, NOW + 30 * steps)).status_code == 201


@pytest.mark.parametrize("steps", [-2, 2, 100])
def test_further_steps_are_invalid(client, holder, scanner, steps):
    device = _add_device(client, holder)
    response = scan(client, scanner, _offline_code(device, NOW + 30 * steps))
    assert response.status_code == 422
    assert problem_type(response) == "invalid-code"


def test_reuse_is_refused_by_the_database_alone(client, holder, scanner):
    from core.store import redis_client

    device = _add_device(client, holder)
    code = _offline_code(device)
    assert scan(client, scanner, code).status_code == 201
    redis_client().flushdb()  # the fast gate forgets; the device's last_step does not
    assert problem_type(scan(client, scanner, code)) == "code-already-used"


def test_an_older_step_after_a_newer_one_is_refused(client, holder, scanner):
    device = _add_device(client, holder)
    assert scan(client, scanner, _offline_code(device, NOW + 30)).status_code == 201
    assert problem_type(scan(client, scanner, _offline_code(device, NOW))) == "code-already-used"


def test_the_next_step_works_after_time_moves(client, holder, scanner, clock):
    device = _add_device(client, holder)
    assert scan(client, scanner, _offline_code(device)).status_code == 201
    clock.shift(30)
    assert scan(client, scanner, _offline_code(device, NOW + 30)).status_code == 201


def test_a_wrong_otp_or_another_devices_id_is_invalid(client, holder, scanner):
    device = _add_device(client, holder)
    other = _add_device(client, holder)
    good_otp = _offline_code(device).rsplit(":", 1)[1]
    wrong = "00000000" if good_otp != "00000000" else "11111111"
    assert problem_type(scan(client, scanner, f"OCD1:{device['device_id']}:{wrong}")) == "invalid-code"
    assert problem_type(scan(client, scanner, f"OCD1:{other['device_id']}:{good_otp}")) == "invalid-code"
    assert problem_type(scan(client, scanner, f"OCD1:nosuchdevice:{good_otp}")) == "invalid-code"


def test_a_removed_device_codes_stop_working(client, holder, scanner):
    device = _add_device(client, holder)
    response = client.delete(f"/api/v1/me/devices/{device['device_id']}", headers=holder["headers"])
    assert response.status_code == 204
    assert problem_type(scan(client, scanner, _offline_code(device))) == "invalid-code"
    again = client.delete(f"/api/v1/me/devices/{device['device_id']}", headers=holder["headers"])
    assert again.status_code == 404


def test_nobody_removes_another_persons_device(client, holder, scanner):
    from tests.helpers import resident

    device = _add_device(client, holder)
    other = resident(client)
    response = client.delete(f"/api/v1/me/devices/{device['device_id']}", headers=other["headers"])
    assert response.status_code == 404
    assert problem_type(response) == "not-found"
    assert client.delete("/api/v1/me/devices/unknown", headers=holder["headers"]).status_code == 404
    assert client.delete(f"/api/v1/me/devices/{device['device_id']}",
                         headers=scanner["headers"]).status_code == 403
    assert scan(client, scanner, _offline_code(device)).status_code == 201


@pytest.mark.parametrize("device_id", ["%00", "a%00b", "x" * 500, "设备", "%F0%9F%98%80", "..", "%20"])
def test_odd_device_ids_are_not_found(client, holder, device_id):
    response = client.delete(f"/api/v1/me/devices/{device_id}", headers=holder["headers"])
    assert response.status_code in (404, 405)
    assert response.mimetype == "application/problem+json"


def test_a_suspended_holder_device(client, holder, scanner):
    from flask_jwt_extended import decode_token

    from identity.service import get_person

    device = _add_device(client, holder)
    get_person(decode_token(holder["tokens"]["access_token"])["sub"]).status = "suspended"
    db.session.commit()
    assert problem_type(scan(client, scanner, _offline_code(device))) == "subject-suspended"


def test_the_number_of_devices_is_capped(client, holder):
    from codes.devices import MAX_DEVICES

    devices = [_add_device(client, holder) for _ in range(MAX_DEVICES)]
    response = client.post("/api/v1/me/devices", headers=holder["headers"])
    assert response.status_code == 409
    assert problem_type(response) == "too-many-devices"
    client.delete(f"/api/v1/me/devices/{devices[0]['device_id']}", headers=holder["headers"])
    _add_device(client, holder)


def test_devices_need_a_resident_token(client, scanner):
    assert client.post("/api/v1/me/devices").status_code == 401
    assert client.post("/api/v1/me/devices", headers=scanner["headers"]).status_code == 403
