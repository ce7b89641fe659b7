"""The place config flow: add, reconfigure, options, and every bad input."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.homecharge.const import DOMAIN
from homeassistant.config_entries import (
    SOURCE_INTEGRATION_DISCOVERY,
    SOURCE_USER,
    ConfigEntryState,
    ConfigFlowResult,
)
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType, section as form_section

from .conftest import PLACE_DATA

EN = json.loads(
    (Path(__file__).parents[1] / "translations" / "en.json").read_text(encoding="utf-8")
)

PLACE_FORM = {
    "name": "Home",
    "country": "NO",
    "cost_basis": "spot",
    "main_fuse": 63,
    "grid_type": "3p_230_it",
}


def assert_form_translated(result: ConfigFlowResult, section: str = "config") -> None:
    """Every field the form shows has a label and a description in en.json."""
    assert result["type"] is FlowResultType.FORM
    step = EN[section]["step"][result["step_id"]]
    for field, value in result["data_schema"].schema.items():
        labels = step
        if isinstance(value, form_section):
            labels = step["sections"][str(field)]
            assert labels["name"], f"{result['step_id']}.{field} has no name"
            fields = list(value.schema.schema)
        else:
            fields = [field]
        for name in fields:
            assert str(name) in labels["data"], (
                f"{result['step_id']}.{name} has no label"
            )
            assert str(name) in labels["data_description"], (
                f"{result['step_id']}.{name} has no data_description"
            )
    for error in (result["errors"] or {}).values():
        assert error in EN[section]["error"]


@pytest.fixture(autouse=True)
def oslo(hass: HomeAssistant) -> None:
    """Home Assistant configured in Oslo, Norway."""
    hass.config.country = "NO"
    hass.config.latitude = 59.91
    hass.config.longitude = 10.75
    hass.config.currency = "NOK"
    hass.config.location_name = "Hjemme"


async def _start(hass: HomeAssistant) -> ConfigFlowResult:
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_USER}
    )
    assert_form_translated(result)
    return result


def _suggested(result: ConfigFlowResult, field: str) -> Any:
    for key in result["data_schema"].schema:
        if str(key) == field:
            return (key.description or {}).get("suggested_value")
    raise AssertionError(f"{field} not in form")


async def test_spot_place(hass: HomeAssistant) -> None:
    """A spot-priced place: place form, then the area suggested from the location."""
    result = await _start(hass)
    assert result["step_id"] == "user"
    assert _suggested(result, "country") == "NO"
    assert _suggested(result, "name") == "Hjemme"

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {**PLACE_FORM, "name": "  Home  "}
    )
    assert_form_translated(result)
    assert result["step_id"] == "price_area"
    assert _suggested(result, "price_area") == "NO1"

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"price_area": "NO1"}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Home"
    assert result["data"] == {**PLACE_DATA, "main_fuse": 63.0}
    await hass.async_block_till_done()
    entry = hass.config_entries.async_entries(DOMAIN)[0]
    assert entry.state is ConfigEntryState.LOADED


async def test_fixed_price_place_accepts_decimal_comma(hass: HomeAssistant) -> None:
    """A fixed price typed the Nordic way is stored as a number."""
    result = await _start(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {**PLACE_FORM, "cost_basis": "fixed"}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"price_area": "NO5"}
    )
    assert_form_translated(result)
    assert result["step_id"] == "fixed_price"
    assert result["description_placeholders"] == {"currency": "NOK"}

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"fixed_price": "1,25"}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"]["fixed_price"] == 1.25
    assert result["data"]["price_area"] == "NO5"


@pytest.mark.parametrize("price", ["abc", "1,2,3", "-1", "101", "", "nan"])
async def test_fixed_price_not_a_number(hass: HomeAssistant, price: str) -> None:
    """A price that is not a number gets a translated error and creates nothing."""
    result = await _start(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {**PLACE_FORM, "cost_basis": "fixed"}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"price_area": "NO1"}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"fixed_price": price}
    )
    assert_form_translated(result)
    assert result["errors"] == {"fixed_price": "invalid_price"}
    assert not hass.config_entries.async_entries(DOMAIN)

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"fixed_price": "0.99"}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"]["fixed_price"] == 0.99


async def test_single_area_country_skips_area_step(hass: HomeAssistant) -> None:
    """The Netherlands has one price area: no question about it."""
    result = await _start(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {**PLACE_FORM, "country": "NL", "grid_type": "3p_400_tn"}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"]["price_area"] == "NL"


async def test_unsupported_home_country_is_not_prefilled(hass: HomeAssistant) -> None:
    """A Home Assistant in a country we do not know suggests no country."""
    hass.config.country = "US"
    result = await _start(hass)
    assert _suggested(result, "country") is None


@pytest.mark.parametrize(
    ("changes", "errors"),
    [
        ({"main_fuse": 0}, {"main_fuse": "fuse_out_of_range"}),
        ({"main_fuse": -25}, {"main_fuse": "fuse_out_of_range"}),
        ({"main_fuse": 401}, {"main_fuse": "fuse_out_of_range"}),
        ({"name": "   "}, {"name": "name_empty"}),
        ({"country": "XX"}, {"country": "unknown_country"}),
    ],
)
async def test_place_form_errors(
    hass: HomeAssistant, changes: dict[str, Any], errors: dict[str, str]
) -> None:
    """Bad place fields are reported on the field; nothing is created."""
    result = await _start(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {**PLACE_FORM, **changes}
    )
    assert_form_translated(result)
    assert result["step_id"] == "user"
    assert result["errors"] == errors
    assert result["description_placeholders"] == {"min_fuse": "1", "max_fuse": "400"}
    assert not hass.config_entries.async_entries(DOMAIN)


async def test_unknown_price_area(hass: HomeAssistant) -> None:
    """An area that is not the country's is refused on the field."""
    result = await _start(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], PLACE_FORM
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"price_area": "SE3"}
    )
    assert_form_translated(result)
    assert result["errors"] == {"price_area": "unknown_price_area"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"price_area": "NO9"}
    )
    assert result["errors"] == {"price_area": "unknown_price_area"}
    assert not hass.config_entries.async_entries(DOMAIN)


async def test_same_name_twice_is_refused(hass: HomeAssistant) -> None:
    """Two places cannot share a name, whatever the case."""
    MockConfigEntry(domain=DOMAIN, title="Home", data=PLACE_DATA).add_to_hass(hass)
    result = await _start(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {**PLACE_FORM, "name": "hOME"}
    )
    assert result["errors"] == {"name": "name_exists"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {**PLACE_FORM, "name": "Cabin"}
    )
    assert result["step_id"] == "price_area"


async def test_reconfigure_every_field(
    hass: HomeAssistant, place_entry: MockConfigEntry
) -> None:
    """Reconfigure changes name, country, area, basis, fixed price, fuse, grid."""
    place_entry.add_to_hass(hass)
    await hass.config_entries.async_setup(place_entry.entry_id)
    result = await place_entry.start_reconfigure_flow(hass)
    assert_form_translated(result)
    assert result["step_id"] == "reconfigure"
    assert _suggested(result, "main_fuse") == 63.0

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {
            "name": "Cabin",
            "country": "SE",
            "cost_basis": "fixed",
            "main_fuse": 25,
            "grid_type": "1p_230",
        },
    )
    # A new country: the area is suggested again, not kept from Norway.
    assert result["step_id"] == "price_area"
    assert _suggested(result, "price_area") == "SE3"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"price_area": "SE4"}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"fixed_price": "2.10"}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    await hass.async_block_till_done()
    assert place_entry.title == "Cabin"
    assert place_entry.data == {
        "name": "Cabin",
        "country": "SE",
        "price_area": "SE4",
        "cost_basis": "fixed",
        "fixed_price": 2.1,
        "main_fuse": 25.0,
        "grid_type": "1p_230",
    }


async def test_reconfigure_keeps_area_and_own_name(
    hass: HomeAssistant, place_entry: MockConfigEntry
) -> None:
    """Keeping the name is no clash with itself; the area stays suggested."""
    place_entry.add_to_hass(hass)
    result = await place_entry.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {**PLACE_FORM, "main_fuse": 80}
    )
    assert result["step_id"] == "price_area"
    assert _suggested(result, "price_area") == "NO1"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"price_area": "NO1"}
    )
    assert result["reason"] == "reconfigure_successful"
    assert place_entry.data["main_fuse"] == 80.0


async def test_reconfigure_refuses_other_places_name(
    hass: HomeAssistant, place_entry: MockConfigEntry
) -> None:
    """Renaming onto another place's name is refused."""
    place_entry.add_to_hass(hass)
    MockConfigEntry(domain=DOMAIN, title="Cabin", data=PLACE_DATA).add_to_hass(hass)
    result = await place_entry.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {**PLACE_FORM, "name": "cabin"}
    )
    assert result["errors"] == {"name": "name_exists"}


async def test_options(hass: HomeAssistant, place_entry: MockConfigEntry) -> None:
    """Options: supplier markup and VAT, typed with a decimal comma."""
    place_entry.add_to_hass(hass)
    await hass.config_entries.async_setup(place_entry.entry_id)
    result = await hass.config_entries.options.async_init(place_entry.entry_id)
    assert result["type"] is FlowResultType.MENU
    assert result["menu_options"] == [
        "prices",
        "smart_charging",
        "meter",
        "load_balancing",
        "ocpp_server",
    ]
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"next_step_id": "prices"}
    )
    assert_form_translated(result, "options")
    assert _suggested(result, "vat_percent") == "25"
    assert _suggested(result, "spot_markup") == "0"
    assert result["description_placeholders"] == {
        "currency": "NOK",
        "default_vat": "25",
    }

    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"spot_markup": "0,049", "vat_percent": "25"}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert place_entry.options == {"spot_markup": 0.049, "vat_percent": 25.0}


@pytest.mark.parametrize(
    ("user_input", "errors"),
    [
        ({"spot_markup": "x", "vat_percent": "25"}, {"spot_markup": "invalid_price"}),
        ({"spot_markup": "500", "vat_percent": "25"}, {"spot_markup": "invalid_price"}),
        ({"spot_markup": "0", "vat_percent": "120"}, {"vat_percent": "invalid_vat"}),
        ({"spot_markup": "0", "vat_percent": "mye"}, {"vat_percent": "invalid_vat"}),
    ],
)
async def test_options_errors(
    hass: HomeAssistant,
    place_entry: MockConfigEntry,
    user_input: dict[str, str],
    errors: dict[str, str],
) -> None:
    """Bad options are reported on the field and nothing is saved."""
    place_entry.add_to_hass(hass)
    result = await hass.config_entries.options.async_init(place_entry.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"next_step_id": "prices"}
    )
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], user_input
    )
    assert_form_translated(result, "options")
    assert result["errors"] == errors
    assert place_entry.options == {}


@pytest.mark.parametrize(
    ("reported", "phases", "fuse"),
    [
        # Nothing known: no phases chosen for the user, a 16 A circuit.
        ({}, None, 16),
        # A 1-phase charger is offered as one, never as 3 phases.
        ({"phases": 1}, "1", 16),
        ({"phases": 1, "max_current": 7400 / 230}, "1", 32),
        ({"phases": 3, "max_current": 20.0}, "3", 20),
        ({"max_current": 200.0}, None, 80),
    ],
)
async def test_discovery_confirm_suggests_what_the_charger_reports(
    hass: HomeAssistant,
    reported: dict[str, Any],
    phases: str | None,
    fuse: int,
) -> None:
    """The confirm form's phases and circuit fuse come from the charger."""
    place = MockConfigEntry(
        domain=DOMAIN, title="Home", data={**PLACE_DATA, "accept_new_chargers": True}
    )
    place.add_to_hass(hass)
    assert await hass.config_entries.async_setup(place.entry_id)
    await hass.async_block_till_done()
    result = await hass.config_entries.flow.async_init(
        DOMAIN,
        context={"source": SOURCE_INTEGRATION_DISCOVERY},
        data={"charge_point_id": "CP-NEW", **reported},
    )
    assert result["step_id"] == "discovery_confirm"
    assert_form_translated(result)
    assert _suggested(result, "phases") == phases
    assert _suggested(result, "circuit_fuse") == fuse
    assert _suggested(result, "place") == place.entry_id
    assert _suggested(result, "connectors") == 1
