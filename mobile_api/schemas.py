"""Bodies of the phone app's own routes."""
from marshmallow import EXCLUDE, Schema, fields, validate

from core.schemas import Rfc3339


class NoticeSchema(Schema):
    id = fields.String(required=True)
    kind = fields.String(metadata={"description": "`application`, `policy` or `credential` (issued or revoked; `ref` its id)"})
    text = fields.String()
    ref = fields.String(allow_none=True, metadata={"description": "the application or policy id"})
    created_at = Rfc3339()
    read_at = Rfc3339(allow_none=True)


class NoticeQuerySchema(Schema):
    class Meta:
        unknown = EXCLUDE

    unread = fields.Boolean(load_default=False)
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))


class PendingConsentItemSchema(Schema):
    id = fields.String(required=True)
    request_id = fields.String(required=True)
    service_point = fields.Dict(required=True, metadata={"description": "{name}"})
    purpose = fields.String(required=True)
    types = fields.List(fields.String(), required=True)
    expires_at = Rfc3339(required=True)


class ApplicationItemSchema(Schema):
    id = fields.String(required=True)
    name = fields.String(required=True)
    status = fields.String(required=True)
    service_item = fields.String(required=True)
    bundle = fields.String(allow_none=True)
    missing = fields.List(fields.String())
    updated_at = Rfc3339(allow_none=True)


class FoundPolicyItemSchema(Schema):
    id = fields.String(required=True)
    name = fields.String(required=True)
    benefit = fields.String()
    status = fields.String(required=True)
    found_at = Rfc3339()


class RecentScanItemSchema(Schema):
    scan_id = fields.String(required=True)
    scanned_at = Rfc3339(required=True)
    service_point = fields.Dict(required=True, metadata={"description": "{name}"})
    purpose = fields.String(required=True)


class HomeSchema(Schema):
    profile = fields.Dict(metadata={"description": "as GET /api/v1/me answers"})
    code = fields.Dict(metadata={"description": "{code, expires_at, refresh_after}"})
    cards = fields.List(fields.Dict())
    certificate_count = fields.Integer()
    pending_consents = fields.List(fields.Nested(PendingConsentItemSchema))
    applications = fields.List(fields.Nested(ApplicationItemSchema),
                               metadata={"description": "in progress"})
    policies = fields.List(fields.Nested(FoundPolicyItemSchema),
                           metadata={"description": "found for me"})
    recent_scans = fields.List(fields.Nested(RecentScanItemSchema))
    notices = fields.List(fields.Nested(NoticeSchema))
    unread_notices = fields.Integer()
