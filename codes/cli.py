"""Operator commands: signing keys and service points."""
import json
import re
from datetime import timedelta

import click
from flask.cli import AppGroup

from core import clock
from core.clients import add_switch_commands
from core.extensions import db

keys_cli = AppGroup("keys", help="Code signing keys.")
service_point_cli = AppGroup("service-point", help="Service points that scan codes.")

_DURATION = re.compile(r"(\d+)([smhd]?)")
_UNIT = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


class Duration(click.ParamType):
    """``90``, ``90s``, ``15m``, ``1h`` or ``2d``."""

    name = "duration"

    def convert(self, value, param, ctx):
        if isinstance(value, timedelta):
            return value
        match = _DURATION.fullmatch(str(value).strip())
        if match is None:
            self.fail(f"{value!r} is not a duration such as 90s, 15m, 1h or 2d", param, ctx)
        return timedelta(seconds=int(match.group(1)) * _UNIT[match.group(2)])


@keys_cli.command("rotate")
@click.option("--activate-in", type=Duration(), default="0",
              help="Publish the new key now but sign with it only after this long (e.g. 1h), "
                   "so that offline gates fetch it first.")
def rotate(activate_in):
    """Create a new signing key; the old one keeps verifying until its codes expire.

    Prints {"kid", "activates_at"} as JSON.
    """
    from codes.keys import rotate_keys

    key = rotate_keys(activate_in)
    out = {"kid": key.kid, "activates_at": clock.rfc3339(key.activates_at)}
    db.session.commit()
    click.echo(json.dumps(out))


@keys_cli.command("revoke")
@click.argument("kid")
def revoke(kid):
    """Revoke a signing key that leaked: out of the JWKS at once, every code it signed refused,
    cached codes dropped, another key signing (made now if none is active).

    Prints {"revoked", "signing"} (kids) as JSON.
    """
    from codes.keys import UnknownSigningKey, revoke_key

    try:
        revoked, signing = revoke_key(kid)
    except UnknownSigningKey:
        raise click.BadParameter("no signing key has this kid", param_hint="KID") from None
    out = {"revoked": revoked.kid, "signing": signing.kid}
    db.session.commit()
    click.echo(json.dumps(out))


@keys_cli.command("list")
def list_keys():
    """Print the published signing keys as JSON, newest first."""
    from codes.keys import published_keys

    click.echo(json.dumps([{
        "kid": key.kid,
        "activates_at": clock.rfc3339(key.activates_at),
        "retired_at": clock.rfc3339(key.retired_at) if key.retired_at else None,
    } for key in published_keys()], indent=2))


@service_point_cli.command("create")
@click.argument("name")
@click.option("--purpose", "purposes", multiple=True, required=True,
              help="A purpose this service point may scan for; repeat for several.")
def create(name, purposes):
    """Register a service point; prints {"client_id", "client_secret"} as JSON.

    The secret is shown only here; only its hash is stored.
    """
    from codes.service_points import create_service_point

    if not name.strip() or len(name) > 128:
        raise click.BadParameter("must be 1 to 128 characters", param_hint="NAME")
    for purpose in purposes:
        if not purpose.strip() or len(purpose) > 64:
            raise click.BadParameter("must be 1 to 64 characters", param_hint="--purpose")
    point, secret = create_service_point(name, list(purposes))
    out = {"client_id": point.client_id, "client_secret": secret}
    db.session.commit()
    click.echo(json.dumps(out))


def _set_service_point_enabled(client_id, enabled):
    from codes.service_points import set_enabled

    return set_enabled(client_id, enabled)


add_switch_commands(service_point_cli, "service point", _set_service_point_enabled)
