"""Prometheus metrics (prometheus-client).

Under gunicorn each worker is a process of its own: ``gunicorn.conf.py`` sets
``PROMETHEUS_MULTIPROC_DIR`` to a fresh folder per server before the workers start, every
worker writes its figures there, a worker that exits is marked dead, and ``/metrics`` sums
them all, whichever worker answers. Without it (tests, ``flask run``) the figures are this
process's own.

Labels never carry personal data: route templates (``/api/v1/scans/<scan_id>/requests``, not
the path), methods, status codes, and outcomes that are a problem's type or a fixed word.
"""
from __future__ import annotations

import functools
import os
from collections.abc import Iterator
from contextlib import contextmanager

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily

_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

REQUESTS = Counter("onecode_http_requests", "HTTP requests answered, by route template, "
                   "method and status", ["route", "method", "status"])
LATENCY = Histogram("onecode_http_request_duration_seconds", "Time to answer an HTTP request, "
                    "by route template, method and status", ["route", "method", "status"],
                    buckets=_LATENCY_BUCKETS)
SCANS = Counter("onecode_scans", "Scans by outcome: accepted, or the problem type of the "
                "refusal", ["outcome"])
CODES_ISSUED = Counter("onecode_codes_issued", "Codes signed, by subject kind", ["kind"])
SIGN_INS = Counter("onecode_sign_ins", "Sign-ins by method (password, face, refresh) and "
                   "outcome (ok, or the problem type)", ["method", "outcome"])
CONSENTS = Counter("onecode_consents", "Answers to material requests: approved or denied",
                   ["outcome"])
FACE_ANALYSES = Counter("onecode_face_analyses", "Face analyses by outcome (ok, busy, error)",
                        ["outcome"])
FACE_SECONDS = Histogram("onecode_face_analysis_duration_seconds", "Time of one face analysis, "
                         "the wait for a child included",
                         buckets=(0.05, 0.1, 0.2, 0.3, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0))
DB_POOL_IN_USE = Gauge("onecode_db_pool_connections_in_use", "Database connections checked "
                       "out of the pools, summed over live workers", multiprocess_mode="livesum")


def multiprocess() -> bool:
    return bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))


class Event:
    """The event an ``outcome`` block counts; ``skip()`` when it turned out not to happen
    there (nothing is counted)."""

    skipped = False

    def skip(self) -> None:
        self.skipped = True


@contextmanager
def outcome(counter: Counter, ok: str = "ok", **labels) -> Iterator[Event]:
    """Count one ``counter`` event: ``ok`` when the block returns, else the problem's type
    (``code-expired``), or ``error`` for anything that is not a problem."""
    event = Event()
    try:
        yield event
    except Exception as exc:
        kind = getattr(exc, "type", None)
        counter.labels(outcome=kind if isinstance(kind, str) else "error", **labels).inc()
        raise
    if not event.skipped:
        counter.labels(outcome=ok, **labels).inc()


def counted(counter: Counter, ok: str = "ok", **labels):
    """Decorator: each call counts as ``outcome`` does."""
    def decorate(fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with outcome(counter, ok, **labels):
                return fn(*args, **kwargs)
        return wrapper
    return decorate


def observe_request(route: str, method: str, status: int, seconds: float) -> None:
    labels = (route, method, str(status))
    REQUESTS.labels(*labels).inc()
    LATENCY.labels(*labels).observe(seconds)


def install_pool_gauge(engine) -> None:
    """Count the connections ``engine``'s pool has checked out (once per engine)."""
    from sqlalchemy import event

    if event.contains(engine, "checkout", _checked_out):
        return
    event.listen(engine, "checkout", _checked_out)
    event.listen(engine, "checkin", _checked_in)


def _checked_out(*_args) -> None:
    DB_POOL_IN_USE.inc()


def _checked_in(*_args) -> None:
    DB_POOL_IN_USE.dec()


class _Snapshot:
    """Figures read at scrape time (the job queue's depth), as one collector."""

    def __init__(self, queue_depth: int | None):
        self.queue_depth = queue_depth

    def collect(self):
        if self.queue_depth is not None:
            family = GaugeMetricFamily("onecode_job_queue_depth",
                                       "Jobs waiting in the queue (0 when jobs run inline)")
            family.add_metric([], self.queue_depth)
            yield family


def exposition(queue_depth: int | None) -> tuple[bytes, str]:
    """The text format of every metric, summed over the workers under gunicorn."""
    if multiprocess():
        from prometheus_client import multiprocess as mp

        registry = CollectorRegistry()
        mp.MultiProcessCollector(registry)
        body = generate_latest(registry)
    else:
        from prometheus_client import REGISTRY

        body = generate_latest(REGISTRY)
    extra = CollectorRegistry()
    extra.register(_Snapshot(queue_depth))
    return body + generate_latest(extra), CONTENT_TYPE_LATEST
