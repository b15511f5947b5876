"""Times in answers: one field, written as ``core.clock.rfc3339`` writes them."""
from datetime import datetime, timedelta, timezone

from marshmallow import Schema

from core import clock
from core.schemas import Rfc3339


class _Moment(Schema):
    at = Rfc3339(allow_none=True)


def test_aware_times_are_written_in_utc_with_a_z():
    moment = datetime(2026, 3, 1, 8, 30, 5, tzinfo=timezone(timedelta(hours=8)))
    assert _Moment().dump({"at": moment}) == {"at": "2026-03-01T00:30:05Z"}
    assert _Moment().dump({"at": moment})["at"] == clock.rfc3339(moment)


def test_naive_times_are_taken_as_utc_and_microseconds_kept():
    moment = datetime(2026, 3, 1, 0, 30, 5, 120000)
    assert _Moment().dump({"at": moment}) == {"at": "2026-03-01T00:30:05.120000Z"}


def test_none_is_null():
    assert _Moment().dump({"at": None}) == {"at": None}


def test_the_document_says_date_time(client):
    spec = client.get("/api/openapi.json").json
    profile = spec["components"]["schemas"]["Profile"]["properties"]["created_at"]
    assert profile["type"] == "string" and profile["format"] == "date-time"
    partner = spec["components"]["schemas"]["Partner"]["properties"]["granted_at"]
    assert partner["format"] == "date-time"
