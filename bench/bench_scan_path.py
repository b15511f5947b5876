"""The scan path against its floor, in one run (PostgreSQL + Redis, gunicorn, wrk).

    DATABASE_URL=postgresql://... REDIS_URL=redis://... .venv/bin/python bench/bench_scan_path.py \
        [--runs 3] [--seconds 10] [--connections 32] [--workers 2] [--warm-up 3]

Each run, under the repository's gunicorn settings with WEB_CONCURRENCY workers, each
endpoint loaded for --warm-up seconds (answers discarded) and then measured:
1. bare Flask JSON (the baseline);
2. the floor scan (bench/floor_app.py: Ed25519 verify + Redis SET NX + one synchronous insert),
   and the floor without its insert;
3. GET /api/v1/me/code over many residents;
4. POST /api/v1/scans, a fresh code each (group commit as configured);
5. the scans again, one web worker killed (SIGKILL) halfway through (not a speed figure);
6. POST /api/v1/auth/login.
It prints each rate, p99 and ratio (to bare, and the scans to the floor), and checks after
both scan loads that every scan answered 201 is on record. Figures are saved to bench/results/scan_path.json.
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.bench_server import LOGIN_LUA, SCANS_LUA  # noqa: E402
from bench.harness import (ROOT, TOKENS_LUA, cpu_ms_per, cpu_seconds, gunicorn,  # noqa: E402
                           job_worker, post, prepared_app, print_table, resident_data, save,
                           worker_pids, wrk, wrk_spread)

RESIDENTS = 200
THREADS = int(os.environ.get("GUNICORN_THREADS", "8"))  # as gunicorn.conf.py reads it
PURPOSE = "identity-check"

FLOOR_LUA = SCANS_LUA.replace('["Authorization"] = "Bearer " .. token,\n', "")


def _codes(app, count: int) -> list[str]:
    from sqlalchemy import select

    from codes.service import issue_code
    from core.extensions import db
    from identity.models import Person

    with app.app_context():
        handles = db.session.scalars(select(Person.handle)).all()
        return [issue_code(handles[i % len(handles)]).code for i in range(count)]


def _file(lines: list[str]) -> str:
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as fh:
        fh.write("\n".join(lines))
        return fh.name


def _script(script: dict, codes_file: str | None) -> dict:
    """wrk's script and its arguments: a codes file and a token (scans, the floor), or the
    script's own."""
    if not script:
        return {}
    if "token" in script:
        return {"script": script["lua"], "script_args": [codes_file, script["token"], "2"]}
    return {"script": script["lua"], "script_args": script["args_"]}


def scans_with_a_killed_worker(app, args, base: str, port: int, token: str,
                               codes_needed: int) -> dict:
    """Scans under the same load while one web worker is killed (SIGKILL) halfway through;
    then every scan answered 201 must be on record. Not a speed figure."""
    from sqlalchemy import func, select

    from codes.models import Scan
    from core.extensions import db

    def on_record() -> int:
        with app.app_context():
            return db.session.scalar(select(func.count()).select_from(Scan))

    codes_file = _file(_codes(app, codes_needed))
    before, killed = on_record(), []

    def kill_one():
        time.sleep(args.seconds / 2)
        victim = worker_pids(port)[0]
        os.kill(victim, signal.SIGKILL)
        killed.append(victim)

    killer = threading.Thread(target=kill_one)
    killer.start()
    result = wrk(f"{base}/api/v1/scans", seconds=args.seconds, connections=args.connections,
                 **_script({"lua": SCANS_LUA, "token": token}, codes_file))
    killer.join()
    os.unlink(codes_file)
    recorded = on_record() - before
    accepted = result["requests"] - result["non_2xx"]
    deadline = time.monotonic() + 30  # gunicorn starts a new worker in its place
    while len(worker_pids(port)) < args.workers and time.monotonic() < deadline:
        time.sleep(0.2)
    time.sleep(2)  # the new worker loads the app
    return {"killed": killed, "accepted": accepted, "on_record": recorded,
            "all_on_record": recorded >= accepted, "rps": result["rps"]}


def one_run(app, env: dict, args, service_point: dict, port: int) -> dict:
    from sqlalchemy import func, select, text

    from codes.models import Scan
    from core.extensions import db

    results = {}
    load = {"seconds": args.seconds, "connections": args.connections}
    warm = {"seconds": args.warm_up, "connections": args.connections}

    def measure(url, before_try=None, **script):
        """Load ``url`` for the warm-up (answers discarded: connections, caches, prepared
        statements and the planner's statistics settle), then measure it; every try with
        codes of its own (``token``: the script sends codes), ``before_try()`` first."""
        made = []

        def codes(count):
            made.append(_file(_codes(app, count)))
            return made[-1]

        sends_codes = "token" in script
        if args.warm_up:
            warm_codes = codes(codes_needed // args.seconds * args.warm_up) if sends_codes else None
            wrk(url, **warm, **_script(script, warm_codes))

        port_of = int(url.split(":")[2].split("/")[0])
        cpu = {}

        def one_try(_try):
            if before_try is not None:
                before_try()
            chosen = {**load, **_script(script, codes(codes_needed) if sends_codes else None)}
            cpu["before"] = cpu_seconds(port_of, "scan_path")
            return chosen

        # Measured with every worker holding at least as many of wrk's connections as it has
        # threads (``wrk_spread``).
        result = wrk_spread(url, port_of, args.workers, THREADS, one_try)
        # CPU per request of the server's processes and of the database's backends: a cost
        # that other load on the machine changes much less than the rate.
        result["cpu_ms"] = cpu_ms_per(cpu["before"], cpu_seconds(port_of, "scan_path"),
                                      result["requests"])
        for path in made:
            os.unlink(path)
        return result

    with gunicorn("bench.bare_app:app", port + 1, env) as bare:
        codes_needed = 0
        results["bare"] = measure(f"{bare}/bare")
    # Enough codes that none is sent twice, whichever endpoint is fastest.
    codes_needed = max(40000, int(results["bare"]["rps"] * args.seconds * 1.2))

    with app.app_context():
        jwks = {"keys": __import__("codes.keys", fromlist=["jwks"]).jwks()["keys"]}
        db.session.execute(text("CREATE TABLE IF NOT EXISTS floor_scans ("
                                "nonce varchar(64) PRIMARY KEY, sub varchar(16), "
                                "at timestamptz NOT NULL)"))
        db.session.execute(text("TRUNCATE floor_scans"))
        db.session.commit()
    jwks_file = _file([json.dumps(jwks)])
    for name, write in (("floor", "1"), ("floor_no_write", "0")):
        with gunicorn("bench.floor_app:app", port + 2, dict(
                env, FLOOR_JWKS_FILE=jwks_file, FLOOR_DB_WRITE=write)) as floor:
            results[name] = measure(f"{floor}/floor/scans", lua=FLOOR_LUA, token="")

    with gunicorn("wsgi:app", port, env) as base, job_worker(env):
        tokens = [post(f"{base}/api/v1/auth/login",
                       {"username": r["phone"], "password": r["password"]})["access_token"]
                  for r in (resident_data(i) for i in range(RESIDENTS))]
        tokens_file = _file(tokens)
        results["me_code"] = measure(f"{base}/api/v1/me/code", lua=TOKENS_LUA,
                                     args_=[tokens_file])
        sp_token = post(f"{base}/api/v1/service-points/token", service_point)["access_token"]
        counted = {}

        def count_rows():  # before each try: the check below is of the measured one
            with app.app_context():
                counted["before"] = db.session.scalar(select(func.count()).select_from(Scan))

        results["scans"] = measure(f"{base}/api/v1/scans", count_rows, lua=SCANS_LUA,
                                   token=sp_token)
        before = counted["before"]
        with app.app_context():
            after = db.session.scalar(select(func.count()).select_from(Scan))
        accepted = results["scans"]["requests"] - results["scans"]["non_2xx"]
        # wrk counts answers it read; a request in flight when it stopped may be on record
        # too, never fewer.
        results["scans"]["on_record"] = after - before
        results["scans"]["accepted"] = accepted
        results["scans"]["all_on_record"] = after - before >= accepted
        results["killed"] = scans_with_a_killed_worker(app, args, base, port, sp_token,
                                                       codes_needed)
        r0 = resident_data(0)
        results["login"] = measure(f"{base}/api/v1/auth/login", lua=LOGIN_LUA,
                                   args_=[r0["phone"], r0["password"]])
        for path in (tokens_file, jwks_file):
            os.unlink(path)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--port", type=int, default=5177)
    parser.add_argument("--warm-up", type=int, default=3,
                        help="seconds of load before each measured run (0: none)")
    args = parser.parse_args()

    app, env = prepared_app("scan_path", 14, CODE_TTL_SECONDS=60,
                            WEB_CONCURRENCY=args.workers)
    created = app.test_cli_runner().invoke(
        args=["service-point", "create", "Bench gate", "--purpose", PURPOSE])
    service_point = json.loads(created.output)
    with gunicorn("wsgi:app", args.port, env) as base:
        print(f"registering {RESIDENTS} residents ...", file=sys.stderr)
        for i in range(RESIDENTS):
            post(f"{base}/api/v1/residents", resident_data(i))

    runs = []
    for n in range(args.runs):
        print(f"run {n + 1} of {args.runs} ...", file=sys.stderr)
        result = one_run(app, env, args, service_point, args.port)
        runs.append(result)
        names = ("bare", "floor", "floor_no_write", "me_code", "scans", "login")
        labels = ("bare Flask JSON", "floor: verify+SET NX+insert", "floor without the insert",
                  "GET /me/code", "POST /scans (fresh code each)", "POST /auth/login")
        print(f"\nrun {n + 1}: {args.connections} connections, {args.seconds} s each, "
              f"{args.workers} workers")
        print_table([(label, result[name]) for label, name in zip(labels, names)],
                    result["bare"])
        print("CPU ms per request (server, database): " + ", ".join(
            f"{name} {result[name]['cpu_ms']['server']}, {result[name]['cpu_ms']['database']}"
            for name in names))
        print("wrk's connections per worker (tries): " + ", ".join(
            f"{name} {result[name]['spread']} ({result[name]['tries']})" for name in names))
        scans, floor = result["scans"], result["floor"]
        killed = result["killed"]
        print(f"scans with a web worker killed halfway (SIGKILL): accepted {killed['accepted']}, "
              f"on record {killed['on_record']}: "
              f"{'all on record' if killed['all_on_record'] else 'MISSING SCANS'}")
        print(f"scans / floor: {scans['rps'] / floor['rps']:.0%}; "
              f"scans p99 {scans['p99_ms']:.1f} ms; "
              f"accepted {scans['accepted']}, on record {scans['on_record']}: "
              f"{'all on record' if scans['all_on_record'] else 'MISSING SCANS'}")

    def median(name, key="rps"):
        return statistics.median(r[name][key] for r in runs)

    summary = {
        "scans_vs_floor": statistics.median(r["scans"]["rps"] / r["floor"]["rps"] for r in runs),
        "scans_vs_bare": statistics.median(r["scans"]["rps"] / r["bare"]["rps"] for r in runs),
        "me_code_vs_bare": statistics.median(r["me_code"]["rps"] / r["bare"]["rps"]
                                             for r in runs),
        "floor_vs_bare": statistics.median(r["floor"]["rps"] / r["bare"]["rps"] for r in runs),
        "scans_p99_ms": median("scans", "p99_ms"),
        "login_rps": median("login"),
        "all_scans_on_record": all(r["scans"]["all_on_record"] for r in runs),
        "all_on_record_after_a_killed_worker": all(r["killed"]["all_on_record"] for r in runs),
    }
    print("\nmedian of the runs:", json.dumps(summary, indent=1))
    print(f"saved to {save('scan_path', {'runs': runs, 'summary': summary}).relative_to(ROOT)}")


if __name__ == "__main__":
    main()
