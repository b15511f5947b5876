"""Opaque identifiers: URL-safe, random, and never mistaken for a command-line option."""
import re
from unittest import mock

from core import ids


def test_ids_are_url_safe_and_22_characters():
    for _ in range(200):
        assert re.fullmatch(r"[A-Za-z0-9_-]{22}", ids.new_id())


def test_an_id_never_starts_with_a_dash():
    draws = iter(["-starts-with-a-dashxxx", "fine-id-for-a-commandx"])
    with mock.patch.object(ids.secrets, "token_urlsafe", lambda n: next(draws)):
        assert ids.new_id() == "fine-id-for-a-commandx"


def test_the_one_id_shape_takes_new_ids_and_nothing_that_could_reach_sql_oddly():
    assert ids.OPAQUE_ID.fullmatch(ids.new_id())
    assert ids.OPAQUE_ID.fullmatch("a" * 32) and not ids.OPAQUE_ID.fullmatch("a" * 33)
    for bad in ("", "a b", "a/b", "a%", "ａ", "a\n", "é"):
        assert ids.OPAQUE_ID.fullmatch(bad) is None, bad
