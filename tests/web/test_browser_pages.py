"""Each page in a real browser: a phone's width, both languages, refusals in words, sign-out,
the offline code and a partner's sign-in approved on the phone. No page logs a console error
and no request leaves the origin (the ``watch`` fixture checks both after each test)."""
from __future__ import annotations

import pytest

from tests.web.flows import (counter_signs_in, counter_types_code, hook, ready, resident_signs_in,
                             shown_code)
from tests.web.live import NO_CHROMIUM, chromium_missing

pytestmark = [pytest.mark.browser, pytest.mark.skipif(chromium_missing(), reason=NO_CHROMIUM)]

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
PC = {"viewport": {"width": 1280, "height": 900}}
RESIDENT_TABS = ["code", "wallet", "consents", "scans", "partner", "notices"]


def _no_sideways_scrolling(page) -> None:
    widths = page.evaluate("[document.documentElement.scrollWidth, document.body.scrollWidth,"
                           " window.innerWidth]")
    assert max(widths[:2]) <= widths[2] == 390, (page.url, widths)


def test_a_phone_screen_needs_no_sideways_scrolling(live, contexts):
    page = contexts(**PHONE).new_page()
    for path in ["/", "/partners/", "/counter/", "/app/"]:
        page.goto(path)
        _no_sideways_scrolling(page)
    resident_signs_in(page, live.resident(0))
    for tab in RESIDENT_TABS:
        page.click(hook(f"tab-{tab}"))
        page.wait_for_selector(f'#panel-{tab}:not([hidden])')
        _no_sideways_scrolling(page)
    counter_signs_in(page, live.service_point(0))
    counter_types_code(page, "OC1:NOT-A-CODE")
    page.wait_for_selector(f'{hook("scan-error")}:not([hidden])')
    _no_sideways_scrolling(page)


def test_the_wallet_shows_the_cards_and_certificates(live, contexts):
    page = contexts(**PHONE).new_page()
    resident_signs_in(page, live.resident(1))
    page.click(hook("tab-wallet"))
    page.wait_for_selector(hook("wallet-card"))
    cards = page.locator(hook("wallet-card"))
    assert cards.count() == 2
    text = " ".join(cards.all_text_contents())
    assert "居民身份证" in text and "社会保障卡" in text and "发证机关: 市公安局" in text


def test_the_pages_speak_english_when_asked(live, contexts):
    page = contexts(locale="en-GB", **PC).new_page()
    page.goto("/")
    assert page.get_attribute("html", "lang") == "en"
    assert "One code for every service" in page.text_content("h1")
    counter_signs_in(page, live.service_point(0))
    assert page.text_content(hook("scan-submit")) == "Check the code"
    counter_types_code(page, "OC1:NOT-A-CODE")
    error = page.wait_for_selector(f'{hook("scan-error")}:not([hidden])')
    assert error.text_content().startswith("Not valid") or error.text_content().startswith("Not a code")

    chinese = contexts(**PC).new_page()
    chinese.goto("/?lang=en")
    assert chinese.get_attribute("html", "lang") == "en"
    chinese.click("text=中文")
    assert chinese.get_attribute("html", "lang") == "zh-CN"
    assert chinese.text_content("h1") == "一码通办，一码通行"


def test_refusals_are_told_in_words_with_what_to_do(live, contexts):
    phone = contexts(**PHONE).new_page()
    counter = contexts(**PC).new_page()
    resident_signs_in(phone, live.resident(0))
    code = shown_code(phone)
    counter_signs_in(counter, live.service_point(0))

    counter_types_code(counter, code)
    counter.wait_for_selector(hook("subject-name"))
    counter_types_code(counter, code)
    error = counter.wait_for_selector(f'{hook("scan-error")}:not([hidden])')
    assert error.text_content() == "已使用：请对方刷新后出示新码。"
    assert counter.is_hidden(hook("subject-name"))

    counter.select_option(hook("purpose"), "identity-check")
    counter_types_code(counter, "hello")
    counter.wait_for_selector(f'{hook("scan-error")}:has-text("不是码")')

    metro = contexts(**PC).new_page()
    counter_signs_in(metro, live.service_point(1))  # a metro gate: transit only
    metro.evaluate("""() => { const s = document.querySelector('[data-test="purpose"]');
                             s.add(new Option('identity-check', 'identity-check', true, true)); }""")
    counter_types_code(metro, shown_code(phone))
    metro.wait_for_selector(f'{hook("scan-error")}:has-text("无权限")')


def test_signing_out_ends_both_sessions(live, contexts):
    context = contexts(**PC)
    counter = context.new_page()
    counter_signs_in(counter, live.service_point(0))
    counter.click(hook("logout"))
    counter.wait_for_selector(hook("login-client-id"))
    assert not [c for c in context.cookies() if c["name"] == "oc_counter"]

    phone = context.new_page()
    resident_signs_in(phone, live.resident(0))
    phone.click(hook("logout"))
    phone.wait_for_selector(f'{hook("login-username")}:visible')
    assert phone.evaluate("sessionStorage.length + localStorage.length") == 0
    phone.reload()
    phone.wait_for_selector(f'{hook("login-username")}:visible')


def test_a_phone_with_no_network_shows_its_offline_code_and_the_counter_accepts_it(
        live, contexts, watch):
    watch.allow("net::ERR_INTERNET_DISCONNECTED")  # the browser says so of calls cut off
    phone_context = contexts(**PHONE)
    phone = phone_context.new_page()
    resident_signs_in(phone, live.resident(2))
    phone.wait_for_function("localStorage.getItem('onecode.device') !== null")
    phone_context.set_offline(True)
    phone.wait_for_selector(f'{hook("my-code")}[data-offline="true"]', timeout=15_000)
    offline = shown_code(phone)
    assert offline.startswith("OCD1:")
    assert phone.is_visible("#offline-note")
    assert phone.text_content(hook("code-expires")).strip()

    counter = contexts(**PC).new_page()
    counter_signs_in(counter, live.service_point(0))
    counter_types_code(counter, offline)
    counter.wait_for_selector(f'{hook("subject-name")}:has-text("王**")')

    phone_context.set_offline(False)
    phone.wait_for_selector(f'{hook("my-code")}:not([data-offline])', timeout=15_000)
    assert shown_code(phone).startswith("OC1:")


def test_the_phone_approves_a_partners_sign_in_by_its_user_code(live, contexts):
    import base64
    import json
    import urllib.parse
    import urllib.request

    with live.app.app_context():
        from core.extensions import db
        from partners.service import create_partner

        partner, secret = create_partner("Partner Bank", ["https://bank.example/cb"],
                                         ["openid", "profile"])
        client_id = partner.client_id
        db.session.commit()
    basic = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    asked = urllib.request.Request(
        live.url + "/oauth/device_authorization", method="POST",
        data=urllib.parse.urlencode({"scope": "openid profile"}).encode(),
        headers={"Authorization": f"Basic {basic}",
                 "Content-Type": "application/x-www-form-urlencoded"})
    with urllib.request.urlopen(asked) as answer:
        user_code = json.load(answer)["user_code"]

    phone = contexts(**PHONE).new_page()
    resident_signs_in(phone, live.resident(0))
    phone.click(hook("tab-partner"))
    phone.fill(hook("user-code"), user_code)
    phone.click(hook("user-code-lookup"))
    phone.wait_for_selector("#partner-request:not([hidden])")
    assert "Partner Bank" in phone.text_content("#partner-asks")
    assert user_code in phone.text_content("#partner-asks")
    assert "姓名" in phone.text_content("#partner-reads")
    phone.click(hook("user-code-approve"))
    result = phone.wait_for_selector(f'{hook("user-code-result")}:not([hidden])')
    assert "已同意" in result.text_content()


def test_sign_in_asks_for_the_one_time_code_when_two_step_sign_in_is_on(live, contexts, watch):
    import json
    import time
    import urllib.request

    import pyotp

    # The browser reports the API's 401 otp-required as a failed load; the page logs nothing.
    watch.allow("status of 401")
    resident = live.resident(3)

    def call(path, body, token=None):
        headers = {"Content-Type": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        request = urllib.request.Request(live.url + "/api/v1" + path, method="POST",
                                         data=json.dumps(body).encode(), headers=headers)
        with urllib.request.urlopen(request) as answer:
            return json.loads(answer.read() or b"null")

    token = call("/auth/login", {"username": resident["phone"],
                                 "password": resident["password"]})["access_token"]
    secret = call("/auth/totp", {}, token)["secret"]
    generator = pyotp.TOTP(secret)  # six digits, 30 s steps, as identity/totp.py
    call("/auth/totp/confirm", {"otp": generator.now()}, token)

    page = contexts(**PHONE).new_page()
    page.goto("/app/")
    ready(page, "app")
    assert page.is_hidden(hook("login-otp"))
    page.fill(hook("login-username"), resident["username"])  # the ID number, this time
    page.fill(hook("login-password"), resident["password"])
    page.click(hook("login-submit"))
    page.wait_for_selector(f'{hook("login-otp")}:visible')
    assert "动态验证码" in page.text_content(hook("login-error"))
    page.fill(hook("login-otp"), generator.at(time.time() + 30))  # the step after the one spent
    page.click(hook("login-submit"))
    page.wait_for_selector(f'{hook("my-code")}[data-code]')
