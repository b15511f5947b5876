"""Operator commands of the signing CA (`flask --app wsgi signing ...`)."""
import json

import click
from flask.cli import AppGroup

from core.extensions import db
from signatures import ca as signing_ca

signing_cli = AppGroup("signing", help="The platform's signing CA for signatures and seals.")


def _describe(ca, made: bool) -> str:
    root = signing_ca.certificate(ca.root_certificate)
    return json.dumps({"generation": ca.generation, "created": made,
                       "root_subject": root.subject.rfc4514_string(),
                       "root_sha256": signing_ca.fingerprint(ca.root_certificate)})


@signing_cli.command("init")
def init_command():
    """Make the signing CA (root and issuing CA, keys encrypted at rest) unless there is one;
    prints {"generation", "created", "root_subject", "root_sha256"}."""
    ca, made = signing_ca.ensure_ca()
    db.session.commit()
    click.echo(_describe(ca, made))


@signing_cli.command("rotate")
def rotate_command():
    """Replace the signing CA: the current one is retired and its keys wiped (what it signed
    still verifies against its root, which the trust list keeps naming)."""
    ca = signing_ca.rotate_ca()
    db.session.commit()
    click.echo(_describe(ca, True))
