"""A simulated OCPP 1.6J charger against the real server, over a real websocket."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from datetime import timedelta
from typing import Any

from freezegun import freeze_time
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
)

from custom_components.homecharge.central.profile import PROFILE_ID
from custom_components.homecharge.central.server import CENTRAL
from custom_components.homecharge.const import DOMAIN
from custom_components.homecharge.logic.limits import LimitSource
from custom_components.homecharge.runtime.charger import OFFLINE_CHECK_S
from homeassistant.const import ATTR_ENTITY_ID, STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import device_registry as dr
from homeassistant.util import dt as dt_util

from .simulators.charger import SimulatedCharger
from .test_central import PASSWORD, place_with_charger

STATUS = "sensor.garage_status"


async def _until(
    hass: HomeAssistant, check: Callable[[], bool], seconds: float = 5
) -> None:
    """Let HA and the simulator run until ``check`` holds."""
    for _ in range(int(seconds / 0.02)):
        await hass.async_block_till_done()
        if check():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("condition not reached")


def _state(hass: HomeAssistant, entity_id: str) -> str:
    state = hass.states.get(entity_id)
    assert state is not None, entity_id
    return state.state


@pytest.fixture
async def place(hass: HomeAssistant) -> MockConfigEntry:
    """A place with charger CP-1 (32 A circuit) registered."""
    entry = place_with_charger("CP-1")
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    return entry


@pytest.fixture
async def simulator(
    hass: HomeAssistant, place: MockConfigEntry
) -> AsyncIterator[Callable[..., SimulatedCharger]]:
    """Make simulated chargers pointed at the place's server; stop them after."""
    made: list[SimulatedCharger] = []

    def make(**config: Any) -> SimulatedCharger:
        charger = SimulatedCharger(
            url=f"ws://127.0.0.1:{hass.data[CENTRAL].port}",
            charge_point_id=config.pop("charge_point_id", "CP-1"),
            password=config.pop("password", PASSWORD),
            meter_interval_s=config.pop("meter_interval_s", 0.1),
            reconnect_interval_s=config.pop("reconnect_interval_s", 0.2),
            reset_delay_s=config.pop("reset_delay_s", 0.1),
            **config,
        )
        made.append(charger)
        return charger

    yield make
    for charger in made:
        await charger.stop()


async def test_connect_charge_and_stop(
    hass: HomeAssistant,
    place: MockConfigEntry,
    simulator: Callable[..., SimulatedCharger],
) -> None:
    """Boot, limit, remote start, meter values, remote stop — entities move."""
    charger = simulator()
    await charger.start()
    await _until(hass, lambda: _state(hass, STATUS) == "ready")
    assert _state(hass, "binary_sensor.garage_connectivity") == "on"

    # The boot filled in the device details, and the circuit fuse was sent.
    await _until(hass, lambda: bool(charger.received_calls("SetChargingProfile")))
    call = charger.received_calls("SetChargingProfile")[0]
    assert call["connector_id"] == 0
    profile = call["cs_charging_profiles"]
    assert profile["charging_profile_purpose"] == "ChargePointMaxProfile"
    assert profile["charging_profile_kind"] == "Absolute"
    assert profile["charging_schedule"]["charging_schedule_period"][0]["limit"] == 32
    await _until(hass, lambda: _state(hass, "sensor.garage_offered_current") == "32.0")
    (subentry,) = place.subentries.values()
    assert subentry.data["manufacturer"] == "Homecharge Sim"
    assert subentry.data["serial"] == "SIM-0001"
    device = dr.async_get(hass).async_get_device(identifiers={(DOMAIN, "CP-1")})
    assert device is not None
    assert device.sw_version == "1.0"

    charger.plug_in()
    await _until(hass, lambda: _state(hass, STATUS) == "preparing")
    assert _state(hass, "binary_sensor.garage_plugged_in") == "on"
    await hass.services.async_call(
        "switch", "turn_on", {ATTR_ENTITY_ID: "switch.garage_charging"}, blocking=True
    )
    await _until(hass, lambda: _state(hass, STATUS) == "charging")
    await _until(hass, lambda: float(_state(hass, "sensor.garage_session_energy")) > 0)
    assert float(_state(hass, "sensor.garage_power")) > 20000
    assert _state(hass, "switch.garage_charging") == "on"

    await hass.services.async_call(
        "switch", "turn_off", {ATTR_ENTITY_ID: "switch.garage_charging"}, blocking=True
    )
    await _until(hass, lambda: _state(hass, "switch.garage_charging") == "off")
    stop = charger.received_calls("RemoteStopTransaction")
    assert stop
    runtime = next(iter(place.runtime_data.chargers.values()))
    assert runtime.data.transaction_id is None
    # Session energy is meter stop − meter start, in kWh.
    assert runtime.data.session_energy_kwh == pytest.approx(
        charger.energy_wh / 1000, abs=0.01
    )
    assert float(_state(hass, "sensor.garage_energy_total")) == pytest.approx(
        charger.energy_wh / 1000, abs=0.01
    )


async def test_max_current_reaches_the_charger(
    hass: HomeAssistant,
    place: MockConfigEntry,
    simulator: Callable[..., SimulatedCharger],
) -> None:
    """Setting max current sends a new profile; the charger draws less."""
    charger = simulator()
    await charger.start()
    await _until(hass, lambda: _state(hass, "sensor.garage_offered_current") == "32.0")
    await hass.services.async_call(
        "number",
        "set_value",
        {ATTR_ENTITY_ID: "number.garage_max_current", "value": 10},
        blocking=True,
    )
    await _until(hass, lambda: charger.current_limit_a == 10)
    assert _state(hass, "sensor.garage_offered_current") == "10.0"
    (subentry,) = place.subentries.values()
    assert subentry.data["max_current"] == 10


async def test_rejected_profile_falls_back(
    hass: HomeAssistant,
    place: MockConfigEntry,
    simulator: Callable[..., SimulatedCharger],
) -> None:
    """A charger that rejects ChargePointMaxProfile gets a TxDefaultProfile."""
    charger = simulator(
        rejects_purposes={"ChargePointMaxProfile"}, rate_unit="Current,Power"
    )
    await charger.start()
    await _until(hass, lambda: len(charger.received_calls("SetChargingProfile")) >= 2)
    purposes = [
        call["cs_charging_profiles"]["charging_profile_purpose"]
        for call in charger.received_calls("SetChargingProfile")
    ]
    assert purposes[:2] == ["ChargePointMaxProfile", "TxDefaultProfile"]
    await _until(hass, lambda: _state(hass, "sensor.garage_offered_current") == "32.0")


async def test_restart_shows_restarting_until_boot(
    hass: HomeAssistant,
    place: MockConfigEntry,
    simulator: Callable[..., SimulatedCharger],
) -> None:
    """The restart button resets the charger; it boots again on its own."""
    charger = simulator(reset_delay_s=0.5)
    await charger.start()
    await _until(hass, lambda: _state(hass, STATUS) == "ready")
    await hass.services.async_call(
        "button", "press", {ATTR_ENTITY_ID: "button.garage_restart"}, blocking=True
    )
    assert _state(hass, STATUS) == "restarting"
    await _until(hass, lambda: charger.boots == 2)
    await _until(hass, lambda: _state(hass, STATUS) == "ready")


async def test_refused_restart_is_reported(
    hass: HomeAssistant,
    place: MockConfigEntry,
    simulator: Callable[..., SimulatedCharger],
) -> None:
    """A charger that refuses Reset: a clear error, no "restarting"."""
    charger = simulator(refuses_reset=True)
    await charger.start()
    await _until(hass, lambda: _state(hass, STATUS) == "ready")
    with pytest.raises(HomeAssistantError) as err:
        await hass.services.async_call(
            "button", "press", {ATTR_ENTITY_ID: "button.garage_restart"}, blocking=True
        )
    assert err.value.translation_key == "command_rejected"
    assert _state(hass, STATUS) == "ready"


async def test_offline_only_after_the_heartbeat_timeout(
    hass: HomeAssistant,
    place: MockConfigEntry,
    simulator: Callable[..., SimulatedCharger],
) -> None:
    """A dropped socket is not "needs connection" until the timeout passes."""
    charger = simulator()
    await charger.start()
    await _until(hass, lambda: _state(hass, STATUS) == "ready")
    await _until(hass, lambda: _state(hass, "sensor.garage_power") != STATE_UNAVAILABLE)
    await charger.stop()
    await _until(
        hass,
        lambda: not place.runtime_data.chargers[
            next(iter(place.runtime_data.chargers))
        ].data.connected,
    )
    assert _state(hass, STATUS) == "ready"
    with pytest.raises(HomeAssistantError) as err:
        await hass.services.async_call(
            "switch",
            "turn_on",
            {ATTR_ENTITY_ID: "switch.garage_charging"},
            blocking=True,
        )
    assert err.value.translation_key == "charger_unreachable"

    later = dt_util.utcnow() + timedelta(seconds=OFFLINE_CHECK_S + 1)
    with freeze_time(later):
        async_fire_time_changed(hass, later)
        await hass.async_block_till_done()
        assert _state(hass, STATUS) == "needs_internet"
        assert _state(hass, "binary_sensor.garage_connectivity") == "off"
        assert _state(hass, "sensor.garage_power") == STATE_UNAVAILABLE


async def test_state_survives_a_restart_of_home_assistant(
    hass: HomeAssistant,
    place: MockConfigEntry,
    simulator: Callable[..., SimulatedCharger],
) -> None:
    """Mid-session reload: the transaction and its energy carry on."""
    charger = simulator()
    await charger.start()
    await _until(hass, lambda: _state(hass, STATUS) == "ready")
    charger.plug_in()
    await charger.start_transaction()
    await _until(hass, lambda: float(_state(hass, "sensor.garage_session_energy")) > 0)

    assert await hass.config_entries.async_reload(place.entry_id)
    await hass.async_block_till_done()
    runtime = next(iter(place.runtime_data.chargers.values()))
    assert runtime.data.transaction_id is not None
    before = runtime.data.session_energy_kwh or 0
    await _until(hass, lambda: (runtime.data.session_energy_kwh or 0) > before)
    assert _state(hass, STATUS) == "charging"


async def test_removed_charger_is_refused(
    hass: HomeAssistant,
    place: MockConfigEntry,
    simulator: Callable[..., SimulatedCharger],
) -> None:
    """Removing the charger closes its socket; it cannot come back."""
    charger = simulator()
    await charger.start()
    await _until(hass, lambda: charger.connected)
    (subentry_id,) = place.subentries
    assert hass.config_entries.async_remove_subentry(place, subentry_id)
    await hass.async_block_till_done()
    await _until(hass, lambda: not charger.connected)
    await _until(hass, lambda: "404" in charger.state)
    assert dr.async_get(hass).async_get_device(identifiers={(DOMAIN, "CP-1")}) is None


async def test_discovered_charger_gets_a_password(hass: HomeAssistant) -> None:
    """Accept new chargers → discovery → added → AuthorizationKey → required."""
    place = MockConfigEntry(
        domain=DOMAIN,
        title="Home",
        data={**place_with_charger().data, "accept_new_chargers": True},
    )
    place.add_to_hass(hass)
    assert await hass.config_entries.async_setup(place.entry_id)
    await hass.async_block_till_done()
    charger = SimulatedCharger(
        url=f"ws://127.0.0.1:{hass.data[CENTRAL].port}",
        charge_point_id="NEW-1",
        meter_interval_s=0.1,
        reconnect_interval_s=0.2,
    )
    try:
        await charger.start(wait=False)
        await _until(
            hass,
            lambda: bool(hass.config_entries.flow.async_progress_by_handler(DOMAIN)),
        )
        (flow,) = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
        assert flow["context"]["title_placeholders"] == {
            "name": "Homecharge Sim SIM-22 SIM-0001"
        }
        result = await hass.config_entries.flow.async_configure(
            flow["flow_id"],
            {
                "place": place.entry_id,
                "name": "Garage",
                "circuit_fuse": 16,
                "phases": "3",
                "connectors": 1,
            },
        )
        assert result["reason"] == "charger_added"
        await _until(hass, lambda: charger.booted, seconds=15)
        (subentry,) = place.subentries.values()
        await _until(
            hass, lambda: place.subentries[subentry.subentry_id].data["password"]
        )
        password = place.subentries[subentry.subentry_id].data["password"]
        assert charger.password == password
        assert (
            charger.received_calls("ChangeConfiguration")[0]["key"]
            == "AuthorizationKey"
        )
    finally:
        await charger.stop()


async def test_switches(
    hass: HomeAssistant,
    place: MockConfigEntry,
    simulator: Callable[..., SimulatedCharger],
) -> None:
    """Enabled → ChangeAvailability; smart charging is kept; accept is the place's."""
    charger = simulator()
    await charger.start()
    await _until(hass, lambda: _state(hass, STATUS) == "ready")
    await hass.services.async_call(
        "switch", "turn_off", {ATTR_ENTITY_ID: "switch.garage_enabled"}, blocking=True
    )
    await _until(hass, lambda: charger.availability == "Inoperative")
    await _until(hass, lambda: _state(hass, STATUS) == "waiting")
    assert _state(hass, "switch.garage_enabled") == "off"
    await hass.services.async_call(
        "switch", "turn_on", {ATTR_ENTITY_ID: "switch.garage_enabled"}, blocking=True
    )
    await _until(hass, lambda: _state(hass, STATUS) == "ready")

    await hass.services.async_call(
        "switch",
        "turn_off",
        {ATTR_ENTITY_ID: "switch.garage_smart_charging"},
        blocking=True,
    )
    assert _state(hass, "switch.garage_smart_charging") == "off"

    await hass.services.async_call(
        "switch",
        "turn_on",
        {ATTR_ENTITY_ID: "switch.home_accept_new_chargers"},
        blocking=True,
    )
    await hass.async_block_till_done()
    assert place.data["accept_new_chargers"] is True
    assert place.entry_id in hass.data[CENTRAL]._accepting
    await hass.services.async_call(
        "switch",
        "turn_off",
        {ATTR_ENTITY_ID: "switch.home_accept_new_chargers"},
        blocking=True,
    )
    await hass.async_block_till_done()
    assert not hass.data[CENTRAL]._accepting


async def test_charger_that_ignores_zero_is_paused(
    hass: HomeAssistant,
    place: MockConfigEntry,
    simulator: Callable[..., SimulatedCharger],
) -> None:
    """A charger that keeps charging at 0 A is learned, then paused instead."""
    charger = simulator(ignores_zero=True)
    await charger.start()
    charger.plug_in()
    await charger.start_transaction()
    runtime = next(iter(place.runtime_data.chargers.values()))
    await _until(hass, lambda: runtime.data.transaction_id is not None)
    await _until(hass, lambda: runtime.data.capabilities is not None)

    runtime.set_limit(LimitSource.BALANCER, 3)  # under 6 A: off
    # The charger changes when it gets the call, HA when it has the answer.
    await _until(
        hass,
        lambda: charger.availability == "Inoperative" and runtime.data.paused,
    )
    assert charger.received_calls("RemoteStopTransaction")
    assert not runtime.data.honours_zero
    assert runtime.data.stored()["honours_zero"] is False

    runtime.set_limit(LimitSource.BALANCER, None)
    await _until(
        hass,
        lambda: charger.availability == "Operative" and not runtime.data.paused,
    )
    assert runtime.data.offered_a == 32


async def test_availability_has_one_owner(
    hass: HomeAssistant,
    place: MockConfigEntry,
    simulator: Callable[..., SimulatedCharger],
) -> None:
    """Pause and the enable switch meet in one decision: neither undoes the other.

    A charger paused for ignoring 0 A and then disabled stays unavailable when
    current is allowed again, until it is enabled; each change is told once,
    on the whole charger (connector 0).
    """
    charger = simulator(ignores_zero=True)
    await charger.start()
    charger.plug_in()
    await charger.start_transaction()
    runtime = next(iter(place.runtime_data.chargers.values()))
    await _until(hass, lambda: runtime.data.transaction_id is not None)
    await _until(hass, lambda: runtime.data.capabilities is not None)
    runtime.data.honours_zero = False
    runtime.data.capabilities = replace(runtime.data.capabilities, honours_zero=False)

    runtime.set_limit(LimitSource.BALANCER, 0)
    await _until(hass, lambda: runtime.data.paused)
    await _until(hass, lambda: charger.availability == "Inoperative")
    told = len(charger.received_calls("ChangeAvailability"))
    # Disabling a paused charger changes nothing it must be told.
    await hass.services.async_call(
        "switch", "turn_off", {ATTR_ENTITY_ID: "switch.garage_enabled"}, blocking=True
    )
    assert len(charger.received_calls("ChangeAvailability")) == told
    assert not runtime.data.enabled

    # Current is allowed again, but the user's "off" still holds.
    runtime.set_limit(LimitSource.BALANCER, None)
    await _until(hass, lambda: not runtime.data.paused)
    await hass.async_block_till_done()
    assert charger.availability == "Inoperative"
    assert len(charger.received_calls("ChangeAvailability")) == told

    await hass.services.async_call(
        "switch", "turn_on", {ATTR_ENTITY_ID: "switch.garage_enabled"}, blocking=True
    )
    await _until(hass, lambda: charger.availability == "Operative")
    calls = charger.received_calls("ChangeAvailability")
    assert len(calls) == told + 1
    assert {call["connector_id"] for call in calls} == {0}


async def test_tx_profile_when_nothing_else_is_accepted(
    hass: HomeAssistant,
    place: MockConfigEntry,
    simulator: Callable[..., SimulatedCharger],
) -> None:
    """Only TxProfile accepted: sent with the running transaction, else nothing."""
    charger = simulator(rejects_purposes={"ChargePointMaxProfile", "TxDefaultProfile"})
    await charger.start()
    runtime = next(iter(place.runtime_data.chargers.values()))
    await _until(hass, lambda: len(charger.received_calls("SetChargingProfile")) >= 2)
    await hass.async_block_till_done()
    assert runtime.data.offered_a is None
    charger.plug_in()
    await charger.start_transaction()
    await _until(hass, lambda: runtime.data.transaction_id is not None)
    assert await runtime.async_apply_limit()
    tx = charger.received_calls("SetChargingProfile")[-1]["cs_charging_profiles"]
    assert tx["charging_profile_purpose"] == "TxProfile"
    assert str(tx["transaction_id"]) == runtime.data.transaction_id
    # Rejections are remembered for this connection: no retry of the others.
    assert runtime.data.capabilities is not None
    assert len(runtime.data.capabilities.rejected) == 2


async def test_limit_is_renewed_before_it_expires(
    hass: HomeAssistant,
    place: MockConfigEntry,
    simulator: Callable[..., SimulatedCharger],
) -> None:
    """While HA runs the limit is sent again; without it the charger falls back."""
    charger = simulator()
    await charger.start()
    runtime = next(iter(place.runtime_data.chargers.values()))
    await _until(hass, lambda: runtime.data.limit_sent_at is not None)
    await _until(hass, lambda: len(_expiring(charger)) == 1)
    assert runtime.data.limit_sent_at is not None
    runtime.data.limit_sent_at -= timedelta(minutes=2)
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(minutes=1))
    await _until(hass, lambda: len(_expiring(charger)) == 2)


def _expiring(charger: SimulatedCharger) -> list[dict[str, Any]]:
    """Our expiring limits (not the lasting safe-current profile beneath)."""
    return [
        call
        for call in charger.received_calls("SetChargingProfile")
        if call["cs_charging_profiles"]["charging_profile_id"] == PROFILE_ID
    ]
