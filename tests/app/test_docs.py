"""The documentation in docs/ that is generated from the code cannot drift from it."""
from __future__ import annotations

from tools.claims_table import DOC, between_markers
from wallet.catalogue import claims_table


def test_the_claims_table_in_docs_is_the_catalogues(app):
    committed = between_markers(DOC.read_text(encoding="utf-8"))
    assert committed == claims_table(), "docs/ISSUING.md is out of date: run `make docs`"


def test_every_type_of_the_catalogue_is_in_the_table(app):
    from sqlalchemy import select

    from core.extensions import db
    from wallet.models import CredentialType

    committed = between_markers(DOC.read_text(encoding="utf-8"))
    for vct, claims in db.session.execute(select(CredentialType.vct, CredentialType.claims)):
        row = next(line for line in committed.splitlines() if line.startswith(f"| `{vct}` |"))
        assert all(f"`{claim}`" in row for claim in claims), vct
