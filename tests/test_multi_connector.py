"""Chargers with two connectors, over real websockets: one device per connector.

A twin charger (two sockets on one 32 A circuit) against the real server and
Home Assistant's MQTT integration: each connector shows its own status,
session and readings, gets its own limit (a TxDefaultProfile on its
connector), and the balancer and planner keep the two within the circuit.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_mqtt_message,
)

from custom_components.homecharge.central.server import CENTRAL
from custom_components.homecharge.const import DOMAIN
from custom_components.homecharge.logic.limits import LimitSource
from custom_components.homecharge.runtime.charger_routing import (
    LEARN_CONNECTORS_AFTER_S,
)
from homeassistant.config_entries import ConfigEntryState, ConfigSubentryData
from homeassistant.const import ATTR_ENTITY_ID
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr

from .conftest import PLACE_DATA
from .simulators.charger import SimulatedCharger
from .simulators.raw import RawCharger
from .test_central import PASSWORD
from .test_charger_flow import _suggested
from .test_charger_runtime import _state, _until
from .test_load_balancer import METER_OPTIONS, TOPIC, list2

FIRST = "sensor.garage_status"
SECOND = "sensor.garage_connector_2_status"


def twin_place(connectors: int = 2) -> MockConfigEntry:
    """A 40 A place with one twin charger (CP-T) on a 32 A circuit."""
    return MockConfigEntry(
        domain=DOMAIN,
        title="Home",
        data={**PLACE_DATA, "main_fuse": 40.0},
        options=METER_OPTIONS,
        subentries_data=[
            ConfigSubentryData(
                data={
                    "charge_point_id": "CP-T",
                    "connectors": connectors,
                    "password": PASSWORD,
                    "phases": 3,
                    "circuit_fuse": 32.0,
                },
                subentry_type="charger",
                title="Garage",
                unique_id="CP-T",
            )
        ],
    )


@pytest.fixture
async def twin(
    hass: HomeAssistant, mqtt_mock: Any
) -> AsyncIterator[Callable[..., Any]]:
    """Set a twin place up and connect a two-connector simulator to it."""
    made: list[SimulatedCharger] = []

    async def start(
        entry: MockConfigEntry, **config: Any
    ) -> tuple[MockConfigEntry, SimulatedCharger]:
        entry.add_to_hass(hass)
        assert await hass.config_entries.async_setup(entry.entry_id)
        await hass.async_block_till_done()
        sim = SimulatedCharger(
            url=f"ws://127.0.0.1:{hass.data[CENTRAL].port}",
            charge_point_id="CP-T",
            password=PASSWORD,
            max_current=32.0,
            meter_interval_s=0.1,
            reconnect_interval_s=0.2,
            **{"connectors": 2, **config},
        )
        made.append(sim)
        await sim.start()
        return entry, sim

    yield start
    for sim in made:
        await sim.stop()


async def _two_cars(
    hass: HomeAssistant, entry: MockConfigEntry, sim: SimulatedCharger
) -> None:
    """A car on each connector, both sessions known to Home Assistant."""
    for connector in (1, 2):
        sim.plug_in(connector)
        await sim.start_transaction(f"TAG-{connector}", connector_id=connector)
    chargers = entry.runtime_data.chargers.values()
    await _until(hass, lambda: all(c.data.transaction_id for c in chargers))


async def test_each_connector_is_its_own_device_with_its_own_session(
    hass: HomeAssistant, twin: Callable[..., Any]
) -> None:
    """Two cars, two sessions: statuses, numbers and energy kept apart."""
    entry, sim = await twin(twin_place())
    await _until(hass, lambda: _state(hass, SECOND) == "ready")
    registry = dr.async_get(hass)
    device = registry.async_get_device(identifiers={(DOMAIN, "CP-T/2")})
    charger = registry.async_get_device(identifiers={(DOMAIN, "CP-T")})
    assert device is not None
    assert charger is not None
    assert device.via_device_id == charger.id
    assert device.name == "Garage connector 2"
    # The charger's own entities are not repeated on the connector's device.
    assert hass.states.get("button.garage_connector_2_restart") is None
    assert hass.states.get("binary_sensor.garage_connector_2_connectivity") is None

    sim.plug_in(2)
    await _until(hass, lambda: _state(hass, SECOND) == "preparing")
    assert _state(hass, FIRST) == "ready"
    assert _state(hass, "binary_sensor.garage_connector_2_plugged_in") == "on"
    assert _state(hass, "binary_sensor.garage_plugged_in") == "off"
    await sim.start_transaction("TAG-2", connector_id=2)
    await sim.start_transaction("TAG-1", connector_id=1)
    await _until(
        hass,
        lambda: _state(hass, FIRST) == "charging"
        and _state(hass, SECOND) == "charging",
    )
    first, second = (
        entry.runtime_data.chargers[key]
        for key in sorted(entry.runtime_data.chargers, key=len)
    )
    # One numbering per charger: 1.6 transaction ids never collide.
    assert {first.data.transaction_id, second.data.transaction_id} == {"1", "2"}
    await _until(
        hass,
        lambda: float(_state(hass, "sensor.garage_connector_2_session_energy")) > 0,
    )

    running = second.data.transaction_id
    assert running is not None
    await hass.services.async_call(
        "switch",
        "turn_off",
        {ATTR_ENTITY_ID: "switch.garage_connector_2_charging"},
        blocking=True,
    )
    await _until(hass, lambda: second.data.transaction_id is None)
    stops = sim.received_calls("RemoteStopTransaction")
    assert [stop["transaction_id"] for stop in stops] == [int(running)]
    assert first.data.transaction_id is not None
    assert _state(hass, FIRST) == "charging"


async def test_a_connectors_device_finds_that_connectors_sessions(
    hass: HomeAssistant, twin: Callable[..., Any]
) -> None:
    """The connector's device: its sessions; the charger's: all of them."""
    entry, sim = await twin(twin_place())
    await _two_cars(hass, entry, sim)
    registry = dr.async_get(hass)
    devices = {
        key: device.id
        for key in ("CP-T", "CP-T/2")
        if (device := registry.async_get_device(identifiers={(DOMAIN, key)}))
    }

    async def connectors(device_id: str) -> list[Any]:
        response = await hass.services.async_call(
            DOMAIN,
            "get_sessions",
            {
                "config_entry_id": entry.entry_id,
                "device_id": device_id,
                "include_sessions": True,
            },
            blocking=True,
            return_response=True,
        )
        assert response is not None
        sessions = response["sessions"]
        assert isinstance(sessions, list)
        return sorted(row["connector"] for row in sessions)  # type: ignore[index]

    assert await connectors(devices["CP-T/2"]) == [2]
    assert await connectors(devices["CP-T"]) == [1, 2]


def _profiles(sim: SimulatedCharger) -> list[tuple[int, int, str]]:
    """(connector or EVSE, profile id, purpose) of every SetChargingProfile."""
    found = []
    for call in sim.received_calls("SetChargingProfile"):
        if "evse_id" in call:
            profile = call["charging_profile"]
            found.append(
                (call["evse_id"], profile["id"], profile["charging_profile_purpose"])
            )
        else:
            profile = call["cs_charging_profiles"]
            found.append(
                (
                    call["connector_id"],
                    profile["charging_profile_id"],
                    profile["charging_profile_purpose"],
                )
            )
    return found


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
async def test_the_two_connectors_share_the_circuit_and_the_fuse(
    hass: HomeAssistant, twin: Callable[..., Any], version: str
) -> None:
    """Each connector (EVSE) gets its own limit; together they stay within 32 A."""
    entry, sim = await twin(twin_place(), version=version)
    await _two_cars(hass, entry, sim)
    chargers = entry.runtime_data.chargers.values()
    # 5 A in the house leaves 34 A a phase: the 32 A circuit is the limit.
    async_fire_mqtt_message(hass, TOPIC, list2((5.0, 5.0, 5.0)))
    # Fair shares of the circuit, each on its own connector.
    await _until(
        hass,
        lambda: sim.connector_limit_a(1) == sim.connector_limit_a(2) == 16.0,
    )
    sent = _profiles(sim)
    assert {
        (1, 4242, "TxDefaultProfile"),
        (2, 4243, "TxDefaultProfile"),
        (0, 4241, "TxDefaultProfile"),
    } <= set(sent)
    # A station-wide cap would limit both: never used for one connector.
    assert {purpose for _, _, purpose in sent} == {"TxDefaultProfile"}

    # The house takes 30 A: 9 A left under the 40 A fuse (1 A margin). Too
    # little for 6 A each: the later car yields, the other gets it all.
    # Both cars draw their 16 A, as the charger reported it.
    await _until(
        hass,
        lambda: all(
            c.data.current_a == (16.0, 16.0, 16.0) and not c.currents_stale
            for c in chargers
        ),
    )
    drawn = 30.0 + 16.0 + 16.0
    async_fire_mqtt_message(hass, TOPIC, list2((drawn, drawn, drawn)))
    # Each connector's profile is its own request: they land in either order.
    await _until(
        hass,
        lambda: sim.connector_limit_a(2) == 0.0 and sim.connector_limit_a(1) == 9.0,
    )
    # Shown once the charger's answer to the cut is in.
    await _until(
        hass, lambda: _state(hass, "sensor.garage_connector_2_offered_current") == "0.0"
    )
    assert entry.runtime_data.balancer.data.headroom[0] == pytest.approx(9.0, abs=0.5)
    # The planner sees the circuit too: one more line, its fuse the room.
    scheduler = entry.runtime_data.scheduler
    await scheduler.async_replan()
    problem = scheduler.data.problem
    assert problem is not None
    assert [sorted(car.lines) for car in problem.cars] == [[0, 1, 2, 3]] * 2
    # 32 A (in the planner's unit) against 39 A on each line.
    assert {row[3] * 39 for row in problem.headroom} == {
        row[0] * 32 for row in problem.headroom
    }


async def test_a_fault_of_the_whole_charger_shows_on_every_connector(
    hass: HomeAssistant, twin: Callable[..., Any]
) -> None:
    """Connector 0 Faulted: both connectors show the error; Available clears it."""
    _, sim = await twin(twin_place())
    await _until(hass, lambda: _state(hass, SECOND) == "ready")
    sim.fault("GroundFailure", connector_id=0)
    await _until(hass, lambda: _state(hass, SECOND) == "error")
    assert _state(hass, FIRST) == "error"
    assert _state(hass, "sensor.garage_connector_2_error_code") == "GroundFailure"
    sim.clear_fault(connector_id=0)
    await _until(hass, lambda: _state(hass, SECOND) == "ready")
    assert _state(hass, FIRST) == "ready"
    # A connector's own fault is its own.
    sim.fault("ConnectorLockFailure", connector_id=2)
    await _until(hass, lambda: _state(hass, SECOND) == "error")
    assert _state(hass, FIRST) == "ready"


async def test_a_second_connector_is_learned_without_a_disconnect(
    hass: HomeAssistant, twin: Callable[..., Any]
) -> None:
    """A charger added with one connector that reports two gets a second device."""
    entry, sim = await twin(twin_place(connectors=1))
    await _until(hass, lambda: hass.states.get(SECOND) is not None, seconds=10)
    assert entry.state is ConfigEntryState.LOADED
    (subentry,) = entry.subentries.values()
    assert subentry.data["connectors"] == 2
    await _until(hass, lambda: _state(hass, SECOND) == "ready")
    # The reload kept the charger's socket: it never had to connect again.
    assert sim.boots == 1


async def test_removing_a_twin_stops_both_sessions_and_clears_every_profile(
    hass: HomeAssistant, twin: Callable[..., Any]
) -> None:
    """Both sessions stopped, both connectors' limits and the fallback cleared."""
    entry, sim = await twin(twin_place())
    await _two_cars(hass, entry, sim)
    (subentry_id,) = entry.subentries
    hass.config_entries.async_remove_subentry(entry, subentry_id)
    await _until(hass, lambda: len(sim.received_calls("RemoteStopTransaction")) == 2)
    await _until(hass, lambda: len(sim.received_calls("ClearChargingProfile")) == 3)
    cleared = {call["id"] for call in sim.received_calls("ClearChargingProfile")}
    assert cleared == {4241, 4242, 4243}


@pytest.mark.parametrize(
    ("version", "phases", "asked", "connectors"),
    [
        ("1.6", 3, ["ConnectorPhaseRotation", "NumberOfConnectors"], 2),
        # 2.0.1: its device model's phases; its EVSEs report themselves.
        ("2.0.1", 1, None, 1),
    ],
)
async def test_a_discovered_charger_is_suggested_as_it_says(
    hass: HomeAssistant,
    version: str,
    phases: int,
    asked: list[str] | None,
    connectors: int,
) -> None:
    """Phases and connectors as the charger reports them are the suggestion."""
    place = MockConfigEntry(
        domain=DOMAIN,
        title="Home",
        data={**PLACE_DATA, "accept_new_chargers": True},
    )
    place.add_to_hass(hass)
    assert await hass.config_entries.async_setup(place.entry_id)
    await hass.async_block_till_done()
    sim = SimulatedCharger(
        url=f"ws://127.0.0.1:{hass.data[CENTRAL].port}",
        charge_point_id="NEW-T",
        version=version,
        phases=phases,
        connectors=2,
        reconnect_interval_s=0.2,
    )
    try:
        await sim.start(wait=False)
        flows = hass.config_entries.flow.async_progress_by_handler
        await _until(hass, lambda: bool(flows(DOMAIN)), seconds=10)
        (flow,) = flows(DOMAIN)
        result = await hass.config_entries.flow.async_configure(flow["flow_id"])
        suggested = _suggested(result)
        assert suggested["connectors"] == connectors
        assert suggested["phases"] == str(phases)
        if asked is not None:
            assert sim.received_calls("GetConfiguration")[0]["key"] == asked
        else:
            (call,) = sim.received_calls("GetVariables")
            assert call["get_variable_data"] == [
                {
                    "component": {"name": "ChargingStation"},
                    "variable": {"name": "SupplyPhases"},
                }
            ]
    finally:
        await sim.stop()


async def test_pausing_one_connector_leaves_the_other_charging(
    hass: HomeAssistant, twin: Callable[..., Any]
) -> None:
    """A twin that ignores 0 A: connector 2 is made inoperative, not the charger."""
    entry, sim = await twin(twin_place(), ignores_zero=True)
    chargers = entry.runtime_data.chargers
    # Charging now, both: the plan (flat prices, any order) stays out of it.
    for charger in chargers.values():
        charger.set_smart_charging(False)
    for connector in (1, 2):
        sim.plug_in(connector)
        await sim.start_transaction(f"TAG-{connector}", connector_id=connector)
    second = next(c for c in chargers.values() if c.connector_id == 2)
    await _until(hass, lambda: all(c.data.transaction_id for c in chargers.values()))
    # It learns that 0 A is ignored (two readings at 6 A), then pauses.
    second.set_limit(LimitSource.BALANCER, 0)
    await _until(hass, lambda: second.data.paused, seconds=10)
    calls = sim.received_calls("ChangeAvailability")
    assert {(c["connector_id"], c["type"]) for c in calls} >= {(2, "Inoperative")}
    assert all(c["connector_id"] != 0 or c["type"] == "Operative" for c in calls)
    assert sim.connector(1).transaction_id is not None
    assert _state(hass, FIRST) == "charging"
    second.set_limit(LimitSource.BALANCER, None)
    await _until(hass, lambda: not second.data.paused)
    assert sim.received_calls("ChangeAvailability")[-1] == {
        "connector_id": 2,
        "type": "Operative",
    }


async def test_connectors_past_the_most_shown_are_ignored(
    hass: HomeAssistant, twin: Callable[..., Any], caplog: pytest.LogCaptureFixture
) -> None:
    """Ten reported at once: learned as eight in one go, the rest left out."""
    entry, sim = await twin(twin_place(connectors=1), connectors=10)
    (subentry_id,) = entry.subentries
    await _until(
        hass,
        lambda: entry.subentries[subentry_id].data["connectors"] == 8,
        seconds=10,
    )
    await _until(
        hass, lambda: hass.states.get("sensor.garage_connector_8_status") is not None
    )
    assert hass.states.get("sensor.garage_connector_9_status") is None
    assert "connectors past 8 are ignored" in caplog.text
    # A session on a connector not shown still gets its transaction id.
    sim.plug_in(9)
    tx = await sim.start_transaction("TAG-9", connector_id=9)
    assert tx is not None


def _reading(connector: int, wh: int) -> dict[str, Any]:
    return {
        "connectorId": connector,
        "meterValue": [
            {
                "timestamp": "2026-12-07T00:00:00Z",
                "sampledValue": [
                    {
                        "value": str(wh),
                        "measurand": "Energy.Active.Import.Register",
                        "unit": "Wh",
                    }
                ],
            }
        ],
    }


async def test_readings_of_the_whole_twin_are_nobodys(
    hass: HomeAssistant, mqtt_mock: Any
) -> None:
    """Connector 0's MeterValues are the charger's own meter: not a connector's."""
    entry = twin_place()
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    raw = RawCharger(f"ws://127.0.0.1:{hass.data[CENTRAL].port}", "CP-T", PASSWORD)
    await raw.connect()
    try:
        await raw.boot()
        for connector, wh in ((0, 99999), (1, 5000), (2, 7000)):
            answer = await raw.call("MeterValues", _reading(connector, wh))
            assert answer is not None
            assert answer[0] == 3
        await hass.async_block_till_done()
        first, second = sorted(
            entry.runtime_data.chargers.values(), key=lambda c: c.connector_id
        )
        assert (first.data.energy_wh, second.data.energy_wh) == (5000, 7000)
        assert _state(hass, "sensor.garage_connector_2_energy_total") == "7.0"
    finally:
        await raw.close()


async def test_removing_a_twin_place_stops_both_sessions(
    hass: HomeAssistant, twin: Callable[..., Any]
) -> None:
    """The whole place removed: both sessions (from storage) stopped."""
    entry, sim = await twin(twin_place())
    await _two_cars(hass, entry, sim)
    await hass.config_entries.async_remove(entry.entry_id)
    await _until(hass, lambda: len(sim.received_calls("RemoteStopTransaction")) == 2)
    cleared = {call["id"] for call in sim.received_calls("ClearChargingProfile")}
    assert cleared == {4241, 4242, 4243}


async def test_a_connector_configured_away_loses_its_device(
    hass: HomeAssistant, twin: Callable[..., Any]
) -> None:
    """Connectors 2 → 1: the second connector's device and entities go."""
    entry, _sim = await twin(twin_place())
    await _until(hass, lambda: _state(hass, SECOND) == "ready")
    (subentry,) = entry.subentries.values()
    hass.config_entries.async_update_subentry(
        entry, subentry, data={**subentry.data, "connectors": 1}
    )
    registry = dr.async_get(hass)
    await _until(
        hass,
        lambda: registry.async_get_device(identifiers={(DOMAIN, "CP-T/2")}) is None,
        seconds=10,
    )
    assert registry.async_get_device(identifiers={(DOMAIN, "CP-T")}) is not None
    await _until(hass, lambda: hass.states.get(SECOND) is None)
    assert _state(hass, FIRST) == "ready"


async def test_a_connector_the_user_hid_is_not_learned_again(
    hass: HomeAssistant, twin: Callable[..., Any]
) -> None:
    """Learned once: set to 1 afterwards, the next report does not overrule it."""
    entry, sim = await twin(twin_place(connectors=1))
    (subentry_id,) = entry.subentries
    await _until(
        hass,
        lambda: entry.subentries[subentry_id].data["connectors"] == 2,
        seconds=10,
    )
    subentry = entry.subentries[subentry_id]
    hass.config_entries.async_update_subentry(
        entry, subentry, data={**subentry.data, "connectors": 1}
    )
    await _until(hass, lambda: hass.states.get(SECOND) is None, seconds=10)
    # The charger reports connector 2 again (a new status): ignored.
    sim.plug_in(2)
    await asyncio.sleep(LEARN_CONNECTORS_AFTER_S + 0.5)
    await hass.async_block_till_done()
    assert entry.subentries[subentry_id].data["connectors"] == 1
    assert hass.states.get(SECOND) is None
