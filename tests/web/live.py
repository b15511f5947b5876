"""A real server for browser tests and screenshots: the app on the embedded defaults (SQLite in
a temporary folder, in-process Redis) with the demo data, served by werkzeug on 127.0.0.1 in a
thread, on a port of its own (so tests run in parallel); and Debian's Chromium, driven by
Playwright, with nothing downloaded.
"""
from __future__ import annotations

import base64
import json
import logging
import os
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from werkzeug.serving import make_server

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
NO_CHROMIUM = f"Debian's Chromium is not installed at {CHROMIUM} (apt-get install chromium)"


def chromium_missing() -> bool:
    return not os.access(CHROMIUM, os.X_OK)


@dataclass
class LiveServer:
    url: str
    app: object
    demo: dict
    _server: object = field(repr=False, default=None)

    def resident(self, n: int = 0) -> dict:
        return self.demo["residents"][n]

    def service_point(self, n: int = 0) -> dict:
        return self.demo["service_points"][n]


@contextmanager
def live_server(folder: Path, **config):
    """The app served on 127.0.0.1 (an unused port), with the demo data seeded."""
    from app import create_app
    from flask_migrate import upgrade

    overrides = {
        "DATABASE_URL": f"sqlite:///{folder / 'onecode.sqlite3'}",
        "REDIS_URL": None,
        "SECRET_KEY": "browser-test-secret-key-" + "x" * 24,
        "ENCRYPTION_KEY": base64.b64encode(b"b" * 32).decode(),
        "LOG_LEVEL": "WARNING",
        **config,
    }
    app = create_app(overrides)
    with app.app_context():
        upgrade()
    seeded = app.test_cli_runner().invoke(args=["demo", "seed"])
    assert seeded.exit_code == 0, seeded.output
    demo = json.loads(seeded.output[seeded.output.index("{"):])
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield LiveServer(f"http://127.0.0.1:{server.server_port}", app, demo, server)
    finally:
        server.shutdown()
        thread.join(5)
        server.server_close()
        with app.app_context():
            from core.extensions import db

            db.session.remove()
            db.engine.dispose()


def launch(playwright, *extra_args: str):
    """Debian's Chromium, headless, with a fresh profile; nothing is downloaded."""
    return playwright.chromium.launch(executable_path=CHROMIUM, args=[*CHROMIUM_ARGS, *extra_args])


class PageWatch:
    """Console errors and requests that leave the origin, for every page of a context."""

    def __init__(self, origin: str):
        self.origin = origin
        self.errors: list[str] = []
        self.foreign: list[str] = []
        self.allowed: tuple[str, ...] = ()

    def allow(self, *texts: str) -> None:
        """Console errors containing one of ``texts`` are expected (a test cut the network)."""
        self.allowed += texts

    def attach(self, context) -> None:
        context.on("page", self._watch_page)
        context.on("request", self._watch_request)
        for page in context.pages:
            self._watch_page(page)

    def _watch_page(self, page) -> None:
        page.on("console", lambda message: message.type == "error" and self.errors.append(
            f"{page.url}: {message.text}"))
        page.on("pageerror", lambda error: self.errors.append(f"{page.url}: {error}"))

    def _watch_request(self, request) -> None:
        url = request.url
        if not (url.startswith(self.origin + "/") or url.startswith(("data:", "blob:"))):
            self.foreign.append(url)

    def check(self) -> None:
        errors = [e for e in self.errors if not any(text in e for text in self.allowed)]
        assert errors == [], errors
        assert self.foreign == [], self.foreign
