"""What an issuer, a phone app and an outside verifier do, as plain functions of the test client."""
from __future__ import annotations

import json

from jwcrypto.jwk import JWK
from sd_jwt.verifier import SDJWTVerifier

from core.extensions import db
from tests.helpers import auth_headers

PUBLIC_SECURITY = ("resident-id", "household-register")


def make_issuer(client, name: str = "市公安局", types=PUBLIC_SECURITY) -> dict:
    """Create an issuer and sign it in; returns its credentials and ``headers``."""
    from wallet.issuers import create_issuer

    issuer, secret = create_issuer(name, list(types))
    issuer_id, client_id = issuer.id, issuer.client_id
    db.session.commit()  # and read nothing after it, which would open a transaction here
    response = client.post("/api/v1/issuers/token",
                           json={"client_id": client_id, "client_secret": secret})
    assert response.status_code == 200, response.json
    return {"id": issuer_id, "client_id": client_id, "client_secret": secret,
            "headers": auth_headers(response.json["access_token"])}


def resident_id_claims(holder: dict, **overrides) -> dict:
    claims = {"name": holder.get("name", "张三丰"), "id_number": holder["id_number"],
              "birthdate": "1990-03-07", "sex": "male", "address": "北京市东城区东华门街道1号",
              "valid_until": "2036-03-07"}
    claims.update(overrides)
    return claims


def issue(client, issuer: dict, holder: dict, vct: str = "resident-id", claims: dict | None = None,
          **extra):
    """POST the credential; ``holder`` is a resident dict (or anything with ``id_number``)."""
    body = {"type": vct, "holder": {"id_number": holder["id_number"]},
            "claims": claims if claims is not None else resident_id_claims(holder), **extra}
    return client.post("/api/v1/issuer/credentials", json=body, headers=issuer["headers"])


def issued(client, issuer: dict, holder: dict, vct: str = "resident-id", claims=None, **extra) -> dict:
    response = issue(client, issuer, holder, vct, claims, **extra)
    assert response.status_code == 201, response.json
    return response.json


def disclosed_names(sd_jwt: str) -> set[str]:
    """The claim names whose disclosures an SD-JWT carries, read as anyone could."""
    from wallet.sdjwt import decode_disclosure

    return {decode_disclosure(d)[0] for d in sd_jwt.split("~")[1:-1]}


def outside_verifier(client, text: str, audience: str | None = None, nonce: str | None = None) -> dict:
    """Verify with the reference SD-JWT library and the public trust list only; returns the
    disclosed payload (raises when anything does not verify)."""
    trust = client.get("/api/v1/trust-list").json

    def issuer_key(iss, header):
        entry = next(e for e in trust["issuers"] if e["id"] == iss)
        jwk = next(k for k in entry["jwks"]["keys"] if k["kid"] == header["kid"])
        return JWK(**jwk)

    verifier = SDJWTVerifier(text, issuer_key, expected_aud=audience, expected_nonce=nonce)
    return verifier.get_verified_payload()


def jwt_payload(jwt: str) -> dict:
    from wallet.sdjwt import b64url_decode

    return json.loads(b64url_decode(jwt.split(".")[1]))
