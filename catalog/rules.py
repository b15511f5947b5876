"""Policy rules over credential claims: checking them when a policy is posted, and deciding
whether a holder's claims satisfy them.

A rule is ``{credential, claim, op, value}``; a policy holds when every rule holds. A rule
over a claim the holder's credential does not carry fails (``exists`` with ``value: false``
is the one way to ask for absence), and so does a rule over a type the holder has no valid
credential of.

Ages are whole years (周岁) on the date in China (UTC+8), from a date claim written
``YYYY-MM-DD`` (or ``YYYYMMDD``). Someone born on 29 February turns a year older on 1 March
in a year without one.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

OPS = ("eq", "ne", "in", "contains", "gte", "lte", "exists", "age_gte", "age_lte")
MAX_RULES = 20
CHINA = timezone(timedelta(hours=8))


def local_today(moment: datetime) -> date:
    """The calendar date in China at ``moment`` (an aware datetime)."""
    return moment.astimezone(CHINA).date()


def parse_date(value) -> date | None:
    if not isinstance(value, str):
        return None
    text = value.strip()
    try:
        if len(text) == 8 and text.isdigit():
            return date(int(text[:4]), int(text[4:6]), int(text[6:]))
        return date.fromisoformat(text[:10])
    except ValueError:
        return None


def age_on(birthdate: date, today: date) -> int:
    """Whole years from ``birthdate`` to ``today``."""
    return today.year - birthdate.year - ((today.month, today.day) < (birthdate.month, birthdate.day))


def _scalar(value) -> bool:
    return isinstance(value, (str, int, float)) and not isinstance(value, bool)


def _number(value) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            return None
    return None


def _compare(left, right) -> int | None:
    """-1, 0 or 1; numbers (or numeric strings) as numbers, other strings (ISO dates among
    them) as text; None when they cannot be compared."""
    a, b = _number(left), _number(right)
    if a is not None and b is not None:
        return (a > b) - (a < b)
    if isinstance(left, str) and isinstance(right, str):
        return (left > right) - (left < right)
    return None


def check_rule(rule, known_claims: dict[str, list[str]]) -> list[str]:
    """What is wrong with one rule (empty when nothing); ``known_claims`` maps each known
    credential type to its claims."""
    if not isinstance(rule, dict):
        return ["must be an object {credential, claim, op, value}"]
    errors = []
    extra = set(rule) - {"credential", "claim", "op", "value"}
    if extra:
        errors.append(f"unknown fields: {', '.join(sorted(map(str, extra)))}")
    vct, claim, op = rule.get("credential"), rule.get("claim"), rule.get("op")
    if not isinstance(vct, str) or vct not in known_claims:
        errors.append(f"credential: unknown credential type {vct!r}")
    elif not isinstance(claim, str) or claim not in known_claims[vct]:
        errors.append(f"claim: {vct} has no claim {claim!r}")
    if op not in OPS:
        errors.append(f"op: must be one of {', '.join(OPS)}")
        return errors
    value = rule.get("value")
    if op == "exists":
        if "value" in rule and not isinstance(value, bool):
            errors.append("value: must be true or false for exists")
    elif "value" not in rule:
        errors.append("value: required")
    elif op == "in":
        if not isinstance(value, list) or not value or not all(_scalar(v) for v in value):
            errors.append("value: must be a non-empty list of strings or numbers for in")
    elif op in ("age_gte", "age_lte"):
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 150:
            errors.append(f"value: must be a whole number of years (0 to 150) for {op}")
    elif not _scalar(value) or (isinstance(value, str) and len(value) > 200):
        errors.append(f"value: must be a string (at most 200 characters) or a number for {op}")
    return errors


def check_rules(rules, known_claims: dict[str, list[str]]) -> dict[str, list[str]]:
    """Errors by position (``rules[2]``); empty when all are good."""
    if not isinstance(rules, list) or not 1 <= len(rules) <= MAX_RULES:
        return {"rules": [f"must be a list of 1 to {MAX_RULES} rules"]}
    errors = {}
    for n, rule in enumerate(rules):
        problems = check_rule(rule, known_claims)
        if problems:
            errors[f"rules[{n}]"] = problems
    return errors


def types_of(rules: list[dict]) -> list[str]:
    """The credential types the rules name, in order, once each."""
    return list(dict.fromkeys(rule["credential"] for rule in rules))


def rule_holds(rule: dict, claims: dict | None, today: date) -> bool:
    """Whether one rule holds for the claims of the holder's credential of its type (None:
    the holder has no valid credential of that type)."""
    op = rule["op"]
    if claims is None:
        return False
    present = rule["claim"] in claims and claims[rule["claim"]] not in (None, "")
    if op == "exists":
        return present == rule.get("value", True)
    if not present:
        return False
    actual, value = claims[rule["claim"]], rule.get("value")
    if op == "eq":
        return actual == value or _compare(actual, value) == 0
    if op == "ne":
        return not (actual == value or _compare(actual, value) == 0)
    if op == "in":
        return any(actual == v or _compare(actual, v) == 0 for v in value)
    if op == "contains":
        if isinstance(actual, list):
            return value in actual
        return isinstance(actual, str) and str(value) in actual
    if op in ("gte", "lte"):
        order = _compare(actual, value)
        if order is None:
            return False
        return order >= 0 if op == "gte" else order <= 0
    birthdate = parse_date(actual)
    if birthdate is None or birthdate > today:
        return False
    age = age_on(birthdate, today)
    return age >= value if op == "age_gte" else age <= value


def policy_holds(rules: list[dict], claims_by_type: dict[str, dict], today: date) -> bool:
    """Whether every rule holds for a holder whose valid credentials' claims, by type, are
    ``claims_by_type``."""
    return all(rule_holds(rule, claims_by_type.get(rule["credential"]), today) for rule in rules)
