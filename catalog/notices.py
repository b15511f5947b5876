"""Notices: what the phone app shows when an application moves or a policy is found."""
from __future__ import annotations

from sqlalchemy import func, select, update

from core import changes, clock
from core.errors import NotFound
from core.extensions import db
from core.ids import new_id
from catalog.models import Notice
from identity.models import Person

APPLICATION = "application"
POLICY = "policy"
CREDENTIAL = "credential"
MAX_TEXT = 500


def notify(person_id: str, kind: str, text: str, ref: str | None = None) -> Notice:
    notice = Notice(id=new_id(), person_id=person_id, kind=kind, text=text[:MAX_TEXT], ref=ref,
                    created_at=clock.now())
    db.session.add(notice)
    return notice


def notify_many(rows: list[dict]) -> None:
    """Insert many notices in one statement; each row ``{person_id, kind, text, ref}``."""
    if rows:
        now = clock.now()
        db.session.execute(Notice.__table__.insert(), [
            {"id": new_id(), "created_at": now, "read_at": None, **row, "text": row["text"][:MAX_TEXT]}
            for row in rows])
        changes.touch(db.session, persons={row["person_id"] for row in rows})


def notices_of(person_id: str, *, unread_only: bool = False, limit: int = 50) -> list[Notice]:
    """The person's notices, newest first."""
    query = select(Notice).where(Notice.person_id == person_id)
    if unread_only:
        query = query.where(Notice.read_at.is_(None))
    return list(db.session.scalars(query.order_by(Notice.created_at.desc(), Notice.id).limit(limit)))


def unread_count(person_id: str) -> int:
    return db.session.scalar(select(func.count()).select_from(Notice).where(
        Notice.person_id == person_id, Notice.read_at.is_(None)))


def mark_read(person_id: str, notice_id: str) -> None:
    """Mark one of the person's notices read (again is fine); ``NotFound`` for anyone else's."""
    from catalog.items import is_id

    if not is_id(notice_id):
        raise NotFound()
    found = db.session.scalar(select(Notice.id).where(Notice.id == notice_id,
                                                      Notice.person_id == person_id))
    if found is None:
        raise NotFound()
    db.session.execute(update(Notice).where(Notice.id == notice_id, Notice.read_at.is_(None))
                       .values(read_at=clock.now()).execution_options(synchronize_session=False))
    changes.touch(db.session, persons=(person_id,))


def latest_with_unread(person_id: str, limit: int = 5) -> tuple[list[Notice], int]:
    """The newest notices and how many of all are unread, in one query (for the home screen)."""
    unread = select(func.count()).select_from(Notice).where(
        Notice.person_id == person_id, Notice.read_at.is_(None)).scalar_subquery()
    rows = db.session.execute(select(Notice, unread).where(Notice.person_id == person_id)
                              .order_by(Notice.created_at.desc(), Notice.id).limit(limit)).all()
    return [notice for notice, _count in rows], (rows[0][1] if rows else 0)


def on_credential_changed(holder_index: str, event: str | None = None, credential: str | None = None,
                          type_name: str | None = None, issuer_name: str | None = None,
                          reason: str | None = None, **_) -> None:
    """Receiver of ``core.signals.credential_changed``: tell a registered holder that a
    credential was issued to them or revoked (``ref`` the credential's id). A holder who has not
    registered yet finds the credential in the wallet on registering; an enterprise has no
    notices."""
    if event == "issued":
        text = f"{issuer_name} issued you a {type_name}: it is in your wallet."
    elif event == "revoked":
        text = f"{issuer_name} revoked your {type_name}. Reason: {reason}"
    else:
        return
    person_id = db.session.scalar(select(Person.id).where(Person.id_number_index == holder_index))
    if person_id is not None:
        notify(person_id, CREDENTIAL, text, ref=credential)
