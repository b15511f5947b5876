"""The landing page, the partner documentation page and the resident's H5 shell.

The resident's app (``/app/``) is one page: its script signs in with the public API and
keeps the tokens in the tab's ``sessionStorage`` (gone when the tab closes), as a phone app
keeps them; the device secret for offline codes is kept in ``localStorage``, on purpose: it
must work with no network.
"""
from __future__ import annotations

from flask import Blueprint, render_template
from flask_babel import gettext as _

from partners.grants import issuer
from web import words
from web.security import page_headers

bp = Blueprint("web", __name__, template_folder="templates", static_folder="static",
               static_url_path="/assets")
bp.after_request(page_headers)


@bp.get("/")
def landing():
    return render_template("web/landing.html")


@bp.get("/partners/")
def partner_docs():
    return render_template("web/partners.html", issuer=issuer())


@bp.get("/app/")
def resident_app():
    return render_template("web/app.html", messages=_app_messages())


def _app_messages() -> dict:
    """What the app's script says, in the reader's language."""
    return {
        "types": {vct: str(name) for vct, name in words.TYPES.items()},
        "purposes": {code: str(name) for code, name in words.PURPOSES.items()},
        "claims": {code: str(name) for code, name in words.CLAIMS.items()},
        "otp_needed": _("Enter the one-time code from your authenticator app as well."),
        "bad_login": _("The username, password or one-time code is not correct. Check them "
                       "and try again."),
        "network": _("No connection. Check the network; your offline code is shown meanwhile."),
        "no_network_no_device": _("No connection, and this phone has no offline code yet. "
                                  "Connect to the network and sign in once."),
        "expires_in": _("Valid for %(seconds)s s"),
        "offline": _("Offline code: it works without a network"),
        "expired_signin": _("Your sign-in has ended. Sign in again."),
        "nothing_pending": _("Nothing is waiting for your answer."),
        "no_cards": _("Your wallet is empty."),
        "no_scans": _("Nobody has scanned your code yet."),
        "no_notices": _("No messages."),
        "approve": _("Approve"),
        "deny": _("Deny"),
        "approved": _("Approved: they can now read what they asked for."),
        "denied": _("Denied: nothing was shared."),
        "asks_for": _("asks for"),
        "purpose": _("Purpose"),
        "until": _("Answer before"),
        "on_behalf_of": _("For %(name)s"),
        "partner_asks": _("%(partner)s asks to sign you in. Check that the code it shows is "
                          "%(code)s."),
        "may_read": _("It may read"),
        "login_approved": _("Approved. Go back to the other screen: it signs you in."),
        "login_denied": _("Declined. Nothing was shared."),
        "login_unknown": _("No sign-in request has this code, or it has expired. Check the code "
                           "on the other screen."),
        "shared": _("Shared"),
        "face_check": _("Face check"),
        "issued_by": _("Issued by"),
        "valid_until": _("Valid until"),
        "unread": _("New"),
        "try_again": _("Something went wrong. Try again."),
        "too_many_devices": _("This account has too many devices for offline codes. Sign out "
                              "on another phone first."),
    }
