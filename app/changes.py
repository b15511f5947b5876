"""Change stamps: a value per person in Redis, replaced after every commit that changed
something the person sees, so a per-person view (the phone's home screen) can be cached and
known stale without asking the database.

Which rows a person sees is declared next to the models, with ``watch(Model, fn)``: ``fn(row)``
returns a ``Touch`` naming person ids, queries that select person ids (a credential is filed
under its holder's index, a consent request is seen by the holder's proxies too), or
``everyone`` (a service point's name, a policy: shared by many screens). Every ORM flush runs
the watchers of the rows it inserts, changes or deletes; the queries run in the same
transaction, and once more after the commit (someone may have begun to see the rows through
another commit meanwhile). Core statements (bulk ``UPDATE``/``INSERT``) call ``touch()``
themselves.

After the commit, the stamps of everyone touched are replaced by fresh random values in one
pipeline; a rollback forgets the marks. A cache entry keeps the stamps it was built under and
is fresh while both (the person's and everyone's) are unchanged. An entry must read the stamps
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

from app.store import redis_client

log = logging.getLogger(__name__)

EVERYONE_KEY = "stamp:everyone"
STAMP_SECONDS = 24 * 3600
_PIPELINE_CHUNK = 1000
_MARKS = "onecode.changes.persons"
_EVERYONE = "onecode.changes.everyone"
_QUERIES = "onecode.changes.queries"
_RAN = "onecode.changes.ran"


def stamp_key(person_id: str) -> str:
    return f"stamp:{{{person_id}}}"


@dataclass(frozen=True)
class Touch:
    """Whose views a change reaches: these person ids, the person ids these queries select,
    or everyone's."""

    persons: tuple = ()
    queries: tuple[Select, ...] = ()
    everyone: bool = False


EVERYONE = Touch(everyone=True)

_watchers: dict[type, tuple[Callable[[object], Touch], frozenset]] = {}


def watch(model: type, fn: Callable[[object], Touch], ignore: tuple[str, ...] = ()) -> None:
    """Declare whose views change when a row of ``model`` is inserted, changed or deleted;
    changes to the ``ignore`` attributes alone (bookkeeping no view shows) reach no one."""
    _watchers[model] = (fn, frozenset(ignore))


def touch_row(session: Session, row) -> None:
    """Mark the views that ``row`` reaches stale, after a Core statement changed it."""
    watcher = _watcher_of(row)
    if watcher is not None:
        _mark(session, watcher[0](row))


def touch(session: Session, persons=(), queries=(), everyone: bool = False) -> None:
    """Mark views stale from a Core statement the ORM does not see (bulk UPDATE, INSERT);
    the stamps change after this session's commit."""
    _mark(session, Touch(tuple(persons), tuple(queries), everyone))


def _mark(session: Session, t: Touch) -> None:
    info = session.info
    if t.persons:
        info.setdefault(_MARKS, set()).update(p for p in t.persons if p)
    if t.queries:
        info.setdefault(_QUERIES, []).extend(t.queries)
    if t.everyone:
        info[_EVERYONE] = True


def _run_queries(session: Session) -> None:
    queries = session.info.pop(_QUERIES, None)
    if queries:
        connection = session.connection()
        marks = session.info.setdefault(_MARKS, set())
        for query in queries:
            marks.update(connection.execute(query).scalars())
        session.info.setdefault(_RAN, []).extend(queries)


def _persons_after_commit(session: Session, queries: list) -> set:
    """The queries once more, outside the transaction that just committed: whoever began to
    see its rows through another commit meanwhile (someone registering while a policy job
    wrote their match) is found now. Inside the transaction finds those a deletion took away;
    together they miss no one."""
    bind = session.get_bind()
    try:
        if isinstance(bind, Engine):
            with bind.connect() as connection:
                return {p for q in queries for p in connection.execute(q).scalars()}
        return {p for q in queries for p in bind.execute(q).scalars()}  # a test's joined connection
    except SQLAlchemyError as exc:
        log.warning("change stamps: persons not looked up again after the commit",
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


@event.listens_for(Session, "after_flush")
def _after_flush(session: Session, _flush_context) -> None:
    for rows, updated in ((session.new, False), (session.dirty, True), (session.deleted, False)):
        for obj in rows:
            watcher = _watcher_of(obj)
            if watcher is None or (updated and not _changed(obj, watcher[1])):
                continue
            _mark(session, watcher[0](obj))
    # Queries see this flush's rows; the final flush of a commit runs after before_commit.
    _run_queries(session)


@event.listens_for(Session, "before_commit")
def _before_commit(session: Session) -> None:
    _run_queries(session)  # those touch() left after the last flush


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint released: the marks wait for the real commit
    persons = session.info.pop(_MARKS, None) or set()
    everyone = session.info.pop(_EVERYONE, False)
    session.info.pop(_QUERIES, None)
    ran = session.info.pop(_RAN, None)
    if not has_app_context():
        return
    if ran:
        persons |= _persons_after_commit(session, ran)
    if persons or everyone:
        renew(persons, everyone)


@event.listens_for(Session, "after_soft_rollback")
def _after_rollback(session: Session, previous_transaction) -> None:
    # The whole transaction, not a savepoint (marks of a savepoint's rows may stay: a stamp
    # renewed for nothing costs one rebuild).
    if previous_transaction.parent is None:
        for key in (_MARKS, _EVERYONE, _QUERIES, _RAN):
            session.info.pop(key, None)


def renew(persons, everyone: bool = False) -> None:
    """Give these persons (and everyone, if asked) new stamps now. The commit is done: when
    Redis fails here the error is logged, not raised, and cached views stay stale until they
    expire (``HOME_CACHE_SECONDS`` at most)."""
    r = redis_client()
    persons = list(persons)
    try:
        for start in range(0, max(len(persons), 1), _PIPELINE_CHUNK):
            pipe = r.pipeline(transaction=False)
            for person_id in persons[start:start + _PIPELINE_CHUNK]:
                pipe.set(stamp_key(person_id), secrets.token_hex(8), ex=STAMP_SECONDS)
            if everyone and start == 0:
                pipe.set(EVERYONE_KEY, secrets.token_hex(8), ex=STAMP_SECONDS)
            pipe.execute()
    except redis.RedisError as exc:
        log.warning("change stamps not renewed", extra={"persons": len(persons), "error": type(exc).__name__})
