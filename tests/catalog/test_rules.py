"""Policy rules decided on claims: ages across birthdays and leap days, missing claims, ops."""
from __future__ import annotations

from datetime import date, datetime, timezone

import pytest
from hypothesis import given, strategies as st

from catalog import rules

KNOWN = {"resident-id": ["name", "id_number", "birthdate", "sex", "address", "valid_until"],
         "social-security-card": ["name", "id_number", "card_number", "city"]}


def rule(op, value=None, claim="birthdate", credential="resident-id", **kw):
    r = {"credential": credential, "claim": claim, "op": op, **kw}
    if value is not None:
        r["value"] = value
    return r


def holds(r, claims, today):
    return rules.policy_holds([r], {"resident-id": claims}, today)


@pytest.mark.parametrize("today, expected", [
    (date(2026, 3, 11), 59),  # the day before the 60th birthday
    (date(2026, 3, 12), 60),  # the birthday itself
    (date(2026, 3, 13), 60),
    (date(2027, 3, 11), 60),
])
def test_age_in_whole_years_across_a_birthday(today, expected):
    assert rules.age_on(date(1966, 3, 12), today) == expected
    claims = {"birthdate": "1966-03-12"}
    assert holds(rule("age_gte", 60), claims, today) is (expected >= 60)
    assert holds(rule("age_lte", 59), claims, today) is (expected <= 59)


@pytest.mark.parametrize("today, expected", [
    (date(2027, 2, 28), 2),   # no 29 February in 2027: not a year older yet
    (date(2027, 3, 1), 3),    # a year older on 1 March
    (date(2028, 2, 28), 3),
    (date(2028, 2, 29), 4),   # a leap year: on the day itself
])
def test_a_leap_day_birthday(today, expected):
    assert rules.age_on(date(2024, 2, 29), today) == expected
    assert holds(rule("age_gte", expected), {"birthdate": "2024-02-29"}, today)
    assert not holds(rule("age_gte", expected + 1), {"birthdate": "2024-02-29"}, today)


def test_the_date_is_the_date_in_china():
    # 16:30 UTC on 11 March is already 12 March in Beijing: the 60th birthday.
    moment = datetime(2026, 3, 11, 16, 30, tzinfo=timezone.utc)
    assert rules.local_today(moment) == date(2026, 3, 12)
    assert holds(rule("age_gte", 60), {"birthdate": "19660312"}, rules.local_today(moment))


@given(st.dates(min_value=date(1900, 1, 1), max_value=date(2100, 12, 31)),
       st.dates(min_value=date(1900, 1, 1), max_value=date(2100, 12, 31)))
def test_age_grows_by_one_exactly_on_each_birthday(birth, today):
    if today < birth:
        return
    age = rules.age_on(birth, today)
    assert age >= 0
    try:
        anniversary = birth.replace(year=birth.year + age)
    except ValueError:  # 29 February in a year without one
        anniversary = date(birth.year + age, 3, 1)
    assert anniversary <= today


@pytest.mark.parametrize("r", [
    rule("eq", "张三", claim="name"), rule("ne", "张三", claim="name"), rule("in", ["北京"], claim="address"),
    rule("contains", "北京", claim="address"), rule("gte", "1960-01-01"), rule("lte", "1960-01-01"),
    rule("exists"), rule("age_gte", 60), rule("age_lte", 18),
])
def test_a_missing_claim_fails_every_op_but_exists_false(r):
    today = date(2026, 11, 25)
    assert not holds(r, {"name": "李四"} if r["claim"] != "name" else {}, today)
    assert not rules.policy_holds([r], {}, today)  # no credential of the type at all


def test_exists_false_asks_for_absence_but_still_needs_the_credential():
    today = date(2026, 11, 25)
    absent = rule("exists", False, claim="address")
    assert holds(absent, {"name": "李四"}, today)
    assert not holds(absent, {"address": "北京"}, today)
    assert not rules.policy_holds([absent], {}, today)


def test_each_op():
    today = date(2026, 11, 25)
    claims = {"name": "张三", "address": "北京市西城区", "birthdate": "1960-05-01", "valid_until": "2036-01-01"}
    assert holds(rule("eq", "张三", claim="name"), claims, today)
    assert not holds(rule("ne", "张三", claim="name"), claims, today)
    assert holds(rule("in", ["上海", "北京市西城区"], claim="address"), claims, today)
    assert holds(rule("contains", "西城", claim="address"), claims, today)
    assert not holds(rule("contains", "海淀", claim="address"), claims, today)
    assert holds(rule("lte", "1960-12-31"), claims, today)
    assert not holds(rule("gte", "1960-12-31"), claims, today)
    assert holds(rule("gte", 5, claim="n"), {"n": "10"}, today)  # numbers compare as numbers
    assert not holds(rule("lte", 5, claim="n"), {"n": "10"}, today)
    assert not holds(rule("age_gte", 0), {"birthdate": "not a date"}, today)
    assert not holds(rule("age_lte", 200), {"birthdate": "2030-01-01"}, today)  # not born yet
    two = [rule("age_gte", 60), rule("contains", "北京", claim="address")]
    assert rules.policy_holds(two, {"resident-id": claims}, today)
    assert not rules.policy_holds(two + [rule("eq", "x", claim="card_number", credential="social-security-card")],
                                  {"resident-id": claims}, today)


@pytest.mark.parametrize("r, fragment", [
    (rule("eq", 1, credential="passport"), "unknown credential type"),
    (rule("eq", 1, claim="shoe_size"), "has no claim"),
    (rule("like", 1), "op: must be one of"),
    (rule("in", "北京"), "non-empty list"),
    (rule("age_gte", "sixty"), "whole number of years"),
    (rule("age_gte", True), "whole number of years"),
    (rule("eq"), "value: required"),
    (rule("exists", "yes"), "true or false"),
    ({**rule("eq", 1), "extra": 1}, "unknown fields"),
    ("not a rule", "must be an object"),
])
def test_bad_rules_are_named(r, fragment):
    errors = rules.check_rules([rule("exists"), r], KNOWN)
    assert list(errors) == ["rules[1]"]
    assert any(fragment in message for message in errors["rules[1]"]), errors


def test_rules_must_be_a_short_non_empty_list():
    assert rules.check_rules([], KNOWN) == {"rules": ["must be a list of 1 to 20 rules"]}
    assert "rules" in rules.check_rules({"op": "eq"}, KNOWN)
    assert "rules" in rules.check_rules([rule("exists")] * 21, KNOWN)
    assert rules.check_rules([rule("exists"), rule("age_gte", 60)], KNOWN) == {}


def test_reading_only_the_claims_the_rules_need_agrees_with_the_wallet():
    from jwcrypto.jwk import JWK

    from catalog.policies import read_claims
    from wallet import sdjwt

    claims = {"name": "张三", "id_number": "110101199003070011", "birthdate": "1990-03-07",
              "address": '地址里写着"birthdate"', "sex": "male", "valid_until": "2036-01-01"}
    issuer_key = JWK.generate(kty="OKP", crv="Ed25519")
    holder = JWK.generate(kty="EC", crv="P-256")
    text = sdjwt.issue(claims, registered={"iss": "x", "iat": 1, "vct": "resident-id"}, issuer_key=issuer_key,
                       kid="k", holder_jwk=holder.export_public(as_dict=True))
    assert sdjwt.claims_of(text) == claims
    assert read_claims(text, {"birthdate", "sex"}) == {"birthdate": "1990-03-07", "sex": "male"}
    assert read_claims(text, {"portrait"}) == {}
    assert read_claims("a.b.c~not base64!~~", {"name"}) == {}
