"""Shapes of identity's requests and answers (marshmallow), and so of the OpenAPI document.

Schemas check shapes and bound sizes; the rules about content (checksums, phone numbers,
password strength) live in the service, which reports them by field in the same way.
"""
from marshmallow import Schema, fields, validate

from core.schemas import Rfc3339


class RegistrationSchema(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=256),
                         metadata={"description": "Full name as on the ID card, 1-64 characters",
                                   "example": "张三丰"})
    id_number = fields.String(required=True, validate=validate.Length(min=1, max=64),
                              metadata={"description": "GB 11643 resident ID number (18 characters)",
                                        "example": "110101199003070011"})
    phone = fields.String(required=True, validate=validate.Length(min=1, max=32),
                          metadata={"description": "Mainland mobile number, optionally +86",
                                    "example": "13812345678"})
    password = fields.String(required=True, validate=validate.Length(min=1, max=4096),
                             load_only=True,
                             metadata={"description": "8 to 256 characters; not common, not "
                                                      "containing the ID number, phone or name"})


class ProfileSchema(Schema):
    id = fields.String(metadata={"description": "Opaque identifier"})
    name = fields.String()
    id_number = fields.String(attribute="id_number_masked",
                              metadata={"example": "110************011"})
    phone = fields.String(attribute="phone_masked", metadata={"example": "138****5678"})
    birthdate = fields.Date()
    assurance_level = fields.Integer(metadata={
        "description": "1 registered, 2 matched by a resident-id credential, 3 and face matched"})
    totp_enabled = fields.Boolean()
    created_at = Rfc3339()


class LoginSchema(Schema):
    username = fields.String(required=True, validate=validate.Length(min=1, max=64),
                             metadata={"description": "ID number or phone number"})
    password = fields.String(required=True, validate=validate.Length(min=1, max=4096),
                             load_only=True)
    otp = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=16),
                        metadata={"description": "Six-digit one-time password, when TOTP is on"})


class TokenPairSchema(Schema):
    access_token = fields.String(required=True)
    refresh_token = fields.String(required=True)
    token_type = fields.String(required=True, metadata={"example": "Bearer"})
    expires_in = fields.Integer(required=True, metadata={"description": "Access token lifetime, s"})


class RefreshSchema(Schema):
    refresh_token = fields.String(load_default=None, validate=validate.Length(max=4096),
                                  metadata={"description": "Or send it as the bearer token"})


class TotpSetupSchema(Schema):
    secret = fields.String(required=True, metadata={"description": "Base32 TOTP secret"})
    otpauth_uri = fields.String(required=True,
                                metadata={"description": "otpauth:// URI for authenticator apps"})


class OtpSchema(Schema):
    otp = fields.String(required=True, validate=validate.Length(min=1, max=16),
                        metadata={"description": "Six-digit one-time password"})
