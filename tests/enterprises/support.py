"""What a legal representative, a market regulator and an enterprise's staff do, as plain
functions of the test client."""
from __future__ import annotations

import itertools

from identity import uscc as gb32100
from tests.wallet.support import make_issuer

_serial = itertools.count(1)


def new_uscc() -> str:
    """A valid USCC not used so far in this run (market regulation, enterprise, 110108)."""
    return gb32100.complete(f"91110108{next(_serial):08d}")


def market_regulator(client) -> dict:
    return make_issuer(client, "市场监督管理局", ("business-licence",))


def licence_claims(uscc: str, representative: dict, **overrides) -> dict:
    claims = {"uscc": uscc, "enterprise_name": "北京一码科技有限公司",
              "legal_representative": representative.get("name", "张三丰"),
              "legal_representative_id_number": representative["id_number"],
              "registered_capital": "100万元", "address": "北京市海淀区中关村大街1号"}
    claims.update(overrides)
    return claims


def issue_licence(client, regulator: dict, uscc: str, representative: dict, **extra):
    body = {"type": "business-licence", "holder": {"uscc": uscc},
            "claims": licence_claims(uscc, representative), **extra}
    response = client.post("/api/v1/issuer/credentials", json=body, headers=regulator["headers"])
    assert response.status_code == 201, response.json
    return response.json


def revoke(client, regulator: dict, credential_id: str):
    response = client.post(f"/api/v1/issuer/credentials/{credential_id}/revoke",
                           json={"reason": "吊销"}, headers=regulator["headers"])
    assert response.status_code == 200, response.json


def register_enterprise(client, person: dict, uscc: str | None = None, name: str = "北京一码科技有限公司"):
    return client.post("/api/v1/enterprises", json={"name": name, "uscc": new_uscc() if uscc is None else uscc},
                       headers=person["headers"])


def verified_enterprise(client, representative: dict, regulator: dict | None = None) -> dict:
    """An enterprise registered by ``representative`` and verified by a licence naming them;
    returns ``{id, uscc, licence, regulator}``."""
    regulator = regulator or market_regulator(client)
    uscc = new_uscc()
    licence = issue_licence(client, regulator, uscc, representative)
    response = register_enterprise(client, representative, uscc)
    assert response.status_code == 201 and response.json["verified"] is True, response.json
    return {"id": response.json["id"], "uscc": uscc, "licence": licence, "regulator": regulator}


def add_member(client, actor: dict, enterprise_id: str, person: dict, role: str = "staff",
               scopes=("show-code",), expires_at: str | None = None):
    body = {"id_number": person["id_number"], "role": role, "scopes": list(scopes)}
    if expires_at is not None:
        body["expires_at"] = expires_at
    return client.post(f"/api/v1/enterprises/{enterprise_id}/members", json=body,
                       headers=actor["headers"])


def member_id(client, actor, enterprise_id, person, **kwargs) -> str:
    response = add_member(client, actor, enterprise_id, person, **kwargs)
    assert response.status_code == 201, response.json
    return response.json["member_id"]
