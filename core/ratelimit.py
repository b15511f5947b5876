"""Rate limits, counted in Redis so that every worker on every machine sees the same counts.

The pieces every limit is built of:

- ``key``: where a subject's counter lives. The subject sits in braces, the Redis Cluster
  hash tag, so that all the counters of one subject share a slot (and a pipeline).
- ``wait_seconds``: the whole seconds a ``Retry-After`` gives, never 0 while refused.
- ``fixed_window``: so many requests from one caller per fixed window of the clock, for
  requests that cost work or tell something whether they succeed or not; ``per_address`` for
  an anonymous caller, named by a keyed digest of its address.
- ``Misses``: so many failures in a window that opens at the first of them.

A refusal is ``TooManyAttempts``: 429 ``too-many-attempts`` with ``Retry-After``. Callers are
opaque tags (``ip:<digest>``, ``person:<id>``), never personal data. The sign-in lockout,
which doubles, is identity's (``identity.throttle``), built on these.
"""
from __future__ import annotations

import math

from core import clock
from core.errors import TooManyAttempts


def key(scope: str, subject: str, *rest: str) -> str:
    """``scope:{subject}`` (``:rest`` ...): one subject's counters in one cluster slot."""
    return ":".join((scope, f"{{{subject}}}", *rest))


def wait_seconds(until: float, now: float) -> int:
    """Whole seconds from ``now`` to ``until``: 0 once it has passed, else at least 1."""
    if until <= now:
        return 0
    return max(1, math.ceil(until - now))


def _redis(r):
    if r is not None:
        return r
    from core.store import redis_client

    return redis_client()


def fixed_window(scope: str, caller: str, limit: int, window_seconds: int, r=None) -> None:
    """Count one more ``scope`` request from ``caller`` in the current fixed window of
    ``window_seconds``; past ``limit`` raise ``TooManyAttempts`` with the seconds until the
    window ends. The key expires after two windows."""
    now = clock.timestamp()
    window = int(now // window_seconds)
    pipe = _redis(r).pipeline(transaction=True)
    counter = key(scope, caller, str(window))
    pipe.incr(counter)
    pipe.expire(counter, 2 * window_seconds)
    count, _ = pipe.execute()
    if count > limit:
        raise TooManyAttempts(max(1, window_seconds * (window + 1) - int(now)))


def address_digest(client_address: str | None) -> str:
    """How the limits name a client address: a keyed digest, never the address itself."""
    from flask import current_app

    return current_app.extensions["vault"].index("addr", client_address or "unknown")[:32]


def per_address(scope: str, client_address: str | None, limit: int, window_seconds: int) -> None:
    """``fixed_window`` for a client address, kept as a keyed digest."""
    fixed_window(scope, f"ip:{address_digest(client_address)}", limit, window_seconds)


class Misses:
    """At most ``limit`` misses of ``subject`` in a window of ``window_seconds`` that opens at
    the first miss: ``check()`` before trying (refused with the window's remaining seconds
    once the limit is reached), ``miss()`` after each failure."""

    def __init__(self, scope: str, subject: str, limit: int, window_seconds: int, r=None):
        self.key = key(scope, subject)
        self.limit = limit
        self.window_seconds = window_seconds
        self.redis = _redis(r)

    def check(self) -> None:
        if int(self.redis.get(self.key) or 0) >= self.limit:
            raise TooManyAttempts(max(1, self.redis.ttl(self.key)))

    def miss(self) -> None:
        pipe = self.redis.pipeline(transaction=False)
        pipe.incr(self.key)
        pipe.expire(self.key, self.window_seconds, nx=True)
        pipe.execute()
