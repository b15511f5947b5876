"""The server as operators run it: gunicorn with the repository's settings. Two servers on
one machine share no control socket, /metrics sums every worker, SIGTERM stops a server
promptly (its face children included), and a worker killed mid-load loses no scan it
answered 201 for. On the embedded defaults the servers use a SQLite file; with
DATABASE_URL and REDIS_URL set, a PostgreSQL database of their own and the Redis (or Redis
Cluster) the suite runs on."""
from __future__ import annotations

import base64
import http.client
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent

pytestmark = pytest.mark.xdist_group("gunicorn")  # servers are heavy: one worker runs them


_SERVICES: dict = {}


def _services(tmp_path: Path, request) -> dict:
    """Where the servers keep their data: a SQLite file, or on real services a PostgreSQL
    database of their own (dropped at the end) and this test worker's Redis database."""
    from tests.conftest import _postgres_test_url, _redis_test_url, _worker_number

    database_url = os.environ.get("DATABASE_URL")
    worker = _worker_number(request.config)
    if not database_url:
        return {"DATABASE_URL": f"sqlite:///{tmp_path / 'server.db'}"}
    found = {"DATABASE_URL": _postgres_test_url(database_url, worker, request, "gunicorn")}
    if os.environ.get("REDIS_URL"):
        found["REDIS_URL"] = _redis_test_url(os.environ["REDIS_URL"], worker)
        for name in ("REDIS_CLUSTER", "REDIS_JOBS_URL"):
            if os.environ.get(name):
                found[name] = os.environ[name]
    return found


def _env(tmp_path: Path) -> dict:
    env = {key: value for key, value in os.environ.items()
           if key not in ("DATABASE_URL", "REDIS_URL", "PROMETHEUS_MULTIPROC_DIR",
                          "GUNICORN_CONTROL_SOCKET", "XDG_RUNTIME_DIR", "REDIS_CLUSTER",
                          "REDIS_JOBS_URL")}
    env.update({
        "HOME": str(tmp_path / "home"),
        **_SERVICES.get(str(tmp_path), {"DATABASE_URL": f"sqlite:///{tmp_path / 'server.db'}"}),
        "SECRET_KEY": "server-test-secret-" + "s" * 32,
        "ENCRYPTION_KEY": base64.b64encode(b"e" * 32).decode(),
        "LOG_LEVEL": "WARNING",
        "FACE_MAX_CONCURRENT": "1",
    })
    (tmp_path / "home").mkdir(exist_ok=True)
    return env


@pytest.fixture(scope="module")
def migrated(tmp_path_factory, request):
    tmp_path = tmp_path_factory.mktemp("server")
    _SERVICES[str(tmp_path)] = _services(tmp_path, request)
    env = _env(tmp_path)
    subprocess.run([str(BIN / "flask"), "--app", "wsgi", "db", "upgrade"], cwd=ROOT, env=env,
                   check=True, capture_output=True, timeout=120)
    return tmp_path


class Server:
    def __init__(self, tmp_path: Path, port: int, workers: int, **extra_env):
        self.port = port
        self.log = tmp_path / f"gunicorn-{port}.log"
        env = {**_env(tmp_path), **extra_env}
        self.process = subprocess.Popen(
            [str(BIN / "gunicorn"), "-c", "gunicorn.conf.py", "-w", str(workers),
             "--bind", f"127.0.0.1:{port}", "wsgi:app"],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=self.log.open("w"))
        deadline = time.monotonic() + 90
        while True:
            try:
                if self.get("/healthz")[0] == 200:
                    return
            except OSError:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise AssertionError(f"server did not start:\n{self.log.read_text()[-2000:]}")
            time.sleep(0.2)

    def get(self, path: str) -> tuple[int, str]:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}", timeout=10) as r:
            return r.status, r.read().decode()

    def stop(self) -> float:
        started = time.monotonic()
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return time.monotonic() - started


def _healthz_count(text: str) -> float:
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if (sample.name == "onecode_http_requests_total"
                    and sample.labels.get("route") == "/healthz"
                    and sample.labels.get("status") == "200"):
                return sample.value
    return 0.0


def test_metrics_add_up_over_the_workers(migrated, free_tcp_port_factory):
    metrics_dir = migrated / "metrics"
    metrics_dir.mkdir()
    server = Server(migrated, free_tcp_port_factory(), workers=2,
                    PROMETHEUS_MULTIPROC_DIR=str(metrics_dir))
    try:
        for _ in range(40):
            assert server.get("/healthz")[0] == 200
        # Every scrape, whichever worker answers it, sees the sum over both.
        counts = {_healthz_count(server.get("/metrics")[1]) for _ in range(6)}
        # Plus the one start-up probe that found the server up (Server waits for a 200).
        assert counts == {41.0}
        writers = {path.stem.rsplit("_", 1)[-1] for path in metrics_dir.glob("*.db")}
        assert len(writers) >= 2, writers  # both workers wrote figures
    finally:
        server.stop()


def _listening_sockets(port: int) -> int:
    """How many TCP sockets listen on 127.0.0.1:``port`` (``/proc/net/tcp``, state 0A)."""
    wanted = f"0100007F:{port:04X}"
    lines = Path("/proc/net/tcp").read_text().splitlines()[1:]
    return sum(1 for line in lines if line.split()[1] == wanted and line.split()[3] == "0A")


def test_each_worker_listens_on_a_socket_of_its_own(migrated, free_tcp_port_factory):
    # SO_REUSEPORT: the kernel spreads new connections over the workers' sockets, instead
    # of the first worker to wake taking them all from one shared socket.
    port = free_tcp_port_factory()
    server = Server(migrated, port, workers=2)
    try:
        deadline = time.monotonic() + 30
        while _listening_sockets(port) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)  # the second worker may still be loading the app
        assert _listening_sockets(port) == 2
    finally:
        server.stop()
    shared = Server(migrated, free_tcp_port_factory(), workers=2, GUNICORN_REUSE_PORT="0")
    try:
        assert _listening_sockets(shared.port) == 1
    finally:
        shared.stop()


def test_a_server_bound_to_a_unix_socket_serves(migrated):
    # SO_REUSEPORT does not exist for unix sockets: such a server shares one listening socket.
    import http.client
    import socket

    path = migrated / "web.sock"

    class UnixConnection(http.client.HTTPConnection):
        def connect(self):
            self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self.sock.settimeout(10)
            self.sock.connect(str(path))

    process = subprocess.Popen(
        [str(BIN / "gunicorn"), "-c", "gunicorn.conf.py", "-w", "2", "--bind", f"unix:{path}",
         "wsgi:app"], cwd=ROOT, env=_env(migrated), stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL)
    try:
        deadline, status = time.monotonic() + 60, None
        while status != 200 and process.poll() is None and time.monotonic() < deadline:
            try:
                connection = UnixConnection("localhost")
                connection.request("GET", "/healthz")
                status = connection.getresponse().status
                connection.close()
            except OSError:
                time.sleep(0.2)  # not listening yet
        assert status == 200, process.poll()
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)


def test_two_servers_share_no_control_socket(migrated, free_tcp_port_factory):
    home = migrated / "home"
    first = Server(migrated, free_tcp_port_factory(), workers=1)
    second = Server(migrated, free_tcp_port_factory(), workers=1)
    try:
        assert first.get("/healthz")[0] == 200
        assert second.get("/healthz")[0] == 200
        assert not (home / ".gunicorn").exists()  # gunicorn's shared default is not used
    finally:
        first.stop()
        second.stop()


def test_a_server_asked_for_a_control_socket_keeps_its_own(migrated, free_tcp_port_factory):
    own = migrated / "own.ctl"
    server = Server(migrated, free_tcp_port_factory(), workers=1,
                    GUNICORN_CONTROL_SOCKET=str(own))
    try:
        deadline = time.monotonic() + 10
        while not own.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert own.exists()
    finally:
        server.stop()


def test_sigterm_stops_the_server_promptly_with_its_face_children(migrated,
                                                                   free_tcp_port_factory):
    server = Server(migrated, free_tcp_port_factory(), workers=2)
    assert server.get("/healthz")[0] == 200
    took = server.stop()
    log = server.log.read_text()
    assert server.process.returncode == 0, log[-2000:]
    assert took < 15, log[-2000:]  # a face child still loading its models is not waited for
    assert "not started early" not in log
    assert "Traceback" not in log


def _post(server: Server, path: str, body: dict, token: str | None = None) -> tuple[int, dict]:
    import json

    request = urllib.request.Request(
        f"http://127.0.0.1:{server.port}{path}", data=json.dumps(body).encode(), method="POST",
        headers={"Content-Type": "application/json",
                 **({"Authorization": f"Bearer {token}"} if token else {})})
    try:
        with urllib.request.urlopen(request, timeout=30) as r:
            return r.status, json.loads(r.read() or b"{}")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


def _workers(master: int) -> list[int]:
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    return [int(pid) for pid in children]


def test_a_killed_worker_loses_no_accepted_scan(migrated, free_tcp_port_factory):
    import json
    from concurrent.futures import ThreadPoolExecutor

    from tests.helpers import registration_data

    env = _env(migrated)
    created = subprocess.run(
        [str(BIN / "flask"), "--app", "wsgi", "service-point", "create", "Gate",
         "--purpose", "identity-check"], cwd=ROOT, env=env, check=True, capture_output=True,
        text=True, timeout=120)
    point = json.loads(created.stdout)
    server = Server(migrated, free_tcp_port_factory(), workers=1,
                    REGISTRATIONS_PER_ADDRESS="1000")
    try:
        codes = []
        for i in range(40):
            person = registration_data()
            assert _post(server, "/api/v1/residents", person)[0] == 201
            status, tokens = _post(server, "/api/v1/auth/login",
                                   {"username": person["phone"], "password": person["password"]})
            request = urllib.request.Request(
                f"http://127.0.0.1:{server.port}/api/v1/me/code",
                headers={"Authorization": f"Bearer {tokens['access_token']}"})
            with urllib.request.urlopen(request, timeout=30) as r:
                codes.append(json.loads(r.read())["code"])
        token = _post(server, "/api/v1/service-points/token", point)[1]["access_token"]
        accepted, other = [], []
        killed = threading.Event()

        def scan_one(code):
            if len(accepted) >= 8 and not killed.is_set():
                killed.set()
                for pid in _workers(server.process.pid):
                    os.kill(pid, signal.SIGKILL)  # mid-load, requests in flight
            try:
                status, body = _post(server, "/api/v1/scans",
                                     {"code": code, "purpose": "identity-check"}, token)
            except (OSError, http.client.HTTPException):
                other.append("connection lost")
                return
            (accepted if status == 201 else other).append(body.get("scan_id") or status)

        with ThreadPoolExecutor(max_workers=4) as pool:
            list(pool.map(scan_one, codes))
        assert killed.is_set()
        assert len(accepted) >= 8
        from sqlalchemy import create_engine, text

        engine = create_engine(env["DATABASE_URL"].replace("postgresql://",
                                                           "postgresql+psycopg://", 1))
        with engine.connect() as database:
            recorded = {row[0] for row in database.execute(text("SELECT id FROM scans"))}
        engine.dispose()
        assert set(accepted) <= recorded  # every 201 has its durable record
    finally:
        server.stop()


def test_sigterm_lets_a_request_in_flight_finish(migrated, free_tcp_port_factory):
    import json

    from tests.helpers import registration_data

    env = _env(migrated)
    point = json.loads(subprocess.run(
        [str(BIN / "flask"), "--app", "wsgi", "service-point", "create", "Slow gate",
         "--purpose", "identity-check"], cwd=ROOT, env=env, check=True, capture_output=True,
        text=True, timeout=120).stdout)
    # A batch that waits 1.5 s for company: the scan is in flight when SIGTERM comes.
    server = Server(migrated, free_tcp_port_factory(), workers=1, SCAN_BATCH_WAIT_MS="1500",
                    REGISTRATIONS_PER_ADDRESS="1000")
    try:
        person = registration_data()
        assert _post(server, "/api/v1/residents", person)[0] == 201
        tokens = _post(server, "/api/v1/auth/login",
                       {"username": person["phone"], "password": person["password"]})[1]
        request = urllib.request.Request(
            f"http://127.0.0.1:{server.port}/api/v1/me/code",
            headers={"Authorization": f"Bearer {tokens['access_token']}"})
        with urllib.request.urlopen(request, timeout=30) as r:
            code = json.loads(r.read())["code"]
        token = _post(server, "/api/v1/service-points/token", point)[1]["access_token"]
        answer = {}
        scanning = threading.Thread(target=lambda: answer.update(result=_post(
            server, "/api/v1/scans", {"code": code, "purpose": "identity-check"}, token)))
        scanning.start()
        time.sleep(0.5)
        server.process.send_signal(signal.SIGTERM)
        scanning.join(timeout=20)
        assert answer["result"][0] == 201, answer
        assert server.process.wait(timeout=30) == 0
    finally:
        server.stop()


def test_sigterm_stops_the_job_worker_promptly(migrated):
    # On the embedded defaults the worker listens on an in-process fakeredis: what is tested
    # is its way out, which is the same.
    log = migrated / "jobs.log"
    worker = subprocess.Popen([str(BIN / "flask"), "--app", "wsgi", "jobs", "work"], cwd=ROOT,
                              env={**_env(migrated), "LOG_LEVEL": "INFO"},
                              stdout=subprocess.DEVNULL, stderr=log.open("w"))
    try:
        deadline = time.monotonic() + 60
        while "Listening on" not in log.read_text():
            assert worker.poll() is None and time.monotonic() < deadline, log.read_text()[-2000:]
            time.sleep(0.2)
        started = time.monotonic()
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=30)
        assert time.monotonic() - started < 10, log.read_text()[-2000:]
        assert worker.returncode == 0, log.read_text()[-2000:]
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
