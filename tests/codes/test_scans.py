"""The scanner's view: POST /scans and every answer it can give, GET /me/scans."""
from __future__ import annotations

import cbor2
import pytest
import redis

from core.extensions import db
from codes import format as fmt
from codes.models import Scan
from tests.codes.support import make_service_point, my_code, problem_type, scan
from tests.conftest import START


def _handle(holder) -> str:
    from flask_jwt_extended import decode_token

    return decode_token(holder["tokens"]["access_token"])["h"]


def _person(holder):
    from flask_jwt_extended import decode_token

    from identity.service import get_person

    return get_person(decode_token(holder["tokens"]["access_token"])["sub"])


def _scans() -> int:
    return db.session.scalar(db.select(db.func.count()).select_from(Scan))


def _parts(code: str):
    return cbor2.loads(fmt.b45decode(code[4:])).value


def _text(parts) -> str:
    import base45

    return "OC1:" + base45.b45encode(cbor2.dumps(cbor2.CBORTag(18, list(parts)))).decode()


def test_a_scan_names_the_holder_masked(client, holder, scanner):
    response = scan(client, scanner, my_code(client, holder)["code"])
    assert response.status_code == 201
    body = response.json
    assert set(body) == {"scan_id", "subject", "expires_at"}
    assert body["subject"] == {"kind": "person", "display_name": "张**", "assurance_level": 1}
    assert body["expires_at"] == "2026-11-25T09:10:00Z"  # SCAN_TTL_SECONDS after the scan
    assert _scans() == 1


def test_a_code_is_accepted_once(client, holder, scanner):
    code = my_code(client, holder)["code"]
    assert scan(client, scanner, code).status_code == 201
    again = scan(client, scanner, code)
    assert again.status_code == 409
    assert problem_type(again) == "code-already-used"
    other = make_service_point(client, name="Library", purposes=["identity-check"])
    assert problem_type(scan(client, other, code)) == "code-already-used"
    assert _scans() == 1


@pytest.mark.parametrize("text", [
    "hello", "OC1:", "OC1:abc", "HC1:NCFOXN%TS3DH", "OC1:" + "A" * 600,
    "OC1:" + "ÄÖÜ", "OC1:6BF", "OCD1:short", "OCD1:dev:1234567", "OCD1:dev:abcdefgh",
    "OC1:" + "00" + "0" * 4,  # base45 of zero bytes: CBOR 0, not a COSE_Sign1
])
def test_text_that_is_not_a_code_is_malformed(client, scanner, text):
    response = scan(client, scanner, text)
    assert response.status_code == 400
    assert problem_type(response) == "malformed-code"


def test_a_code_with_trailing_bytes_is_malformed(client, holder, scanner):
    import base45

    code = my_code(client, holder)["code"]
    raw = fmt.b45decode(code[4:]) + b"\x00"
    assert problem_type(scan(client, scanner, "OC1:" + base45.b45encode(raw).decode())) == "malformed-code"


def test_a_bad_signature_is_invalid(client, holder, scanner):
    parts = _parts(my_code(client, holder)["code"])
    parts[3] = bytes(64)
    response = scan(client, scanner, _text(parts))
    assert response.status_code == 422
    assert problem_type(response) == "invalid-code"


def test_a_tampered_payload_is_invalid(client, holder, scanner):
    someone = my_code(client, holder)["code"]
    parts = _parts(someone)
    claims = cbor2.loads(parts[2])
    claims[4] += 3600  # live longer
    parts[2] = cbor2.dumps(claims)
    assert problem_type(scan(client, scanner, _text(parts))) == "invalid-code"


def test_an_unknown_kid_is_invalid(client, holder, scanner):
    parts = _parts(my_code(client, holder)["code"])
    parts[0] = fmt.protected_header("zzzzzz")
    assert problem_type(scan(client, scanner, _text(parts))) == "invalid-code"


def test_a_wrong_algorithm_is_invalid(client, holder, scanner):
    parts = _parts(my_code(client, holder)["code"])
    header = cbor2.loads(parts[0])
    header[1] = -7
    parts[0] = cbor2.dumps(header)
    assert problem_type(scan(client, scanner, _text(parts))) == "invalid-code"


def test_a_code_signed_by_a_key_of_our_own_making_is_invalid(client, holder, scanner, clock):
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    kid = _kid(my_code(client, holder)["code"])  # the real kid, a forged key
    forged = fmt.CodeSigner(kid, Ed25519PrivateKey.generate()).sign(
        fmt.Claims(_handle(holder), int(START.timestamp()) + 30, fmt.new_cti()))
    assert problem_type(scan(client, scanner, forged)) == "invalid-code"


def _kid(code: str) -> str:
    return cbor2.loads(_parts(code)[0])[4].decode()


def _signed_by_platform(app, claims: fmt.Claims) -> str:
    from codes import keys

    return keys.current_signer().sign(claims)


def test_a_code_made_to_live_longer_than_the_ttl_is_invalid(app, client, holder, scanner):
    my_code(client, holder)
    code = _signed_by_platform(app, fmt.Claims(_handle(holder), int(START.timestamp()) + 3600, fmt.new_cti()))
    assert problem_type(scan(client, scanner, code)) == "invalid-code"


def test_an_unknown_handle_is_invalid(app, client, holder, scanner):
    my_code(client, holder)
    code = _signed_by_platform(app, fmt.Claims("nobody2345", int(START.timestamp()) + 30, fmt.new_cti()))
    assert problem_type(scan(client, scanner, code)) == "invalid-code"


def test_an_enterprise_code_without_an_enterprise_is_invalid(app, client, holder, scanner):
    my_code(client, holder)
    code = _signed_by_platform(app, fmt.Claims(_handle(holder), int(START.timestamp()) + 30,
                                               fmt.new_cti(), fmt.ENTERPRISE))
    assert problem_type(scan(client, scanner, code)) == "invalid-code"


def test_an_expired_code(client, holder, scanner, clock):
    code = my_code(client, holder)["code"]
    clock.shift(35)  # exp + leeway: still accepted
    assert scan(client, scanner, code).status_code == 201
    late = my_code(client, holder)["code"]
    clock.shift(30 + 5 + 1)
    response = scan(client, scanner, late)
    assert response.status_code == 422
    assert problem_type(response) == "code-expired"
    assert _scans() == 1


def test_a_suspended_holder(client, holder, scanner):
    code = my_code(client, holder)["code"]
    person = _person(holder)
    person.status = "suspended"
    db.session.commit()
    response = scan(client, scanner, code)
    assert response.status_code == 403
    assert problem_type(response) == "subject-suspended"
    # The code was not spent: once the suspension ends, the same code works.
    person.status = "active"
    db.session.commit()
    assert scan(client, scanner, code).status_code == 201


def test_a_purpose_the_service_point_may_not_scan_for(client, holder, clock):
    metro = make_service_point(client, name="Metro Line 1 gate", purposes=["transit"])
    code = my_code(client, holder)["code"]
    response = scan(client, metro, code, purpose="identity-check")
    assert response.status_code == 403
    assert problem_type(response) == "purpose-not-allowed"
    # Checked before anything else: a misdirected scan does not burn the code, and even
    # garbage gets this answer rather than a hint about the code.
    assert problem_type(scan(client, metro, "garbage", purpose="library")) == "purpose-not-allowed"
    assert scan(client, metro, code, purpose="transit").status_code == 201


def test_an_inactive_service_point_may_not_scan(client, holder, scanner):
    from codes.models import ServicePoint

    db.session.get(ServicePoint, scanner["id"]).active = False
    db.session.commit()
    refused = scan(client, scanner, my_code(client, holder)["code"])
    assert refused.status_code == 401 and problem_type(refused) == "client-disabled"


def test_scanning_needs_a_service_point_token(client, holder):
    code = my_code(client, holder)["code"]
    assert client.post("/api/v1/scans", json={"code": code, "purpose": "x"}).status_code == 401
    response = client.post("/api/v1/scans", json={"code": code, "purpose": "x"},
                           headers=holder["headers"])
    assert response.status_code == 403
    assert problem_type(response) == "forbidden"


def test_redis_down_fails_closed_and_records_nothing(app, client, holder, scanner, monkeypatch):
    from core.store import redis_client

    code = my_code(client, holder)["code"]

    def unreachable(*args, **kwargs):
        raise redis.exceptions.ConnectionError("connection refused")

    monkeypatch.setattr(redis_client(), "set", unreachable)
    response = scan(client, scanner, code)
    assert response.status_code == 503
    assert problem_type(response) == "service-unavailable"
    assert response.headers["Retry-After"] == "5"
    assert _scans() == 0
    monkeypatch.undo()
    assert scan(client, scanner, code).status_code == 201


def test_the_nonce_lives_until_the_code_can_no_longer_verify(client, holder, scanner):
    from core.store import redis_client

    code = my_code(client, holder)["code"]
    assert scan(client, scanner, code).status_code == 201
    cti = cbor2.loads(_parts(code)[2])[7]
    ttl = redis_client().ttl(f"nonce:{{{cti.hex()}}}")
    assert 35 <= ttl <= 36


BAD_BODIES = [
    None, [], "OC1:x", 42,
    {}, {"code": "OC1:x"}, {"purpose": "identity-check"},
    {"code": "", "purpose": "identity-check"}, {"code": "OC1:x", "purpose": ""},
    {"code": None, "purpose": "identity-check"}, {"code": "OC1:x", "purpose": None},
    {"code": 12345, "purpose": "identity-check"}, {"code": ["OC1:x"], "purpose": "identity-check"},
    {"code": {"a": 1}, "purpose": "identity-check"}, {"code": "OC1:x", "purpose": 7},
    {"code": "OC1:" + "A" * 5000, "purpose": "identity-check"},
    {"code": "OC1:x", "purpose": "p" * 65},
    {"code": "OC1:\x00", "purpose": "identity-check"}, {"code": "OC1:x", "purpose": "identity\x00"},
    # Lone surrogates, which JSON can carry as escapes but no encoder takes.
    '{"code": "OC1:\\ud800", "purpose": "identity-check"}', '{"code": "OC1:x", "purpose": "\\udfff"}',
    {"code": "OC1:x", "purpose": "identity-check", "extra": 1},
]


@pytest.mark.parametrize("body", BAD_BODIES)
def test_bad_input_is_a_4xx_problem(client, scanner, body):
    if isinstance(body, str) and body.startswith("{"):
        response = client.post("/api/v1/scans", data=body, headers={
            **scanner["headers"], "Content-Type": "application/json"})
    else:
        response = client.post("/api/v1/scans", json=body, headers=scanner["headers"])
    assert 400 <= response.status_code < 500, response.json
    assert response.mimetype == "application/problem+json"


@pytest.mark.parametrize("code", ["OC1:😀", "身份证", "OC1:" + "\u202e" * 10, "OCD1:ä:12345678", " OC1:AB"])
def test_unicode_codes_are_malformed(client, scanner, code):
    assert problem_type(scan(client, scanner, code)) == "malformed-code"


@pytest.mark.parametrize("purpose", ["办事", "😀", "identity check", "IDENTITY-CHECK"])
def test_unknown_purposes_are_not_allowed(client, scanner, purpose):
    assert problem_type(scan(client, scanner, "OC1:x", purpose)) == "purpose-not-allowed"


def test_a_body_that_is_not_json(client, scanner):
    response = client.post("/api/v1/scans", data="code=x", headers={
        **scanner["headers"], "Content-Type": "text/plain"})
    assert response.status_code == 415
    broken = client.post("/api/v1/scans", data="{not json", headers={
        **scanner["headers"], "Content-Type": "application/json"})
    assert broken.status_code == 400


# ------------------------------------------------------------------ who scanned my code


def test_my_scans_lists_newest_first_with_the_service_point(client, holder, scanner, clock):
    library = make_service_point(client, name="City Library", purposes=["library"])
    assert scan(client, scanner, my_code(client, holder)["code"]).status_code == 201
    clock.shift(60)
    assert scan(client, library, my_code(client, holder)["code"], "library").status_code == 201
    response = client.get("/api/v1/me/scans", headers=holder["headers"])
    assert response.status_code == 200
    first, second = response.json
    assert first["service_point"] == {"name": "City Library"}
    assert first["purpose"] == "library"
    assert first["scanned_at"] == "2026-11-25T09:01:00Z"
    assert first["code_kind"] == "online"
    assert first["shared"] == []
    assert set(first) == {"scan_id", "scanned_at", "service_point", "purpose", "code_kind", "shared"}
    assert second["service_point"] == {"name": "Citizen Service Hall"}


def test_my_scans_shows_only_mine_and_honours_the_limit(client, holder, scanner, clock):
    from tests.helpers import resident

    other = resident(client)
    for _ in range(3):
        assert scan(client, scanner, my_code(client, holder)["code"]).status_code == 201
    assert client.get("/api/v1/me/scans", headers=other["headers"]).json == []
    assert len(client.get("/api/v1/me/scans?limit=2", headers=holder["headers"]).json) == 2
    for bad in ("0", "201", "-1", "x", "1.5", "99999999999999999999"):
        response = client.get(f"/api/v1/me/scans?limit={bad}", headers=holder["headers"])
        assert response.status_code == 422, bad
        assert problem_type(response) == "validation-error"
    assert client.get("/api/v1/me/scans", headers=scanner["headers"]).status_code == 403


def test_get_scan_for_follow_up_requests(client, holder, scanner, clock):
    from codes.scans import get_scan

    scan_id = scan(client, scanner, my_code(client, holder)["code"]).json["scan_id"]
    assert get_scan(scan_id).id == scan_id
    assert get_scan(scan_id, scanner["id"]).id == scan_id
    assert get_scan(scan_id, "another-service-point") is None
    for odd in ("", "x\x00", "设备", "x" * 100):
        assert get_scan(odd) is None
    clock.shift(600)
    assert get_scan(scan_id, scanner["id"]) is None  # the scan no longer lives
