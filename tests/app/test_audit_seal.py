"""Sealing the audit chain off the request path: one queued seal job at a time, and no entry
left behind by a writer that found a job already queued."""
from __future__ import annotations

import pytest

from core import audit, jobs
from core.extensions import db
from core.store import redis_client


@pytest.fixture(autouse=True)
def long_window(app, monkeypatch):
    # A window no test outlasts; ``close_window`` ends it, as time would.
    monkeypatch.setitem(app.config, "AUDIT_SEAL_WINDOW_MS", 60_000)


def close_window() -> None:
    redis_client().delete(audit._SEAL_QUEUED)


def drain(queue) -> None:
    jobs.worker(queue).work(burst=True)


@pytest.fixture
def real_queue(monkeypatch, app):
    monkeypatch.setattr(jobs, "synchronous", lambda: False)
    return jobs.queue()


def _record_and_commit(n: int) -> None:
    for i in range(n):
        audit.record("scan", scan=f"scan-{i}", service_point="sp", person="p")
    db.session.commit()


def test_synchronous_queue_seals_at_once(app):
    _record_and_commit(2)
    audit.request_seal()
    report = audit.verify_chain()
    assert report.ok and report.unsealed == 0 and report.entries == 2


def test_one_seal_job_is_queued_however_many_writers_ask_in_a_window(real_queue):
    _record_and_commit(3)
    for _ in range(5):
        audit.request_seal()
    assert real_queue.count == 1
    assert audit.verify_chain().unsealed == 3  # nothing sealed on the request path

    close_window()
    drain(real_queue)
    report = audit.verify_chain()
    assert report.ok and report.unsealed == 0 and report.last_seq == 3


def test_writers_in_one_window_share_a_job_and_the_next_window_gets_its_own(real_queue):
    _record_and_commit(1)
    audit.request_seal()
    _record_and_commit(1)
    audit.request_seal()  # within the window: no second job, the first one takes it
    assert real_queue.count == 1
    close_window()
    drain(real_queue)
    assert audit.verify_chain().unsealed == 0
    # After the window a writer queues a new job.
    _record_and_commit(1)
    audit.request_seal()
    assert real_queue.count == 1
    close_window()
    drain(real_queue)
    report = audit.verify_chain()
    assert report.ok and report.unsealed == 0 and report.entries == 3


def test_the_jobs_work_command_runs_the_queue(real_queue, runner):
    _record_and_commit(2)
    audit.request_seal()
    close_window()
    result = runner.invoke(args=["jobs", "work", "--burst"])
    assert result.exit_code == 0, result.output
    assert real_queue.count == 0
    report = audit.verify_chain()
    assert report.ok and report.unsealed == 0 and report.entries == 2
