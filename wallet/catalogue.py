"""Credential types: the catalogue of cards and certificates and the claims each carries."""
from __future__ import annotations

from dataclasses import dataclass, field

from core import clock
from core.errors import ValidationProblem
from core.extensions import db
from wallet.models import KINDS, CredentialType

# Claims that every credential carries in the clear; the rest are selectively disclosable.
REGISTERED_CLAIMS = ("iss", "iat", "nbf", "exp", "vct", "status", "cnf")



def get_type(vct: str) -> CredentialType | None:
    return db.session.get(CredentialType, vct) if isinstance(vct, str) else None


@dataclass
class LoadReport:
    created: list = field(default_factory=list)
    updated: list = field(default_factory=list)
    unchanged: list = field(default_factory=list)


def _check_type_entry(entry) -> list[str]:
    if not isinstance(entry, dict):
        return ["must be a mapping"]
    errors = []
    known = {"vct", "kind", "name", "claims", "required"}
    if set(entry) - known:
        errors.append(f"unknown fields: {', '.join(sorted(set(entry) - known))}")
    vct = entry.get("vct")
    if not isinstance(vct, str) or not 1 <= len(vct) <= 64 or not vct.replace("-", "").isalnum():
        errors.append("vct must be 1 to 64 letters, digits or hyphens")
    if entry.get("kind") not in KINDS:
        errors.append(f"kind must be one of {', '.join(KINDS)}")
    if "name" in entry and (not isinstance(entry["name"], str) or not 1 <= len(entry["name"]) <= 128):
        errors.append("name must be 1 to 128 characters")
    claims = entry.get("claims")
    if not isinstance(claims, list) or not claims or not all(
            isinstance(c, str) and c and c not in REGISTERED_CLAIMS and c != "_sd" for c in claims) \
            or len(set(claims)) != len(claims):
        errors.append("claims must be a non-empty list of distinct names "
                      f"(none of {', '.join(REGISTERED_CLAIMS)})")
        claims = []
    required = entry.get("required", claims)
    if not isinstance(required, list) or not set(required) <= set(claims or []):
        errors.append("required must be a list of some of the claims")
    return errors


def check_entries(section: str, entries, check, key: str) -> None:
    """Raise ``ValidationProblem`` naming every bad entry of a catalogue section by position
    (``section[3]``): ``check(entry)`` lists an entry's problems, and a ``key`` seen twice is
    one. Returns when all are good."""
    if not isinstance(entries, list):
        raise ValidationProblem({section: ["must be a list"]})
    errors, seen = {}, set()
    for n, entry in enumerate(entries):
        problems = check(entry)
        if not problems and entry[key] in seen:
            problems = [f"this {key} appears twice"]
        if problems:
            errors[f"{section}[{n}]"] = problems
        else:
            seen.add(entry[key])
    if errors:
        raise ValidationProblem(errors, f"Some {section.replace('_', ' ')} are not valid.")


def upsert(model, key_column: str, key: str, values: dict, report: LoadReport) -> None:
    """Create the row of ``key`` with ``values``, or bring it to them; noted in ``report``."""
    existing = db.session.get(model, key)
    if existing is None:
        db.session.add(model(**{key_column: key}, created_at=clock.now(), **values))
        report.created.append(key)
    elif any(getattr(existing, k) != v for k, v in values.items()):
        for k, v in values.items():
            setattr(existing, k, v)
        if hasattr(existing, "updated_at"):
            existing.updated_at = clock.now()
        report.updated.append(key)
    else:
        report.unchanged.append(key)


def load_credential_types(entries: list) -> LoadReport:
    """Create or update credential types from catalogue entries ``{vct, kind, claims,
    required?, name?}`` (``required`` defaults to all claims). Idempotent.

    Raises ``ValidationProblem`` with the errors of every bad entry, by position, and then
    changes nothing.
    """
    check_entries("credential_types", entries, _check_type_entry, "vct")
    report = LoadReport()
    for entry in entries:
        upsert(CredentialType, "vct", entry["vct"], {
            "kind": entry["kind"], "name": entry.get("name", entry["vct"]),
            "claims": list(entry["claims"]), "required": list(entry.get("required", entry["claims"]))},
            report)
    db.session.flush()
    return report


def claims_table() -> str:
    """The credential types in the database as a Markdown table, one row a type: what an
    issuer must and may send as ``claims`` (docs/ISSUING.md holds it; ``make docs`` writes it,
    and a test checks that the committed table is the catalogue's)."""
    from sqlalchemy import select

    rows = ["| type (`vct`) | name | kind | required claims | optional claims |",
            "| --- | --- | --- | --- | --- |"]
    for ctype in db.session.scalars(select(CredentialType).order_by(CredentialType.vct)):
        required = [c for c in ctype.claims if c in ctype.required]
        optional = [c for c in ctype.claims if c not in ctype.required]
        rows.append(f"| `{ctype.vct}` | {ctype.name} | {ctype.kind} | "
                    f"{', '.join(f'`{c}`' for c in required) or '-'} | "
                    f"{', '.join(f'`{c}`' for c in optional) or '-'} |")
    return "\n".join(rows) + "\n"
