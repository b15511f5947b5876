"""GB 11643 ID numbers and mainland mobile numbers: normalising, checking, masking."""
from datetime import date, timedelta

import pytest
from hypothesis import given, strategies as st

from identity.id_numbers import (
    birthdate_of,
    check_character,
    make_id_number,
    mask_id_number,
    mask_phone,
    normalise_id_number,
    normalise_phone,
    validate_id_number,
)

# The example printed in GB 11643-1999 itself.
STANDARD_EXAMPLE = "11010519491231002X"
PROVINCES = [11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45,
             46, 50, 51, 52, 53, 54, 61, 62, 63, 64, 65, 71, 81, 82, 83, 91]
ID_CHARS = "0123456789X"


def _value(ch: str) -> int:
    return 10 if ch == "X" else int(ch)


def test_the_standards_own_example_is_valid():
    assert validate_id_number(STANDARD_EXAMPLE) == STANDARD_EXAMPLE
    assert birthdate_of(STANDARD_EXAMPLE) == date(1949, 12, 31)


def test_make_id_number_computes_the_check_character():
    assert make_id_number("110105", "19491231", 2) == STANDARD_EXAMPLE
    assert make_id_number("110105", date(1949, 12, 31), 2) == STANDARD_EXAMPLE


@given(st.text(alphabet="0123456789", min_size=17, max_size=17))
def test_any_17_digits_with_their_check_character_satisfy_iso_7064(first17):
    # ISO 7064 MOD 11-2: the digits weighted by 2^(18-i) mod 11 (the check as 1) sum to 1 mod 11.
    number = first17 + check_character(first17)
    total = sum(_value(ch) * pow(2, 17 - i, 11) for i, ch in enumerate(number))
    assert total % 11 == 1


valid_numbers = st.builds(
    make_id_number,
    region=st.builds(lambda p, rest: f"{p:02d}{rest:04d}", st.sampled_from(PROVINCES),
                     st.integers(0, 9999)),
    birthdate=st.dates(min_value=date(1900, 1, 1), max_value=date(2020, 12, 31)),
    seq=st.integers(0, 999),
)


@given(valid_numbers)
def test_any_valid_region_date_and_sequence_with_its_check_passes(number):
    assert validate_id_number(number) == number


@given(valid_numbers, st.integers(0, 17), st.integers(1, 10))
def test_changing_any_single_character_is_caught(number, position, delta):
    original = number[position]
    alphabet = ID_CHARS if position == 17 else "0123456789"
    replacement = alphabet[(alphabet.index(original) + delta) % len(alphabet)]
    if replacement == original:
        return
    changed = number[:position] + replacement + number[position + 1:]
    with pytest.raises(ValueError):
        validate_id_number(changed)


@pytest.mark.parametrize("typed", [
    "１１０１０５１９４９１２３１００２Ｘ",  # full-width digits and X
    "１１０１０５１９４９１２３１００２ｘ",
    "11010519491231002x",
    " 110105 19491231 002X ",
    "110105\u300019491231002X",  # ideographic space
])
def test_what_phone_keyboards_type_is_normalised(typed):
    assert normalise_id_number(typed) == STANDARD_EXAMPLE
    assert validate_id_number(typed) == STANDARD_EXAMPLE


@pytest.mark.parametrize("number, reason", [
    ("11010519491231002", "digits"),
    ("11010519491231002XX", "digits"),
    ("1101051949123100X2", "digits"),
    ("A1010519491231002X", "digits"),
    ("११०१०५१९४९१२३१००२X", "digits"),  # Devanagari digits: not ASCII even after NFKC
    ("", "digits"),
    ("00010519491231002X", "region"),
    ("990105" "19491231" "002X", "region"),
    ("11010519491231002Y", "digits"),
])
def test_malformed_numbers_are_refused(number, reason):
    with pytest.raises(ValueError):
        validate_id_number(number)


def test_wrong_check_character_is_refused_with_a_reason():
    with pytest.raises(ValueError, match="check"):
        validate_id_number("110105194912310021")


@pytest.mark.parametrize("birth, ok", [
    ("20000229", True),   # 2000 is a leap year
    ("19000229", False),  # 1900 is not (divisible by 100, not by 400)
    ("19990229", False),
    ("20240229", True),
    ("19900230", False),
    ("19901301", False),
    ("19900001", False),
    ("19900100", False),
    ("19000101", True),
    ("18991231", False),  # before 1900
])
def test_birth_date_must_exist(birth, ok):
    number = make_id_number("110101", birth, 1)
    if ok:
        assert validate_id_number(number) == number
    else:
        with pytest.raises(ValueError, match="birth date"):
            validate_id_number(number)


def test_a_birth_date_in_the_future_is_refused(clock):
    today = date(2026, 11, 25)  # the clock fixture's frozen day
    assert validate_id_number(make_id_number("110101", today, 1))
    with pytest.raises(ValueError, match="birth date"):
        validate_id_number(make_id_number("110101", today + timedelta(days=1), 1))
    clock.shift(24 * 3600)
    assert validate_id_number(make_id_number("110101", today + timedelta(days=1), 1))


@pytest.mark.parametrize("value", [None, 11010519491231002, ["11010519491231002X"], b"1"])
def test_non_strings_are_refused(value):
    with pytest.raises(ValueError):
        validate_id_number(value)


def test_masking_shows_three_characters_at_each_end():
    assert mask_id_number(STANDARD_EXAMPLE) == "110************02X"
    assert len(mask_id_number(STANDARD_EXAMPLE)) == 18


@pytest.mark.parametrize("typed", [
    "13812345678",
    "+8613812345678",
    "8613812345678",
    "+86 138 1234 5678",
    "138-1234-5678",
    "１３８１２３４５６７８",
])
def test_phone_numbers_are_normalised_to_eleven_digits(typed):
    assert normalise_phone(typed) == "13812345678"


@pytest.mark.parametrize("typed", [
    "12812345678",      # no mobile network starts 12
    "1381234567",       # too short
    "138123456789",     # too long
    "+85213812345678",  # another country
    "23812345678",
    "1381234567x",
    "",
    "١٣٨١٢٣٤٥٦٧٨",      # Arabic-Indic digits
])
def test_other_phone_numbers_are_refused(typed):
    with pytest.raises(ValueError):
        normalise_phone(typed)


@pytest.mark.parametrize("value", [None, 13812345678, ["13812345678"]])
def test_non_string_phones_are_refused(value):
    with pytest.raises(ValueError):
        normalise_phone(value)


def test_phone_masking():
    assert mask_phone("13812345678") == "138****5678"
