"""`flask --app wsgi catalog load FILE`: the catalogue from a YAML or JSON file.

The file is a mapping of sections; each section has its loader, which validates every entry
first and changes nothing if one is bad, and which is idempotent. Service items and bundles
join ``LOADERS`` when the catalogue has them.
"""
import json
from pathlib import Path

import click
import yaml
from flask.cli import AppGroup

from app.errors import ValidationProblem
from app.extensions import db

catalog_cli = AppGroup("catalog", help="Credential types, service items and bundles.")


def _credential_types(entries):
    from wallet.catalogue import load_credential_types

    return load_credential_types(entries)


LOADERS = {"credential_types": _credential_types}


def read_catalogue(path: Path) -> dict:
    """The file's mapping of sections; ``click.ClickException`` when it cannot be one."""
    text = path.read_text(encoding="utf-8")
    try:
        data = json.loads(text) if path.suffix.lower() == ".json" else yaml.safe_load(text)
    except (ValueError, yaml.YAMLError) as exc:
        raise click.ClickException(f"{path.name} is not valid {'JSON' if path.suffix == '.json' else 'YAML'}: {exc}")
    if not isinstance(data, dict):
        raise click.ClickException(f"{path.name} must hold a mapping of sections")
    unknown = sorted(set(data) - set(LOADERS))
    if unknown:
        raise click.ClickException(f"unknown sections: {', '.join(unknown)} "
                                   f"(known: {', '.join(LOADERS)})")
    return data


@catalog_cli.command("load")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def load(file):
    """Create or update what FILE describes; prints what changed, by section, as JSON."""
    data = read_catalogue(file)
    result = {}
    try:
        for section, entries in data.items():
            report = LOADERS[section](entries)
            result[section] = {"created": report.created, "updated": report.updated,
                               "unchanged": report.unchanged}
    except ValidationProblem as exc:
        db.session.rollback()
        lines = [f"  {where}: {'; '.join(problems)}" for where, problems in exc.extra["errors"].items()]
        raise click.ClickException("nothing loaded:\n" + "\n".join(lines)) from None
    db.session.commit()
    click.echo(json.dumps(result, ensure_ascii=False))
