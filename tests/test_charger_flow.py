"""Adding chargers: by hand, from a discovery; changing and removing them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.homecharge.const import DOMAIN
from custom_components.homecharge.flows.charger import discovery_suggestion
from custom_components.homecharge.logic.allocation import Priority
from homeassistant.config_entries import SOURCE_INTEGRATION_DISCOVERY, ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType, InvalidData
from homeassistant.helpers import device_registry as dr, entity_registry as er

from .conftest import PLACE_DATA
from .test_central import place_with_charger

CHARGER_FORM = {
    "name": "Garage",
    "charge_point_id": "CP-9",
    "circuit_fuse": 32,
    "phases": "3",
    "connectors": 1,
}
DISCOVERY = {
    "charge_point_id": "EVB-P123",
    "manufacturer": "EVBox",
    "model": "Elvi",
    "serial": "EVB-P123",
    "version": "ocpp1.6",
}


async def _loaded(hass: HomeAssistant, entry: MockConfigEntry) -> MockConfigEntry:
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    return entry


async def test_add_charger_by_hand(hass: HomeAssistant) -> None:
    """The flow shows URL, id and a fresh password, then the charger is a device."""
    place = await _loaded(
        hass, MockConfigEntry(domain=DOMAIN, title="Home", data=PLACE_DATA)
    )
    result = await hass.config_entries.subentries.async_init(
        (place.entry_id, "charger"), context={"source": "user"}
    )
    assert result["type"] is FlowResultType.FORM
    # A common home circuit, never 0 (which the form refuses); 3 phases.
    suggested = _suggested(result)
    assert suggested["circuit_fuse"] == 16
    assert suggested["phases"] == "3"
    assert suggested["connectors"] == 1
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], CHARGER_FORM
    )
    assert result["step_id"] == "connect"
    placeholders = result["description_placeholders"]
    assert placeholders["charge_point_id"] == "CP-9"
    assert placeholders["url"].startswith("ws://")
    password = placeholders["password"]
    assert len(password) == 40
    result = await hass.config_entries.subentries.async_configure(result["flow_id"], {})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()

    (subentry,) = place.subentries.values()
    assert subentry.title == "Garage"
    assert subentry.data == {
        "charge_point_id": "CP-9",
        "password": password,
        "circuit_fuse": 32.0,
        "phases": 3,
        "connectors": 1,
        # Load balancing defaults: wired to L1 (only matters for 1 phase).
        "phase": 1,
        "priority": "normal",
        # Open to everyone unless restricted to the place's people.
        "access_mode": "open",
        # A phone near a restricted charger: the defaults unless set.
        "proximity": {},
    }
    assert place.state is ConfigEntryState.LOADED
    device = dr.async_get(hass).async_get_device(identifiers={(DOMAIN, "CP-9")})
    assert device is not None
    assert device.name == "Garage"
    assert device.via_device_id is not None
    status = hass.states.get("sensor.garage_status")
    assert status is not None
    assert status.state == "needs_internet"
    assert hass.states.get("sensor.garage_power").state == "unavailable"


@pytest.mark.parametrize(
    ("changes", "errors"),
    [
        ({"charge_point_id": "a/b"}, {"charge_point_id": "invalid_charge_point_id"}),
        ({"charge_point_id": "x" * 49}, {"charge_point_id": "invalid_charge_point_id"}),
        ({"charge_point_id": "cp-1"}, {"charge_point_id": "charger_exists"}),
        ({"circuit_fuse": 5}, {"circuit_fuse": "circuit_fuse_out_of_range"}),
        ({"circuit_fuse": 81}, {"circuit_fuse": "circuit_fuse_out_of_range"}),
        ({"name": " "}, {"name": "name_empty"}),
        # Our own translated error, not the selector's English one.
        ({"connectors": 0}, {"connectors": "connectors_out_of_range"}),
        ({"connectors": 9}, {"connectors": "connectors_out_of_range"}),
        ({"connectors": 1.5}, {"connectors": "connectors_out_of_range"}),
    ],
)
async def test_add_charger_errors(
    hass: HomeAssistant, changes: dict[str, Any], errors: dict[str, str]
) -> None:
    """Bad charger fields are refused on the field; nothing is added."""
    place = await _loaded(hass, place_with_charger("CP-1"))
    result = await hass.config_entries.subentries.async_init(
        (place.entry_id, "charger"), context={"source": "user"}
    )
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {**CHARGER_FORM, **changes}
    )
    assert result["errors"] == errors
    assert len(place.subentries) == 1


async def test_reconfigure_charger(hass: HomeAssistant) -> None:
    """Name, circuit and device details change; the entities follow."""
    place = await _loaded(hass, place_with_charger("CP-1"))
    (subentry,) = place.subentries.values()
    result = await place.start_subentry_reconfigure_flow(hass, subentry.subentry_id)
    assert result["step_id"] == "reconfigure"
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"],
        {
            "name": "Carport",
            "circuit_fuse": 20,
            "phases": "1",
            "connectors": 1,
            "phase": "2",
            "priority": "low",
            "manufacturer": "Easee",
            "model": "Home",
            "serial": " ",
        },
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    await hass.async_block_till_done()
    subentry = place.subentries[subentry.subentry_id]
    assert subentry.title == "Carport"
    assert subentry.data["circuit_fuse"] == 20.0
    assert subentry.data["phases"] == 1
    assert subentry.data["manufacturer"] == "Easee"
    assert subentry.data["serial"] is None
    charger = place.runtime_data.chargers[subentry.subentry_id]
    assert charger.config.circuit_fuse == 20.0
    # Balancing settings apply live: L2, and it yields first.
    assert charger.config.phase == 2
    assert charger.config.priority is Priority.LOW
    assert hass.states.get("number.garage_circuit_fuse").state == "20.0"

    result = await place.start_subentry_reconfigure_flow(hass, subentry.subentry_id)
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"],
        {"name": "Carport", "circuit_fuse": 99, "phases": "1", "connectors": 1},
    )
    assert result["errors"] == {"circuit_fuse": "circuit_fuse_out_of_range"}


RECONFIGURE_FORM = {
    "name": "Garage",
    "circuit_fuse": 32,
    "phases": "3",
    "connectors": 1,
}
EN = json.loads(
    (
        Path(__file__).parents[1]
        / "custom_components"
        / "homecharge"
        / "translations"
        / "en.json"
    ).read_text(encoding="utf-8")
)["config_subentries"]["charger"]


def _suggested(result: Any) -> dict[str, Any]:
    return {
        str(key): (key.description or {}).get("suggested_value")
        for key in result["data_schema"].schema
    }


async def test_reconfigure_vehicle(hass: HomeAssistant) -> None:
    """The car's battery sensor, size and target level are kept with the charger."""
    place = await _loaded(hass, place_with_charger("CP-1"))
    (subentry,) = place.subentries.values()
    result = await place.start_subentry_reconfigure_flow(hass, subentry.subentry_id)
    step = EN["step"]["reconfigure"]
    for field in result["data_schema"].schema:
        labels = step["sections"].get(str(field), step)
        assert str(field) in step["data"] or "name" in labels, field
        assert str(field) in step["data_description"] or "name" in labels, field
    # Nothing known about the car yet: charged full.
    suggested = _suggested(result)
    assert suggested["soc_entity"] is None
    assert suggested["battery_kwh"] is None
    assert suggested["target_soc"] == 100

    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"],
        {
            **RECONFIGURE_FORM,
            "soc_entity": "sensor.id4_battery_level",
            "battery_kwh": 77,
            "target_soc": 80,
        },
    )
    assert result["reason"] == "reconfigure_successful"
    await hass.async_block_till_done()
    data = place.subentries[subentry.subentry_id].data
    assert data["soc_entity"] == "sensor.id4_battery_level"
    assert data["battery_kwh"] == 77.0
    assert data["target_soc"] == 80.0
    # The charger itself is unchanged.
    assert data["charge_point_id"] == "CP-1"
    assert data["circuit_fuse"] == 32.0

    # Shown again as saved; emptied, the car is unknown again and charged full.
    result = await place.start_subentry_reconfigure_flow(hass, subentry.subentry_id)
    suggested = _suggested(result)
    assert suggested["soc_entity"] == "sensor.id4_battery_level"
    assert suggested["battery_kwh"] == 77.0
    assert suggested["target_soc"] == 80.0
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], RECONFIGURE_FORM
    )
    assert result["reason"] == "reconfigure_successful"
    await hass.async_block_till_done()
    data = place.subentries[subentry.subentry_id].data
    assert data["soc_entity"] is None
    assert data["battery_kwh"] is None
    assert data["target_soc"] == 100.0


@pytest.mark.parametrize(
    ("changes", "errors"),
    [
        ({"battery_kwh": 0.5}, {"battery_kwh": "battery_kwh_out_of_range"}),
        ({"battery_kwh": 251}, {"battery_kwh": "battery_kwh_out_of_range"}),
        ({"target_soc": 5}, {"target_soc": "target_soc_out_of_range"}),
        ({"target_soc": 101}, {"target_soc": "target_soc_out_of_range"}),
        (
            {"battery_kwh": 300, "target_soc": 0, "circuit_fuse": 99},
            {
                "battery_kwh": "battery_kwh_out_of_range",
                "target_soc": "target_soc_out_of_range",
                "circuit_fuse": "circuit_fuse_out_of_range",
            },
        ),
    ],
)
async def test_reconfigure_vehicle_errors(
    hass: HomeAssistant, changes: dict[str, Any], errors: dict[str, str]
) -> None:
    """Out of range is refused on the field, translated; nothing changes."""
    place = await _loaded(hass, place_with_charger("CP-1"))
    (subentry,) = place.subentries.values()
    result = await place.start_subentry_reconfigure_flow(hass, subentry.subentry_id)
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {**RECONFIGURE_FORM, **changes}
    )
    assert result["errors"] == errors
    assert all(error in EN["error"] for error in errors.values())
    assert "battery_kwh" not in place.subentries[subentry.subentry_id].data


async def test_discovery_adds_charger_to_accepting_place(hass: HomeAssistant) -> None:
    """A discovered charger is confirmed into a place that accepts new ones."""
    place = await _loaded(
        hass,
        MockConfigEntry(
            domain=DOMAIN,
            title="Home",
            data={**PLACE_DATA, "accept_new_chargers": True},
        ),
    )
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_INTEGRATION_DISCOVERY}, data=DISCOVERY
    )
    assert result["step_id"] == "discovery_confirm"
    assert result["description_placeholders"]["manufacturer"] == "EVBox"
    # A second boot of the same charger does not offer it twice.
    again = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_INTEGRATION_DISCOVERY}, data=DISCOVERY
    )
    assert again["reason"] == "already_in_progress"

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {
            "place": "nowhere",
            "name": "Elvi",
            "circuit_fuse": 16,
            "phases": "1",
            "connectors": 1,
        },
    )
    assert result["errors"] == {"place": "unknown_place"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {
            "place": place.entry_id,
            "name": "Elvi",
            "circuit_fuse": 16,
            "phases": "1",
            "connectors": 1,
        },
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "charger_added"
    assert result["description_placeholders"] == {"name": "Elvi", "place": "Home"}
    await hass.async_block_till_done()
    (subentry,) = place.subentries.values()
    assert subentry.data["charge_point_id"] == "EVB-P123"
    assert subentry.data["password"] is None
    assert subentry.data["manufacturer"] == "EVBox"
    assert er.async_get(hass).async_get_entity_id("sensor", DOMAIN, "EVB-P123_status")

    known = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_INTEGRATION_DISCOVERY}, data=DISCOVERY
    )
    assert known["reason"] == "charger_exists"


async def test_discovery_without_accepting_place(hass: HomeAssistant) -> None:
    """Nobody accepts new chargers any more: the discovery explains it."""
    await _loaded(hass, MockConfigEntry(domain=DOMAIN, title="Home", data=PLACE_DATA))
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_INTEGRATION_DISCOVERY}, data=DISCOVERY
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "not_accepting"


async def test_discovery_form_errors(hass: HomeAssistant) -> None:
    """A bad fuse in the discovery form is reported on the field."""
    await _loaded(
        hass,
        MockConfigEntry(
            domain=DOMAIN,
            title="Home",
            data={**PLACE_DATA, "accept_new_chargers": True},
        ),
    )
    result = await hass.config_entries.flow.async_init(
        DOMAIN,
        context={"source": SOURCE_INTEGRATION_DISCOVERY},
        data={"charge_point_id": "X1"},
    )
    assert result["description_placeholders"]["manufacturer"] == "?"
    entry_id = hass.config_entries.async_entries(DOMAIN)[0].entry_id
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {
            "place": entry_id,
            "name": "X",
            "circuit_fuse": 2,
            "phases": "3",
            "connectors": 1,
        },
    )
    assert result["errors"] == {"circuit_fuse": "circuit_fuse_out_of_range"}


async def _accepting_place(hass: HomeAssistant) -> MockConfigEntry:
    return await _loaded(
        hass,
        MockConfigEntry(
            domain=DOMAIN,
            title="Home",
            data={**PLACE_DATA, "accept_new_chargers": True},
        ),
    )


async def test_discovered_one_phase_charger_is_added_as_it_reports(
    hass: HomeAssistant,
) -> None:
    """A 1-phase charger that says 20 A: submitting the suggestions adds it so."""
    place = await _accepting_place(hass)
    result = await hass.config_entries.flow.async_init(
        DOMAIN,
        context={"source": SOURCE_INTEGRATION_DISCOVERY},
        data={**DISCOVERY, "phases": 1, "max_current": 20.0},
    )
    suggested = _suggested(result)
    assert suggested["phases"] == "1"
    assert suggested["circuit_fuse"] == 20
    assert suggested["name"] == "EVBox Elvi"
    form = {key: value for key, value in suggested.items() if value is not None}
    result = await hass.config_entries.flow.async_configure(result["flow_id"], form)
    assert result["reason"] == "charger_added"
    await hass.async_block_till_done()
    (subentry,) = place.subentries.values()
    assert subentry.data["phases"] == 1
    assert subentry.data["circuit_fuse"] == 20.0
    assert subentry.data["phase"] == 1
    assert subentry.data["priority"] == "normal"


async def test_discovery_that_reports_nothing_asks_for_the_phases(
    hass: HomeAssistant,
) -> None:
    """Phases unknown: none chosen, the form needs one; the fuse is 16 A."""
    place = await _accepting_place(hass)
    result = await hass.config_entries.flow.async_init(
        DOMAIN,
        context={"source": SOURCE_INTEGRATION_DISCOVERY},
        data={"charge_point_id": "X1"},
    )
    suggested = _suggested(result)
    assert suggested["phases"] is None
    assert suggested["circuit_fuse"] == 16
    assert suggested["name"] == "X1"
    form = {key: value for key, value in suggested.items() if value is not None}
    with pytest.raises(InvalidData) as refused:
        await hass.config_entries.flow.async_configure(result["flow_id"], form)
    assert set(refused.value.schema_errors) == {"phases"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {**form, "phases": "3"}
    )
    assert result["reason"] == "charger_added"
    await hass.async_block_till_done()
    (subentry,) = place.subentries.values()
    assert subentry.data["phases"] == 3
    assert subentry.data["circuit_fuse"] == 16.0


@pytest.mark.parametrize(
    ("reported", "phases", "fuse"),
    [
        ({}, None, 16),
        ({"phases": 1}, "1", 16),
        ({"phases": 3.0, "max_current": 32.0}, "3", 32),
        # 11 kW on 3 phases at 230 V is 15.9 A: a 16 A circuit.
        ({"phases": 3, "max_current": 11000 / 690}, "3", 16),
        ({"phases": "1", "max_current": "10"}, "1", 10),
        # Out of a circuit fuse's range: the nearest it may be.
        ({"max_current": 125.0}, None, 80),
        ({"max_current": 4.0}, None, 6),
        # Nothing sensible: not guessed.
        ({"phases": 2, "max_current": 0}, None, 16),
        ({"phases": True, "max_current": True}, None, 16),
        ({"phases": None, "max_current": None}, None, 16),
        ({"phases": "three", "max_current": float("nan")}, None, 16),
        ({"phases": [3], "max_current": float("inf")}, None, 16),
    ],
)
def test_discovery_suggestion(
    reported: dict[str, Any], phases: str | None, fuse: int
) -> None:
    """Phases only as reported; the fuse from the reported current, else 16 A."""
    suggestion = discovery_suggestion({"charge_point_id": "X1", **reported})
    assert suggestion.get("phases") == phases
    assert suggestion["circuit_fuse"] == fuse
    assert suggestion["connectors"] == 1


async def test_phone_nearby_settings(hass: HomeAssistant) -> None:
    """Away nearer than near, or out of range, is refused; good settings are kept."""
    place = await _loaded(hass, place_with_charger("CP-1"))
    (subentry,) = place.subentries.values()
    result = await place.start_subentry_reconfigure_flow(hass, subentry.subentry_id)
    form = {"name": "Garage", "circuit_fuse": 32, "phases": "3", "connectors": 1}
    for proximity, error in (
        ({"near_distance": 8, "away_distance": 4}, "away_nearer_than_near"),
        ({"near_seconds": 7200}, "proximity_out_of_range"),
    ):
        result = await hass.config_entries.subentries.async_configure(
            result["flow_id"], {**form, "proximity": proximity}
        )
        assert result["errors"] == {"base": error}
        assert error in EN["error"]
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"],
        {
            **form,
            "access_mode": "restricted",
            "proximity": {
                "near_distance": 3,
                "near_seconds": 5,
                "away_distance": 12,
                "away_seconds": 90,
                "bluetooth_scanner": "aa:bb:cc:dd:ee:ff",
            },
        },
    )
    assert result["reason"] == "reconfigure_successful"
    assert place.subentries[subentry.subentry_id].data["proximity"] == {
        "near_distance": 3.0,
        "near_seconds": 5.0,
        "away_distance": 12.0,
        "away_seconds": 90.0,
        "bluetooth_scanner": "AA:BB:CC:DD:EE:FF",
    }
