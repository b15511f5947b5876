"""Group commit of scans: the rows of concurrent scans written in one statement and one commit.

A scan is the platform's hottest write, and one synchronous commit per request caps it. So,
on PostgreSQL, each web worker process keeps one writer thread. A request that accepted a
code hands its row to the writer and waits; the writer takes what arrived within
``SCAN_BATCH_WAIT_MS`` (at most ``SCAN_BATCH_MAX`` rows), writes them all in one
``INSERT ... ON CONFLICT (nonce) DO NOTHING RETURNING nonce`` with their audit entries, commits
once, and then answers each request for its own row: written (the request answers 201), or
its nonce was there already (409 ``code-already-used``: the promise that outlives Redis).

Nothing is answered before the commit that holds it, so a worker killed at any moment loses
no scan it answered 201 for; a request that was waiting gets no answer (its client retries
with a new code). The batch is a transaction of its own, apart from the request's: a scan that
writes anything else (a code shown by a proxy or a member names who showed it; an offline code
spends its device step) keeps the synchronous path, in the request's unit of work, and so
does a request that wrote anything before the scan. A request hands its row over only after
ending its read-only transaction (``unit_of_work.release_if_read_only``): it holds no
connection while it waits, and on SQLite, which takes its one write lock at the start of
every transaction, not that lock either.
"""
from __future__ import annotations

import logging
import os
import queue
import threading
import time
from concurrent.futures import Future

from flask import Flask
from sqlalchemy.dialects import postgresql, sqlite

from core import audit, changes, clock
from core.errors import ServiceUnavailable
from core.extensions import db
from codes.models import Scan

log = logging.getLogger(__name__)


class ScanWriter:
    """One per web worker process (``writer()``); its thread starts on first use."""

    def __init__(self, app: Flask, batch_max: int, wait_seconds: float):
        self.app = app
        self.batch_max = batch_max
        self.wait_seconds = wait_seconds
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._pid = os.getpid()
        self._lock = threading.Lock()

    def write(self, row: dict, timeout: float) -> bool:
        """Write ``row`` (a ``scans`` row with its ``id`` and ``nonce``) in the next batch and
        wait for its commit: True when written, False when its nonce was recorded already."""
        self._ensure_thread()
        future: Future = Future()
        self._queue.put((row, future))
        try:
            return future.result(timeout=timeout)
        except TimeoutError:
            raise ServiceUnavailable("The scan could not be recorded in time; scan a new code.",
                                     headers={"Retry-After": 1}) from None

    def _ensure_thread(self) -> None:
        if self._thread is not None and self._thread.is_alive() and self._pid == os.getpid():
            return
        with self._lock:
            if self._thread is None or not self._thread.is_alive() or self._pid != os.getpid():
                self._queue = queue.SimpleQueue() if self._pid != os.getpid() else self._queue
                self._pid = os.getpid()
                self._thread = threading.Thread(target=self._run, name="scan-writer",
                                                daemon=True)
                self._thread.start()

    def _run(self) -> None:
        with self.app.app_context():
            while True:
                batch = [self._queue.get()]
                deadline = time.monotonic() + self.wait_seconds
                while len(batch) < self.batch_max:
                    left = deadline - time.monotonic()
                    if left <= 0:
                        break
                    try:
                        batch.append(self._queue.get(timeout=left))
                    except queue.Empty:
                        break
                self._write(batch)

    def _write(self, batch: list) -> None:
        rows, first = [], {}
        for row, _future in batch:
            if row["nonce"] not in first:  # the same code twice in one batch: the first wins
                first[row["nonce"]] = row["id"]
                rows.append(row)
        try:
            with db.engine.begin() as connection:
                dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
                written = {nonce for (nonce,) in connection.execute(
                    dialect.insert(Scan.__table__).values(rows)
                    .on_conflict_do_nothing(index_elements=["nonce"])
                    .returning(Scan.__table__.c.nonce))}
                entries = [{"at": row["created_at"], "action": "scan",
                            "refs": {"scan": row["id"], "service_point": row["service_point_id"],
                                     "person": row["person_id"]}}
                           for row in rows if row["nonce"] in written]
                if entries:
                    connection.execute(audit.AuditEntry.__table__.insert(), entries)
        except Exception as exc:  # noqa: BLE001 - every waiting request gets the failure
            log.error("scan batch not written", extra={"rows": len(rows),
                                                       "error_type": type(exc).__name__})
            for _row, future in batch:
                future.set_exception(exc)
            return
        # As the request's unit of work does: stamps and the seal after the commit, before
        # the answers (the rows are committed whatever happens there).
        self._after_commit([row["person_id"] for row in rows if row["nonce"] in written])
        for row, future in batch:
            future.set_result(row["nonce"] in written and first[row["nonce"]] == row["id"])

    @staticmethod
    def _after_commit(person_ids: list[str]) -> None:
        """What the request's unit of work would do after its commit: renew the scanned
        people's change stamps and have the audit entries sealed. The rows are committed
        whatever happens here."""
        if not person_ids:
            return
        try:
            changes.renew_persons(person_ids)
            audit.request_seal()
        except Exception as exc:  # noqa: BLE001
            log.error("after a scan batch", extra={"error_type": type(exc).__name__})


def writer() -> ScanWriter | None:
    """This process's writer, or None where scans are written in the request
    (``SCAN_GROUP_COMMIT`` off)."""
    from flask import current_app

    cfg = current_app.config
    if not cfg["SCAN_GROUP_COMMIT"]:
        return None
    extensions = current_app.extensions
    found = extensions.get("scan_writer")
    if found is None:
        found = extensions.setdefault("scan_writer", ScanWriter(
            current_app._get_current_object(), cfg["SCAN_BATCH_MAX"],
            cfg["SCAN_BATCH_WAIT_MS"] / 1000))
    return found


def new_row(**values) -> dict:
    """A ``scans`` row for the writer, with the defaults the ORM would fill in."""
    from core.ids import new_id

    return {"id": new_id(), "shared": [], "created_at": clock.now(), **values}
