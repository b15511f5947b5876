"""HTTP surface of the wallet: issuers, the holder's wallet, verification, trust and status,
and materials shared with service points after a scan."""
from flask import current_app, g, request
from flask_smorest import Blueprint

from core.auth import BEARER, ISSUER, RESIDENT, require
from core.errors import NotFound
from identity import service as identity
from wallet import issuers, service, status, verify
from wallet.models import CARD
from wallet.schemas import (
    ClientCredentialsSchema,
    CredentialSchema,
    IssuedSchema,
    IssueSchema,
    PresentationRequestSchema,
    PresentationSchema,
    RevokedSchema,
    RevokeSchema,
    TokenSchema,
    VerifyRequestSchema,
    VerifyResultSchema,
    WalletSchema,
)

blp = Blueprint("wallet", __name__, url_prefix="/api/v1", description="Credentials, consent and sharing")



def _base_url() -> str:
    return current_app.config["PUBLIC_URL"] or request.host_url.rstrip("/")


def _my_holder_index() -> str:
    return identity.signed_in_person(g.principal_id).id_number_index


def _item(credential, ctype, issuer, claims: dict) -> dict:
    return {"id": credential.id, "type": credential.vct, "name": ctype.name,
            "issuer": {"name": issuer.name}, "summary": service.summary(claims),
            "issued_at": credential.issued_at, "valid_from": credential.valid_from,
            "valid_until": credential.valid_until, "status": service.status_of(credential)}


# Issuers -------------------------------------------------------------------------------


@blp.post("/issuers/token")
@blp.arguments(ClientCredentialsSchema)
@blp.response(200, TokenSchema)
@blp.alt_response(401, description="`invalid-client`")
def issuer_token(data):
    """An issuer's access token, for its client id and secret"""
    return issuers.issue_token(data["client_id"], data["client_secret"])


@blp.post("/issuer/credentials")
@blp.doc(security=BEARER)
@blp.arguments(IssueSchema)
@blp.response(201, IssuedSchema)
@blp.alt_response(403, description="`type-not-allowed`")
@blp.alt_response(422,
                  description="`validation-error` naming unknown or missing claims; `unknown-type`")
@require(ISSUER)
def issue(data):
    """Issue a credential (SD-JWT VC) to a holder, registered or not

    Every claim is selectively disclosable. A holder who has not registered yet finds it in
    the wallet on registering.
    """
    credential, sd_jwt = service.issue_credential(
        g.principal_id, data["type"], data["holder"], data["claims"], base_url=_base_url(),
        valid_from=data.get("valid_from"), valid_until=data.get("valid_until"))
    return {"id": credential.id, "type": credential.vct, "credential": sd_jwt,
            "issued_at": credential.issued_at, "valid_from": credential.valid_from,
            "valid_until": credential.valid_until,
            "status_list": {"idx": credential.status_idx,
                            "uri": status.list_url(_base_url(), credential.status_list_id)}}


@blp.post("/issuer/credentials/<credential_id>/revoke")
@blp.doc(security=BEARER)
@blp.arguments(RevokeSchema)
@blp.response(200, RevokedSchema)
@blp.alt_response(404, description="`not-found`: not a credential of this issuer")
@blp.alt_response(409, description="`already-revoked`")
@require(ISSUER)
def revoke(data, credential_id):
    """Revoke a credential: its status list bit flips at once"""
    credential = service.revoke_credential(g.principal_id, credential_id, data["reason"])
    return {"id": credential.id, "status": "revoked", "revoked_at": credential.revoked_at,
            "reason": credential.revocation_reason}


# The holder's wallet -------------------------------------------------------------------


@blp.get("/me/wallet")
@blp.doc(security=BEARER)
@blp.response(200, WalletSchema)
@require(RESIDENT)
def my_wallet():
    """My cards and certificates, claims summarised"""
    wallet = {"cards": [], "certificates": []}
    for credential, ctype, issuer in service.wallet_of(_my_holder_index()):
        claims = service.claims_of(credential)
        wallet["cards" if ctype.kind == CARD else "certificates"].append(
            _item(credential, ctype, issuer, claims))
    return wallet


@blp.get("/me/wallet/<credential_id>")
@blp.doc(security=BEARER)
@blp.response(200, CredentialSchema)
@blp.alt_response(404, description="`not-found`")
@require(RESIDENT)
def my_credential(credential_id):
    """One credential in full, with its signature"""
    credential, ctype, issuer = service.credential_of(_my_holder_index(), credential_id)
    sd_jwt = service.sd_jwt_of(credential)
    claims = service.claims_of(credential, sd_jwt)
    return {**_item(credential, ctype, issuer, claims), "kind": ctype.kind, "claims": claims,
            "credential": sd_jwt}


@blp.post("/me/wallet/<credential_id>/presentations")
@blp.doc(security=BEARER)
@blp.arguments(PresentationRequestSchema)
@blp.response(201, PresentationSchema)
@blp.alt_response(404, description="`not-found`")
@blp.alt_response(409, description="`credential-not-usable`: revoked, expired or not yet valid")
@require(RESIDENT)
def present(data, credential_id):
    """Show chosen claims of a credential (亮证)

    `presentation`: an SD-JWT with only those claims' disclosures and a key-binding JWT signed
    with the holder key, for sharing online; verifiers refuse it after `expires_at`.
    `qr_text`: the same claims as a compact code to show as a QR code, `OCV1:` + base45 of a
    COSE_Sign1 signed with the code key of `/.well-known/jwks.json` (valid at most 5 minutes;
    see the README, "The code format"). 422 when the chosen claims do not fit a QR code.
    """
    return service.present_credential(_my_holder_index(), credential_id, data["claims"],
                                      audience=data.get("audience"))


# Anyone: verification, trust list, status lists ----------------------------------------


@blp.post("/credentials/verify")
@blp.arguments(VerifyRequestSchema)
@blp.response(200, VerifyResultSchema)
def verify_credential(data):
    """Check a credential, a presentation or an `OCV1:` code (亮证) and say why it is not valid

    An `OCV1:` code is checked for the platform's signature, its `exp` (`code-expired`), and
    the status and period of the credential it names; `disclosed` is the claims it carries.

    `problems` names each reason: `malformed`, `issuer-unknown`, `signature`, `disclosure`,
    `type-not-allowed`, `expired`, `not-yet-valid`, `revoked`, `status-unknown`, `key-binding`,
    `key-binding-too-old`, `audience`, `code-expired`. A credential bound to a holder key
    (`cnf`) is valid only with a fresh key-binding JWT by that key, audience or not: a bare
    credential answers `valid: false` with `key-binding` (the other checks still reported).
    """
    return verify.verify(data["credential"], data.get("audience"), base_url=_base_url())


@blp.get("/trust-list")
@blp.response(200)
def trust_list():
    """Every issuer, the types it may issue and its public keys (current and retired)"""
    return issuers.trust_list(_base_url())


@blp.get("/issuers/<issuer_id>")
@blp.response(200)
@blp.alt_response(404, description="`not-found`")
def issuer_entry(issuer_id):
    """One issuer as the trust list names it: what a credential's `iss` points at"""
    return issuers.trust_entry(_base_url(), issuer_id)


@blp.get("/status-lists/<list_id>")
@blp.doc(responses={"200": {"description": "a status list token",
                            "content": {status.MEDIA_TYPE: {"schema": {"type": "string"}}}}})
def status_list(list_id):
    """A status list token (IETF Token Status List), signed by the platform"""
    token = status.status_list_token(list_id, _base_url())
    if token is None:
        raise NotFound()
    return current_app.response_class(token, mimetype=status.MEDIA_TYPE,
                                      headers={"Cache-Control": "no-cache"})
