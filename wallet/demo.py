"""Demo issuers and the demo residents' first credentials, for `flask --app wsgi demo seed`.

Idempotent, like the rest of the seed: an issuer that exists is left alone (its secret is
derived, so the same one prints again), and a resident who already holds a type gets no
second credential of it.
"""
from __future__ import annotations

from collections.abc import Callable

from flask import current_app

from identity.id_numbers import birthdate_of
from wallet import service
from wallet.issuers import create_issuer, get_issuer_by_client_id

# (client id, name, types)
DEMO_ISSUERS = [
    ("demo-public-security", "市公安局", ["resident-id", "household-register"]),
    ("demo-traffic-police", "市公安局交通管理局", ["driver-licence"]),
    ("demo-health", "市卫生健康委员会", ["birth-certificate"]),
    ("demo-market-regulation", "市市场监督管理局", ["business-licence"]),
    ("demo-human-resources", "市人力资源和社会保障局", ["social-security-card"]),
    ("demo-healthcare-security", "市医疗保障局", ["medical-insurance-card"]),
]


def seed_issuers(secret_for: Callable[[str], str]) -> list[dict]:
    """Create the demo issuers (once); ``secret_for(client_id)`` gives each its secret."""
    issuers = []
    for client_id, name, types in DEMO_ISSUERS:
        secret = secret_for(client_id)
        if get_issuer_by_client_id(client_id) is None:
            create_issuer(name, types, client_id=client_id, client_secret=secret)
        issuers.append({"name": name, "client_id": client_id, "client_secret": secret, "types": types})
    return issuers


def seed_credentials(residents: list[dict]) -> int:
    """A resident-id and a social security card for each demo resident (``{name, username}``
    with ``username`` the ID number) who lacks them; returns how many were issued."""
    base_url = current_app.config["PUBLIC_URL"] or "http://127.0.0.1:5000"
    police = get_issuer_by_client_id("demo-public-security")
    social = get_issuer_by_client_id("demo-human-resources")
    issued = 0
    for n, resident in enumerate(residents):
        number = resident["username"]
        holder = {"id_number": number}
        index = service.holder_index(holder)[0]
        held = {credential.vct for credential, _type, _issuer in service.wallet_of(index)}
        wanted = [
            (police, "resident-id", {
                "name": resident["name"], "id_number": number,
                "birthdate": birthdate_of(number).isoformat(),
                "sex": "male" if int(number[16]) % 2 else "female",
                "address": "北京市西城区西长安街1号", "valid_until": "2036-12-31"}),
            (social, "social-security-card", {
                "name": resident["name"], "id_number": number, "card_number": f"M{100000 + n}",
                "city": "北京"}),
        ]
        for issuer, vct, claims in wanted:
            if vct not in held:
                service.issue_credential(issuer.id, vct, holder, claims, base_url=base_url)
                issued += 1
    return issued
