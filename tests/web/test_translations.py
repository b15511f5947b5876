"""The Chinese catalogue is complete, compiled, and covers every problem's title."""
from __future__ import annotations

from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from core.errors import Problem

ROOT = Path(__file__).resolve().parents[2]
CATALOGUE = ROOT / "web" / "translations" / "zh_Hans_CN" / "LC_MESSAGES"
PACKAGES = ["core", "identity", "codes", "wallet", "enterprises", "signatures", "delegation",
            "materials", "catalog", "partners", "mobile_api", "web", "app"]


def _po():
    with open(CATALOGUE / "messages.po", "rb") as f:
        return read_po(f)


def _subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def test_every_message_has_a_chinese_translation():
    untranslated = [m.id for m in _po() if m.id and not m.string]
    assert untranslated == []


def test_the_compiled_catalogue_matches_the_source():
    with open(CATALOGUE / "messages.mo", "rb") as f:
        compiled = {m.id: m.string for m in read_mo(f) if m.id}
    assert compiled == {m.id: m.string for m in _po() if m.id}, "run `make translations`"


def test_every_message_the_code_uses_is_in_the_catalogue():
    with open(ROOT / "web" / "babel.cfg") as f:
        method_map, options_map = parse_mapping_cfg(f)
    keywords = {"_": None, "gettext": None, "ngettext": (1, 2), "lazy_gettext": None, "_l": None}
    used = set()
    for package in PACKAGES:
        for _file, _line, message, _comments, _context in extract_from_dir(
                ROOT / package, method_map, options_map, keywords=keywords):
            used.add(message)
    known = {m.id for m in _po() if m.id}
    assert used - known == set(), "run `make translations` and translate the new messages"


def test_every_problem_title_is_translated(app):
    known = {m.id: m.string for m in _po() if m.id}
    titles = {cls.title for cls in _subclasses(Problem)}
    assert len(titles) > 40
    assert [title for title in titles if not known.get(title)] == []
