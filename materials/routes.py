"""HTTP surface of materials: a service point asks for a scanned holder's materials, the
holder (or whoever answers for them) approves or denies, the service point fetches them."""
from flask import g
from flask_smorest import Blueprint

from core.auth import BEARER, RESIDENT, SERVICE_POINT, require
from core.errors import NotFound
from delegation import answering
from materials import service as consents
from materials.schemas import (
    ConsentQuerySchema,
    ConsentSchema,
    MaterialRequestCreatedSchema,
    MaterialRequestSchema,
    RequestStateSchema,
)

blp = Blueprint("materials", __name__, url_prefix="/api/v1",
                description="Materials shared with service points, with the holder's consent")


# Materials for service points ----------------------------------------------------------


@blp.post("/scans/<scan_id>/requests")
@blp.doc(security=BEARER)
@blp.arguments(MaterialRequestSchema)
@blp.response(201, MaterialRequestCreatedSchema)
@blp.alt_response(404,
                  description="`not-found`: no live scan of this service point; an unknown service item")
@require(SERVICE_POINT)
def request_materials(data, scan_id):
    """Ask the scanned holder for materials, by credential types

    `missing` lists the asked types the holder has no valid credential of. Asking by
    `service_item` asks for that item's materials; 404 for an unknown item.
    """
    types = data.get("types")
    if "service_item" in data:
        from catalog.items import materials_for_item  # hook: the service catalogue

        types = materials_for_item(data["service_item"])
        if types is None:
            raise NotFound("No service item has this code.")
    created = consents.request_materials(g.principal_id, scan_id, types)
    return {"request_id": created.id, "status": created.status, "types": created.types,
            "missing": created.missing, "expires_at": created.expires_at}


@blp.get("/scans/<scan_id>/requests/<request_id>")
@blp.doc(security=BEARER)
@blp.response(200, RequestStateSchema)
@blp.alt_response(404, description="`not-found`")
@require(SERVICE_POINT)
def request_state(scan_id, request_id):
    """The answer to a material request, and once approved the materials

    Each material is a presentation of the whole credential bound to this service point:
    `aud` is its client id and `nonce` the request id.
    """
    state = consents.request_state(g.principal_id, scan_id, request_id)
    return state


@blp.get("/me/consents")
@blp.doc(security=BEARER)
@blp.arguments(ConsentQuerySchema, location="query")
@blp.response(200, ConsentSchema(many=True))
@require(RESIDENT)
def my_consents(query):
    """Requests for my materials waiting for my answer: who asks, why, for what"""
    pending = consents.pending_consents(g.principal_id)
    # Whom I answer for, when not for myself.
    others = answering.on_behalf_of(g.principal_id, [r for r, _ in pending])
    return [{"id": r.consent_id, "request_id": r.id, "service_point": {"name": name},
             "purpose": r.purpose, "types": r.types, "expires_at": r.expires_at,
             **({"on_behalf_of": others[r.id]} if r.id in others else {})}
            for r, name in pending]


@blp.post("/me/consents/<consent_id>/approve")
@blp.doc(security=BEARER)
@blp.response(204)
@blp.alt_response(404, description="`not-found`: not mine, or expired")
@blp.alt_response(409, description="`already-answered`")
@require(RESIDENT)
def approve(consent_id):
    """Approve: the asking service point may fetch those materials until the request expires"""
    consents.answer(g.principal_id, consent_id, approve=True)


@blp.post("/me/consents/<consent_id>/deny")
@blp.doc(security=BEARER)
@blp.response(204)
@blp.alt_response(404, description="`not-found`: not mine, or expired")
@blp.alt_response(409, description="`already-answered`")
@require(RESIDENT)
def deny(consent_id):
    """Deny: nothing is shared"""
    consents.answer(g.principal_id, consent_id, approve=False)
