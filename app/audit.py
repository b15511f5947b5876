"""The tamper-evident record: an append-only hash chain of what happened to whose data.

Each entry's hash covers its sequence number, time, action, references and the previous
entry's hash, so editing, deleting or reordering any entry breaks every hash after it. The
references are opaque ids and keyed HMACs only: the record holds no personal data in clear.

One chain, no forks: ``record`` first bumps the single ``audit_head`` row (``UPDATE ...
RETURNING``), which takes that row's lock until the transaction ends, so concurrent writers
append one after another in commit order on PostgreSQL, and SQLite has one writer anyway.
Call it last in a unit of work, so that the lock is held only until the commit.
"""
from __future__ import annotations

import hashlib
import json
import sys
from dataclasses import dataclass
from datetime import datetime

import click
from flask.cli import AppGroup
from sqlalchemy import JSON, BigInteger, Integer, String, select, update
from sqlalchemy.orm import Mapped, mapped_column

from app import clock
from app.extensions import db
from app.models import UTCDateTime, insert_for

GENESIS = "0" * 64
_HEAD_ID = 1


class AuditEntry(db.Model):
    __tablename__ = "audit_entries"

    seq: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True,
                                     autoincrement=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    action: Mapped[str] = mapped_column(String(32), nullable=False)
    refs: Mapped[dict] = mapped_column(JSON, nullable=False)
    prev_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    hash: Mapped[str] = mapped_column(String(64), nullable=False)


class AuditHead(db.Model):
    """The one row that names the chain's last entry; its lock orders the writers."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), nullable=False)
    hash: Mapped[str] = mapped_column(String(64), nullable=False)


def entry_hash(seq: int, at: datetime, action: str, refs: dict, prev_hash: str) -> str:
    """SHA-256 over a canonical serialisation of the entry and the previous hash."""
    body = json.dumps([seq, clock.rfc3339(at), action, refs, prev_hash],
                      sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(body.encode()).hexdigest()


def _bump_head() -> tuple[int, str]:
    bump = (update(AuditHead).where(AuditHead.id == _HEAD_ID)
            .values(seq=AuditHead.seq + 1).returning(AuditHead.seq, AuditHead.hash))
    row = db.session.execute(bump).one_or_none()
    if row is None:
        # The first entry ever (or after the tables were emptied): create the head, once.
        db.session.execute(insert_for(AuditHead).values(id=_HEAD_ID, seq=0, hash=GENESIS)
                           .on_conflict_do_nothing())
        row = db.session.execute(bump).one()
    return row[0], row[1]


def record(action: str, **refs) -> AuditEntry:
    """Append an entry (flushed, committed with the caller's unit of work) and return it.

    ``refs`` must be opaque ids, HMAC digests or codes: never a name, number or claim value.
    """
    seq, prev = _bump_head()
    at = clock.now()
    digest = entry_hash(seq, at, action, refs, prev)
    entry = AuditEntry(seq=seq, at=at, action=action, refs=refs, prev_hash=prev, hash=digest)
    db.session.add(entry)
    db.session.execute(update(AuditHead).where(AuditHead.id == _HEAD_ID).values(hash=digest))
    db.session.flush()
    return entry


@dataclass
class ChainReport:
    entries: int
    last_seq: int
    last_hash: str
    broken_at: int | None = None
    reason: str | None = None

    @property
    def ok(self) -> bool:
        return self.broken_at is None


def verify_chain() -> ChainReport:
    """Walk the chain from the first entry; the report names the first break, if any."""
    expected_seq, prev, count = 1, GENESIS, 0
    rows = db.session.execute(select(AuditEntry).order_by(AuditEntry.seq).execution_options(
        yield_per=1000)).scalars()
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
    last_seq = expected_seq - 1
    if head is not None and (head.seq != last_seq or head.hash != prev):
        return ChainReport(count, last_seq, prev, broken_at=last_seq + 1,
                           reason=f"the head names entry {head.seq}: entries after {last_seq} are missing")
    return ChainReport(count, last_seq, prev)


audit_cli = AppGroup("audit", help="The tamper-evident audit log.")


@audit_cli.command("verify")
def verify_command():
    """Check the hash chain end to end; exits 1 at the first break."""
    report = verify_chain()
    click.echo(json.dumps({"ok": report.ok, "entries": report.entries, "last_seq": report.last_seq,
                           "last_hash": report.last_hash, "broken_at": report.broken_at,
                           "reason": report.reason}))
    if not report.ok:
        sys.exit(1)
