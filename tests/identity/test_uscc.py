"""GB 32100 unified social credit codes: both check characters, the alphabet, normalising."""
import pytest
from hypothesis import given
from hypothesis import strategies as st

from identity import uscc

# Published codes of real enterprises (business licences are public).
REAL = ["91350100M000100Y43", "91110000600037341L", "91310000775785552L"]

_char = st.sampled_from(uscc.ALPHABET)
_body16 = st.tuples(_char, _char, st.text("0123456789", min_size=6, max_size=6),
                    st.text(uscc.ALPHABET, min_size=8, max_size=8)).map("".join)


@pytest.mark.parametrize("code", REAL)
def test_real_codes_verify(code):
    assert uscc.validate(code) == code


def test_normalises_full_width_lower_case_and_space():
    assert uscc.validate(" ９１３５０１００ｍ０００１００ｙ４３ ") == "91350100M000100Y43"


@pytest.mark.parametrize("code, reason", [
    ("91350100M000100Y4", "18 characters"),
    ("91350100M000100Y433", "18 characters"),
    ("91350100M00010OY43", "capital letters other than"),
    ("9135010SM000100Y43", "capital letters other than"),
    ("913501I0M000100Y43", "capital letters other than"),
    ("91350A00M000100Y43", "region"),
    ("91350100M000100X43", "organisation code"),
    ("91350100M000100Y44", "(the 18th)"),
])
def test_refusals_say_why(code, reason):
    with pytest.raises(uscc.InvalidUscc, match=reason.replace("(", r"\(").replace(")", r"\)")):
        uscc.validate(code)


@pytest.mark.parametrize("value", [None, 91350100, b"91350100M000100Y43", "", "\x00" * 18])
def test_not_text_is_refused(value):
    with pytest.raises(uscc.InvalidUscc):
        uscc.validate(value)


@given(_body16)
def test_completed_codes_verify(body):
    code = uscc.complete(body)
    assert uscc.validate(code) == code


@given(_body16, st.integers(0, 17), _char)
def test_any_single_substitution_is_caught(body, position, replacement):
    code = uscc.complete(body)
    changed = code[:position] + replacement + code[position + 1:]
    if changed == code:
        return
    with pytest.raises(uscc.InvalidUscc):
        uscc.validate(changed)


@given(_body16, st.integers(8, 16))
def test_adjacent_transpositions_in_the_organisation_code_are_caught(body, position):
    code = uscc.complete(body)
    swapped = code[:position] + code[position + 1] + code[position] + code[position + 2:]
    if swapped == code:
        return
    with pytest.raises(uscc.InvalidUscc):
        uscc.validate(swapped)


@given(st.text(max_size=40))
def test_arbitrary_text_is_valid_or_refused_never_crashes(text):
    try:
        result = uscc.validate(text)
    except uscc.InvalidUscc:
        return
    assert len(result) == 18
