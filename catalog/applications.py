"""Applications: one pre-filled form for an item or a whole bundle, submitted with one
consent, tracked along a timeline (draft → submitted → accepted / rejected / completed).

The form is filled from the holder's valid credentials; ``missing`` names the types the
holder has no valid credential of (the departments obtain those by data sharing). Each change
of status adds to the timeline and leaves the holder a notice.

Departments (issuers, by their ``name``) see and answer the applications they handle
(``handled_by``); a draft is nobody's but its holder's until it is submitted.
"""
from __future__ import annotations

from sqlalchemy import ColumnElement, or_, select

from core import audit, clock
from core.clients import InvalidClient
from core.errors import NotFound, Problem, ValidationProblem
from core.extensions import db
from core.ids import new_id
from catalog import items, notices
from catalog.models import (ACCEPTED, COMPLETED, DRAFT, IN_PROGRESS, REJECTED, SUBMITTED, Application,
                            Bundle, ServiceItem)
from wallet import service as wallet
from wallet.models import Issuer

# Which status may follow which.
NEXT = {DRAFT: {SUBMITTED}, SUBMITTED: {ACCEPTED, REJECTED}, ACCEPTED: {COMPLETED, REJECTED}}
# The statuses a department moves an application to (submitting is the holder's alone).
ANSWERS = (ACCEPTED, REJECTED, COMPLETED)
# What a department may see: everything but drafts, which the holder has not shared yet.
SHARED_STATUSES = (SUBMITTED, ACCEPTED, REJECTED, COMPLETED)
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
        raise WrongStatus("An application that is %(now)s cannot become %(then)s.",
                          params={"now": application.status, "then": status})
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
        raise WrongStatus("An application that is %(now)s cannot be submitted.",
                          params={"now": application.status})
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


# Departments --------------------------------------------------------------------------


def handled_by(department: str) -> ColumnElement[bool]:
    """Which applications ``department`` handles, as a condition on ``Application``: those
    for a service item of that department, and those for a bundle it leads, that is whose
    first item is one of its items (``Bundle.items`` are in the order the departments handle
    them). The one place this rule lives."""
    own = set(db.session.scalars(select(ServiceItem.code).where(ServiceItem.department == department)))
    # The bundles are a short list and the first item sits in JSON, which the dialects read
    # differently: pick the led ones here rather than in SQL.
    led = [code for code, parts in db.session.execute(select(Bundle.code, Bundle.items))
           if parts and parts[0] in own]
    return or_(Application.item_code.in_(own), Application.bundle_code.in_(led))


def department_of(issuer_id: str) -> str:
    """The department an issuer answers for (its ``name``); ``InvalidClient`` once it is no
    longer active (its last token may still be valid)."""
    issuer = db.session.get(Issuer, issuer_id)
    if issuer is None or not issuer.active:
        raise InvalidClient()
    return issuer.name


def department_queue(issuer_id: str, *, status: str | None = None, limit: int = 50) -> list[Application]:
    """The applications the issuer's department handles, oldest first, never drafts;
    ``status`` narrows to one of ``SHARED_STATUSES``. ``InvalidClient``."""
    wanted = [s for s in SHARED_STATUSES if status in (None, s)]
    query = select(Application).where(handled_by(department_of(issuer_id)),
                                      Application.status.in_(wanted))
    return list(db.session.scalars(query.order_by(Application.created_at, Application.id).limit(limit)))


def _locked(query):
    # Two answers to one application wait for each other (PostgreSQL; SQLite has one writer).
    return query.with_for_update().execution_options(populate_existing=True)


def department_application(issuer_id: str, application_id, *, lock: bool = False) -> Application:
    """One application the issuer's department handles. ``NotFound`` for a draft, another
    department's or an unknown id, all alike; ``InvalidClient``. ``lock`` holds the row
    until the commit (moves of the same application wait for each other)."""
    department = department_of(issuer_id)
    if not items.is_id(application_id):
        raise NotFound()
    query = select(Application).where(Application.id == application_id, handled_by(department),
                                      Application.status.in_(SHARED_STATUSES))
    application = db.session.scalars(_locked(query) if lock else query).first()
    if application is None:
        raise NotFound()
    return application


def advance(application_id: str, status: str, note: str | None = None, *,
            issuer_id: str | None = None) -> Application:
    """The department's answer: accepted, rejected or completed, with an optional note for
    the holder's timeline; the holder gets a notice. Returns the application.

    With ``issuer_id`` (the department API) only an application that issuer's department
    handles, never a draft; without it (the operator CLI) any application. Raises
    ``NotFound``, ``WrongStatus`` (409) for a move the lifecycle does not allow,
    ``InvalidClient`` for an issuer no longer active.
    """
    if issuer_id is not None:
        application = department_application(issuer_id, application_id, lock=True)
    else:
        application = db.session.scalars(_locked(select(Application).where(
            Application.id == application_id))).first() if items.is_id(application_id) else None
        if application is None:
            raise NotFound()
    if status not in ANSWERS:
        raise WrongStatus("A department cannot make an application %(then)s.",
                          params={"then": status})
    name, _parts = _subject(application.item_code, application.bundle_code)
    _move(application, status, note, name)
    db.session.flush()
    by = {"issuer": issuer_id} if issuer_id is not None else {}
    audit.record("application-status", application=application.id, status=status, **by)
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
