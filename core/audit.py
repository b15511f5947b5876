"""The tamper-evident record: an append-only hash chain of what happened to whose data.

Each sealed entry's hash covers its sequence number, time, action, references and the
previous entry's hash, so editing, deleting or reordering any entry breaks every hash after
it. The references are opaque ids and keyed HMACs only: the record holds no personal data.

Writing is in two steps, so that no request waits on a lock for the whole chain:

1. ``record`` adds the entry, unsealed (no sequence number, no hash), to the caller's unit
   of work: it commits or rolls back with what it records.
2. ``seal`` runs after the commit, in a short transaction of its own: under one lock (a
   PostgreSQL advisory lock; SQLite has one writer anyway) it gives the unsealed entries,
   in the order they were written, the next sequence numbers and their hashes, and moves the
   ``audit_head`` row. One sequence, no forks; under load one seal takes many entries.

The app seals after every successful request that recorded something; a command or job that
records calls ``seal()`` after its commit. A writer that finds the lock taken leaves its entry
to the sealer at work, which looks for unsealed entries again after each of its commits.
"""
from __future__ import annotations

import hashlib
import json
import logging
import sys
import time
from dataclasses import dataclass
from datetime import datetime

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import JSON, BigInteger, Integer, String, bindparam, func, select, text, update
from sqlalchemy.orm import Mapped, mapped_column

from core import clock
from core.extensions import db
from core.store import redis_client
from core.models import UTCDateTime, insert_for

log = logging.getLogger(__name__)

GENESIS = "0" * 64
_HEAD_ID = 1
_BATCH = 500
# pg_advisory_xact_lock key of the sealer (an arbitrary constant).
_SEAL_LOCK = 0x4F4E_4541_5544_4954 & 0x7FFF_FFFF_FFFF_FFFF
_PENDING = "audit_unsealed"
_BIGINT = BigInteger().with_variant(Integer, "sqlite")


class AuditEntry(db.Model):
    __tablename__ = "audit_entries"

    # Written order (a sequence; commit order may differ); ``seq`` is the chain's order.
    id: Mapped[int] = mapped_column(_BIGINT, primary_key=True, autoincrement=True)
    seq: Mapped[int | None] = mapped_column(_BIGINT, unique=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    action: Mapped[str] = mapped_column(String(32), nullable=False)
    refs: Mapped[dict] = mapped_column(JSON, nullable=False)
    prev_hash: Mapped[str | None] = mapped_column(String(64))
    hash: Mapped[str | None] = mapped_column(String(64))


class AuditHead(db.Model):
    """The one row that names the chain's last sealed entry."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(_BIGINT, nullable=False)
    hash: Mapped[str] = mapped_column(String(64), nullable=False)


def entry_hash(seq: int, at: datetime, action: str, refs: dict, prev_hash: str) -> str:
    """SHA-256 over a canonical serialisation of the entry and the previous hash."""
    body = json.dumps([seq, clock.rfc3339(at), action, refs, prev_hash],
                      sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(body.encode()).hexdigest()


def record(action: str, **refs) -> AuditEntry:
    """Add an entry to the caller's unit of work (unsealed until ``seal`` after the commit).

    ``refs`` must be opaque ids, HMAC digests or codes: never a name, number or claim value.
    """
    entry = AuditEntry(at=clock.now(), action=action, refs=refs)
    db.session.add(entry)
    db.session.info[_PENDING] = True
    return entry


def _head() -> AuditHead:
    head = db.session.get(AuditHead, _HEAD_ID, populate_existing=True)
    if head is None:
        # The first seal ever (or after the tables were emptied): create the head, once.
        db.session.execute(insert_for(AuditHead).values(id=_HEAD_ID, seq=0, hash=GENESIS)
                           .on_conflict_do_nothing())
        head = db.session.get(AuditHead, _HEAD_ID, populate_existing=True)
    return head


def _seal_batch() -> int | None:
    """Seal up to ``_BATCH`` entries, in written order; None when another sealer is at work."""
    if db.session.get_bind().dialect.name == "postgresql":
        # The sealing commit need not wait for the disk: the entries are durable already, and
        # a seal lost in a crash only leaves them unsealed for the next one.
        _off, locked = db.session.execute(text(
            "SELECT set_config('synchronous_commit', 'off', true), pg_try_advisory_xact_lock(:key)"),
            {"key": _SEAL_LOCK}).one()
        if not locked:
            return None
    # Core statements, not the ORM: a burst of scans leaves thousands of entries to seal,
    # and each would otherwise cost an object in the identity map and its own flush.
    entries = db.session.execute(_UNSEALED).all()
    if not entries:
        return 0
    head = _head()
    seq, prev = head.seq, head.hash
    sealed = []
    for entry in entries:
        seq += 1
        digest = entry_hash(seq, clock.aware(entry.at), entry.action, entry.refs, prev)
        sealed.append({"entry_id": entry.id, "seq": seq, "prev_hash": prev, "hash": digest})
        prev = digest
    db.session.execute(_SEAL_ENTRY, sealed)
    head.seq, head.hash = seq, prev
    db.session.flush()
    return len(entries)


_UNSEALED = (select(AuditEntry.id, AuditEntry.at, AuditEntry.action, AuditEntry.refs)
             .where(AuditEntry.seq.is_(None)).order_by(AuditEntry.id).limit(_BATCH))
_SEAL_ENTRY = (update(AuditEntry.__table__)
               .where(AuditEntry.__table__.c.id == bindparam("entry_id"))
               .values(seq=bindparam("seq"), prev_hash=bindparam("prev_hash"),
                       hash=bindparam("hash")))


def _unsealed_left() -> bool:
    return db.session.scalar(select(AuditEntry.id).where(AuditEntry.seq.is_(None)).limit(1)) is not None


def seal(max_rounds: int = 100) -> int:
    """Chain the unsealed committed entries; returns how many this call sealed.

    Commits (a unit of work of its own: call it after the caller's commit, never inside one).
    It never waits for another sealer: the one at work looks again after each commit, and
    an entry committed before that look is in it, so every entry is sealed by someone.
    """
    db.session.info.pop(_PENDING, None)
    total = 0
    for _ in range(max_rounds):
        try:
            sealed = _seal_batch()
            db.session.commit()
            if sealed is None:
                return total
            total += sealed
            left = _unsealed_left()
            db.session.commit()
        except Exception:
            db.session.rollback()
            raise
        if not left:
            break
    return total


# Set for AUDIT_SEAL_WINDOW_MS by the writer that queues a seal job; see ``request_seal``.
_SEAL_QUEUED = "audit:seal-queued"


def request_seal() -> None:
    """After a commit that recorded entries: make sure a seal runs soon.

    Synchronous queue (embedded, tests): seal here and now. A real queue: the first writer of
    a window (AUDIT_SEAL_WINDOW_MS) sets a flag that lapses with the window and queues one
    seal job; the job waits for the flag to lapse before it looks. Every writer that found
    the flag set had committed before it looked, so before the lapse, so its entry is in the
    job's look: nothing is left unsealed, and a burst of writers costs one seal per window.
    """
    pipe = redis_client().pipeline(transaction=False)
    answered = request_seal_in(pipe)
    answered(pipe.execute() if len(pipe) else [])


def request_seal_in(pipe):
    """``request_seal`` with its flag set among the commands of the caller's pipeline (none
    with a synchronous queue); call what this returns with the pipeline's answers once it
    has run."""
    from core import jobs

    if jobs.synchronous():
        return lambda _answers: seal()
    pipe.set(_SEAL_QUEUED, 1, nx=True, px=current_app.config["AUDIT_SEAL_WINDOW_MS"])
    position = len(pipe) - 1

    def answered(answers) -> None:
        if answers[position]:
            jobs.enqueue_now(seal_job)

    return answered


def seal_job() -> int:
    """The job: wait for the window to close, then chain everything unsealed."""
    from core import jobs

    with jobs.WorkUnit():
        left_ms = redis_client().pttl(_SEAL_QUEUED)
        if left_ms > 0:
            # Real time, not business time: the writers of the window are really writing.
            time.sleep(left_ms / 1000)
        return seal()


def seal_recorded() -> None:
    """After the request's commit (``core.unit_of_work``): seal the entries it recorded, if
    any. Its own work is committed whatever happens here: a failure is logged and the next
    seal takes these entries."""
    if not db.session.info.get(_PENDING):
        return
    try:
        request_seal()
    except Exception as exc:
        log.error("audit seal failed; the next seal takes these entries",
                  extra={"error_type": type(exc).__name__})


@dataclass
class ChainReport:
    entries: int
    last_seq: int
    last_hash: str
    broken_at: int | None = None
    reason: str | None = None
    unsealed: int = 0

    @property
    def ok(self) -> bool:
        return self.broken_at is None


def verify_chain() -> ChainReport:
    """Walk the chain from the first entry; the report names the first break, if any."""
    expected_seq, prev, count = 1, GENESIS, 0
    rows = db.session.execute(select(AuditEntry).where(AuditEntry.seq.is_not(None))
                              .order_by(AuditEntry.seq).execution_options(yield_per=1000)).scalars()
    for entry in rows:
        count += 1
        reason = None
        if entry.seq != expected_seq:
            reason = f"expected entry {expected_seq}, found {entry.seq} (entries missing)"
        elif entry.prev_hash != prev:
            reason = "does not link to the entry before it"
        elif entry_hash(entry.seq, clock.aware(entry.at), entry.action, entry.refs,
                        entry.prev_hash) != entry.hash:
            reason = "its content does not match its hash (edited)"
        if reason:
            return ChainReport(count, entry.seq, entry.hash, broken_at=entry.seq, reason=reason)
        expected_seq, prev = entry.seq + 1, entry.hash
    head = db.session.get(AuditHead, _HEAD_ID)
    unsealed = db.session.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.seq.is_(None)))
    last_seq = expected_seq - 1
    if head is not None and (head.seq != last_seq or head.hash != prev):
        return ChainReport(count, last_seq, prev, broken_at=last_seq + 1,
                           reason=f"the head names entry {head.seq}: entries after {last_seq} are missing")
    return ChainReport(count, last_seq, prev, unsealed=unsealed)


audit_cli = AppGroup("audit", help="The tamper-evident audit log.")


@audit_cli.command("verify")
def verify_command():
    """Check the hash chain end to end; exits 1 at the first break.

    Entries not sealed yet (written in the last moments) are counted, not checked."""
    report = verify_chain()
    click.echo(json.dumps({"ok": report.ok, "entries": report.entries, "last_seq": report.last_seq,
                           "last_hash": report.last_hash, "broken_at": report.broken_at,
                           "reason": report.reason, "unsealed": report.unsealed}))
    if not report.ok:
        sys.exit(1)


@audit_cli.command("seal")
def seal_command():
    """Chain entries left unsealed (say, by a process that stopped between its commit and its
    seal); prints {"sealed": n}."""
    click.echo(json.dumps({"sealed": seal()}))
