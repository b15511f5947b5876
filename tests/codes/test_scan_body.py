"""The scan body's shortcut (``ScanRequestSchema.quick_load``, used by ``codes.fast_path``) takes
only what the schema takes, and loads it the same; everything else goes to the schema."""
from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from marshmallow import ValidationError

from codes.schemas import ScanRequestSchema

SCHEMA = ScanRequestSchema()
texts = st.one_of(st.text(max_size=70), st.text(min_size=2040, max_size=2060),
                  st.sampled_from(["", "\x00", "a\ud800b", "identity-check"]))
values = st.one_of(texts, st.integers(), st.none(), st.lists(st.text(max_size=3), max_size=2))
bodies = st.one_of(
    st.fixed_dictionaries({"code": values, "purpose": values}),
    st.dictionaries(st.sampled_from(["code", "purpose", "extra"]), values, max_size=3),
    values)


@settings(max_examples=400, deadline=None)
@given(bodies)
def test_the_shortcut_takes_only_what_the_schema_takes_and_loads_it_the_same(body):
    quick = ScanRequestSchema.quick_load(body)
    try:
        loaded = SCHEMA.load(body)
    except (ValidationError, TypeError):
        assert quick is None
    else:
        assert quick is None or quick == loaded


def test_a_plain_body_takes_the_shortcut():
    body = {"code": "OC1:ABC", "purpose": "identity-check"}
    assert ScanRequestSchema.quick_load(body) == body == SCHEMA.load(body)
