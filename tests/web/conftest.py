"""Fixtures of the page tests: a live server per test (its own port and database, so tests
run in parallel under xdist) and one Chromium per worker."""
from __future__ import annotations

import pytest

from tests.web.live import NO_CHROMIUM, PageWatch, chromium_missing, launch, live_server


@pytest.fixture
def live(tmp_path):
    with live_server(tmp_path) as server:
        yield server


@pytest.fixture(scope="session")
def playwright():
    if chromium_missing():
        pytest.skip(NO_CHROMIUM)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def browser(playwright):
    chromium = launch(playwright)
    yield chromium
    chromium.close()


@pytest.fixture
def watch(live):
    """Every context a test makes with ``contexts`` is watched: no console error, no request
    to another origin."""
    watcher = PageWatch(live.url)
    yield watcher
    watcher.check()


@pytest.fixture
def contexts(browser, live, watch):
    """``contexts(**options)`` → a new browser context on the live server, watched."""
    made = []

    def make(target=None, **options):
        options.setdefault("locale", "zh-CN")
        context = (target or browser).new_context(base_url=live.url, **options)
        context.set_default_timeout(20_000)  # generous: CI runs the browsers in parallel on two cores
        watch.attach(context)
        made.append(context)
        return context

    yield make
    for context in made:
        context.close()
