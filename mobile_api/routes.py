"""The phone app's own surface: the home screen in one round trip, and notices."""
from flask import g
from flask_smorest import Blueprint

from core.auth import BEARER, RESIDENT, require
from core.responses import json_response
from catalog import notices
from mobile_api import home as home_screen
from mobile_api.home import notice_body
from mobile_api.schemas import HomeSchema, NoticeQuerySchema, NoticeSchema

blp = Blueprint("mobile", __name__, url_prefix="/api/v1", description="The phone app's home and notices")


@blp.get("/me/home")
@blp.doc(security=BEARER)
@blp.response(200, HomeSchema)
@require(RESIDENT, prefetch=home_screen.prefetch)
def home():
    """Everything the home screen shows, in one response

    Profile, a fresh code, cards, the number of certificates, pending consents, applications in
    progress, policies found for me, recent scans and notices. Served from a per-person cache
    until something on the screen changes; the code is always current.
    """
    body = home_screen.answer(g.claims, g.prefetched)
    return json_response(body, no_store=True)


@blp.get("/me/notices")
@blp.doc(security=BEARER)
@blp.arguments(NoticeQuerySchema, location="query")
@blp.response(200, NoticeSchema(many=True))
@require(RESIDENT)
def my_notices(query):
    """My notices, newest first (`?unread=true` for the unread ones)"""
    return [notice_body(n) for n in notices.notices_of(g.principal_id, unread_only=query["unread"],
                                                        limit=query["limit"])]


@blp.post("/me/notices/<notice_id>/read")
@blp.doc(security=BEARER)
@blp.response(204)
@blp.alt_response(404, description="`not-found`: not one of my notices")
@require(RESIDENT)
def read_notice(notice_id):
    """Mark a notice read"""
    notices.mark_read(g.principal_id, notice_id)
