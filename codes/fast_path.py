"""The two hottest requests answered at the edge of the app, ahead of Flask's dispatch.

A phone asks for its code every few seconds, all day; a gate scans one every second at rush
hour. Taking those requests through Flask's dispatch, its request context and its dozen
hooks costs more than the work itself, so this WSGI middleware answers them first when it
can, with the routes' own checks and services, and hands everything else to the app
unchanged. It only ever answers what the route would have answered: the same status, body
and headers (``X-Request-Id`` included), counted in the metrics and logged as every request
is logged.

``GET /api/v1/me/code`` (``CODE_FAST_PATH``), with no query string, when:

1. the bearer token passes the routes' own check (``core.auth.bearer_claims``: the same
   per-worker cache of verified tokens, the sign-in read in Redis, so logout and revocation
   are immediate here as well) and is a resident's naming a code handle;
2. the cached code, read in the same ``MGET``, is usable (before ``refresh_after``, its key
   still published).

Anything else (no token, a bad or expired one, a sign-in ended, no usable cached code, Redis
failing) goes to the app, which answers as it always has: a problem, a new code, a 503.

``POST /api/v1/scans`` (``SCAN_FAST_PATH``), with no query string, a JSON body of at most
``_SCAN_BODY_MAX`` bytes, when:

1. the bearer token is a service point's and passes the route's check
   (``core.auth.check_client`` on its worker's snapshot, as the route does);
2. the body is plainly valid (``ScanRequestSchema.quick_load``, after the app's bounded JSON
   loader);
3. the scan is one the group commit writes (``codes.scans.scan_in_batch``: a person's own
   signed code; an offline code or a code shown for someone else is the route's, decided
   before anything is written or counted).

Then the scan is done as the route does it, and answered 201 after the commit that holds its
row. A scan refused on the way (any problem, or a failure such as the database down) is
answered by the app: the request goes to it with the refusal in its environ
(``refusal(environ)``), and the route raises that refusal instead of scanning again, so every
problem is rendered, translated and logged in one place, and no scan is done or counted
twice. The body, read only after the token passed, is handed to the app as it came.
"""
from __future__ import annotations

import io
import time

from flask import Flask

from core import clock, metrics, unit_of_work, untrusted_json
from core.auth import RESIDENT, SERVICE_POINT, bearer_claims, check_client
from core.logs import STARTED, log_request, request_id
from core.responses import dumps
from codes import scans, service
from codes.schemas import ScanRequestSchema

CODE_PATH = "/api/v1/me/code"
SCANS_PATH = "/api/v1/scans"
# A scan's body is about 250 bytes; anything much larger is the route's to refuse.
_SCAN_BODY_MAX = 4096
_REFUSAL = "onecode.scan_refusal"


class FastPaths:
    """The middleware: ``GET /me/code`` and ``POST /scans`` as the module says; every other
    request, and every one of those it cannot answer, goes to ``wsgi_app``."""

    def __init__(self, app: Flask, wsgi_app, code: bool, scans: bool):
        self.app = app
        self.wsgi_app = wsgi_app
        self.routes = {}
        if code:
            self.routes[("GET", CODE_PATH)] = self._my_code
        if scans:
            self.routes[("POST", SCANS_PATH)] = self._scan

    def __call__(self, environ, start_response):
        route = self.routes.get((environ.get("REQUEST_METHOD"), environ.get("PATH_INFO")))
        if route is None or environ.get("QUERY_STRING"):
            return self.wsgi_app(environ, start_response)
        return route(environ, start_response)

    def _my_code(self, environ, start_response):
        started = environ[STARTED] = time.perf_counter()  # the app times from here too
        with self.app.app_context():
            body = _cached_code(environ.get("HTTP_AUTHORIZATION", ""))
        if body is None:
            return self.wsgi_app(environ, start_response)
        return _answer(environ, start_response, started, "GET", CODE_PATH, "200 OK", body,
                       [("Cache-Control", "no-store")])

    def _scan(self, environ, start_response):
        started = environ[STARTED] = time.perf_counter()  # the app times from here too
        if not self.app.config["SCAN_GROUP_COMMIT"]:
            return self.wsgi_app(environ, start_response)  # every scan is the route's
        answer = None
        with self.app.app_context():
            taken = _scan_arguments(environ)
            if taken is not None:
                try:
                    result = scans.scan_in_batch(*taken)
                except Exception as refused:  # noqa: BLE001 - the app answers it (refusal())
                    environ[_REFUSAL] = refused
                else:
                    answer = None if result is None else dumps(result.as_body())
        if answer is None:
            return self.wsgi_app(environ, start_response)
        return _answer(environ, start_response, started, "POST", SCANS_PATH, "201 CREATED",
                       answer, [])


def refusal(environ) -> Exception | None:
    """The refusal of a scan that the fast path took and refused, for the route to raise
    (the app renders every problem); None for a request the fast path did not scan."""
    return environ.pop(_REFUSAL, None)


def _answer(environ, start_response, started: float, method: str, path: str, status: str,
            body: bytes, headers: list):
    given_id = request_id(environ.get("HTTP_X_REQUEST_ID", ""))
    start_response(status, [("Content-Type", "application/json"),
                            ("Content-Length", str(len(body))), *headers,
                            ("X-Request-Id", given_id)])
    seconds = time.perf_counter() - started
    code = int(status[:3])
    metrics.observe_request(path, method, code, seconds)
    log_request(given_id, method, path, code, seconds)
    return [body]


def _cached_code(authorization: str) -> bytes | None:
    """The route's answer when it is the cached code, else None (the app answers)."""
    try:
        claims, prefetched = bearer_claims(authorization, prefetch=service.my_code_keys)
        if claims.get("kind") != RESIDENT or not claims.get("h"):
            return None
        cached = service.decode_cached(prefetched[service.code_key(claims["h"])])
        if cached is None or not cached.usable(clock.timestamp()):
            return None
        return cached.answer
    except Exception:  # noqa: BLE001 - a bearer problem, Redis or the key store failing: the app answers
        return None


def _scan_arguments(environ) -> tuple | None:
    """The service point, code and purpose of a scan the fast path can take: its token
    passes the route's check (before the body is read, as in the app) and its body is
    plainly valid. None for anything else, which the route's check and schema answer (and
    the app's error handlers, for Redis failing)."""
    try:
        claims, _values = bearer_claims(environ.get("HTTP_AUTHORIZATION", ""))
        if claims.get("kind") != SERVICE_POINT:
            return None
        point = check_client(SERVICE_POINT, claims, cached=True)
        unit_of_work.release_if_read_only()  # no transaction held while the body comes
        body = _small_json_body(environ)
        data = None if body is None else ScanRequestSchema.quick_load(untrusted_json.loads(body))
    except Exception:  # noqa: BLE001 - problems and failures alike: the app answers
        return None
    return None if data is None else (point, data["code"], data["purpose"])


def _small_json_body(environ) -> bytes | None:
    """The body of a JSON request of at most ``_SCAN_BODY_MAX`` bytes, read whole and put
    back for the app; None (nothing read) for any other request."""
    mimetype = environ.get("CONTENT_TYPE", "").partition(";")[0].strip().lower()
    length = environ.get("CONTENT_LENGTH", "")
    if (mimetype != "application/json" or not length.isdigit()
            or not 0 < int(length) <= _SCAN_BODY_MAX or "HTTP_TRANSFER_ENCODING" in environ):
        return None  # a body framed any other way is the app's to read
    body = environ["wsgi.input"].read(int(length))
    environ["wsgi.input"] = io.BytesIO(body)
    return body if len(body) == int(length) else None


def install(app: Flask) -> None:
    """Put the fast paths in front of ``app`` (the factory calls this; ``CODE_FAST_PATH``,
    ``SCAN_FAST_PATH``)."""
    code, scan = app.config["CODE_FAST_PATH"], app.config["SCAN_FAST_PATH"]
    if code or scan:
        app.wsgi_app = FastPaths(app, app.wsgi_app, code, scan)
