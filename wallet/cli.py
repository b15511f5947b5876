"""Operator commands: issuers and their keys."""
import json

import click
from flask.cli import AppGroup

from core.clients import add_switch_commands
from core.errors import Problem
from core.extensions import db

issuer_cli = AppGroup("issuer", help="Issuers (departments) that issue credentials.")


@issuer_cli.command("create")
@click.argument("name")
@click.option("--type", "types", multiple=True, required=True,
              help="A credential type this issuer may issue; repeat for several.")
@click.option("--policy-publisher", is_flag=True, help="May publish policies (免申即享).")
def create(name, types, policy_publisher):
    """Register an issuer with its first signing key; prints {"client_id", "client_secret"}.

    The secret is shown only here; only its hash is stored.
    """
    from wallet.issuers import create_issuer

    if not name.strip() or len(name) > 128:
        raise click.BadParameter("must be 1 to 128 characters", param_hint="NAME")
    try:
        issuer, secret = create_issuer(name.strip(), list(types), policy_publisher)
    except Problem as exc:
        raise click.BadParameter(str(exc), param_hint="--type") from None
    db.session.commit()
    click.echo(json.dumps({"client_id": issuer.client_id, "client_secret": secret}))


@issuer_cli.command("rotate-key")
@click.argument("client_id")
def rotate_key(client_id):
    """Sign with a new key from now on; the old one stays in the trust list, so that what it
    signed keeps verifying. Prints {"kid"}."""
    from wallet import keys
    from wallet.issuers import get_issuer_by_client_id

    issuer = get_issuer_by_client_id(client_id)
    if issuer is None:
        raise click.BadParameter("no issuer has this client id", param_hint="CLIENT_ID")
    key = keys.rotate_key(issuer.id)
    db.session.commit()
    click.echo(json.dumps({"kid": key.kid}))


def _set_issuer_enabled(client_id, enabled):
    from wallet.issuers import set_enabled

    return set_enabled(client_id, enabled)


add_switch_commands(issuer_cli, "issuer", _set_issuer_enabled)
