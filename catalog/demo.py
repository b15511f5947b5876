"""The demo catalogue, for `flask --app wsgi demo seed`: the sample file under catalog/data/,
and one policy (免申即享) with its publisher, found for the demo residents it holds for."""
from __future__ import annotations

from pathlib import Path

import yaml
from sqlalchemy import select

SAMPLE = Path(__file__).resolve().parent / "data" / "catalogue.yaml"
PUBLISHER = ("demo-civil-affairs", "市民政局")
POLICY = {"name": "高龄津贴", "benefit": "年满60周岁的老年人每月领取高龄津贴，无需申请，自动发放。",
          "rules": [{"credential": "resident-id", "claim": "birthdate", "op": "age_gte", "value": 60}]}


def seed_catalogue(path: Path = SAMPLE) -> dict:
    """Load the sample catalogue and the demo policy (idempotent); returns how many items and
    bundles the catalogue holds, and the publisher's client credentials."""
    from catalog.cli import load_catalogue

    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    load_catalogue(data)
    return {"service_items": len(data.get("service_items", [])), "bundles": len(data.get("bundles", [])),
            "policy_publisher": seed_policy()}


def seed_policy() -> dict:
    """The demo policy publisher (its secret derived, like every demo secret) and its policy,
    evaluated at once (a job: synchronous on the embedded default)."""
    from core.clients import demo_secret
    from core.extensions import db
    from catalog import jobs, policies
    from catalog.models import Policy
    from wallet.issuers import create_issuer, get_issuer_by_client_id

    client_id, name = PUBLISHER
    secret = demo_secret(client_id, "issuer")
    issuer = get_issuer_by_client_id(client_id)
    if issuer is None:
        issuer, _ = create_issuer(name, [], policy_publisher=True, client_id=client_id, client_secret=secret)
    exists = db.session.scalar(select(Policy.id).where(Policy.issuer_id == issuer.id,
                                                       Policy.name == POLICY["name"]))
    if exists is None:
        policy = policies.create_policy(issuer.id, POLICY["name"], POLICY["benefit"], POLICY["rules"])
        jobs.enqueue(jobs.evaluate_policy_job, policy.id)
    return {"name": name, "client_id": client_id, "client_secret": secret}
