"""core.ratelimit: the keys, waits and counters every rate limit is built of."""
import fakeredis
import pytest

from core import ratelimit
from core.errors import TooManyAttempts


def test_keys_carry_the_subject_as_a_hash_tag():
    assert ratelimit.key("login", "a:acct") == "login:{a:acct}"
    assert ratelimit.key("login", "a:acct", "at", "addr") == "login:{a:acct}:at:addr"
    assert ratelimit.key("lookups", "person:p", "7") == "lookups:{person:p}:7"


def test_waits_are_whole_seconds_and_never_zero_while_refused():
    assert ratelimit.wait_seconds(100.0, 100.0) == 0
    assert ratelimit.wait_seconds(100.0, 101.0) == 0
    assert ratelimit.wait_seconds(100.2, 100.0) == 1
    assert ratelimit.wait_seconds(102.5, 100.0) == 3


def test_fixed_window_counts_per_caller_and_keys_by_its_hash_tag(clock):
    r = fakeredis.FakeRedis()
    clock.shift(30)
    ratelimit.fixed_window("scope", "person:a", 1, 60, r)
    with pytest.raises(TooManyAttempts) as refused:
        ratelimit.fixed_window("scope", "person:a", 1, 60, r)
    assert refused.value.status == 429 and refused.value.type == "too-many-attempts"
    assert 1 <= refused.value.headers["Retry-After"] <= 60
    assert all(k.decode().startswith("scope:{person:a}:") for k in r.keys("*"))


def test_misses_refuse_once_the_limit_is_reached_until_the_window_from_the_first_ends():
    r = fakeredis.FakeRedis()
    misses = ratelimit.Misses("ucmiss", "person-1", 2, 600, r)
    misses.check()
    misses.miss()
    misses.check()
    misses.miss()
    with pytest.raises(TooManyAttempts) as refused:
        misses.check()
    assert refused.value.headers["Retry-After"] == 600
    assert [k.decode() for k in r.keys("*")] == ["ucmiss:{person-1}"]
    ratelimit.Misses("ucmiss", "person-2", 2, 600, r).check()  # another subject
