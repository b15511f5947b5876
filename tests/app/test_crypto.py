"""Secrets at rest: AES-GCM with a key id, context binding, keyed lookups."""
import pytest

from core.crypto import DecryptionError, Vault


@pytest.fixture
def vault():
    return Vault(b"m" * 32)


def test_roundtrip_and_fresh_nonce(vault):
    a = vault.encrypt_text("110101199003074514", "person.id_number")
    b = vault.encrypt_text("110101199003074514", "person.id_number")
    assert a != b
    assert vault.decrypt_text(a, "person.id_number") == "110101199003074514"
    assert b"110101" not in a


def test_context_binds_the_ciphertext(vault):
    blob = vault.encrypt_text("secret", "person.totp")
    with pytest.raises(DecryptionError):
        vault.decrypt_text(blob, "device.secret")


def test_tampering_and_other_keys_are_refused(vault):
    blob = bytearray(vault.encrypt_text("secret"))
    blob[-1] ^= 1
    with pytest.raises(DecryptionError):
        vault.decrypt(bytes(blob))
    with pytest.raises(DecryptionError, match="unknown encryption key"):
        Vault(b"n" * 32).decrypt(vault.encrypt(b"x"))


def test_index_is_keyed_and_separates_kinds(vault):
    assert vault.index("id", "1") == vault.index("id", "1")
    assert vault.index("id", "1") != vault.index("phone", "1")
    assert vault.index("id", "1") != Vault(b"n" * 32).index("id", "1")
