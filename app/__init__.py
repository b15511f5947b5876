"""The application factory: the one place the app is assembled."""
from __future__ import annotations

import logging
import sqlite3
from datetime import timedelta

import redis
import sqlalchemy.exc
import swagger_ui_bundle
from flask import Flask, redirect, request, send_from_directory
from flask.sessions import SecureCookieSessionInterface
from sqlalchemy import event
from sqlalchemy.engine import Engine
from werkzeug.exceptions import UnsupportedMediaType
from werkzeug.middleware.proxy_fix import ProxyFix

from core import changes, jobs, unit_of_work, untrusted_json
from core.config import Config
from core.crypto import Vault
from core.config import decode_key
from core.errors import ServiceUnavailable, handle_problem, handle_unexpected, register_error_handlers

from core.extensions import db, jwt, migrate, store
from core.openapi import OneCodeApi
from core.logs import configure_logging, install_request_logging

log = logging.getLogger(__name__)

API_VERSION = "1.0.0"
# Bodies these content types may carry; anything else to a body-taking route is a 415.
# Every package with models, imported by the factory so the metadata is complete.
MODEL_MODULES = ("identity.models", "codes.models", "wallet.models", "core.audit",
                 "identity.face_models", "partners.models", "enterprises.models",
                 "catalog.models", "materials.models", "signatures.models")
_BODY_TYPES = {"application/json", "multipart/form-data", "application/x-www-form-urlencoded"}


def create_app(config: Config | dict | None = None) -> Flask:
    """Build the application. ``config`` is a ``Config`` or a mapping of overrides."""
    if isinstance(config, Config):
        cfg = config
    else:
        cfg = Config.from_env().with_overrides(config)
    configure_logging(cfg.LOG_LEVEL)
    cfg = cfg.finalise()

    app = Flask(__name__, instance_relative_config=True)
    app.config.update({k: getattr(cfg, k) for k in cfg.__dataclass_fields__ if k != "extra"})
    app.config.update(cfg.extra)
    app.config.update(
        SQLALCHEMY_DATABASE_URI=cfg.database_uri,
        SQLALCHEMY_ENGINE_OPTIONS=_engine_options(cfg),
        JWT_SECRET_KEY=cfg.SECRET_KEY,
        JWT_ACCESS_TOKEN_EXPIRES=timedelta(seconds=cfg.ACCESS_TOKEN_SECONDS),
        API_TITLE="OneCode API",
        API_VERSION=API_VERSION,
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/api",
        OPENAPI_JSON_PATH="openapi.json",
        OPENAPI_SWAGGER_UI_PATH="docs",
        OPENAPI_SWAGGER_UI_URL="/api/docs/assets/",
        JSON_SORT_KEYS=False,
    )
    untrusted_json.install(app)
    app.json.ensure_ascii = False
    app.json.sort_keys = False
    app.extensions["vault"] = Vault(decode_key(cfg.ENCRYPTION_KEY))
    if cfg.EMBEDDED:
        log.warning("running on the embedded defaults: SQLite and in-process Redis, one process")
    if cfg.TRUSTED_PROXIES:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=cfg.TRUSTED_PROXIES, x_proto=cfg.TRUSTED_PROXIES,
                                x_host=cfg.TRUSTED_PROXIES)

    install_engine_listeners()
    changes.register_listeners()
    jobs.register_listeners()
    db.init_app(app)
    migrate.init_app(app, db, directory=str(_migrations_dir()), render_as_batch=True,
                     compare_type=True)
    store.init_app(app)
    jwt.init_app(app)
    from core.auth import init_jwt

    init_jwt(app)
    from partners.server import init_oidc

    init_oidc(app)
    # One Api per application: flask-smorest keeps the OpenAPI document on it.
    api = OneCodeApi(app)
    app.extensions["api"] = api
    api.spec.components.security_scheme(
        "bearerAuth", {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"})
    register_error_handlers(app)
    app.register_error_handler(redis.exceptions.ConnectionError, _redis_down)
    app.register_error_handler(redis.exceptions.TimeoutError, _redis_down)
    app.register_error_handler(sqlalchemy.exc.DBAPIError, _database_error)
    app.register_error_handler(sqlalchemy.exc.TimeoutError, _database_error)
    install_request_logging(app)
    from core import health

    health.install(app)
    from core.auth import check_bearer_first

    app.before_request(check_bearer_first)  # authentication before any look at the body
    _install_body_checks(app)
    app.session_interface = _CookieSessions()
    _serve_docs_assets(app)
    _register_domains(app, api)
    from codes import fast_path

    fast_path.install(app)  # GET /me/code and POST /scans ahead of Flask's dispatch
    unit_of_work.install(app)  # last: its after_request runs first (see core/unit_of_work.py)
    return app


def publish_signing_key(app: Flask) -> None:
    """Make the first code-signing key at start-up, so the JWKS publishes it before any code
    is shown. A schema not migrated yet (``flask db upgrade`` imports the app too) or a
    database that is down is left to the JWKS route, which makes the key on first need."""
    from sqlalchemy.exc import DBAPIError

    from codes.keys import ensure_published_key

    with app.app_context():
        try:
            ensure_published_key()
            db.session.commit()  # start-up is a unit of work of its own
        except DBAPIError as exc:
            db.session.rollback()
            log.info("no signing key made at start-up", extra={"error_type": type(exc).__name__})


def install_engine_listeners() -> None:
    """Connect the SQLite listeners to every ``Engine``, once per process (the factory calls
    it; importing this module connects nothing)."""
    for name, fn in (("connect", _sqlite_connect), ("begin", _sqlite_begin)):
        if not event.contains(Engine, name, fn):
            event.listen(Engine, name, fn)


def _sqlite_connect(dbapi_connection, _record):
    # pysqlite's own transaction handling breaks SAVEPOINT and foreign keys; take over.
    if isinstance(dbapi_connection, sqlite3.Connection):
        dbapi_connection.isolation_level = None
        dbapi_connection.execute("PRAGMA foreign_keys=ON")
        dbapi_connection.execute("PRAGMA journal_mode=WAL")


def _sqlite_begin(conn):
    if conn.dialect.name == "sqlite":
        # IMMEDIATE takes the write lock up front, so a transaction that reads and then writes
        # waits for another writer (busy timeout) instead of failing on a stale snapshot.
        # The embedded database serves one process; serialising its transactions costs little.
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def _engine_options(cfg: Config) -> dict:
    # Pre-ping: a pooled connection is checked (one cheap round trip) before a request uses
    # it, so after PostgreSQL restarts, or its backends were terminated, no request fails on a
    # connection that died in the pool.
    if cfg.database_uri.startswith("sqlite"):
        return {"connect_args": {"timeout": 15}, "pool_pre_ping": True}
    return {"pool_recycle": 300, "pool_size": 10, "max_overflow": 10, "pool_pre_ping": True,
            "pool_timeout": 5,
            "connect_args": {"connect_timeout": cfg.DATABASE_CONNECT_TIMEOUT_SECONDS}}


def _migrations_dir():
    from pathlib import Path

    return Path(__file__).resolve().parent.parent / "migrations"


def _database_error(exc):
    """The database is down or dropped the connection: 503 with ``Retry-After``, as for
    Redis. Any other database error is a bug, answered as one (500)."""
    transient = (isinstance(exc, (sqlalchemy.exc.OperationalError, sqlalchemy.exc.InterfaceError,
                                  sqlalchemy.exc.TimeoutError))
                 or getattr(exc, "connection_invalidated", False))
    if not transient:
        return handle_unexpected(exc)
    log.error("database unavailable", extra={"error_type": type(exc).__name__,
                                             "cause": type(getattr(exc, "orig", None)).__name__})
    try:
        db.session.rollback()
    except sqlalchemy.exc.SQLAlchemyError:
        pass  # the connection is gone already; the pool has dropped it
    return handle_problem(ServiceUnavailable("Try again shortly.", headers={"Retry-After": 5}))


def _redis_down(exc):
    # Fail closed: nothing that needs Redis (single use, throttling, revocation) is skipped.
    log.error("redis unreachable", extra={"error_type": type(exc).__name__})
    return handle_problem(ServiceUnavailable("Try again shortly.", headers={"Retry-After": 5}))


class _CookieSessions(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions (the partner sign-in pages keep their CSRF token in
    one), opened without building the signer when the request carries no session cookie, as
    API calls never do."""

    def open_session(self, app: Flask, request):
        if not request.cookies.get(self.get_cookie_name(app)):
            return self.session_class()
        return super().open_session(app, request)


def _takes_json_only(app: Flask, endpoint: str | None) -> bool:
    """Whether a route reads its body as JSON and never as a form (flask-smorest's
    ``arguments`` note each location on the view); routes without them (OAuth, pages) are
    left alone. Remembered per endpoint: the routes do not change once the app serves."""
    known = app.extensions.setdefault("json_only_routes", {})
    if endpoint not in known:
        view = app.view_functions.get(endpoint)
        params = getattr(view, "_apidoc", {}).get("arguments", {}).get("parameters", [])
        places = {p.get("in") for p in params if isinstance(p, dict)}
        known[endpoint] = "json" in places and not places & {"form", "files"}
    return known[endpoint]


def _install_body_checks(app: Flask) -> None:
    @app.before_request
    def _require_known_body_type():
        if request.method in ("POST", "PUT", "PATCH") and request.content_length:
            if request.mimetype not in _BODY_TYPES or (
                    request.mimetype != "application/json"
                    and _takes_json_only(app, request.endpoint)):
                raise UnsupportedMediaType("Send the body as application/json.")

    app.before_request(untrusted_json.load_json_body)


def _serve_docs_assets(app: Flask) -> None:
    # Swagger UI's files come from a package, so /api/docs works with no internet access.
    @app.get("/api/docs/assets/<path:filename>")
    def docs_assets(filename):
        return send_from_directory(swagger_ui_bundle.swagger_ui_path, filename, max_age=3600)

    @app.get("/api/docs/")
    def docs_with_a_slash():
        return redirect("/api/docs", 308)


def _register_domains(app: Flask, api: OneCodeApi) -> None:
    """The explicit list of models, blueprints and CLI commands."""
    import importlib

    for module in MODEL_MODULES:
        importlib.import_module(module)
    from app import cli
    from codes.routes import blp as codes_blp, wellknown_blp
    from enterprises.routes import blp as enterprises_blp
    from identity.face_routes import face_blp
    from partners.app_routes import blp as partners_blp
    from partners.openapi import document_partner_endpoints
    from partners.routes import bp as oidc_bp
    from delegation.routes import blp as proxies_blp
    from identity.routes import blp as identity_blp
    from wallet.routes import blp as wallet_blp
    from materials.routes import blp as materials_blp
    from app import wiring
    from catalog.routes import blp as catalog_blp
    from mobile_api.routes import blp as mobile_blp
    from signatures.routes import blp as signatures_blp

    from core.health import blp as operations_blp

    for blueprint in (operations_blp, identity_blp, codes_blp, wellknown_blp, wallet_blp,
                      face_blp, partners_blp, catalog_blp, mobile_blp, enterprises_blp,
                      proxies_blp, materials_blp, signatures_blp):
        api.register_blueprint(blueprint)
    wiring.connect()
    # The OpenID Connect provider answers as its RFCs say; its own module documents it.
    app.register_blueprint(oidc_bp)
    document_partner_endpoints(api.spec, app)
    # The pages for people, and the translations every answer for people uses.
    import web

    web.init_app(app)
    cli.register(app)
