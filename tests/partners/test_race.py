"""One code, one refresh token, one device approval, spent by many at once with real commits:
each works exactly once."""
from __future__ import annotations

import pytest

from core.extensions import db
from partners.models import OAuthToken
from tests.helpers import race, resident
from tests.partners.support import Browser, basic, exchange, get_code, make_partner

THREADS = 32  # at 12 a deadlock among the losers showed only now and then


@pytest.fixture
def setup(committing_app, clock):
    client = committing_app.test_client()
    person = resident(client)
    partner = make_partner(committing_app)
    return committing_app, client, person, partner


def _race(app, send) -> list[int]:
    return race(app, THREADS, send)


def _tokens(app) -> int:
    with app.app_context():
        return db.session.scalar(db.select(db.func.count()).select_from(OAuthToken))


def test_one_code_exchanged_by_many_at_once(setup):
    app, client, person, partner = setup
    code, verifier, _ = get_code(Browser(client), partner, person)
    statuses = _race(app, lambda c: exchange(c, partner, code, verifier))
    assert statuses == [200] + [400] * (THREADS - 1)
    # The replays revoked what the winner got, as a replayed code must.
    assert _tokens(app) == 1
    with app.app_context():
        assert db.session.scalar(db.select(OAuthToken.access_revoked_at)) is not None


def test_one_refresh_token_spent_by_many_at_once(setup):
    app, client, person, partner = setup
    code, verifier, _ = get_code(Browser(client), partner, person)
    refresh = exchange(client, partner, code, verifier).json["refresh_token"]
    data = {"grant_type": "refresh_token", "refresh_token": refresh}
    statuses = _race(app, lambda c: c.post("/oauth/token", data=data, headers=basic(partner)))
    assert statuses == [200] + [400] * (THREADS - 1)
    assert _tokens(app) == 2


def test_one_device_approval_polled_by_many_at_once(setup, clock):
    app, client, person, partner = setup
    started = client.post("/oauth/device_authorization", data={"scope": "openid"},
                          headers=basic(partner)).json
    assert client.post(f"/api/v1/me/logins/{started['user_code']}/approve",
                       headers=person["headers"]).status_code == 204
    data = {"grant_type": "urn:ietf:params:oauth:grant-type:device_code",
            "device_code": started["device_code"]}
    statuses = _race(app, lambda c: c.post("/oauth/token", data=data, headers=basic(partner)))
    assert statuses == [200] + [400] * (THREADS - 1)
