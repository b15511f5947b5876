"""The enterprise's own wallet: its licences and permits, read by members with
``wallet:read`` (each read is audited)."""
from __future__ import annotations

from core import audit
from enterprises import service as enterprises
from enterprises.models import WALLET_READ
from wallet import service as wallet


def wallet_of(person_id: str, enterprise_id: str) -> list[dict]:
    """The enterprise's licences and permits, summarised, for members with ``wallet:read``."""
    enterprise, _ = enterprises.require_scope(person_id, enterprise_id, WALLET_READ)
    items = []
    for credential, ctype, issuer in wallet.wallet_of(enterprise.uscc_index):
        claims = wallet.claims_of(credential)
        items.append({
            "id": credential.id, "type": credential.vct, "name": ctype.name, "kind": ctype.kind,
            "issuer": {"name": issuer.name}, "summary": wallet.summary(claims), "claims": claims,
            "issued_at": credential.issued_at, "valid_until": credential.valid_until,
            "status": wallet.status_of(credential)})
    audit.record("enterprise-wallet-read", enterprise=enterprise.id, person=person_id)
    return items
