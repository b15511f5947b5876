"""The signing CA: `flask signing init` is idempotent, `signing rotate` replaces the CA, and
what the retired CA signed still verifies against its root in the trust list."""
from __future__ import annotations

import json

from sqlalchemy import select

from core.extensions import db
from signatures.models import SigningCA
from tests.helpers import resident
from tests.signatures.support import (
    make_pdf,
    outside_verdicts,
    published_root,
    sign,
    verify,
)


def _run(runner, *args) -> dict:
    result = runner.invoke(args=["signing", *args])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_init_is_idempotent_and_the_keys_are_encrypted_at_rest(runner, client):
    first = _run(runner, "init")
    again = _run(runner, "init")
    assert first["created"] is True and again["created"] is False
    assert again["generation"] == first["generation"]
    assert published_root(client).sha256.hex() == first["root_sha256"]
    [ca] = db.session.scalars(select(SigningCA))
    for blob in (ca.root_key_enc, ca.issuing_key_enc):
        assert b"PRIVATE KEY" not in blob and len(blob) > 100


def test_rotate_replaces_the_ca_and_what_the_old_one_signed_still_verifies(runner, client):
    signer = resident(client)
    old = _run(runner, "init")
    old_root = published_root(client)
    signed = sign(client, signer, make_pdf()).data

    new = _run(runner, "rotate")
    assert new["generation"] == old["generation"] + 1 and new["root_sha256"] != old["root_sha256"]
    assert published_root(client).sha256.hex() == new["root_sha256"]
    retired = db.session.get(SigningCA, old["generation"])
    assert retired.retired_at is not None and retired.issuing_key_enc is None

    roots = client.get("/api/v1/trust-list").json["signing"]["roots"]
    assert [(r["sha256"], r["current"]) for r in roots] == [
        (new["root_sha256"], True), (old["root_sha256"], False)]
    [ours] = verify(client, signed).json["signatures"]
    assert ours["trusted"] and ours["intact"] and ours["evidence"]
    [outside] = outside_verdicts(signed, old_root)
    assert outside["trusted"]
    # New signatures chain to the new root only.
    fresh = sign(client, signer, make_pdf()).data
    assert outside_verdicts(fresh, published_root(client))[0]["trusted"]
    assert not outside_verdicts(fresh, old_root)[0]["trusted"]
