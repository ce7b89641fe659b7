"""A simulated OCPP 2.0.1 station against the real server: the same runtime."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.homecharge.central.profile import PROFILE_ID
from custom_components.homecharge.central.server import CENTRAL
from custom_components.homecharge.central.v201 import variable
from homeassistant.const import ATTR_ENTITY_ID
from homeassistant.core import HomeAssistant

from .simulators.charger import SimulatedCharger
from .test_central import PASSWORD, place_with_charger
from .test_charger_runtime import STATUS, _state, _until


@pytest.fixture
async def station(hass: HomeAssistant) -> AsyncIterator[SimulatedCharger]:
    """A place with CP-1, and CP-1 connected as a 2.0.1 station."""
    entry = place_with_charger("CP-1")
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    charger = SimulatedCharger(
        url=f"ws://127.0.0.1:{hass.data[CENTRAL].port}",
        charge_point_id="CP-1",
        version="2.0.1",
        password=PASSWORD,
        meter_interval_s=0.1,
        reconnect_interval_s=0.2,
        reset_delay_s=0.2,
    )
    await charger.start()
    yield charger
    await charger.stop()


async def test_station_charges(hass: HomeAssistant, station: SimulatedCharger) -> None:
    """Boot, station-wide limit, remote start, energy, remote stop."""
    await _until(hass, lambda: _state(hass, STATUS) == "ready")
    await _until(hass, lambda: _state(hass, "sensor.garage_offered_current") == "32.0")
    (call,) = [
        call
        for call in station.received_calls("SetChargingProfile")
        if call["charging_profile"]["id"] == PROFILE_ID
    ]
    assert call["evse_id"] == 0
    assert (
        call["charging_profile"]["charging_profile_purpose"]
        == "ChargingStationMaxProfile"
    )

    station.plug_in()
    await _until(hass, lambda: _state(hass, STATUS) == "preparing")
    await hass.services.async_call(
        "switch", "turn_on", {ATTR_ENTITY_ID: "switch.garage_charging"}, blocking=True
    )
    await _until(hass, lambda: _state(hass, STATUS) == "charging")
    await _until(hass, lambda: float(_state(hass, "sensor.garage_session_energy")) > 0)
    assert float(_state(hass, "sensor.garage_power")) > 0
    await hass.services.async_call(
        "switch", "turn_off", {ATTR_ENTITY_ID: "switch.garage_charging"}, blocking=True
    )
    await _until(hass, lambda: _state(hass, "switch.garage_charging") == "off")
    # Stopped by the user with the car plugged in: not "complete".
    await _until(hass, lambda: _state(hass, STATUS) == "stopped")
    place = hass.config_entries.async_entries("homecharge")[0]
    runtime = next(iter(place.runtime_data.chargers.values()))
    assert runtime.data.energy_wh == pytest.approx(station.energy_wh, abs=1)
    assert runtime.data.energy_wh > 0


async def test_station_restart_and_limit(
    hass: HomeAssistant, station: SimulatedCharger
) -> None:
    """A limit reaches the station; a restart brings it back booted."""
    await _until(hass, lambda: _state(hass, STATUS) == "ready")
    await hass.services.async_call(
        "number",
        "set_value",
        {ATTR_ENTITY_ID: "number.garage_max_current", "value": 12},
        blocking=True,
    )
    await _until(hass, lambda: station.current_limit_a == 12)
    await hass.services.async_call(
        "button", "press", {ATTR_ENTITY_ID: "button.garage_restart"}, blocking=True
    )
    await _until(hass, lambda: station.boots == 2)
    await _until(hass, lambda: _state(hass, STATUS) == "ready")


async def test_station_configuration(
    hass: HomeAssistant, station: SimulatedCharger
) -> None:
    """1.6 key names and Component.Variable both reach the device model."""
    place: MockConfigEntry = hass.config_entries.async_entries("homecharge")[0]  # type: ignore[assignment]
    runtime = next(iter(place.runtime_data.chargers.values()))
    values = await runtime.async_get_configuration(["ChargeProfileMaxStackLevel"])
    assert values == {"ChargeProfileMaxStackLevel": "8"}
    assert (
        await runtime.async_change_configuration(
            "OCPPCommCtrlr.HeartbeatInterval", "60"
        )
        == "Accepted"
    )
    assert variable("AuthorizationKey") == ("SecurityCtrlr", "BasicAuthPassword")
    assert variable("Foo") == ("OCPPCommCtrlr", "Foo")
