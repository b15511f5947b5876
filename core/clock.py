"""The one source of business time.

Everything that decides something by the time of day (expiry, throttling, TOTP steps) asks
``now()`` or ``timestamp()`` here, so tests move time instead of sleeping.
"""
from datetime import datetime, timezone
import time


def now() -> datetime:
    """The current time as an aware UTC datetime."""
    return datetime.now(timezone.utc)


def timestamp() -> float:
    """The current time as seconds since the epoch."""
    return time.time()


def rfc3339(moment: datetime) -> str:
    """An aware datetime as an RFC 3339 UTC string with a ``Z`` suffix."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


def aware(moment: datetime | None) -> datetime | None:
    """Datetimes read back from SQLite are naive; they are always UTC."""
    if moment is not None and moment.tzinfo is None:
        return moment.replace(tzinfo=timezone.utc)
    return moment
