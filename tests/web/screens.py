"""`make screens`: a screenshot of each page, written to docs/screens/ (shown in the README).

Serves the app on the embedded defaults with the demo data, as the browser tests do, and walks
through the pages as a resident on a phone (390 px wide) and counter staff on a PC would.
"""
from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from tests.web.flows import counter_signs_in, counter_types_code, hook, resident_signs_in, shown_code
from tests.web.live import NO_CHROMIUM, chromium_missing, launch, live_server

OUT = Path(__file__).resolve().parents[2] / "docs" / "screens"
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 1, "is_mobile": True,
         "has_touch": True}
PC = {"viewport": {"width": 1280, "height": 800}}


def shoot(page, name: str, full_page: bool = True) -> None:
    page.wait_for_timeout(300)  # let the last repaint settle
    page.screenshot(path=str(OUT / f"{name}.png"), full_page=full_page)
    print(f"docs/screens/{name}.png")


def main() -> int:
    if chromium_missing():
        print(NO_CHROMIUM, file=sys.stderr)
        return 1
    from playwright.sync_api import sync_playwright

    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as folder, live_server(Path(folder)) as live, \
            sync_playwright() as driver:
        browser = launch(driver)
        pc = browser.new_context(base_url=live.url, locale="zh-CN", **PC).new_page()
        phone = browser.new_context(base_url=live.url, locale="zh-CN", **PHONE).new_page()

        pc.goto("/")
        shoot(pc, "landing")
        phone.goto("/app/")
        shoot(phone, "app-sign-in")
        resident_signs_in(phone, live.resident(0))
        shoot(phone, "app-my-code")
        phone.click(hook("tab-wallet"))
        phone.wait_for_selector(hook("wallet-card"))
        shoot(phone, "app-wallet")

        pc.goto("/counter/")
        shoot(pc, "counter-sign-in")
        counter_signs_in(pc, live.service_point(0))
        pc.select_option(hook("purpose"), "service-handling")
        counter_types_code(pc, shown_code(phone))
        pc.wait_for_selector(hook("subject-name"))
        pc.click(hook("request-materials"))
        pc.wait_for_selector(f'{hook("request-status")}[data-status="pending"]')

        phone.click(hook("tab-consents"))
        phone.wait_for_selector(hook("consent"))
        shoot(phone, "app-consent")
        phone.click(hook("consent-approve"))
        pc.wait_for_selector(hook("material"))
        shoot(pc, "counter-materials")

        phone.click(hook("tab-scans"))
        phone.wait_for_selector(f'{hook("scan-history")} li')
        shoot(phone, "app-scan-history")

        english = browser.new_context(base_url=live.url, locale="en-GB", **PHONE).new_page()
        english.goto("/app/?lang=en")
        resident_signs_in(english, live.resident(1), "/app/?lang=en")
        shoot(english, "app-my-code-en")
        browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
