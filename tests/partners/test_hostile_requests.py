"""The sign-in pages answer requests no browser would send with a page, never a 500."""
from __future__ import annotations

from tests.helpers import resident
from tests.partners.support import Browser, authorize_url, get_code, make_partner, pkce, redirect_params


def test_an_unsupported_response_type_that_is_not_ascii_is_a_page(client):
    # Authlib quotes the response type in its error, and refuses characters RFC 6749 does
    # not allow in an error description.
    response = client.get("/oauth/authorize?response_type=%C3%B0&state=x")
    assert response.status_code == 400
    assert response.mimetype == "text/html"


def test_a_csrf_token_that_is_not_ascii_is_an_expired_form(app, client):
    partner = make_partner(app)
    _, challenge = pkce()
    url = authorize_url(partner, challenge=challenge)
    Browser(client).open(url)  # the session has a CSRF token now
    response = client.post(url, data={"action": "login", "csrf_token": "\u00e9t\u00e9",
                                      "username": "x", "password": "y"})
    assert response.status_code == 400
    assert "expired" in response.get_data(as_text=True)


def test_a_max_age_of_digits_that_are_not_ascii_is_ignored(app, client):
    person, partner, browser = resident(client), make_partner(app), Browser(client)
    get_code(browser, partner, person)
    _, challenge = pkce()
    # Superscripts are digits to str.isdigit, not to int(): the parameter is not a number.
    for max_age in ("\u00b2", "\u00b9\u2070"):
        answer = browser.open(authorize_url(partner, challenge=challenge, max_age=max_age))
        assert "code" in redirect_params(answer)
