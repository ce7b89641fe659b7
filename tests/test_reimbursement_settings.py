"""A reimbursement's settings: the form's values checked, the data read back."""

from __future__ import annotations

from datetime import date, time
from decimal import Decimal

from hypothesis import given, strategies as st
import pytest

from custom_components.homecharge.logic.reimbursement.errors import InputError
from custom_components.homecharge.logic.reimbursement.settings import (
    CONF_TARIFFS,
    add_tariff,
    receiver_from_form,
    receiver_url,
    rule_from_form,
    rules_of,
    tariff_from_form,
    tariffs_of,
)
from custom_components.homecharge.logic.reimbursement.tariff import TariffBasis
from custom_components.homecharge.logic.sessions.model import Classification

FORM = {
    "basis": "fixed",
    "unit_rate": 1.25,
    "vat_percent": 25,
    "tariff_name": "Spotpris",
    "effective_from": "2026-11-01",
}


@pytest.mark.parametrize(
    ("values", "code"),
    [
        ({**FORM, "unit_rate": "abc"}, "tariff_rate"),
        ({**FORM, "vat_percent": "x"}, "tariff_rate"),
        ({**FORM, "unit_rate": None}, "tariff_rate"),
        ({**FORM, "effective_from": None}, "tariff_date"),
        ({**FORM, "effective_from": "2026-13-01"}, "tariff_date"),
        ({**FORM, "tariff_name": ""}, "tariff_name"),
    ],
)
def test_a_bad_tariff_has_its_code(values: dict[str, object], code: str) -> None:
    """Each wrong value says which (the form shows it at its field)."""
    with pytest.raises(InputError) as caught:
        tariff_from_form(values, "NOK")
    assert caught.value.code == code


@given(
    days=st.lists(
        st.dates(min_value=date(2020, 1, 1), max_value=date(2035, 12, 31)),
        min_size=1,
        max_size=6,
    ),
    rates=st.lists(st.decimals("0.01", "9.99", places=2), min_size=6, max_size=6),
)
def test_tariffs_read_back_as_written_one_per_date(
    days: list[date], rates: list[Decimal]
) -> None:
    """Data → tariffs is the inverse of adding; a date's last tariff wins."""
    data: dict[str, object] = {}
    latest: dict[date, Decimal] = {}
    for day, rate in zip(days, rates, strict=False):
        tariff = tariff_from_form(
            {**FORM, "unit_rate": str(rate), "effective_from": day.isoformat()}, "EUR"
        )
        data[CONF_TARIFFS] = add_tariff(data, tariff)
        latest[day] = rate
    read = tariffs_of(data)
    assert [t.effective_from for t in read] == sorted(latest)
    assert [t.unit_rate for t in read] == [latest[day] for day in sorted(latest)]
    assert all(t.basis is TariffBasis.FIXED and t.currency == "EUR" for t in read)


@pytest.mark.parametrize(
    "url",
    [
        "https://employer.example/ocpi/versions",
        "http://127.0.0.1:8080/ocpi",
        "http://[::1]:8080/ocpi",
        "http://localhost/ocpi",
    ],
)
def test_https_or_this_machine(url: str) -> None:
    """https anywhere; http only to this machine (a test, a local proxy)."""
    assert receiver_url(f"  {url} ") == url


@pytest.mark.parametrize(
    ("url", "code"),
    [
        ("http://192.168.1.10/ocpi", "receiver_not_https"),
        ("http://employer.example", "receiver_not_https"),
        ("http://localhost.example.com", "receiver_not_https"),
        ("employer.example/ocpi", "receiver_url"),
        ("https://", "receiver_url"),
        ("", "receiver_url"),
        (None, "receiver_url"),
    ],
)
def test_other_receivers_are_refused(url: object, code: str) -> None:
    """Never a token in clear over a network; garbage is named as such."""
    with pytest.raises(InputError) as caught:
        receiver_url(url)
    assert caught.value.code == code


def test_a_token_longer_than_ocpi_allows_is_refused() -> None:
    """OCPI tokens are at most 255 characters (its credentials object)."""
    values = {"receiver": "ocpi", "receiver_url": "https://e.example"}
    with pytest.raises(InputError):
        receiver_from_form({**values, "receiver_token": "t" * 256})
    assert receiver_from_form({**values, "receiver_token": "t" * 255})


def test_a_rule_from_the_form_keeps_what_matches_and_reads_back() -> None:
    """Form → data → Rule: vehicles by name now, weekdays by number, the window."""
    rule = rule_from_form(
        {
            "rule_vehicles": ["car-1", "car-gone", "car-1"],
            "rule_cards": " B2, a1,,B2 ",
            "rule_weekdays": ["sun", "mon"],
            "rule_from": "22:00:00",
            "rule_until": "06:00:00",
        }
    )
    assert rule == {
        "rule_vehicles": ["car-1", "car-gone"],
        "rule_cards": ["B2", "a1"],
        "rule_weekdays": ["mon", "sun"],
        "rule_from": "22:00",
        "rule_until": "06:00",
    }
    (read,) = rules_of({"rules": [rule]}, {"car-1": "Tesla", "car-2": "Zoe"})
    assert read.classification is Classification.BUSINESS
    assert read.vehicles == frozenset({"Tesla"})
    assert read.id_tags == frozenset({"B2", "a1"})
    assert read.weekdays == frozenset({0, 6})
    assert read.window == (time(22), time(6))
    # Only removed vehicles: the rule matches no vehicle (not every one).
    (gone,) = rules_of({"rules": [{**rule, "rule_vehicles": ["car-gone"]}]}, {})
    assert gone.vehicles == frozenset()


@pytest.mark.parametrize(
    ("values", "code"),
    [
        ({"rule_from": "08:00"}, "rule_window"),
        ({"rule_until": "08:00"}, "rule_window"),
        ({"rule_from": "8 o'clock", "rule_until": "09:00"}, "rule_window"),
        ({"rule_cards": "X" * 21}, "rule_card"),
    ],
)
def test_a_rule_that_cannot_be_kept_says_why(values: dict[str, str], code: str) -> None:
    with pytest.raises(InputError) as caught:
        rule_from_form(values)
    assert caught.value.code == code


def test_an_empty_rule_is_no_rule() -> None:
    """It would make every session business: it ends the list instead."""
    assert rule_from_form({"rule_cards": " , ", "rule_weekdays": []}) is None
    assert rules_of({}, {}) == []
