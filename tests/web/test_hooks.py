"""Every data-test hook of the pages' contract (tests/web/hooks.py) is in the pages: in a
template, or set by the page's script for what it builds (cards, consents, notices)."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.web.hooks import COUNTER_CONSOLE, RESIDENT_H5

WEB = Path(__file__).resolve().parents[2] / "web"


def _hooks(*names: str) -> set[str]:
    text = "".join((WEB / name).read_text(encoding="utf-8") for name in names)
    in_markup = re.findall(r'data-test="([a-z-]+)"', text)
    by_script = re.findall(r'(?:"data-test"[,:]\s*|q\()"([a-z-]+)"', text)
    return set(in_markup) | set(by_script)


@pytest.mark.parametrize("hooks, sources", [
    (RESIDENT_H5, ("templates/web/app.html", "static/app.js")),
    (COUNTER_CONSOLE, ("templates/web/counter.html", "templates/web/counter_login.html",
                       "static/counter.js")),
])
def test_every_hook_of_the_contract_is_in_its_page(hooks, sources):
    assert set(hooks) - _hooks(*sources) == set()
