"""core.keystore: the one caching rule of the signing-key snapshot, and private keys bound to
their kid. Time is moved (the ``clock`` fixture, and ``still`` for the monotonic clock), never
slept. The store under test keeps its keys in the code-signing table under its own context."""
from __future__ import annotations

import ast
import threading
from datetime import timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from core import keystore
from core.crypto import DecryptionError, vault
from core.extensions import db
from core.keystore import ED25519, KeySpec, KeyStore, ed25519_public_bytes, unseal
from codes.models import SigningKey
from tests.conftest import START


class _Still:
    """A monotonic clock that stands still unless shifted."""

    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def shift(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def still(monkeypatch):
    """The store's monotonic clock, stopped: only ``clock.shift`` (or ``still.shift``) ages a
    snapshot, however slowly the test runs."""
    stopped = _Still()
    monkeypatch.setattr(keystore, "monotonic", stopped)
    return stopped


def _store(**overrides) -> KeyStore:
    spec = {"model": SigningKey, "algorithm": ED25519, "context": "test-key", "kid_length": 6,
            "public_columns": lambda kid, private: {"public_key": ed25519_public_bytes(private)},
            "published_after_retirement": lambda: timedelta(seconds=35)}
    spec.update(overrides)
    return KeyStore(KeySpec(**spec))


# The caching rule ---------------------------------------------------------------------------


def test_a_new_key_shows_within_a_second(app, clock, still):
    store = _store()
    first = store.create()
    assert list(store.snapshot().entries) == [first.kid]
    second = store.create()  # as another worker would: nothing tells this one
    clock.shift(0.5)
    assert second.kid not in store.snapshot()
    clock.shift(0.5)
    assert second.kid in store.snapshot()


def test_a_fresh_snapshot_costs_no_query(app, clock, still, count_queries):
    store = _store()
    key = store.create()
    store.snapshot()
    clock.shift(0.9)
    with count_queries() as counted:
        assert key.kid in store.snapshot(knowing=key.kid)
        assert store.signing()[0].kid == key.kid
    assert counted.n == 0


def test_an_unknown_kid_reloads_at_once(app, clock, still):
    store = _store()
    store.create()
    store.snapshot()
    other = store.create()
    assert other.kid not in store.snapshot()
    assert other.kid in store.snapshot(knowing=other.kid)
    assert other.kid in store.snapshot()  # the reload is this worker's snapshot now


def test_a_second_by_the_monotonic_clock_reloads_too(app, clock, still):
    store = _store()
    store.snapshot()
    key = store.create()
    still.shift(0.9)
    assert key.kid not in store.snapshot()
    still.shift(0.1)
    assert key.kid in store.snapshot()


def test_the_business_clock_set_back_reloads(app, clock, still):
    store = _store()
    store.snapshot()
    key = store.create()
    clock.shift(-0.1)
    assert key.kid in store.snapshot()


def test_signing_past_the_retirement_it_knows_reloads_at_once(app, clock, still):
    store = _store()
    # A rotation already known: the next key signs in half a second, when the old one retires.
    switch = START + timedelta(seconds=0.5)
    old = store.create()
    new = store.create(activates_at=switch)
    old.retired_at = switch
    db.session.flush()
    assert store.signing()[0].kid == old.kid
    clock.shift(0.5)  # the snapshot is still fresh, but the old key is retired by now
    entry, signer = store.signing()
    assert entry.kid == new.kid
    assert ed25519_public_bytes(signer) == new.public_key


def test_forget_drops_the_snapshot(app, clock, still):
    store = _store()
    store.snapshot()
    key = store.create()
    store.forget()
    assert key.kid in store.snapshot()


class _Announcing:
    """A lock that tells when a thread starts waiting for it."""

    def __init__(self, inner: threading.Lock, waiting: threading.Event):
        self.inner, self.waiting = inner, waiting

    def __enter__(self):
        self.waiting.set()
        self.inner.acquire()
        return self

    def __exit__(self, *exc):
        self.inner.release()


@pytest.mark.parametrize("ask", ["force", "knowing"])
def test_a_thread_that_waited_for_a_reload_uses_it(app, clock, still, monkeypatch, ask):
    store = _store()
    store.snapshot()
    key = store.create()
    loads = []
    rows = store.published_rows
    monkeypatch.setattr(store, "published_rows", lambda: loads.append(1) or rows())
    slot = store._slot()
    waiting = threading.Event()
    slot.lock = _Announcing(slot.lock, waiting)
    seen = []
    asked = {"force": True} if ask == "force" else {"knowing": key.kid}

    def other_thread():
        with app.app_context():
            seen.append(store.snapshot(**asked))

    worker = threading.Thread(target=other_thread)
    with slot.lock.inner:  # this thread is reloading; the other one asks meanwhile
        worker.start()
        assert waiting.wait(5)
        reloaded = store._load(slot)
    worker.join(5)
    assert seen == [reloaded] and key.kid in reloaded
    assert loads == [1]  # the waiting thread did not load again


# The life of a key ---------------------------------------------------------------------------


def test_rotation_and_revocation(app, clock, still):
    store = _store(rotation_overlap=timedelta(seconds=1))
    old = store.create()
    new = store.rotate()
    assert old.retired_at == START + timedelta(seconds=1)  # both sign for one cache period
    clock.shift(1)
    assert store.signing_row().kid == new.kid
    clock.shift(35)
    assert {k.kid for k in store.published_rows()} == {old.kid, new.kid}
    clock.shift(0.5)
    assert [k.kid for k in store.published_rows()] == [new.kid]
    assert store.revoke(new.kid) is new and store.revoke("nosuch") is None
    assert store.published_rows() == [] and store.signing_row() is None
    assert store.signing() is None


# Private keys bound to their kid ---------------------------------------------------------------


def test_a_private_key_does_not_decrypt_under_another_kid(app):
    store = _store()
    one, other = store.create(), store.create()
    raw = store.decrypt(one.kid, one.private_key_enc)
    assert ed25519_public_bytes(Ed25519PrivateKey.from_private_bytes(raw)) == one.public_key
    with pytest.raises(DecryptionError):
        store.decrypt(other.kid, one.private_key_enc)
    with pytest.raises(DecryptionError):  # nor under another store's context for its kid
        unseal("signing-key", one.kid, one.private_key_enc)


def test_each_domain_keeps_its_vault_context(app):
    """Keys stored before the store existed still decrypt: the contexts did not change."""
    from codes.keys import create_key as code_key
    from partners.keys import create_id_token_key
    from wallet.keys import create_key as issuer_key, holder_public_jwk
    from wallet.models import HolderKey

    def opened(blob: bytes, context: str) -> bytes:
        return vault().decrypt(blob, context.encode())

    key = code_key()
    assert len(opened(key.private_key_enc, f"signing-key:{key.kid}")) == 32
    key = create_id_token_key()
    assert opened(key.private_key_enc, f"oidc-signing-key:{key.kid}").startswith(b"-----BEGIN")
    key = issuer_key(None)
    assert len(opened(key.private_key_enc, f"issuer-key:{key.kid}")) == 32
    holder_public_jwk("holder-1")
    blob = db.session.get(HolderKey, "holder-1").private_key_enc
    assert opened(blob, "holder-key:holder-1")


def test_the_store_imports_no_domain_package():
    core = Path(keystore.__file__).parent
    for module in ("keystore.py", "crypto.py"):
        tree = ast.parse((core / module).read_text())
        names = [alias.name for node in ast.walk(tree) if isinstance(node, ast.Import)
                 for alias in node.names]
        names += [node.module for node in ast.walk(tree)
                  if isinstance(node, ast.ImportFrom) and node.module]
        domain = {"app", "codes", "wallet", "partners", "identity", "catalog", "mobile_api"}
        assert not [name for name in names if name.split(".")[0] in domain], module
