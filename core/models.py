"""Column types and mixins shared by the domain models."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, String
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

from core.clock import now
from core.ids import new_id


class UTCDateTime(TypeDecorator):
    """A timezone-aware UTC datetime on every database (SQLite hands back naive ones)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value

    def process_result_value(self, value, dialect):
        from datetime import timezone

        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value


def id_column() -> Mapped[str]:
    return mapped_column(String(32), primary_key=True, default=new_id)


def created_column() -> Mapped[datetime]:
    return mapped_column(UTCDateTime(), default=now, nullable=False)


def insert_for(model):
    """An INSERT of the session's own dialect, so that ``.on_conflict_do_nothing()`` is there
    on PostgreSQL and SQLite alike (one round trip where a SAVEPOINT would take three)."""
    from sqlalchemy.dialects import postgresql, sqlite

    from core.extensions import db

    dialect = db.session.get_bind().dialect.name
    return (postgresql if dialect == "postgresql" else sqlite).insert(model)


def add_with_random_key(build, attempts: int = 5):
    """Add and flush the row that ``build()`` makes around a freshly drawn random key; on the
    rare collision of that key (an ``IntegrityError``) draw again. Returns the row."""
    from sqlalchemy.exc import IntegrityError

    from core.extensions import db

    for _ in range(attempts):
        row = build()
        try:
            with db.session.begin_nested():
                db.session.add(row)
                db.session.flush()
        except IntegrityError:
            continue
        return row
    raise RuntimeError(f"no free random key for {type(row).__name__} in {attempts} draws")
