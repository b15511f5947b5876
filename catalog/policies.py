"""Policies (免申即享): publishing them, finding the people they hold for, and taking them up.

Evaluation is set-based: holders are read in batches (one query for a page of holders, one
for their valid credentials of the types the rules name, one for their existing matches),
the rules are decided in memory, and matches and notices are written with one statement per
batch. Every step is idempotent: a holder found twice is one match and one notice.
"""
from __future__ import annotations

import binascii
import json
from datetime import datetime

from sqlalchemy import and_, func, or_, select, update

from core import audit, changes, clock
from core.errors import Forbidden, NotFound, ValidationProblem
from core.extensions import db
from core.ids import new_id
from core.models import insert_for
from catalog import notices, rules
from catalog.items import is_id
from catalog.models import FOUND, LAPSED, TAKEN_UP, Policy, PolicyMatch
from identity.models import Person
from wallet import service as wallet
from wallet.models import Credential, CredentialType, Issuer

BATCH = 2000


class NotAPublisher(Forbidden):
    type = "not-a-policy-publisher"
    title = "This issuer may not publish policies"


# Publishing ---------------------------------------------------------------------------


def create_policy(issuer_id: str, name: str, benefit: str, rule_list, *,
                  valid_from: datetime | None = None, valid_until: datetime | None = None) -> Policy:
    """Publish a policy for an issuer with the policy-publisher flag.

    Raises ``NotAPublisher`` (403), ``ValidationProblem`` naming each rule with an unknown
    type, claim or op (or a bad value), or a bad period.
    """
    issuer = db.session.get(Issuer, issuer_id)
    if issuer is None or not issuer.active or not issuer.policy_publisher:
        raise NotAPublisher()
    names = set()
    for rule in rule_list if isinstance(rule_list, list) else []:
        if isinstance(rule, dict) and isinstance(rule.get("credential"), str):
            names.add(rule["credential"])
    known = {vct: claims for vct, claims in db.session.execute(
        select(CredentialType.vct, CredentialType.claims).where(CredentialType.vct.in_(names)))}
    errors = rules.check_rules(rule_list, known)
    if valid_from and valid_until and valid_until <= valid_from:
        errors["valid_until"] = ["must be after valid_from"]
    if errors:
        raise ValidationProblem(errors, "Some rules are not valid.")
    policy = Policy(id=new_id(), issuer_id=issuer.id, name=name, benefit=benefit,
                    rules=[{k: r[k] for k in ("credential", "claim", "op", "value") if k in r}
                           for r in rule_list],
                    valid_from=valid_from, valid_until=valid_until, created_at=clock.now())
    db.session.add(policy)
    db.session.flush()
    audit.record("policy", policy=policy.id, issuer=issuer.id)
    return policy


def in_force(policy: Policy, now: datetime) -> bool:
    return (policy.valid_from is None or clock.aware(policy.valid_from) <= now) and \
        (policy.valid_until is None or clock.aware(policy.valid_until) > now)


def _in_force_clause(now: datetime):
    return and_(or_(Policy.valid_from.is_(None), Policy.valid_from <= now),
                or_(Policy.valid_until.is_(None), Policy.valid_until > now))


def next_change(now: datetime) -> datetime | None:
    """The next moment after ``now`` at which some policy comes into force or ends, in one
    query (a cached screen of found policies is good until then)."""
    starts = select(func.min(Policy.valid_from)).where(Policy.valid_from > now).scalar_subquery()
    ends = select(func.min(Policy.valid_until)).where(Policy.valid_until > now).scalar_subquery()
    first, second = db.session.execute(select(starts, ends)).one()
    return min((clock.aware(m) for m in (first, second) if m is not None), default=None)


def policies_in_force(now: datetime | None = None) -> list[Policy]:
    now = now or clock.now()
    return list(db.session.scalars(select(Policy).where(_in_force_clause(now)).order_by(Policy.created_at)))


def get_policy(policy_id: str) -> Policy | None:
    return db.session.get(Policy, policy_id) if is_id(policy_id) else None


# The holder's side --------------------------------------------------------------------


def tell_new_resident(person) -> int:
    """A notice for each policy found for someone before they registered (their matches
    belong to their ID-number digest); returns how many were sent."""
    found = [policy for match, policy in found_for(person.id_number_index) if match.status == FOUND]
    notices.notify_many([_found_notice(person.id, policy) for policy in found])
    return len(found)


def found_for(holder_index: str, limit: int = 100) -> list[tuple[PolicyMatch, Policy]]:
    """The policies in force found for this holder (taken up or not), newest first."""
    return [tuple(row) for row in db.session.execute(
        select(PolicyMatch, Policy).join(Policy, Policy.id == PolicyMatch.policy_id)
        .where(PolicyMatch.holder_index == holder_index, PolicyMatch.status.in_((FOUND, TAKEN_UP)),
               _in_force_clause(clock.now()))
        .order_by(PolicyMatch.found_at.desc(), PolicyMatch.id).limit(limit))]


def accept(holder_index: str, policy_id: str) -> tuple[PolicyMatch, Policy]:
    """Take up a policy found for the holder (again is fine). ``NotFound`` for a policy not
    found for them, lapsed, or no longer in force."""
    if not is_id(policy_id):
        raise NotFound()
    row = db.session.execute(
        select(PolicyMatch, Policy).join(Policy, Policy.id == PolicyMatch.policy_id)
        .where(PolicyMatch.holder_index == holder_index, PolicyMatch.policy_id == policy_id,
               PolicyMatch.status.in_((FOUND, TAKEN_UP)), _in_force_clause(clock.now()))).first()
    if row is None:
        raise NotFound()
    match, policy = row
    if match.status == FOUND:
        match.status, match.accepted_at = TAKEN_UP, clock.now()
        db.session.flush()
        audit.record("policy-accept", policy=policy.id, holder=holder_index)
    return match, policy


# Evaluation ---------------------------------------------------------------------------


def _usable_clause(now: datetime):
    return and_(Credential.revoked_at.is_(None),
                or_(Credential.valid_until.is_(None), Credential.valid_until > now),
                or_(Credential.valid_from.is_(None), Credential.valid_from <= now))


def claims_needed(rule_list: list[dict]) -> dict[str, set[str]]:
    """``{type: claim names}`` that the rules read."""
    needed: dict[str, set[str]] = {}
    for rule in rule_list:
        needed.setdefault(rule["credential"], set()).add(rule["claim"])
    return needed


def _b64url_bytes(text: str) -> bytes:
    return binascii.a2b_base64(text.translate(_URLSAFE) + "=" * (-len(text) % 4))


_URLSAFE = str.maketrans("-_", "+/")


def read_claims(sd_jwt: str, names: set[str]) -> dict:
    """The named claims of an SD-JWT the platform issued itself (no verification, as
    ``wallet.sdjwt.claims_of``), decoding only the disclosures that may hold one of them: the
    JSON of a disclosure is parsed only when its bytes carry a wanted name."""
    markers = [json.dumps(name).encode() for name in names]
    found = {}
    for disclosure in sd_jwt.split("~")[1:-1]:
        try:
            raw = _b64url_bytes(disclosure)
        except (binascii.Error, ValueError):
            continue
        if not any(marker in raw for marker in markers):
            continue
        try:
            _salt, name, value = json.loads(raw)
        except (ValueError, TypeError):
            continue
        if name in names:
            found[name] = value
    return found


def claims_by_holder(holders: list[str], needed: dict[str, set[str]],
                     now: datetime) -> dict[str, dict[str, dict]]:
    """``{holder: {type: claims}}`` from each holder's newest valid credential of each type
    that ``needed`` names, with the claims it names, in one query."""
    found: dict[str, dict[str, dict]] = {}
    rows = db.session.execute(
        select(Credential.id, Credential.holder_index, Credential.vct, Credential.sd_jwt_enc)
        .where(Credential.holder_index.in_(holders), Credential.vct.in_(list(needed)), _usable_clause(now))
        .order_by(Credential.holder_index, Credential.vct, Credential.issued_at.desc()))
    for row in rows:
        by_type = found.setdefault(row.holder_index, {})
        if row.vct not in by_type:
            by_type[row.vct] = read_claims(wallet.sd_jwt_of(row), needed[row.vct])
    return found


def record_outcome(policy: Policy, holders: list[str], qualifying: set[str], now: datetime) -> dict:
    """Bring the matches of ``holders`` in line with ``qualifying``: new and renewed matches
    (with a notice to each registered holder), lapsed ones. Returns the counts."""
    existing = dict(db.session.execute(
        select(PolicyMatch.holder_index, PolicyMatch.status)
        .where(PolicyMatch.policy_id == policy.id, PolicyMatch.holder_index.in_(holders))).all())
    new = [h for h in holders if h in qualifying and h not in existing]
    renewed = [h for h in holders if h in qualifying and existing.get(h) == LAPSED]
    lapsed = [h for h in holders if h not in qualifying and existing.get(h) == FOUND]
    inserted = []
    if new:
        inserted = list(db.session.scalars(
            insert_for(PolicyMatch).values([
                {"id": new_id(), "policy_id": policy.id, "holder_index": h, "status": FOUND,
                 "found_at": now} for h in new])
            .on_conflict_do_nothing().returning(PolicyMatch.holder_index)))
    if renewed:
        db.session.execute(update(PolicyMatch).where(
            PolicyMatch.policy_id == policy.id, PolicyMatch.holder_index.in_(renewed),
            PolicyMatch.status == LAPSED).values(status=FOUND, found_at=now, lapsed_at=None)
            .execution_options(synchronize_session=False))
    if lapsed:
        _lapse(policy.id, lapsed, now)
    told = inserted + renewed
    if told:
        changes.touch(db.session, holders=told)
        people = db.session.execute(select(Person.id).where(Person.id_number_index.in_(told))).scalars()
        notices.notify_many([_found_notice(person_id, policy) for person_id in people])
    return {"found": len(told), "lapsed": len(lapsed)}


def _found_notice(person_id: str, policy: Policy) -> dict:
    return {"person_id": person_id, "kind": notices.POLICY, "ref": policy.id,
            "text": f"A policy found for you: {policy.name}. {policy.benefit}"}


def _lapse(policy_id: str, holders: list[str], now: datetime) -> None:
    db.session.execute(update(PolicyMatch).where(
        PolicyMatch.policy_id == policy_id, PolicyMatch.holder_index.in_(holders),
        PolicyMatch.status == FOUND).values(status=LAPSED, lapsed_at=now)
        .execution_options(synchronize_session=False))
    changes.touch(db.session, holders=holders)


def evaluate_policy(policy: Policy, batch: int = BATCH) -> dict:
    """Evaluate a policy for everyone holding a valid credential of the first type its rules
    name, page by page; matches of holders who no longer qualify lapse. Returns
    ``{holders, found, lapsed}``; a policy not in force is left as it is."""
    now = clock.now()
    totals = {"holders": 0, "found": 0, "lapsed": 0}
    if not in_force(policy, now):
        return totals
    today = rules.local_today(now)
    types = rules.types_of(policy.rules)
    needed = claims_needed(policy.rules)
    seen: set[str] = set()
    last = ""
    while True:
        holders = list(db.session.scalars(
            select(Credential.holder_index).distinct()
            .where(Credential.vct == types[0], Credential.holder_index > last, _usable_clause(now))
            .order_by(Credential.holder_index).limit(batch)))
        if not holders:
            break
        last = holders[-1]
        seen.update(holders)
        claims = claims_by_holder(holders, needed, now)
        qualifying = {h for h in holders if rules.policy_holds(policy.rules, claims.get(h, {}), today)}
        outcome = record_outcome(policy, holders, qualifying, now)
        totals["holders"] += len(holders)
        totals["found"] += outcome["found"]
        totals["lapsed"] += outcome["lapsed"]
    # Holders who no longer hold a valid credential of the first type at all.
    gone = [h for h in db.session.scalars(select(PolicyMatch.holder_index).where(
        PolicyMatch.policy_id == policy.id, PolicyMatch.status == FOUND)) if h not in seen]
    for start in range(0, len(gone), batch):
        _lapse(policy.id, gone[start:start + batch], now)
    totals["lapsed"] += len(gone)
    policy.evaluated_at = now
    db.session.flush()
    return totals


def reevaluate_holder(holder_index: str) -> dict:
    """Evaluate every policy in force for one holder (after one of their credentials was
    issued or revoked). Returns ``{found, lapsed}``."""
    now = clock.now()
    totals = {"found": 0, "lapsed": 0}
    in_force_now = policies_in_force(now)
    if not in_force_now:
        return totals
    needed = claims_needed([rule for p in in_force_now for rule in p.rules])
    claims = claims_by_holder([holder_index], needed, now).get(holder_index, {})
    today = rules.local_today(now)
    for policy in in_force_now:
        holds = rules.policy_holds(policy.rules, claims, today)
        outcome = record_outcome(policy, [holder_index], {holder_index} if holds else set(), now)
        totals["found"] += outcome["found"]
        totals["lapsed"] += outcome["lapsed"]
    db.session.flush()
    return totals
