"""Request and response bodies of the code routes (marshmallow; they make the OpenAPI document)."""
from marshmallow import Schema, fields, validate

from core.schemas import ProblemSchema, Rfc3339, Text, text_problem  # noqa: F401  (Text is imported from here)


class CodeSchema(Schema):
    code = fields.String(required=True, metadata={
        "description": "`OC1:` + base45 of a COSE_Sign1 CWT; show it as a QR code"})
    expires_at = Rfc3339(required=True, metadata={"description": "RFC 3339; the code's `exp`"})
    refresh_after = Rfc3339(required=True, metadata={
        "description": "RFC 3339; ask for the next code after this moment"})


class DeviceSchema(Schema):
    device_id = fields.String(required=True)
    secret = fields.String(required=True, metadata={
        "description": "base32 TOTP seed, shown once; the device makes `OCD1:<device_id>:<otp>`"})
    period = fields.Integer(required=True, metadata={"description": "TOTP time step, seconds"})
    digits = fields.Integer(required=True, metadata={"description": "digits of the one-time password"})


class JwkSchema(Schema):
    kty = fields.String(required=True)
    crv = fields.String(required=True)
    x = fields.String(required=True)
    kid = fields.String(required=True)
    alg = fields.String(required=True)
    use = fields.String(required=True)


class JwksSchema(Schema):
    keys = fields.List(fields.Nested(JwkSchema), required=True)


class ClientCredentialsSchema(Schema):
    client_id = Text(required=True, validate=validate.Length(min=1, max=64))
    client_secret = Text(required=True, validate=validate.Length(min=1, max=256))


class TokenSchema(Schema):
    access_token = fields.String(required=True)
    token_type = fields.String(required=True)
    expires_in = fields.Integer(required=True)


CODE_MAX_LENGTH = 2048
PURPOSE_MAX_LENGTH = 64


class ScanRequestSchema(Schema):
    code = Text(required=True, validate=validate.Length(min=1, max=CODE_MAX_LENGTH), metadata={
        "description": "the scanned text: `OC1:...` or an offline `OCD1:...` code"})
    purpose = Text(required=True, validate=validate.Length(min=1, max=PURPOSE_MAX_LENGTH))

    @staticmethod
    def quick_load(data):
        """The arguments of a body that is plainly valid, without marshmallow's machinery
        (``codes.fast_path``: a scan is the hottest request); None for anything else, which
        the route's schema then loads and refuses with its own messages."""
        if type(data) is not dict or len(data) != 2:
            return None
        code, purpose = data.get("code"), data.get("purpose")
        if (type(code) is str and type(purpose) is str and 0 < len(code) <= CODE_MAX_LENGTH
                and 0 < len(purpose) <= PURPOSE_MAX_LENGTH and text_problem(code) is None
                and text_problem(purpose) is None):
            return {"code": code, "purpose": purpose}
        return None


class ShownBySchema(Schema):
    display_name = fields.String(required=True, metadata={"description": "masked: 李**"})
    assurance_level = fields.Integer(required=True)
    role = fields.String(metadata={"description": "an enterprise member's role"})
    relation = fields.String(metadata={"description": "a family proxy's relation"})


class SubjectSchema(Schema):
    kind = fields.String(required=True, metadata={"description": "`person` or `enterprise`"})
    display_name = fields.String(required=True, metadata={
        "description": "masked: 张** (an enterprise's name in full)"})
    assurance_level = fields.Integer(required=True)
    shown_by = fields.Nested(ShownBySchema, metadata={
        "description": "who showed the code, when it was not its subject: the member who showed "
                       "an enterprise's code, or the proxy who showed a person's code"})


class ScanSchema(Schema):
    scan_id = fields.String(required=True)
    subject = fields.Nested(SubjectSchema, required=True)
    expires_at = Rfc3339(required=True, metadata={
        "description": "RFC 3339; follow-up requests on this scan are possible until then"})


class ScanListQuerySchema(Schema):
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))


class ScanServicePointSchema(Schema):
    name = fields.String(required=True)


class MyScanSchema(Schema):
    scan_id = fields.String(required=True)
    scanned_at = Rfc3339(required=True)
    service_point = fields.Nested(ScanServicePointSchema, required=True)
    purpose = fields.String(required=True)
    code_kind = fields.String(required=True, metadata={"description": "`online` or `offline`"})
    shared = fields.List(fields.Raw(), required=True, metadata={
        "description": "what was shared with the service point on this scan"})
