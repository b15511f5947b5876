"""Bodies of the phone app's partner routes."""
from marshmallow import Schema, fields

from core.schemas import Rfc3339


class PartnerRefSchema(Schema):
    client_id = fields.String(required=True)
    name = fields.String(required=True)


class LoginRequestSchema(Schema):
    user_code = fields.String(required=True, metadata={"description": "compare with the one the partner shows"})
    partner = fields.Nested(PartnerRefSchema, required=True)
    scopes = fields.List(fields.String(), required=True)
    may_read = fields.List(fields.String(), required=True,
                           metadata={"description": "what approving lets the partner read, in plain words"})
    kind = fields.String(required=True, metadata={"description": "`browser` (our sign-in page) or `device`"})
    expires_at = Rfc3339(required=True)


class PartnerSchema(Schema):
    client_id = fields.String(required=True)
    name = fields.String(required=True)
    scopes = fields.List(fields.String(), required=True)
    may_read = fields.List(fields.String(), required=True)
    granted_at = Rfc3339(required=True)
    updated_at = Rfc3339(required=True)
