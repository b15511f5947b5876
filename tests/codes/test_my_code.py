"""The phone app's view: its current code, as text and as images, and how often it changes."""
from __future__ import annotations

import struct
from datetime import timedelta

import base45
import cwt
import pytest
from cwt import COSEKey

from core import clock as app_clock
from codes import service
from tests.codes.support import my_code, problem_type, scan
from tests.conftest import START


def _rfc3339(seconds_after_start: int) -> str:
    return app_clock.rfc3339(START + timedelta(seconds=seconds_after_start))


def test_a_code_lives_30_seconds_and_is_refreshed_after_20(client, holder, clock):
    body = my_code(client, holder)
    assert body["code"].startswith("OC1:")
    assert body["expires_at"] == _rfc3339(30)
    assert body["refresh_after"] == _rfc3339(20)


def test_the_same_code_comes_back_until_refresh_after(client, holder, clock):
    first = my_code(client, holder)
    clock.shift(19)
    assert my_code(client, holder) == first
    clock.shift(1)
    second = my_code(client, holder)
    assert second["code"] != first["code"]
    assert second["expires_at"] == _rfc3339(50)


def test_a_refresh_storm_costs_one_signature_and_one_render(client, holder, clock, monkeypatch):
    from codes import render

    signed, rendered = [], []
    real_issue, real_render = service.issue_code, render.render
    monkeypatch.setattr(service, "issue_code", lambda *a: signed.append(1) or real_issue(*a))
    monkeypatch.setattr(render, "render", lambda *a: rendered.append(1) or real_render(*a))
    codes = {my_code(client, holder)["code"] for _ in range(20)}
    images = {client.get("/api/v1/me/code.png", headers=holder["headers"]).data for _ in range(20)}
    assert len(codes) == 1 and len(signed) == 1
    assert len(images) == 1 and len(rendered) == 1


def test_a_successful_scan_gives_a_new_code_at_once(client, holder, scanner, clock):
    first = my_code(client, holder)["code"]
    assert scan(client, scanner, first).status_code == 201
    assert my_code(client, holder)["code"] != first


def test_a_code_verifies_offline_with_an_independent_cose_library(client, holder, clock):
    code = my_code(client, holder)["code"]
    jwks = client.get("/.well-known/jwks.json").json
    keys = [COSEKey.from_jwk(jwk) for jwk in jwks["keys"]]
    claims = cwt.decode(base45.b45decode(code[len("OC1:"):]), keys=keys)
    assert claims[4] == int((START + timedelta(seconds=30)).timestamp())
    assert len(claims[7]) == 8
    assert claims["k"] == 1


def test_the_code_is_bound_to_the_holder_handle(client, holder, clock):
    from identity.service import get_person

    code = my_code(client, holder)["code"]
    claims = cwt.decode(base45.b45decode(code[4:]),
                        keys=[COSEKey.from_jwk(j) for j in client.get("/.well-known/jwks.json").json["keys"]])
    person = get_person(_person_id(holder))
    assert claims[2] == person.handle


def _person_id(holder) -> str:
    from flask_jwt_extended import decode_token

    return decode_token(holder["tokens"]["access_token"])["sub"]


def test_an_expired_code_fails_offline_too(client, holder, clock):
    code = my_code(client, holder)["code"]
    keys = [COSEKey.from_jwk(j) for j in client.get("/.well-known/jwks.json").json["keys"]]
    verifier = cwt.CWT.new(leeway=5)  # our leeway, not the library's default minute
    clock.shift(35)
    assert verifier.decode(base45.b45decode(code[4:]), keys=keys)[4] == int(START.timestamp()) + 30
    clock.shift(1)
    with pytest.raises(cwt.VerifyError):
        verifier.decode(base45.b45decode(code[4:]), keys=keys)


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


def test_the_png_image(client, holder, clock):
    response = client.get("/api/v1/me/code.png", headers=holder["headers"])
    assert response.status_code == 200
    assert response.mimetype == "image/png"
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["X-Code-Expires-At"] == _rfc3339(30)
    width, height = _png_size(response.data)
    # (17 + 4 × version + 2 × 4 quiet modules) × 6 px: version 7 or lower.
    assert width == height <= (17 + 4 * 7 + 8) * 6


def test_the_svg_image_shows_the_same_code_as_the_text(client, holder, clock):
    from codes.render import render

    code = my_code(client, holder)["code"]
    response = client.get("/api/v1/me/code.svg", headers=holder["headers"])
    assert response.status_code == 200
    assert response.mimetype == "image/svg+xml"
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["X-Code-Expires-At"] == _rfc3339(30)
    assert response.data.startswith(b"<svg")
    assert response.data == render(code, "svg")


def test_images_follow_the_current_code(client, holder, clock):
    first = client.get("/api/v1/me/code.png", headers=holder["headers"]).data
    clock.shift(20)
    second = client.get("/api/v1/me/code.png", headers=holder["headers"])
    assert second.data != first
    assert second.headers["X-Code-Expires-At"] == _rfc3339(50)


@pytest.mark.parametrize("path", ["/api/v1/me/code", "/api/v1/me/code.png", "/api/v1/me/code.svg"])
def test_my_code_needs_a_resident_token(client, scanner, path):
    assert problem_type(client.get(path)) == "unauthorized"
    response = client.get(path, headers=scanner["headers"])
    assert response.status_code == 403
    bad = client.get(path, headers={"Authorization": "Bearer not.a.token"})
    assert bad.status_code == 401


def test_the_code_ttl_follows_the_setting(client, holder, clock, app, monkeypatch):
    monkeypatch.setitem(app.config, "CODE_TTL_SECONDS", 60)
    body = my_code(client, holder)
    assert body["expires_at"] == _rfc3339(60)
    assert body["refresh_after"] == _rfc3339(40)
