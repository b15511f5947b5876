"""Benchmark of the catalogue on PostgreSQL + Redis.

    DATABASE_URL=postgresql://... REDIS_URL=redis://... .venv/bin/python bench/bench_catalog.py

Two figures:

- policy evaluation over ``--residents`` residents (default 100,000): residents and their
  resident-id and social security card are bulk-inserted straight into the benchmark's own
  database (each credential an SD-JWT-shaped text of its claims, encrypted as the wallet
  stores it; not signed: evaluation reads claims, it does not verify signatures). Then one
  policy of two rules (age 60 or over from the resident-id, city among two from the card) is
  evaluated for everyone, as the RQ job does: time, holders read, matches found, and the
  peak of Python memory (tracemalloc, in a second run from no matches, since tracemalloc
  slows the run it measures) plus the process's peak RSS;
- GET /api/v1/me/home requests per second under gunicorn, against the bare Flask JSON
  endpoint in the same run; ``HOME_RESIDENTS`` residents each hold a resident-id, a
  household register, two cards, an application and a policy found for them. The home is
  served from its per-person cache (mobile_api/home.py) after each resident's first request;
  the same run measures it built on every request (HOME_CACHE_SECONDS=0), and GET /me/code
  (Redis only) and GET /me (one query) with the same tokens, for scale.

Works in a database of its own (``<db>_catalog_bench``) and Redis database 13, both emptied
first; saves the figures to bench/results/catalog.json.
"""
from __future__ import annotations

import argparse
import base64
import json
import os
import resource
import secrets
import sys
import tempfile
import time
import tracemalloc
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import (ROOT, TOKENS_LUA, gunicorn, post, prepared_app, print_table,  # noqa: E402
                           resident_data, save, wrk)
from core.crypto import vault  # noqa: E402

HOME_RESIDENTS = 200
BATCH_ROWS = 5000
RULES = [{"credential": "resident-id", "claim": "birthdate", "op": "age_gte", "value": 60},
         {"credential": "social-security-card", "claim": "city", "op": "in", "value": ["北京", "天津"]}]
CITIES = ["北京", "上海", "天津", "广州", "深圳"]



def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _sd_jwt_shape(claims: dict) -> str:
    """A text laid out as an SD-JWT (a JWT, one disclosure per claim, a trailing ``~``)."""
    jwt = ".".join([_b64(b'{"alg":"EdDSA","typ":"dc+sd-jwt"}'), _b64(b'{"vct":"bench"}'), _b64(b"sig")])
    disclosures = [_b64(json.dumps([_b64(secrets.token_bytes(12)), name, value], ensure_ascii=False).encode())
                   for name, value in claims.items()]
    return "~".join([jwt, *disclosures, ""])


def seed_residents(n: int) -> dict:
    """Bulk-insert ``n`` residents with a resident-id and a social security card each."""
    from sqlalchemy import text

    from core.extensions import db
    from catalog.models import Policy  # noqa: F401  (tables known)
    from identity.models import Person
    from wallet.issuers import create_issuer
    from wallet.models import Credential, StatusList

    from catalog.rules import age_on, local_today

    v = vault()
    today = local_today(datetime.now(timezone.utc))
    police, _ = create_issuer("市公安局", ["resident-id"])
    hr, _ = create_issuer("市人社局", ["social-security-card"], policy_publisher=True)
    lists = []
    for _ in range((2 * n) // 131072 + 1):
        status_list = StatusList(size=131072, full=True, created_at=datetime.now(timezone.utc))
        db.session.add(status_list)
        db.session.flush()
        lists.append(status_list.id)
    db.session.commit()
    now = datetime.now(timezone.utc)
    started = time.perf_counter()
    slot = 0
    persons, credentials = [], []
    qualifying = 0

    def flush():
        if persons:
            db.session.execute(Person.__table__.insert(), persons)
        if credentials:
            db.session.execute(Credential.__table__.insert(), credentials)
        db.session.commit()
        persons.clear()
        credentials.clear()

    for i in range(n):
        index = v.index("id_number", f"bench-{i}")
        birth = date(1940, 1, 1) + timedelta(days=(i * 7919) % (365 * 70))
        city = CITIES[i % len(CITIES)]
        qualifying += age_on(birth, today) >= 60 and city in ("北京", "天津")
        persons.append({
            "id": f"p{i:010d}", "handle": f"h{i:010d}", "name": "测试", "id_number_index": index,
            "id_number_enc": b"x", "id_number_masked": "110************011",
            "phone_index": v.index("phone", f"bench-{i}"), "phone_enc": b"x",
            "phone_masked": "139****0000", "birthdate": birth, "password_hash": "x",
            "totp_enabled": False, "totp_last_step": 0, "status": "active", "assurance_level": 1,
            "created_at": now})
        for issuer, vct, claims in (
                (police.id, "resident-id", {"name": "测试", "id_number": f"bench-{i}",
                                            "birthdate": birth.isoformat(), "sex": "female",
                                            "address": "北京市西城区", "valid_until": "2036-12-31"}),
                (hr.id, "social-security-card", {"name": "测试", "id_number": f"bench-{i}",
                                                 "card_number": f"M{i}", "city": city})):
            credential_id = f"c{slot:012d}"
            credentials.append({
                "id": credential_id, "vct": vct, "issuer_id": issuer, "holder_index": index,
                "sd_jwt_enc": v.encrypt_text(_sd_jwt_shape(claims), f"credential.sd_jwt:{credential_id}"),
                "status_list_id": lists[slot // 131072], "status_idx": slot % 131072,
                "issued_at": now, "valid_from": None, "valid_until": None, "revoked_at": None,
                "revocation_reason": None})
            slot += 1
        if len(persons) >= BATCH_ROWS:
            flush()
    flush()
    # As autovacuum would in a running system: the planner needs the tables' statistics.
    db.session.execute(text("ANALYZE persons"))
    db.session.execute(text("ANALYZE credentials"))
    db.session.commit()
    return {"publisher": hr.id, "seconds": time.perf_counter() - started, "expected": qualifying}


def bench_evaluation(app, n: int) -> dict:
    from sqlalchemy import delete, func, select

    from core.extensions import db
    from catalog import policies
    from catalog.models import Notice, PolicyMatch

    with app.app_context():
        print(f"inserting {n} residents and {2 * n} credentials ...", file=sys.stderr)
        seeded = seed_residents(n)
        policy = policies.create_policy(seeded["publisher"], "高龄津贴", "每月200元", RULES)
        db.session.commit()
        policy_id = policy.id

        started = time.perf_counter()
        totals = policies.evaluate_policy(db.session.get(type(policy), policy_id))
        db.session.commit()
        seconds = time.perf_counter() - started
        matches = db.session.scalar(select(func.count()).select_from(PolicyMatch))
        told = db.session.scalar(select(func.count()).select_from(Notice))

        started = time.perf_counter()
        again = policies.evaluate_policy(db.session.get(type(policy), policy_id))
        db.session.commit()
        idempotent_seconds = time.perf_counter() - started

        db.session.execute(delete(Notice))
        db.session.execute(delete(PolicyMatch))
        db.session.commit()
        db.session.expire_all()
        tracemalloc.start()
        policies.evaluate_policy(db.session.get(type(policy), policy_id))
        db.session.commit()
        _current, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    return {"residents": n, "credentials": 2 * n, "insert_seconds": round(seeded["seconds"], 1),
            "seconds": round(seconds, 2), "holders": totals["holders"], "found": totals["found"],
            "expected": seeded["expected"], "matches": matches, "notices": told,
            "second_run_seconds": round(idempotent_seconds, 2), "second_run_found": again["found"],
            "peak_python_mib": round(peak / 2**20, 1),
            "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}


def prepare_home(app, base: str) -> list[str]:
    """Residents with a full home screen; returns their access tokens."""
    from core.extensions import db
    from catalog import applications, policies
    from catalog.demo import seed_catalogue
    from identity.service import get_person_by_id_number
    from wallet import service
    from wallet.issuers import create_issuer

    residents = [resident_data(i, born_from=1950, years=40) for i in range(HOME_RESIDENTS)]
    for r in residents:
        post(f"{base}/api/v1/residents", r)
    with app.app_context():
        seed_catalogue()
        police, _ = create_issuer("市公安局 (home)", ["resident-id", "household-register"])
        hr, _ = create_issuer("市人社局 (home)", ["social-security-card", "medical-insurance-card"],
                              policy_publisher=True)
        policies.create_policy(hr.id, "高龄津贴", "每月200元", RULES[:1])
        db.session.commit()
        for n, r in enumerate(residents):
            holder = {"id_number": r["id_number"]}
            number = r["id_number"]
            for issuer, vct, claims in (
                    (police, "resident-id", {"name": r["name"], "id_number": number,
                                             "birthdate": f"{number[6:10]}-{number[10:12]}-{number[12:14]}",
                                             "sex": "male", "address": "北京市西城区", "valid_until": "2036-12-31"}),
                    (police, "household-register", {"name": r["name"], "id_number": number,
                                                    "household_head": r["name"], "relation_to_head": "本人",
                                                    "address": "北京市西城区"}),
                    (hr, "social-security-card", {"name": r["name"], "id_number": number,
                                                  "card_number": f"M{n}", "city": "北京"}),
                    (hr, "medical-insurance-card", {"name": r["name"], "id_number": number,
                                                    "insured_city": "北京", "scheme": "职工医保"})):
                service.issue_credential(issuer.id, vct, holder, claims, base_url=base)
            person = get_person_by_id_number(number)
            applications.create_application(person.id, person.id_number_index, bundle_code="retirement")
            db.session.commit()
    return [post(f"{base}/api/v1/auth/login", {"username": r["phone"], "password": r["password"]})
            ["access_token"] for r in residents]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--residents", type=int, default=100_000)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--port", type=int, default=5097)
    parser.add_argument("--skip-home", action="store_true")
    args = parser.parse_args()

    app, env = prepared_app("catalog_bench", 13, CODE_TTL_SECONDS=60)
    results = {"evaluation": bench_evaluation(app, args.residents)}
    e = results["evaluation"]
    print(f"\npolicy evaluation: {e['residents']} residents ({e['credentials']} credentials) in "
          f"{e['seconds']} s; {e['found']} found (expected {e['expected']}), {e['notices']} notices; "
          f"again (idempotent) {e['second_run_seconds']} s, {e['second_run_found']} found; "
          f"peak Python memory {e['peak_python_mib']} MiB, peak RSS {e['peak_rss_mib']} MiB "
          f"(bulk insert took {e['insert_seconds']} s)")

    if not args.skip_home:
        rows = []
        with gunicorn("bench.bare_app:app", args.port + 1, env) as bare:
            baseline = wrk(f"{bare}/bare", seconds=args.seconds, connections=args.connections)
        results["bare"] = baseline
        rows.append(("bare Flask JSON", baseline))
        with gunicorn("wsgi:app", args.port, env) as base:
            print(f"preparing {HOME_RESIDENTS} residents for /me/home ...", file=sys.stderr)
            tokens = prepare_home(app, base)
            with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as fh:
                fh.write("\n".join(tokens))
                tokens_file = fh.name
            results["me_home"] = wrk(f"{base}/api/v1/me/home", seconds=args.seconds,
                                     connections=args.connections, script=TOKENS_LUA,
                                     script_args=[tokens_file])
            rows.append(("GET /me/home", results["me_home"]))
            # For scale: the code alone (Redis, no SQL) and the profile (one query).
            for name, path in (("me_code", "/api/v1/me/code"), ("me", "/api/v1/me")):
                results[name] = wrk(f"{base}{path}", seconds=args.seconds, connections=args.connections,
                                    script=TOKENS_LUA, script_args=[tokens_file])
                rows.append((f"GET {path[7:]}", results[name]))
        # The same screens built on every request (the cache off), as before it existed.
        with gunicorn("wsgi:app", args.port + 2, dict(env, HOME_CACHE_SECONDS="0")) as uncached:
            results["me_home_built"] = wrk(f"{uncached}/api/v1/me/home", seconds=args.seconds,
                                           connections=args.connections, script=TOKENS_LUA,
                                           script_args=[tokens_file])
            rows.append(("GET /me/home, built each time", results["me_home_built"]))
        os.unlink(tokens_file)
        print(f"\n{args.connections} connections, {args.seconds} s each, "
              f"gunicorn {env.get('WEB_CONCURRENCY', os.cpu_count() * 2)} workers")
        print_table(rows, baseline)
        results["ratios"] = {name: results[name]["rps"] / baseline["rps"]
                             for name in ("me_home", "me_home_built", "me_code", "me")}
    print(f"\nsaved to {save('catalog', results).relative_to(ROOT)}")


if __name__ == "__main__":
    main()
