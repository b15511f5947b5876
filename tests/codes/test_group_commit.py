"""Group commit of scans (codes/scan_writer.py): concurrent scans share one statement and one
commit, each answered only after the commit that holds its row, and a code is still accepted
at most once."""
from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from codes import scan_writer
from codes.models import Scan
from core.audit import AuditEntry
from core.extensions import db
from core.store import redis_client
from tests.codes.support import make_service_point, my_code, problem_type, scan
from tests.helpers import resident


@pytest.fixture
def grouped(committing_app, monkeypatch):
    monkeypatch.setitem(committing_app.config, "SCAN_GROUP_COMMIT", True)
    # A wide window, so that the concurrent scans of a test meet in few batches.
    monkeypatch.setitem(committing_app.config, "SCAN_BATCH_WAIT_MS", 50.0)
    committing_app.extensions.pop("scan_writer", None)
    yield committing_app
    committing_app.extensions.pop("scan_writer", None)


def _count_batches(monkeypatch) -> list:
    batches = []
    original = scan_writer.ScanWriter._write

    def counting(self, batch):
        batches.append(len(batch))
        return original(self, batch)

    monkeypatch.setattr(scan_writer.ScanWriter, "_write", counting)
    return batches


def test_concurrent_scans_share_commits_and_every_accepted_one_is_on_record(grouped,
                                                                            monkeypatch):
    client = grouped.test_client()
    scanner = make_service_point(client)
    codes = [my_code(client, resident(client))["code"] for _ in range(8)]
    db.session.remove()
    batches = _count_batches(monkeypatch)
    answers = [None] * len(codes)

    def send(i):
        with grouped.test_client() as own:
            answers[i] = scan(own, scanner, codes[i])

    threads = [threading.Thread(target=send, args=(i,)) for i in range(len(codes))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [a.status_code for a in answers] == [201] * len(codes)
    assert sum(batches) == len(codes) and len(batches) < len(codes)
    ids = {a.json["scan_id"] for a in answers}
    on_record = set(db.session.scalars(select(Scan.id).where(Scan.id.in_(ids))))
    assert on_record == ids
    # Each scan's audit entry was written in its batch and sealed after the commit.
    entries = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "scan")).all()
    assert {entry.refs["scan"] for entry in entries} == ids
    assert all(entry.seq is not None for entry in entries)


def test_a_replay_after_redis_lost_its_data_is_refused_by_the_batch(grouped):
    client = grouped.test_client()
    scanner = make_service_point(client)
    holder = resident(client)
    code = my_code(client, holder)["code"]
    assert scan(client, scanner, code).status_code == 201
    redis_client().flushdb()
    replay = scan(client, scanner, code)
    assert replay.status_code == 409 and problem_type(replay) == "code-already-used"
    db.session.remove()
    assert db.session.scalar(select(func.count()).select_from(Scan)) == 1


def test_the_same_code_twice_in_one_batch_is_written_once(grouped):
    client = grouped.test_client()
    scanner = make_service_point(client)
    holder = resident(client)
    person_id = client.get("/api/v1/me", headers=holder["headers"]).json["id"]
    writer = scan_writer.writer()
    rows = [scan_writer.new_row(service_point_id=scanner["id"], subject_kind="person",
                                person_id=person_id, purpose="identity-check",
                                code_kind="online", nonce="ab" * 8,
                                expires_at=scan_writer.clock.now()) for _ in range(2)]
    results = [None, None]

    def write(i):
        with grouped.app_context():
            results[i] = writer.write(rows[i], timeout=10)

    threads = [threading.Thread(target=write, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [False, True]


def test_a_scan_after_a_write_in_the_same_request_keeps_the_request_path(grouped, monkeypatch):
    from core import unit_of_work

    client = grouped.test_client()
    scanner = make_service_point(client)
    code = my_code(client, resident(client))["code"]
    monkeypatch.setattr(unit_of_work, "release_if_read_only", lambda: False)
    batches = _count_batches(monkeypatch)
    assert scan(client, scanner, code).status_code == 201
    assert batches == []
