"""The layers contract (.importlinter, run by ``make test``) covers every package of the app:
a package left out of it could import anything unseen."""
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
