"""Load balancing at runtime: HA's MQTT integration, the real OCPP server, simulators.

MQTT messages go through Home Assistant's own MQTT integration (its client is
mocked by the test harness: ``mqtt_mock``); the chargers are simulators on
real websockets. The system test with a real broker is test_system_balancing.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import timedelta
import json
import logging
from typing import Any

import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_capture_events,
    async_fire_mqtt_message,
    async_fire_time_changed,
)

from custom_components.homecharge.central.server import CENTRAL
from custom_components.homecharge.const import DOMAIN
from custom_components.homecharge.logic.grid import kw_per_amp
from custom_components.homecharge.logic.limits import LimitSource
from custom_components.homecharge.runtime import overload, scheduling
from custom_components.homecharge.runtime.balancing import EVENT_LOAD_LIMITED
from homeassistant.config_entries import ConfigSubentryData
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
from homeassistant.util import dt as dt_util

from .conftest import PLACE_DATA
from .simulators.charger import SimulatedCharger
from .test_central import PASSWORD
from .test_charger_runtime import _state, _until
from .test_services import _device

TOPIC = "ams"
METER_OPTIONS: dict[str, Any] = {
    "meter_source": "mqtt",
    "meter_topic": TOPIC,
    "meter_format": "ams_json_classic",
    "load_balancing": True,
    # Raises at once here; the waiting is the pure balancer's, tested there.
    "raise_after": 0.0,
    "raise_interval": 0.0,
    # Balancing alone: a flat price and no capacity tariff, so smart charging
    # lets every car charge now (with the tariff it may pause one for hours).
    "grid_day_price": 0.0,
    "grid_night_price": 0.0,
    "capacity_tariff": False,
}


def balanced_place(
    options: dict[str, Any] | None = None, **data: Any
) -> MockConfigEntry:
    """A 40 A IT place with a 3-phase (CP-1) and a 1-phase charger (CP-2 on L2)."""
    chargers = [
        ("CP-1", "Garage", {"phases": 3, "circuit_fuse": 32.0}),
        ("CP-2", "Carport", {"phases": 1, "circuit_fuse": 16.0, "phase": 2}),
    ]
    return MockConfigEntry(
        domain=DOMAIN,
        title="Home",
        data={**PLACE_DATA, "main_fuse": 40.0, **data},
        options={**METER_OPTIONS, **(options or {})},
        subentries_data=[
            ConfigSubentryData(
                data={
                    "charge_point_id": cp_id,
                    "connectors": 1,
                    "password": PASSWORD,
                    **extra,
                },
                subentry_type="charger",
                title=title,
                unique_id=cp_id,
            )
            for cp_id, title, extra in chargers
        ],
    )


def list2(amps: tuple[float, float, float], power_w: float = 5000.0) -> str:
    """An amsreader JSON classic list-2 message (10 s: power and phases)."""
    return json.dumps(
        {
            "id": "58:CF:79:9C:93:AE",
            "name": "ams",
            "up": 100,
            "t": int(dt_util.utcnow().timestamp()),
            "data": {
                "P": power_w,
                "PO": 0,
                "I1": amps[0],
                "I2": amps[1],
                "I3": amps[2],
                "U1": 230.0,
                "U2": 230.0,
                "U3": 230.0,
            },
        }
    )


def list1(power_w: float) -> str:
    """An amsreader JSON classic list-1 message (2.5 s: power only)."""
    return json.dumps(
        {"id": "x", "t": int(dt_util.utcnow().timestamp()), "data": {"P": power_w}}
    )


@pytest.fixture
async def chargers(
    hass: HomeAssistant,
) -> AsyncIterator[Callable[[MockConfigEntry], Any]]:
    """Set a place up and start a charging simulator for each of its chargers."""
    made: list[SimulatedCharger] = []

    async def start(entry: MockConfigEntry) -> dict[str, SimulatedCharger]:
        entry.add_to_hass(hass)
        assert await hass.config_entries.async_setup(entry.entry_id)
        await hass.async_block_till_done()
        sims = {}
        for subentry in entry.subentries.values():
            sim = SimulatedCharger(
                url=f"ws://127.0.0.1:{hass.data[CENTRAL].port}",
                charge_point_id=subentry.data["charge_point_id"],
                password=PASSWORD,
                phases=subentry.data["phases"],
                max_current=subentry.data["circuit_fuse"],
                meter_interval_s=0.1,
                reconnect_interval_s=0.2,
            )
            made.append(sim)
            await sim.start()
            await sim.start_transaction()
            sims[subentry.data["charge_point_id"]] = sim
        runtime = entry.runtime_data
        await _until(
            hass,
            lambda: all(
                c.data.transaction_id is not None for c in runtime.chargers.values()
            ),
        )
        # The cars draw, and the chargers have said so (a reading from before
        # the car ramped up would read 0 A until the next one).
        await _until(
            hass,
            lambda: all(
                not c.currents_stale and max(a or 0.0 for a in c.data.current_a) >= 6.0
                for c in runtime.chargers.values()
            ),
        )
        return sims

    yield start
    for sim in made:
        await sim.stop()


async def test_overload_cuts_pauses_and_recovers(
    hass: HomeAssistant, mqtt_mock: Any, chargers: Callable[..., Any]
) -> None:
    """Cut within one message, pause when 6 A cannot fit, back when it falls."""
    entry = balanced_place()
    sims = await chargers(entry)
    events = async_capture_events(hass, EVENT_LOAD_LIMITED)
    # Until the meter speaks, nobody gets more than the safe current.
    await _until(hass, lambda: all(s.current_limit_a == 6.0 for s in sims.values()))
    assert _state(hass, "sensor.garage_limited_by") == "fail_safe"
    # Power alone says nothing per phase: still the safe current, and why.
    async_fire_mqtt_message(hass, TOPIC, list1(5000))
    await hass.async_block_till_done()
    assert _state(hass, "binary_sensor.home_meter") == "on"
    assert all(s.current_limit_a == 6.0 for s in sims.values())
    assert _state(hass, "sensor.garage_limited_by") == "fail_safe"

    # The house alone takes 20 A per phase; the cars 6 A (L2/L3 for CP-2).
    async_fire_mqtt_message(hass, TOPIC, list2((26.0, 32.0, 32.0)))
    # 40 − 20 − 1 = 19 A: CP-2 shares L2 and L3 with CP-1, 9.5 A each.
    await _until(hass, lambda: sims["CP-1"].current_limit_a == 9.5)
    await _until(hass, lambda: sims["CP-2"].current_limit_a == 9.5)
    assert _state(hass, "sensor.home_headroom_l1") == "19.0"
    assert _state(hass, "sensor.home_grid_current_l2") == "32.0"
    assert _state(hass, "sensor.home_grid_import_power") == "5000.0"
    assert _state(hass, "binary_sensor.home_meter") == "on"

    # A sauna on every phase: 60 A measured, nothing left for the cars.
    async_fire_mqtt_message(hass, TOPIC, list2((60.0, 60.0, 60.0)))
    await _until(hass, lambda: all(s.current_limit_a == 0 for s in sims.values()))
    paused = [e.data for e in events if e.data["reason"] == "paused"]
    assert {e["charge_point_id"] for e in paused} == {"CP-1", "CP-2"}
    assert paused[0]["from"] == 9.5
    assert paused[0]["to"] == 0.0
    assert paused[0]["place"] == "Home"

    assert _state(hass, "sensor.garage_limited_by") == "main_fuse"
    assert _state(hass, "sensor.carport_limited_by") == "main_fuse"

    # The sauna is off: 20 A house load again, the cars come back (a raise,
    # not a cut: 15 s, as CI's loaded runs once took more than 5).
    async_fire_mqtt_message(hass, TOPIC, list2((20.0, 20.0, 20.0)))
    await _until(hass, lambda: all(s.current_limit_a == 9.5 for s in sims.values()), 15)
    assert events[-1].data["reason"] == "raised"
    assert _state(hass, "sensor.garage_limited_by") == "main_fuse"

    # A user's limit under the fuse's share is what holds the car.
    await hass.services.async_call(
        DOMAIN,
        "set_current_limit",
        {"device_id": _device(hass, "CP-1"), "current": 7},
        blocking=True,
    )
    await _until(hass, lambda: sims["CP-1"].current_limit_a == 7.0)
    assert _state(hass, "sensor.garage_limited_by") == "user_limit"


async def test_a_reading_during_a_cut_counts_the_cars_at_the_cut(
    hass: HomeAssistant, mqtt_mock: Any, chargers: Callable[..., Any]
) -> None:
    """A meter reading that comes while a cut is on its way raises nobody.

    The chargers hold the cut before they answer; a reading taken then (the
    house alone) must not be read as the house plus cars still at the old
    current: that would raise them far above the fuse.
    """
    entry = balanced_place()
    sims = await chargers(entry)
    async_fire_mqtt_message(hass, TOPIC, list2((26.0, 32.0, 32.0)))
    await _until(hass, lambda: all(s.current_limit_a == 9.5 for s in sims.values()))
    for sim in sims.values():
        sim.profile_answer_delay_s = 1.0
    sent = {
        cp: len(sim.received_calls("SetChargingProfile")) for cp, sim in sims.items()
    }

    async_fire_mqtt_message(hass, TOPIC, list2((60.0, 60.0, 60.0)))
    await _until(hass, lambda: all(s.current_limit_a == 0 for s in sims.values()))
    # The cars are cut, the chargers have not said so yet: the house alone.
    async_fire_mqtt_message(hass, TOPIC, list2((20.0, 20.0, 20.0)))
    await _until(hass, lambda: all(s.current_limit_a == 9.5 for s in sims.values()), 15)
    for cp, sim in sims.items():
        limits = [
            period["limit"]
            for call in sim.received_calls("SetChargingProfile")[sent[cp] :]
            for period in call["cs_charging_profiles"]["charging_schedule"][
                "charging_schedule_period"
            ]
        ]
        assert max(limits) <= 9.5, (cp, limits)


async def test_the_capacity_guard_holds_the_planned_cars_only(
    hass: HomeAssistant,
    mqtt_mock: Any,
    chargers: Callable[..., Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The plan's step used up this hour: planned cars wait, charge-now cars go.

    The scheduler hands the plan's step to the balancer at every plan; here
    it is an hour already over its cap (0 kW), whatever the minute.
    """
    monkeypatch.setattr(scheduling, "_step_cap_kw", lambda _schedule: 0.0)
    entry = balanced_place()
    sims = await chargers(entry)
    await entry.runtime_data.scheduler.async_replan()
    async_fire_mqtt_message(hass, TOPIC, list2((10.0, 10.0, 10.0)))
    await _until(hass, lambda: all(s.current_limit_a == 0 for s in sims.values()))
    assert entry.runtime_data.balancer.data.guard_kw == 0.0
    # (Waited for: under load the cars may be at 0 A from the fail-safe before
    # the meter's message is read, and the guard's word comes with it.)

    def guarded() -> bool:
        # The meter keeps reading (one message and a loaded run can reach
        # the meter's silence, the fail-safe, before the guard's word shows).
        async_fire_mqtt_message(hass, TOPIC, list2((10.0, 10.0, 10.0)))
        return _state(hass, "sensor.garage_limited_by") == "capacity_step"

    await _until(hass, guarded, 15)
    # "Charge full now" is the user's choice: the guard lets that car go.
    await hass.services.async_call(
        "switch",
        "turn_off",
        {"entity_id": "switch.garage_smart_charging"},
        blocking=True,
    )
    async_fire_mqtt_message(hass, TOPIC, list2((10.0, 10.0, 10.0)))
    await _until(hass, lambda: sims["CP-1"].current_limit_a > 6.0)
    assert sims["CP-2"].current_limit_a == 0
    assert _state(hass, "sensor.carport_limited_by") == "capacity_step"


async def test_an_overload_nothing_can_cut_is_reported(
    hass: HomeAssistant,
    mqtt_mock: Any,
    chargers: Callable[..., Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Above the fuse with every charger paused: an event and a repair issue."""
    monkeypatch.setattr(overload, "OVERLOAD_REPORT_AFTER", timedelta(0))
    entry = balanced_place()
    sims = await chargers(entry)
    events = async_capture_events(hass, overload.EVENT_OVERLOAD)
    async_fire_mqtt_message(hass, TOPIC, list2((26.0, 32.0, 32.0)))
    await _until(hass, lambda: sims["CP-1"].current_limit_a == 9.5)
    assert not events
    # 45 A on L1 with both cars already paused: nothing of ours to cut.
    async_fire_mqtt_message(hass, TOPIC, list2((45.0, 60.0, 30.0)))
    await _until(hass, lambda: all(s.current_limit_a == 0 for s in sims.values()))
    async_fire_mqtt_message(hass, TOPIC, list2((45.0, 60.0, 30.0)))
    await _until(hass, lambda: len(events) == 1)
    assert events[0].data["lines"] == {"L1": 45.0, "L2": 60.0}
    assert events[0].data["main_fuse"] == 40.0
    assert events[0].data["chargers_not_connected"] == []
    issue = ir.async_get(hass).async_get_issue(DOMAIN, f"overload_{entry.entry_id}")
    assert issue is not None
    assert issue.translation_placeholders == {
        "place": "Home",
        "amps": "60.0",
        "lines": "L1, L2",
        "fuse": "40",
        "seconds": "0",
    }
    # Still over: told once, not at every reading.
    async_fire_mqtt_message(hass, TOPIC, list2((45.0, 60.0, 30.0)))
    await hass.async_block_till_done()
    assert len(events) == 1
    # Under the fuse: the issue goes.
    async_fire_mqtt_message(hass, TOPIC, list2((20.0, 20.0, 20.0)))
    await _until(
        hass,
        lambda: ir.async_get(hass).async_get_issue(DOMAIN, f"overload_{entry.entry_id}")
        is None,
    )


async def test_power_alone_cuts_before_the_currents_come(
    hass: HomeAssistant, mqtt_mock: Any, chargers: Callable[..., Any]
) -> None:
    """A kettle shows in the 2.5 s power message: the worst case goes on every phase."""
    sims = await chargers(balanced_place())
    # Power before any phase currents: no decision yet (no pause on a guess).
    async_fire_mqtt_message(hass, TOPIC, list1(4000))
    await hass.async_block_till_done()
    assert [s.current_limit_a for s in sims.values()] == [6.0, 6.0]
    assert _state(hass, "sensor.home_grid_import_power") == "4000.0"
    async_fire_mqtt_message(hass, TOPIC, list2((26.0, 32.0, 32.0), power_w=5000))
    await _until(hass, lambda: sims["CP-1"].current_limit_a == 9.5)
    # +2300 W the cars cannot have caused (they are at their limits): 10 A.
    await _until(hass, lambda: sims["CP-1"].current_a == 9.5)
    await hass.async_block_till_done()
    async_fire_mqtt_message(hass, TOPIC, list1(5000 + 2300 + 2 * 3.5 * 230 * 3))
    await _until(hass, lambda: sims["CP-1"].current_limit_a < 9.5)
    assert sims["CP-2"].current_limit_a < 9.5


async def test_silent_meter_falls_back_to_the_safe_current(
    hass: HomeAssistant, mqtt_mock: Any, chargers: Callable[..., Any]
) -> None:
    """30 s without a valid message: safe current and a repair; back when it speaks."""
    entry = balanced_place({"safe_current": 8.0})
    sims = await chargers(entry)
    async_fire_mqtt_message(hass, TOPIC, list2((10.0, 10.0, 10.0)))
    await _until(hass, lambda: sims["CP-1"].current_limit_a > 8.0)
    issue_id = f"meter_offline_{entry.entry_id}"

    # Garbage does not count as the meter speaking.
    async_fire_mqtt_message(hass, TOPIC, "{not json")
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=31))
    await _until(hass, lambda: all(s.current_limit_a == 8.0 for s in sims.values()))
    assert ir.async_get(hass).async_get_issue(DOMAIN, issue_id) is not None
    assert _state(hass, "binary_sensor.home_meter") == "off"
    assert _state(hass, "sensor.home_grid_current_l1") == "unavailable"

    async_fire_mqtt_message(hass, TOPIC, list2((10.0, 10.0, 10.0)))
    await _until(hass, lambda: sims["CP-1"].current_limit_a > 8.0)
    assert ir.async_get(hass).async_get_issue(DOMAIN, issue_id) is None
    assert _state(hass, "binary_sensor.home_meter") == "on"


async def test_bad_payloads_are_refused_with_one_warning(
    hass: HomeAssistant,
    mqtt_mock: Any,
    chargers: Callable[..., Any],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Garbage, truncation, wrong types, NaN, −10 MA: refused, counted, no crash."""
    entry = balanced_place()
    sims = await chargers(entry)
    async_fire_mqtt_message(hass, TOPIC, list2((10.0, 10.0, 10.0)))
    await _until(hass, lambda: sims["CP-1"].current_limit_a > 6.0)
    limit = sims["CP-1"].current_limit_a
    caplog.set_level(logging.WARNING)
    for payload in (
        b"\xff\xfe",
        '{"data": {"P": 1000, "I1": 5',
        '{"data": {"P": "lots"}}',
        '{"data": {"P": 1000, "I1": NaN, "I2": 1, "I3": 1}}',
        '{"data": {"P": 1000, "I1": -10000000, "I2": 1, "I3": 1}}',
        "[1, 2, 3]",
    ):
        async_fire_mqtt_message(hass, TOPIC, payload)
    await hass.async_block_till_done()
    balancer = entry.runtime_data.balancer
    assert balancer.data.refused == 6
    warnings = [r for r in caplog.records if "refused" in r.getMessage()]
    assert len(warnings) == 1
    # The last valid reading stands; the chargers were not touched.
    assert _state(hass, "sensor.home_grid_current_l1") == "10.0"
    assert sims["CP-1"].current_limit_a == limit


async def test_switching_balancing_off_releases_the_chargers(
    hass: HomeAssistant, mqtt_mock: Any, chargers: Callable[..., Any]
) -> None:
    """Off: the balancer's limit goes; on again: the next message decides."""
    entry = balanced_place()
    sims = await chargers(entry)
    async_fire_mqtt_message(hass, TOPIC, list2((36.0, 36.0, 36.0)))
    await _until(hass, lambda: sims["CP-1"].current_limit_a < 32)
    await hass.services.async_call(
        "switch", "turn_off", {"entity_id": "switch.home_load_balancing"}, blocking=True
    )
    # Each charger's limit goes on its own call: wait for both.
    await _until(
        hass,
        lambda: sims["CP-1"].current_limit_a == 32.0
        and sims["CP-2"].current_limit_a == 16.0,
    )
    assert entry.options["load_balancing"] is False
    await hass.services.async_call(
        "switch", "turn_on", {"entity_id": "switch.home_load_balancing"}, blocking=True
    )
    # The cars draw their full 32 A and 16 A again: 90 A leaves the house 58 A.
    async_fire_mqtt_message(hass, TOPIC, list2((90.0, 90.0, 90.0)))
    await _until(hass, lambda: sims["CP-1"].current_limit_a == 0)


async def test_sensors_as_the_meter(
    hass: HomeAssistant, chargers: Callable[..., Any]
) -> None:
    """Per-phase sensors (A, or W turned into A) feed the balancer like MQTT."""
    for phase in ("l1", "l2"):
        hass.states.async_set(f"sensor.{phase}", "0", {"unit_of_measurement": "A"})
    hass.states.async_set("sensor.l3", "0", {"unit_of_measurement": "kW"})
    entry = balanced_place(
        {
            "meter_source": "entities",
            "meter_l1": "sensor.l1",
            "meter_l2": "sensor.l2",
            "meter_l3": "sensor.l3",
        }
    )
    sims = await chargers(entry)
    # The sensors' states at start were the first reading.
    assert _state(hass, "sensor.home_grid_current_l1") == "0.0"
    hass.states.async_set("sensor.l1", "90", {"unit_of_measurement": "A"})
    hass.states.async_set("sensor.l2", "90", {"unit_of_measurement": "A"})
    # 20.7 kW on L3 is 90 A at 230 V.
    hass.states.async_set("sensor.l3", "20.7", {"unit_of_measurement": "kW"})
    await _until(hass, lambda: all(s.current_limit_a == 0 for s in sims.values()))
    assert _state(hass, "sensor.home_grid_current_l3") == "90.0"
    hass.states.async_set("sensor.l1", "unavailable", {"unit_of_measurement": "A"})
    await hass.async_block_till_done()
    assert entry.runtime_data.balancer.data.refused == 1


async def test_hourly_energy_survives_a_restart(
    hass: HomeAssistant, mqtt_mock: Any, chargers: Callable[..., Any]
) -> None:
    """The capacity tariff's hours are kept in the place's store."""
    entry = balanced_place()
    await chargers(entry)
    async_fire_mqtt_message(hass, TOPIC, list2((10.0, 10.0, 10.0), power_w=3600))
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=1))
    async_fire_mqtt_message(hass, TOPIC, list2((10.0, 10.0, 10.0), power_w=3600))
    await hass.async_block_till_done()
    assert _state(hass, "sensor.home_capacity_tariff_step") == "0.0"
    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    stored = entry.runtime_data.balancer.hourly.stored()
    assert stored


async def test_the_cars_share_the_slots_planned_power(
    hass: HomeAssistant, mqtt_mock: Any, chargers: Callable[..., Any]
) -> None:
    """With a meter, the plan's power for the slot is shared under the fuse."""
    entry = balanced_place()
    sims = await chargers(entry)
    runtime = entry.runtime_data
    await runtime.scheduler.async_replan()

    def planned() -> float:
        # The plan in force (a re-plan later in the slot plans its rest).
        schedule = runtime.scheduler.data
        return sum(
            (schedule.chargers[car.key].amps_now or 0.0) * car.kwh_per_amp * 4
            for car in schedule.cars
        )

    assert planned() > 0
    async_fire_mqtt_message(hass, TOPIC, list2((10.0, 10.0, 10.0)))
    await _until(hass, lambda: runtime.balancer.data.guard_kw == planned())
    planned_kw = planned()
    schedule = runtime.scheduler.data
    grid = runtime.balancer.place.grid_type
    given_kw = sum(
        c.limit_a * kw_per_amp(grid, c.lines(grid)) for c in runtime.chargers.values()
    )
    assert given_kw <= planned_kw + 1e-6
    # The planner sets no per-car limit on a charging car: the balancer shares.
    assert all(
        c.data.limits.get(LimitSource.PLANNER) is None
        for c in runtime.chargers.values()
        if schedule.chargers[c.key].amps_now
    )
    assert all(s.current_limit_a >= 6 for s in sims.values())
