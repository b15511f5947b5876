"""HTTP surface of enterprises: registration, members, the enterprise's code and wallet.

Every path under ``/enterprises/{id}`` answers 404 to anyone who is not a live member of that
enterprise, and 403 ``scope-missing`` to a member without the scope it needs.
"""
from flask import g
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from core.auth import BEARER, RESIDENT, require
from core.schemas import Rfc3339, Text
from enterprises import service as enterprises
from enterprises import wallet as enterprise_holdings
from enterprises.models import ROLES, SCOPES
from identity import service as identity
from wallet.schemas import WalletItemSchema

blp = Blueprint("enterprises", __name__, url_prefix="/api/v1",
                description="Enterprises and the residents who act for them")


class EnterpriseCreateSchema(Schema):
    name = Text(required=True, validate=validate.Length(min=1, max=256))
    uscc = Text(required=True, validate=validate.Length(min=1, max=64), metadata={
        "description": "GB 32100, 18 characters; both check characters are verified"})


class EnterpriseSchema(Schema):
    id = fields.String(required=True)
    name = fields.String(required=True)
    uscc = fields.String(required=True)
    verified = fields.Boolean(required=True, metadata={
        "description": "a valid business licence for this USCC names the legal representative"})
    legal_representative = fields.Boolean(metadata={"description": "whether I am it"})
    role = fields.String(metadata={"description": "my role: `admin` or `staff`"})
    scopes = fields.List(fields.String(), metadata={"description": "my scopes"})
    expires_at = Rfc3339(allow_none=True, metadata={"description": "my membership's end"})


class MemberCreateSchema(Schema):
    id_number = Text(required=True, validate=validate.Length(min=1, max=64))
    role = Text(required=True, validate=validate.OneOf(ROLES))
    scopes = fields.List(Text(validate=validate.OneOf(SCOPES)), required=True,
                         validate=validate.Length(max=len(SCOPES)))
    expires_at = fields.AwareDateTime(load_default=None, allow_none=True, default_timezone=None,
                                      metadata={"description": "RFC 3339; none: until revoked"})


class MemberSchema(Schema):
    member_id = fields.String(required=True)
    display_name = fields.String()
    id_number = fields.String(metadata={"description": "masked"})
    role = fields.String(required=True)
    scopes = fields.List(fields.String(), required=True)
    expires_at = Rfc3339(allow_none=True)
    added_at = Rfc3339()


def _member_body(member, person=None) -> dict:
    body = {"member_id": member.id, "role": member.role, "scopes": list(member.scopes or []),
            "expires_at": member.expires_at,
            "added_at": member.created_at}
    if person is not None:
        body.update(display_name=identity.display_name(person), id_number=person.id_number_masked)
    return body


_NOT_FOUND = {"description": "`not-found`: no such enterprise, or I am not a member of it"}
_FORBIDDEN = {"description": "`scope-missing`, or `enterprise-not-verified`"}


@blp.post("/enterprises")
@blp.doc(security=BEARER)
@blp.arguments(EnterpriseCreateSchema)
@blp.response(201, EnterpriseSchema)
@blp.alt_response(409, description="`already-registered`: an enterprise with this USCC exists")
@require(RESIDENT)
def register(data):
    """Register an enterprise

    I become its first member. It is verified once a valid business licence for this USCC
    names me as legal representative (at once if one is in its wallet already); revoking the
    licence un-verifies it. 422 `validation-error` for a bad USCC (either check character).
    """
    enterprise = enterprises.register_enterprise(g.principal_id, data["name"], data["uscc"])
    _, member = enterprises.acting_member(g.principal_id, enterprise.id)
    body = enterprises.enterprise_view(enterprise, member)
    return body


@blp.get("/me/enterprises")
@blp.doc(security=BEARER)
@blp.response(200, EnterpriseSchema(many=True))
@require(RESIDENT)
def my_enterprises():
    """The enterprises I am a live member of, with my role and scopes"""
    return [enterprises.enterprise_view(e, m) for e, m in enterprises.my_enterprises(g.principal_id)]


@blp.get("/enterprises/<enterprise_id>")
@blp.doc(security=BEARER)
@blp.response(200, EnterpriseSchema)
@blp.alt_response(404, **_NOT_FOUND)
@require(RESIDENT)
def get_enterprise(enterprise_id):
    """One enterprise: whether it is verified, my role and scopes"""
    body = enterprises.enterprise_view(*enterprises.acting_member(g.principal_id, enterprise_id))
    return body


@blp.get("/enterprises/<enterprise_id>/members")
@blp.doc(security=BEARER)
@blp.response(200, MemberSchema(many=True))
@blp.alt_response(403, **_FORBIDDEN)
@blp.alt_response(404, **_NOT_FOUND)
@require(RESIDENT)
def list_members(enterprise_id):
    """The live members (for the legal representative and members with `manage-members`)"""
    return [_member_body(m, p) for m, p in enterprises.members_of(g.principal_id, enterprise_id)]


@blp.post("/enterprises/<enterprise_id>/members")
@blp.doc(security=BEARER)
@blp.arguments(MemberCreateSchema)
@blp.response(201, MemberSchema)
@blp.alt_response(403, **_FORBIDDEN)
@blp.alt_response(404, **_NOT_FOUND)
@blp.alt_response(409, description="`already-member`, or `legal-representative`")
@blp.alt_response(429, description=identity.LOOKUPS_REFUSED)
@require(RESIDENT)
def add_member(data, enterprise_id):
    """Delegate to a resident, by ID number, with a role, scopes and an expiry

    A member with `manage-members` grants only scopes they hold. 422 when nobody has
    registered with the ID number. Each delegation that looks the number up counts against
    my account's limit, shared with proxy invitations, found or not (429 past it).
    """
    member = enterprises.add_member(g.principal_id, enterprise_id, data["id_number"], data["role"],
                                    data["scopes"], data["expires_at"])
    body = _member_body(member)
    return body


@blp.delete("/enterprises/<enterprise_id>/members/<member_id>")
@blp.doc(security=BEARER)
@blp.response(204)
@blp.alt_response(403, **_FORBIDDEN)
@blp.alt_response(404, **_NOT_FOUND)
@blp.alt_response(409, description="`legal-representative`: that membership cannot be revoked")
@require(RESIDENT)
def revoke_member(enterprise_id, member_id):
    """Revoke a membership: it stops working at once"""
    enterprises.revoke_member(g.principal_id, enterprise_id, member_id)


class EnterpriseWalletItemSchema(WalletItemSchema):
    kind = fields.String(required=True, metadata={"description": "`card` or `certificate`"})
    claims = fields.Dict(required=True, metadata={"description": "every claim, unmasked"})


class EnterpriseWalletSchema(Schema):
    cards = fields.List(fields.Nested(EnterpriseWalletItemSchema), required=True)
    certificates = fields.List(fields.Nested(EnterpriseWalletItemSchema), required=True)


@blp.get("/enterprises/<enterprise_id>/wallet")
@blp.doc(security=BEARER)
@blp.response(200, EnterpriseWalletSchema)
@blp.alt_response(403, **_FORBIDDEN)
@blp.alt_response(404, **_NOT_FOUND)
@require(RESIDENT)
def enterprise_wallet(enterprise_id):
    """The enterprise's licences and permits, for members with `wallet:read`"""
    items = enterprise_holdings.wallet_of(g.principal_id, enterprise_id)
    return {"cards": [i for i in items if i["kind"] == "card"],
            "certificates": [i for i in items if i["kind"] != "card"]}
