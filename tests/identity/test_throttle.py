"""The sign-in throttle on its own, with a hand-moved clock and an in-process Redis."""
import fakeredis
import pytest

from identity.throttle import LoginThrottle, Lockout


class Clock:
    def __init__(self):
        self.t = 1_800_000_000.0

    def __call__(self):
        return self.t


@pytest.fixture
def now():
    return Clock()


@pytest.fixture
def throttle(now):
    return LoginThrottle(
        fakeredis.FakeRedis(),
        pair=Lockout(free=5, max_lock=900, memory=3600),
        account=Lockout(free=20, max_lock=300, memory=3600),
        address_failures=30, address_window=900, now=now)


def test_lock_doubles_after_the_free_failures_up_to_the_cap():
    lockout = Lockout(free=5, max_lock=900, memory=3600)
    assert [lockout.lock_seconds(n) for n in range(1, 16)] == [
        0, 0, 0, 0, 0, 1, 2, 4, 8, 16, 32, 64, 128, 256, 512]
    assert lockout.lock_seconds(16) == 900
    assert lockout.lock_seconds(10_000) == 900  # no overflow however many


def test_five_failures_are_free_the_sixth_locks_for_a_second(throttle, now):
    for _ in range(5):
        assert throttle.retry_after("acct", "addr") == 0
        throttle.record_failure("acct", "addr")
    assert throttle.retry_after("acct", "addr") == 0
    throttle.record_failure("acct", "addr")
    assert throttle.retry_after("acct", "addr") == 1
    now.t += 1
    assert throttle.retry_after("acct", "addr") == 0
    throttle.record_failure("acct", "addr")
    assert throttle.retry_after("acct", "addr") == 2
    now.t += 1.5
    assert throttle.retry_after("acct", "addr") == 1  # rounded up, never 0 while locked
    now.t += 0.5
    assert throttle.retry_after("acct", "addr") == 0


def test_the_lock_is_per_address_until_the_account_limit(throttle):
    for _ in range(6):
        throttle.record_failure("acct", "addr-a")
    assert throttle.retry_after("acct", "addr-a") == 1
    assert throttle.retry_after("acct", "addr-b") == 0
    assert throttle.retry_after("other-acct", "addr-a") == 0


def test_success_clears_the_pair_but_not_the_account_count(throttle):
    for _ in range(6):
        throttle.record_failure("acct", "addr")
    throttle.record_success("acct", "addr")
    assert throttle.retry_after("acct", "addr") == 0
    assert throttle.failures("acct", "addr") == 0
    assert throttle.failures("acct") == 6


def test_failures_from_many_addresses_lock_the_account_briefly(throttle, now):
    for i in range(20):
        throttle.record_failure("acct", f"addr-{i}")
    assert throttle.retry_after("acct", "fresh-addr") == 0
    throttle.record_failure("acct", "addr-20")
    assert throttle.retry_after("acct", "fresh-addr") == 1
    # However long the attack goes on, the holder waits at most the account cap.
    for i in range(30):
        now.t += 400
        throttle.record_failure("acct", f"addr-x{i}")
    assert throttle.failures("acct") == 51
    assert throttle.retry_after("acct", "fresh-addr") == 300


def test_counts_are_forgotten_after_a_quiet_spell(throttle, now):
    for _ in range(6):
        throttle.record_failure("acct", "addr")
    now.t += 3600 + 2
    throttle.record_failure("acct", "addr")
    assert throttle.failures("acct", "addr") == 1
    assert throttle.retry_after("acct", "addr") == 0


def test_an_address_failing_across_accounts_is_stopped_for_the_window(throttle, now):
    for i in range(29):
        throttle.record_failure(f"acct-{i}", "addr")
        now.t += 10
    assert throttle.retry_after("new-acct", "addr") == 0
    first_failure = now.t - 290
    throttle.record_failure("acct-29", "addr")
    assert throttle.retry_after("new-acct", "addr") == pytest.approx(first_failure + 900 - now.t)
    assert throttle.retry_after("new-acct", "other-addr") == 0
    now.t = first_failure + 900 + 0.001  # the oldest failure leaves the window
    assert throttle.retry_after("new-acct", "addr") == 0


def test_keys_carry_a_hash_tag_per_subject(throttle):
    throttle.record_failure("acct", "addr")
    keys = sorted(k.decode() for k in throttle.redis.keys("*"))
    assert keys == ["login:{a:acct}", "login:{a:acct}:at:addr", "login:{ip:addr}"]


def test_per_caller_keeps_each_caller_and_scope_apart_within_a_fixed_window(app, clock):
    from identity.errors import TooManyAttempts
    from core.ratelimit import fixed_window as per_caller

    clock.shift(100)  # 100 s into a window of 600
    for _ in range(2):
        per_caller("lookups", "person:a", 2, 600)
    with pytest.raises(TooManyAttempts) as refused:
        per_caller("lookups", "person:a", 2, 600)
    assert refused.value.headers["Retry-After"] == 500
    per_caller("lookups", "person:b", 2, 600)  # another caller
    per_caller("invitations", "person:a", 2, 600)  # another scope
    clock.shift(500)  # the next window
    per_caller("lookups", "person:a", 2, 600)
