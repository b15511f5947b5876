"""The platform's own token endpoints for service points and issuers answer an unknown client,
a wrong secret and a disabled client alike, after the same digest comparison."""
from __future__ import annotations

import pytest

from core import clients

ENDPOINTS = {"/api/v1/service-points/token": ("service-point", "sp_"),
             "/api/v1/issuers/token": ("issuer", "is_")}


def _create(kind: str) -> dict:
    from core.extensions import db

    if kind == "service-point":
        from codes.service_points import create_service_point

        row, secret = create_service_point("Hall", ["identity-check"])
    else:
        from wallet.issuers import create_issuer

        row, secret = create_issuer("市公安局", ["resident-id"])
    created = {"client_id": row.client_id, "client_secret": secret}
    db.session.commit()
    return created


def _answer(response) -> tuple:
    """Everything a caller could tell two failures apart by."""
    return (response.status_code, response.get_json(), response.headers.get("WWW-Authenticate"),
            response.mimetype)


@pytest.mark.parametrize("path", ENDPOINTS)
def test_unknown_wrong_and_disabled_answer_alike(client, runner, path):
    kind, prefix = ENDPOINTS[path]
    known, disabled = _create(kind), _create(kind)
    assert runner.invoke(args=[kind, "disable", disabled["client_id"]]).exit_code == 0

    unknown = client.post(path, json={"client_id": prefix + "nosuchclient0000",
                                      "client_secret": known["client_secret"]})
    wrong = client.post(path, json={**known, "client_secret": "not-the-secret"})
    off = client.post(path, json=disabled)
    assert _answer(unknown) == _answer(wrong) == _answer(off)
    assert unknown.status_code == 401
    assert unknown.get_json()["type"].endswith("/invalid-client")
    assert client.post(path, json=known).status_code == 200


@pytest.mark.parametrize("path", ENDPOINTS)
def test_an_unknown_client_costs_the_same_digest_comparison(client, monkeypatch, path):
    kind, prefix = ENDPOINTS[path]
    known = _create(kind)
    compared = []
    real = clients.hmac.compare_digest

    def spy(a, b):
        compared.append((len(a), len(b)))
        return real(a, b)

    monkeypatch.setattr(clients.hmac, "compare_digest", spy)
    for body in ({"client_id": prefix + "nosuchclient0000", "client_secret": "guess"},
                 {**known, "client_secret": "guess"}):
        compared.clear()
        assert client.post(path, json=body).status_code == 401
        assert compared == [(64, 64)]
