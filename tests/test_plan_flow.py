"""The smart-charging options: prices, grid tariff, capacity tariff, plan rules."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.homecharge.const import DOMAIN
from custom_components.homecharge.logic.capacity_presets import (
    GRID_COMPANIES,
    ladder_text,
)
from custom_components.homecharge.logic.grid_tariff import NORWEGIAN_ENERGY_TARIFF
from custom_components.homecharge.logic.plan_settings import PlanSettings
from homeassistant.config_entries import ConfigEntryState, ConfigFlowResult
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType

from .conftest import PLACE_DATA

# What Home Assistant loads for the flow.
EN = json.loads(
    (
        Path(__file__).parents[1]
        / "custom_components"
        / "homecharge"
        / "translations"
        / "en.json"
    ).read_text(encoding="utf-8")
)
NORDPOOL_SENSOR = "sensor.nordpool_kwh_no1_nok_3_10_025"
# A HACS nordpool sensor's attributes, as its state holds them (ISO strings).
NORDPOOL_ATTRIBUTES: dict[str, Any] = {
    "unit": "kWh",
    "currency": "NOK",
    "price_in_cents": False,
    "raw_today": [
        {
            "start": "2026-01-15T00:00:00+01:00",
            "end": "2026-01-15T00:15:00+01:00",
            "value": 1.234,
        },
        {
            "start": "2026-01-15T00:15:00+01:00",
            "end": "2026-01-15T00:30:00+01:00",
            "value": 1.201,
        },
    ],
    "raw_tomorrow": [],
    "tomorrow_valid": False,
}
# Everything filled in, the Nordic way.
FORM: dict[str, Any] = {
    "price_entity": NORDPOOL_SENSOR,
    "grid_day_price": "0,35",
    "grid_night_price": "0,2",
    "grid_night_start": 23,
    "grid_night_end": 5,
    "grid_weekend_night": False,
    "capacity_tariff": True,
    "capacity_company": "tensio-tn",
    "capacity_peaks": 1,
    "continuous": True,
    "price_cap": "2,5",
    "default_energy_kwh": "12,5",
}
# Only what the form requires.
REQUIRED = {
    key: value
    for key, value in FORM.items()
    if key not in ("price_entity", "grid_night_price", "price_cap", "capacity_company")
}


def _assert_translated(result: ConfigFlowResult) -> None:
    """Every field has a label and a description; every error a message."""
    assert result["type"] is FlowResultType.FORM
    step = EN["options"]["step"][result["step_id"]]
    for field in result["data_schema"].schema:
        assert str(field) in step["data"], field
        assert str(field) in step["data_description"], field
    for error in (result["errors"] or {}).values():
        assert error in EN["options"]["error"], error


def _suggested(result: ConfigFlowResult) -> dict[str, Any]:
    return {
        str(key): (key.description or {}).get("suggested_value")
        for key in result["data_schema"].schema
    }


async def _smart_charging(hass: HomeAssistant, entry: MockConfigEntry) -> Any:
    if entry.entry_id not in {e.entry_id for e in hass.config_entries.async_entries()}:
        entry.add_to_hass(hass)
    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert result["type"] is FlowResultType.MENU
    assert "smart_charging" in result["menu_options"]
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"next_step_id": "smart_charging"}
    )
    _assert_translated(result)
    return result


@pytest.fixture
def dutch_place() -> MockConfigEntry:
    """A place in the Netherlands: no capacity tariff, no grid tariff preset."""
    return MockConfigEntry(
        domain=DOMAIN,
        title="Thuis",
        data={
            **PLACE_DATA,
            "name": "Thuis",
            "country": "NL",
            "price_area": "NL",
            "grid_type": "3p_400_tn",
        },
    )


async def test_menu_offers_smart_charging(
    hass: HomeAssistant, place_entry: MockConfigEntry
) -> None:
    """Smart charging sits beside the prices in the place's options menu."""
    place_entry.add_to_hass(hass)
    result = await hass.config_entries.options.async_init(place_entry.entry_id)
    assert result["menu_options"] == [
        "prices",
        "smart_charging",
        "meter",
        "load_balancing",
        "ocpp_server",
    ]
    assert set(result["menu_options"]) == set(
        EN["options"]["step"]["init"]["menu_options"]
    )


async def test_norwegian_defaults(
    hass: HomeAssistant, place_entry: MockConfigEntry
) -> None:
    """A Norwegian place starts with Elvia's energy part and the capacity tariff."""
    hass.config.currency = "NOK"
    result = await _smart_charging(hass, place_entry)
    assert _suggested(result) == {
        "price_entity": None,
        "grid_day_price": f"{NORWEGIAN_ENERGY_TARIFF.day_price:g}",
        "grid_night_price": f"{NORWEGIAN_ENERGY_TARIFF.night_price:g}",
        "grid_night_start": 22,
        "grid_night_end": 6,
        "grid_weekend_night": True,
        "capacity_tariff": True,
        "capacity_company": "elvia",
        # Elvia's steps, one per line.
        "capacity_steps": "0: 150\n2: 250\n5: 420\n10: 585\n15: 755\n20: 925\n"
        "25: 1760\n50: 2600\n75: 3440\n100: 6800",
        "capacity_peaks": 3,
        "continuous": False,
        "price_cap": None,
        "default_energy_kwh": "20",
    }
    assert _suggested(result)["grid_day_price"] == "0.362375"
    assert result["description_placeholders"] == {
        "currency": "NOK",
        "price_area": "NO1",
    }


async def test_other_countries_start_flat_without_capacity_tariff(
    hass: HomeAssistant, dutch_place: MockConfigEntry
) -> None:
    """Elsewhere: grid price 0, no night price, no capacity tariff."""
    hass.config.currency = "EUR"
    result = await _smart_charging(hass, dutch_place)
    suggested = _suggested(result)
    assert suggested["grid_day_price"] == "0"
    assert suggested["grid_night_price"] is None
    assert suggested["capacity_tariff"] is False
    assert suggested["capacity_peaks"] == 3
    assert suggested["default_energy_kwh"] == "20"
    assert result["description_placeholders"] == {
        "currency": "EUR",
        "price_area": "NL",
    }


async def test_save_with_decimal_commas_and_a_price_sensor(
    hass: HomeAssistant, place_entry: MockConfigEntry
) -> None:
    """Everything saved as numbers, beside the options already there; reloads."""
    hass.states.async_set(NORDPOOL_SENSOR, "1.234", NORDPOOL_ATTRIBUTES)
    place_entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(
        place_entry, options={"spot_markup": 0.05, "vat_percent": 25.0}
    )
    assert await hass.config_entries.async_setup(place_entry.entry_id)
    await hass.async_block_till_done()
    result = await _smart_charging(hass, place_entry)
    result = await hass.config_entries.options.async_configure(result["flow_id"], FORM)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert place_entry.options == {
        "spot_markup": 0.05,
        "vat_percent": 25.0,
        "price_entity": NORDPOOL_SENSOR,
        "grid_day_price": 0.35,
        "grid_night_price": 0.2,
        "grid_night_start": 23,
        "grid_night_end": 5,
        "grid_weekend_night": False,
        "capacity_tariff": True,
        "capacity_company": "tensio-tn",
        "capacity_steps": None,
        "capacity_peaks": 1,
        "continuous": True,
        "price_cap": 2.5,
        "default_energy_kwh": 12.5,
    }
    plan = PlanSettings.from_options(place_entry.options, "NO")
    assert plan.price_entity == NORDPOOL_SENSOR
    assert plan.energy_tariff.night_price == 0.2
    assert plan.capacity is not None
    assert plan.capacity.peaks == 1
    # Tensio TN's 2026 steps: 1353.60 NOK a year without VAT is 141 a month.
    assert plan.capacity.steps[0].monthly_cost == 141.0
    assert plan.price_cap == 2.5
    await hass.async_block_till_done()
    assert place_entry.state is ConfigEntryState.LOADED

    # Opened again, the form shows what was saved, not the country's defaults.
    result = await _smart_charging(hass, place_entry)
    assert _suggested(result) == {
        **FORM,
        "grid_day_price": "0.35",
        "grid_night_price": "0.2",
        "price_cap": "2.5",
        "default_energy_kwh": "12.5",
        # The steps in force shown, to start a ladder of one's own from.
        "capacity_steps": ladder_text(plan.capacity.steps),
    }


async def test_a_ladder_of_ones_own(
    hass: HomeAssistant, place_entry: MockConfigEntry
) -> None:
    """Custom steps: refused with a translated error until they rise from 0 kW."""
    place_entry.add_to_hass(hass)
    result = await _smart_charging(hass, place_entry)
    custom = {**REQUIRED, "capacity_company": "custom"}
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {**custom, "capacity_steps": "2: 100; 5: 200"}
    )
    assert result["errors"] == {"capacity_steps": "capacity_steps_invalid"}
    _assert_translated(result)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {**custom, "capacity_steps": "0: 99,50\n5: 300"}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    plan = PlanSettings.from_options(place_entry.options, "NO")
    assert plan.capacity is not None
    assert [(s.threshold_kw, s.monthly_cost) for s in plan.capacity.steps] == [
        (0.0, 99.5),
        (5.0, 300.0),
    ]
    # Back to a grid company: its steps apply and show; the own ladder goes.
    result = await _smart_charging(hass, place_entry)
    assert _suggested(result)["capacity_steps"] == "0: 99.5\n5: 300"
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {**REQUIRED, "capacity_company": "bkk"}
    )
    assert place_entry.options["capacity_steps"] is None
    result = await _smart_charging(hass, place_entry)
    bkk = GRID_COMPANIES["bkk"].steps
    assert _suggested(result)["capacity_steps"] == ladder_text(bkk)


async def test_flat_tariff_no_sensor_no_cap(
    hass: HomeAssistant, place_entry: MockConfigEntry
) -> None:
    """Empty optional fields: Nord Pool integration, same grid price all day."""
    place_entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(
        place_entry,
        options={
            "price_entity": NORDPOOL_SENSOR,
            "grid_night_price": 0.2,
            "price_cap": 3.0,
        },
    )
    result = await _smart_charging(hass, place_entry)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {**REQUIRED, "grid_night_price": " ", "capacity_tariff": False},
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert place_entry.options["price_entity"] is None
    assert place_entry.options["grid_night_price"] is None
    assert place_entry.options["price_cap"] is None
    plan = PlanSettings.from_options(place_entry.options, "NO")
    assert plan.price_entity is None
    assert plan.energy_tariff.night_price is None
    assert plan.capacity is None
    assert plan.price_cap is None

    # The saved flat tariff is shown as such; the capacity tariff, off,
    # keeps its peak count.
    result = await _smart_charging(hass, place_entry)
    suggested = _suggested(result)
    assert suggested["grid_night_price"] is None
    assert suggested["capacity_tariff"] is False
    assert suggested["capacity_peaks"] == 1


@pytest.mark.parametrize(
    ("changes", "errors"),
    [
        ({"grid_day_price": "gratis"}, {"grid_day_price": "invalid_grid_price"}),
        ({"grid_day_price": ""}, {"grid_day_price": "invalid_grid_price"}),
        ({"grid_night_price": "-0,1"}, {"grid_night_price": "invalid_grid_price"}),
        ({"grid_night_price": "500"}, {"grid_night_price": "invalid_grid_price"}),
        ({"grid_night_start": 24}, {"grid_night_start": "invalid_hour"}),
        ({"grid_night_end": 5.5}, {"grid_night_end": "invalid_hour"}),
        ({"capacity_peaks": 0}, {"capacity_peaks": "capacity_peaks_out_of_range"}),
        ({"capacity_peaks": 11}, {"capacity_peaks": "capacity_peaks_out_of_range"}),
        ({"capacity_peaks": 2.5}, {"capacity_peaks": "capacity_peaks_out_of_range"}),
        ({"price_cap": "500"}, {"price_cap": "price_cap_out_of_range"}),
        ({"price_cap": "mye"}, {"price_cap": "price_cap_out_of_range"}),
        (
            {"default_energy_kwh": "0,5"},
            {"default_energy_kwh": "default_energy_kwh_out_of_range"},
        ),
        (
            {"default_energy_kwh": ""},
            {"default_energy_kwh": "default_energy_kwh_out_of_range"},
        ),
        (
            {"price_entity": "sensor.outdoor_temperature"},
            {"price_entity": "unknown_price_entity"},
        ),
        (
            {"price_entity": "sensor.not_there"},
            {"price_entity": "unknown_price_entity"},
        ),
        (
            {"grid_day_price": "x", "grid_night_start": -1, "capacity_peaks": 20},
            {
                "grid_day_price": "invalid_grid_price",
                "grid_night_start": "invalid_hour",
                "capacity_peaks": "capacity_peaks_out_of_range",
            },
        ),
    ],
)
async def test_errors(
    hass: HomeAssistant,
    place_entry: MockConfigEntry,
    changes: dict[str, Any],
    errors: dict[str, str],
) -> None:
    """Bad values are reported on their field, translated; nothing is saved."""
    hass.states.async_set(NORDPOOL_SENSOR, "1.234", NORDPOOL_ATTRIBUTES)
    # A sensor without any price list.
    hass.states.async_set(
        "sensor.outdoor_temperature", "-4.5", {"unit_of_measurement": "°C"}
    )
    result = await _smart_charging(hass, place_entry)
    user_input = {**FORM, **changes}
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], user_input
    )
    _assert_translated(result)
    assert result["errors"] == errors
    assert place_entry.options == {}
    # What was typed stays in the form.
    assert _suggested(result)["grid_day_price"] == user_input["grid_day_price"]

    # Corrected, it is saved.
    result = await hass.config_entries.options.async_configure(result["flow_id"], FORM)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert place_entry.options["grid_day_price"] == 0.35
