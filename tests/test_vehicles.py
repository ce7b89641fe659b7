"""Vehicles of a place: the subentry flow, sessions they start, what the planner uses."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.homecharge.central.server import CENTRAL
from custom_components.homecharge.const import DOMAIN
from custom_components.homecharge.logic.planner.problem import CHARGE_EFFICIENCY
from custom_components.homecharge.logic.vehicles import (
    Vehicle,
    parse_id_tags,
    tags_in_use,
    vehicle_of,
)
from homeassistant.config_entries import ConfigSubentryData
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.util import dt as dt_util

from .simulators.raw import RawCharger
from .test_central import PASSWORD
from .test_sessions_runtime import _flat_prices, _start, _stop
from .test_smart_charging import set_prices, smart_place

FORM = {
    "name": "Family car",
    "make": "Volkswagen",
    "vehicle_model": "ID.4",
    "registration": "EV12345",
    "battery_kwh": 77,
    "soc_entity": "sensor.id4_battery_level",
    "odometer_entity": "sensor.id4_odometer",
    "id_tags": ["CARD-1", " card-2 ", ""],
}


def test_id_tags_from_text_or_list() -> None:
    assert parse_id_tags("A, B;C\nA") == ("A", "B", "C")
    assert parse_id_tags(["x", " ", "y"]) == ("x", "y")
    assert parse_id_tags(None) == ()
    car = Vehicle(key="1", name="Car", id_tags=("Card-1",))
    assert vehicle_of([car], "CARD-1") is car
    assert vehicle_of([car], None) is None
    assert vehicle_of([car], "other") is None
    assert tags_in_use([car], ["card-1", "new"]) == ["card-1"]
    assert tags_in_use([car], ["card-1"], besides="1") == []


async def _place(hass: HomeAssistant, *vehicles: dict[str, Any]) -> MockConfigEntry:
    set_prices(hass, _flat_prices())
    base = smart_place()
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="Home",
        data=dict(base.data),
        options=dict(base.options),
        subentries_data=[
            *(
                ConfigSubentryData(
                    data=dict(sub.data),
                    subentry_type=sub.subentry_type,
                    title=sub.title,
                    unique_id=sub.unique_id,
                )
                for sub in base.subentries.values()
            ),
            *(
                ConfigSubentryData(
                    data={k: v for k, v in vehicle.items() if k != "name"},
                    subentry_type="vehicle",
                    title=vehicle["name"],
                    unique_id=None,
                )
                for vehicle in vehicles
            ),
        ],
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    return entry


async def test_add_a_vehicle(hass: HomeAssistant) -> None:
    place = await _place(hass)
    result = await hass.config_entries.subentries.async_init(
        (place.entry_id, "vehicle"), context={"source": "user"}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["description_placeholders"] == {"max_tag": "36"}
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], FORM
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    (vehicle,) = [s for s in place.subentries.values() if s.subentry_type == "vehicle"]
    assert vehicle.title == "Family car"
    assert vehicle.data == {
        "make": "Volkswagen",
        "vehicle_model": "ID.4",
        "registration": "EV12345",
        "battery_kwh": 77.0,
        "soc_entity": "sensor.id4_battery_level",
        "odometer_entity": "sensor.id4_odometer",
        "id_tags": ["CARD-1", "card-2"],
    }


@pytest.mark.parametrize(
    ("changes", "errors"),
    [
        ({"name": " "}, {"name": "name_empty"}),
        ({"battery_kwh": 0.5}, {"battery_kwh": "battery_kwh_out_of_range"}),
        ({"id_tags": ["X" * 37]}, {"id_tags": "id_tag_too_long"}),
        ({"id_tags": ["first-card"]}, {"id_tags": "id_tag_taken"}),
    ],
)
async def test_a_vehicle_form_refuses_bad_values(
    hass: HomeAssistant, changes: dict[str, Any], errors: dict[str, str]
) -> None:
    place = await _place(hass, {"name": "First", "id_tags": ["FIRST-CARD"]})
    result = await hass.config_entries.subentries.async_init(
        (place.entry_id, "vehicle"), context={"source": "user"}
    )
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {**FORM, **changes}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == errors


async def test_change_a_vehicle(hass: HomeAssistant) -> None:
    """Its own tags are not "taken"; emptied fields become None."""
    place = await _place(hass, {"name": "Car", "id_tags": ["CARD-1"], "make": "VW"})
    (vehicle,) = [s for s in place.subentries.values() if s.subentry_type == "vehicle"]
    result = await place.start_subentry_reconfigure_flow(hass, vehicle.subentry_id)
    assert result["step_id"] == "reconfigure"
    suggested = {
        str(key): key.description["suggested_value"]
        for key in result["data_schema"].schema
        if key.description and "suggested_value" in key.description
    }
    assert suggested["name"] == "Car"
    assert suggested["id_tags"] == ["CARD-1"]
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {"name": "Renamed", "id_tags": ["CARD-1", "CARD-3"]}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    await hass.async_block_till_done()
    changed = place.subentries[vehicle.subentry_id]
    assert changed.title == "Renamed"
    assert changed.data["make"] is None
    assert changed.data["id_tags"] == ["CARD-1", "CARD-3"]
    vehicles = place.runtime_data.sessions.vehicles
    assert [v.name for v in vehicles] == ["Renamed"]


async def test_a_vehicles_session_records_it_and_the_planner_uses_it(
    hass: HomeAssistant,
) -> None:
    """Its tag names the session; the odometer at start and stop; its battery."""
    hass.states.async_set(
        "sensor.id4_odometer", "12345.6", {"unit_of_measurement": "km"}
    )
    hass.states.async_set("sensor.id4_battery_level", "40")
    place = await _place(
        hass,
        {
            "name": "Family car",
            "battery_kwh": 50.0,
            "soc_entity": "sensor.id4_battery_level",
            "odometer_entity": "sensor.id4_odometer",
            "id_tags": ["TAG-1"],
        },
    )
    raw = RawCharger(f"ws://127.0.0.1:{hass.data[CENTRAL].port}", "CP-1", PASSWORD)
    await raw.connect()
    try:
        await raw.boot()
        now = dt_util.utcnow()
        tid = await _start(raw, now - timedelta(minutes=2), 0)
        await raw.call(
            "StatusNotification",
            {"connectorId": 1, "errorCode": "NoError", "status": "Charging"},
        )
        await hass.async_block_till_done()
        sessions = place.runtime_data.sessions
        session = sessions.ledger.get(("CP-1", tid))
        assert session is not None
        assert session.vehicle == "Family car"
        assert session.odometer_start_km == pytest.approx(12345.6)

        # The planner: 60 % of the vehicle's 50 kWh is missing (and the
        # charging losses on top), not the default energy of the place.
        plan = await hass.services.async_call(
            DOMAIN,
            "plan_charging",
            {"config_entry_id": place.entry_id},
            blocking=True,
            return_response=True,
        )
        assert plan is not None
        (charger_plan,) = plan["chargers"].values()  # type: ignore[union-attr]
        assert charger_plan["need_based_on"] == "battery"
        assert charger_plan["energy_needed_kwh"] == pytest.approx(
            30.0 / CHARGE_EFFICIENCY, abs=0.001
        )

        hass.states.async_set("sensor.id4_odometer", "12400.0")
        await _stop(raw, tid, dt_util.utcnow(), 1_000)
        await hass.async_block_till_done()
        assert session.odometer_stop_km == pytest.approx(12400.0)
        report = await hass.services.async_call(
            DOMAIN,
            "get_sessions",
            {"config_entry_id": place.entry_id},
            blocking=True,
            return_response=True,
        )
        assert report is not None
        (row,) = report["sessions"]  # type: ignore[misc]
        assert row["vehicle"] == "Family car"
        assert row["odometer_stop_km"] == pytest.approx(12400.0)
    finally:
        await raw.close()
