"""Rows keyed by a random value: a collision draws a new key instead of failing."""
import pytest

from core.extensions import db
from core.models import add_with_random_key
from codes.models import ServicePoint


def _point(client_id: str) -> ServicePoint:
    return ServicePoint(client_id=client_id, secret_hash="0" * 64, name="Counter", purposes=["x"])


def test_a_colliding_key_is_drawn_again(app):
    db.session.add(_point("taken"))
    db.session.flush()
    draws = iter(["taken", "free"])
    row = add_with_random_key(lambda: _point(next(draws)))
    assert row.client_id == "free"
    assert db.session.get(ServicePoint, row.id) is row


def test_it_gives_up_after_the_attempts(app):
    db.session.add(_point("taken"))
    db.session.flush()
    with pytest.raises(RuntimeError, match="no free random key for ServicePoint"):
        add_with_random_key(lambda: _point("taken"), attempts=3)
