"""Machine clients (service points, issuers, partner apps): their secrets, and the operator's
switch that disables one.

A secret is 32 random bytes (URL-safe base64), shown once and stored as its SHA-256: with that
much entropy a slow hash adds nothing, and the check stays cheap.

**Disabling.** A client row has ``active`` and ``generation``. Disabling it clears ``active``
and moves ``generation`` on; every token names the generation it was issued in. So a disabled
client's tokens stop at once on every route and every worker (the bearer check reads the row,
the database being the source of truth, on every request; see below for the scan route's
snapshot, whose write reads the row again), and when an
operator enables the client again, only tokens it asks for afterwards work: the ones it held
before stay dead, whoever may have copied them. Each package registers how to load the clients
of its token kind (``register_kind``), so that this layer never imports the packages above it.

**The one cached read.** The scan route, the platform's hottest, checks its bearer against a
per-worker snapshot of the service point (``cached_state``: active, generation, purposes) kept
for ``CLIENT_SNAPSHOT_SECONDS`` and dropped in this worker when the client is switched. The
write that accepts a scan reads the row again in its own transaction and refuses a client
that is no longer active or in the token's generation (``codes.scan_writer``), so a disabled
service point still has no scan accepted from the moment its disable commits; what the
snapshot may delay, by at most its age, is which answer comes first (401 before the body is
looked at).
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from collections.abc import Callable

from flask import current_app

from core import audit
from core.errors import Problem


class InvalidClient(Problem):
    type = "invalid-client"
    status = 401
    title = "The client credentials are not valid"


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


# Compared against when the client id is unknown, so both failures take the same time.
_NO_SECRET = hash_secret("no such client")


def check_secret(client, secret: str):
    """``client`` (a row with ``secret_hash`` and ``active``, or None) if ``secret`` is its
    secret and it is active; else ``InvalidClient``, in the same time either way: an unknown
    client, a wrong secret and a disabled client get the same answer."""
    expected = client.secret_hash if client is not None else _NO_SECRET
    matches = hmac.compare_digest(hash_secret(secret), expected)
    if client is None or not matches or not client.active:
        raise InvalidClient()
    return client


# Disabling ---------------------------------------------------------------------------------

# Token kind → how to load the client a token's ``sub`` names (a row with ``active`` and
# ``generation``, or None). Loaded through the session, so a route that reads the same row
# again finds it in the identity map and runs no second query.
_loaders: dict[str, Callable[[str], object | None]] = {}


_snapshots: dict[str, Callable[[str], object | None]] = {}
# (kind, client id) → (monotonic deadline, snapshot or None); per worker process.
_cached: dict[tuple[str, str], tuple[float, object | None]] = {}
_CACHED_MAX = 10_000


def register_kind(kind: str, load: Callable[[str], object | None],
                  snapshot: Callable[[str], object | None] | None = None) -> None:
    """Declare how the bearer check (``app.auth``) loads a client of this token kind, and
    optionally how to take an immutable snapshot of it (``active``, ``generation`` and what
    the kind's hot route needs) for ``cached_state``."""
    _loaders[kind] = load
    if snapshot is not None:
        _snapshots[kind] = snapshot


def loader(kind: str) -> Callable[[str], object | None] | None:
    return _loaders.get(kind)


def cached_state(kind: str, client_id: str):
    """This worker's snapshot of a client, at most ``CLIENT_SNAPSHOT_SECONDS`` old (None
    for an unknown client). Only for a route whose durable write checks the client again
    (see the module's docstring)."""
    now = time.monotonic()
    found = _cached.get((kind, client_id))
    if found is not None and found[0] > now:
        return found[1]
    state = _snapshots[kind](client_id)
    if len(_cached) >= _CACHED_MAX:
        _cached.clear()
    _cached[(kind, client_id)] = (now + current_app.config["CLIENT_SNAPSHOT_SECONDS"], state)
    return state


def forget_cached(kind: str | None = None, client_id: str | None = None) -> None:
    """Drop this worker's snapshot of a client (all of them without arguments)."""
    if kind is None:
        _cached.clear()
    else:
        _cached.pop((kind, client_id), None)


def token_claims(client) -> dict:
    """The claims that bind a client's access token to its current generation."""
    return {"gen": client.generation}


def set_active(client, active: bool, kind: str) -> None:
    """Enable or disable a client row (flushed by the caller's commit) and record it in the
    audit chain. Disabling an active client moves it to a new generation, which ends every
    token and code it holds for good; enabling lets it ask for new ones."""
    if client.active == active:
        return
    if not active:
        client.generation += 1
    client.active = active
    if kind in _snapshots:  # the token's ``sub`` is the row's id
        forget_cached(kind, client.id)
    audit.record("client-enabled" if active else "client-disabled", kind=kind,
                 client=client.client_id)


def add_switch_commands(group, noun: str, set_enabled: Callable[[str, bool], object | None]):
    """Add ``disable CLIENT_ID`` and ``enable CLIENT_ID`` to an operator command group;
    ``set_enabled(client_id, enabled)`` returns the client row, or None when there is none."""
    import json

    import click

    from core.extensions import db

    def switch(client_id: str, enabled: bool) -> None:
        client = set_enabled(client_id, enabled)
        if client is None:
            raise click.BadParameter(f"no {noun} has this client id", param_hint="CLIENT_ID")
        out = {"client_id": client.client_id, "active": client.active}
        db.session.commit()
        audit.seal()  # a command seals what it recorded itself (no request will)
        click.echo(json.dumps(out))

    @group.command("disable", help=(
        f"Stop a {noun} at once: every token it holds stops working, on every route and every "
        f'worker, and it gets no new ones. Prints {{"client_id", "active": false}}.'))
    @click.argument("client_id")
    def disable(client_id):
        switch(client_id, False)

    @group.command("enable", help=(
        f"Let a disabled {noun} ask for tokens again; the tokens it held when it was disabled "
        f'stay dead. Prints {{"client_id", "active": true}}.'))
    @click.argument("client_id")
    def enable(client_id):
        switch(client_id, True)


def demo_secret(client_id: str, kind: str = "service-point") -> str:
    """The demo client secret of ``client_id``: HMAC-SHA256(SECRET_KEY, "demo-<kind>:" + id)."""
    digest = hmac.new(current_app.config["SECRET_KEY"].encode(), f"demo-{kind}:{client_id}".encode(),
                      hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
