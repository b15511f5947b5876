"""One unit of work per request (core/unit_of_work.py): a success commits, an error answer
persists nothing, a failed commit is the error answer, and routes never commit themselves.

The routes here are a test-only blueprint on an app of their own, over the test database
with real commits (``committing_app`` empties the tables afterwards). Writes are looked for
through a connection of the test's own, so only what was committed is found.

The deliberate "kept although refused" cases are the OpenID Connect provider's:
``tests/partners/test_authorize.py::test_a_code_works_once_and_its_reuse_revokes_what_it_gave``
and ``::test_refresh_tokens_rotate_and_a_replay_ends_the_grant`` (Authlib answers 400 and
the revocation sticks). Sign-in failures and lockouts are counted in Redis, outside any
transaction: ``tests/face/test_device_proof.py::test_refused_proofs_count_towards_the_lockout``
and ``tests/face/test_enrolment_password.py::test_wrong_passwords_here_lock_the_password_sign_in``.
"""
from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy.exc
from flask import Blueprint
from flask_sqlalchemy.session import Session
from sqlalchemy import create_engine, event, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session as OrmSession
from werkzeug.exceptions import Conflict

from app import create_app
from core import audit, changes, jobs
from core.audit import AuditEntry
from core.extensions import db
from core.unit_of_work import keep_on_error

ROOT = Path(__file__).resolve().parents[2]
_test_bp = Blueprint("uow_test", __name__)


@_test_bp.post("/_uow/write")
def _write():
    audit.record("uow-test")
    return {"ok": True}


@_test_bp.post("/_uow/write-then-refuse")
def _write_then_refuse():
    audit.record("uow-test")
    db.session.flush()
    raise Conflict("Refused after writing.")


@_test_bp.post("/_uow/write-then-answer-400")
def _write_then_answer_400():
    audit.record("uow-test")
    return {"error": "invalid_grant"}, 400


@_test_bp.post("/_uow/keep-then-answer-400")
def _keep_then_answer_400():
    audit.record("uow-test")
    keep_on_error()
    return {"error": "invalid_grant"}, 400


@pytest.fixture(scope="module")
def uow_app(base_app):
    keys = ("TESTING", "SECRET_KEY", "ENCRYPTION_KEY", "LOG_LEVEL", "PUBLIC_URL",
            "DATABASE_URL", "REDIS_URL")
    test_app = create_app({k: base_app.config.get(k) for k in keys})
    test_app.register_blueprint(_test_bp)
    return test_app


@pytest.fixture
def uow_client(committing_app, uow_app):
    return uow_app.test_client()


def _committed() -> list[AuditEntry]:
    """The test entries committed, read on a connection of its own."""
    with db.engine.connect() as conn:
        return list(conn.execute(select(AuditEntry.seq).where(AuditEntry.action == "uow-test")))


def test_a_success_commits_without_a_route_commit_and_seals_the_audit_chain(uow_client):
    assert uow_client.post("/_uow/write").status_code == 200
    (entry,) = _committed()
    assert entry.seq is not None  # sealed after the commit


def test_an_error_raised_after_a_write_persists_nothing(uow_client):
    response = uow_client.post("/_uow/write-then-refuse")
    assert response.status_code == 409
    assert response.mimetype == "application/problem+json"
    assert _committed() == []


def test_an_error_answer_returned_persists_nothing(uow_client):
    assert uow_client.post("/_uow/write-then-answer-400").status_code == 400
    assert _committed() == []


def test_keep_on_error_commits_an_error_answer(uow_client):
    assert uow_client.post("/_uow/keep-then-answer-400").status_code == 400
    assert len(_committed()) == 1
    # The next request is not kept by it.
    assert uow_client.post("/_uow/write-then-answer-400").status_code == 400
    assert len(_committed()) == 1


def test_a_failed_commit_is_the_error_answer_and_keeps_nothing(uow_client, monkeypatch):
    def down(self):
        raise sqlalchemy.exc.OperationalError("COMMIT", {}, Exception("server closed"))

    monkeypatch.setattr(Session, "commit", down)
    response = uow_client.post("/_uow/write")
    monkeypatch.undo()
    assert response.status_code == 503
    assert response.mimetype == "application/problem+json"
    assert response.headers["Retry-After"] == "5"
    assert _committed() == []


def test_a_failed_commit_of_a_real_route_is_not_a_success(client, monkeypatch):
    """Registration through the public API, its commit failing: 503, not 201, and the
    resident is not registered."""
    from tests.helpers import login, register

    def down(self):
        raise sqlalchemy.exc.OperationalError("COMMIT", {}, Exception("server closed"))

    monkeypatch.setattr(Session, "commit", down)
    data = register(client)
    monkeypatch.undo()
    assert data["status"] == 503
    assert data["profile"]["type"].endswith("service-unavailable")
    assert "access_token" not in login(client, data["id_number"], data["password"])


def _route_modules() -> list[Path]:
    packages = ("catalog", "codes", "delegation", "enterprises", "identity", "materials",
                "mobile_api", "partners", "wallet")
    found = [p for pkg in packages for p in (ROOT / pkg).glob("*routes.py")]
    assert ROOT / "partners" / "app_routes.py" in found
    assert ROOT / "identity" / "face_routes.py" in found
    return found


def test_no_route_module_commits():
    for path in _route_modules():
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Attribute):
                assert node.attr not in ("commit", "commit_if_begun"), \
                    f"{path.relative_to(ROOT)}:{node.lineno} commits; the unit of work does"


def test_importing_the_modules_connects_no_listener():
    probe = (
        "import app, core.changes as c, core.jobs as j\n"
        "from sqlalchemy import event\n"
        "from sqlalchemy.engine import Engine\n"
        "from sqlalchemy.orm import Session\n"
        "assert not event.contains(Engine, 'connect', app._sqlite_connect)\n"
        "assert not event.contains(Engine, 'begin', app._sqlite_begin)\n"
        "assert not event.contains(Session, 'after_commit', c._after_commit)\n"
        "assert not event.contains(Session, 'after_flush', c._after_flush)\n"
        "assert not event.contains(Session, 'after_commit', j._enqueue_deferred)\n")
    subprocess.run([sys.executable, "-c", probe], cwd=ROOT, check=True)


def test_the_factory_connects_each_listener_once(base_app):
    from app import _sqlite_begin, _sqlite_connect, install_engine_listeners

    # Many apps are built in a test run; each listener is connected once all the same.
    create_app({"TESTING": True, "SECRET_KEY": base_app.config["SECRET_KEY"],
                "ENCRYPTION_KEY": base_app.config["ENCRYPTION_KEY"]})
    install_engine_listeners()
    jobs.register_listeners()
    changes.register_listeners()
    for fn in (_sqlite_connect, _sqlite_begin):
        assert event.contains(Engine, fn.__name__.rsplit("_", 1)[1], fn)
    session = OrmSession()
    assert list(session.dispatch.after_commit).count(changes._after_commit) == 1
    assert list(session.dispatch.after_commit).count(jobs._enqueue_deferred) == 1
    assert list(session.dispatch.after_flush).count(changes._after_flush) == 1
    assert list(create_engine("sqlite://").dispatch.begin).count(_sqlite_begin) == 1


def test_a_session_whose_writes_were_committed_may_be_released(committing_app):
    from sqlalchemy import text, update

    from codes.models import ServicePoint
    from core import unit_of_work
    from core.extensions import db

    db.session.execute(update(ServicePoint).values(name=ServicePoint.name))
    assert unit_of_work.release_if_read_only() is False  # written, not committed: kept
    db.session.commit()
    db.session.execute(text("SELECT 1"))
    assert unit_of_work.release_if_read_only() is True  # only read since its commit
