"""Request and response bodies of the wallet routes (marshmallow; they make the OpenAPI document)."""
from datetime import timezone

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

# Every machine client (service point, issuer) signs in the same way.
from codes.schemas import ClientCredentialsSchema, Text, TokenSchema  # noqa: F401
from core.schemas import Rfc3339

VCT = validate.Length(min=1, max=64)


class HolderSchema(Schema):
    id_number = Text(validate=validate.Length(min=1, max=32))
    uscc = Text(validate=validate.Length(min=1, max=32))

    @validates_schema
    def _exactly_one(self, data, **kwargs):
        if len(data) != 1:
            raise ValidationError("Give exactly one of id_number or uscc.")


class IssueSchema(Schema):
    type = Text(required=True, validate=VCT)
    holder = fields.Nested(HolderSchema, required=True)
    claims = fields.Dict(keys=Text(validate=validate.Length(min=1, max=64)), required=True)
    valid_from = fields.AwareDateTime(default_timezone=timezone.utc)
    valid_until = fields.AwareDateTime(default_timezone=timezone.utc)


class StatusEntrySchema(Schema):
    idx = fields.Integer(required=True)
    uri = fields.String(required=True)


class IssuedSchema(Schema):
    id = fields.String(required=True)
    type = fields.String(required=True)
    credential = fields.String(required=True, metadata={
        "description": "the SD-JWT VC: issuer-signed JWT `~` every disclosure `~`"})
    issued_at = Rfc3339(required=True)
    valid_from = Rfc3339(allow_none=True)
    valid_until = Rfc3339(allow_none=True)
    status_list = fields.Nested(StatusEntrySchema, required=True)


class RevokeSchema(Schema):
    reason = Text(required=True, validate=validate.Length(min=1, max=500))


class RevokedSchema(Schema):
    id = fields.String(required=True)
    status = fields.String(required=True)
    revoked_at = Rfc3339(required=True)
    reason = fields.String(required=True)


class IssuerNameSchema(Schema):
    name = fields.String(required=True)


class WalletItemSchema(Schema):
    id = fields.String(required=True)
    type = fields.String(required=True)
    name = fields.String(required=True, metadata={"description": "the type's display name"})
    issuer = fields.Nested(IssuerNameSchema, required=True)
    summary = fields.Dict(required=True, metadata={
        "description": "the claims, identifying numbers masked, pictures left out"})
    issued_at = Rfc3339(required=True)
    valid_from = Rfc3339(allow_none=True)
    valid_until = Rfc3339(allow_none=True)
    status = fields.String(required=True, metadata={
        "description": "`valid`, `revoked`, `expired` or `not-yet-valid`"})


class WalletSchema(Schema):
    cards = fields.List(fields.Nested(WalletItemSchema), required=True)
    certificates = fields.List(fields.Nested(WalletItemSchema), required=True)


class CredentialSchema(WalletItemSchema):
    kind = fields.String(required=True)
    claims = fields.Dict(required=True)
    credential = fields.String(required=True, metadata={"description": "the SD-JWT VC, signed"})


class PresentationRequestSchema(Schema):
    claims = fields.List(Text(validate=validate.Length(min=1, max=64)), required=True,
                         validate=validate.Length(min=1, max=50))
    audience = Text(validate=validate.Length(min=1, max=256))


class PresentationSchema(Schema):
    presentation = fields.String(required=True)
    qr_text = fields.String(required=True, metadata={
        "description": "the chosen claims as a compact code to show as a QR code: `OCV1:` + "
                       "base45 of a COSE_Sign1 signed with a key of `/.well-known/jwks.json`"})
    nonce = fields.String(required=True)
    expires_at = Rfc3339(required=True, metadata={
        "description": "verifiers refuse the key-binding JWT after this"})


class VerifyRequestSchema(Schema):
    credential = fields.String(required=True, validate=validate.Length(min=1, max=1_000_000))
    audience = Text(validate=validate.Length(min=1, max=256), metadata={
        "description": "when given, the key-binding JWT's `aud` must be this"})


class VerifyResultSchema(Schema):
    valid = fields.Boolean(required=True)
    issuer = fields.Dict(allow_none=True)
    type = fields.String(allow_none=True)
    status = fields.String(required=True)
    disclosed = fields.Dict(required=True)
    problems = fields.List(fields.String(), required=True)
    key_binding = fields.Dict(allow_none=True)
