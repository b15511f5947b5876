"""Many scanners, one code, real commits from several threads: exactly one scan is accepted."""
from __future__ import annotations

import pyotp
import pytest

from core.extensions import db
from codes.models import Scan
from tests.codes.support import make_service_point
from tests.conftest import START
from tests.helpers import race, resident

THREADS = 16


@pytest.fixture
def setup(committing_app, clock):
    client = committing_app.test_client()
    holder = resident(client)
    scanner = make_service_point(client, purposes=["identity-check"])
    return committing_app, client, holder, scanner


def _race(app, scanner, code: str) -> list[int]:
    return race(app, THREADS, lambda client: client.post(
        "/api/v1/scans", json={"code": code, "purpose": "identity-check"}, headers=scanner["headers"]))


def _scan_count(app) -> int:
    with app.app_context():
        return db.session.scalar(db.select(db.func.count()).select_from(Scan))


def test_one_signed_code_scanned_by_many_at_once(setup):
    app, client, holder, scanner = setup
    code = client.get("/api/v1/me/code", headers=holder["headers"]).json["code"]
    assert _race(app, scanner, code) == [201] + [409] * (THREADS - 1)
    assert _scan_count(app) == 1


def test_one_offline_code_scanned_by_many_at_once(setup):
    app, client, holder, scanner = setup
    device = client.post("/api/v1/me/devices", headers=holder["headers"]).json
    otp = pyotp.TOTP(device["secret"], digits=8, interval=device["period"]).at(START)
    statuses = _race(app, scanner, f"OCD1:{device['device_id']}:{otp}")
    assert statuses == [201] + [409] * (THREADS - 1)
    assert _scan_count(app) == 1
