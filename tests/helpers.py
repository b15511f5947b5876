"""Actions a phone app performs, as plain functions of the test client, for every test package.

    from tests.helpers import register, login, auth_headers, resident, valid_id_number
"""
from __future__ import annotations

import itertools
from datetime import date, timedelta

from identity.id_numbers import make_id_number

DEFAULT_PASSWORD = "violet kettle runs uphill 42"
_serial = itertools.count(1)


def valid_id_number(seq: int = 1, birth: str = "19900307", region: str = "110101") -> str:
    """A valid GB 11643 ID number (with its check character) for this region and birth date."""
    return make_id_number(region, birth, seq)


def unique_phone(n: int) -> str:
    """A valid mainland mobile number, different for every ``n`` below 10**8."""
    return f"139{n % 10**8:08d}"


def _fresh_id_number(n: int) -> str:
    # 1000 sequence numbers per birth date, then the next day: unique for any n in a run.
    birth = date(1980, 1, 1) + timedelta(days=n // 1000)
    return valid_id_number(n % 1000, birth.strftime("%Y%m%d"))


def registration_data(**overrides) -> dict:
    """A valid registration body with an ID number and phone unused so far in this run."""
    n = next(_serial)
    data = {
        "name": "张三丰",
        "id_number": _fresh_id_number(n),
        # 137..., so that numbers from unique_phone(n) (139...) never collide with these.
        "phone": f"137{n % 10**8:08d}",
        "password": DEFAULT_PASSWORD,
    }
    data.update(overrides)
    return data


def register(client, **overrides) -> dict:
    """Register a resident with fresh valid data (``overrides`` replace fields).

    Returns the request data plus the response JSON under ``"profile"`` and the HTTP status
    under ``"status"``; it does not assert success, so tests of refusals can use it too.
    """
    data = registration_data(**overrides)
    response = client.post("/api/v1/residents", json=data)
    return {**data, "profile": response.get_json(), "status": response.status_code}


def login(client, username: str, password: str, otp: str | None = None) -> dict:
    """Sign in; returns the token response JSON (or the problem JSON when refused)."""
    body = {"username": username, "password": password}
    if otp is not None:
        body["otp"] = otp
    return client.post("/api/v1/auth/login", json=body).get_json()


def auth_headers(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def resident(client, **overrides) -> dict:
    """Register and sign in a resident.

    Returns ``{name, id_number, phone, password, profile, tokens, headers}``; ``headers``
    carry the access token.
    """
    data = register(client, **overrides)
    assert data["status"] == 201, data["profile"]
    tokens = login(client, data["phone"], data["password"])
    assert "access_token" in tokens, tokens
    return {**data, "tokens": tokens, "headers": auth_headers(tokens["access_token"])}


def race(app, threads: int, send) -> list[int]:
    """``send(client)`` from ``threads`` threads released at once, each with its own test
    client; returns the response statuses, sorted. For tests on ``committing_app``."""
    import threading

    from core.extensions import db

    # Requests from this thread share the test's app context and session: end its
    # transaction, which on SQLite (BEGIN IMMEDIATE) would hold the write lock.
    db.session.remove()
    barrier = threading.Barrier(threads)
    statuses: list[int] = []
    lock = threading.Lock()

    def one():
        client = app.test_client()
        barrier.wait()
        response = send(client)
        with lock:
            statuses.append(response.status_code)

    workers = [threading.Thread(target=one) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return sorted(statuses)
