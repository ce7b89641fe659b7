"""Days of smart charging in Oslo, with the clock frozen and moved by hand.

A place priced by a generic price sensor (hourly prices in local time), its
charger made to look plugged in (no simulator: the scheduler listens to the
charger's coordinator), and the schedule read from the place's scheduler and
its entities. The plan's optimality is tested elsewhere; here: that DST days,
negative prices, late plug-ins, ready-by times after midnight and tomorrow's
prices arriving at 13:00 give the plan a day calls for.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from typing import Any
from zoneinfo import ZoneInfo

from freezegun.api import FrozenDateTimeFactory
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
)

from custom_components.homecharge.const import DOMAIN
from custom_components.homecharge.logic.limits import LimitSource
from custom_components.homecharge.logic.place import GridType
from custom_components.homecharge.logic.planner.problem import PlanStatus, kwh_per_amp
from custom_components.homecharge.runtime.scheduling import Schedule
from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util

from .test_central import place_with_charger

OSLO = ZoneInfo("Europe/Oslo")
PRICE_ENTITY = "sensor.spot_price"
HOUR = timedelta(hours=1)
QUARTER = timedelta(minutes=15)
# The place of test_central: a 63 A IT grid; the charger 3-phase, 32 A.
KWH_PER_AMP = kwh_per_amp(
    GridType(place_with_charger().data["grid_type"]), frozenset({0, 1, 2})
)
MAX_A = 32

type PriceOf = Callable[[datetime], float]


def local(day: date, hour: int = 0, minute: int = 0) -> datetime:
    """A wall time in Oslo."""
    return datetime.combine(day, time(hour, minute), tzinfo=OSLO)


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """A local day's first and last instant (exclusive), in UTC."""
    return (
        local(day).astimezone(UTC),
        local(day + timedelta(days=1)).astimezone(UTC),
    )


def hourly(day: date, price_of: PriceOf) -> list[dict[str, Any]]:
    """A local day's hourly prices as a price sensor lists them (local ISO)."""
    start, end = day_bounds(day)
    entries = []
    moment = start
    while moment < end:
        entries.append(
            {
                "start": moment.astimezone(OSLO).isoformat(),
                "end": (moment + HOUR).astimezone(OSLO).isoformat(),
                "price": price_of(moment.astimezone(OSLO)),
            }
        )
        moment += HOUR
    return entries


def cheap_hours(cheap: dict[int, float], other: float = 1.0) -> PriceOf:
    """Prices by local hour: ``cheap[hour]`` where given, else ``other``."""
    return lambda moment: cheap.get(moment.hour, other)


def set_prices(hass: HomeAssistant, entries: list[dict[str, Any]]) -> None:
    """The price sensor's state with its list."""
    hass.states.async_set(
        PRICE_ENTITY, "1.0", {"prices": entries, "unit_of_measurement": "NOK/kWh"}
    )


def smart_place(ready_by: str = "07:00", energy_kwh: float = 10.0) -> MockConfigEntry:
    """A spot place (no VAT, no grid tariff) priced by the sensor."""
    base = place_with_charger("CP-1")
    subentry = next(iter(base.subentries.values()))
    return MockConfigEntry(
        domain=DOMAIN,
        title="Home",
        data=dict(base.data),
        options={
            "price_entity": PRICE_ENTITY,
            "default_energy_kwh": energy_kwh,
            "vat_percent": 0.0,
            # A flat grid tariff of 0: the plan sees the sensor's prices.
            "grid_day_price": 0.0,
            "capacity_tariff": False,
        },
        subentries_data=[
            {
                "data": {**subentry.data, "ready_by": ready_by},
                "subentry_type": "charger",
                "title": "Garage",
                "unique_id": "CP-1",
            }
        ],
    )


async def oslo_at(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, moment: datetime
) -> None:
    """Oslo time, the clock at ``moment``."""
    await hass.config.async_set_time_zone("Europe/Oslo")
    freezer.move_to(moment)


async def set_up(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    """The place up, no car yet."""
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()


async def plug_in(hass: HomeAssistant, entry: MockConfigEntry) -> str:
    """A car at the charger, as its status notification would say; its key."""
    key: str
    key, charger = next(iter(entry.runtime_data.chargers.items()))
    charger.data.ocpp_status = "Preparing"
    charger.async_set_updated_data(charger.data)
    await hass.async_block_till_done(wait_background_tasks=True)
    return key


def schedule_of(entry: MockConfigEntry) -> Schedule:
    """The place's plan now."""
    schedule: Schedule = entry.runtime_data.scheduler.data
    return schedule


def used(schedule: Schedule, key: str) -> list[tuple[datetime, int]]:
    """The car's planned slots: their start (UTC) and amps."""
    assert schedule.plan is not None
    return [
        (schedule.prices[slot].start, amps)
        for slot, amps in enumerate(schedule.plan.currents[key])
        if amps
    ]


def used_slots(schedule: Schedule, key: str) -> list[int]:
    """The indexes of the car's planned slots."""
    assert schedule.plan is not None
    return [slot for slot, amps in enumerate(schedule.plan.currents[key]) if amps]


def state(hass: HomeAssistant, entity_id: str) -> str:
    """An entity's state."""
    found = hass.states.get(entity_id)
    assert found is not None, entity_id
    return str(found.state)


def planned_start(hass: HomeAssistant) -> datetime | None:
    """The charger's planned start as its entity shows it."""
    return dt_util.parse_datetime(state(hass, "sensor.garage_planned_start"))


def check_grid(schedule: Schedule, start: datetime, end: datetime) -> None:
    """The schedule's slots: consecutive quarters from start to end."""
    starts = [slot.start for slot in schedule.prices]
    assert starts[0] == start
    assert starts[-1] + QUARTER == end
    assert all(b - a == QUARTER for a, b in pairwise(starts))


# a. DST days


@pytest.mark.parametrize(
    ("day", "slots", "cheap_utc"),
    [
        # Spring: no 02:00 local; the cheap hour is 03:00 CEST (01:00 UTC).
        (date(2025, 3, 30), 92, datetime(2025, 3, 30, 1, 0, tzinfo=UTC)),
        # Autumn: 02:00 comes twice; the cheap one is the second, 02:00 CET.
        (date(2025, 10, 26), 100, datetime(2025, 10, 26, 1, 0, tzinfo=UTC)),
    ],
)
async def test_dst_day_is_planned_in_its_own_slots(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    day: date,
    slots: int,
    cheap_utc: datetime,
) -> None:
    """A car ready at the day's end: the day's 92 or 100 slots, its cheap hour."""
    start, end = day_bounds(day)
    await oslo_at(hass, freezer, start)

    def price_of(moment: datetime) -> float:
        # In UTC: Python compares times of one zone by wall time, which would
        # take both 02:00 hours of the autumn night for one.
        return 0.1 if moment.astimezone(UTC) == cheap_utc else 1.0 + moment.hour / 100

    listed = hourly(day, price_of)
    assert len(listed) == slots // 4
    set_prices(hass, listed)
    # Ready at midnight: the end of the DST day.
    entry = smart_place(ready_by="00:00")
    await set_up(hass, entry)
    key = await plug_in(hass, entry)

    schedule = schedule_of(entry)
    assert len(schedule.prices) == slots
    check_grid(schedule, start, end)
    # Every slot at the price of its local hour as the sensor listed it.
    by_hour = {
        dt_util.parse_datetime(item["start"]).astimezone(UTC): item["price"]  # type: ignore[union-attr]
        for item in listed
    }
    for slot in schedule.prices:
        hour = slot.start.replace(minute=0)
        assert slot.price == pytest.approx(by_hour[hour])
        assert not slot.forecast
    charger = schedule.chargers[key]
    assert charger.status is PlanStatus.WAITING
    assert charger.ready_by == end
    # All in the cheap hour, and enough.
    planned = used(schedule, key)
    assert planned
    assert all(
        cheap_utc <= moment < cheap_utc + HOUR and amps <= MAX_A
        for moment, amps in planned
    )
    energy = sum(amps for _, amps in planned) * KWH_PER_AMP
    assert energy >= 10.0
    assert charger.energy_kwh == pytest.approx(energy)
    assert charger.cost == pytest.approx(0.1 * energy)
    assert planned_start(hass) == planned[0][0]
    assert state(hass, "sensor.garage_smart_charging") == "waiting"


# b. Negative prices


async def test_negative_prices_pay_for_the_charging(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """Negative 01:00–02:00 covers 10 kWh: the plan is there and earns money."""
    day = date(2025, 6, 3)
    await oslo_at(hass, freezer, local(day - timedelta(days=1), 20))
    price_of = cheap_hours({1: -0.5, 2: 0.05, 3: 0.1})
    set_prices(hass, hourly(day - timedelta(days=1), price_of) + hourly(day, price_of))
    entry = smart_place()
    await set_up(hass, entry)
    key = await plug_in(hass, entry)

    schedule = schedule_of(entry)
    planned = used(schedule, key)
    assert planned
    assert all(local(day, 1) <= moment < local(day, 2) for moment, _ in planned)
    energy = sum(amps for _, amps in planned) * KWH_PER_AMP
    charger = schedule.chargers[key]
    assert charger.energy_kwh == pytest.approx(energy)
    assert charger.cost == pytest.approx(-0.5 * energy)
    assert charger.cost < 0
    assert float(state(hass, "sensor.garage_estimated_cost")) < 0


async def test_negative_prices_are_used_to_the_full_first(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """20 kWh: the negative hour at full current, the rest at the cheapest after."""
    day = date(2025, 6, 3)
    await oslo_at(hass, freezer, local(day, 1))
    price_of = cheap_hours({1: -0.5, 2: 0.3, 3: 0.05, 4: 0.1})
    set_prices(hass, hourly(day, price_of))
    entry = smart_place(energy_kwh=20.0)
    await set_up(hass, entry)
    key = await plug_in(hass, entry)

    schedule = schedule_of(entry)
    planned = dict(used(schedule, key))
    # The negative hour (the slot now included) at full current.
    negative = [local(day, 1) + n * QUARTER for n in range(4)]
    assert [planned.get(moment) for moment in negative] == [MAX_A] * 4
    # The rest (20 kWh less 4 × 32 A) in the cheapest hour left, 03:00–04:00.
    rest = {moment: amps for moment, amps in planned.items() if moment not in negative}
    assert rest
    assert all(local(day, 3) <= moment < local(day, 4) for moment in rest)
    assert sum(planned.values()) * KWH_PER_AMP >= 20.0
    charger = schedule.chargers[key]
    assert charger.cost == pytest.approx(
        KWH_PER_AMP * (-0.5 * 4 * MAX_A + 0.05 * sum(rest.values()))
    )
    # Charging now; with no meter here the car is held to its planned current.
    assert charger.status is PlanStatus.CHARGING
    assert charger.amps_now == MAX_A
    runtime_charger = entry.runtime_data.chargers[key]
    assert runtime_charger.data.limits[LimitSource.PLANNER] == MAX_A
    assert state(hass, "sensor.garage_smart_charging") == "charging"


# c. Plugged in after the cheap night


async def test_plug_in_after_the_cheap_window_charges_before_ready_by(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """Cheap 01:00–03:00 is past at 04:00: charge by 07:00, not next night."""
    day = date(2025, 6, 3)
    await oslo_at(hass, freezer, local(day, 3, 50))
    price_of = cheap_hours({1: 0.05, 2: 0.05, 5: 0.6})
    set_prices(hass, hourly(day, price_of) + hourly(day + timedelta(days=1), price_of))
    entry = smart_place(ready_by="07:00")
    await set_up(hass, entry)
    assert state(hass, "sensor.garage_smart_charging") == "no_car"

    freezer.move_to(local(day, 4))
    async_fire_time_changed(hass, local(day, 4))
    await hass.async_block_till_done(wait_background_tasks=True)
    key = await plug_in(hass, entry)

    schedule = schedule_of(entry)
    check_grid(schedule, local(day, 4), local(day, 7))
    charger = schedule.chargers[key]
    assert charger.ready_by == local(day, 7)
    planned = used(schedule, key)
    assert planned
    # Within 04:00–07:00; the cheapest of it is 05:00–06:00.
    assert all(local(day, 5) <= moment < local(day, 6) for moment, _ in planned)
    assert sum(amps for _, amps in planned) * KWH_PER_AMP >= 10.0
    assert charger.status is PlanStatus.WAITING
    assert charger.amps_now == 0
    assert entry.runtime_data.chargers[key].data.limits[LimitSource.PLANNER] == 0.0
    assert planned_start(hass) == local(day, 5)


# d. Ready-by after midnight


async def test_evening_plug_in_charges_in_the_night(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """Plugged in at 18:00, ready 07:00: in the night's cheap hours, not later."""
    day = date(2025, 6, 3)
    night = day + timedelta(days=1)
    await oslo_at(hass, freezer, local(day, 18))
    # Cheap at 02:00–04:00 tomorrow; cheaper still but too late at 08:00, and
    # cheaper but past this morning.
    today = cheap_hours({0: 0.01, 1: 0.01})
    tomorrow = cheap_hours({2: 0.2, 3: 0.2, 8: 0.01, 9: 0.01})
    set_prices(hass, hourly(day, today) + hourly(night, tomorrow))
    entry = smart_place(ready_by="07:00")
    await set_up(hass, entry)
    key = await plug_in(hass, entry)

    schedule = schedule_of(entry)
    check_grid(schedule, local(day, 18), local(night, 7))
    assert len(schedule.prices) == 13 * 4
    charger = schedule.chargers[key]
    assert charger.ready_by == local(night, 7)
    planned = used(schedule, key)
    assert planned
    assert all(local(night, 2) <= moment < local(night, 4) for moment, _ in planned)
    assert charger.cost == pytest.approx(
        0.2 * KWH_PER_AMP * sum(amps for _, amps in planned)
    )
    assert charger.end is not None
    assert charger.end <= local(night, 4)
    assert planned_start(hass) == planned[0][0]


# e. Tomorrow's prices at 13:00


async def test_tomorrow_forecast_until_the_prices_come(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """At 12:00 tomorrow's night is a forecast; at 13:00 real prices move the plan."""
    day = date(2025, 6, 3)
    night = day + timedelta(days=1)
    await oslo_at(hass, freezer, local(day, 12))
    today = cheap_hours({1: 0.3, 2: 0.3})
    set_prices(hass, hourly(day, today))
    entry = smart_place(ready_by="07:00")
    await set_up(hass, entry)
    key = await plug_in(hass, entry)

    schedule = schedule_of(entry)
    check_grid(schedule, local(day, 12), local(night, 7))
    # Known today; from midnight on, forecast from today's same hours.
    for slot in schedule.prices:
        assert slot.forecast is (slot.start >= local(night))
        expected = today(slot.start.astimezone(OSLO))
        assert slot.price == pytest.approx(expected)
    planned = used(schedule, key)
    assert planned
    assert all(local(night, 1) <= moment < local(night, 3) for moment, _ in planned)
    assert all(schedule.prices[slot].forecast for slot in used_slots(schedule, key))
    assert schedule.current_price == pytest.approx(1.0)

    # 13:00: the slot's re-plan still has only today's prices.
    freezer.move_to(local(day, 13))
    async_fire_time_changed(hass, local(day, 13))
    await hass.async_block_till_done(wait_background_tasks=True)
    schedule = schedule_of(entry)
    assert schedule.prices[0].start == local(day, 13)
    assert [slot.start for slot in schedule.prices if slot.forecast] == [
        local(night) + n * QUARTER for n in range(7 * 4)
    ]
    assert used(schedule, key) == planned

    # Moments later tomorrow's prices come, with 03:00–05:00 much cheaper.
    freezer.move_to(local(day, 13) + timedelta(seconds=5))
    tomorrow = cheap_hours({3: 0.02, 4: 0.02})
    set_prices(hass, hourly(day, today) + hourly(night, tomorrow))
    await hass.async_block_till_done(wait_background_tasks=True)

    schedule = schedule_of(entry)
    check_grid(schedule, local(day, 13), local(night, 7))
    assert not any(slot.forecast for slot in schedule.prices)
    for slot in schedule.prices:
        moment = slot.start.astimezone(OSLO)
        expected = today(moment) if moment < local(night) else tomorrow(moment)
        assert slot.price == pytest.approx(expected)
    planned = used(schedule, key)
    assert planned
    assert all(local(night, 3) <= moment < local(night, 5) for moment, _ in planned)
    assert planned_start(hass) == planned[0][0]
    charger = schedule.chargers[key]
    assert charger.cost == pytest.approx(
        0.02 * KWH_PER_AMP * sum(amps for _, amps in planned)
    )


async def test_plan_follows_the_clock_slot_by_slot(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """Each 15-minute boundary plans again: the slot now moves on."""
    day = date(2025, 6, 3)
    await oslo_at(hass, freezer, local(day, 1, 50))
    price_of = cheap_hours({2: 0.1})
    set_prices(hass, hourly(day, price_of))
    entry = smart_place(ready_by="07:00")
    await set_up(hass, entry)
    key = await plug_in(hass, entry)
    schedule = schedule_of(entry)
    assert schedule.prices[0].start == local(day, 1, 45)
    assert schedule.chargers[key].status is PlanStatus.WAITING

    for minute in (0, 15):
        now = local(day, 2, minute)
        freezer.move_to(now)
        async_fire_time_changed(hass, now)
        await hass.async_block_till_done(wait_background_tasks=True)
        schedule = schedule_of(entry)
        assert schedule.prices[0].start == now
        assert schedule.planned_at == now
        assert schedule.chargers[key].status is PlanStatus.CHARGING
        assert schedule.chargers[key].amps_now == (schedule.plan.currents[key][0])  # type: ignore[union-attr]
        assert schedule.current_price == pytest.approx(0.1)


async def test_a_bad_price_update_keeps_the_known_prices(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Unavailable or unreadable prices: the plan keeps what was known."""
    day = date(2025, 6, 3)
    await oslo_at(hass, freezer, local(day, 20))
    price_of = cheap_hours({2: 0.1})
    set_prices(hass, hourly(day, price_of) + hourly(day + timedelta(days=1), price_of))
    entry = smart_place(ready_by="07:00")
    await set_up(hass, entry)
    key = await plug_in(hass, entry)
    before = used(schedule_of(entry), key)
    assert before
    night = day + timedelta(days=1)
    assert all(local(night, 2) <= moment < local(night, 3) for moment, _ in before)

    for minute, update in ((15, "unavailable"), (30, "garbage")):
        now = local(day, 20, minute)
        freezer.move_to(now)
        if update == "unavailable":
            hass.states.async_set(PRICE_ENTITY, "unavailable", {})
        else:
            broken = [{"start": "today", "end": "tomorrow", "price": 0.0}]
            hass.states.async_set(PRICE_ENTITY, "1.0", {"prices": broken})
        async_fire_time_changed(hass, now)
        await hass.async_block_till_done(wait_background_tasks=True)
        schedule = schedule_of(entry)
        assert schedule.prices[0].start == now
        assert not any(slot.forecast for slot in schedule.prices)
        assert used(schedule, key) == before
    assert "prices of sensor.spot_price not read" in caplog.text
