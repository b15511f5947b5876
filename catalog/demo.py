"""The demo catalogue, for `flask --app wsgi demo seed`: the sample file under catalog/data/."""
from __future__ import annotations

from pathlib import Path

import yaml

SAMPLE = Path(__file__).resolve().parent / "data" / "catalogue.yaml"


def seed_catalogue(path: Path = SAMPLE) -> dict:
    """Load the sample catalogue (idempotent); returns how many items and bundles it holds."""
    from catalog.cli import load_catalogue

    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    load_catalogue(data)
    return {"service_items": len(data.get("service_items", [])), "bundles": len(data.get("bundles", []))}
