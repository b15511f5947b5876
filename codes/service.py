"""The holder's current code: signed once, cached in Redis until it should be refreshed.

A phone asks for its code every few seconds, and a crowd of phones on a bad network retries;
a "refresh storm" must cost one signature and one render. So the current code of a subject is
kept at ``code:{<handle>}:<kind>`` until ``refresh_after`` (two thirds of its lifetime), and
every request in between gets the same code with at least a third of its lifetime left. A
successful scan deletes the entry, so the next request gets a new code at once, and an entry
whose key was revoked (``keys revoke``) is never answered again. Its rendered
images are cached per code under a hash of the code text.

The other packages use this module (and the ones it names) rather than the routes:
``current_code``, ``code_image``, ``scans.get_scan``.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from functools import cached_property, lru_cache

from flask import current_app

from core import clock, metrics
from core.responses import dumps
from core.store import redis_client
from codes import keys, render
from codes.format import ENTERPRISE, PERSON, PROXIED, Claims, new_cti


@dataclass(frozen=True)
class IssuedCode:
    """A signed code text with its expiry and the moment a phone should ask for the next one
    (both seconds since the epoch)."""

    code: str
    exp: int
    refresh_after: int
    kid: str = ""  # the signing key's, so that a cached code of a revoked key is dropped

    def usable(self, now: float) -> bool:
        """Whether a cached code may still be answered: before ``refresh_after``, and signed
        by a key that still verifies (not revoked since)."""
        return now < self.refresh_after and keys.is_published(self.kid)

    def as_body(self) -> dict:
        """``{code, expires_at, refresh_after}`` with datetimes, for ``CodeSchema``."""
        return {"code": self.code,
                "expires_at": datetime.fromtimestamp(self.exp, timezone.utc),
                "refresh_after": datetime.fromtimestamp(self.refresh_after, timezone.utc)}

    @cached_property
    def answer(self) -> bytes:
        """``as_dict`` as the JSON body of ``GET /me/code``, written once per code."""
        return dumps(self.as_dict())

    def as_dict(self) -> dict:
        """``as_body`` as ``CodeSchema`` dumps it (times in RFC 3339), written directly: the
        hot code route and the cached home screen answer it without a schema dump."""
        return {"code": self.code,
                "expires_at": clock.rfc3339(datetime.fromtimestamp(self.exp, timezone.utc)),
                "refresh_after": clock.rfc3339(datetime.fromtimestamp(self.refresh_after,
                                                                      timezone.utc))}


def code_key(handle: str, kind: int = PERSON) -> str:
    """Where the subject's current code is cached; routes prefetch it with the sign-in check
    (``app.auth.require``) and pass the value to ``current_code``."""
    return f"code:{{{handle}}}:{kind}"


def my_code_keys(claims: dict) -> list[str]:
    """The cached code of a resident token's handle, for the sign-in check to read in its
    round trip (``GET /me/code``, and its fast path)."""
    return [code_key(claims["h"], PERSON)] if claims.get("h") else []


def _image_key(handle: str, code: str, image_kind: str) -> str:
    digest = hashlib.sha256(code.encode()).hexdigest()[:32]
    return f"codeimg:{{{handle}}}:{digest}:{image_kind}"


_KIND_LABELS = {PERSON: "person", ENTERPRISE: "enterprise", PROXIED: "proxied"}


def issue_code(handle: str, kind: int = PERSON, cti: bytes | None = None) -> IssuedCode:
    """Sign a new code for this subject handle, valid for ``CODE_TTL_SECONDS`` from now.

    ``cti``: a nonce chosen by the caller, who must know it (identity.shown_codes notes who
    showed a code shown for someone else); a fresh random one when not given."""
    ttl = current_app.config["CODE_TTL_SECONDS"]
    iat = int(clock.timestamp())
    exp = iat + ttl
    signer = keys.current_signer()
    code = signer.sign(Claims(handle, exp, cti or new_cti(), kind))
    metrics.CODES_ISSUED.labels(kind=_KIND_LABELS.get(kind, "other")).inc()
    return IssuedCode(code, exp, iat + (2 * ttl) // 3, signer.kid)


@lru_cache(maxsize=4096)
def decode_cached(raw: bytes | None) -> IssuedCode | None:
    """The code cached at ``code_key`` (its raw value; None when absent or unreadable).
    Remembered per worker by the raw value, which always decodes to the same code: a phone
    asks for the same code many times, and its answer is then written once (``answer``)."""
    if raw is None:
        return None
    try:
        return IssuedCode(**json.loads(raw))
    except (ValueError, TypeError):
        return None


NOT_READ = object()


def current_code(handle: str, kind: int = PERSON, cached_value=NOT_READ) -> IssuedCode:
    """The subject's current code: the cached one until its ``refresh_after``, else a new one.

    ``cached_value``: the value of ``code_key(handle, kind)`` when the caller has read it
    already (None when absent). Concurrent first requests may each sign (a signature costs
    microseconds), but only one code is stored and all of them answer with it.
    """
    r = redis_client()
    key = code_key(handle, kind)
    now = clock.timestamp()
    cached = decode_cached(r.get(key) if cached_value is NOT_READ else cached_value)
    if cached is not None and cached.usable(now):
        return cached
    issued = issue_code(handle, kind)
    ttl_ms = max(1, int((issued.refresh_after - now) * 1000))
    value = json.dumps(asdict(issued))
    if cached is None:
        if r.set(key, value, nx=True, px=ttl_ms):
            return issued
        winner = decode_cached(r.get(key))
        if winner is not None and winner.usable(now):
            return winner
    # A stale entry that Redis has not expired yet (its clock and ours differ): replace it.
    r.set(key, value, px=ttl_ms)
    return issued


def forget_current_code(handle: str, kind: int = PERSON, pipe=None) -> None:
    """Drop the cached current code, so the next request signs a new one (after a scan);
    with ``pipe``, as a command of the caller's pipeline."""
    (pipe if pipe is not None else redis_client()).delete(code_key(handle, kind))


def code_image(handle: str, issued: IssuedCode, image_kind: str) -> bytes:
    """The QR image of an issued code (``"png"`` or ``"svg"``), rendered once per code."""
    r = redis_client()
    key = _image_key(handle, issued.code, image_kind)
    image = r.get(key)
    if image is None:
        image = render.render(issued.code, image_kind)
        ttl_ms = max(1, int((issued.exp - clock.timestamp()) * 1000))
        r.set(key, image, px=ttl_ms)
    return image
