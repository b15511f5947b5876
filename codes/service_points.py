"""Service points: counters, gates and kiosks that scan codes, as client-credentials clients
(their secrets: ``app.clients``)."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from core import clock
from core.extensions import db
from core.ids import new_handle, new_id
from core.clients import (
    check_secret,
    hash_secret,
    new_secret,
    register_kind,
    set_active,
    token_claims,
)
from core.tokens import client_token
from codes.models import ServicePoint

CLIENT_KIND = "service-point"


def new_client_id() -> str:
    return "sp_" + new_handle(16)


def create_service_point(name: str, purposes: list[str], *, client_id: str | None = None,
                         client_secret: str | None = None) -> tuple[ServicePoint, str]:
    """Create a service point that may scan for ``purposes``; returns it and its secret.

    ``client_id`` and ``client_secret`` may be given (the demo seed derives them), else they
    are random. The secret is not stored, only its hash.
    """
    client_secret = client_secret or new_secret()
    point = ServicePoint(id=new_id(), client_id=client_id or new_client_id(),
                         secret_hash=hash_secret(client_secret), name=name,
                         purposes=sorted(set(purposes)), active=True, generation=0,
                         created_at=clock.now())
    db.session.add(point)
    db.session.flush()
    return point, client_secret


def get_service_point(service_point_id: str) -> ServicePoint | None:
    return db.session.get(ServicePoint, service_point_id)


def get_by_client_id(client_id: str) -> ServicePoint | None:
    return db.session.scalars(
        select(ServicePoint).where(ServicePoint.client_id == client_id)).one_or_none()


def authenticate(client_id: str, client_secret: str) -> ServicePoint:
    """The active service point these credentials belong to. Raises ``InvalidClient``."""
    return check_secret(get_by_client_id(client_id), client_secret)


def issue_token(client_id: str, client_secret: str) -> dict:
    """``{access_token, token_type, expires_in}`` for valid credentials; ``InvalidClient``."""
    point = authenticate(client_id, client_secret)
    return client_token(point.id, CLIENT_KIND, token_claims(point))


def set_enabled(client_id: str, enabled: bool) -> ServicePoint | None:
    """Enable or disable the service point with this client id (``app.clients.set_active``:
    disabling ends every token it holds, at once and for good); None when there is none."""
    point = get_by_client_id(client_id)
    if point is not None:
        set_active(point, enabled, CLIENT_KIND)
        db.session.flush()
    return point


def may_scan(point, purpose: str) -> bool:
    """Whether this service point (a row or a ``PointState``) is active and may scan for
    this purpose."""
    return point is not None and point.active and purpose in (point.purposes or ())


@dataclass(frozen=True)
class PointState:
    """What the scan route needs of a service point, as a worker's snapshot
    (``core.clients.cached_state``)."""

    id: str
    active: bool
    generation: int
    purposes: tuple[str, ...]


def point_state(service_point_id: str) -> PointState | None:
    row = db.session.execute(
        select(ServicePoint.active, ServicePoint.generation, ServicePoint.purposes)
        .where(ServicePoint.id == service_point_id)).first()
    if row is None:
        return None
    return PointState(service_point_id, row.active, row.generation, tuple(row.purposes or ()))


# The bearer check loads a service point's row by its token's ``sub`` through the session (a
# route that reads it again finds it in the identity map); the scan route takes this worker's
# snapshot instead, and the write of the scan checks the row again.
register_kind(CLIENT_KIND, get_service_point, point_state)
