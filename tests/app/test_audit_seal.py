"""Sealing the audit chain off the request path: one queued seal job at a time, and no entry
left behind by a writer that found a job already queued."""
from __future__ import annotations

import pytest
from rq import SimpleWorker

from app import audit, jobs
from app.extensions import db
from app.store import redis_client


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


def test_one_seal_job_is_queued_however_many_writers_ask(real_queue):
    _record_and_commit(3)
    for _ in range(5):
        audit.request_seal()
    assert real_queue.count == 1
    assert audit.verify_chain().unsealed == 3  # nothing sealed on the request path

    SimpleWorker([real_queue], connection=redis_client()).work(burst=True)
    report = audit.verify_chain()
    assert report.ok and report.unsealed == 0 and report.last_seq == 3


def test_a_writer_after_the_job_started_queues_the_next_one(real_queue):
    _record_and_commit(1)
    audit.request_seal()
    SimpleWorker([real_queue], connection=redis_client()).work(burst=True)
    # The job cleared its flag before sealing: the next writer queues a new job.
    _record_and_commit(1)
    audit.request_seal()
    assert real_queue.count == 1
    SimpleWorker([real_queue], connection=redis_client()).work(burst=True)
    report = audit.verify_chain()
    assert report.ok and report.unsealed == 0 and report.entries == 2


def test_the_jobs_work_command_runs_the_queue(real_queue, runner):
    _record_and_commit(2)
    audit.request_seal()
    result = runner.invoke(args=["jobs", "work", "--burst"])
    assert result.exit_code == 0, result.output
    assert real_queue.count == 0
    report = audit.verify_chain()
    assert report.ok and report.unsealed == 0 and report.entries == 2
