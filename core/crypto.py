"""Secrets at rest: AES-GCM encryption with a key id beside the ciphertext, and keyed lookups.

ID numbers and phone numbers are stored encrypted and found by an HMAC of their normalised
form, so that the database alone reveals neither and an equality lookup stays an index scan.
"""
from __future__ import annotations

import hashlib
import hmac
import os

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

_NONCE = 12
_KID = 4


class DecryptionError(Exception):
    """The ciphertext was made with an unknown key or has been altered."""


def _derive(master: bytes, purpose: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose).derive(master)


class Vault:
    """Encrypts and decrypts small secrets; derives the lookup key from the same master key."""

    def __init__(self, master_key: bytes):
        self._key = _derive(master_key, b"onecode/aes-gcm/v1")
        self._kid = hashlib.sha256(self._key).digest()[:_KID]
        self._aead = AESGCM(self._key)
        self._index_key = _derive(master_key, b"onecode/lookup-index/v1")

    def encrypt(self, plaintext: bytes, context: bytes = b"") -> bytes:
        """``kid || nonce || ciphertext``; ``context`` binds the value to its column and row."""
        nonce = os.urandom(_NONCE)
        return self._kid + nonce + self._aead.encrypt(nonce, plaintext, context)

    def decrypt(self, blob: bytes, context: bytes = b"") -> bytes:
        kid, nonce, body = blob[:_KID], blob[_KID:_KID + _NONCE], blob[_KID + _NONCE:]
        if kid != self._kid:
            raise DecryptionError("unknown encryption key id")
        try:
            return self._aead.decrypt(nonce, body, context)
        except Exception as exc:  # cryptography raises InvalidTag
            raise DecryptionError("ciphertext does not authenticate") from exc

    def encrypt_text(self, text: str, context: str = "") -> bytes:
        return self.encrypt(text.encode(), context.encode())

    def decrypt_text(self, blob: bytes, context: str = "") -> str:
        return self.decrypt(blob, context.encode()).decode()

    def index(self, kind: str, value: str) -> str:
        """A keyed, deterministic digest for equality lookups (hex, 64 characters)."""
        return hmac.new(self._index_key, f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()


def vault() -> Vault:
    """The current application's Vault (made from ``ENCRYPTION_KEY`` in ``create_app``)."""
    from flask import current_app

    return current_app.extensions["vault"]
