"""What a resident and counter staff do in the pages, by their data-test hooks."""
from __future__ import annotations


def hook(name: str) -> str:
    return f'[data-test="{name}"]'


def ready(page, which: str) -> None:
    """Wait until the page's script has started (it marks <body data-ready>): a field is in
    the document before the script at the end of the body runs."""
    page.wait_for_selector(f'body[data-ready="{which}"]', state="attached")


def resident_signs_in(page, resident: dict, path: str = "/app/") -> None:
    page.goto(path)
    ready(page, "app")
    page.fill(hook("login-username"), resident["phone"])
    page.fill(hook("login-password"), resident["password"])
    page.click(hook("login-submit"))
    page.wait_for_selector(f'{hook("my-code")}[data-code]')


def shown_code(page) -> str:
    return page.get_attribute(hook("my-code"), "data-code")


def counter_signs_in(page, point: dict, path: str = "/counter/") -> None:
    page.goto(path)
    page.fill(hook("login-client-id"), point["client_id"])
    page.fill(hook("login-client-secret"), point["client_secret"])
    page.click(hook("login-submit"))
    page.wait_for_selector(hook("scan-input"))
    ready(page, "counter")


def counter_types_code(page, code: str) -> None:
    page.fill(hook("scan-input"), code)
    page.press(hook("scan-input"), "Enter")
