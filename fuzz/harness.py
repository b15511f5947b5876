"""The app the fuzz run drives: in process, on SQLite in a temporary directory and the
in-process Redis, with the demo data seeded and a demo client of each kind signed in.

Settings (environment): ``FUZZ_EXAMPLES`` the most generated cases per operation (default
100; generating them takes about 30 s in all); ``FUZZ_SECONDS`` the time box of the requests
(default 120), shared evenly by the operations: an operation that has used its share sends
none of its remaining cases; ``FUZZ_SEED`` the seed (default 1, so CI sees the same run).
At the defaults the requests take about 20 s, so the box only bites when routes get slow.
"""
from __future__ import annotations

import atexit
import base64
import inspect
import json
import os
import re
import secrets
import shutil
import tempfile
import time
from collections import Counter, defaultdict

from flask import Flask

from app import create_app
from core.auth import ISSUER, RESIDENT, SERVICE_POINT

SECONDS = float(os.environ.get("FUZZ_SECONDS", "120"))
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "100"))
SEED = int(os.environ.get("FUZZ_SEED", "1"))

_PARAM = re.compile(r"<(?:[^:<>]+:)?([^<>]+)>")
PARTNER = "partner"  # client_secret_basic of a registered partner app
PARTNER_ROUTES = ("/oauth/token", "/oauth/revoke", "/oauth/introspect",
                  "/oauth/device_authorization")


def build_app() -> Flask:
    """The app on a fresh SQLite database, migrated and seeded with the demo data."""
    directory = tempfile.mkdtemp(prefix="onecode-fuzz-")
    atexit.register(shutil.rmtree, directory, ignore_errors=True)
    app = create_app({
        "DATABASE_URL": f"sqlite:///{directory}/fuzz.sqlite3", "REDIS_URL": None,
        # Jobs run inside the request, as on the embedded defaults.
        "TESTING": True,
        "SECRET_KEY": secrets.token_urlsafe(48),
        "ENCRYPTION_KEY": base64.b64encode(secrets.token_bytes(32)).decode(),
        "LOG_LEVEL": "CRITICAL", "PUBLIC_URL": "http://localhost",
    })
    with app.app_context():
        from flask_migrate import upgrade

        upgrade()
    runner = app.test_cli_runner()
    result = runner.invoke(args=["demo", "seed"])
    assert result.exit_code == 0, result.output
    demo = json.loads(result.output)
    result = runner.invoke(args=["partner", "create", "Fuzz partner",
                                 "--redirect-uri", "https://partner.example/callback"])
    assert result.exit_code == 0, result.output
    demo["partner"] = json.loads(result.output)
    app.extensions["fuzz_demo"] = demo
    return app


class DemoTokens:
    """A bearer token for each kind of client, from the seeded demo credentials."""

    def __init__(self, app: Flask):
        self.client = app.test_client()
        self.demo = app.extensions["fuzz_demo"]
        self.tokens = {kind: self._sign_in(kind) for kind in (RESIDENT, SERVICE_POINT, ISSUER)}
        partner = self.demo["partner"]
        basic = f"{partner['client_id']}:{partner['client_secret']}".encode()
        self.tokens[PARTNER] = "Basic " + base64.b64encode(basic).decode()

    def _sign_in(self, kind: str) -> str:
        if kind == RESIDENT:
            resident = self.demo["residents"][0]
            path, body = "/api/v1/auth/login", {"username": resident["phone"],
                                                "password": resident["password"]}
        else:
            point = kind == SERVICE_POINT
            path = "/api/v1/service-points/token" if point else "/api/v1/issuers/token"
            first = self.demo["service_points" if point else "issuers"][0]
            body = {"client_id": first["client_id"], "client_secret": first["client_secret"]}
        response = self.client.post(path, json=body)
        assert response.status_code == 200, (path, response.json)
        return "Bearer " + response.json["access_token"]

    def header(self, kind: str | None) -> dict | None:
        return {"Authorization": self.tokens[kind]} if kind else None

    def renew(self, kind: str) -> None:
        """A new sign-in, after a generated request ended the old one (logout)."""
        self.tokens[kind] = self._sign_in(kind)


def bearer_kinds(app: Flask) -> dict[tuple[str, str], str]:
    """``{(METHOD, OpenAPI path): client kind}`` for every route that needs a token, and the
    partner's client authentication for the OAuth routes that take it."""
    kinds = {("POST", path): PARTNER for path in PARTNER_ROUTES}
    for rule in app.url_map.iter_rules():
        check = getattr(app.view_functions[rule.endpoint], "bearer_check", None)
        if check is not None:
            kind = inspect.getclosurevars(check).nonlocals["kind"]
            for method in rule.methods - {"HEAD", "OPTIONS"}:
                kinds[(method, _PARAM.sub(r"{\1}", rule.rule))] = kind
    return kinds


class TimeBox:
    """``SECONDS`` shared evenly by the operations: once an operation has used its share,
    its remaining generated cases are not sent (hypothesis still generates them)."""

    def __init__(self, operations: int):
        self.share = SECONDS / max(operations, 1)
        self.started: dict[str, float] = {}

    def open(self, operation: str) -> bool:
        started = self.started.setdefault(operation, time.monotonic())
        return time.monotonic() - started < self.share


OTHER_METHODS = "other methods"


class Tally:
    """What the run sent: requests and answers by operation and status."""

    def __init__(self):
        self.statuses: dict[str, Counter] = defaultdict(Counter)

    def note(self, operation: str, method: str, status: int) -> None:
        """Answers to the operation's own method; other methods (405) are counted apart."""
        own = operation.startswith(method + " ")
        self.statuses[operation if own else OTHER_METHODS][status] += 1

    def lines(self) -> list[str]:
        operations = {op: c for op, c in self.statuses.items() if op != OTHER_METHODS}
        succeeded = sorted(op for op, c in operations.items() if any(200 <= s < 400 for s in c))
        by_status = Counter()
        for counts in self.statuses.values():
            by_status.update(counts)
        return [f"{sum(by_status.values())} requests to {len(operations)} operations ("
                f"{sum(self.statuses[OTHER_METHODS].values())} of them with a method the path "
                "does not take); answers by status: "
                + ", ".join(f"{s}: {n}" for s, n in sorted(by_status.items())),
                f"{len(succeeded)} operations answered 2xx/3xx at least once:",
                *(f"  {op}" for op in succeeded)]


def demo_ids(app: Flask, tokens: DemoTokens) -> dict[str, list[str]]:
    """Ids of seeded things, by the path parameter that names them, for the generated
    requests to use now and then (else every id is unknown and every answer a 404)."""
    client = app.test_client()
    wallet = client.get("/api/v1/me/wallet", headers=tokens.header(RESIDENT)).json
    issuers = client.get("/api/v1/trust-list").json["issuers"]
    return {
        "credential_id": [c["id"] for c in wallet["cards"] + wallet["certificates"]],
        "code": [i["code"] for i in client.get("/api/v1/service-items").json]
                + [b["code"] for b in client.get("/api/v1/bundles").json],
        "issuer_id": [issuer["id"].rsplit("/", 1)[-1] for issuer in issuers],
    }
