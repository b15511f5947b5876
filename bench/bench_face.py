"""Face benchmark: server time per face sign-in, and scans' p99 while face sign-ins run.

    DATABASE_URL=postgresql://... REDIS_URL=redis://... .venv/bin/python bench/bench_face.py

Under gunicorn with the repository's settings (two workers per core, four threads each), on
PostgreSQL and Redis, in a database of its own (``<db>_facebench``) and Redis database 14:

1. one face sign-in at a time (challenge, then the multipart login with another photo of the
   enrolled person and the proof of a device registered to the account): median and p95 of
   the login request's time. On loopback the client's time is the server's plus well under
   a millisecond. Target: median at most 300 ms.
2. POST /api/v1/scans alone with wrk (fresh code each request): p50/p99, the idle figure.
3. the same scans while ``--face-clients`` clients sign in with their faces back to back:
   scans' p99 (target: at most twice idle), and the face sign-ins' own times and 503s.

Saves the figures to bench/results/face.json. Photos come from tests/face/photos.
"""
from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import json
import os
import statistics
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.bench_server import SCANS_LUA  # noqa: E402
from bench.harness import ROOT, gunicorn, post, prepared_app, resident_data, save, wrk  # noqa: E402

FACES = ROOT / "tests" / "face" / "photos"
PURPOSE = "identity-check"
# (enrolled photo, photo to sign in with): the same person each time.
PAIRS = [("obama_1", "obama_2"), ("biden_1", "biden_2"), ("harington_1", "harington_2"),
         ("leslie_1", "leslie_2"), ("lacamoire_1", "lacamoire_2"), ("obama_2", "obama_3")]


def multipart(fields: dict, files: dict) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    parts = []
    for name, value in fields.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
                     f"{value}\r\n".encode())
    for name, (filename, data) in files.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; '
                     f'filename="{filename}"\r\nContent-Type: image/jpeg\r\n\r\n'.encode()
                     + data + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def send(url: str, method: str, body: bytes, content_type: str,
         token: str | None = None) -> tuple[int, bytes, float]:
    headers = {"Content-Type": content_type}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    req = urllib.request.Request(url, body, headers, method=method)
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(req, timeout=60) as resp:
            payload, status = resp.read(), resp.status
    except urllib.error.HTTPError as exc:
        payload, status = exc.read(), exc.code
    return status, payload, (time.perf_counter() - started) * 1000


def device_proof(secret: str, challenge: str) -> str:
    """The phone's proof: base64url, unpadded, of HMAC-SHA256 over the challenge."""
    digest = hmac.new(base64.b32decode(secret), challenge.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def face_login(base: str, username: str, photo: bytes, device: dict) -> tuple[int, float]:
    """One face sign-in with the device's proof; returns the login's status and milliseconds."""
    challenge = post(f"{base}/api/v1/auth/face/challenge", {"username": username})["challenge"]
    body, ctype = multipart({"username": username, "challenge": challenge,
                             "device_id": device["device_id"],
                             "device_proof": device_proof(device["secret"], challenge)},
                            {"image": ("face.jpg", photo)})
    status, _payload, ms = send(f"{base}/api/v1/auth/face/login", "POST", body, ctype)
    return status, ms


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))]


def analysis_cost(photos: dict, max_side: int) -> dict:
    """Decode, detect and encode in this process, one photo at a time: wall and CPU ms."""
    from identity.face_images import analyse

    analyse(photos["obama_1"], max_side=max_side)  # load the models
    wall, cpu = [], []
    for _ in range(3):
        for name in sorted(photos):
            w, c = time.perf_counter(), time.process_time()
            analyse(photos[name], max_side=max_side)
            wall.append((time.perf_counter() - w) * 1000)
            cpu.append((time.process_time() - c) * 1000)
    return {"n": len(wall), "median_wall_ms": statistics.median(wall),
            "median_cpu_ms": statistics.median(cpu), "p95_wall_ms": percentile(wall, 95)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--logins", type=int, default=60, help="sequential face sign-ins")
    parser.add_argument("--seconds", type=int, default=10, help="each wrk run")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--face-clients", type=int, default=2)
    parser.add_argument("--port", type=int, default=5079)
    args = parser.parse_args()

    photos = {p.stem: p.read_bytes() for p in FACES.glob("*.jpg")}
    if not photos:
        sys.exit(f"no photos in {FACES}")
    app, env = prepared_app("facebench", 14, CODE_TTL_SECONDS=60)
    from sqlalchemy import select

    from core.extensions import db
    created = app.test_cli_runner().invoke(
        args=["service-point", "create", "Bench counter", "--purpose", PURPOSE])
    service_point = json.loads(created.output)
    results: dict = {"settings": {k: app.config[k] for k in app.config if k.startswith("FACE_")}}
    results["analysis"] = analysis_cost(photos, app.config["FACE_MAX_SIDE"])

    with gunicorn("wsgi:app", args.port, env) as base:
        people = []
        for i, (enrolled, probe) in enumerate(PAIRS):
            person = resident_data(i)
            post(f"{base}/api/v1/residents", person)
            token = post(f"{base}/api/v1/auth/login",
                         {"username": person["phone"], "password": person["password"]})["access_token"]
            body, ctype = multipart({"consent": "true", "password": person["password"]},
                                    {"image": ("face.jpg", photos[enrolled])})
            status, payload, _ms = send(f"{base}/api/v1/me/face", "PUT", body, ctype, token)
            if status != 204:
                sys.exit(f"enrolment answered {status}: {payload[:300]!r}")
            device = post(f"{base}/api/v1/me/devices", {}, token)  # the phone's second factor
            people.append((person["phone"], photos[probe], device))

        # Warm up: every worker starts its face child (loading the models) on first use.
        warm = [threading.Thread(target=face_login, args=(base, *people[i % len(people)]))
                for i in range(8)]
        for t in warm:
            t.start()
        for t in warm:
            t.join()

        print(f"{args.logins} face sign-ins, one at a time ...", file=sys.stderr)
        times, failures = [], 0
        for i in range(args.logins):
            status, ms = face_login(base, *people[i % len(people)])
            failures += status != 200
            times.append(ms)
        results["load_average"] = os.getloadavg()
        results["face_login"] = {"n": len(times), "median_ms": statistics.median(times),
                                 "p95_ms": percentile(times, 95), "non_200": failures}

        sp_token = post(f"{base}/api/v1/service-points/token", service_point)["access_token"]
        with app.app_context():
            from codes.service import issue_code
            from identity.models import Person

            handles = db.session.scalars(select(Person.handle)).all()
            codes = [issue_code(handles[i % len(handles)]).code for i in range(60000)]
        with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as fh:
            fh.write("\n".join(codes))
            codes_file = fh.name
        half = len(codes) // 2

        def scans(offset: int) -> dict:
            with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as part:
                part.write("\n".join(codes[offset:offset + half]))
            try:
                return wrk(f"{base}/api/v1/scans", seconds=args.seconds,
                           connections=args.connections, script=SCANS_LUA,
                           script_args=[part.name, sp_token, "2"])
            finally:
                os.unlink(part.name)

        print("scans alone ...", file=sys.stderr)
        results["scans_idle"] = scans(0)

        print(f"scans with {args.face_clients} clients signing in by face ...", file=sys.stderr)
        stop = threading.Event()
        busy_times, busy_status = [], []

        def face_client(k: int) -> None:
            i = k
            while not stop.is_set():
                status, ms = face_login(base, *people[i % len(people)])
                busy_times.append(ms)
                busy_status.append(status)
                i += args.face_clients

        clients = [threading.Thread(target=face_client, args=(k,)) for k in range(args.face_clients)]
        for t in clients:
            t.start()
        time.sleep(1)
        results["scans_with_faces"] = scans(half)
        stop.set()
        for t in clients:
            t.join()
        os.unlink(codes_file)
        ok = [ms for ms, s in zip(busy_times, busy_status) if s == 200]
        results["face_login_under_load"] = {
            "n": len(busy_times), "ok": len(ok), "service_unavailable": busy_status.count(503),
            "median_ms": statistics.median(ok) if ok else None,
            "p95_ms": percentile(ok, 95) if ok else None}

    idle, loaded = results["scans_idle"], results["scans_with_faces"]
    results["scan_p99_ratio"] = loaded["p99_ms"] / idle["p99_ms"] if idle["p99_ms"] else None
    f, u, a = results["face_login"], results["face_login_under_load"], results["analysis"]
    print(f"\none photo analysed in-process: median {a['median_wall_ms']:.0f} ms "
          f"({a['median_cpu_ms']:.0f} ms CPU), p95 {a['p95_wall_ms']:.0f} ms")
    print(f"face sign-in, one at a time: median {f['median_ms']:.0f} ms, p95 {f['p95_ms']:.0f} ms "
          f"({f['n']} sign-ins, {f['non_200']} not 200; target median <= 300 ms)")
    print(f"POST /scans alone:           {idle['rps']:.0f} req/s, p50 {idle['p50_ms']:.2f} ms, "
          f"p99 {idle['p99_ms']:.2f} ms")
    print(f"POST /scans with face logins: {loaded['rps']:.0f} req/s, p50 {loaded['p50_ms']:.2f} ms, "
          f"p99 {loaded['p99_ms']:.2f} ms (x{results['scan_p99_ratio']:.2f} of idle; target <= x2)")
    print(f"face sign-ins meanwhile:     {u['ok']} ok, {u['service_unavailable']} answered 503, "
          f"median {u['median_ms'] or 0:.0f} ms, p95 {u['p95_ms'] or 0:.0f} ms")
    print(f"\nsaved to {save('face', results).relative_to(ROOT)}")


if __name__ == "__main__":
    main()
