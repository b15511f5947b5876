"""PostgreSQL down answers 503 `service-unavailable` with Retry-After, as Redis does; after it
comes back, no request fails on a connection that died in the pool.

The outage is simulated without stopping the server the suite runs on: an app pointed at a
closed port, and the app's own backends terminated (``pg_terminate_backend``; on SQLite the
pooled connections are closed behind the pool's back)."""
from __future__ import annotations

import base64

import pytest
from sqlalchemy import event

from app import create_app
from core.extensions import db
from tests.codes.support import make_service_point
from tests.conftest import CHEAP_ARGON2

CLOSED = "postgresql://nobody:nothing@127.0.0.1:1/onecode"


@pytest.fixture
def down_app():
    app = create_app({
        "TESTING": True,
        "SECRET_KEY": "test-secret-key-" + "x" * 32,
        "ENCRYPTION_KEY": base64.b64encode(b"k" * 32).decode(),
        "LOG_LEVEL": "CRITICAL",
        "DATABASE_URL": CLOSED,
        "REDIS_URL": None,
        **CHEAP_ARGON2,
    })
    with app.app_context():
        yield app
        db.engine.dispose()


def _unavailable(response) -> None:
    assert response.status_code == 503, response.data[:300]
    assert response.mimetype == "application/problem+json"
    assert response.json["type"].endswith("/service-unavailable")
    assert int(response.headers["Retry-After"]) > 0


@pytest.mark.parametrize("method, path, body", [
    ("get", "/api/v1/service-items", None),
    ("get", "/.well-known/jwks.json", None),
    ("post", "/api/v1/service-points/token", {"client_id": "sp_x", "client_secret": "y"}),
    ("post", "/api/v1/auth/login", {"username": "13800138000", "password": "whatever it is"}),
    ("post", "/api/v1/residents", {"name": "王五", "id_number": "11010519491231002X",
                                   "phone": "13800138000", "password": "a long pass phrase 42"}),
])
def test_a_database_that_is_down_answers_503(down_app, method, path, body):
    client = down_app.test_client()
    response = getattr(client, method)(path, json=body)
    _unavailable(response)


def _kill_pooled_connections(engine) -> None:
    """End every connection the pool holds, as a database restart would.

    The test's requests share its application context, and with it one session; in a server
    each request's session gives its connection back to the pool when the request ends."""
    db.session.remove()
    if engine.dialect.name == "postgresql":
        import psycopg

        url = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        others = ("FROM pg_stat_activity WHERE datname = current_database() "
                  "AND pid <> pg_backend_pid() AND usename = current_user")
        with psycopg.connect(url, autocommit=True) as admin:
            pids = [row[0] for row in admin.execute(f"SELECT pid {others}").fetchall()]
            admin.execute("SELECT pg_terminate_backend(pid) FROM unnest(%s::int[]) AS pid", (pids,))
            # pg_terminate_backend only signals; wait until they are gone, as after a restart.
            for _ in range(500):
                alive = admin.execute("SELECT count(*) FROM pg_stat_activity "
                                      "WHERE pid = ANY(%s)", (pids,)).fetchone()[0]
                if not alive:
                    break
                admin.execute("SELECT pg_sleep(0.01)")
            assert pids and not alive
    else:
        for record in list(engine.pool._pool.queue):
            if record.dbapi_connection is not None:
                record.dbapi_connection.close()


def test_no_request_fails_on_a_connection_that_died_in_the_pool(committing_app):
    client = committing_app.test_client()
    scanner = make_service_point(client)
    credentials = {"client_id": scanner["client_id"], "client_secret": scanner["client_secret"]}
    for _ in range(3):
        assert client.post("/api/v1/service-points/token", json=credentials).status_code == 200
    _kill_pooled_connections(db.engine)
    for _ in range(20):
        response = client.post("/api/v1/service-points/token", json=credentials)
        assert response.status_code == 200, response.json
        assert client.get("/api/v1/service-items").status_code == 200


def test_a_backend_terminated_mid_request_answers_503_then_recovers(committing_app):
    client = committing_app.test_client()
    scanner = make_service_point(client)
    credentials = {"client_id": scanner["client_id"], "client_secret": scanner["client_secret"]}
    engine = db.engine

    killed = []

    def kill_on_select(conn, cursor, statement, *args):
        if "service_points" in statement and not killed:
            killed.append(statement)
            if engine.dialect.name == "postgresql":
                import psycopg

                url = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
                with psycopg.connect(url, autocommit=True) as admin:
                    admin.execute("SELECT pg_terminate_backend(%s)",
                                  (conn.connection.dbapi_connection.info.backend_pid,))
            else:
                conn.connection.dbapi_connection.close()

    event.listen(engine, "before_cursor_execute", kill_on_select)
    try:
        response = client.post("/api/v1/service-points/token", json=credentials)
    finally:
        event.remove(engine, "before_cursor_execute", kill_on_select)
    assert killed
    _unavailable(response)
    for _ in range(5):
        assert client.post("/api/v1/service-points/token", json=credentials).status_code == 200


def test_a_database_error_that_is_a_bug_stays_a_500(app):
    import sqlalchemy.exc

    from app import _database_error

    with app.test_request_context("/"):
        bug = sqlalchemy.exc.IntegrityError("INSERT ...", {}, Exception("duplicate"))
        assert _database_error(bug).status_code == 500
        gone = sqlalchemy.exc.OperationalError("SELECT 1", {}, Exception("server closed"))
        assert _database_error(gone).status_code == 503
