"""The explicit list of operator commands (`flask --app wsgi ...`)."""
from flask import Flask


def register(app: Flask) -> None:
    from core.audit import audit_cli
    from app.demo import demo_cli
    from core.jobs import jobs_cli
    from catalog.cli import catalog_cli
    from codes.cli import keys_cli, service_point_cli
    from partners.cli import partner_cli
    from signatures.cli import signing_cli
    from wallet.cli import issuer_cli

    for group in (demo_cli, keys_cli, service_point_cli, issuer_cli, catalog_cli, audit_cli,
                  partner_cli, jobs_cli, signing_cli):
        app.cli.add_command(group)
