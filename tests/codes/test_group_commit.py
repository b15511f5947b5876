"""Group commit of scans (codes/scan_writer.py): concurrent scans share one statement and one
commit, each answered only after the commit that holds its row, and a code is still accepted
at most once."""
from __future__ import annotations

import threading

from sqlalchemy import func, select

from codes import scan_writer
from codes.models import Scan
from core.audit import AuditEntry
from core.extensions import db
from core.store import redis_client
from tests.codes.support import make_service_point, my_code, problem_type, scan
from tests.helpers import resident


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


def _holder_handle(client) -> tuple[str, str]:
    """A new resident's id and code handle (the session left without a transaction)."""
    from identity.models import Person

    holder = resident(client)
    person_id = client.get("/api/v1/me", headers=holder["headers"]).json["id"]
    handle = db.session.get(Person, person_id).handle
    db.session.remove()
    return person_id, handle


def _rows(scanner: dict, nonce: str, count: int) -> list[dict]:
    """``count`` scan rows of the same code for the writer, as a scan would hand them over."""
    return [scan_writer.new_row(service_point_id=scanner["id"], subject_kind="person",
                                purpose="identity-check", code_kind="online", nonce=nonce,
                                expires_at=scan_writer.clock.now()) for _ in range(count)]


def test_the_same_code_twice_in_one_batch_is_written_once(grouped):
    from codes.errors import CodeAlreadyUsed

    client = grouped.test_client()
    scanner = make_service_point(client)
    _person_id, handle = _holder_handle(client)
    writer = scan_writer.writer()
    pendings = [scan_writer.Pending(row=row, handle=handle, generation=0)
                for row in _rows(scanner, "ab" * 8, 2)]
    results = [None, None]

    def write(i):
        with grouped.app_context():
            try:
                results[i] = writer.write(pendings[i], timeout=10)
            except CodeAlreadyUsed as refused:
                results[i] = refused

    threads = [threading.Thread(target=write, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    accepted = [r for r in results if isinstance(r, dict)]
    assert len(accepted) == 1 and accepted[0]["kind"] == "person"
    assert sum(isinstance(r, CodeAlreadyUsed) for r in results) == 1
    assert db.session.scalar(select(func.count()).select_from(Scan)
                             .where(Scan.nonce == "ab" * 8)) == 1


def test_a_scan_after_a_write_in_the_same_request_keeps_the_request_path(grouped, monkeypatch):
    from core import unit_of_work

    client = grouped.test_client()
    scanner = make_service_point(client)
    code = my_code(client, resident(client))["code"]
    monkeypatch.setattr(unit_of_work, "release_if_read_only", lambda: False)
    batches = _count_batches(monkeypatch)
    assert scan(client, scanner, code).status_code == 201
    assert batches == []


def _suspend(person_id: str) -> None:
    from sqlalchemy import update

    from identity.models import Person

    db.session.execute(update(Person).where(Person.id == person_id).values(status="suspended"))
    db.session.commit()


def test_the_batch_refuses_a_suspended_holder(grouped, monkeypatch):
    client = grouped.test_client()
    scanner = make_service_point(client)
    holder = resident(client)
    person_id = client.get("/api/v1/me", headers=holder["headers"]).json["id"]
    code = my_code(client, holder)["code"]
    db.session.remove()
    batches = _count_batches(monkeypatch)
    _suspend(person_id)
    refused = scan(client, scanner, code)
    assert refused.status_code == 403 and problem_type(refused) == "subject-suspended"
    assert batches == [1]
    assert redis_client().keys("nonce:*") == []
    assert db.session.scalar(select(func.count()).select_from(Scan)) == 0


def test_the_batch_refuses_a_service_point_disabled_by_another_worker(grouped):
    from sqlalchemy import update

    from codes.models import ServicePoint

    client = grouped.test_client()
    scanner = make_service_point(client)
    holder = resident(client)
    assert scan(client, scanner, my_code(client, holder)["code"]).status_code == 201
    # Another worker disables it: this worker's snapshot still says active.
    db.session.execute(update(ServicePoint).where(ServicePoint.id == scanner["id"])
                       .values(active=False, generation=1))
    db.session.commit()
    refused = scan(client, scanner, my_code(client, holder)["code"])
    assert refused.status_code == 401 and problem_type(refused) == "client-disabled"
    db.session.remove()
    assert db.session.scalar(select(func.count()).select_from(Scan)) == 1


def test_a_failed_batch_answers_503_and_its_codes_stay_usable(grouped, monkeypatch):
    from sqlalchemy.exc import OperationalError

    client = grouped.test_client()
    scanner = make_service_point(client)
    code = my_code(client, resident(client))["code"]
    db.session.remove()

    def down(*_args):
        raise OperationalError("INSERT", {}, Exception("the database went away"))

    from codes import scan_store

    working = scan_store.store
    monkeypatch.setattr(scan_store, "store", down)
    failed = scan(client, scanner, code)
    assert failed.status_code == 503 and failed.headers["Retry-After"]
    assert redis_client().keys("nonce:*") == []
    monkeypatch.setattr(scan_store, "store", working)
    assert scan(client, scanner, code).status_code == 201


def test_after_its_batch_the_holder_gets_a_new_code_at_once(grouped):
    client = grouped.test_client()
    scanner = make_service_point(client)
    holder = resident(client)
    code = my_code(client, holder)["code"]
    assert my_code(client, holder)["code"] == code  # cached until refresh_after
    assert scan(client, scanner, code).status_code == 201
    assert my_code(client, holder)["code"] != code


def test_one_statement_writes_one_of_two_rows_with_the_same_nonce(grouped):
    from codes import scan_store

    client = grouped.test_client()
    scanner = make_service_point(client)
    person_id, handle = _holder_handle(client)
    rows = _rows(scanner, "cd" * 8, 2)
    with scan_store.connect() as connection:
        stored = scan_store.store(connection, rows, [0, 0], [handle, handle])
    assert [s.written for s in stored] == [True, False]
    assert all(s.holder.id == person_id and s.point.active for s in stored)
    assert db.session.scalar(select(func.count()).select_from(AuditEntry)
                             .where(AuditEntry.action == "scan")) == 1


def test_with_redis_down_the_batch_still_accepts_a_code_once(grouped, monkeypatch):
    # The batch's gate is the unique nonce in the database, so Redis failing neither opens
    # a second use nor stops the gates; what waits for Redis is only the phone's new code,
    # the change stamps and the seal (logged, and taken by the next seal).
    import redis

    client = grouped.test_client()
    scanner = make_service_point(client)
    code = my_code(client, resident(client))["code"]
    db.session.remove()

    def unreachable(*_args, **_kwargs):
        raise redis.exceptions.ConnectionError("connection refused")

    monkeypatch.setattr(redis_client(), "pipeline", unreachable)
    monkeypatch.setattr(redis_client(), "set", unreachable)
    assert scan(client, scanner, code).status_code == 201
    replay = scan(client, scanner, code)
    assert replay.status_code == 409 and problem_type(replay) == "code-already-used"
    assert db.session.scalar(select(func.count()).select_from(Scan)) == 1
