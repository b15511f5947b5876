"""Change stamps: a value per person in Redis, replaced after every commit that changed
something the person sees, so a per-person view (the phone's home screen) can be cached and
known stale without asking the database.

Which rows a person sees is declared next to the models, with ``watch(Model, fn)``: ``fn(row)``
returns a ``Touch`` naming person ids, holder indexes (credentials and policy matches are
filed under one; a holder's stamp needs no lookup and exists before they register), queries
that select person ids (a consent request is seen by the holder's proxies too), or
``everyone`` (a service point's name, a policy: shared by many screens). A person's view
depends on three stamps: their own, their holder index's, and everyone's. Every ORM flush runs
the watchers of the rows it inserts, changes or deletes; their queries run after the commit,
on a connection of their own, so that someone who began to see the rows through another
commit meanwhile is found too. Core statements (bulk ``UPDATE``/``INSERT``) call ``touch()``
themselves.

After the commit, the stamps of everyone touched are replaced by fresh random values in one
pipeline; a rollback forgets the marks. A cache entry keeps the stamps it was built under and
is fresh while all of them are unchanged. An entry must read the stamps
*before* it reads the database and a writer replaces them *after* its commit, so an entry
built from data older than a change never carries the stamp that follows the change.

Stamps are random rather than counters, so a stamp that expires never comes back to a value an
old entry holds; they outlive every cache entry (``STAMP_SECONDS``).
"""
from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass

import redis
from flask import has_app_context
from sqlalchemy import event, inspect
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session
from sqlalchemy.sql import Select

from core.store import redis_client

log = logging.getLogger(__name__)

EVERYONE_KEY = "stamp:everyone"
STAMP_SECONDS = 24 * 3600
_PIPELINE_CHUNK = 1000
_MARKS = "onecode.changes.stamps"
_QUERIES = "onecode.changes.queries"


def stamp_key(person_id: str) -> str:
    return f"stamp:{{{person_id}}}"


def holder_stamp_key(holder_index: str) -> str:
    """The stamp of what is filed under a holder index (credentials, policy matches): it
    exists before its holder registers, so no lookup is needed to renew it."""
    return f"stamp:h:{{{holder_index}}}"


@dataclass(frozen=True)
class Touch:
    """Whose views a change reaches: these person ids, the holders of these holder indexes,
    the person ids these queries select, or everyone's."""

    persons: tuple = ()
    holders: tuple = ()
    queries: tuple[Select, ...] = ()
    everyone: bool = False


EVERYONE = Touch(everyone=True)

_watchers: dict[type, tuple[Callable[[object], Touch], frozenset]] = {}


def watch(model: type, fn: Callable[[object], Touch], ignore: tuple[str, ...] = ()) -> None:
    """Declare whose views change when a row of ``model`` is inserted, changed or deleted;
    changes to the ``ignore`` attributes alone (bookkeeping no view shows) reach no one.

    ``fn``'s queries run after the commit, so they select the people as they are then: a row
    deleted together with the people a query would select must name them in ``persons``."""
    _watchers[model] = (fn, frozenset(ignore))


def touch(session: Session, persons=(), holders=(), queries=(), everyone: bool = False) -> None:
    """Mark views stale from a Core statement the ORM does not see (bulk UPDATE, INSERT);
    the stamps change after this session's commit."""
    mark(session, Touch(tuple(persons), tuple(holders), tuple(queries), everyone))


def mark(session: Session, reach: Touch) -> None:
    """Mark the views ``reach`` names stale; the stamps change after this session's commit."""
    stamps = session.info.setdefault(_MARKS, set())
    stamps.update(stamp_key(p) for p in reach.persons if p)
    stamps.update(holder_stamp_key(h) for h in reach.holders if h)
    if reach.everyone:
        stamps.add(EVERYONE_KEY)
    if reach.queries:
        session.info.setdefault(_QUERIES, []).extend(reach.queries)


def _persons_after_commit(session: Session, queries: list) -> set:
    """The person ids the queries select, read after the commit on a connection of its own:
    it sees this commit and every other one before it, so whoever began to see the rows
    meanwhile (a proxy accepted while a consent request was written) is found too."""
    bind = session.get_bind()
    try:
        if isinstance(bind, Engine):
            # Autocommit: a read on its own needs no BEGIN and no ROLLBACK round trips.
            with bind.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                return {p for q in queries for p in connection.execute(q).scalars()}
        return {p for q in queries for p in bind.execute(q).scalars()}  # a test's joined connection
    except SQLAlchemyError as exc:
        log.warning("change stamps: persons not looked up after the commit",
                    extra={"error_type": type(exc).__name__})
        return set()


def _watcher_of(obj):
    for cls in type(obj).__mro__:
        watcher = _watchers.get(cls)
        if watcher is not None:
            return watcher
    return None


def _changed(obj, ignore: frozenset) -> bool:
    return any(attr.history.has_changes() for attr in inspect(obj).attrs if attr.key not in ignore)


def _after_flush(session: Session, _flush_context) -> None:
    for rows, updated in ((session.new, False), (session.dirty, True), (session.deleted, False)):
        for obj in rows:
            watcher = _watcher_of(obj)
            if watcher is None or (updated and not _changed(obj, watcher[1])):
                continue
            mark(session, watcher[0](obj))


def _after_commit(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint released: the marks wait for the real commit
    stamps = session.info.pop(_MARKS, None) or set()
    queries = session.info.pop(_QUERIES, None)
    if not has_app_context():
        return
    if queries:
        stamps |= {stamp_key(p) for p in _persons_after_commit(session, queries)}
    if stamps:
        _renew(stamps)


def _after_rollback(session: Session, previous_transaction) -> None:
    # The whole transaction, not a savepoint (marks of a savepoint's rows may stay: a stamp
    # renewed for nothing costs one rebuild).
    if previous_transaction.parent is None:
        for key in (_MARKS, _QUERIES):
            session.info.pop(key, None)


_LISTENERS = (("after_flush", _after_flush), ("after_commit", _after_commit),
              ("after_soft_rollback", _after_rollback))


def register_listeners() -> None:
    """Connect this module's ``Session`` listeners, once per process (the factory calls it;
    importing the module connects nothing)."""
    for name, fn in _LISTENERS:
        if not event.contains(Session, name, fn):
            event.listen(Session, name, fn)


def renew_persons_in(pipe, person_ids) -> None:
    """After a commit made without the ORM session (a Core statement on a connection of its
    own): renew these people's stamps, as commands of the caller's pipeline (sent after its
    commit), so that they cost no round trip of their own."""
    for person_id in set(person_ids):
        _renew_in(pipe, stamp_key(person_id))


def _renew_in(pipe, key: str) -> None:
    pipe.set(key, secrets.token_hex(8), ex=STAMP_SECONDS)


def _renew(keys) -> None:
    """New random values for these stamps. The commit is done: when Redis fails here the
    error is logged, not raised, and cached views stay stale until they expire
    (``HOME_CACHE_SECONDS`` at most)."""
    r = redis_client()
    keys = list(keys)
    try:
        for start in range(0, len(keys), _PIPELINE_CHUNK):
            pipe = r.pipeline(transaction=False)
            for key in keys[start:start + _PIPELINE_CHUNK]:
                _renew_in(pipe, key)
            pipe.execute()
    except redis.RedisError as exc:
        log.warning("change stamps not renewed", extra={"stamps": len(keys), "error_type": type(exc).__name__})
