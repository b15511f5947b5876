"""The production argon2id cost keeps OWASP's minimum.

The test apps hash at a cheap cost (tests/conftest.py), so this checks the defaults that a
deployment gets from an empty environment: OWASP's Password Storage Cheat Sheet asks for
argon2id with at least m=19 MiB (19456 KiB), t=2 and p=1.
"""
from argon2 import PasswordHasher, Type

from core.config import Config
from identity import passwords

OWASP_MEMORY_KIB = 19 * 1024
OWASP_TIME_COST = 2
OWASP_PARALLELISM = 1


def test_production_defaults_keep_owasps_argon2id_minimum(monkeypatch):
    for name in ("ARGON2_MEMORY_KIB", "ARGON2_TIME_COST", "ARGON2_PARALLELISM"):
        monkeypatch.delenv(name, raising=False)
    cfg = Config.from_env()
    assert cfg.ARGON2_MEMORY_KIB >= OWASP_MEMORY_KIB
    assert cfg.ARGON2_TIME_COST >= OWASP_TIME_COST
    assert cfg.ARGON2_PARALLELISM >= OWASP_PARALLELISM

    stored = passwords._hasher(cfg.ARGON2_MEMORY_KIB, cfg.ARGON2_TIME_COST,
                               cfg.ARGON2_PARALLELISM).hash("violet kettle runs uphill")
    assert stored.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert PasswordHasher(type=Type.ID).verify(stored, "violet kettle runs uphill")
