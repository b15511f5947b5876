"""Real commits from several threads: the five-proxy limit and one registration per USCC hold
when the requests arrive at once."""
from __future__ import annotations

import threading

import pytest

from core.extensions import db
from delegation.models import Proxy
from enterprises.models import Enterprise
from tests.enterprises.support import new_uscc
from tests.helpers import resident

THREADS = 8


def _race(app, requests) -> list[int]:
    db.session.remove()  # end the test's transaction: it would hold SQLite's write lock
    barrier = threading.Barrier(len(requests))
    statuses: list[int] = []
    lock = threading.Lock()

    def one(send):
        client = app.test_client()
        barrier.wait()
        status = send(client).status_code
        with lock:
            statuses.append(status)

    threads = [threading.Thread(target=one, args=(send,)) for send in requests]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sorted(statuses)


def _count(app, model, **where) -> int:
    with app.app_context():
        query = db.select(db.func.count()).select_from(model)
        for column, value in where.items():
            query = query.where(getattr(model, column) == value)
        return db.session.scalar(query)


def test_eight_invitations_at_once_leave_five(committing_app):
    client = committing_app.test_client()
    elder = resident(client)
    helpers = [resident(client) for _ in range(THREADS)]
    statuses = _race(committing_app, [
        (lambda c, h=h: c.post("/api/v1/me/proxies", json={"id_number": elder["id_number"], "relation": "child"},
                               headers=h["headers"])) for h in helpers])
    assert statuses == [201] * 5 + [409] * (THREADS - 5)
    assert _count(committing_app, Proxy, principal_id=elder["profile"]["id"]) == 5


@pytest.mark.parametrize("n", [THREADS])
def test_one_uscc_registered_by_many_at_once_is_registered_once(committing_app, n):
    client = committing_app.test_client()
    people = [resident(client) for _ in range(n)]
    uscc = new_uscc()
    statuses = _race(committing_app, [
        (lambda c, p=p: c.post("/api/v1/enterprises", json={"name": "一码科技", "uscc": uscc},
                               headers=p["headers"])) for p in people])
    assert statuses == [201] + [409] * (n - 1)
    assert _count(committing_app, Enterprise) == 1
