"""One unit of work per request: the request's transaction ends in one place, here.

Routes and services never commit. When the view has answered (its error handlers included)
and before the answer is sent, ``_end`` commits the request's session if the answer is a
success (status below 400) and rolls it back otherwise, so an error answer persists nothing
and a route cannot lose its writes by forgetting to commit. After the commit, the audit
entries the request recorded are sealed (``audit.seal_recorded``); the jobs and change-stamp
listeners run on the session's ``after_commit`` as for any commit.

A commit that fails (a unique constraint, the database gone) is rolled back and handled by
the app's error handlers like an exception raised in the view: the client gets that error
answer (503 for a database that is down), never a success whose writes were lost.

``keep_on_error()`` is the one named exception: a request that must keep its writes although
it answers with an error calls it (the OpenID Connect provider: a replayed authorization code
or refresh token revokes what it gave, and Authlib answers 400; a sign-in page answered 401
shows a login request that must exist). Failure counters and lockouts live in Redis and need
nothing here.

CLI commands and jobs (``core.jobs.WorkUnit``) are units of work of their own and commit.
"""
from __future__ import annotations

import logging

from flask import Flask, Response, current_app, g

from core.extensions import db

log = logging.getLogger(__name__)

_KEEP = "onecode_keep_on_error"
_INSTALLED = "onecode.unit_of_work"
_WROTE = "onecode_uow_wrote"


def keep_on_error() -> None:
    """Commit this request's work even though its answer is an error (see the module's
    docstring for who may). A failed commit still turns into an error answer."""
    setattr(g, _KEEP, True)


def release_if_read_only() -> bool:
    """End the request's transaction now if it has written nothing yet (nothing pending,
    nothing flushed), so that a request about to wait on another transaction holds no
    connection and, on SQLite, not the one write lock. True when the request holds no
    transaction afterwards; False when it has writes, which stay for the end of the request."""
    if not db.session.registry.has():
        return True
    session = db.session()
    if session.new or session.dirty or session.deleted or session.info.get(_WROTE):
        return False
    session.rollback()
    return True


def _flushed_before(session, _flush_context, _instances) -> None:
    if session.new or session.dirty or session.deleted:
        session.info[_WROTE] = True


def _statement(state) -> None:
    if state.is_insert or state.is_update or state.is_delete:
        state.session.info[_WROTE] = True


def _committed(session) -> None:
    # Fired for the outermost transaction only, while it still counts as open.
    session.info.pop(_WROTE, None)


def _rolled_back(session, _previous) -> None:
    if not session.in_transaction():  # not a savepoint's: the whole transaction ended
        session.info.pop(_WROTE, None)


def _has_work(session) -> bool:
    return session.in_transaction() or bool(session.new or session.dirty or session.deleted)


def _end(response: Response) -> Response:
    keep = g.pop(_KEEP, False)
    if not db.session.registry.has():
        return response  # the request opened no session (answers from Redis)
    session = db.session()
    if response.status_code >= 400 and not keep:
        session.rollback()
        return response
    if not _has_work(session):
        return response
    try:
        session.commit()
    except Exception as exc:
        session.rollback()
        log.warning("the request's commit failed", extra={"error_type": type(exc).__name__})
        # Through the app's error handlers, as if the view had raised it; one that has no
        # handler propagates to Flask's 500.
        return current_app.make_response(current_app.handle_user_exception(exc))
    from core import audit

    audit.seal_recorded()
    return response


def _forget(_exc=None) -> None:
    g.pop(_KEEP, None)


def install(app: Flask) -> None:
    """Register the request's unit of work on ``app`` (once; call it after every other
    ``after_request`` hook is registered, so that it runs first and the others see the
    answer the commit gave)."""
    if app.extensions.get(_INSTALLED):
        return
    app.extensions[_INSTALLED] = True
    from sqlalchemy import event
    from sqlalchemy.orm import Session

    for name, fn in (("before_flush", _flushed_before), ("do_orm_execute", _statement),
                     ("after_commit", _committed),
                     ("after_soft_rollback", _rolled_back)):
        if not event.contains(Session, name, fn):
            event.listen(Session, name, fn)
    app.after_request(_end)
    app.teardown_request(_forget)
