"""Fixtures shared by every test.

The schema is migrated once per test session (one database per xdist worker); each test runs
inside a transaction that is rolled back, with the app's sessions joining it through a
SAVEPOINT. Redis is flushed between tests. Time is moved with the ``clock`` fixture, never slept.

``DATABASE_URL`` / ``REDIS_URL`` point the suite at real PostgreSQL and Redis; unset, it runs on
SQLite and fakeredis.
"""
from __future__ import annotations

import base64
import os
import uuid
from contextlib import contextmanager
from datetime import datetime, timezone

import pytest
import time_machine
from sqlalchemy import event
from sqlalchemy.engine import make_url

from flask_sqlalchemy.session import Session

from app import create_app
from core.extensions import db
from core.store import redis_client

START = datetime(2026, 11, 25, 9, 0, 0, tzinfo=timezone.utc)
# Rows that migrations put in (reference data): committing tests leave these tables alone.
SEEDED_BY_MIGRATIONS = frozenset({"credential_types"})
# Every app the tests build hashes passwords at argon2id's smallest cost (8 KiB, the least
# argon2 accepts for one lane; one pass): the suite checks how hashing behaves, not how
# slow it is. tests/identity/test_password_cost.py checks the production defaults.
CHEAP_ARGON2 = {"ARGON2_MEMORY_KIB": 8, "ARGON2_TIME_COST": 1, "ARGON2_PARALLELISM": 1}


def _worker_number(config) -> int:
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    return int(worker[2:]) if worker.startswith("gw") else 0


def _admin(url):
    import psycopg

    admin = url.set(drivername="postgresql")
    return psycopg.connect(admin.render_as_string(hide_password=False), autocommit=True)


def _postgres_test_url(base_url: str, worker: int, request, purpose: str = "test") -> str:
    """A fresh database of its own for this worker of this run (and ``purpose``: the
    suite's, or one a test's servers use), dropped when the run ends.

    The run's id is in the name, so two runs against one server do not drop each other's.
    """
    url = make_url(base_url.replace("postgres://", "postgresql://", 1))
    run = os.environ.get("PYTEST_XDIST_TESTRUNUID", uuid.uuid4().hex)[:8]
    name = f"{url.database}_{purpose}_{run}_{worker}"
    with _admin(url) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')

    def drop():
        with _admin(url) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    request.addfinalizer(drop)
    return url.set(database=name).render_as_string(hide_password=False)


def _redis_test_url(base_url: str, worker: int) -> str:
    """A database of its own for each xdist worker; a cluster has only database 0 (run the
    suite with ``-n 0`` on one)."""
    if os.environ.get("REDIS_CLUSTER"):
        return base_url
    url = base_url.rstrip("/")
    scheme, _, rest = url.partition("://")
    host = rest.split("/", 1)[0]
    return f"{scheme}://{host}/{worker + 1}"


@pytest.fixture(scope="session")
def base_app(request, tmp_path_factory):
    worker = _worker_number(request.config)
    overrides = {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key-" + "x" * 32,
        "ENCRYPTION_KEY": base64.b64encode(b"k" * 32).decode(),
        "LOG_LEVEL": "WARNING",
        "PUBLIC_URL": "http://onecode.test",
        # Each test's writes are rolled back; a batch commits apart from the test's
        # transaction, so group commit is turned on by the tests that need it.
        "SCAN_GROUP_COMMIT": False,
        **CHEAP_ARGON2,
    }
    database_url = os.environ.get("DATABASE_URL")
    if database_url:
        overrides["DATABASE_URL"] = _postgres_test_url(database_url, worker, request)
    else:
        overrides["DATABASE_URL"] = f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"
    redis_url = os.environ.get("REDIS_URL")
    overrides["REDIS_URL"] = _redis_test_url(redis_url, worker) if redis_url else None
    app = create_app(overrides)
    with app.app_context():
        from flask_migrate import upgrade

        upgrade()
    return app


def _fresh_process_state() -> None:
    """Empty Redis and the worker's one-second snapshots of the signing keys and of the
    service points: the database they describe is rolled back between tests."""
    from codes.keys import forget_cached_keys
    from core.clients import forget_cached

    redis_client().flushdb()
    from core.store import jobs_redis

    if jobs_redis() is not redis_client():
        jobs_redis().flushdb()
    forget_cached_keys()
    forget_cached()


@pytest.fixture
def app(base_app):
    """The app, with every database write of the test rolled back at its end."""
    with base_app.app_context():
        connection = db.engine.connect()
        outer = connection.begin()
        original = db.session

        class JoinedSession(Session):
            # Flask-SQLAlchemy's get_bind picks the engine by bind key and would ignore
            # ``bind``; every session of the test must use the one connection.
            def get_bind(self, *args, **kwargs):
                return connection

        db.session = db._make_scoped_session(
            {"class_": JoinedSession, "bind": connection, "join_transaction_mode": "create_savepoint"})
        _fresh_process_state()
        try:
            yield base_app
        finally:
            _fresh_process_state()
            db.session.remove()
            db.session = original
            outer.rollback()
            connection.close()


@pytest.fixture
def committing_app(base_app):
    """The app with real commits, for tests that write from several threads at once.

    Every table is emptied afterwards, so no other test sees what this one wrote.
    """
    with base_app.app_context():
        _fresh_process_state()
        try:
            yield base_app
        finally:
            db.session.remove()
            with db.engine.begin() as conn:
                for table in reversed(db.metadata.sorted_tables):
                    if table.name not in SEEDED_BY_MIGRATIONS:
                        conn.execute(table.delete())
            _fresh_process_state()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def clock():
    """Frozen time at ``START``; ``clock.shift(seconds)`` moves it."""
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


@pytest.fixture
def count_queries(app):
    """``with count_queries() as counted: ...`` then ``counted.n`` is the SQL statements run."""

    @contextmanager
    def counter():
        class Counted:
            n = 0
            statements: list = []

        counted = Counted()
        counted.statements = []

        def _count(conn, cursor, statement, *args):
            if not statement.lstrip().upper().startswith(("SAVEPOINT", "RELEASE", "ROLLBACK TO")):
                counted.n += 1
                counted.statements.append(statement)

        engine = db.engine
        event.listen(engine, "before_cursor_execute", _count)
        try:
            yield counted
        finally:
            event.remove(engine, "before_cursor_execute", _count)

    return counter
