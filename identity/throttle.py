"""Sign-in throttling, in Redis, so that every worker on every machine sees the same counts.

Three limits apply to each sign-in attempt:

- one account from one client address: a few free failures, then each further failure locks
  that pair for 1 s, 2 s, 4 s ... up to a cap. A success clears it.
- one account from anywhere: a looser limit with a short cap, so that someone trying
  passwords from many addresses is slowed down without locking the holder out for long.
- one client address across all accounts: so many failures per window, then nothing until
  the oldest of them leaves the window.

Every decision compares timestamps stored in Redis with ``clock.timestamp()``; Redis TTLs only
collect garbage, so tests move the clock instead of waiting. Accounts and addresses arrive
here as keyed digests, never as the raw username or address.

The keys and waits are ``core.ratelimit``'s; so are the plain fixed-window limits that
identity applies (face challenges, registrations, lookups by ID number).
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Callable

import redis

from core import clock, ratelimit


@dataclass(frozen=True)
class Lockout:
    """Free failures, then a lock doubling from 1 s up to ``max_lock`` seconds.

    The count is forgotten after ``memory`` seconds with no failure once the lock has ended.
    """

    free: int
    max_lock: float
    memory: float

    def lock_seconds(self, failures: int) -> float:
        """How long the ``failures``-th failure in a row locks (0: not at all)."""
        over = failures - self.free
        if over <= 0:
            return 0
        return min(2.0 ** min(over - 1, 62), self.max_lock)


class LoginThrottle:
    """Counts sign-in failures; says how long an account and address must wait."""

    def __init__(self, r: redis.Redis, *, pair: Lockout, account: Lockout,
                 address_failures: int, address_window: float,
                 now: Callable[[], float] = clock.timestamp):
        self.redis = r
        self.pair = pair
        self.account = account
        self.address_failures = address_failures
        self.address_window = address_window
        self.now = now

    # Keys: the account's hash tag keeps its two counters in one Redis Cluster slot.
    @staticmethod
    def _pair_key(account: str, address: str) -> str:
        return ratelimit.key("login", f"a:{account}", "at", address)

    @staticmethod
    def _account_key(account: str) -> str:
        return ratelimit.key("login", f"a:{account}")

    @staticmethod
    def _address_key(address: str) -> str:
        return ratelimit.key("login", f"ip:{address}")

    def retry_after(self, account: str, address: str) -> int:
        """Whole seconds to wait before this account may be tried from this address; 0: now."""
        now = self.now()
        pipe = self.redis.pipeline(transaction=False)
        pipe.hget(self._pair_key(account, address), "until")
        pipe.hget(self._account_key(account), "until")
        pipe.zrangebyscore(self._address_key(address), now - self.address_window, "+inf",
                           withscores=True)
        pair_until, account_until, recent = pipe.execute()
        until = max(float(pair_until or 0), float(account_until or 0))
        if len(recent) >= self.address_failures:
            # Free again once enough of the failures in the window have aged out of it.
            leaving = recent[len(recent) - self.address_failures][1]
            until = max(until, leaving + self.address_window)
        return ratelimit.wait_seconds(until, now)

    def record_failure(self, account: str, address: str) -> None:
        now = self.now()
        self._count(self._pair_key(account, address), self.pair, now)
        self._count(self._account_key(account), self.account, now)
        key = self._address_key(address)
        pipe = self.redis.pipeline(transaction=True)
        pipe.zremrangebyscore(key, "-inf", now - self.address_window)
        pipe.zadd(key, {f"{now!r}:{secrets.token_hex(4)}": now})
        pipe.expire(key, int(self.address_window) + 60)
        pipe.execute()

    def record_success(self, account: str, address: str) -> None:
        self.redis.delete(self._pair_key(account, address))

    def failures(self, account: str, address: str | None = None) -> int:
        """The failures counted for the account (from one address, when given)."""
        key = self._pair_key(account, address) if address else self._account_key(account)
        return int(self.redis.hget(key, "n") or 0)

    def _count(self, key: str, lockout: Lockout, now: float) -> None:
        def bump(pipe):
            n, last, until = pipe.hmget(key, "n", "last", "until")
            n, last, until = int(n or 0), float(last or 0), float(until or 0)
            if now - max(last, until) > lockout.memory:
                n = 0
            n += 1
            lock = lockout.lock_seconds(n)
            pipe.multi()
            pipe.hset(key, mapping={"n": n, "last": repr(now),
                                    "until": repr(now + lock if lock else until)})
            pipe.expire(key, int(lockout.max_lock + lockout.memory) + 60)

        # WATCH makes concurrent failures count one each rather than overwrite each other.
        self.redis.transaction(bump, key)
