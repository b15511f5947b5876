"""Service items and bundles: reading the catalogue, and loading it from a catalogue file.

The loaders follow ``wallet.catalogue.load_credential_types``: every entry is checked first,
errors come back by position, nothing changes when one entry is bad, and loading the same
file twice changes nothing the second time.
"""
from __future__ import annotations

import re

from sqlalchemy import select

from core.extensions import db
from core.ids import OPAQUE_ID
from catalog.models import Bundle, ServiceItem
from wallet.catalogue import LoadReport, check_entries, upsert
from wallet.models import CredentialType

_CODE = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}\Z")
_ITEM_FIELDS = {"code", "name", "department", "conditions", "steps", "time_limit_days", "fee",
                "materials", "form", "guide"}
_BUNDLE_FIELDS = {"code", "name", "description", "items"}
_FORM_FIELDS = {"name", "label", "credential", "claim"}


def is_code(value) -> bool:
    """Whether ``value`` can be an item or bundle code (so that nothing else reaches SQL)."""
    return isinstance(value, str) and _CODE.match(value) is not None


def is_id(value) -> bool:
    """Whether ``value`` can be one of our opaque ids (``app.ids.new_id``)."""
    return isinstance(value, str) and OPAQUE_ID.fullmatch(value) is not None


def get_item(code) -> ServiceItem | None:
    return db.session.get(ServiceItem, code) if is_code(code) else None


def get_bundle(code) -> Bundle | None:
    return db.session.get(Bundle, code) if is_code(code) else None


def list_items(department: str | None = None) -> list[ServiceItem]:
    query = select(ServiceItem).order_by(ServiceItem.department, ServiceItem.code)
    if department:
        query = query.where(ServiceItem.department == department)
    return list(db.session.scalars(query))


def list_bundles() -> list[Bundle]:
    return list(db.session.scalars(select(Bundle).order_by(Bundle.code)))


def items_of(bundle: Bundle) -> list[ServiceItem]:
    """The bundle's items in its order (one query)."""
    found = {i.code: i for i in db.session.scalars(
        select(ServiceItem).where(ServiceItem.code.in_(bundle.items)))}
    return [found[code] for code in bundle.items if code in found]


def union_of_materials(items: list[ServiceItem]) -> list[str]:
    """Every type any of the items needs, once, in the order the items name them."""
    return list(dict.fromkeys(vct for item in items for vct in item.materials))


def union_of_forms(items: list[ServiceItem]) -> list[dict]:
    """One form for several items: each field once (by name), the first item's wording."""
    fields: dict[str, dict] = {}
    for item in items:
        for field in item.form:
            fields.setdefault(field["name"], field)
    return list(fields.values())


def materials_for_item(code) -> list[str] | None:
    """The credential types a service item needs; None for an unknown item (for material
    requests by service item)."""
    item = get_item(code)
    return list(item.materials) if item is not None else None


# Loading ------------------------------------------------------------------------------


def _text(entry, name, errors, *, max_len=128, required=True):
    value = entry.get(name)
    if value is None and not required:
        return
    if not isinstance(value, str) or not value.strip() or len(value) > max_len:
        errors.append(f"{name} must be text of 1 to {max_len} characters")


def _text_list(entry, name, errors):
    value = entry.get(name, [])
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() and len(v) <= 500
                                              for v in value):
        errors.append(f"{name} must be a list of texts (at most 500 characters each)")


def _known_types() -> dict[str, list[str]]:
    return {vct: claims for vct, claims in db.session.execute(
        select(CredentialType.vct, CredentialType.claims))}


def _check_item(entry, types: dict[str, list[str]]) -> list[str]:
    if not isinstance(entry, dict):
        return ["must be a mapping"]
    errors = []
    if set(entry) - _ITEM_FIELDS:
        errors.append(f"unknown fields: {', '.join(sorted(map(str, set(entry) - _ITEM_FIELDS)))}")
    if not isinstance(entry.get("code"), str) or not _CODE.match(entry["code"]):
        errors.append("code must be 1 to 64 lower-case letters, digits or hyphens")
    _text(entry, "name", errors)
    _text(entry, "department", errors)
    _text(entry, "fee", errors, required=False)
    _text(entry, "guide", errors, max_len=5000, required=False)
    _text_list(entry, "conditions", errors)
    _text_list(entry, "steps", errors)
    days = entry.get("time_limit_days", 0)
    if isinstance(days, bool) or not isinstance(days, int) or not 0 <= days <= 365:
        errors.append("time_limit_days must be a whole number of working days, 0 to 365")
    materials = entry.get("materials", [])
    if not isinstance(materials, list) or not all(isinstance(m, str) for m in materials) \
            or len(set(materials)) != len(materials):
        errors.append("materials must be a list of distinct credential types")
        materials = []
    else:
        unknown = [m for m in materials if m not in types]
        if unknown:
            errors.append(f"materials: unknown credential types: {', '.join(unknown)}")
    form = entry.get("form", [])
    if not isinstance(form, list):
        return errors + ["form must be a list of fields"]
    names = set()
    for n, field in enumerate(form):
        where = f"form[{n}]"
        if not isinstance(field, dict) or set(field) - _FORM_FIELDS:
            errors.append(f"{where} must be a mapping of {', '.join(sorted(_FORM_FIELDS))}")
            continue
        name = field.get("name")
        if not isinstance(name, str) or not _CODE.match(name.replace("_", "-")):
            errors.append(f"{where}.name must be 1 to 64 lower-case letters, digits or underscores")
        elif name in names:
            errors.append(f"{where}.name {name!r} appears twice")
        names.add(name)
        _text(field, "label", errors, required=False)
        vct, claim = field.get("credential"), field.get("claim")
        if (vct is None) != (claim is None):
            errors.append(f"{where} needs both credential and claim, or neither")
        elif vct is not None:
            if vct not in materials:
                errors.append(f"{where}.credential {vct!r} is not among the item's materials")
            elif claim not in types.get(vct, []):
                errors.append(f"{where}.claim {vct} has no claim {claim!r}")
    return errors


def _check_bundle(entry, item_codes: set[str]) -> list[str]:
    if not isinstance(entry, dict):
        return ["must be a mapping"]
    errors = []
    if set(entry) - _BUNDLE_FIELDS:
        errors.append(f"unknown fields: {', '.join(sorted(map(str, set(entry) - _BUNDLE_FIELDS)))}")
    if not isinstance(entry.get("code"), str) or not _CODE.match(entry["code"]):
        errors.append("code must be 1 to 64 lower-case letters, digits or hyphens")
    _text(entry, "name", errors)
    _text(entry, "description", errors, max_len=5000, required=False)
    items = entry.get("items")
    if not isinstance(items, list) or len(items) < 2 or not all(isinstance(i, str) for i in items) \
            or len(set(items)) != len(items):
        errors.append("items must be a list of at least two distinct service item codes")
    else:
        unknown = [i for i in items if i not in item_codes]
        if unknown:
            errors.append(f"items: unknown service items: {', '.join(unknown)}")
    return errors


def load_service_items(entries) -> LoadReport:
    """Create or update service items from catalogue entries. Idempotent.

    Raises ``ValidationProblem`` with the errors of every bad entry, by position, and then
    changes nothing.
    """
    types = _known_types()
    check_entries("service_items", entries, lambda e: _check_item(e, types), "code")
    report = LoadReport()
    for entry in entries:
        upsert(ServiceItem, "code", entry["code"], {
            "name": entry["name"].strip(), "department": entry["department"].strip(),
            "conditions": list(entry.get("conditions", [])), "steps": list(entry.get("steps", [])),
            "time_limit_days": entry.get("time_limit_days", 0), "fee": entry.get("fee", "free"),
            "materials": list(entry.get("materials", [])),
            "form": [{k: f[k] for k in ("name", "label", "credential", "claim") if k in f}
                     for f in entry.get("form", [])],
            "guide": entry.get("guide", "")}, report)
    db.session.flush()
    return report


def load_bundles(entries) -> LoadReport:
    """Create or update bundles (``{code, name, description?, items}``); every item must be in
    the catalogue already (or earlier in the same file). Idempotent; ``ValidationProblem``
    as for items."""
    codes = set(db.session.scalars(select(ServiceItem.code)))
    check_entries("bundles", entries, lambda e: _check_bundle(e, codes), "code")
    report = LoadReport()
    for entry in entries:
        upsert(Bundle, "code", entry["code"], {"name": entry["name"].strip(),
                                        "description": entry.get("description", ""),
                                        "items": list(entry["items"])}, report)
    db.session.flush()
    return report
