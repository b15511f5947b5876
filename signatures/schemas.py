"""What the signature routes take and answer."""
from flask_smorest.fields import Upload
from marshmallow import EXCLUDE, Schema, fields, validate

from core.schemas import Rfc3339, Text

_DOCUMENT = "a PDF, at most 10 MB, not encrypted"
_STEP_UP = ("the step-up: my password again, or (with two-step sign-in on) a fresh one-time "
            "password in `otp`. A wrong one counts against the password sign-in's lockout")


class DocumentSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    document = Upload(required=True, metadata={"description": _DOCUMENT})


class SealFormSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    reason = Text(validate=validate.Length(max=256), metadata={
        "description": "why, written into the signature (e.g. 同意)"})
    # Neither is required when parsed: without both the answer is 401
    # reauthentication-required, not a validation error.
    password = Text(validate=validate.Length(max=4096), load_only=True,
                    metadata={"description": _STEP_UP})
    otp = Text(validate=validate.Length(max=16), load_only=True,
               metadata={"description": "a one-time password instead of `password`"})


class SignFormSchema(SealFormSchema):
    location = Text(validate=validate.Length(max=256), metadata={
        "description": "where I sign, written into the signature"})


class SignUploadSchema(SignFormSchema, DocumentSchema):
    """What POST /me/signatures takes, as one multipart body (for the API document)."""


class SealUploadSchema(SealFormSchema, DocumentSchema):
    """What POST /enterprises/{id}/seals takes, as one multipart body (for the API document)."""


class SignatureRecordSchema(Schema):
    id = fields.String(required=True)
    kind = fields.String(required=True, metadata={"description": "`person` or `enterprise`"})
    enterprise_id = fields.String(allow_none=True, metadata={
        "description": "for a seal: the enterprise I sealed for"})
    signed_at = Rfc3339(required=True)
    document_sha256 = fields.String(required=True, metadata={
        "description": "SHA-256 (hex) of the signed document, as answered"})
    original_sha256 = fields.String(required=True, metadata={
        "description": "SHA-256 (hex) of the document as sent"})
    certificate_serial = fields.String(required=True, metadata={
        "description": "the one-time certificate's serial number (hex)"})


class EvidenceSchema(Schema):
    signed_at = Rfc3339(required=True)
    kind = fields.String(required=True, metadata={"description": "`person` or `enterprise`"})
    certificate_serial = fields.String(required=True)


class VerifiedSignatureSchema(Schema):
    signer = fields.String(allow_none=True, metadata={
        "description": "the name in the signing certificate (a person or an enterprise)"})
    kind = fields.String(allow_none=True, metadata={"description": "`person` or `enterprise`"})
    signed_at = fields.String(allow_none=True, metadata={
        "description": "the signing time in the signature"})
    intact = fields.Boolean(required=True, metadata={
        "description": "the signed bytes are unchanged and no disallowed change came after"})
    trusted = fields.Boolean(required=True, metadata={
        "description": "the certificate chains to the platform's signing CA and was valid "
                       "at the signing time"})
    certificate_serial = fields.String(allow_none=True)
    evidence = fields.Boolean(required=True, metadata={
        "description": "the platform recorded this signature (存证)"})


class VerificationSchema(Schema):
    signatures = fields.List(fields.Nested(VerifiedSignatureSchema), required=True)
