"""Operator commands for partner apps (`flask --app wsgi partner ...`)."""
import json

import click
from flask.cli import AppGroup

from core.clients import add_switch_commands
from core.errors import ValidationProblem
from core.extensions import db

partner_cli = AppGroup("partner", help="Partner apps that sign their users in with OneCode.")


@partner_cli.command("create")
@click.argument("name")
@click.option("--redirect-uri", "redirect_uris", multiple=True, required=True,
              help="An exact redirect URI (https; http only for localhost); repeat for several.")
@click.option("--scope", "scopes", multiple=True,
              help="A scope it may ask for: openid (always), profile, phone; repeat for several.")
def create(name, redirect_uris, scopes):
    """Register a partner app; prints {"client_id", "client_secret"} as JSON.

    The secret is shown only here; only its digest is stored.
    """
    from partners.service import create_partner

    try:
        client, secret = create_partner(name, list(redirect_uris), list(scopes))
    except ValidationProblem as exc:
        problems = "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.extra["errors"].items())
        raise click.UsageError(problems) from None
    out = {"client_id": client.client_id, "client_secret": secret}
    db.session.commit()
    click.echo(json.dumps(out))


@partner_cli.command("rotate-key")
def rotate_key():
    """New ID-token signing key; the old ones stay in /oauth/jwks for a while. Prints {"kid"}."""
    from partners.keys import rotate_id_token_key

    key = rotate_id_token_key()
    out = {"kid": key.kid}
    db.session.commit()
    click.echo(json.dumps(out))


def _set_partner_enabled(client_id, enabled):
    from partners.service import set_enabled

    return set_enabled(client_id, enabled)


add_switch_commands(partner_cli, "partner app", _set_partner_enabled)
