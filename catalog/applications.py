"""Applications: one pre-filled form for an item or a whole bundle, submitted with one
consent, tracked along a timeline (draft → submitted → accepted / rejected / completed).

The form is filled from the holder's valid credentials; ``missing`` names the types the
holder has no valid credential of (the departments obtain those by data sharing). Each change
of status adds to the timeline and leaves the holder a notice.
"""
from __future__ import annotations

from sqlalchemy import select

from app import audit, clock
from app.errors import NotFound, Problem, ValidationProblem
from app.extensions import db
from app.ids import new_id
from catalog import items, notices
from catalog.models import (ACCEPTED, COMPLETED, DRAFT, IN_PROGRESS, REJECTED, SUBMITTED, Application,
                            Bundle, ServiceItem)
from wallet import service as wallet

# Which status may follow which.
NEXT = {DRAFT: {SUBMITTED}, SUBMITTED: {ACCEPTED, REJECTED}, ACCEPTED: {COMPLETED, REJECTED}}
_WORDS = {SUBMITTED: "was submitted", ACCEPTED: "was accepted", REJECTED: "was rejected",
          COMPLETED: "is completed"}
MAX_VALUE_CHARS = 500


class WrongStatus(Problem):
    type = "wrong-status"
    status = 409
    title = "The application is not in a status that allows this"


def _subject(item_code: str | None, bundle_code: str | None) -> tuple[str, list[ServiceItem]]:
    """The name and the items of what is applied for; ``NotFound``."""
    if bundle_code is not None:
        bundle = items.get_bundle(bundle_code)
        if bundle is None:
            raise NotFound("No bundle has this code.")
        return bundle.name, items.items_of(bundle)
    item = items.get_item(item_code)
    if item is None:
        raise NotFound("No service item has this code.")
    return item.name, [item]


def _prefill(holder_index: str, parts: list[ServiceItem]) -> tuple[dict, list[str], dict]:
    """``(form, missing, credentials by type)`` from the holder's valid credentials."""
    materials = items.union_of_materials(parts)
    held = wallet.usable_credentials(holder_index, materials) if materials else {}
    claims = {vct: wallet.claims_of(credential) for vct, credential in held.items()}
    form = {}
    for field in items.union_of_forms(parts):
        value = claims.get(field.get("credential"), {}).get(field.get("claim")) if "claim" in field else None
        form[field["name"]] = value
    return form, [t for t in materials if t not in held], held


def create_application(person_id: str, holder_index: str, *, item_code: str | None = None,
                       bundle_code: str | None = None) -> Application:
    """A draft application with its form pre-filled. ``NotFound`` for an unknown item or
    bundle."""
    name, parts = _subject(item_code, bundle_code)
    form, missing, _held = _prefill(holder_index, parts)
    now = clock.now()
    application = Application(id=new_id(), person_id=person_id, item_code=None if bundle_code else item_code,
                              bundle_code=bundle_code, status=DRAFT, form=form, missing=missing,
                              timeline=[{"status": DRAFT, "at": clock.rfc3339(now)}], shared=[],
                              created_at=now, updated_at=now)
    db.session.add(application)
    db.session.flush()
    return application


def get_application(person_id: str, application_id: str) -> Application:
    if not items.is_id(application_id):
        raise NotFound()
    application = db.session.scalars(select(Application).where(
        Application.id == application_id, Application.person_id == person_id)).first()
    if application is None:
        raise NotFound()
    return application


def applications_of(person_id: str, *, in_progress: bool = False, limit: int = 100) -> list[Application]:
    query = select(Application).where(Application.person_id == person_id)
    if in_progress:
        query = query.where(Application.status.in_(IN_PROGRESS))
    return list(db.session.scalars(query.order_by(Application.created_at.desc(), Application.id)
                                   .limit(limit)))


def names_of(applications: list[Application]) -> dict[str, str]:
    """What each application is for, by its item or bundle code (two small queries)."""
    item_codes = {a.item_code for a in applications if a.item_code}
    bundle_codes = {a.bundle_code for a in applications if a.bundle_code}
    names = {}
    if item_codes:
        names.update(db.session.execute(select(ServiceItem.code, ServiceItem.name)
                                        .where(ServiceItem.code.in_(item_codes))).all())
    if bundle_codes:
        names.update(db.session.execute(select(Bundle.code, Bundle.name)
                                        .where(Bundle.code.in_(bundle_codes))).all())
    return names


def _move(application: Application, status: str, note: str | None, name: str) -> None:
    if status not in NEXT.get(application.status, set()):
        raise WrongStatus(f"An application that is {application.status} cannot become {status}.")
    now = clock.now()
    entry = {"status": status, "at": clock.rfc3339(now)}
    if note:
        entry["note"] = note[:MAX_VALUE_CHARS]
    application.status = status
    application.timeline = [*application.timeline, entry]
    application.updated_at = now
    notices.notify(application.person_id, notices.APPLICATION,
                   f"Your application for {name} {_WORDS[status]}.", ref=application.id)


def submit(person_id: str, holder_index: str, application_id: str, form: dict | None = None) -> Application:
    """Submit a draft: the form is filled again from the wallet (it may have changed), the
    holder's entries in ``form`` are kept for fields that no credential filled, and the
    credentials of the whole item or bundle are shared with the departments: the holder's one
    consent. ``NotFound``, ``WrongStatus`` (409), ``ValidationProblem`` for unknown fields."""
    application = get_application(person_id, application_id)
    if application.status != DRAFT:
        raise WrongStatus(f"An application that is {application.status} cannot be submitted.")
    name, parts = _subject(application.item_code, application.bundle_code)
    filled, missing, held = _prefill(holder_index, parts)
    form = form or {}
    unknown = sorted(set(form) - set(filled))
    bad = [k for k, v in form.items() if not isinstance(v, (str, int, float)) or isinstance(v, bool)
           or (isinstance(v, str) and len(v) > MAX_VALUE_CHARS)]
    if unknown or bad:
        errors = {}
        if unknown:
            errors["form"] = [f"Not fields of this form: {', '.join(unknown)}."]
        for k in bad:
            errors[f"form.{k}"] = [f"Must be a string of at most {MAX_VALUE_CHARS} characters or a number."]
        raise ValidationProblem(errors)
    application.form = {k: (v if v is not None else form.get(k, application.form.get(k)))
                        for k, v in filled.items()}
    application.missing = missing
    application.shared = [{"type": vct, "credential_id": c.id} for vct, c in held.items()]
    _move(application, SUBMITTED, None, name)
    db.session.flush()
    audit.record("application-submit", application=application.id, person=person_id,
                 credentials=sorted(c.id for c in held.values()))
    return application


def advance(application_id: str, status: str, note: str | None = None) -> Application:
    """The department's answer: accepted, rejected or completed. ``NotFound``, ``WrongStatus``."""
    application = db.session.get(Application, application_id) if items.is_id(application_id) else None
    if application is None:
        raise NotFound()
    name, _parts = _subject(application.item_code, application.bundle_code)
    _move(application, status, note, name)
    db.session.flush()
    audit.record("application-status", application=application.id, status=status)
    return application


def in_progress_with_names(person_id: str, limit: int = 10) -> list[tuple[Application, str]]:
    """The person's applications still in progress, newest first, each with the name of its
    item or bundle, in one query (for the home screen)."""
    rows = db.session.execute(
        select(Application, ServiceItem.name, Bundle.name)
        .outerjoin(ServiceItem, ServiceItem.code == Application.item_code)
        .outerjoin(Bundle, Bundle.code == Application.bundle_code)
        .where(Application.person_id == person_id, Application.status.in_(IN_PROGRESS))
        .order_by(Application.created_at.desc(), Application.id).limit(limit)).all()
    return [(application, item_name or bundle_name) for application, item_name, bundle_name in rows]
