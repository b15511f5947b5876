"""gunicorn settings for every way the app is served: `make run`, production, the benchmarks.

Read from the environment: PORT (default 5000), BIND (default 127.0.0.1:$PORT),
WEB_CONCURRENCY (worker processes when REDIS_URL is set; default two per core),
GUNICORN_THREADS (threads per worker, default 8), GUNICORN_REUSE_PORT (a listening
socket per worker, default 1), GUNICORN_READY_DIR (each worker marks
itself ready there: ``post_worker_init``), GUNICORN_MAX_REQUESTS (requests before a
worker is recycled, default 1,000,000), GUNICORN_CONTROL_SOCKET (a path for gunicorn's
control socket; unset, there is none), PROMETHEUS_MULTIPROC_DIR (where the workers' metrics
meet; unset, a fresh folder per server, removed when it stops), LOG_LEVEL.
"""
import multiprocessing
import os
import shutil
import tempfile

port = os.environ.get("PORT", "5000")
bind = os.environ.get("BIND", f"127.0.0.1:{port}")

if os.environ.get("REDIS_URL"):
    workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2))
else:
    # The embedded fakeredis lives inside one process: single use of a code, throttling and
    # revocation are only shared between requests that reach the same process.
    workers = 1

# gunicorn's control socket defaults to one path per user (~/.gunicorn/gunicorn.ctl), which
# every server of that user on the machine would share: a second server takes it over. Each
# server gets its own when asked for, else none.
if os.environ.get("GUNICORN_CONTROL_SOCKET"):
    control_socket = os.environ["GUNICORN_CONTROL_SOCKET"]
else:
    control_socket_disable = True

# Metrics: every worker writes its figures into one folder of this server's, and /metrics
# sums them (prometheus-client's multiprocess mode). Set before the workers import the app.
_OWN_METRICS_DIR = not os.environ.get("PROMETHEUS_MULTIPROC_DIR")
if _OWN_METRICS_DIR:
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="onecode-metrics-")

# Threads overlap the waits on PostgreSQL and Redis; the work itself is short. A thread that
# waits holds its connection's requests: a scan waits for its group commit (a few ms), a
# code for its Redis round trip. Eight keep a worker's CPU busy where four left it waiting
# (docs/PERFORMANCE.md: /me/code 46-51% -> 59-63% of bare, scans 105-122% -> 115-141% of
# the floor); each stays within the pool of 10 database connections of a worker.
worker_class = os.environ.get("GUNICORN_WORKER_CLASS", "gthread")
threads = int(os.environ.get("GUNICORN_THREADS", "8"))
timeout = 30
# On SIGTERM a worker stops accepting and finishes the requests in flight, for at most this.
graceful_timeout = 20
keepalive = 5
# Each worker listens on a socket of its own (SO_REUSEPORT), and the kernel spreads new
# connections evenly over them. On one shared socket, whichever worker woke first took the
# connections, and one worker could hold three quarters of a burst of keep-alive clients
# while the other idled (docs/PERFORMANCE.md). The price: another server started on the
# same port by the same user shares it instead of failing (docs/OPERATIONS.md).
# A unix socket cannot take SO_REUSEPORT: a server bound to one shares it (``on_starting``).
reuse_port = os.environ.get("GUNICORN_REUSE_PORT", "1") == "1"
# Each worker builds its own app: connection pools and Redis clients are not shared across fork.
preload_app = False
accesslog = None  # the app logs each request itself, as JSON without personal data
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info").lower()
# Workers are recycled after this many requests, against slow leaks. A recycled worker builds
# the app again and starts its face children (post_worker_init), a second or two of CPU; at
# 20,000 a busy worker was recycled every half minute or so, and the benchmarks showed it.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "1000000"))
max_requests_jitter = max_requests // 20


def on_starting(server):
    """Share one listening socket when any address is a unix socket (``BIND=unix:...`` or
    ``--bind``), which SO_REUSEPORT does not support: every worker would fail to bind."""
    if server.cfg.reuse_port and any(isinstance(a, str) for a in server.cfg.address):
        server.cfg.set("reuse_port", False)


def post_worker_init(worker):
    """Start this worker's face-analysis children now, in the background, so the first face
    request does not wait the second or two they take to load the models.

    With GUNICORN_READY_DIR set, each worker also leaves a file named by its pid there once
    its app is loaded: whoever starts the server (the benchmarks) can wait for every worker
    before sending load, so that no worker still booting misses its share of connections."""
    import threading

    # The app's own objects (routes, schemas, SQLAlchemy's metadata: a few hundred thousand)
    # live as long as the worker: moved out of the garbage collector's sight, a full
    # collection no longer walks them all, which otherwise stalls every thread of the worker
    # for tens of milliseconds now and then (the tail latency of every route).
    import gc

    gc.freeze()
    ready_dir = os.environ.get("GUNICORN_READY_DIR")
    if ready_dir:
        with open(os.path.join(ready_dir, str(worker.pid)), "w"):
            pass

    if "FACE_MAX_CONCURRENT" not in getattr(worker.wsgi, "config", {}):
        return  # not the OneCode app (the benchmarks' bare Flask baseline runs here too)

    def warm_up():
        try:
            with worker.wsgi.app_context():
                from identity.face import face_pool

                face_pool().warm_up()
        except Exception as exc:  # the face routes start them on first use instead
            if worker.alive:  # not when the worker is stopping meanwhile
                worker.log.warning("face children not started early: %s", type(exc).__name__)

    threading.Thread(target=warm_up, name="face-warm-up", daemon=True).start()


def worker_int(worker):
    """SIGINT/SIGQUIT: as on exit, the face children go first."""
    worker_exit(None, worker)


def worker_exit(server, worker):
    """Stop this worker's face children without waiting for them (a child still loading its
    models would otherwise hold the exit for seconds)."""
    app = getattr(worker, "wsgi", None)
    pool = getattr(app, "extensions", {}).get("face_pool") if app is not None else None
    if pool is not None:
        pool.stop()


def child_exit(server, worker):
    """A worker that exits leaves its live gauges out of the sums."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def on_exit(server):
    if _OWN_METRICS_DIR:
        shutil.rmtree(os.environ["PROMETHEUS_MULTIPROC_DIR"], ignore_errors=True)
