"""The jobs on a real queue: enqueued only once the request commits, run by an RQ worker.

The rest of the suite runs them synchronously (``is_async=False``, as on the embedded
default and whenever TESTING); here ``synchronous()`` is turned off and an in-process
``core.jobs.worker`` drains the queue, on fakeredis or on the Redis of REDIS_URL.
"""
from __future__ import annotations

import pytest

from core import jobs as app_jobs
from catalog import jobs
from tests.catalog.support import make_publisher, my_policies, publish
from tests.helpers import resident
from tests.wallet.support import issued, make_issuer, resident_id_claims

SENIORS = [{"credential": "resident-id", "claim": "birthdate", "op": "age_gte", "value": 60}]


@pytest.fixture
def real_queue(monkeypatch, app):
    monkeypatch.setattr(app_jobs, "synchronous", lambda: False)
    monkeypatch.setitem(app.config, "AUDIT_SEAL_WINDOW_MS", 1)  # the seal jobs beside ours
    return jobs.queue()


def catalogue_jobs(queue) -> int:
    """Queued catalogue jobs (the audit chain's seal job queues beside them)."""
    return sum(1 for job in queue.jobs if job.func_name.startswith("catalog.jobs."))


def _drain(queue) -> None:
    app_jobs.worker(queue).work(burst=True)


def test_jobs_wait_for_the_commit_then_a_worker_runs_them(client, clock, real_queue):
    assert real_queue.is_async
    police = make_issuer(client, "市公安局", ("resident-id", "household-register"))
    elder = resident(client)
    issued(client, police, elder, claims=resident_id_claims(elder, birthdate="1950-01-01"))
    assert catalogue_jobs(real_queue) == 1  # the re-evaluation of the holder, enqueued after the commit
    _drain(real_queue)

    policy = publish(client, make_publisher(client), SENIORS).json
    assert catalogue_jobs(real_queue) == 1 and my_policies(client, elder) == []
    _drain(real_queue)
    assert [p["id"] for p in my_policies(client, elder)] == [policy["id"]]

    later = resident(client)
    issued(client, police, later, claims=resident_id_claims(later, birthdate="1940-01-01"))
    assert my_policies(client, later) == []
    _drain(real_queue)
    assert [p["id"] for p in my_policies(client, later)] == [policy["id"]]
    assert catalogue_jobs(real_queue) == 0 and len(real_queue.failed_job_registry) == 0


def test_a_refused_request_enqueues_nothing(client, clock, real_queue):
    publisher = make_publisher(client)
    assert publish(client, publisher, [{"credential": "passport", "claim": "x", "op": "eq", "value": 1}]).status_code == 422
    assert catalogue_jobs(real_queue) == 0


def test_a_job_worker_listens_on_no_command_channel(real_queue, monkeypatch):
    # RQ's command channel is served by redis-py's listener thread, which polls every 60 s
    # and held a worker's exit (the end of a burst, SIGTERM) that long; nothing sends the
    # app's workers commands, so they do not listen.
    import redis.client

    listeners = []
    started = redis.client.PubSub.run_in_thread

    def noted(pubsub, *args, **kwargs):
        listeners.append(pubsub)
        return started(pubsub, *args, **kwargs)

    monkeypatch.setattr(redis.client.PubSub, "run_in_thread", noted)
    worker = app_jobs.worker(real_queue)
    worker.work(burst=True)
    assert listeners == [] and getattr(worker, "pubsub_thread", None) is None
