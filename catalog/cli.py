"""`flask --app wsgi catalog load FILE`: the catalogue from a YAML or JSON file.

The file is a mapping of sections; each section has its loader, which validates every entry
first and changes nothing if one is bad, and which is idempotent. Sections load in the order
of ``LOADERS`` whatever their order in the file, so items may use types and bundles items
defined in the same file.
"""
import json
from pathlib import Path

import click
import yaml
from flask.cli import AppGroup

from core.errors import ValidationProblem
from core.extensions import db

catalog_cli = AppGroup("catalog", help="Credential types, service items and bundles.")


def _credential_types(entries):
    from wallet.catalogue import load_credential_types

    return load_credential_types(entries)


def _service_items(entries):
    from catalog.items import load_service_items

    return load_service_items(entries)


def _bundles(entries):
    from catalog.items import load_bundles

    return load_bundles(entries)


LOADERS = {"credential_types": _credential_types, "service_items": _service_items,
           "bundles": _bundles}


def load_catalogue(data: dict) -> dict:
    """Load every section of a catalogue mapping (in ``LOADERS`` order); returns what changed
    by section. Raises ``ValidationProblem`` (the caller rolls back)."""
    result = {}
    for section in LOADERS:
        if section in data:
            report = LOADERS[section](data[section])
            result[section] = {"created": report.created, "updated": report.updated,
                               "unchanged": report.unchanged}
    return result


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
    try:
        result = load_catalogue(data)
    except ValidationProblem as exc:
        db.session.rollback()
        lines = [f"  {where}: {'; '.join(problems)}" for where, problems in exc.extra["errors"].items()]
        raise click.ClickException("nothing loaded:\n" + "\n".join(lines)) from None
    db.session.commit()
    click.echo(json.dumps(result, ensure_ascii=False))


@catalog_cli.command("evaluate-policies")
def evaluate_policies():
    """Queue a fresh evaluation of every policy in force (run it daily: ages change with the
    date, and policies come into force); prints {"queued": n}."""
    from catalog import jobs, policies

    queued = 0
    for policy in policies.policies_in_force():
        jobs.enqueue(jobs.evaluate_policy_job, policy.id)
        queued += 1
    db.session.commit()
    click.echo(json.dumps({"queued": queued}))


@catalog_cli.command("application-status")
@click.argument("application_id")
@click.argument("status", type=click.Choice(["accepted", "rejected", "completed"]))
@click.option("--note", default=None, help="A short note for the resident's timeline.")
def application_status(application_id, status, note):
    """Move an application on, for whichever department handles it (no department check;
    departments use POST /api/v1/issuer/applications/ID/status); the resident gets a notice."""
    from core import audit
    from core.errors import Problem
    from catalog import applications

    try:
        application = applications.advance(application_id, status, note)
    except Problem as exc:
        db.session.rollback()
        raise click.ClickException(str(exc)) from None
    db.session.commit()
    audit.seal()  # a command seals what it recorded itself (no request will)
    click.echo(json.dumps({"id": application.id, "status": application.status}))
