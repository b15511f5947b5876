"""Load benchmark of the wallet under gunicorn on PostgreSQL + Redis.

    DATABASE_URL=postgresql://... REDIS_URL=redis://... .venv/bin/python bench/bench_wallet.py

Two figures:

- credentials issued per second: wrk POSTs /api/v1/issuer/credentials with one issuer token,
  a resident-id for one of ``HOLDERS`` ID numbers each time (each holder's key is made on
  first use, then reused), every response a signed SD-JWT VC;
- approve + fetch per second: pending material requests are prepared in-process (residents,
  credentials, scans, requests), then client threads each approve one consent as the
  resident (POST /me/consents/{id}/approve) and fetch the materials as the service point
  (GET /scans/{id}/requests/{id}); one pair is one operation.

Besides the rates it prints the CPU time that the server processes and the database spent
per operation, which other load on a shared machine changes much less than the rates.

Works in a database of its own (``<db>_wallet_bench``) and Redis database 14, both emptied
first; saves the figures to bench/results/wallet.json.
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import (ROOT, cpu_ms_per, cpu_seconds, gunicorn, prepared_app, save,  # noqa: E402
                           wrk)

HOLDERS = 1000
RESIDENTS = 40
PURPOSE = "identity-check"

ISSUE_LUA = """
local bodies = {}
local n = 1
function init(args)
  for line in io.lines(args[1]) do bodies[#bodies + 1] = line end
  token = args[2]
  n = math.random(#bodies)
end
function request()
  n = n + 1
  if n > #bodies then n = 1 end
  return wrk.format("POST", nil, {["Authorization"] = "Bearer " .. token,
                                  ["Content-Type"] = "application/json"}, bodies[n])
end
"""


def _id_number(i: int) -> str:
    from identity.id_numbers import make_id_number

    return make_id_number("110101", date(1970 + i % 40, 1 + i % 12, 1 + i % 28), i % 1000)


def _issue_body(i: int) -> str:
    number = _id_number(i)
    return json.dumps({"type": "resident-id", "holder": {"id_number": number}, "claims": {
        "name": f"测试{i}", "id_number": number, "birthdate": "1990-03-07", "sex": "female",
        "address": "北京市东城区东华门街道1号", "valid_until": "2036-03-07"},
        "valid_until": "2036-03-07T00:00:00Z"}, ensure_ascii=False)


class Client(threading.local):
    """One keep-alive connection per thread."""

    def __init__(self, base: str):
        parts = urlsplit(base)
        self.conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)

    def call(self, method: str, path: str, token: str, body: dict | None = None) -> int:
        headers = {"Authorization": f"Bearer {token}"}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        self.conn.request(method, path, data, headers)
        response = self.conn.getresponse()
        response.read()
        return response.status


def _prepare_requests(app, per_resident: int, service_point_id: str, issuer_id: str):
    """Residents with a resident-id each, and ``per_resident`` pending requests per resident."""
    from core import audit
    from core.extensions import db
    from core.tokens import start_session
    from codes.scans import scan_code
    from codes.service_points import get_service_point
    from codes.service import issue_code
    from identity.service import register_resident, resident_claims
    from materials import service as consents
    from wallet.service import issue_credential

    prepared = []
    with app.app_context():
        for i in range(RESIDENTS):
            number = _id_number(HOLDERS + i)
            person = register_resident("张三丰", number, f"138{i:08d}", f"bench-passphrase-{i}-long")
            issue_credential(issuer_id, "resident-id", {"id_number": number}, json.loads(
                _issue_body(HOLDERS + i))["claims"], base_url="http://127.0.0.1")
            db.session.commit()
            token = start_session(person.id, resident_claims(person))["access_token"]
            for _ in range(per_resident):
                scan_id = scan_code(get_service_point(service_point_id), issue_code(person.handle).code,
                                    PURPOSE).scan_id
                request = consents.request_materials(service_point_id, scan_id, ["resident-id"])
                db.session.commit()
                prepared.append((token, request.consent_id, scan_id, request.id))
        audit.seal()
    return prepared


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--requests", type=int, default=1200, help="approve + fetch operations")
    parser.add_argument("--port", type=int, default=5087)
    args = parser.parse_args()

    app, env = prepared_app("wallet_bench", 14, CODE_TTL_SECONDS=60, MATERIAL_REQUEST_TTL_SECONDS=900)
    runner = app.test_cli_runner()
    issuer = json.loads(runner.invoke(args=["issuer", "create", "Bench public security",
                                            "--type", "resident-id"]).output)
    point = json.loads(runner.invoke(args=["service-point", "create", "Bench counter",
                                           "--purpose", PURPOSE]).output)
    with app.app_context():
        from codes.service_points import get_by_client_id
        from wallet.issuers import get_issuer_by_client_id

        issuer_id = get_issuer_by_client_id(issuer["client_id"]).id
        point_id = get_by_client_id(point["client_id"]).id

    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False, encoding="utf-8") as fh:
        fh.write("\n".join(_issue_body(i) for i in range(HOLDERS)))
        bodies_file = fh.name

    results = {}
    with gunicorn("wsgi:app", args.port, env) as base:
        import urllib.request

        def token_for(path: str, creds: dict) -> str:
            req = urllib.request.Request(f"{base}{path}", json.dumps(creds).encode(),
                                         {"Content-Type": "application/json"})
            with urllib.request.urlopen(req, timeout=30) as resp:
                return json.loads(resp.read())["access_token"]

        issuer_token = token_for("/api/v1/issuers/token", issuer)
        cpu_before = cpu_seconds(args.port, "wallet_bench")
        results["issue"] = wrk(f"{base}/api/v1/issuer/credentials", seconds=args.seconds,
                               connections=args.connections, script=ISSUE_LUA,
                               script_args=[bodies_file, issuer_token])
        results["issue"]["cpu_ms"] = cpu_ms_per(cpu_before, cpu_seconds(args.port, "wallet_bench"),
                                                 results["issue"]["requests"])
        os.unlink(bodies_file)

        print("preparing material requests ...", file=sys.stderr)
        per_resident = -(-args.requests // RESIDENTS)
        prepared = _prepare_requests(app, per_resident, point_id, issuer_id)
        point_token = token_for("/api/v1/service-points/token", point)
        client = Client(base)
        failures = []

        def approve_and_fetch(item) -> None:
            token, consent_id, scan_id, request_id = item
            approved = client.call("POST", f"/api/v1/me/consents/{consent_id}/approve", token, {})
            fetched = client.call("GET", f"/api/v1/scans/{scan_id}/requests/{request_id}", point_token)
            if (approved, fetched) != (204, 200):
                failures.append((approved, fetched))

        cpu_before = cpu_seconds(args.port, "wallet_bench")
        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=args.connections) as pool:
            list(pool.map(approve_and_fetch, prepared))
        elapsed = time.perf_counter() - started
        results["approve_fetch"] = {"operations": len(prepared), "seconds": round(elapsed, 2),
                                    "ops": len(prepared) / elapsed, "failures": len(failures),
                                    "cpu_ms": cpu_ms_per(cpu_before, cpu_seconds(args.port, "wallet_bench"),
                                                          len(prepared))}

    issue, pair = results["issue"], results["approve_fetch"]
    print(f"\ngunicorn {env.get('WEB_CONCURRENCY', os.cpu_count() * 2)} workers, "
          f"{args.connections} connections")
    print(f"credentials issued:  {issue['rps']:8.0f} /s   p50 {issue['p50_ms']:.1f} ms   "
          f"p99 {issue['p99_ms']:.1f} ms   non-2xx {issue['non_2xx']}   CPU ms each: "
          f"server {issue['cpu_ms']['server']}, database {issue['cpu_ms']['database']}")
    print(f"approve + fetch:     {pair['ops']:8.0f} /s   ({pair['operations']} in {pair['seconds']} s, "
          f"failures {pair['failures']})   CPU ms each: server {pair['cpu_ms']['server']}, "
          f"database {pair['cpu_ms']['database']}")
    print(f"\nsaved to {save('wallet', results).relative_to(ROOT)}")


if __name__ == "__main__":
    main()
