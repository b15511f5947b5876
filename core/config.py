"""Every setting the application reads, once, with its type and its default.

The environment is read in ``Config.from_env``; tests pass a mapping of overrides instead.
"""
from __future__ import annotations

import base64
import json
import logging
import os
import secrets
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

log = logging.getLogger(__name__)

INSTANCE_DIR = Path(__file__).resolve().parent.parent / "instance"


class ConfigError(RuntimeError):
    """The configuration cannot be used; the message says which setting and why."""


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw in (None, ""):
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be an integer, got {raw!r}") from exc


def _float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    if raw in (None, ""):
        return default
    try:
        return float(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be a number, got {raw!r}") from exc


def _bool(name: str, default: bool) -> bool:
    raw = (os.environ.get(name) or "").strip().lower()
    if raw == "":
        return default
    if raw in ("1", "true", "yes", "on"):
        return True
    if raw in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"{name} must be true or false, got {raw!r}")


def _str(name: str, default: str | None = None) -> str | None:
    raw = os.environ.get(name)
    return default if raw in (None, "") else raw


@dataclass(frozen=True)
class Config:
    # Storage. None means the embedded defaults: SQLite in instance/ and in-process fakeredis.
    DATABASE_URL: str | None = None
    REDIS_URL: str | None = None
    # REDIS_URL names one node of a Redis Cluster.
    REDIS_CLUSTER: bool = False
    # The job queue's Redis (RQ needs one server, not a cluster); unset, REDIS_URL's.
    REDIS_JOBS_URL: str | None = None
    # How long a new PostgreSQL connection may take before the request answers 503.
    DATABASE_CONNECT_TIMEOUT_SECONDS: int = 3
    # /readyz waits at most this long for PostgreSQL and Redis (then names them down).
    READY_TIMEOUT_SECONDS: float = 2.0
    # Secrets. SECRET_KEY signs session tokens; ENCRYPTION_KEY (32 bytes, base64) encrypts data at rest.
    SECRET_KEY: str | None = None
    ENCRYPTION_KEY: str | None = None
    # The code.
    CODE_TTL_SECONDS: int = 30
    CODE_LEEWAY_SECONDS: int = 5
    DEVICE_CODE_PERIOD_SECONDS: int = 30
    SCAN_TTL_SECONDS: int = 600
    # Group commit of scans on PostgreSQL (codes/scan_writer.py): rows of concurrent scans in
    # one statement and one commit. A batch waits at most this long for more rows, holds at
    # most this many; a request waits at most this long for its commit, then answers 503.
    SCAN_GROUP_COMMIT: bool = True
    SCAN_BATCH_WAIT_MS: float = 2.0
    SCAN_BATCH_MAX: int = 64
    SCAN_COMMIT_TIMEOUT_SECONDS: float = 5.0
    # GET /me/code answered from Redis, and POST /scans, ahead of Flask when they can be
    # (codes/fast_path.py).
    CODE_FAST_PATH: bool = True
    SCAN_FAST_PATH: bool = True
    # The audit chain: with a real queue, writers within one window share one seal job.
    # A seal job per window: each costs the job worker a fixed few milliseconds (RQ, the
    # chain head), so a longer window costs less per entry; entries wait at most this long.
    AUDIT_SEAL_WINDOW_MS: int = 1000
    # Tokens.
    ACCESS_TOKEN_SECONDS: int = 900
    REFRESH_TOKEN_SECONDS: int = 30 * 24 * 3600
    CLIENT_TOKEN_SECONDS: int = 3600
    # How old the scan route's snapshot of a service point may be (core/clients.py).
    CLIENT_SNAPSHOT_SECONDS: float = 1.0
    # Verified tokens whose claims each worker keeps (app.auth.decode_token).
    TOKEN_CACHE_SIZE: int = 10_000
    # The home screen is cached per person until something on it changes (app.changes), and
    # at most this long; 0 turns the cache off.
    HOME_CACHE_SECONDS: int = 300
    # Passwords: argon2id cost, at least OWASP's minimum (19 MiB, 2 passes, 1 lane).
    ARGON2_MEMORY_KIB: int = 19456
    ARGON2_TIME_COST: int = 2
    ARGON2_PARALLELISM: int = 1
    PASSWORD_MAX_LENGTH: int = 256
    # Registrations one client address may try per window (each costs a password hash, and
    # an answer tells whether an ID number or phone is taken).
    REGISTRATIONS_PER_ADDRESS: int = 30
    REGISTRATION_WINDOW_SECONDS: int = 600
    # Residents one account may look up by ID number per window (proxy invitations and
    # enterprise delegations together): found or not, each answer tells whether the number
    # is registered.
    ID_NUMBER_LOOKUPS_PER_ACCOUNT: int = 30
    ID_NUMBER_LOOKUP_WINDOW_SECONDS: int = 600
    # Sign-in throttling.
    LOGIN_FREE_FAILURES: int = 5
    LOGIN_MAX_LOCK_SECONDS: int = 900
    LOGIN_IP_FREE_FAILURES: int = 30
    LOGIN_IP_WINDOW_SECONDS: int = 900
    # Across all addresses an account gets more free failures and a short lock, so that
    # someone guessing from many addresses cannot lock the holder out for long.
    LOGIN_ACCOUNT_FREE_FAILURES: int = 20
    LOGIN_ACCOUNT_MAX_LOCK_SECONDS: int = 300
    # Failure counts are forgotten after this long without a failure (once any lock ended).
    LOGIN_FAILURE_MEMORY_SECONDS: int = 3600
    # The wallet. A key-binding JWT older than this is refused, so a presentation is short-lived.
    PRESENTATION_MAX_AGE_SECONDS: int = 300
    # A service point's request for materials expires this long after it was made.
    MATERIAL_REQUEST_TTL_SECONDS: int = 300
    # Entries (bits) per status list, a multiple of 8; and how long verifiers may cache a list.
    STATUS_LIST_SIZE: int = 131072
    STATUS_LIST_TTL_SECONDS: int = 300
    # Signatures and seals: the one-time certificate made for each signature is valid this
    # long (verification judges it at the signing time the platform wrote).
    SIGNATURE_CERTIFICATE_SECONDS: int = 3600
    # Faces. Two photos are of the same person when their 128-d encodings are closer than
    # the threshold (the README says why 0.5, stricter than the library's 0.6).
    FACE_MATCH_THRESHOLD: float = 0.5
    # Uploads are downscaled so that their longest side is at most this before detection;
    # anything larger than the pixel limit is refused unread (a decompression bomb).
    FACE_MAX_SIDE: int = 800
    FACE_MAX_PIXELS: int = 40_000_000
    # 0 finds faces from about 80 px (selfies, counter cameras); each step finds faces half
    # that size at 3-4 times the detection cost.
    FACE_DETECT_UPSAMPLE: int = 0
    # Face work runs in child processes at a lower CPU priority; this many per web worker
    # process at once. A request waits this long for a free one, then gets a 503.
    FACE_MAX_CONCURRENT: int = 1
    FACE_QUEUE_WAIT_SECONDS: float = 2.0
    FACE_TIMEOUT_SECONDS: float = 20.0
    FACE_NICE: int = 10
    # A face-login challenge lives this long and is good for one attempt.
    FACE_CHALLENGE_SECONDS: int = 60
    # Challenges one client address may ask for per minute (each is a key in Redis).
    FACE_CHALLENGES_PER_MINUTE: int = 30
    # This many face-login failures in a row lock the account, each further one twice as long.
    FACE_LOGIN_MAX_FAILURES: int = 5
    # Face checks a service point may make on one scan.
    FACE_CHECKS_PER_SCAN: int = 5
    # Partner apps (OpenID Connect). Codes are single use and short-lived (RFC 9700: under
    # a minute is enough for a back-channel exchange); retired ID-token keys stay in the JWKS
    # for OIDC_RETIRED_KEY_SECONDS so that tokens they signed still verify.
    OIDC_CODE_SECONDS: int = 60
    OIDC_ACCESS_TOKEN_SECONDS: int = 900
    OIDC_REFRESH_TOKEN_SECONDS: int = 30 * 24 * 3600
    OIDC_ID_TOKEN_SECONDS: int = 600
    OIDC_RETIRED_KEY_SECONDS: int = 7 * 24 * 3600
    # Scan-to-login and the device grant (RFC 8628): lifetime of a user code, the polling
    # interval, and how many unknown user codes one resident may try per window.
    OIDC_DEVICE_CODE_SECONDS: int = 600
    OIDC_DEVICE_POLL_SECONDS: int = 5
    OIDC_USER_CODE_MISSES: int = 10
    OIDC_USER_CODE_WINDOW_SECONDS: int = 900
    # HTTP.
    PUBLIC_URL: str | None = None
    MAX_CONTENT_LENGTH: int = 10 * 1024 * 1024
    PROBLEM_TYPE_BASE: str = "https://onecode.example/problems/"
    LOG_LEVEL: str = "INFO"
    TRUSTED_PROXIES: int = 0
    # Set by the factory, not by the environment.
    EMBEDDED: bool = False
    TESTING: bool = False
    extra: dict = field(default_factory=dict)

    @classmethod
    def from_env(cls) -> "Config":
        values = {}
        for f in fields(cls):
            if f.name in ("EMBEDDED", "TESTING", "extra"):
                continue
            if f.type == "int":
                values[f.name] = _int(f.name, f.default)
            elif f.type == "float":
                values[f.name] = _float(f.name, f.default)
            elif f.type == "bool":
                values[f.name] = _bool(f.name, f.default)
            else:
                values[f.name] = _str(f.name, f.default)
        return cls(**values)

    def with_overrides(self, overrides: dict | None) -> "Config":
        if not overrides:
            return self
        known = {f.name for f in fields(self)}
        extra = {k: v for k, v in overrides.items() if k not in known}
        return replace(self, **{k: v for k, v in overrides.items() if k in known}, extra=extra)

    def finalise(self) -> "Config":
        """Check the settings and fill in what the embedded demo may generate."""
        if self.REDIS_CLUSTER and not self.REDIS_JOBS_URL:
            raise ConfigError("REDIS_CLUSTER needs REDIS_JOBS_URL: the job queue (RQ) runs on "
                              "a single Redis server, not on a cluster")
        if not 1 <= self.CODE_TTL_SECONDS <= 60:
            raise ConfigError("CODE_TTL_SECONDS must be between 1 and 60")
        if not 0.1 <= self.READY_TIMEOUT_SECONDS <= 4.5:
            raise ConfigError("READY_TIMEOUT_SECONDS must be between 0.1 and 4.5")
        if not 0 <= self.CODE_LEEWAY_SECONDS <= 10:
            raise ConfigError("CODE_LEEWAY_SECONDS must be between 0 and 10")
        if not 0 <= self.HOME_CACHE_SECONDS <= 3600:
            raise ConfigError("HOME_CACHE_SECONDS must be between 0 and 3600")
        if self.STATUS_LIST_SIZE < 8 or self.STATUS_LIST_SIZE % 8:
            raise ConfigError("STATUS_LIST_SIZE must be a positive multiple of 8")
        if not 0 < self.FACE_MATCH_THRESHOLD < 2:
            raise ConfigError("FACE_MATCH_THRESHOLD must be between 0 and 2 (a Euclidean distance)")
        if self.FACE_MAX_CONCURRENT < 1 or self.FACE_MAX_SIDE < 100:
            raise ConfigError("FACE_MAX_CONCURRENT must be at least 1 and FACE_MAX_SIDE at least 100")
        embedded = self.DATABASE_URL is None and self.REDIS_URL is None
        cfg = replace(self, EMBEDDED=embedded)
        if not cfg.SECRET_KEY or not cfg.ENCRYPTION_KEY:
            if not embedded and not cfg.TESTING:
                raise ConfigError(
                    "SECRET_KEY and ENCRYPTION_KEY must be set when DATABASE_URL or REDIS_URL is; "
                    "generate them with: python -c 'import secrets,base64;"
                    "print(base64.b64encode(secrets.token_bytes(32)).decode())'"
                )
            cfg = cfg._with_demo_secrets()
        decode_key(cfg.ENCRYPTION_KEY)
        if len(cfg.SECRET_KEY) < 32:
            raise ConfigError("SECRET_KEY must be at least 32 characters")
        return cfg

    def _with_demo_secrets(self) -> "Config":
        # The embedded demo keeps its throwaway secrets in instance/ so that the data it
        # encrypted stays readable across restarts and across gunicorn's worker processes.
        path = INSTANCE_DIR / "demo-secrets.json"
        INSTANCE_DIR.mkdir(exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            stored = json.loads(path.read_text())
        else:
            stored = {
                "SECRET_KEY": secrets.token_urlsafe(48),
                "ENCRYPTION_KEY": base64.b64encode(secrets.token_bytes(32)).decode(),
            }
            with os.fdopen(fd, "w") as fh:
                json.dump(stored, fh)
            log.warning("generated throwaway demo secrets", extra={"path": str(path)})
        return replace(
            self,
            SECRET_KEY=self.SECRET_KEY or stored["SECRET_KEY"],
            ENCRYPTION_KEY=self.ENCRYPTION_KEY or stored["ENCRYPTION_KEY"],
        )

    @property
    def database_uri(self) -> str:
        if self.DATABASE_URL:
            url = self.DATABASE_URL
            # SQLAlchemy needs the driver named; postgres:// is what many hosts hand out.
            for prefix in ("postgres://", "postgresql://"):
                if url.startswith(prefix):
                    return "postgresql+psycopg://" + url[len(prefix):]
            return url
        return f"sqlite:///{INSTANCE_DIR / 'onecode.sqlite3'}"


def decode_key(encoded: str | None) -> bytes:
    """ENCRYPTION_KEY as 32 raw bytes (standard or URL-safe base64)."""
    try:
        raw = base64.urlsafe_b64decode(encoded.replace("+", "-").replace("/", "_") + "==")
    except Exception as exc:  # binascii.Error, AttributeError
        raise ConfigError("ENCRYPTION_KEY must be 32 bytes in base64") from exc
    if len(raw) != 32:
        raise ConfigError("ENCRYPTION_KEY must be 32 bytes in base64")
    return raw
