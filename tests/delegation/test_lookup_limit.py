"""Finding out who has registered, by inviting ID numbers as proxies, is limited per account."""
from __future__ import annotations

from tests.codes.support import problem_type
from tests.helpers import resident, valid_id_number


def _invite(client, inviter, id_number, relation="parent"):
    return client.post("/api/v1/me/proxies", json={"id_number": id_number, "relation": relation},
                       headers=inviter["headers"])


def _unknown(n: int) -> str:
    # Valid ID numbers of a birth date that no test registers.
    return valid_id_number(n, "19520101")


def test_the_31st_invitation_in_the_window_is_429_until_the_window_passes(client, clock, app):
    limit = app.config["ID_NUMBER_LOOKUPS_PER_ACCOUNT"]
    window = app.config["ID_NUMBER_LOOKUP_WINDOW_SECONDS"]  # the test clock stands at a window's start
    assert (limit, window) == (30, 600)
    prober, registered, bystander = resident(client), resident(client), resident(client)
    for n in range(limit - 1):
        response = _invite(client, prober, _unknown(n))
        assert response.status_code == 422 and "id_number" in response.json["errors"]
    # A hit counts as much as a miss: it tells as much.
    assert _invite(client, prober, registered["id_number"]).status_code == 201

    for id_number in (_unknown(limit), bystander["id_number"]):
        limited = _invite(client, prober, id_number)
        assert limited.status_code == 429 and problem_type(limited) == "too-many-attempts"
        assert limited.mimetype == "application/problem+json"
        assert int(limited.headers["Retry-After"]) == window
    # Nothing was looked up: no invitation reached the bystander.
    assert client.get("/api/v1/me/proxies", headers=bystander["headers"]).json == []

    # Another account is not affected.
    assert _invite(client, registered, _unknown(limit)).status_code == 422
    assert _invite(client, registered, bystander["id_number"]).status_code == 201

    clock.shift(window - 1)
    late = _invite(client, prober, _unknown(limit))
    assert late.status_code == 429 and int(late.headers["Retry-After"]) == 1
    clock.shift(1)
    assert _invite(client, prober, _unknown(limit)).status_code == 422
    assert _invite(client, prober, bystander["id_number"]).status_code == 201


def test_invitations_refused_before_any_lookup_do_not_count(client, app, monkeypatch):
    monkeypatch.setitem(app.config, "ID_NUMBER_LOOKUPS_PER_ACCOUNT", 2)
    prober, other = resident(client), resident(client)
    for _ in range(3):  # a bad checksum or relation is refused without looking anyone up
        assert _invite(client, prober, "110101199003070000").status_code == 422
        assert _invite(client, prober, other["id_number"], relation="boss").status_code == 422
    assert _invite(client, prober, _unknown(1)).status_code == 422
    assert _invite(client, prober, other["id_number"]).status_code == 201
    assert _invite(client, prober, _unknown(2)).status_code == 429
