"""HTTP surface of signatures and seals: the CA's chain, signing, sealing, my signatures,
evidence and verification.

Documents come as multipart uploads (at most ``MAX_CONTENT_LENGTH``, 10 MB: larger is a 413
``payload-too-large``), are read into memory, signed or checked, and not kept: only their
hashes are.
"""
from flask import current_app, g, request
from flask_smorest import Blueprint

from core.auth import BEARER, RESIDENT, require
from identity import service as identity
from signatures import ca as signing_ca
from signatures import service, verify
from signatures.schemas import (
    DocumentSchema,
    EvidenceSchema,
    SealFormSchema,
    SealUploadSchema,
    SignatureRecordSchema,
    SignFormSchema,
    SignUploadSchema,
    VerificationSchema,
)

blp = Blueprint("signatures", __name__, url_prefix="/api/v1",
                description="Electronic signatures and seals on PDF documents, with evidence")

PEM_CHAIN = "application/pem-certificate-chain"
_PDF_PROBLEMS = ("`not-a-pdf`, `encrypted-pdf` (send it without a password) or `broken-pdf` "
                 "(pyHanko cannot read it); nothing is recorded")
_TOO_LARGE = "`payload-too-large`: over 10 MB"
_STEP_UP = ("`reauthentication-required`: neither a right `password` nor a fresh `otp` "
            "(a wrong one counts as a failed sign-in); nothing is signed or recorded. Or the "
            "bearer token is missing or invalid")
_LOCKED = "`too-many-attempts`: the account's password sign-in is locked for this address"
_SIGNED_PDF = {"description": "the signed PDF (PAdES baseline B-B, the CA chain embedded)",
               "content": {"application/pdf": {"schema": {"type": "string",
                                                          "format": "binary"}}},
               "headers": {"X-Signature-Id": {"description": "the signature's id, as listed "
                                                             "by `GET /me/signatures`",
                                              "schema": {"type": "string"}}}}


def _multipart(schema) -> dict:
    # The form fields and the file are parsed separately; the document shows them as the one
    # multipart body they arrive in.
    return {"requestBody": {"required": True,
                            "content": {"multipart/form-data": {"schema": schema}}}}


def _signed_response(record, signed: bytes):
    return current_app.response_class(
        signed, status=201, mimetype="application/pdf",
        headers={"X-Signature-Id": record.id,
                 "Content-Disposition": f'attachment; filename="signed-{record.id}.pdf"'})


def _record_body(record) -> dict:
    return {"id": record.id, "kind": record.kind, "enterprise_id": record.enterprise_id,
            "signed_at": record.signed_at,
            "document_sha256": record.document_sha256,
            "original_sha256": record.original_sha256,
            "certificate_serial": record.certificate_serial}


@blp.get("/signing/ca")
@blp.doc(responses={"200": {"description": "the issuing CA's certificate, then the root's",
                            "content": {PEM_CHAIN: {"schema": {"type": "string"}}}}})
def ca_chain():
    """The signing CA's certificate chain (PEM): the one trust anchor a verifier needs"""
    ca, _made = signing_ca.ensure_ca()
    return current_app.response_class(signing_ca.chain_pem(ca), mimetype=PEM_CHAIN,
                                       headers={"Cache-Control": "no-cache"})


@blp.post("/me/signatures")
@blp.arguments(SignFormSchema, location="form")
@blp.arguments(DocumentSchema, location="files")
@blp.doc(security=BEARER, responses={"201": _SIGNED_PDF}, **_multipart(SignUploadSchema))
@blp.alt_response(401, description=_STEP_UP)
@blp.alt_response(413, description=_TOO_LARGE)
@blp.alt_response(422, description=_PDF_PROBLEMS)
@blp.alt_response(429, description=_LOCKED)
@require(RESIDENT)
def sign(form, files):
    """Sign a PDF as myself, confirmed with my password or a one-time password

    The platform makes a certificate for this one signature under its signing CA, naming me
    by name and an opaque serial (never my ID number), and signs with my key, which never
    leaves the platform's vault. The signature is PAdES; the evidence (the document's SHA-256
    before and after, the certificate serial, the time) goes into the audit chain.
    """
    person = identity.signed_in_person(g.principal_id)
    record, signed = service.sign_document(
        person, files["document"].read(), form.get("reason"), form.get("location"),
        form.get("password"), form.get("otp"), request.remote_addr)
    return _signed_response(record, signed)


@blp.post("/enterprises/<enterprise_id>/seals")
@blp.arguments(SealFormSchema, location="form")
@blp.arguments(DocumentSchema, location="files")
@blp.doc(security=BEARER, responses={"201": _SIGNED_PDF}, **_multipart(SealUploadSchema))
@blp.alt_response(401, description=_STEP_UP)
@blp.alt_response(403, description="`scope-missing`: my membership has no `seal` scope; or "
                              "`enterprise-not-verified`")
@blp.alt_response(404, description="`not-found`: not a live member of this enterprise")
@blp.alt_response(413, description=_TOO_LARGE)
@blp.alt_response(422, description=_PDF_PROBLEMS)
@blp.alt_response(429, description=_LOCKED)
@require(RESIDENT)
def seal(form, files, enterprise_id):
    """Seal a PDF with the enterprise's electronic seal (legal representative, or a member
    with the `seal` scope), confirmed with my password or a one-time password

    The certificate names the enterprise and its USCC; the evidence names me as who sealed.
    """
    person = identity.signed_in_person(g.principal_id)
    record, signed = service.seal_document(
        person, enterprise_id, files["document"].read(), form.get("reason"),
        form.get("password"), form.get("otp"), request.remote_addr)
    return _signed_response(record, signed)


@blp.get("/me/signatures")
@blp.response(200, SignatureRecordSchema(many=True))
@blp.doc(security=BEARER)
@require(RESIDENT)
def my_signatures():
    """What I signed, and sealed for my enterprises, newest first"""
    return [_record_body(r) for r in service.my_signatures(g.principal_id)]


@blp.get("/evidence/<sha256>")
@blp.response(200, EvidenceSchema)
@blp.alt_response(404, description="`not-found`: no document with this SHA-256 was signed here")
def evidence(sha256):
    """Whether a document with this SHA-256 (hex) was signed or sealed here; names nobody"""
    found = service.evidence(sha256)
    return found


@blp.post("/signatures/verify")
@blp.arguments(DocumentSchema, location="files")
@blp.response(200, VerificationSchema)
@blp.doc(**_multipart(DocumentSchema))
@blp.alt_response(413, description=_TOO_LARGE)
@blp.alt_response(422, description="`not-a-pdf`, `encrypted-pdf` or `broken-pdf`")
def verify_signatures(files):
    """Check every signature in a PDF: who, when, whether intact and trusted, and whether the
    platform holds evidence of it

    Validated by pyHanko with the signing CA's roots as the only trust anchors, offline; a
    changed byte in what a signature covers answers `intact: false`.
    """
    return verify.verify_document(files["document"].read())
