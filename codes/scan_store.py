"""The database step of a batch of scans (``codes.scan_writer``): read the service points and
the people the scans name, and write the scans that may be written, with their audit entries.

On PostgreSQL this is **one statement**, run on its own (autocommit), so a batch costs one
round trip to the database, its commit included: the batch's rows go in as one JSON array, are joined
to ``persons`` by handle and to ``service_points`` by id, the rows that may be written are
inserted ``ON CONFLICT (nonce) DO NOTHING``, the audit entry of each row written is inserted
from what that insert returned, and the statement answers, for every row, what the checks
need and whether the row was written. A single statement is atomic: its scans and their audit
entries are committed together or not at all, and durable when it returns.

Elsewhere (SQLite, the embedded default) the same happens as several statements in one
transaction.
"""
from __future__ import annotations

import json
from dataclasses import dataclass

from sqlalchemy import bindparam, select
from sqlalchemy.dialects import sqlite

from core.audit import AuditEntry
from core.extensions import db
from codes.models import Scan, ServicePoint
from identity.models import Person

_PEOPLE = Person.__table__
_POINTS = ServicePoint.__table__
_SCANS = Scan.__table__


@dataclass(frozen=True)
class Point:
    active: bool
    generation: int


@dataclass(frozen=True)
class Holder:
    id: str
    name: str
    status: str
    assurance_level: int


@dataclass(frozen=True)
class Stored:
    """What the database says of one row of the batch."""

    point: Point | None     # its service point now (None: there is none)
    holder: Holder | None   # the person its code names (None: there is none)
    written: bool           # the row is on record (it passed the checks, and its nonce was
                            # not on record already: its code was not used before)


def connect():
    """A connection for ``store``: in autocommit on PostgreSQL, where a batch is one
    statement (no BEGIN, no COMMIT: one round trip)."""
    connection = db.engine.connect()
    if connection.dialect.name == "postgresql":
        connection = connection.execution_options(isolation_level="AUTOCOMMIT")
    return connection


def _may_write(point: Point | None, generation: int, holder: Holder | None) -> bool:
    """Whether a row passes the checks: its service point active and in the token's
    generation, its holder active (the answers for each refusal: ``codes.scan_writer``)."""
    return (point is not None and point.active and point.generation == generation
            and holder is not None and holder.status == "active")


def store(connection, rows: list[dict], generations: list[int],
          handles: list[str]) -> list[Stored]:
    """Check and write a batch, committed on return: ``rows`` are ``scans`` rows
    (``person_id`` filled in here), each with the generation of its service point's token and
    the handle its code names; ``connection`` is one from ``connect``. One answer per row; of
    rows with the same nonce, at most one is written."""
    if connection.dialect.name == "postgresql":
        return _store_postgresql(connection, rows, generations, handles)
    return _store_portable(connection, rows, generations, handles)


_BATCH_SQL = """
WITH input AS (
    SELECT * FROM json_to_recordset(CAST(%(batch)s AS json))
        AS i(id varchar, point varchar, generation integer, handle varchar, purpose varchar,
             nonce varchar, created_at timestamptz, expires_at timestamptz)
), checked AS (
    SELECT i.*, p.id AS person_id, p.name, p.status, p.assurance_level,
           sp.active AS point_active, sp.generation AS point_generation
    FROM input i
    LEFT JOIN persons p ON p.handle = i.handle
    LEFT JOIN service_points sp ON sp.id = i.point
), written AS (
    INSERT INTO scans (id, service_point_id, subject_kind, person_id, purpose, code_kind,
                       created_at, expires_at, shared, nonce)
    SELECT id, point, 'person', person_id, purpose, 'online', created_at, expires_at,
           CAST('[]' AS json), nonce
    FROM checked
    WHERE point_active AND point_generation = generation AND status = 'active'
    ON CONFLICT (nonce) DO NOTHING
    RETURNING id, service_point_id, person_id, created_at
), audited AS (
    INSERT INTO audit_entries (at, action, refs)
    SELECT created_at, 'scan',
           json_build_object('scan', id, 'service_point', service_point_id, 'person', person_id)
    FROM written
)
SELECT c.id, c.point_active, c.point_generation, c.person_id, c.name, c.status,
       c.assurance_level, w.id IS NOT NULL AS written
FROM checked c LEFT JOIN written w ON w.id = c.id
"""


def _store_postgresql(connection, rows, generations, handles) -> list[Stored]:
    # The writer's connection is in autocommit on PostgreSQL: no BEGIN, no COMMIT, one trip.
    # The batch goes as one JSON document: one parameter to encode, whatever its size.
    batch = json.dumps([
        {"id": r["id"], "point": r["service_point_id"], "generation": generation,
         "handle": handle, "purpose": r["purpose"], "nonce": r["nonce"],
         "created_at": r["created_at"].isoformat(), "expires_at": r["expires_at"].isoformat()}
        for r, generation, handle in zip(rows, generations, handles)])
    # psycopg's own connection (in autocommit: ``connect``): this statement
    # needs nothing of SQLAlchemy's, whose execution machinery would cost more than it does.
    found = {got[0]: got for got in
             connection.connection.driver_connection.execute(_BATCH_SQL, {"batch": batch})}
    answers = []
    for row in rows:
        _id, active, generation, person_id, name, status, level, written = found[row["id"]]
        point = Point(active, generation) if active is not None else None
        holder = Holder(person_id, name, status, level) if person_id is not None else None
        if holder is not None:
            row["person_id"] = holder.id
        answers.append(Stored(point, holder, bool(written)))
    return answers


_INSERT = sqlite.insert(_SCANS).on_conflict_do_nothing(index_elements=["nonce"]).returning(
    _SCANS.c.nonce)
_READ_POINTS = select(_POINTS.c.id, _POINTS.c.active, _POINTS.c.generation).where(
    _POINTS.c.id.in_(bindparam("ids", expanding=True)))
_READ_PEOPLE = select(_PEOPLE.c.handle, _PEOPLE.c.id, _PEOPLE.c.name, _PEOPLE.c.status,
                      _PEOPLE.c.assurance_level).where(
    _PEOPLE.c.handle.in_(bindparam("handles", expanding=True)))


def _store_portable(connection, rows, generations, handles) -> list[Stored]:
    with connection.begin():  # committed at the end of the block
        points = {r.id: Point(r.active, r.generation) for r in connection.execute(
            _READ_POINTS, {"ids": list({r["service_point_id"] for r in rows})})}
        people = {r.handle: Holder(r.id, r.name, r.status, r.assurance_level)
                  for r in connection.execute(_READ_PEOPLE, {"handles": list(set(handles))})}
        to_write, nonces_seen = [], set()
        for row, generation, handle in zip(rows, generations, handles):
            holder = people.get(handle)
            if holder is not None:
                row["person_id"] = holder.id
            if (_may_write(points.get(row["service_point_id"]), generation, holder)
                    and row["nonce"] not in nonces_seen):  # the same code twice: the first
                nonces_seen.add(row["nonce"])
                to_write.append(row)
        nonces = set(connection.execute(_INSERT, to_write).scalars()) if to_write else set()
        written = {r["id"] for r in to_write if r["nonce"] in nonces}
        entries = [{"at": r["created_at"], "action": "scan",
                    "refs": {"scan": r["id"], "service_point": r["service_point_id"],
                             "person": r["person_id"]}}
                   for r in to_write if r["id"] in written]
        if entries:
            connection.execute(AuditEntry.__table__.insert(), entries)
    return [Stored(points.get(row["service_point_id"]), people.get(handle), row["id"] in written)
            for row, handle in zip(rows, handles)]
