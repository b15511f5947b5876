"""HTTP surface of codes shown for someone else: family proxies (亲情账号) invite, accept,
list, end and show the code of the person they act for; members show their enterprise's code."""
from flask import g
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from core.auth import BEARER, RESIDENT, require
from core.schemas import Rfc3339, Text
from codes.format import ENTERPRISE, PROXIED
from codes.schemas import CodeSchema
from delegation import proxies, shown_codes
from identity import service as identity
from delegation.models import RELATIONS
from enterprises import service as enterprises
from enterprises.models import SHOW_CODE

blp = Blueprint("proxies", __name__, url_prefix="/api/v1",
                description="Family proxies: acting for a child, a parent, someone in one's care")


class ProxyInviteSchema(Schema):
    id_number = Text(required=True, validate=validate.Length(min=1, max=64),
                     metadata={"description": "the person to act for"})
    relation = Text(required=True, validate=validate.OneOf(RELATIONS))


class ProxyPartySchema(Schema):
    display_name = fields.String(required=True, metadata={"description": "masked: 张**"})
    id_number = fields.String(required=True, metadata={"description": "masked"})


class ProxySchema(Schema):
    id = fields.String(required=True, metadata={"description": "the same on both sides"})
    status = fields.String(required=True, metadata={"description": "`invited`, `active`, `ended`"})
    relation = fields.String()
    role = fields.String(metadata={
        "description": "`proxy`: I act for the other person; `principal`: they act for me"})
    other = fields.Nested(ProxyPartySchema)
    accepted_by_guardian = fields.Boolean()
    created_at = Rfc3339()
    accepted_at = Rfc3339(allow_none=True)
    ended_at = Rfc3339(allow_none=True)


class ShownScanSchema(Schema):
    scan_id = fields.String(required=True)
    scanned_at = Rfc3339(required=True)
    service_point = fields.Dict(required=True)
    purpose = fields.String(required=True)
    shared = fields.List(fields.Dict())


class ProxyRecordSchema(ProxySchema):
    scans = fields.List(fields.Nested(ShownScanSchema), metadata={
        "description": "scans of the codes the proxy showed through this relation, newest first"})


def _body(proxy, me: str, acting=None, principal=None) -> dict:
    body = {"id": proxy.id, "status": proxy.status, "relation": proxy.relation,
            "role": "proxy" if proxy.proxy_id == me else "principal",
            "accepted_by_guardian": proxy.accepted_by not in (None, proxy.principal_id),
            "created_at": proxy.created_at, "accepted_at": proxy.accepted_at,
            "ended_at": proxy.ended_at}
    other = principal if proxy.proxy_id == me else acting
    if other is not None:
        body["other"] = {"display_name": identity.display_name(other),
                         "id_number": other.id_number_masked}
    return body


_NOT_A_PROXY = {"description": "`not-a-proxy`"}
_NOT_FOUND = {"description": "`not-found`"}


@blp.post("/me/proxies")
@blp.doc(security=BEARER)
@blp.arguments(ProxyInviteSchema)
@blp.response(201, ProxySchema)
@blp.alt_response(409, description="`too-many-proxies` (5 each way), or `already-invited`")
@blp.alt_response(429, description=identity.LOOKUPS_REFUSED)
@require(RESIDENT)
def invite(data):
    """Invite a resident, by ID number, so that I act for them

    They accept; for a minor, a guardian proven by a birth certificate or household register
    accepts. 422 when nobody has registered with the ID number. Each invitation that looks
    the number up counts against my account's limit, found or not (429 past it).
    """
    proxy = proxies.invite(g.principal_id, data["id_number"], data["relation"])
    body = _body(proxy, g.principal_id, principal=identity.get_person(proxy.principal_id))
    return body


@blp.get("/me/proxies")
@blp.doc(security=BEARER)
@blp.response(200, ProxySchema(many=True))
@require(RESIDENT)
def list_proxies():
    """Both directions: the people I act for and those who act for me, ended ones too"""
    return [_body(p, g.principal_id, a, pr) for p, a, pr in proxies.proxies_of(g.principal_id)]


@blp.get("/me/proxies/<proxy_id>")
@blp.doc(security=BEARER)
@blp.response(200, ProxyRecordSchema)
@blp.alt_response(403, **_NOT_A_PROXY)
@blp.alt_response(404, **_NOT_FOUND)
@require(RESIDENT)
def get_proxy(proxy_id):
    """One relation, as both people see it, with the scans of the codes shown through it"""
    proxy, acting, principal, scans = proxies.relation_record(g.principal_id, proxy_id)
    body = _body(proxy, g.principal_id, acting, principal)
    body["scans"] = [{"scan_id": scan.id, "scanned_at": scan.created_at,
                      "service_point": {"name": name}, "purpose": scan.purpose,
                      "shared": scan.shared or []} for scan, name in scans]
    return body


@blp.post("/me/proxies/<proxy_id>/accept")
@blp.doc(security=BEARER)
@blp.response(200, ProxySchema)
@blp.alt_response(403, description="`not-a-proxy`, or `guardian-required` (a minor accepting)")
@blp.alt_response(404, **_NOT_FOUND)
@blp.alt_response(409, description="`not-invited`")
@require(RESIDENT)
def accept(proxy_id):
    """Accept: the invited person, or for a minor their guardian"""
    proxy = proxies.accept(g.principal_id, proxy_id)
    body = _body(proxy, g.principal_id, identity.get_person(proxy.proxy_id),
                 identity.get_person(proxy.principal_id))
    return body


@blp.delete("/me/proxies/<proxy_id>")
@blp.doc(security=BEARER)
@blp.response(204)
@blp.alt_response(403, **_NOT_A_PROXY)
@blp.alt_response(404, **_NOT_FOUND)
@require(RESIDENT)
def end(proxy_id):
    """End it (either side): from now on the proxy cannot act"""
    proxies.end(g.principal_id, proxy_id)


@blp.get("/me/proxies/<proxy_id>/code")
@blp.doc(security=BEARER)
@blp.response(200, CodeSchema)
@blp.alt_response(403, **_NOT_A_PROXY)
@blp.alt_response(404, **_NOT_FOUND)
@require(RESIDENT)
def proxy_code(proxy_id):
    """The code of the person I act for; a scan names them and me"""
    proxy, principal = proxies.acting_for(g.principal_id, proxy_id)
    return shown_codes.show_code(principal.handle, PROXIED,
                                 {"person": g.principal_id, "proxy": proxy.id}).as_body()


@blp.get("/enterprises/<enterprise_id>/code")
@blp.doc(security=BEARER)
@blp.response(200, CodeSchema)
@blp.alt_response(403, description="`scope-missing`, or `enterprise-not-verified`")
@blp.alt_response(404, description="`not-found`: no such enterprise, or I am not a member of it")
@require(RESIDENT)
def enterprise_code(enterprise_id):
    """The enterprise's code, for members with `show-code`

    The same signed format as a person's code, with the enterprise's handle and kind; a scan
    answers the enterprise and names the member who showed it.
    """
    enterprise, member = enterprises.require_scope(g.principal_id, enterprise_id, SHOW_CODE)
    issued = shown_codes.show_code(enterprise.handle, ENTERPRISE,
                                   {"person": member.person_id, "enterprise": enterprise.id})
    return issued.as_body()
