"""Face fixtures: the real photos in ``tests/face/photos`` (their source and licence in its
README), their analyses cached for the session.

Face work is CPU heavy (about 0.2 s a photo), so each distinct upload is analysed once per
test session by the real pool, and later uploads of the same bytes reuse that analysis.
Every face test runs on one xdist worker (the ``face`` group), so one pool serves them all.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import io
from pathlib import Path

import pytest

from identity import face, face_images

FACES = Path(__file__).resolve().parent / "photos"
PEOPLE = {
    "obama": ("obama_1", "obama_2", "obama_3"),
    "biden": ("biden_1", "biden_2"),
    "harington": ("harington_1", "harington_2"),
    "leslie": ("leslie_1", "leslie_2"),
    "lacamoire": ("lacamoire_1", "lacamoire_2"),
}
PHOTOS = [name for names in PEOPLE.values() for name in names]


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/face/" in str(item.fspath).replace("\\", "/"):
            item.add_marker(pytest.mark.xdist_group("face"))


@pytest.fixture(scope="session")
def photos() -> dict[str, bytes]:
    """name (``obama_1``, ``two_people`` ...) → the JPEG's bytes."""
    return {path.stem: path.read_bytes() for path in sorted(FACES.glob("*.jpg"))}


_ANALYSES: dict[tuple, face_images.Analysis] = {}


@pytest.fixture(scope="session")
def analysed(base_app, photos) -> dict[str, face_images.Analysis]:
    """name → the real pool's analysis of each shared photo (computed once per session)."""
    with base_app.app_context():
        limits = face.analysis_limits()
        pool = face.face_pool()
        pool.warm_up()
        found = {}
        for name, data in photos.items():
            found[name] = _ANALYSES.setdefault(_key(data, limits), pool._run(data, **limits))
    yield found
    with base_app.app_context():
        pool = base_app.extensions.pop("face_pool", None)
        if pool is not None:
            pool.close()


def _key(data: bytes, limits: dict) -> tuple:
    return hashlib.sha256(data).digest(), tuple(sorted(limits.items()))


@pytest.fixture(autouse=True)
def cached_analyses(analysed, monkeypatch):
    """The same bytes with the same limits give the same analysis: compute each once."""
    real = face_images.FacePool._run

    def run(self, data, **limits):  # under the pool's gate, which still applies
        key = _key(data, limits)
        if key not in _ANALYSES:
            _ANALYSES[key] = real(self, data, **limits)
        return _ANALYSES[key]

    monkeypatch.setattr(face_images.FacePool, "_run", run)


def upload(data: bytes, name: str = "face.jpg") -> tuple:
    return (io.BytesIO(data), name)


_HOLDERS = object()


def enrol(client, holder: dict, data: bytes, consent: str | None = "true",
          password: str | None = _HOLDERS):
    """PUT /me/face, confirmed with the holder's password unless ``password`` says otherwise
    (``None``: none sent)."""
    form = {"image": upload(data)}
    if consent is not None:
        form["consent"] = consent
    password = holder["password"] if password is _HOLDERS else password
    if password is not None:
        form["password"] = password
    return client.put("/api/v1/me/face", data=form, headers=holder["headers"],
                      content_type="multipart/form-data")


def challenge(client, username: str) -> str:
    response = client.post("/api/v1/auth/face/challenge", json={"username": username})
    assert response.status_code == 200, response.json
    return response.json["challenge"]


def add_device(client, holder: dict) -> dict:
    """Register a phone for the holder (``POST /me/devices``): ``{device_id, secret, ...}``."""
    response = client.post("/api/v1/me/devices", headers=holder["headers"])
    assert response.status_code == 201, response.json
    return response.json


def device_proof(device: dict, challenge_text: str) -> str:
    """What the phone sends: base64url, unpadded, of HMAC-SHA256 over the challenge, keyed
    with the device's base32 secret."""
    key = base64.b32decode(device["secret"])
    digest = hmac.new(key, challenge_text.encode("utf-8"), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def face_login(client, username: str, data: bytes, challenge_text: str | None = None,
               address: str = "203.0.113.7", device: dict | None = None,
               proof: str | None = None):
    """A face sign-in; with ``device`` the proof is made for the challenge unless ``proof``
    is given. Without either, no device fields are sent."""
    if challenge_text is None:
        challenge_text = challenge(client, username)
    form = {"username": username, "challenge": challenge_text, "image": upload(data)}
    if device is not None:
        form["device_id"] = device["device_id"]
        form["device_proof"] = proof if proof is not None else device_proof(device, challenge_text)
    elif proof is not None:
        form["device_proof"] = proof
    return client.post("/api/v1/auth/face/login", data=form, content_type="multipart/form-data",
                       environ_base={"REMOTE_ADDR": address})
