"""HTTP surface of the code: my code, devices, JWKS, service-point tokens, scans."""
from flask import g, make_response, request
from flask_smorest import Blueprint

from core.auth import BEARER, RESIDENT, SERVICE_POINT, require
from core.responses import json_response
from codes import devices, fast_path, keys, render, scans, service, service_points
from codes.format import PERSON
from codes.schemas import (
    ClientCredentialsSchema,
    CodeSchema,
    DeviceSchema,
    JwksSchema,
    MyScanSchema,
    ScanListQuerySchema,
    ScanRequestSchema,
    ScanSchema,
    TokenSchema,
)

blp = Blueprint("codes", __name__, url_prefix="/api/v1", description="The code and scanning")
wellknown_blp = Blueprint("wellknown", __name__, url_prefix="/.well-known", description="Public keys")

JWKS_MAX_AGE = 60


def _my_handle() -> str:
    handle = g.claims.get("h")
    if not handle:
        from identity.service import signed_in_person

        handle = signed_in_person(g.principal_id).handle
    return handle


@blp.get("/me/code")
@blp.doc(security=BEARER)
@blp.response(200, CodeSchema)
@require(RESIDENT, prefetch=service.my_code_keys)
def my_code():
    """My current code

    The same code comes back until `refresh_after` (two thirds of its life), then a new one;
    after a successful scan the next request gets a new one at once.
    """
    handle = _my_handle()
    issued = service.current_code(handle, PERSON, g.prefetched.get(service.code_key(handle), service.NOT_READ))
    return json_response(issued.answer, no_store=True)


def _code_image(kind: str):
    handle = _my_handle()
    issued = service.current_code(handle, PERSON)
    body = service.code_image(handle, issued, kind)
    response = make_response(body)
    response.mimetype = render.MEDIA_TYPES[kind]
    response.headers["X-Code-Expires-At"] = issued.as_dict()["expires_at"]
    response.headers["Cache-Control"] = "no-store"
    return response


def _image_doc(media_type: str) -> dict:
    return {"security": BEARER, "responses": {"200": {
        "description": "the current code as a QR image (ECC M); `X-Code-Expires-At` says until when",
        "content": {media_type: {"schema": {"type": "string", "format": "binary"}}}}}}


@blp.get("/me/code.png")
@blp.doc(**_image_doc("image/png"))
@require(RESIDENT)
def my_code_png():
    """My current code as a PNG image"""
    return _code_image("png")


@blp.get("/me/code.svg")
@blp.doc(**_image_doc("image/svg+xml"))
@require(RESIDENT)
def my_code_svg():
    """My current code as an SVG image"""
    return _code_image("svg")


@blp.post("/me/devices")
@blp.doc(security=BEARER)
@blp.response(201, DeviceSchema)
@blp.alt_response(409, description="`too-many-devices`")
@require(RESIDENT)
def add_device():
    """Register a device for offline codes

    The device keeps `secret` and shows `OCD1:<device_id>:<otp>`, where `otp` is its
    `digits`-digit TOTP (RFC 6238, SHA-1, `period` seconds). The secret is shown only here.
    """
    device, secret = devices.register_device(g.principal_id)
    body = {"device_id": device.id, "secret": secret, "period": device.period,
            "digits": devices.DIGITS}
    return body


@blp.delete("/me/devices/<device_id>")
@blp.doc(security=BEARER)
@blp.response(204)
@blp.alt_response(404, description="`not-found`")
@require(RESIDENT)
def remove_device(device_id):
    """Remove a device: its offline codes stop working"""
    devices.remove_device(g.principal_id, device_id)


@wellknown_blp.get("/jwks.json")
@wellknown_blp.response(200, JwksSchema)
def jwks():
    """The public keys that verify codes offline

    Current, upcoming (published before they sign) and retired keys until their last code has
    expired. Refresh on a schedule and whenever a code names an unknown `kid`.
    """
    keys.ensure_published_key()
    return keys.jwks(), {"Cache-Control": f"public, max-age={JWKS_MAX_AGE}"}


@blp.post("/service-points/token")
@blp.arguments(ClientCredentialsSchema)
@blp.response(200, TokenSchema)
@blp.alt_response(401, description="`invalid-client`")
def service_point_token(data):
    """A service point's access token, for its client id and secret"""
    return service_points.issue_token(data["client_id"], data["client_secret"])


@blp.post("/scans")
@blp.doc(security=BEARER)
@blp.arguments(ScanRequestSchema())  # one instance: no schema built per scan
@blp.response(201, ScanSchema)
@blp.alt_response(400, description="`malformed-code`")
@blp.alt_response(403, description="`purpose-not-allowed` or `subject-suspended`")
@blp.alt_response(409, description="`code-already-used`")
@blp.alt_response(422, description="`invalid-code`, `code-expired` or `validation-error`")
@require(SERVICE_POINT, cached_client=True)
def scan(data):
    """Scan a code

    Checks, in order: the purpose is allowed for this service point; the code parses, verifies
    and has not expired; its holder exists and is not suspended; it was not used before. The
    answer names the holder as a service point may see them (masked name).
    """
    refused = fast_path.refusal(request.environ)
    if refused is not None:  # scanned ahead of Flask and refused: answered here, not again
        raise refused
    return json_response(scans.scan_code(g.client, data["code"], data["purpose"]).as_body(),
                         status=201)


@blp.get("/me/scans")
@blp.doc(security=BEARER)
@blp.arguments(ScanListQuerySchema, location="query")
@blp.response(200, MyScanSchema(many=True))
@require(RESIDENT)
def my_scans(query):
    """Who scanned my code: newest first"""
    return [{"scan_id": scan.id, "scanned_at": scan.created_at,
             "service_point": {"name": name}, "purpose": scan.purpose,
             "code_kind": scan.code_kind, "shared": scan.shared or []}
            for scan, name in scans.scans_of(g.principal_id, query["limit"])]
