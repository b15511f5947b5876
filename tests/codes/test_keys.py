"""Signing keys: the JWKS, rotation with and without --activate-in, the first key on demand."""
from __future__ import annotations

import json

import base45
import cwt
from cwt import COSEKey

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from core.extensions import db
from codes import keys
from codes.format import Claims, CodeSigner, new_cti
from codes.models import SigningKey
from tests.conftest import START
from tests.codes.support import my_code, problem_type, scan, scanner_token_again, signed_in_again


def _kid_of(code: str) -> str:
    import cbor2

    protected = cbor2.loads(base45.b45decode(code[4:])).value[0]
    return cbor2.loads(protected)[4].decode()


def _jwks(client) -> dict:
    response = client.get("/.well-known/jwks.json")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "public, max-age=60"
    return response.json


def _rotate(runner, *args) -> dict:
    result = runner.invoke(args=["keys", "rotate", *args])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_the_first_key_is_published_before_the_first_code(client, holder):
    [jwk] = _jwks(client)["keys"]
    code = my_code(client, holder)["code"]
    assert _jwks(client)["keys"] == [jwk]
    assert set(jwk) == {"kty", "crv", "x", "kid", "alg", "use"}
    assert (jwk["kty"], jwk["crv"], jwk["alg"], jwk["use"]) == ("OKP", "Ed25519", "EdDSA", "sig")
    assert len(jwk["kid"]) == 6
    assert _kid_of(code) == jwk["kid"]


def test_the_private_key_is_stored_encrypted(app, client, holder):
    my_code(client, holder)
    key = db.session.scalars(db.select(SigningKey)).one()
    assert len(key.public_key) == 32
    assert key.private_key_enc[:4] != b"" and len(key.private_key_enc) > 32 + 12
    raw = app.extensions["vault"].decrypt(key.private_key_enc, f"signing-key:{key.kid}".encode())
    assert len(raw) == 32 and raw not in key.private_key_enc


def test_rotate_signs_with_the_new_key_at_once_and_old_codes_still_verify(client, runner, holder, scanner, clock):
    old_code = my_code(client, holder)["code"]
    old_kid = _kid_of(old_code)
    rotated = _rotate(runner)
    assert rotated["kid"] != old_kid
    assert rotated["activates_at"] == "2026-11-25T09:00:00Z"
    clock.shift(20)  # the phone asks for its next code
    assert _kid_of(my_code(client, holder)["code"]) == rotated["kid"]
    assert {k["kid"] for k in _jwks(client)["keys"]} == {old_kid, rotated["kid"]}
    assert scan(client, scanner, old_code).status_code == 201


def test_a_retired_key_leaves_the_jwks_after_ttl_plus_leeway(client, runner, holder, clock):
    old_kid = _kid_of(my_code(client, holder)["code"])
    new_kid = _rotate(runner)["kid"]
    # Retired one second (the workers' key cache) after the rotation; published until
    # retired_at + 30 s + 5 s, when the last code it signed can no longer be accepted.
    clock.shift(36)
    assert {k["kid"] for k in _jwks(client)["keys"]} == {old_kid, new_kid}
    clock.shift(0.5)
    assert {k["kid"] for k in _jwks(client)["keys"]} == {new_kid}


def test_an_old_code_is_refused_once_its_key_is_gone(client, runner, holder, scanner, clock):
    old_code = my_code(client, holder)["code"]
    _rotate(runner)
    clock.shift(35.5)
    assert problem_type(scan(client, scanner, old_code)) == "code-expired"
    clock.shift(1)
    # Its key is no longer published, so nothing about it can be trusted, its exp included.
    assert problem_type(scan(client, scanner, old_code)) == "invalid-code"


def test_activate_in_publishes_first_and_signs_later(client, runner, holder, scanner, clock):
    old_kid = _kid_of(my_code(client, holder)["code"])
    rotated = _rotate(runner, "--activate-in", "1h")
    assert rotated["activates_at"] == "2026-11-25T10:00:00Z"
    assert {k["kid"] for k in _jwks(client)["keys"]} == {old_kid, rotated["kid"]}
    clock.shift(30)
    assert _kid_of(my_code(client, holder)["code"]) == old_kid
    clock.shift(3600 - 30 - 1)
    holder = signed_in_again(client, holder)
    scanner = scanner_token_again(client, scanner)
    last_old = my_code(client, holder)["code"]
    assert _kid_of(last_old) == old_kid
    clock.shift(21)
    assert _kid_of(my_code(client, holder)["code"]) == rotated["kid"]
    # The old key's last code still verifies online and offline until it expires.
    assert scan(client, scanner, last_old).status_code == 201
    jwks = [COSEKey.from_jwk(j) for j in _jwks(client)["keys"]]
    assert cwt.CWT.new(leeway=5).decode(base45.b45decode(last_old[4:]), keys=jwks)


def test_rotate_prints_json_and_rejects_a_bad_duration(runner):
    rotated = _rotate(runner, "--activate-in", "90s")
    assert set(rotated) == {"kid", "activates_at"}
    result = runner.invoke(args=["keys", "rotate", "--activate-in", "soon"])
    assert result.exit_code != 0
    assert "duration" in result.output


def test_keys_list_shows_retirement(runner, clock):
    first = _rotate(runner)["kid"]
    second = _rotate(runner)["kid"]
    listed = json.loads(runner.invoke(args=["keys", "list"]).output)
    by_kid = {k["kid"]: k for k in listed}
    assert by_kid[second]["retired_at"] is None
    assert by_kid[first]["retired_at"] == "2026-11-25T09:00:01Z"


def test_a_key_made_by_another_worker_is_found_on_an_unknown_kid(app, client, holder, scanner, clock):
    my_code(client, holder)  # this worker now has a snapshot of the keys
    # Another worker creates a key and signs with it; this one's snapshot lacks the kid.
    other = keys.create_key()
    db.session.commit()
    raw = app.extensions["vault"].decrypt(other.private_key_enc, f"signing-key:{other.kid}".encode())
    signer = CodeSigner(other.kid, Ed25519PrivateKey.from_private_bytes(raw))
    code = signer.sign(Claims(_handle(holder), int(START.timestamp()) + 30, new_cti()))
    assert scan(client, scanner, code).status_code == 201


def _handle(holder) -> str:
    from flask_jwt_extended import decode_token

    return decode_token(holder["tokens"]["access_token"])["h"]
