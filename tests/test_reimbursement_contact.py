"""The driver's mobile number: typed as people do, kept in E.164."""

from __future__ import annotations

from hypothesis import given, strategies as st
import pytest

from custom_components.homecharge.logic.reimbursement.contact import (
    PhoneError,
    normalise_mobile,
)


@pytest.mark.parametrize(
    ("typed", "kept"),
    [
        # Norway: 8-digit mobiles, printed in groups.
        ("+47 412 34 567", "+4741234567"),
        ("0047 41 23 45 67", "+4741234567"),
        ("+47-412-34-567", "+4741234567"),
        # Denmark: 8 digits in pairs.
        ("+45 20 12 34 56", "+4520123456"),
        ("(+45) 20123456", "+4520123456"),
        # The Netherlands: 06 at home, 6 after +31; the trunk 0 in brackets.
        ("+31 6 1234 5678", "+31612345678"),
        ("0031 6-12345678", "+31612345678"),
        ("+31 (0)6 1234 5678", "+31612345678"),
        ("+31(0)6-12345678", "+31612345678"),
        ("  +4741234567  ", "+4741234567"),
    ],
)
def test_numbers_as_typed_are_kept_in_e164(typed: str, kept: str) -> None:
    assert normalise_mobile(typed) == kept


@pytest.mark.parametrize(
    "typed",
    [
        "",
        "412 34 567",  # no country code: which country?
        "06 12345678",  # the Dutch national form
        "+0 47 412 34 567",  # a country code never starts with 0
        "+47 412",  # too short
        "+1234567",  # 7 digits: under 8
        "+4741234567890123",  # 16 digits: over E.164's 15
        "+47 412 34 567 ext 2",
        "+47 412.34.567",
        "+47 41234567 / +45 20123456",
        "++4741234567",
        "000047 41234567",
    ],
)
def test_anything_else_is_a_format_error(typed: str) -> None:
    with pytest.raises(PhoneError) as caught:
        normalise_mobile(typed)
    assert caught.value.code == "phone_format"


def test_the_bounds_are_8_and_15_digits() -> None:
    assert normalise_mobile("+12345678") == "+12345678"
    assert normalise_mobile("+123456789012345") == "+123456789012345"


@given(
    st.from_regex(r"[1-9][0-9]{7,14}", fullmatch=True),
    st.sampled_from(["+", "00", "+ ", "00 "]),
    st.sampled_from([" ", "-", "", "  "]),
)
def test_any_valid_number_survives_its_separators(
    digits: str, prefix: str, separator: str
) -> None:
    typed = prefix + separator.join(digits[i : i + 2] for i in range(0, len(digits), 2))
    kept = normalise_mobile(typed)
    assert kept == "+" + digits
    # Kept numbers are stable.
    assert normalise_mobile(kept) == kept
