"""Password rules (NIST SP 800-63B style) and argon2id hashing."""
import pytest

from identity import passwords
from identity.passwords import COMMON_PASSWORDS, password_problems

ID_NUMBER = "11010519491231002X"
PHONE = "13812345678"


def problems(password, **own):
    return password_problems(password, max_length=256, **own)


@pytest.mark.parametrize("password", [
    "kettle42",                       # exactly 8, no composition rules
    "all lower case words here",
    "x" * 64 + " still fine",          # long passphrases are welcome
    "y" * 256,
    "密码是一匹会飞的马儿",              # 10 CJK characters
])
def test_acceptable_passwords(password):
    assert problems(password, id_number=ID_NUMBER, phone=PHONE, name="张三丰") == []


@pytest.mark.parametrize("password, name, word", [
    ("short7!", "张三丰", "at least 8"),
    ("", "张三丰", "at least 8"),
    ("y" * 257, "张三丰", "at most 256"),
    ("password", "张三丰", "common"),
    ("PassWord", "张三丰", "common"),       # compared lower-cased
    ("superman", "张三丰", "common"),
    ("1qaz2wsx", "张三丰", "common"),
    ("my id 11010519491231002x!", "张三丰", "ID number"),
    ("call 13812345678 now", "张三丰", "phone"),
    ("i am 张三丰 really", "张三丰", "name"),
    ("ZHANG san is me", "Zhang San", "name"),  # case-insensitive
])
def test_refused_passwords_say_why(password, name, word):
    found = problems(password, id_number=ID_NUMBER, phone=PHONE, name=name)
    assert found and word in found[0]


def test_a_one_character_name_does_not_forbid_that_character():
    assert problems("张张张张张张张张张", name="张") == []
    assert problems("ab-ab-ab-ab", name="ab") != []


def test_full_width_passwords_are_normalised_before_counting():
    # NFKC turns the ligature "ﬃ" into "ffi": 3 characters, not 1.
    assert problems("ﬃﬃﬃ") == []
    assert problems("ｐａｓｓｗｏｒｄ") != []  # full-width "password" is still "password"


def test_the_common_list_is_zxcvbns_and_lower_case():
    assert len(COMMON_PASSWORDS) > 20000
    assert "password" in COMMON_PASSWORDS
    assert all(p == p.lower() for p in COMMON_PASSWORDS)


def test_hash_is_argon2id_with_the_configured_cost(app):
    stored = passwords.hash_password("violet kettle runs uphill")
    cfg = app.config
    assert stored.startswith(
        f"$argon2id$v=19$m={cfg['ARGON2_MEMORY_KIB']},t={cfg['ARGON2_TIME_COST']},"
        f"p={cfg['ARGON2_PARALLELISM']}$")
    assert passwords.verify_password(stored, "violet kettle runs uphill")
    assert not passwords.verify_password(stored, "violet kettle runs uphill!")
    assert not passwords.needs_rehash(stored)


def test_verification_never_raises_on_a_broken_hash(app):
    assert passwords.verify_password("not a hash", "whatever1") is False
    assert passwords.needs_rehash("not a hash") is True


def test_full_width_and_ascii_spellings_are_one_password(app):
    stored = passwords.hash_password("ｋｅｔｔｌｅ４２ｘ")
    assert passwords.verify_password(stored, "kettle42x")


def test_long_passwords_are_not_truncated(app):
    base = "z" * 200
    stored = passwords.hash_password(base + "A")
    assert not passwords.verify_password(stored, base + "B")


def test_changed_cost_settings_ask_for_a_rehash(app, monkeypatch):
    stored = passwords.hash_password("violet kettle runs uphill")
    monkeypatch.setitem(app.config, "ARGON2_TIME_COST", app.config["ARGON2_TIME_COST"] + 1)
    assert passwords.needs_rehash(stored)
    assert passwords.verify_password(stored, "violet kettle runs uphill")


def test_the_dummy_verification_really_runs_argon2(app, monkeypatch):
    calls = []
    real = passwords.verify_password
    monkeypatch.setattr(passwords, "verify_password",
                        lambda h, p: calls.append(h) or real(h, p))
    passwords.burn_verification("anything at all")
    passwords.burn_verification("anything else")
    assert len(calls) == 2
    assert calls[0].startswith("$argon2id$")
    assert calls[0] == calls[1]  # made once per process, not per call
