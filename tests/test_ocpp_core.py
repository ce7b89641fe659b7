"""The OCPP core under faults, removal, dead Home Assistants and guessing.

Over real websockets with the charger simulator (stacked profiles, expiry,
faults per connector, TriggerMessage) and the raw charger for what firmware
does wrong.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import aiohttp
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.homecharge.central.guard import FREE_TRIES, REPORT_AFTER
from custom_components.homecharge.central.profile import FALLBACK_PROFILE_ID, PROFILE_ID
from custom_components.homecharge.central.server import CENTRAL, MAX_UNKNOWN_SOCKETS
from custom_components.homecharge.const import DOMAIN
from custom_components.homecharge.logic.limits import LimitSource
from custom_components.homecharge.runtime.charger import ChargerCoordinator
from custom_components.homecharge.runtime.charger_state import Fallback
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
from homeassistant.util import dt as dt_util

from .simulators import model as simulator_model
from .simulators.charger import SimulatedCharger
from .simulators.raw import RawCharger
from .test_central import PASSWORD, place_with_charger
from .test_charger_runtime import (  # noqa: F401 - place and simulator are fixtures
    _state,
    _until,
    place,
    simulator,
)

STATUS = "sensor.garage_status"


def _runtime(place: MockConfigEntry) -> ChargerCoordinator:
    return next(iter(place.runtime_data.chargers.values()))


async def test_a_charger_wide_fault_sets_and_clears(
    hass: HomeAssistant, simulator: Callable[..., SimulatedCharger]
) -> None:
    """Faulted on connector 0 is an error until connector 0 says otherwise."""
    charger = simulator()
    await charger.start()
    await _until(hass, lambda: _state(hass, STATUS) == "ready")
    charger.fault("GroundFailure", connector_id=0)
    await _until(hass, lambda: _state(hass, STATUS) == "error")
    assert _state(hass, "sensor.garage_error_code") == "GroundFailure"
    charger.clear_fault(connector_id=0)
    await _until(hass, lambda: _state(hass, STATUS) == "ready")


async def test_a_charger_reporting_only_connector_0_is_ready(
    hass: HomeAssistant, place: MockConfigEntry
) -> None:
    """No connector status yet: the charger's own Available means ready."""
    raw = RawCharger(f"ws://127.0.0.1:{hass.data[CENTRAL].port}", "CP-1", PASSWORD)
    await raw.connect()
    try:
        await raw.boot()
        await raw.call(
            "StatusNotification",
            {"connectorId": 0, "errorCode": "NoError", "status": "Available"},
        )
        await _until(hass, lambda: _state(hass, STATUS) == "ready")
    finally:
        await raw.close()


async def test_after_a_connect_status_and_readings_are_asked_for(
    hass: HomeAssistant, simulator: Callable[..., SimulatedCharger]
) -> None:
    """TriggerMessage for the status (every connector) and meter values."""
    charger = simulator()
    await charger.start()
    await _until(hass, lambda: len(charger.received_calls("TriggerMessage")) == 2)
    asked = {
        (call["requested_message"], call.get("connector_id"))
        for call in charger.received_calls("TriggerMessage")
    }
    assert asked == {("StatusNotification", None), ("MeterValues", 1)}


async def test_one_change_availability_per_need(
    hass: HomeAssistant, simulator: Callable[..., SimulatedCharger]
) -> None:
    """A charger that connects, enabled and open, is told Operative once."""
    charger = simulator()
    await charger.start()
    await _until(hass, lambda: len(charger.received_calls("TriggerMessage")) == 2)
    await hass.async_block_till_done()
    assert len(charger.received_calls("ChangeAvailability")) <= 1


async def test_a_stopped_session_is_not_called_complete(
    hass: HomeAssistant, simulator: Callable[..., SimulatedCharger]
) -> None:
    """Stopped from Home Assistant with the car still plugged in: "stopped"."""
    charger = simulator()
    await charger.start()
    charger.plug_in()
    await charger.start_transaction()
    await _until(hass, lambda: _state(hass, STATUS) == "charging")
    await hass.services.async_call(
        "switch", "turn_off", {"entity_id": "switch.garage_charging"}, blocking=True
    )
    await _until(hass, lambda: _state(hass, STATUS) == "stopped")


async def test_a_scheduled_reset_is_shown_and_cleared(
    hass: HomeAssistant, simulator: Callable[..., SimulatedCharger]
) -> None:
    """2.0.1: a soft reset during a session is scheduled, not "restarting"."""
    charger = simulator(version="2.0.1")
    await charger.start()
    charger.plug_in()
    await charger.start_transaction()
    await _until(hass, lambda: _state(hass, STATUS) == "charging")
    await hass.services.async_call(
        DOMAIN,
        "restart",
        {"device_id": _device_id(hass), "hard": False},
        blocking=True,
        return_response=True,
    )
    assert _state(hass, STATUS) == "restart_scheduled"
    await charger.stop_transaction()
    await _until(hass, lambda: _state(hass, STATUS) != "restart_scheduled")
    # The charger keeps its word: it restarts once the session is over.
    await _until(hass, lambda: charger.boots == 2 and charger.booted, 10)


def _device_id(hass: HomeAssistant) -> str:
    from homeassistant.helpers import device_registry as dr  # noqa: PLC0415

    device = dr.async_get(hass).async_get_device(identifiers={(DOMAIN, "CP-1")})
    assert device is not None
    return device.id


async def test_a_removed_charger_is_let_go_safely(
    hass: HomeAssistant,
    place: MockConfigEntry,
    simulator: Callable[..., SimulatedCharger],
) -> None:
    """Its session stops and our profiles go before it is disconnected."""
    charger = simulator()
    await charger.start()
    charger.plug_in()
    await charger.start_transaction()
    runtime = _runtime(place)
    await _until(hass, lambda: runtime.data.transaction_id is not None)
    await _until(hass, lambda: runtime.data.fallback is Fallback.SAFE_CURRENT)
    subentry_id = runtime.subentry_id
    assert hass.config_entries.async_remove_subentry(place, subentry_id)
    await _until(hass, lambda: charger.transaction_id is None, 10)
    cleared = {
        call.get("id") for call in charger.received_calls("ClearChargingProfile")
    }
    assert {PROFILE_ID, FALLBACK_PROFILE_ID} <= cleared
    assert charger.received_calls("RemoteStopTransaction")
    assert not any(
        profile.id in (PROFILE_ID, FALLBACK_PROFILE_ID) for profile in charger.profiles
    )


async def test_the_fallback_profile_holds_the_safe_current(
    hass: HomeAssistant,
    place: MockConfigEntry,
    simulator: Callable[..., SimulatedCharger],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """When our expiring limit lapses, the charger falls to the safe current."""
    charger = simulator(max_stack_level=8)
    await charger.start()
    runtime = _runtime(place)
    await _until(hass, lambda: runtime.data.fallback is Fallback.SAFE_CURRENT)
    assert runtime.data.fallback_a == 6.0
    runtime.set_limit(LimitSource.BALANCER, 20.0)
    await _until(hass, lambda: charger.current_limit_a == 20.0)
    fallback = [p for p in charger.profiles if p.id == FALLBACK_PROFILE_ID]
    assert [p.stack_level for p in fallback] == [7]
    # Home Assistant goes quiet: the charger's clock passes our limit's end.
    later = dt_util.utcnow() + timedelta(minutes=10)
    monkeypatch.setattr(simulator_model, "utcnow", lambda: later)
    assert charger.current_limit_a == 6.0


async def test_a_charger_with_one_stack_level_is_reported(
    hass: HomeAssistant,
    place: MockConfigEntry,
    simulator: Callable[..., SimulatedCharger],
) -> None:
    """No room beneath our limit: it falls back to its own maximum, and says so."""
    charger = simulator(max_stack_level=0)
    await charger.start()
    runtime = _runtime(place)
    await _until(hass, lambda: runtime.data.fallback is Fallback.OWN_MAXIMUM)
    assert runtime.data.fallback_a is None


async def test_password_guessing_is_slowed_and_reported(
    hass: HomeAssistant, place: MockConfigEntry
) -> None:
    """After a few wrong passwords even the right one waits; the user is told."""
    url = f"ws://127.0.0.1:{hass.data[CENTRAL].port}/CP-1"
    statuses = [await _status(url, "wrong") for _ in range(REPORT_AFTER)]
    assert set(statuses) == {401}
    # Backing off: the right password is refused too, for now.
    assert await _status(url, PASSWORD) == 401
    issues = ir.async_get(hass).issues
    assert any(issue_id[1].startswith("password_guessing_") for issue_id in issues)
    assert FREE_TRIES < REPORT_AFTER


async def test_unknown_sockets_are_capped(hass: HomeAssistant) -> None:
    """While a place accepts new chargers, only so many unknown ones may connect."""
    entry = place_with_charger("CP-1", accept_new_chargers=True)
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    base = f"ws://127.0.0.1:{hass.data[CENTRAL].port}"
    sockets = [RawCharger(base, f"NEW-{n}") for n in range(MAX_UNKNOWN_SOCKETS)]
    try:
        for raw in sockets:
            await raw.connect()
        assert await _status(f"{base}/NEW-X", None) == 503
    finally:
        for raw in sockets:
            await raw.close()


async def _status(url: str, password: str | None) -> int:
    """The HTTP status of a websocket upgrade (101 when accepted)."""
    auth = aiohttp.BasicAuth("CP-1", password) if password else None
    async with aiohttp.ClientSession() as client:
        try:
            async with client.ws_connect(url, auth=auth, protocols=("ocpp1.6",)):
                return 101
        except aiohttp.WSServerHandshakeError as err:
            return err.status
