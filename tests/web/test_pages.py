"""The pages without a browser: languages, headers, cookies, CSRF and sign-out."""
from __future__ import annotations

import re

import pytest

from app import create_app
from codes.service_points import create_service_point
from core.extensions import db
from tests.helpers import resident

PAGES = ["/", "/app/", "/counter/", "/partners/"]


def _counter(app):
    create_service_point("Window 3", ["identity-check"], client_id="window-3",
                         client_secret="s3cret-" + "x" * 30)
    db.session.commit()  # a request answered with an error rolls back what is not committed
    return "window-3", "s3cret-" + "x" * 30


def _csrf(page_html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page_html).group(1)


def _signed_in_counter(client, app, counter=None):
    client_id, secret = counter or _counter(app)
    token = _csrf(client.get("/counter/").get_data(as_text=True))
    answer = client.post("/counter/login", data={"csrf_token": token, "client_id": client_id,
                                                 "client_secret": secret})
    assert answer.status_code == 303, answer.get_data(as_text=True)
    page = client.get("/counter/").get_data(as_text=True)
    return _csrf(page), answer


@pytest.mark.parametrize("path", PAGES)
def test_pages_are_in_chinese_by_default_and_english_on_request(client, path):
    chinese = client.get(path)
    assert chinese.status_code == 200
    assert '<html lang="zh-CN">' in chinese.get_data(as_text=True)
    assert "一码通" in chinese.get_data(as_text=True)
    assert "Accept-Language" in chinese.headers["Vary"]

    by_header = client.get(path, headers={"Accept-Language": "en-GB,en;q=0.8"})
    assert '<html lang="en">' in by_header.get_data(as_text=True)
    assert "OneCode" in by_header.get_data(as_text=True)
    by_query = client.get(path + "?lang=en", headers={"Accept-Language": "zh-CN"})
    assert '<html lang="en">' in by_query.get_data(as_text=True)


def test_the_language_chosen_by_query_is_remembered(client):
    first = client.get("/?lang=en")
    cookie = first.headers["Set-Cookie"]
    assert cookie.startswith("lang=en") and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert '<html lang="en">' in client.get("/counter/").get_data(as_text=True)
    assert '<html lang="zh-CN">' in client.get("/?lang=zh-CN").get_data(as_text=True)


@pytest.mark.parametrize("path", PAGES)
def test_pages_load_scripts_only_from_this_origin(client, path):
    page = client.get(path)
    policy = page.headers["Content-Security-Policy"]
    assert "script-src 'self';" in policy and "default-src 'self'" in policy
    assert "unsafe-inline" not in policy and "frame-ancestors 'none'" in policy
    html = page.get_data(as_text=True)
    for tag in re.findall(r"<script[^>]*>", html):
        assert 'src="/' in tag or 'type="application/json"' in tag, tag
    assert not re.search(r"\son[a-z]+=", html), "no inline event handlers"
    assert "style=" not in html
    assert not re.search(r'(src|href)="(https?:)?//', html), "nothing from another origin"


@pytest.mark.parametrize("path", PAGES)
def test_every_field_has_a_label(client, path):
    html = client.get(path).get_data(as_text=True)
    labelled = set(re.findall(r'<label for="([^"]+)"', html))
    for field in re.findall(r"<(?:input|select|textarea)\b[^>]*>", html):
        if 'type="hidden"' in field:
            continue
        found = re.search(r'\sid="([^"]+)"', field)
        assert found and found.group(1) in labelled, field


def test_problems_are_translated_and_keep_their_type(client):
    chinese = client.post("/api/v1/auth/login", json={"username": "13800000000", "password": "x"})
    english = client.post("/api/v1/auth/login", json={"username": "13800000000", "password": "x"},
                          headers={"Accept-Language": "en"})
    assert chinese.get_json()["type"] == english.get_json()["type"]
    assert chinese.get_json()["type"].endswith("/invalid-credentials")
    assert chinese.get_json()["title"] == "用户名或密码不正确"
    assert english.get_json()["title"] == "The username or password is not correct"
    assert "Accept-Language" in chinese.headers["Vary"]

    missing = client.get("/api/v1/me", headers={"Accept-Language": "zh-CN"})
    assert missing.get_json()["title"] == "需要登录认证"
    assert missing.get_json()["detail"] == "请携带 Bearer 令牌。"


def test_the_counter_signs_in_with_a_csrf_token_and_keeps_the_token_on_the_server(app, client):
    client_id, secret = _counter(app)
    refused = client.post("/counter/login", data={"client_id": client_id, "client_secret": secret})
    assert refused.status_code == 403
    assert refused.get_json()["type"].endswith("/csrf-failed")

    csrf, answer = _signed_in_counter(client, app, (client_id, secret))
    cookie = answer.headers["Set-Cookie"]
    assert cookie.startswith("oc_counter=") and "HttpOnly" in cookie
    assert "SameSite=Strict" in cookie and "Path=/counter/" in cookie and "Secure" not in cookie
    page = client.get("/counter/").get_data(as_text=True)
    assert "Window 3" in page and 'data-test="scan-input"' in page
    assert "eyJ" not in page, "no token in the page"
    assert "eyJ" not in cookie


def test_counter_calls_need_the_csrf_token(app, client):
    csrf, _answer = _signed_in_counter(client, app)
    without = client.post("/counter/api/scans", json={"code": "OC1:X", "purpose": "identity-check"})
    assert without.status_code == 403
    refused = client.post("/counter/api/scans", json={"code": "OC1:X", "purpose": "identity-check"},
                          headers={"X-CSRF-Token": csrf})
    # A refusal is an answer the console shows, in words, with the problem's type.
    assert refused.status_code == 200
    assert refused.get_json()["refused"]["type"] == "malformed-code"
    assert refused.get_json()["refused"]["title"] == "这不是码"


def test_signing_out_ends_the_counter_session(app, client):
    csrf, answer = _signed_in_counter(client, app)
    session_id = answer.headers["Set-Cookie"].split(";")[0].split("=", 1)[1]
    out = client.post("/counter/logout", data={"csrf_token": csrf})
    assert out.status_code == 303
    assert 'data-test="login-client-id"' in client.get("/counter/").get_data(as_text=True)
    # The old session id is worth nothing, even sent again by hand.
    client.set_cookie("oc_counter", session_id, path="/counter/")
    csrf = _csrf(client.get("/counter/").get_data(as_text=True))
    again = client.post("/counter/api/scans", json={"code": "OC1:X", "purpose": "identity-check"},
                        headers={"X-CSRF-Token": csrf})
    assert again.status_code == 401


def test_a_disabled_service_point_is_signed_out_of_the_console(app, client):
    from codes.service_points import set_enabled

    _signed_in_counter(client, app)
    set_enabled("window-3", False)
    assert 'data-test="login-client-id"' in client.get("/counter/").get_data(as_text=True)


def test_a_wrong_secret_says_what_to_do(app, client):
    client_id, _secret = _counter(app)
    token = _csrf(client.get("/counter/").get_data(as_text=True))
    answer = client.post("/counter/login", data={"csrf_token": token, "client_id": client_id,
                                                 "client_secret": "wrong"})
    assert answer.status_code == 401
    assert "请向管理员核实后重试" in answer.get_data(as_text=True)


def test_cookies_are_secure_when_the_public_address_is_https(base_app):
    overrides = {k: base_app.config[k] for k in ("SECRET_KEY", "ENCRYPTION_KEY", "DATABASE_URL")}
    app = create_app({**overrides, "TESTING": True, "REDIS_URL": None,
                      "PUBLIC_URL": "https://onecode.example"})
    assert app.config["SESSION_COOKIE_SECURE"] is True
    answer = app.test_client().get("/?lang=en")
    assert "Secure" in answer.headers["Set-Cookie"]


def test_the_partner_pages_follow_the_language(client):
    chinese = client.get("/oauth/device?user_code=ABCD-EFGH").get_data(as_text=True)
    assert '<html lang="zh-CN">' in chinese and "用一码通登录" in chinese
    english = client.get("/oauth/device?user_code=ABCD-EFGH",
                         headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert '<html lang="en">' in english and "Sign in with the OneCode app" in english


def test_the_console_says_who_showed_a_proxys_code(app, client):
    son, mother = resident(client, name="王小二"), resident(client, name="李秀英")
    invited = client.post("/api/v1/me/proxies", headers=son["headers"],
                          json={"id_number": mother["id_number"], "relation": "parent"}).get_json()
    client.post(f"/api/v1/me/proxies/{invited['id']}/accept", headers=mother["headers"])
    code = client.get(f"/api/v1/me/proxies/{invited['id']}/code", headers=son["headers"]).get_json()
    csrf, _answer = _signed_in_counter(client, app)
    scanned = client.post("/counter/api/scans", json={"code": code["code"], "purpose": "identity-check"},
                          headers={"X-CSRF-Token": csrf}).get_json()
    assert scanned["subject"]["display_name"] == "李**"
    assert scanned["subject"]["shown_by"] == {"display_name": "王**", "assurance_level": 1,
                                              "text": "由 王** 代其父母出示"}


def test_the_console_asks_by_service_item_and_shows_the_materials_verified(app, client):
    from tests.catalog.support import load_sample_catalogue
    from tests.codes.support import my_code
    from tests.wallet.support import issued, make_issuer

    load_sample_catalogue()
    holder = resident(client, name="赵敏")
    issued(client, make_issuer(client), holder)
    csrf = {"X-CSRF-Token": _signed_in_counter(client, app)[0]}
    scanned = client.post("/counter/api/scans", headers=csrf, json={
        "code": my_code(client, holder)["code"], "purpose": "identity-check"}).get_json()
    asked = client.post(f"/counter/api/scans/{scanned['scan_id']}/requests", headers=csrf,
                        json={"service_item": "birth-medical-certificate"})
    assert asked.status_code == 201
    assert asked.get_json()["types"] == ["居民身份证"] and asked.get_json()["missing"] == []
    watch = f"/counter/api/scans/{scanned['scan_id']}/requests/{asked.get_json()['request_id']}"
    assert client.get(watch).get_json() == {"status": "pending"}

    consent = client.get("/api/v1/me/consents?status=pending", headers=holder["headers"]).get_json()
    client.post(f"/api/v1/me/consents/{consent[0]['id']}/approve", headers=holder["headers"])
    state = client.get(watch).get_json()
    assert state["status"] == "approved"
    [material] = state["materials"]
    assert material["type"] == "居民身份证" and material["valid"] is True
    assert {"label": "姓名", "value": "赵敏"} in material["claims"]
    assert {"label": "身份证号", "value": holder["id_number"]} in material["claims"]

    unknown = client.post(f"/counter/api/scans/{scanned['scan_id']}/requests", headers=csrf,
                          json={"service_item": "no-such-item"}).get_json()
    assert unknown["refused"]["type"] == "not-found"
    assert unknown["refused"]["detail"] == "没有此编码的事项。"


def test_the_console_shows_a_licence_shown_as_a_compact_code_then_its_revocation(app, client,
                                                                                 clock):
    from tests.wallet.support import issued, make_issuer

    holder = resident(client, name="赵敏")
    issuer = make_issuer(client)
    credential = issued(client, issuer, holder)
    shown = client.post(f"/api/v1/me/wallet/{credential['id']}/presentations",
                        json={"claims": ["name", "birthdate"]}, headers=holder["headers"]).json
    assert shown["qr_text"].startswith("OCV1:")
    csrf = {"X-CSRF-Token": _signed_in_counter(client, app)[0]}

    def scan():
        answer = client.post("/counter/api/scans", headers=csrf, json={
            "code": shown["qr_text"], "purpose": "identity-check"})
        assert answer.status_code == 200
        return answer.get_json()["licence"]

    licence = scan()
    assert licence["valid"] is True and licence["problems"] == []
    assert licence["type"] == "居民身份证" and licence["issuer"] == "市公安局"
    assert {"name": "姓名", "value": "赵敏"} in licence["claims"]
    client.post(f"/api/v1/issuer/credentials/{credential['id']}/revoke",
                json={"reason": "reported lost"}, headers=issuer["headers"])
    licence = scan()
    assert licence["valid"] is False and licence["problems"] == ["revoked"]


def test_a_problem_detail_with_values_is_translated_with_them_filled_in(client):
    body = "[" * 100 + "]" * 100
    for language, detail in (("zh-CN", "JSON 最多嵌套 64 层。"),
                             ("en", "JSON may be nested at most 64 levels deep.")):
        answer = client.post("/api/v1/residents", data=body, headers={
            "Content-Type": "application/json", "Accept-Language": language})
        assert answer.status_code == 400
        assert answer.json["type"].endswith("/malformed-json")
        assert answer.json["detail"] == detail
