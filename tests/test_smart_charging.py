"""Smart charging at runtime: a price sensor, the real OCPP server, a simulator.

The plan is made from a price entity's list of {start, end, price}; the
charger (a simulator on a real websocket) must follow it, "charge full now"
must override it until the car leaves, and the plan shows in entities, the
calendar and the plan_charging action.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.homecharge.central.server import CENTRAL
from custom_components.homecharge.const import DOMAIN
from custom_components.homecharge.logic.limits import LimitSource
from homeassistant.components.calendar import DOMAIN as CALENDAR_DOMAIN
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import device_registry as dr
from homeassistant.util import dt as dt_util

from .simulators.charger import SimulatedCharger
from .test_central import PASSWORD, place_with_charger
from .test_charger_runtime import _state, _until

PRICE_ENTITY = "sensor.spot_price"
CHEAP_FROM_H = 2
CHEAP_HOURS = 2


def hour_start(offset_h: int) -> datetime:
    """The start of the clock hour ``offset_h`` hours from now (UTC)."""
    now = dt_util.utcnow().replace(minute=0, second=0, microsecond=0)
    return now + timedelta(hours=offset_h)


def price_list(cheap_from_h: int = CHEAP_FROM_H) -> list[dict[str, Any]]:
    """Hourly prices from an hour ago for two days: 1.00, cheap 0.10 for 2 h."""
    return [
        {
            "start": hour_start(h).isoformat(),
            "end": hour_start(h + 1).isoformat(),
            "price": 0.10 if cheap_from_h <= h < cheap_from_h + CHEAP_HOURS else 1.00,
        }
        for h in range(-1, 47)
    ]


def set_prices(hass: HomeAssistant, prices: list[dict[str, Any]]) -> None:
    """A generic price sensor: state now, a list of slots as an attribute."""
    hass.states.async_set(
        PRICE_ENTITY,
        "1.0",
        {"prices": prices, "unit_of_measurement": "NOK/kWh"},
    )


def smart_place(**options: Any) -> MockConfigEntry:
    """A spot place (no VAT) priced by the sensor; the car is ready in 10 h."""
    entry = place_with_charger("CP-1")
    subentry = next(iter(entry.subentries.values()))
    ready = (dt_util.now() + timedelta(hours=10)).isoformat()
    return MockConfigEntry(
        domain=DOMAIN,
        title="Home",
        data=dict(entry.data),
        options={
            "price_entity": PRICE_ENTITY,
            "default_energy_kwh": 10.0,
            "vat_percent": 0.0,
            "grid_day_price": 0.0,
            "capacity_tariff": False,
            **options,
        },
        subentries_data=[
            {
                "data": {**subentry.data, "ready_by_once": ready},
                "subentry_type": "charger",
                "title": "Garage",
                "unique_id": "CP-1",
            }
        ],
    )


@pytest.fixture
async def simulator(hass: HomeAssistant) -> AsyncIterator[SimulatedCharger]:
    """The place set up with prices, and its charger connected (no car yet)."""
    set_prices(hass, price_list())
    entry = smart_place()
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    sim = SimulatedCharger(
        url=f"ws://127.0.0.1:{hass.data[CENTRAL].port}",
        charge_point_id="CP-1",
        password=PASSWORD,
        phases=3,
        max_current=32.0,
        meter_interval_s=0.1,
        reconnect_interval_s=0.2,
    )
    await sim.start()
    charger = next(iter(entry.runtime_data.chargers.values()))
    await _until(hass, lambda: charger.online)
    yield sim
    await sim.stop()


def _entry(hass: HomeAssistant) -> MockConfigEntry:
    return hass.config_entries.async_entries(DOMAIN)[0]  # type: ignore[return-value]


async def test_plan_waits_for_cheap_power_and_follows_it(
    hass: HomeAssistant, simulator: SimulatedCharger
) -> None:
    """Plugged in at an expensive hour: paused now, planned in the cheap hours."""
    assert _state(hass, "sensor.garage_smart_charging") == "no_car"
    assert _state(hass, "sensor.home_current_price") == "1.0"
    await simulator.start_transaction()
    charger = next(iter(_entry(hass).runtime_data.chargers.values()))
    await _until(
        hass, lambda: _state(hass, "sensor.garage_smart_charging") == "waiting"
    )
    # Nothing now: the planner's 0 A reaches the charger.
    assert charger.data.limits[LimitSource.PLANNER] == 0.0
    await _until(hass, lambda: simulator.current_limit_a == 0)
    assert _state(hass, "sensor.garage_limited_by") == "plan"
    start = dt_util.parse_datetime(_state(hass, "sensor.garage_planned_start"))
    end = dt_util.parse_datetime(_state(hass, "sensor.garage_planned_end"))
    assert start is not None
    assert end is not None
    assert hour_start(CHEAP_FROM_H) <= start
    assert end <= hour_start(CHEAP_FROM_H + CHEAP_HOURS)
    # 10 kWh by default (no battery, no past sessions) less what the session
    # took before the pause, all at 0.10.
    needed = float(_state(hass, "sensor.garage_energy_needed"))
    assert 9.9 < needed <= 10.0
    planned = float(_state(hass, "sensor.garage_planned_energy"))
    assert needed <= planned < needed + 0.1
    assert float(_state(hass, "sensor.garage_estimated_cost")) == pytest.approx(
        planned * 0.10, abs=1e-3
    )

    # The calendar shows the run.
    events = await hass.services.async_call(
        CALENDAR_DOMAIN,
        "get_events",
        {"entity_id": "calendar.home_charging_plan", "duration": {"hours": 24}},
        blocking=True,
        return_response=True,
    )
    runs = events["calendar.home_charging_plan"]["events"]  # type: ignore[index]
    assert len(runs) == 1
    assert runs[0]["summary"].startswith("Garage: 10.")
    assert dt_util.parse_datetime(runs[0]["start"]) == start

    # The action explains every slot.
    response = await hass.services.async_call(
        DOMAIN,
        "plan_charging",
        {"config_entry_id": _entry(hass).entry_id},
        blocking=True,
        return_response=True,
    )
    assert response is not None
    assert response["optimal"] is True
    # Proven: the certificate is the plan's own cost.
    assert response["cost_lower_bound"] == pytest.approx(response["total_cost"])
    slots = response["slots"]
    used = [s for s in slots if s["currents"]["Garage"]]  # type: ignore[index,union-attr]
    assert used
    assert all(s["reason"] == "cheap" for s in used)  # type: ignore[index]
    assert all(s["price"] == 0.1 for s in used)  # type: ignore[index]
    assert response["chargers"]["Garage"]["status"] == "waiting"  # type: ignore[index]
    assert {s["reason"] for s in slots} >= {"cheap", "not_needed"}  # type: ignore[index]


async def test_cheap_now_charges_now(
    hass: HomeAssistant, simulator: SimulatedCharger
) -> None:
    """New prices with the cheap hours now: the plan moves and the car charges."""
    await simulator.start_transaction()
    await _until(
        hass, lambda: _state(hass, "sensor.garage_smart_charging") == "waiting"
    )
    set_prices(hass, price_list(cheap_from_h=0))
    await _until(
        hass, lambda: _state(hass, "sensor.garage_smart_charging") == "charging"
    )
    await _until(hass, lambda: simulator.current_limit_a >= 6)
    # Without a meter the car gets its planned current, as planned.
    entry = _entry(hass)
    charger = next(iter(entry.runtime_data.chargers.values()))
    planned = entry.runtime_data.scheduler.data.chargers[charger.key].amps_now
    assert planned is not None
    assert planned >= 6
    assert charger.data.limits[LimitSource.PLANNER] == planned
    await _until(hass, lambda: simulator.current_limit_a == planned)


async def test_charge_full_now_until_unplugged(
    hass: HomeAssistant, simulator: SimulatedCharger
) -> None:
    """Smart charging off lifts the plan; when the car leaves, it is on again."""
    await simulator.start_transaction()
    await _until(hass, lambda: simulator.current_limit_a == 0)
    await hass.services.async_call(
        "switch",
        "turn_off",
        {"entity_id": "switch.garage_smart_charging"},
        blocking=True,
    )
    charger = next(iter(_entry(hass).runtime_data.chargers.values()))
    await _until(hass, lambda: LimitSource.PLANNER not in charger.data.limits)
    await _until(hass, lambda: simulator.current_limit_a == 32)
    assert _state(hass, "sensor.garage_smart_charging") == "charge_now"
    assert _state(hass, "sensor.garage_planned_start") == "unknown"

    await simulator.stop_transaction()
    simulator.unplug()
    await _until(hass, lambda: _state(hass, "switch.garage_smart_charging") == "on")
    await _until(hass, lambda: _state(hass, "sensor.garage_smart_charging") == "no_car")


async def test_set_ready_by(hass: HomeAssistant, simulator: SimulatedCharger) -> None:
    """Daily, per weekday and once; the time entity shows the daily time."""
    device = dr.async_get(hass).async_get_device(identifiers={(DOMAIN, "CP-1")})
    assert device is not None
    assert _state(hass, "time.garage_ready_by") == "07:00:00"
    await hass.services.async_call(
        DOMAIN,
        "set_ready_by",
        {"device_id": device.id, "time": "06:30"},
        blocking=True,
    )
    subentry = next(iter(_entry(hass).subentries.values()))
    assert subentry.data["ready_by"] == "06:30"
    assert subentry.data["ready_by_once"] is None
    # Shown at once, not at the charger's next report.
    assert _state(hass, "time.garage_ready_by") == "06:30:00"
    await hass.services.async_call(
        DOMAIN,
        "set_ready_by",
        {"device_id": device.id, "time": "10:00", "weekdays": ["sat", "sun"]},
        blocking=True,
    )
    subentry = next(iter(_entry(hass).subentries.values()))
    assert subentry.data["ready_by_days"] == {"sat": "10:00", "sun": "10:00"}
    await hass.services.async_call(
        DOMAIN,
        "set_ready_by",
        {"device_id": device.id, "time": "05:00", "once": True},
        blocking=True,
    )
    subentry = next(iter(_entry(hass).subentries.values()))
    once = dt_util.parse_datetime(subentry.data["ready_by_once"])
    assert once is not None
    assert dt_util.now() < once <= dt_util.now() + timedelta(days=1)
    assert (once.hour, once.minute) == (5, 0)
    # The time entity sets the daily time too.
    await hass.services.async_call(
        "time",
        "set_value",
        {"entity_id": "time.garage_ready_by", "time": "08:15"},
        blocking=True,
    )
    subentry = next(iter(_entry(hass).subentries.values()))
    assert subentry.data["ready_by"] == "08:15:00"


async def test_plan_charging_unknown_place(
    hass: HomeAssistant, simulator: SimulatedCharger
) -> None:
    """An id that is no loaded place is a clear error."""
    with pytest.raises(ServiceValidationError):
        await hass.services.async_call(
            DOMAIN,
            "plan_charging",
            {"config_entry_id": "nope"},
            blocking=True,
            return_response=True,
        )
