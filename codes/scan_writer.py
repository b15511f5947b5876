"""Group commit of scans: the rest of many concurrent scans done at once, in one commit.

A scan is the platform's hottest write, and one synchronous commit per request caps it. So
each web worker process keeps one writer thread. A request whose code parsed, verified and
has not expired (``codes.scans``, steps 1 to 4) hands a ``Pending`` scan to the writer and
waits. The writer takes what is queued, and waits for the scans already on their way (their
codes still being checked: ``expect``) for at most ``SCAN_BATCH_WAIT_MS``, up to
``SCAN_BATCH_MAX`` scans; then, for all of them together:

1. in one database statement on PostgreSQL (``codes.scan_store``): reads the service points
   and the people the scans name, writes the scans that pass the checks with
   ``INSERT ... ON CONFLICT (nonce) DO NOTHING`` and their audit entries, and commits;
2. answers each scan, in the order of the checks: a service point disabled since its
   worker's snapshot, or no longer in the token's generation, 401 ``client-disabled`` /
   ``token-revoked``; a person missing or not active 422 ``invalid-code``, a suspended one
   403 ``subject-suspended``; a nonce on record already 409 ``code-already-used``;
3. before answering, with one Redis pipeline: drops the holders' cached codes (their phones
   show new ones), renews their change stamps, and has the audit entries sealed.

Single use rests on the unique nonce alone here: the statement that writes the row is the
gate, so a code is accepted at most once whatever Redis remembers, and a refused scan spends
nothing. (The synchronous path keeps Redis ``SET NX`` in front of its write, see
``codes.scans``.) Nothing is answered 201 before the commit that holds its row, so a worker
killed at any moment loses no scan it answered 201 for; a request that was waiting gets no
answer (its client scans a new code). When the batch cannot be written, every request of it
gets the error (503 for a database that is down) and nothing of it is kept.

The batch is a transaction of its own, apart from the request's: a scan that writes anything
else (a code shown by a proxy or a member names who showed it; an offline code spends its
device step) keeps the synchronous path, in the request's unit of work, and so does a request
that wrote anything before the scan. A request hands its scan over only after ending its
read-only transaction (``unit_of_work.release_if_read_only``): it holds no connection while it
waits, and on SQLite, which takes its one write lock at the start of every transaction, not
that lock either.
"""
from __future__ import annotations

import logging
import os
import queue
import threading
import time
from concurrent.futures import Future
from dataclasses import dataclass

from flask import Flask

from core import audit, changes, clock
from core.auth import check_client_state
from core.errors import Problem, ServiceUnavailable
from core.ids import new_id
from core.store import redis_client
from codes.errors import CodeAlreadyUsed
from codes import scan_store
from codes.scan_rules import person_subject
from codes.service import forget_current_code

log = logging.getLogger(__name__)

# A writer idle this long gives its connection back to the pool.
_KEEP_SECONDS = 1.0


@dataclass
class Pending:
    """A scan handed to the writer: its ``scans`` row without ``person_id`` (the writer fills
    it in), the code's subject handle, and the generation of the service point's token."""

    row: dict
    handle: str
    generation: int


class Expected:
    """A scan on its way to a writer (``ScanWriter.expect``)."""

    def __init__(self, writer: "ScanWriter"):
        self._writer = writer
        self._open = True

    def done(self) -> None:
        if self._open:
            self._open = False
            self._writer._arrived()


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
        self._coming = 0  # scans on their way (``expect``), not handed over yet
        self._held = None  # the writer thread's connection, while batches come

    def expect(self) -> "Expected":
        """Note a scan on its way to this writer (its code still being checked): a batch
        waits for the scans on their way, and only for them (``SCAN_BATCH_WAIT_MS`` at
        most). The caller calls ``done()`` on what this returns when it leaves; ``write``
        does it on handing its scan over."""
        with self._lock:
            self._coming += 1
        return Expected(self)

    def _arrived(self) -> None:
        with self._lock:
            self._coming -= 1

    def write(self, pending: Pending, timeout: float, expected: Expected | None = None) -> dict:
        """Take ``pending`` in the next batch and wait for its commit: the scan's subject as
        the scanner sees it, or the scan's problem raised."""
        self._ensure_thread()
        future: Future = Future()
        self._queue.put((pending, future))
        if expected is not None:
            expected.done()  # after the put: the writer never misses a scan it waited for
        try:
            return future.result(timeout=timeout)
        except TimeoutError:
            raise ServiceUnavailable("The scan could not be recorded in time; scan a new code.",
                                     headers={"Retry-After": 1}) from None

    def _ensure_thread(self) -> None:
        if self._pid == os.getpid() and self._thread is not None and self._thread.is_alive():
            return
        with self._lock:
            if self._pid != os.getpid():  # forked: the parent's thread is not here
                self._queue, self._thread, self._pid = queue.SimpleQueue(), None, os.getpid()
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="scan-writer",
                                                daemon=True)
                self._thread.start()

    def _run(self) -> None:
        with self.app.app_context():
            while True:
                try:
                    first = self._queue.get(timeout=_KEEP_SECONDS)
                except queue.Empty:
                    self._drop_connection()  # idle: back to the pool (and its pre-ping)
                    first = self._queue.get()
                self._write(self._gather(first))

    def _gather(self, first) -> list:
        """The batch: what is queued, and the scans on their way, waited for until the
        window closes; at once when none is on its way."""
        batch = [first]
        deadline = time.monotonic() + self.wait_seconds
        while len(batch) < self.batch_max:
            try:
                batch.append(self._queue.get_nowait())
                continue
            except queue.Empty:
                pass
            left = deadline - time.monotonic()
            if self._coming <= 0 or left <= 0:
                break
            try:
                batch.append(self._queue.get(timeout=left))
            except queue.Empty:
                break
        return batch

    def _connection(self):
        """The writer's connection, kept while batches come (a checkout per batch would
        ping the database each time); a fresh one from the pool after an idle second. On
        PostgreSQL it runs in autocommit: a batch is one statement (``codes.scan_store``)."""
        if self._held is None:
            self._held = scan_store.connect()
        return self._held

    def _drop_connection(self) -> None:
        connection, self._held = self._held, None
        if connection is not None:
            try:
                connection.close()
            except Exception as exc:  # noqa: BLE001 - a dead connection: the pool discards it
                log.warning("scan writer's connection not closed cleanly",
                            extra={"error_type": type(exc).__name__})

    def _write(self, batch: list) -> None:
        try:
            answers = self._write_batch([pending for pending, _future in batch])
        except Exception as exc:  # noqa: BLE001 - every waiting request gets the failure
            log.error("scan batch not written", extra={"scans": len(batch),
                                                       "error_type": type(exc).__name__})
            for _pending, future in batch:
                future.set_exception(exc)
            return
        for (_pending, future), answer in zip(batch, answers):
            if isinstance(answer, Exception):
                future.set_exception(answer)
            else:
                future.set_result(answer)

    def _write_batch(self, batch: list[Pending]) -> list:
        """Each scan's answer, in order: its subject, or the problem to raise."""
        try:
            stored = scan_store.store(self._connection(), [p.row for p in batch],
                                      [p.generation for p in batch], [p.handle for p in batch])
        except Exception:
            self._drop_connection()
            raise
        answers = [_answer(pending, got) for pending, got in zip(batch, stored)]
        _after_commit([pending for pending, got in zip(batch, stored) if got.written])
        return answers


def _answer(pending: Pending, got: scan_store.Stored):
    """A scan's answer, its checks in the order of ``codes.scans``: the service point, the
    holder, then single use."""
    try:
        check_client_state(got.point, pending.generation)
        subject = person_subject(got.holder)
    except Problem as problem:
        return problem
    return subject if got.written else CodeAlreadyUsed()


def _after_commit(written: list[Pending]) -> None:
    """Step 3, one pipeline: drop the holders' cached codes (their phones show new ones),
    renew their change stamps, have the audit entries sealed. The rows are committed
    whatever happens here: a failure is logged (a phone's cached code and the views cached
    before the scan lapse on their own; the next seal takes the entries)."""
    if not written:
        return
    try:
        pipe = redis_client().pipeline(transaction=False)
        for handle in {pending.handle for pending in written}:
            forget_current_code(handle, pipe=pipe)  # a key a command: a cluster's slots differ
        changes.renew_persons_in(pipe, [pending.row["person_id"] for pending in written])
        sealed = audit.request_seal_in(pipe)
        sealed(pipe.execute())
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
    return {"id": new_id(), "shared": [], "created_at": clock.now(), "person_id": None, **values}
