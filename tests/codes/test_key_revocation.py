"""A leaked signing key is withdrawn with `keys revoke KID`, and a new deployment publishes a
key before any code exists."""
from __future__ import annotations

import json

from core.extensions import db
from codes.keys import forget_cached_keys
from codes.models import SigningKey
from tests.codes.support import my_code, problem_type, scan


def _kids(client) -> list[str]:
    response = client.get("/.well-known/jwks.json")
    assert response.status_code == 200
    return [key["kid"] for key in response.json["keys"]]


def _kid_of(code: str) -> str:
    import cbor2

    from codes.format import b45decode

    protected = cbor2.loads(cbor2.loads(b45decode(code[4:])).value[0])
    return protected[4].decode()


def _revoke(runner, kid: str) -> dict:
    result = runner.invoke(args=["keys", "revoke", kid])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_the_jwks_publishes_a_key_before_any_code_exists(app, client):
    assert db.session.scalar(db.select(db.func.count()).select_from(SigningKey)) == 0
    kids = _kids(client)
    assert len(kids) == 1
    assert db.session.get(SigningKey, kids[0]) is not None


def test_start_up_makes_the_first_key(app):
    from app import publish_signing_key

    publish_signing_key(app)
    assert db.session.scalar(db.select(db.func.count()).select_from(SigningKey)) == 1
    publish_signing_key(app)  # idempotent
    assert db.session.scalar(db.select(db.func.count()).select_from(SigningKey)) == 1


def test_the_first_code_is_signed_by_the_key_published_before_it(client, holder):
    kids = _kids(client)
    assert _kid_of(my_code(client, holder)["code"]) == kids[0]


def test_revoking_the_signing_key(client, runner, holder, scanner):
    code = my_code(client, holder)["code"]
    old = _kid_of(code)
    out = _revoke(runner, old)
    assert out["revoked"] == old and out["signing"] not in ("", old)
    # Out of the JWKS at once, and the code it signed is refused.
    assert _kids(client) == [out["signing"]]
    refused = scan(client, scanner, code)
    assert refused.status_code == 422 and problem_type(refused) == "invalid-code"
    # The cached code is dropped: the phone gets one signed by the new key, which works.
    fresh = my_code(client, holder)["code"]
    assert fresh != code and _kid_of(fresh) == out["signing"]
    assert scan(client, scanner, fresh).status_code == 201


def test_other_workers_refuse_the_key_once_their_snapshot_reloads(client, holder, scanner):
    code = my_code(client, holder)["code"]
    kid = _kid_of(code)
    # Another worker revokes: this one learns it when its one-second snapshot expires.
    key = db.session.get(SigningKey, kid)
    from core import clock as app_clock

    key.revoked_at = key.retired_at = app_clock.now()
    db.session.flush()
    forget_cached_keys()
    assert problem_type(scan(client, scanner, code)) == "invalid-code"


def test_revoking_a_retired_key_keeps_the_current_one_signing(client, runner, holder):
    first = _kid_of(my_code(client, holder)["code"])
    rotated = runner.invoke(args=["keys", "rotate"])
    assert rotated.exit_code == 0, rotated.output
    current = json.loads(rotated.output)["kid"]
    out = _revoke(runner, first)
    assert out == {"revoked": first, "signing": current}
    assert first not in _kids(client)
    assert _revoke(runner, first) == {"revoked": first, "signing": current}  # twice is once


def test_revoking_an_unknown_kid_fails(runner):
    result = runner.invoke(args=["keys", "revoke", "nosuch"])
    assert result.exit_code == 2
    assert "no signing key has this kid" in result.output


def test_a_proxys_cached_code_of_a_revoked_key_is_dropped_too(client, runner, scanner):
    from tests.codes.test_single_use import _proxy_and_code

    code, _, show_again = _proxy_and_code(client)
    assert show_again() == code  # cached until its refresh_after
    out = _revoke(runner, _kid_of(code))
    assert problem_type(scan(client, scanner, code)) == "invalid-code"
    fresh = show_again()
    assert fresh != code and _kid_of(fresh) == out["signing"]
    assert scan(client, scanner, fresh).status_code == 201
