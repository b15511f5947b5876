"""Bodies of the phone app's own routes."""
from marshmallow import EXCLUDE, Schema, fields, validate



class NoticeSchema(Schema):
    id = fields.String(required=True)
    kind = fields.String(metadata={"description": "`application`, `policy` or `credential` (issued or revoked; `ref` its id)"})
    text = fields.String()
    ref = fields.String(allow_none=True, metadata={"description": "the application or policy id"})
    created_at = fields.String()
    read_at = fields.String(allow_none=True)


class NoticeQuerySchema(Schema):
    class Meta:
        unknown = EXCLUDE

    unread = fields.Boolean(load_default=False)
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))


class HomeSchema(Schema):
    profile = fields.Dict(metadata={"description": "as GET /api/v1/me answers"})
    code = fields.Dict(metadata={"description": "{code, expires_at, refresh_after}"})
    cards = fields.List(fields.Dict())
    certificate_count = fields.Integer()
    pending_consents = fields.List(fields.Dict())
    applications = fields.List(fields.Dict(), metadata={"description": "in progress"})
    policies = fields.List(fields.Dict(), metadata={"description": "found for me"})
    recent_scans = fields.List(fields.Dict())
    notices = fields.List(fields.Nested(NoticeSchema))
    unread_notices = fields.Integer()
