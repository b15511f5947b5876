"""What a partner app and a browser do, for the OpenID Connect tests.

``FlaskTransport`` lets an unchanged ``requests`` session (and so Authlib's OAuth2Session)
talk to the Flask test client; ``Browser`` walks the HTML pages as a person would, reading
each form and posting it back with its CSRF token.
"""
from __future__ import annotations

import base64
import hashlib
import secrets
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlencode, urlsplit

import requests
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from requests.structures import CaseInsensitiveDict

from partners.service import create_partner

ISSUER = "http://onecode.test"  # PUBLIC_URL in the test configuration
REDIRECT_URI = "https://partner.example/callback"


def make_partner(app, name="Partner Bank", scopes=("profile", "phone"), redirect_uris=None):
    """Register a partner through the service (as the CLI does); returns id, secret, name."""
    from core.extensions import db

    client, secret = create_partner(name, list(redirect_uris or [REDIRECT_URI]), list(scopes))
    db.session.commit()
    return {"client_id": client.client_id, "client_secret": secret, "name": name}


class FlaskTransport(requests.adapters.BaseAdapter):
    """A requests transport adapter that hands each request to the Flask test client."""

    def __init__(self, client):
        super().__init__()
        self.client = client

    def send(self, request, **kwargs):
        url = urlsplit(request.url)
        path = url.path + ("?" + url.query if url.query else "")
        headers = {k: v for k, v in request.headers.items()
                   if k.lower() not in ("host", "content-length")}
        body = request.body.encode() if isinstance(request.body, str) else request.body
        answer = self.client.open(path, method=request.method, headers=headers, data=body)
        response = requests.Response()
        response.status_code = answer.status_code
        response.headers = CaseInsensitiveDict(dict(answer.headers))
        response._content = answer.get_data()
        response.url = request.url
        response.request = request
        response.encoding = "utf-8"
        response.reason = answer.status
        return response

    def close(self):
        pass


class _Forms(HTMLParser):
    def __init__(self):
        super().__init__()
        self.forms: list[dict] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.forms.append({"action": attrs.get("action"), "fields": {}, "buttons": []})
        elif tag == "input" and self.forms and attrs.get("name"):
            self.forms[-1]["fields"][attrs["name"]] = attrs.get("value", "")
        elif tag == "button" and self.forms and attrs.get("name"):
            self.forms[-1]["buttons"].append((attrs["name"], attrs.get("value", "")))


def forms_of(html: str) -> list[dict]:
    parser = _Forms()
    parser.feed(html)
    return parser.forms


def form_with(html: str, action_value: str) -> dict:
    """The form whose hidden ``action`` field has this value."""
    for form in forms_of(html):
        if form["fields"].get("action") == action_value:
            return form
    raise AssertionError(f"no {action_value!r} form on the page:\n{html[:2000]}")


class Browser:
    """A person's browser on the Flask test client (it keeps the session cookie)."""

    def __init__(self, client):
        self.client = client

    def open(self, url: str):
        parts = urlsplit(url)
        return self.client.get(parts.path + ("?" + parts.query if parts.query else ""))

    def submit(self, page, action_value: str, **values):
        form = form_with(page.get_data(as_text=True), action_value)
        data = dict(form["fields"])
        data.update(values)
        return self.client.post(form["action"], data=data)

    def sign_in(self, page, username: str, password: str, otp: str = ""):
        return self.submit(page, "login", username=username, password=password, otp=otp)

    def consent(self, page, allow: bool = True):
        return self.submit(page, "consent", decision="allow" if allow else "deny")


def redirect_params(response) -> dict:
    """The query parameters of a redirect to the partner (one value each)."""
    assert response.status_code == 302, (response.status_code, response.get_data(as_text=True)[:500])
    location = response.headers["Location"]
    assert location.startswith(REDIRECT_URI), location
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    return verifier, create_s256_code_challenge(verifier)


def authorize_url(partner: dict, scope="openid profile phone", challenge: str | None = None,
                  **extra) -> str:
    params = {"response_type": "code", "client_id": partner["client_id"],
              "redirect_uri": REDIRECT_URI, "scope": scope, "state": "st-" + secrets.token_hex(4),
              "nonce": "n-" + secrets.token_hex(8)}
    if challenge is not None:
        params.update(code_challenge=challenge, code_challenge_method="S256")
    params.update(extra)
    params = {k: v for k, v in params.items() if v is not None}
    return "/oauth/authorize?" + urlencode(params)


def basic(partner: dict) -> dict:
    raw = f"{partner['client_id']}:{partner['client_secret']}".encode()
    return {"Authorization": "Basic " + base64.b64encode(raw).decode()}


def get_code(browser: Browser, partner: dict, person: dict, scope="openid profile phone",
             **extra) -> tuple[str, str, dict]:
    """Sign in and consent through the pages; returns (code, verifier, redirect params)."""
    verifier, challenge = pkce()
    page = browser.open(authorize_url(partner, scope, challenge, **extra))
    if page.status_code == 200 and "action" in page.get_data(as_text=True):
        if 'value="login"' in page.get_data(as_text=True):
            page = browser.sign_in(page, person["phone"], person["password"])
        if page.status_code == 200:
            page = browser.consent(page)
    params = redirect_params(page)
    return params["code"], verifier, params


def exchange(client, partner: dict, code: str, verifier: str | None, **extra):
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI}
    if verifier is not None:
        data["code_verifier"] = verifier
    data.update(extra)
    return client.post("/oauth/token", data=data, headers=basic(partner))


def s256(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
