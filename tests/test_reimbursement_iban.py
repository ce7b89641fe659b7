"""IBANs for a payout: normalised, checked against the registry's examples."""

from __future__ import annotations

from hypothesis import given, strategies as st
import pytest

from custom_components.homecharge.logic.reimbursement.errors import InputError
from custom_components.homecharge.logic.reimbursement.iban import (
    LENGTHS,
    IbanError,
    check_digits,
    format_iban,
    normalise_iban,
)

# The examples of SWIFT's IBAN registry (and the ECBS list before it).
REGISTRY_EXAMPLES = [
    "NO9386011117947",
    "NL91ABNA0417164300",
    "DK5000400440116243",
    "DE89370400440532013000",
    "GB82WEST12345698765432",
    "SE4550000000058398257466",
    "FI2112345600000785",
    "BE68539007547034",
    "FR1420041010050500013M02606",
    "ES9121000418450200051332",
    "IT60X0542811101000000123456",
    "AT611904300234573201",
    "CH9300762011623852957",
    "IE29AIBK93115212345678",
    "LU280019400644750000",
    "PL61109010140000071219812874",
    "PT50000201231234567890154",
    "IS140159260076545510730339",
]


@pytest.mark.parametrize("iban", REGISTRY_EXAMPLES)
def test_the_registry_examples_are_valid(iban: str) -> None:
    assert normalise_iban(iban) == iban
    assert len(iban) == LENGTHS[iban[:2]]


def test_spaces_case_and_a_printed_prefix_are_normalised() -> None:
    assert normalise_iban(" no93 8601 1117 947 ") == "NO9386011117947"
    assert normalise_iban("IBAN NL91 ABNA 0417 1643 00") == "NL91ABNA0417164300"
    # A non-breaking space, as copied from a web bank.
    assert normalise_iban("DK50\u00a00040\t0440 1162 43") == "DK5000400440116243"


def test_the_registry_lengths_of_the_nordic_countries() -> None:
    assert (LENGTHS["NO"], LENGTHS["DK"], LENGTHS["SE"], LENGTHS["FI"]) == (
        15,
        18,
        24,
        18,
    )
    assert (LENGTHS["NL"], LENGTHS["DE"], LENGTHS["IS"]) == (18, 22, 26)


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("NO9386011117948", "iban_checksum"),
        ("NO9486011117947", "iban_checksum"),
        ("NO938601111794", "iban_length"),
        ("NO93860111179470", "iban_length"),
        ("", "iban_length"),
        ("   ", "iban_length"),
        ("NO93-8601-1117-947", "iban_characters"),
        ("NO93 8601 1117 94Ø", "iban_characters"),
        ("US64SVBKUS6S3300958879", "iban_country"),
        ("XX9386011117947", "iban_country"),
        ("93NO86011117947", "iban_country"),
        ("NOAB86011117947", "iban_checksum"),
    ],
)
def test_bad_ibans_say_why(text: str, code: str) -> None:
    with pytest.raises(IbanError) as caught:
        normalise_iban(text)
    assert caught.value.code == code
    # The forms catch one kind of error, and it is a ValueError.
    assert isinstance(caught.value, InputError)
    assert isinstance(caught.value, ValueError)


def test_check_digits_00_01_and_99_are_never_accepted() -> None:
    for check in ("00", "01", "99"):
        for bban in ("86011117947", "00000000001", "00000000000", "99999999999"):
            with pytest.raises(IbanError):
                normalise_iban("NO" + check + bban)


def test_an_iban_whose_check_is_98_is_refused_with_01() -> None:
    # Search a Norwegian BBAN whose check digits are 98.
    bban = next(
        f"{n:011d}" for n in range(10_000) if check_digits("NO", f"{n:011d}") == "98"
    )
    assert normalise_iban("NO98" + bban) == "NO98" + bban
    with pytest.raises(IbanError) as caught:
        normalise_iban("NO01" + bban)
    assert caught.value.code == "iban_checksum"


def test_printed_in_groups_of_four() -> None:
    assert format_iban("NO9386011117947") == "NO93 8601 1117 947"
    assert format_iban("GB82WEST12345698765432") == "GB82 WEST 1234 5698 7654 32"
    assert format_iban("de89 3704 0044 0532 0130 00") == "DE89 3704 0044 0532 0130 00"


@given(st.sampled_from(REGISTRY_EXAMPLES), st.data())
def test_any_single_digit_changed_is_rejected(iban: str, data: st.DataObject) -> None:
    digits = [i for i, char in enumerate(iban) if char.isdigit()]
    where = data.draw(st.sampled_from(digits))
    new = data.draw(st.sampled_from([d for d in "0123456789" if d != iban[where]]))
    changed = iban[:where] + new + iban[where + 1 :]
    with pytest.raises(IbanError) as caught:
        normalise_iban(changed)
    assert caught.value.code == "iban_checksum"


@given(st.sampled_from(REGISTRY_EXAMPLES), st.data())
def test_two_neighbouring_digits_swapped_are_rejected(
    iban: str, data: st.DataObject
) -> None:
    pairs = [
        i
        for i in range(4, len(iban) - 1)
        if iban[i].isdigit() and iban[i + 1].isdigit() and iban[i] != iban[i + 1]
    ]
    where = data.draw(st.sampled_from(pairs))
    swapped = iban[:where] + iban[where + 1] + iban[where] + iban[where + 2 :]
    with pytest.raises(IbanError):
        normalise_iban(swapped)


@given(
    st.sampled_from(sorted(LENGTHS)).flatmap(
        lambda country: st.tuples(
            st.just(country),
            st.text("0123456789", min_size=LENGTHS[country] - 4).map(
                lambda digits, n=LENGTHS[country] - 4: digits[:n]
            ),
        )
    )
)
def test_any_number_with_its_check_digits_is_valid_and_prints_back(
    country_bban: tuple[str, str],
) -> None:
    country, bban = country_bban
    iban = country + check_digits(country, bban) + bban
    assert normalise_iban(iban) == iban
    printed = format_iban(iban)
    assert all(len(group) <= 4 for group in printed.split(" "))
    assert normalise_iban(printed.lower()) == iban
