"""Load benchmark of the partner apps' token endpoint under gunicorn on PostgreSQL + Redis.

    DATABASE_URL=postgresql://... REDIS_URL=redis://... .venv/bin/python bench/bench_oidc.py

The figure: authorization codes exchanged per second at POST /oauth/token, each exchange a
full one: the partner authenticated with HTTP Basic, the code spent (single use), PKCE S256
checked, an access and a refresh token stored, an RS256 ID token signed. The codes are
prepared in-process beforehand as the authorization endpoint stores them (one resident, one
partner, one PKCE verifier for all); wrk then spends each once (one slice of the codes per
wrk thread). Any answer but 200 counts in non-2xx. For scale, the same run measures the
discovery document (no database, no signature). Besides the rates it prints the CPU time the
server processes and the database spent per exchange, which other load on the machine
changes much less than the rate.

Works in a database of its own (``<db>_oidc_bench``) and Redis database 13, both emptied
first; saves the figures to bench/results/oidc.json.
"""
from __future__ import annotations

import argparse
import base64
import os
import secrets
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import ROOT, cpu_seconds, gunicorn, prepared_app, save, wrk  # noqa: E402

REDIRECT_URI = "https://partner.example/callback"

EXCHANGE_LUA = """
local threads = 0
function setup(thread)
  thread:set("id", threads)
  threads = threads + 1
end
function init(args)
  codes = {}
  local nthreads = tonumber(args[2])
  local i = 0
  for line in io.lines(args[1]) do
    if i % nthreads == id then codes[#codes + 1] = line end
    i = i + 1
  end
  auth, verifier, redirect = args[3], args[4], args[5]
  n = 0
end
function request()
  n = n + 1
  -- Past the last code a spent one is sent again: it answers 400 and shows in non-2xx.
  local code = codes[n] or codes[#codes]
  local body = "grant_type=authorization_code&code=" .. code .. "&redirect_uri=" .. redirect
               .. "&code_verifier=" .. verifier
  return wrk.format("POST", "/oauth/token", {["Authorization"] = "Basic " .. auth,
      ["Content-Type"] = "application/x-www-form-urlencoded"}, body)
end
"""


def _prepare_codes(app, count: int, challenge: str) -> tuple[dict, list[str]]:
    """One resident, one partner, and ``count`` codes waiting to be exchanged."""
    from core import clock
    from core.extensions import db
    from partners.models import AuthorizationCode, digest
    from partners.service import create_partner, grant_consent
    from partners.subjects import remember_subject
    from identity.service import register_resident
    from identity.id_numbers import make_id_number

    with app.app_context():
        person = register_resident("张三丰", make_id_number("110101", "19900307", 7),
                                   "13800000007", "bench-passphrase-long-enough-7")
        client, secret = create_partner("Bench partner", [REDIRECT_URI], ["profile", "phone"])
        grant_consent(person.id, client.client_id, client.scope)
        remember_subject(client, person.id)
        db.session.commit()
        # Long enough to outlast the run: the benchmark measures exchanges, not expiry.
        expires = clock.now() + timedelta(hours=1)
        codes = [secrets.token_urlsafe(36) for _ in range(count)]
        for start in range(0, count, 2000):
            db.session.add_all(AuthorizationCode(
                code_hash=digest(code), client_id=client.client_id, person_id=person.id,
                redirect_uri=REDIRECT_URI, scope="openid profile phone", nonce="bench-nonce",
                code_challenge=challenge, code_challenge_method="S256",
                auth_time=int(clock.timestamp()), acr="1", amr="pwd", expires_at=expires)
                for code in codes[start:start + 2000])
            db.session.commit()
        return {"client_id": client.client_id, "client_secret": secret}, codes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--codes", type=int, default=20000)
    parser.add_argument("--port", type=int, default=5089)
    args = parser.parse_args()

    app, env = prepared_app("oidc_bench", 13, PUBLIC_URL="http://127.0.0.1:%d" % args.port)
    verifier = secrets.token_urlsafe(48)
    from authlib.oauth2.rfc7636 import create_s256_code_challenge

    print(f"preparing {args.codes} codes ...", file=sys.stderr)
    partner, codes = _prepare_codes(app, args.codes, create_s256_code_challenge(verifier))
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as fh:
        fh.write("\n".join(codes))
        codes_file = fh.name
    basic = base64.b64encode(f"{partner['client_id']}:{partner['client_secret']}".encode()).decode()

    results = {}
    with gunicorn("wsgi:app", args.port, env) as base:
        import urllib.request

        # The first exchange makes the signing key; not part of the measurement.
        urllib.request.urlopen(f"{base}/oauth/jwks", timeout=30).read()
        results["discovery"] = wrk(f"{base}/.well-known/openid-configuration", seconds=5,
                                   connections=args.connections, threads=args.threads)
        started = time.perf_counter()
        cpu_before = cpu_seconds(args.port, "oidc_bench")
        results["exchange"] = wrk(f"{base}/oauth/token", seconds=args.seconds,
                                  connections=args.connections, threads=args.threads,
                                  script=EXCHANGE_LUA,
                                  script_args=[codes_file, str(args.threads), basic, verifier,
                                               quote(REDIRECT_URI, safe="")])
        results["exchange"]["wall_seconds"] = round(time.perf_counter() - started, 2)
        cpu_after = cpu_seconds(args.port, "oidc_bench")
        done = results["exchange"]["requests"]
        results["exchange"]["cpu_ms"] = {kind: round((cpu_after[kind] - cpu_before[kind]) * 1000
                                                     / max(done, 1), 2) for kind in cpu_before}
    os.unlink(codes_file)
    with app.app_context():
        from sqlalchemy import func, select

        from core.extensions import db
        from partners.models import OAuthToken

        results["exchange"]["tokens_stored"] = db.session.scalar(select(func.count(OAuthToken.id)))
    results["codes_prepared"] = args.codes

    ex, disc = results["exchange"], results["discovery"]
    print(f"\ngunicorn {env.get('WEB_CONCURRENCY', os.cpu_count() * 2)} workers, "
          f"{args.connections} connections, {args.threads} wrk threads, {os.cpu_count()} cores")
    print(f"code exchanges:   {ex['rps']:8.0f} /s   p50 {ex['p50_ms']:.1f} ms   "
          f"p99 {ex['p99_ms']:.1f} ms   non-2xx {ex['non_2xx']}   "
          f"(tokens stored {ex['tokens_stored']} of {ex['requests']} requests)")
    print(f"                  CPU ms each: server {ex['cpu_ms']['server']}, "
          f"database {ex['cpu_ms']['database']}")
    print(f"discovery:        {disc['rps']:8.0f} /s   p50 {disc['p50_ms']:.1f} ms   "
          f"p99 {disc['p99_ms']:.1f} ms")
    print(f"\nsaved to {save('oidc', results).relative_to(ROOT)}")


if __name__ == "__main__":
    main()
