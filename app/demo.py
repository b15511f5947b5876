"""`flask --app wsgi demo seed`: demo residents and service points, printed as JSON.

Idempotent: what exists already is left alone, and the same credentials come out every time.
Demo service-point secrets are derived from ``SECRET_KEY`` (HMAC of the client id), so a
re-run prints working secrets without any plaintext being stored; the residents' passwords
are fixed demo passphrases (argon2 hashes stored as for anyone).
"""
from __future__ import annotations

import json

import click
from flask.cli import AppGroup

from core.clients import demo_secret

demo_cli = AppGroup("demo", help="Demo data for the embedded defaults.")

# (name, region, birth date, sequence, phone, password)
DEMO_RESIDENTS = [
    ("张三丰", "110102", "19850312", 11, "13800138001", "demo-passphrase-zhang-2026"),
    ("李小梅", "310104", "19920718", 22, "13800138002", "demo-passphrase-li-2026"),
    ("王建国", "440305", "19600101", 33, "13800138003", "demo-passphrase-wang-2026"),
    ("赵敏", "510107", "20010925", 44, "13800138004", "demo-passphrase-zhao-2026"),
]

# (client id, name, purposes)
DEMO_SERVICE_POINTS = [
    ("demo-xicheng-hall", "Citizen Service Hall, Xicheng", ["identity-check", "service-handling"]),
    ("demo-metro-line-1", "Metro Line 1 gate", ["transit"]),
    ("demo-city-library", "City Library", ["library"]),
]


def seed_residents() -> list[dict]:
    from identity.id_numbers import make_id_number
    from identity.service import get_person_by_id_number, register_resident

    residents = []
    for name, region, birth, seq, phone, password in DEMO_RESIDENTS:
        id_number = make_id_number(region, birth, seq)
        if get_person_by_id_number(id_number) is None:
            register_resident(name, id_number, phone, password)
        residents.append({"name": name, "username": id_number, "phone": phone,
                          "password": password})
    return residents


def seed_service_points() -> list[dict]:
    from codes.service_points import create_service_point, get_by_client_id

    points = []
    for client_id, name, purposes in DEMO_SERVICE_POINTS:
        secret = demo_secret(client_id)
        if get_by_client_id(client_id) is None:
            create_service_point(name, purposes, client_id=client_id, client_secret=secret)
        points.append({"name": name, "client_id": client_id, "client_secret": secret,
                       "purposes": purposes})
    return points


@demo_cli.command("seed")
def seed():
    """Create the demo residents, service points, issuers, their first credentials and the
    catalogue (each once) and print the credentials to sign in with."""
    from core import audit
    from core.extensions import db
    from catalog.demo import seed_catalogue
    from codes.keys import ensure_signing_key
    from wallet.demo import seed_credentials, seed_issuers

    try:
        residents = seed_residents()
        out = {"residents": residents, "service_points": seed_service_points(),
               "issuers": seed_issuers(lambda client_id: demo_secret(client_id, "issuer"))}
        seed_credentials(residents)
        out["catalogue"] = seed_catalogue()
        ensure_signing_key()
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    audit.seal()
    db.session.commit()
    click.echo(json.dumps(out, ensure_ascii=False, indent=2))
