"""Fixtures for the code tests: a signed-in resident, a service point and its token."""
from __future__ import annotations

import pytest
from flask_sqlalchemy.session import Session as _FlaskSession

from app.extensions import db
from app.store import redis_client
from tests.codes.support import make_service_point


class _JoinedSession(_FlaskSession):
    """Flask-SQLAlchemy's ``Session.get_bind`` picks the engine and ignores ``bind``, so a
    session made with ``bind=connection`` would still commit through the engine for real.
    This one uses the connection it was given, so the test's outer transaction holds."""

    def get_bind(self, mapper=None, clause=None, bind=None, **kwargs):
        return bind if bind is not None else self.bind


@pytest.fixture
def app(base_app):
    """The root ``app`` fixture, with sessions that really join the rolled-back transaction."""
    with base_app.app_context():
        connection = db.engine.connect()
        outer = connection.begin()
        original = db.session
        db.session = db._make_scoped_session({
            "class_": _JoinedSession, "bind": connection,
            "join_transaction_mode": "create_savepoint"})
        redis_client().flushdb()
        try:
            yield base_app
        finally:
            db.session.remove()
            db.session = original
            outer.rollback()
            connection.close()
            redis_client().flushdb()


@pytest.fixture(autouse=True)
def _no_cached_keys(base_app):
    # Each worker keeps a one-second snapshot of the signing keys; the tests roll the
    # database back between them, so a snapshot must not outlive its test.
    base_app.extensions.pop("code_keys", None)
    yield
    base_app.extensions.pop("code_keys", None)


@pytest.fixture
def holder(client, clock):
    """A registered, signed-in resident (time is frozen first, so tokens are not from the future)."""
    from tests.helpers import resident

    return resident(client)


@pytest.fixture
def scanner(app, client, clock):
    """A service point that may scan for identity checks and service handling, with its token."""
    return make_service_point(client, purposes=["identity-check", "service-handling"])
