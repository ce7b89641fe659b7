"""Pure place rules: areas, numbers typed by people, validation, prices."""

from __future__ import annotations

import math

from hypothesis import given, strategies as st
import pytest

from custom_components.homecharge.logic.place import (
    PRICE_AREAS,
    CostBasis,
    GridType,
    PlaceSettings,
    default_vat_percent,
    fuse_in_range,
    parse_decimal,
    parse_price,
    suggest_price_area,
    validate_place,
)

from .conftest import PLACE_DATA


@pytest.mark.parametrize(
    ("country", "latitude", "longitude", "area"),
    [
        ("NO", 59.91, 10.75, "NO1"),  # Oslo
        ("NO", 61.11, 10.47, "NO1"),  # Lillehammer
        ("NO", 58.97, 5.73, "NO2"),  # Stavanger
        ("NO", 58.15, 8.00, "NO2"),  # Kristiansand
        ("NO", 59.41, 5.27, "NO2"),  # Haugesund
        ("NO", 63.43, 10.39, "NO3"),  # Trondheim
        ("NO", 62.47, 6.15, "NO3"),  # Ålesund
        ("NO", 69.65, 18.96, "NO4"),  # Tromsø
        ("NO", 67.28, 14.40, "NO4"),  # Bodø
        ("NO", 60.39, 5.32, "NO5"),  # Bergen
        ("SE", 65.58, 22.15, "SE1"),  # Luleå
        ("SE", 62.39, 17.31, "SE2"),  # Sundsvall
        ("SE", 59.33, 18.07, "SE3"),  # Stockholm
        ("SE", 57.71, 11.97, "SE3"),  # Göteborg
        ("SE", 55.60, 13.00, "SE4"),  # Malmö
        ("DK", 56.16, 10.20, "DK1"),  # Aarhus
        ("DK", 55.40, 10.39, "DK1"),  # Odense
        ("DK", 55.68, 12.57, "DK2"),  # København
        ("NL", 52.37, 4.90, "NL"),
        ("DE", 52.52, 13.40, "DE-LU"),
        ("US", 40.7, -74.0, None),
    ],
)
def test_suggest_price_area(
    country: str, latitude: float, longitude: float, area: str | None
) -> None:
    """The suggestion is right for the large towns."""
    assert suggest_price_area(country, latitude, longitude) == area


@given(
    country=st.sampled_from(list(PRICE_AREAS)),
    latitude=st.floats(-90, 90),
    longitude=st.floats(-180, 180),
)
def test_suggestion_is_always_an_area_of_the_country(
    country: str, latitude: float, longitude: float
) -> None:
    """Wherever HA thinks it is, the suggestion belongs to the chosen country."""
    assert suggest_price_area(country, latitude, longitude) in PRICE_AREAS[country]


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("1,25", 1.25),
        ("1.25", 1.25),
        (" 2 ", 2.0),
        ("-0,5", -0.5),
        (",5", 0.5),
        ("1\u00a0000", 1000.0),
        (3, 3.0),
        ("abc", None),
        ("1,2,3", None),
        ("1e3", None),
        ("nan", None),
        ("inf", None),
        ("", None),
        (None, None),
        (math.nan, None),
    ],
)
def test_parse_decimal(text: str | float | None, value: float | None) -> None:
    """Numbers are read with a comma or a point; anything else is refused."""
    assert parse_decimal(text) == value


@given(st.decimals(min_value=-(10**6), max_value=10**6, places=4))
def test_parse_decimal_round_trips_comma_and_point(value: object) -> None:
    """Whatever decimal separator is typed, the same number comes out."""
    text = f"{value:f}"
    assert parse_decimal(text) == pytest.approx(float(text))
    assert parse_decimal(text.replace(".", ",")) == pytest.approx(float(text))


def test_parse_price_range() -> None:
    """A price per kWh is between 0 and 100."""
    assert parse_price("0") == 0
    assert parse_price("100") == 100
    assert parse_price("-0,01") is None
    assert parse_price("100,01") is None


@pytest.mark.parametrize(
    ("amps", "ok"),
    [
        (1, True),
        (400, True),
        (0, False),
        (-16, False),
        (400.5, False),
        (math.inf, False),
    ],
)
def test_fuse_in_range(amps: float, ok: bool) -> None:
    """Main fuses are 1–400 A."""
    assert fuse_in_range(amps) is ok


def test_validate_place() -> None:
    """Each bad field maps to its error; only the fields given are checked."""
    assert validate_place(PLACE_DATA) == {}
    assert validate_place({"main_fuse": "x"}) == {"main_fuse": "fuse_out_of_range"}
    assert validate_place({"country": "NO", "price_area": "DK1"}) == {
        "price_area": "unknown_price_area"
    }
    assert validate_place({"price_area": "NO1"}) == {"price_area": "unknown_price_area"}
    fixed = {**PLACE_DATA, "cost_basis": "fixed"}
    assert validate_place(fixed) == {}
    assert validate_place(fixed, complete=True) == {"fixed_price": "invalid_price"}
    assert validate_place({**fixed, "fixed_price": 1.1}, complete=True) == {}
    assert validate_place({"fixed_price": 150}) == {"fixed_price": "invalid_price"}


def test_settings_from_config() -> None:
    """Options override the country's default VAT; NO4 households pay none."""
    settings = PlaceSettings.from_config(PLACE_DATA, {})
    assert settings.cost_basis is CostBasis.SPOT
    assert settings.grid_type is GridType.THREE_PHASE_230_IT
    assert settings.grid_type.phases == 3
    assert GridType.ONE_PHASE_230.phases == 1
    assert settings.vat_percent == 25.0
    north = PlaceSettings.from_config({**PLACE_DATA, "price_area": "NO4"}, {})
    assert north.vat_percent == 0.0
    tuned = PlaceSettings.from_config(
        PLACE_DATA, {"spot_markup": 0.05, "vat_percent": 0}
    )
    assert (tuned.spot_markup, tuned.vat_percent) == (0.05, 0.0)
    assert default_vat_percent("FI", "FI") == 25.5
    assert default_vat_percent("XX", "XX") == 0.0


def test_energy_price() -> None:
    """Spot: (spot + markup) with VAT; fixed: the contract price as it is."""
    spot = PlaceSettings.from_config(
        PLACE_DATA, {"spot_markup": 0.1, "vat_percent": 25}
    )
    assert spot.energy_price(0.9) == pytest.approx(1.25)
    assert spot.energy_price(None) is None
    fixed = PlaceSettings.from_config(
        {**PLACE_DATA, "cost_basis": "fixed", "fixed_price": 1.4}, {}
    )
    assert fixed.energy_price(5.0) == 1.4
