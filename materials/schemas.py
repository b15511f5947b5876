"""Schemas of material requests and consents."""
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from codes.schemas import Text
from core.schemas import Rfc3339
from wallet.schemas import VCT


class MaterialRequestSchema(Schema):
    service_item = Text(validate=validate.Length(min=1, max=64))
    types = fields.List(Text(validate=VCT), validate=validate.Length(min=1, max=20))

    @validates_schema
    def _exactly_one(self, data, **kwargs):
        if len(data) != 1:
            raise ValidationError("Give exactly one of service_item or types.")


class MaterialRequestCreatedSchema(Schema):
    request_id = fields.String(required=True)
    status = fields.String(required=True)
    types = fields.List(fields.String(), required=True)
    missing = fields.List(fields.String(), required=True)
    expires_at = Rfc3339(required=True)


class MaterialSchema(Schema):
    type = fields.String(required=True)
    credential = fields.String(required=True, metadata={
        "description": "an SD-JWT presentation bound to this service point (`aud` its client id, "
                       "`nonce` the request id)"})


class RequestStateSchema(Schema):
    status = fields.String(required=True)
    materials = fields.List(fields.Nested(MaterialSchema))
    missing = fields.List(fields.String())
    expires_at = Rfc3339()


class ConsentQuerySchema(Schema):
    status = fields.String(load_default="pending", validate=validate.OneOf(["pending"]))


class ServicePointNameSchema(Schema):
    name = fields.String(required=True)


class OnBehalfOfSchema(Schema):
    kind = fields.String(required=True, metadata={"description": "`person` or `enterprise`"})
    display_name = fields.String(required=True, metadata={
        "description": "the person I act for (masked), or the enterprise's name"})


class ConsentSchema(Schema):
    id = fields.String(required=True)
    request_id = fields.String(required=True)
    service_point = fields.Nested(ServicePointNameSchema, required=True)
    purpose = fields.String(required=True)
    types = fields.List(fields.String(), required=True)
    expires_at = Rfc3339(required=True)
    on_behalf_of = fields.Nested(OnBehalfOfSchema, metadata={
        "description": "present when I answer for someone else: a person I act for as their "
                       "proxy, or an enterprise whose `consent` scope I hold"})
