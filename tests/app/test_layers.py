"""The layers contract (.importlinter, run by ``make test``) covers every package of the app:
a package left out of it could import anything unseen. And the tests stay inside the
repository, as a user's clone is."""
from __future__ import annotations

import configparser
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
NOT_THE_APP = {"tests", "fuzz", "tools", "bench", "migrations"}


def test_every_package_is_in_the_layers_contract():
    config = configparser.ConfigParser()
    config.read(ROOT / ".importlinter")
    roots = set(config["importlinter"]["root_packages"].split())
    layers = set(config["importlinter:contract:layers"]["layers"].split())
    packages = {path.parent.name for path in ROOT.glob("*/__init__.py")} - NOT_THE_APP
    assert roots == layers == packages


def test_no_test_reads_outside_the_repository():
    # A user's clone has nothing beside it (no ../shared): what a test needs lives in tests/.
    import re

    outside = re.compile(r"\.\./shared|[\"']shared[\"']\s*[/)]|parents\[[3-9]\]")
    readers = [str(path.relative_to(ROOT)) for path in (ROOT / "tests").rglob("*.py")
               if path != Path(__file__) and outside.search(path.read_text(encoding="utf-8"))]
    assert readers == []
