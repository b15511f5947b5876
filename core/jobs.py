"""Background jobs on RQ (Redis Queue), for every package.

On the embedded default (no ``REDIS_URL``), and in tests, the queue is synchronous
(``is_async=False``): a job runs at once, in the caller's process and unit of work, and the
caller's commit covers it. With a real Redis the job is enqueued only after the caller's
commit (so that the worker sees what it is about), and an ``rq worker onecode`` process runs
it in an app context of its own and commits. Jobs are idempotent: running one twice changes
nothing more.
"""
from __future__ import annotations

import click
from flask import current_app, has_app_context
from flask.cli import AppGroup
from sqlalchemy import event
from sqlalchemy.orm import Session

from core.extensions import db
from core.store import jobs_redis

QUEUE = "onecode"
_DEFERRED = "app.deferred_jobs"
_worker_app = None


class JobFailed(RuntimeError):
    """A job run synchronously raised; its traceback is the message."""


def synchronous() -> bool:
    """Whether jobs run at once in the caller (embedded Redis, or testing)."""
    return current_app.extensions["store"].embedded or bool(current_app.config.get("TESTING"))


def queue():
    from rq import Queue

    return Queue(QUEUE, connection=jobs_redis(), is_async=not synchronous())


def enqueue(job, *args) -> None:
    """Run ``job(*args)`` now (synchronous queue), or enqueue it once the current unit of work
    commits (a real queue); a rollback drops it."""
    if synchronous():
        ran = queue().enqueue(job, *args)
        if ran.is_failed:
            # RQ's synchronous mode records a failure instead of raising it; the caller's unit
            # of work must not commit half of it.
            result = ran.latest_result()
            raise JobFailed(f"{job.__name__} failed:\n{result.exc_string if result else ''}")
    else:
        db.session.info.setdefault(_DEFERRED, []).append((job, args))


def enqueue_now(job, *args) -> None:
    """Enqueue ``job(*args)`` at once, outside any unit of work (after a commit)."""
    queue().enqueue(job, *args)


jobs_cli = AppGroup("jobs", help="Background jobs.")


@jobs_cli.command("work")
@click.option("--burst", is_flag=True, help="Stop when the queue is empty.")
def work(burst: bool) -> None:
    """Run the jobs of the onecode queue in this process (the app is built once, not per job).

    Run one or more beside gunicorn whenever REDIS_URL is set: they seal the audit chain and
    evaluate policies.
    """
    global _worker_app
    _worker_app = current_app._get_current_object()
    worker(queue()).work(burst=burst, logging_level=current_app.config["LOG_LEVEL"])


def worker(on_queue):
    """RQ's ``SimpleWorker`` (jobs run in this process, the app built once), without RQ's
    command channel: redis-py's listener thread, which RQ starts with a 60-second poll,
    could hold a worker's exit that long on SIGTERM or at the end of a burst. Operators stop
    a worker with SIGTERM (it finishes its job first), not with ``rq`` commands."""
    from rq import SimpleWorker

    class Worker(SimpleWorker):
        def subscribe(self):
            pass

        def unsubscribe(self):
            pass

    return Worker([on_queue], connection=jobs_redis())


def _enqueue_deferred(session):
    deferred = session.info.pop(_DEFERRED, None)
    if deferred:
        q = queue()
        for job, args in deferred:
            q.enqueue(job, *args)


def _drop_deferred(session, previous_transaction):
    if not session.in_transaction():
        session.info.pop(_DEFERRED, None)


_LISTENERS = (("after_commit", _enqueue_deferred), ("after_soft_rollback", _drop_deferred))


def register_listeners() -> None:
    """Connect this module's ``Session`` listeners, once per process (the factory calls it;
    importing the module connects nothing)."""
    for name, fn in _LISTENERS:
        if not event.contains(Session, name, fn):
            event.listen(Session, name, fn)


class WorkUnit:
    """The unit of work a job runs in: the caller's (synchronous queue: flush only, the caller
    commits) or, in a worker, an app context and session of its own (commit here)."""

    def __enter__(self):
        self.own = not (has_app_context() and synchronous())
        if self.own:
            if has_app_context():
                app = current_app._get_current_object()
            elif _worker_app is not None:
                app = _worker_app
            else:
                raise RuntimeError("jobs run in `flask --app wsgi jobs work`, which has the app")
            self.ctx = app.app_context()
            self.ctx.push()
        return self

    def __exit__(self, exc_type, exc, tb):
        if self.own:
            try:
                if exc_type is None:
                    db.session.commit()
                else:
                    db.session.rollback()
            finally:
                db.session.remove()
                self.ctx.pop()
        elif exc_type is None:
            db.session.flush()
        return False
