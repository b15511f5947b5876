"""Registering as a resident, as the phone app does it."""
import json

import pytest

from core.extensions import db
from identity import service
from identity.models import Person
from tests.helpers import register, registration_data

PROBLEM = "application/problem+json"
FULL_WIDTH = str.maketrans("0123456789X", "０１２３４５６７８９ｘ")


def assert_problem(data, status, short_type):
    """``data`` as ``register`` returns it."""
    assert data["status"] == status, data["profile"]
    assert data["profile"]["type"].endswith("/" + short_type)
    assert data["profile"]["status"] == status


def test_registration_answers_a_masked_profile(client):
    data = register(client, name="  李四  ")
    assert data["status"] == 201
    profile = data["profile"]
    id_number, phone = data["id_number"], data["phone"]
    assert profile["name"] == "李四"
    assert profile["id_number"] == id_number[:3] + "*" * 12 + id_number[-3:]
    assert profile["phone"] == phone[:3] + "****" + phone[-4:]
    born = id_number[6:14]
    assert profile["birthdate"] == f"{born[:4]}-{born[4:6]}-{born[6:]}"
    assert profile["assurance_level"] == 1
    assert profile["totp_enabled"] is False
    assert profile["created_at"].endswith("Z")
    assert set(profile) == {"id", "name", "id_number", "phone", "birthdate",
                            "assurance_level", "totp_enabled", "created_at"}
    body = json.dumps(profile)
    assert id_number not in body and phone not in body and data["password"] not in body


def test_numbers_are_stored_encrypted_and_found_by_their_digest(client):
    data = register(client)
    id_number, phone = data["id_number"], data["phone"]
    person = db.session.get(Person, data["profile"]["id"])
    assert id_number.encode() not in person.id_number_enc
    assert phone.encode() not in person.phone_enc
    assert id_number not in person.id_number_index and phone not in person.phone_index
    assert person.password_hash.startswith("$argon2id$")
    assert service.id_number_of(person) == id_number
    assert service.phone_of(person) == phone
    assert service.get_person_by_id_number(id_number.lower()) is person
    assert service.get_person_by_handle(person.handle) is person
    assert service.get_person(person.id) is person
    assert 1 <= len(person.handle) <= 12 and person.handle not in id_number


def test_display_name_is_masked_after_the_first_character(client):
    person = db.session.get(Person, register(client, name="张三丰")["profile"]["id"])
    assert service.display_name(person) == "张**"


def test_what_a_phone_keyboard_types_is_normalised(client):
    fresh = registration_data()
    id_number, phone = fresh["id_number"], fresh["phone"]
    typed_phone = f"+86 {phone[:3]}-{phone[3:7]}-{phone[7:]}"
    data = register(client, id_number=id_number.translate(FULL_WIDTH), phone=typed_phone)
    assert data["status"] == 201, data["profile"]
    assert data["profile"]["phone"] == phone[:3] + "****" + phone[-4:]
    assert data["profile"]["id_number"].endswith(id_number[-3:])
    # The ASCII spellings are the same numbers.
    assert_problem(register(client, id_number=id_number), 409, "already-registered")
    assert_problem(register(client, phone=phone), 409, "already-registered")


def test_a_lower_case_x_is_the_same_number_as_an_upper_case_one(client):
    id_number = next(d["id_number"] for d in iter(registration_data, None)
                     if d["id_number"].endswith("X"))
    assert register(client, id_number=id_number.lower())["status"] == 201
    assert_problem(register(client, id_number=id_number), 409, "already-registered")


def test_an_id_number_or_a_phone_registers_once(client):
    first = register(client)
    same_id = register(client, id_number=first["id_number"])
    same_phone = register(client, phone=first["phone"])
    assert_problem(same_id, 409, "already-registered")
    assert_problem(same_phone, 409, "already-registered")
    # The answer does not say which of the two is taken, nor repeat either.
    assert same_id["profile"] == same_phone["profile"]
    body = json.dumps(same_id["profile"], ensure_ascii=False)
    assert first["id_number"] not in body and first["phone"] not in body


@pytest.mark.parametrize("field, value", [
    ("id_number", "110101199003070012"),   # checksum off by one
    ("id_number", "110101199013070011"),   # no 13th month
    ("id_number", "000101199003070011"),   # no such region
    ("id_number", "110101202712010011"),   # born in the future
    ("id_number", "1101011990030700"),     # too short
    ("phone", "12345678901"),
    ("phone", "+85291234567"),
    ("name", "\u200b"),                    # nothing visible
    ("name", "张\x00三"),
    ("name", "张\u202e三"),                 # right-to-left override
    ("name", "张三😀"),
    ("name", "张三3"),
    ("name", "   "),
    ("name", "名" * 65),
    ("password", "short"),
    ("password", "password1"),
    ("password", "p" * 257),
])
def test_content_rules_answer_validation_errors_by_field(client, field, value):
    data = register(client, **{field: value})
    assert_problem(data, 422, "validation-error")
    assert list(data["profile"]["errors"]) == [field]
    assert isinstance(data["profile"]["errors"][field], list)


@pytest.mark.parametrize("name", ["阿依古丽·买买提", "Jean-Luc O'Brien", "Zoë", "王 小明"])
def test_names_as_they_are_written(client, name):
    assert register(client, name=name)["status"] == 201


def test_every_broken_field_is_reported_at_once(client):
    data = register(client, id_number="1", phone="2", name="\x00", password="3")
    assert_problem(data, 422, "validation-error")
    assert set(data["profile"]["errors"]) == {"id_number", "phone", "name", "password"}


def test_the_password_must_not_contain_the_holders_own_data(client):
    fresh = registration_data(name="王小明")
    for password in (f"mine{fresh['id_number']}", f"tel{fresh['phone']}!", "i-am-王小明-ok"):
        data = register(client, **{**fresh, "password": password})
        assert_problem(data, 422, "validation-error")
        assert list(data["profile"]["errors"]) == ["password"]


def test_a_64_character_name_and_a_256_character_password_are_fine(client):
    data = register(client, name="名" * 64, password="q" * 256)
    assert data["status"] == 201
    assert data["profile"]["name"] == "名" * 64


def test_a_handle_collision_is_retried(client, monkeypatch):
    first = register(client)
    taken = db.session.get(Person, first["profile"]["id"]).handle
    handles = iter([taken, "fresh2handle"])
    monkeypatch.setattr(service, "new_handle", lambda n: next(handles))
    second = register(client)
    assert second["status"] == 201
    assert db.session.get(Person, second["profile"]["id"]).handle == "fresh2handle"


HUGE = "9" * 1_000_000
BAD_VALUES = [None, 12345, 1.5, True, [], ["x"], {}, {"a": 1}, "", HUGE, "\x00\x01",
              "😀" * 20, "１２３", "\u202e"]


def _value_id(value):
    return f"{type(value).__name__}{len(value) if hasattr(value, '__len__') else value}"


@pytest.mark.parametrize("field", ["name", "id_number", "phone", "password"])
@pytest.mark.parametrize("value", BAD_VALUES, ids=_value_id)
def test_bad_input_in_any_field_is_a_4xx_problem(client, field, value):
    if field == "password" and value == "😀" * 20:
        value = "😀" * 7  # twenty emoji would make a fine password
    body = registration_data(**{field: value})
    response = client.post("/api/v1/residents", json=body)
    assert 400 <= response.status_code < 500
    assert response.mimetype == PROBLEM
    assert response.json["type"].endswith("/validation-error")
    assert list(response.json["errors"]) == [field]


@pytest.mark.parametrize("missing", ["name", "id_number", "phone", "password"])
def test_each_field_is_required(client, missing):
    body = registration_data()
    del body[missing]
    response = client.post("/api/v1/residents", json=body)
    assert response.status_code == 422 and response.mimetype == PROBLEM
    assert list(response.json["errors"]) == [missing]


@pytest.mark.parametrize("body, content_type", [
    ("[]", "application/json"),
    ('"text"', "application/json"),
    ("42", "application/json"),
    ("null", "application/json"),
    ("{", "application/json"),
    (b"\xff\xfe{}", "application/json"),
    ("", "application/json"),
    ("name=x", "application/x-www-form-urlencoded"),
    ("<xml/>", "application/xml"),
])
def test_bodies_that_are_not_a_json_object_are_4xx_problems(client, body, content_type):
    response = client.post("/api/v1/residents", data=body, content_type=content_type)
    assert 400 <= response.status_code < 500
    assert response.mimetype == PROBLEM


def test_unknown_fields_are_refused(client):
    data = register(client, nickname="Sanfeng")
    assert_problem(data, 422, "validation-error")
    assert "nickname" in data["profile"]["errors"]


def test_a_problem_never_echoes_what_was_submitted(client):
    id_number = "110101199003070012"  # bad checksum
    data = register(client, id_number=id_number, phone="12345678901", password="short")
    body = json.dumps(data["profile"], ensure_ascii=False)
    assert id_number not in body and "12345678901" not in body and "short" not in body


def test_one_address_may_try_only_so_many_registrations_per_window(client, clock, app, monkeypatch):
    monkeypatch.setitem(app.config, "REGISTRATIONS_PER_ADDRESS", 3)
    window = app.config["REGISTRATION_WINDOW_SECONDS"]  # the test clock stands at a window's start
    taken = register(client)
    for _ in range(2):  # a refused registration counts too: its answer tells something
        again = client.post("/api/v1/residents", json=registration_data(id_number=taken["id_number"]))
        assert again.status_code == 409
    limited = client.post("/api/v1/residents", json=registration_data())
    assert limited.status_code == 429 and limited.json["type"].endswith("/too-many-attempts")
    assert int(limited.headers["Retry-After"]) == window
    elsewhere = client.post("/api/v1/residents", json=registration_data(),
                            environ_base={"REMOTE_ADDR": "203.0.113.9"})
    assert elsewhere.status_code == 201
    clock.shift(window)
    assert client.post("/api/v1/residents", json=registration_data()).status_code == 201
