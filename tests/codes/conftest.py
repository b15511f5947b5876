"""Fixtures for the code tests: a signed-in resident, a service point and its token."""
from __future__ import annotations

import pytest

from tests.codes.support import make_service_point


@pytest.fixture
def holder(client, clock):
    """A registered, signed-in resident (time is frozen first, so tokens are not from the future)."""
    from tests.helpers import resident

    return resident(client)


@pytest.fixture
def scanner(app, client, clock):
    """A service point that may scan for identity checks and service handling, with its token."""
    return make_service_point(client, purposes=["identity-check", "service-handling"])


@pytest.fixture
def grouped(committing_app, monkeypatch):
    """The app with real commits and group commit on (``codes.scan_writer``)."""
    monkeypatch.setitem(committing_app.config, "SCAN_GROUP_COMMIT", True)
    # A wide window, so that the concurrent scans of a test meet in few batches.
    monkeypatch.setitem(committing_app.config, "SCAN_BATCH_WAIT_MS", 50.0)
    committing_app.extensions.pop("scan_writer", None)
    yield committing_app
    committing_app.extensions.pop("scan_writer", None)
