"""What the load benchmarks share: a fresh database, gunicorn servers, wrk and its figures.

Load comes from wrk (Debian's package) on the same machine, so server and load generator
share its two cores; the ratio to the bare endpoint measured in the same run is the figure
to compare across machines.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON_BIN = Path(sys.executable).parent


def require_services() -> tuple[str, str]:
    database_url, redis_url = os.environ.get("DATABASE_URL"), os.environ.get("REDIS_URL")
    if not database_url or not redis_url:
        sys.exit("set DATABASE_URL and REDIS_URL: the load benchmarks run on PostgreSQL and Redis")
    if not shutil.which("wrk"):
        sys.exit("wrk is missing: apt-get install -y wrk")
    return database_url, redis_url


def fresh_database(base_url: str, suffix: str) -> str:
    """An empty database beside the one in ``base_url``, for this benchmark alone."""
    import psycopg
    from sqlalchemy.engine import make_url

    url = make_url(base_url.replace("postgres://", "postgresql://", 1))
    name = f"{url.database}_{suffix}"
    with psycopg.connect(url.set(drivername="postgresql").render_as_string(hide_password=False),
                         autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return url.set(database=name).render_as_string(hide_password=False)


def prepared_app(database_suffix: str, redis_db: int, **extra_env):
    """A fresh database (``<db>_<suffix>``) and an emptied Redis database for one benchmark,
    the schema migrated; returns the app and the environment its servers get."""
    from urllib.parse import urlsplit, urlunsplit

    database_url, redis_url = require_services()
    redis_bench = urlunsplit(urlsplit(redis_url)._replace(path=f"/{redis_db}"))
    env = bench_env(fresh_database(database_url, database_suffix), redis_bench, **extra_env)
    os.environ.update(env)

    import redis
    from flask_migrate import upgrade

    redis.Redis.from_url(redis_bench).flushdb()
    from app import create_app

    app = create_app()
    with app.app_context():
        upgrade()
    return app, env


def _processes(port: int, database_suffix: str):
    """(kind, pid, fields of /proc/<pid>/stat after the name) of the gunicorn processes
    serving ``port`` (kind "server") and of the backends of the benchmark's database
    ("database")."""
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
            if "gunicorn" in cmdline:
                environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
                kind = "server" if f"PORT={port}".encode() in environ else None
            else:
                kind = "database" if database_suffix in cmdline and "postgres" in cmdline else None
            if kind:
                yield kind, int(pid), Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue


def cpu_seconds(port: int, database_suffix: str) -> dict:
    """CPU seconds used so far by the gunicorn processes serving ``port`` and by the database
    backends of the benchmark's database: a cost per request that other load on the machine
    changes much less than requests per second."""
    totals = {"server": 0.0, "database": 0.0}
    tick = os.sysconf("SC_CLK_TCK")
    for kind, _pid, fields in _processes(port, database_suffix):
        totals[kind] += (int(fields[11]) + int(fields[12])) / tick
    return totals


def worker_pids(port: int) -> list[int]:
    """The gunicorn workers serving ``port`` (the master's children)."""
    parents = {pid: int(fields[1]) for kind, pid, fields in _processes(port, "")
               if kind == "server"}
    return sorted(pid for pid, parent in parents.items() if parent in parents)


def cpu_ms_per(before: dict, after: dict, operations: int) -> dict:
    return {kind: round((after[kind] - before[kind]) * 1000 / max(operations, 1), 2) for kind in before}


def post(url: str, body: dict, token: str | None = None) -> dict:
    """POST JSON and return the JSON answer; a refusal ends the benchmark with its body."""
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    req = urllib.request.Request(url, json.dumps(body).encode(), headers)
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return json.loads(resp.read() or b"{}")
    except urllib.error.HTTPError as exc:
        sys.exit(f"{url} answered {exc.code}: {exc.read().decode()[:500]}")


def resident_data(i: int, born_from: int = 1980, years: int = 30) -> dict:
    """A registration body for the ``i``-th benchmark resident, born in one of ``years`` years
    from ``born_from``."""
    from datetime import date

    from identity.id_numbers import make_id_number

    return {"name": "测试" + chr(0x4E00 + i),
            "id_number": make_id_number("110101", date(born_from + i % years, 1 + i % 12, 1 + i % 28),
                                        i % 1000),
            "phone": f"139{i:08d}", "password": f"bench-passphrase-{i}-long"}


def bench_env(database_url: str, redis_url: str, **extra) -> dict:
    env = dict(os.environ)
    env.update({
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "SECRET_KEY": env.get("SECRET_KEY") or "bench-secret-key-" + "b" * 32,
        "ENCRYPTION_KEY": env.get("ENCRYPTION_KEY") or "YmVuY2gtZW5jcnlwdGlvbi1rZXktMzItYnl0ZXMhISE=",
        "LOG_LEVEL": "WARNING",
        # The benchmarks register their residents from one address.
        "REGISTRATIONS_PER_ADDRESS": "1000000",
    })
    env.update({k: str(v) for k, v in extra.items()})
    return env


@contextmanager
def gunicorn(app_spec: str, port: int, env: dict):
    """Serve ``app_spec`` with the repository's gunicorn.conf.py until the block ends, once
    every worker has loaded the app (a worker still booting when wrk opens its connections
    would get none of them, and the run would measure one worker)."""
    ready_dir = tempfile.mkdtemp(prefix="gunicorn-ready-")
    env = dict(env, PORT=str(port), GUNICORN_READY_DIR=ready_dir)
    # As gunicorn.conf.py counts them.
    workers = (int(env.get("WEB_CONCURRENCY", os.cpu_count() * 2)) if env.get("REDIS_URL")
               else 1)
    proc = subprocess.Popen(
        [str(PYTHON_BIN / "gunicorn"), "-c", str(ROOT / "gunicorn.conf.py"), app_spec],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/nothing-here", timeout=1)
            except urllib.error.HTTPError:
                # Any HTTP answer means a worker serves; then wait for all of them.
                if len(os.listdir(ready_dir)) >= workers:
                    break
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("gunicorn's workers did not all start")
                time.sleep(0.2)
                continue
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("gunicorn did not start: " + proc.stderr.read().decode()[-2000:])
                time.sleep(0.2)
        yield f"http://127.0.0.1:{port}"
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
        shutil.rmtree(ready_dir, ignore_errors=True)


@contextmanager
def job_worker(env: dict):
    """A job worker beside gunicorn, as production runs one (audit seals, policy jobs)."""
    proc = subprocess.Popen(
        [str(PYTHON_BIN / "flask"), "--app", "wsgi", "jobs", "work"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL, start_new_session=True,
    )
    try:
        yield proc
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)


# wrk: GET with the bearer token of a random line of the file given as the script's argument.
TOKENS_LUA = """
local tokens = {}
function init(args)
  for line in io.lines(args[1]) do tokens[#tokens + 1] = line end
  math.randomseed(os.time() + math.floor(os.clock() * 1000000))
end
function request()
  local token = tokens[math.random(#tokens)]
  return wrk.format("GET", nil, {["Authorization"] = "Bearer " .. token})
end
"""


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def _ms(text: str) -> float:
    match = re.match(r"([\d.]+)(us|ms|s)", text)
    return float(match.group(1)) * _UNITS[match.group(2)]


def wrk(url: str, *, seconds: int = 10, connections: int = 32, threads: int = 2,
        script: str | None = None, script_args: list[str] | None = None,
        headers: dict | None = None) -> dict:
    """Run wrk and return requests/s, p50/p99 in ms, and counts of non-2xx answers."""
    cmd = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency"]
    for name, value in (headers or {}).items():
        cmd += ["-H", f"{name}: {value}"]
    script_file = None
    if script:
        script_file = tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False)
        script_file.write(script)
        script_file.close()
        cmd += ["-s", script_file.name]
    cmd.append(url)
    if script_args:
        cmd += ["--"] + script_args
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    if script_file:
        os.unlink(script_file.name)
    result = {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        "p50_ms": _ms(re.search(r"\s50%\s+(\S+)", out).group(1)),
        "p99_ms": _ms(re.search(r"\s99%\s+(\S+)", out).group(1)),
        "requests": int(re.search(r"(\d+) requests in", out).group(1)),
    }
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    result["non_2xx"] = int(non2xx.group(1)) if non2xx else 0
    return result


def connections_per_worker(port: int) -> list[int]:
    """How many established connections to ``port`` each process holds (``ss``), fewest
    first: which worker takes which of wrk's connections is up to the kernel (one socket a
    worker, ``reuse_port``) or a race (one shared socket)."""
    out = subprocess.run(["ss", "-tnpH", "state", "established", f"( sport = :{port} )"],
                         capture_output=True, text=True).stdout
    counts: dict[str, int] = {}
    for pid in re.findall(r"pid=(\d+)", out):
        counts[pid] = counts.get(pid, 0) + 1
    return sorted(counts.values())


def wrk_spread(url: str, port: int, workers: int, least: int, options, attempts: int = 3) -> dict:
    """``wrk`` with ``options(attempt)`` (wrk's keyword arguments; fresh codes each try, for
    instance), run again (up to ``attempts`` times) while some worker holds fewer than
    ``least`` of its connections: a worker with fewer connections than threads cannot use
    them all, and the run would measure how the connections fell rather than the app. The result
    says how the connections were spread (``spread``) and how many tries it took."""
    import threading

    for attempt in range(1, attempts + 1):
        found: dict = {}
        chosen = options(attempt)
        # Right after a run, the workers are still closing its connections, and the next
        # run's connections went to one of them far more often; a second apart, seldom.
        time.sleep(1)
        runner = threading.Thread(target=lambda: found.update(wrk(url, **chosen)))
        runner.start()
        time.sleep(min(1.5, chosen.get("seconds", 10) / 4))  # wrk has opened its connections
        spread = connections_per_worker(port)
        runner.join()
        spread = [0] * (workers - len(spread)) + spread
        found.update(spread=spread, tries=attempt)
        if spread[0] >= least:
            break
    return found


def print_table(rows: list[tuple[str, dict]], baseline: dict) -> None:
    print(f"{'endpoint':<34}{'req/s':>10}{'p50 ms':>9}{'p99 ms':>9}{'vs bare':>9}{'non-2xx':>9}")
    for name, r in rows:
        ratio = r["rps"] / baseline["rps"] if baseline["rps"] else 0
        print(f"{name:<34}{r['rps']:>10.0f}{r['p50_ms']:>9.2f}{r['p99_ms']:>9.2f}"
              f"{ratio:>8.0%}{r['non_2xx']:>9}")


def save(name: str, data: dict) -> Path:
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    path = out / f"{name}.json"
    path.write_text(json.dumps(data, indent=2))
    return path
