"""Load benchmark: the API under gunicorn on PostgreSQL + Redis, against bare Flask.

    DATABASE_URL=postgresql://... REDIS_URL=redis://... .venv/bin/python bench/bench_server.py

In one run: a bare Flask JSON endpoint under the same gunicorn settings (the baseline), then
GET /api/v1/me/code over many residents, POST /api/v1/scans with a fresh code every request,
and POST /api/v1/auth/login. Prints requests/s, p50/p99 and the ratio to the baseline, and
saves them to bench/results/server.json. Works in a database of its own (``<db>_bench``) and
Redis database 15, both emptied first.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import (ROOT, TOKENS_LUA, gunicorn, job_worker, post, prepared_app,  # noqa: E402
                           print_table, resident_data, save, wrk)

RESIDENTS = 200
PURPOSE = "identity-check"


# Every thread takes its own share of the pre-signed codes, so no code is sent twice.
SCANS_LUA = """
local counter = 1
local threads = {}
function setup(thread)
  thread:set("id", counter)
  table.insert(threads, thread)
  counter = counter + 1
end
local codes = {}
local next_code = 1
function init(args)
  local n, total = 0, tonumber(args[3])
  for line in io.lines(args[1]) do
    if n % total == id - 1 then codes[#codes + 1] = line end
    n = n + 1
  end
  token = args[2]
end
function request()
  local code = codes[next_code]
  next_code = next_code + 1
  if next_code > #codes then next_code = 1 end
  local body = '{"code": "' .. code .. '", "purpose": "identity-check"}'
  return wrk.format("POST", nil, {["Authorization"] = "Bearer " .. token,
                                  ["Content-Type"] = "application/json"}, body)
end
"""

LOGIN_LUA = """
function init(args)
  body = '{"username": "' .. args[1] .. '", "password": "' .. args[2] .. '"}'
end
function request()
  return wrk.format("POST", nil, {["Content-Type"] = "application/json"}, body)
end
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--port", type=int, default=5077)
    args = parser.parse_args()

    app, env = prepared_app("bench", 15, CODE_TTL_SECONDS=60)
    from sqlalchemy import select

    from core.extensions import db
    created = app.test_cli_runner().invoke(
        args=["service-point", "create", "Bench counter", "--purpose", PURPOSE])
    service_point = json.loads(created.output)

    results, rows = {}, []
    with gunicorn("bench.bare_app:app", args.port + 1, env) as bare:
        baseline = wrk(f"{bare}/bare", seconds=args.seconds, connections=args.connections)
    results["bare"] = baseline
    rows.append(("bare Flask JSON", baseline))

    with gunicorn("wsgi:app", args.port, env) as base, job_worker(env):
        print(f"registering {RESIDENTS} residents ...", file=sys.stderr)
        tokens = []
        residents = []
        for i in range(RESIDENTS):
            resident = resident_data(i)
            post(f"{base}/api/v1/residents", resident)
            tokens.append(post(f"{base}/api/v1/auth/login",
                               {"username": resident["phone"], "password": resident["password"]})
                          ["access_token"])
            residents.append(resident)
        with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as fh:
            fh.write("\n".join(tokens))
            tokens_file = fh.name

        results["me_code"] = wrk(f"{base}/api/v1/me/code", seconds=args.seconds,
                                 connections=args.connections, script=TOKENS_LUA,
                                 script_args=[tokens_file])
        rows.append(("GET /me/code", results["me_code"]))

        sp_token = post(f"{base}/api/v1/service-points/token", service_point)["access_token"]
        codes_needed = max(20000, int(results["bare"]["rps"] * args.seconds * 1.5))
        with app.app_context():
            from codes.service import issue_code
            from identity.models import Person

            handles = db.session.scalars(select(Person.handle)).all()
            codes = [issue_code(handles[i % len(handles)]).code for i in range(codes_needed)]
        with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as fh:
            fh.write("\n".join(codes))
            codes_file = fh.name
        results["scans"] = wrk(f"{base}/api/v1/scans", seconds=args.seconds,
                               connections=args.connections, script=SCANS_LUA,
                               script_args=[codes_file, sp_token, "2"])
        rows.append(("POST /scans (fresh code each)", results["scans"]))

        results["login"] = wrk(f"{base}/api/v1/auth/login", seconds=args.seconds,
                               connections=args.connections, script=LOGIN_LUA,
                               script_args=[residents[0]["phone"], residents[0]["password"]])
        rows.append(("POST /auth/login", results["login"]))
        for path in (tokens_file, codes_file):
            os.unlink(path)

    with app.app_context():
        from core.audit import verify_chain

        chain = verify_chain()
    print(f"audit chain after the run: {chain.entries} entries sealed, {chain.unsealed} unsealed, "
          f"{'intact' if chain.ok else 'BROKEN'}")
    results["audit"] = {"sealed": chain.entries, "unsealed": chain.unsealed, "ok": chain.ok}

    print(f"\n{args.connections} connections, {args.seconds} s each, "
          f"gunicorn {env.get('WEB_CONCURRENCY', os.cpu_count() * 2)} workers")
    print_table(rows, baseline)
    results["ratios"] = {name: results[name]["rps"] / baseline["rps"]
                         for name in ("me_code", "scans", "login")}
    print(f"\nsaved to {save('server', results).relative_to(ROOT)}")


if __name__ == "__main__":
    main()
