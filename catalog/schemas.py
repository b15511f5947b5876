"""Request and response bodies of the catalogue routes."""
from datetime import timezone

from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate, validates_schema

from core.schemas import Rfc3339, Text

_CODE = validate.Length(min=1, max=64)


class FormFieldSchema(Schema):
    name = fields.String(required=True)
    label = fields.String()
    credential = fields.String(metadata={"description": "the credential type that fills it"})
    claim = fields.String(metadata={"description": "the claim of that credential that fills it"})


class ServiceItemSchema(Schema):
    code = fields.String(required=True)
    name = fields.String(required=True)
    department = fields.String(required=True)
    conditions = fields.List(fields.String())
    steps = fields.List(fields.String())
    time_limit_days = fields.Integer(metadata={"description": "working days; 0 on the spot"})
    fee = fields.String()
    materials = fields.List(fields.String(), metadata={"description": "credential types"})
    form = fields.List(fields.Nested(FormFieldSchema))
    guide = fields.String()


class ItemQuerySchema(Schema):
    class Meta:
        unknown = EXCLUDE

    department = Text(validate=validate.Length(min=1, max=128))


class BundleItemSchema(Schema):
    code = fields.String()
    name = fields.String()
    department = fields.String()
    materials = fields.List(fields.String())


class BundleSchema(Schema):
    code = fields.String(required=True)
    name = fields.String(required=True)
    description = fields.String()
    items = fields.List(fields.Nested(BundleItemSchema))
    materials = fields.List(fields.String(), metadata={"description": "the union of the items' materials"})
    departments = fields.List(fields.String())


class ApplicationCreateSchema(Schema):
    service_item = Text(validate=_CODE)
    bundle = Text(validate=_CODE)

    @validates_schema
    def _exactly_one(self, data, **kwargs):
        if len(data) != 1:
            raise ValidationError("Give exactly one of service_item or bundle.")


class SubmitSchema(Schema):
    form = fields.Dict(keys=Text(validate=validate.Length(max=64)), load_default=dict,
                       metadata={"description": "values for fields no credential filled"})


class TimelineEntrySchema(Schema):
    status = fields.String()
    at = fields.String()
    note = fields.String()


class ApplicationSchema(Schema):
    id = fields.String(required=True)
    status = fields.String(required=True)
    service_item = fields.String(allow_none=True)
    bundle = fields.String(allow_none=True)
    name = fields.String()
    form = fields.Dict()
    missing = fields.List(fields.String())
    timeline = fields.List(fields.Nested(TimelineEntrySchema))
    created_at = Rfc3339()
    updated_at = Rfc3339()


class SharedCredentialSchema(Schema):
    type = fields.String(required=True, metadata={"description": "the credential type"})
    credential_id = fields.String(required=True)


class DepartmentApplicationSchema(ApplicationSchema):
    shared = fields.List(fields.Nested(SharedCredentialSchema), metadata={
        "description": "the credentials the holder shared at submission"})


class DepartmentQueueQuerySchema(Schema):
    class Meta:
        unknown = EXCLUDE

    status = Text(validate=validate.OneOf(["submitted", "accepted", "rejected", "completed"]),
                  metadata={"description": "only applications in this status (never drafts)"})
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))


class StatusChangeSchema(Schema):
    status = Text(required=True, validate=validate.OneOf(["accepted", "rejected", "completed"]))
    note = Text(validate=validate.Length(max=500),
                metadata={"description": "shown to the holder on the timeline"})


class RuleSchema(Schema):
    credential = fields.Raw(required=True)
    claim = fields.Raw(required=True)
    op = fields.Raw(required=True)
    value = fields.Raw()


class PolicyCreateSchema(Schema):
    name = Text(required=True, validate=validate.Length(min=1, max=128))
    benefit = Text(required=True, validate=validate.Length(min=1, max=500))
    rules = fields.List(fields.Dict(), required=True,
                        metadata={"description": "each {credential, claim, op, value}; all must hold"})
    valid_from = fields.AwareDateTime(default_timezone=timezone.utc, allow_none=True)
    valid_until = fields.AwareDateTime(default_timezone=timezone.utc, allow_none=True)


class PolicySchema(Schema):
    id = fields.String(required=True)
    name = fields.String()
    benefit = fields.String()
    rules = fields.List(fields.Nested(RuleSchema))
    valid_from = Rfc3339(allow_none=True)
    valid_until = Rfc3339(allow_none=True)
    created_at = Rfc3339()
    publisher = fields.String()


class MyPolicySchema(PolicySchema):
    status = fields.String(metadata={"description": "`found`, or `accepted` once taken up"})
    found_at = Rfc3339()
    accepted_at = Rfc3339(allow_none=True)

