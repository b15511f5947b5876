"""The zero-material journey (零材料) in a real browser: two browser contexts, a counter and
a resident's phone, driven by the pages' data-test hooks."""
from __future__ import annotations

import pytest

from tests.web.flows import counter_signs_in, counter_types_code, hook, resident_signs_in, shown_code
from tests.web.live import NO_CHROMIUM, chromium_missing

pytestmark = [pytest.mark.browser, pytest.mark.skipif(chromium_missing(), reason=NO_CHROMIUM)]

PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True,
         "has_touch": True}


def test_the_counter_scans_asks_for_the_resident_id_and_reads_it_once_approved(live, contexts):
    resident = live.resident(0)  # 张三丰
    phone = contexts(**PHONE).new_page()
    counter = contexts(viewport={"width": 1280, "height": 900}).new_page()

    resident_signs_in(phone, resident)
    code = shown_code(phone)
    assert code.startswith("OC1:")
    assert phone.text_content(hook("code-expires")).strip()

    counter_signs_in(counter, live.service_point(0))
    counter.select_option(hook("purpose"), "service-handling")
    counter_types_code(counter, code)
    counter.wait_for_selector(f'{hook("subject-name")}:has-text("张**")')
    assert counter.text_content(hook("subject-kind")) == "个人"
    assert counter.text_content(hook("assurance-level")) == "认证等级 2"

    # The phone shows a new code at once after the scan.
    phone.wait_for_function(
        "old => document.querySelector('[data-test=\"my-code\"]').dataset.code !== old", arg=code)

    counter.select_option(hook("request-type"), ["resident-id"])
    counter.click(hook("request-materials"))
    counter.wait_for_selector(f'{hook("request-status")}:has-text("待确认")')

    phone.click(hook("tab-consents"))
    consent = phone.wait_for_selector(hook("consent"))
    assert "Citizen Service Hall, Xicheng" in consent.text_content()
    assert "居民身份证" in consent.text_content()
    assert "业务办理" in consent.text_content()
    phone.click(hook("consent-approve"))
    phone.wait_for_selector(hook("consent"), state="detached")

    counter.wait_for_selector(f'{hook("request-status")}:has-text("已同意")')
    material = counter.wait_for_selector(hook("material"))
    text = material.text_content()
    assert "居民身份证" in text and "张三丰" in text and "已验证" in text
    assert resident["username"] in text  # the ID number, in full, once shared

    phone.click(hook("tab-scans"))
    entry = phone.wait_for_selector(f'{hook("scan-history")} li:has-text("Citizen Service Hall")')
    assert "居民身份证" in entry.text_content()
