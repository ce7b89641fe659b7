"""The house's own current per 15-minute slot of the week, learned from the meter."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
import json
import math
from typing import Any
from zoneinfo import ZoneInfo

from freezegun.api import FrozenDateTimeFactory
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_mqtt_message,
)

from custom_components.homecharge.const import DOMAIN
from custom_components.homecharge.logic.house_profile import (
    LEARNING_RATE,
    SLOTS_PER_WEEK,
    HouseProfile,
    slot_of_week,
)
from homeassistant.core import HomeAssistant

from .conftest import PLACE_DATA
from .test_load_balancer import METER_OPTIONS, TOPIC, list2

OSLO = ZoneInfo("Europe/Oslo")
# A Monday.
MONDAY = datetime(2025, 6, 2, tzinfo=OSLO)
QUARTER = timedelta(minutes=15)
WEEK = timedelta(days=7)


def at(days: int = 0, hours: int = 0, minutes: int = 0, seconds: int = 0) -> datetime:
    """Local time in the week of MONDAY."""
    return MONDAY + timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)


def learn(
    profile: HouseProfile, start: datetime, readings: list[tuple[Any, ...]]
) -> None:
    """Readings spread over the slot at ``start``, then one in the next slot."""
    for index, reading in enumerate(readings):
        profile.add(start + timedelta(seconds=10 * index), reading)
    # The slot counts once the next one begins.
    profile.add(start + QUARTER, (None, None, None))


# slot_of_week


@pytest.mark.parametrize(
    ("moment", "slot"),
    [
        (at(), 0),
        (at(minutes=14, seconds=59), 0),
        (at(minutes=15), 1),
        (at(hours=23, minutes=59, seconds=59), 95),
        (at(days=1), 96),
        (at(days=2, hours=12, minutes=30), 2 * 96 + 50),
        (at(days=6, hours=23, minutes=45), 671),
        (at(days=6, hours=23, minutes=59, seconds=59), 671),
        # The next Monday starts the week again.
        (at(days=7), 0),
    ],
)
def test_slot_of_week_boundaries(moment: datetime, slot: int) -> None:
    """Monday 00:00 is slot 0, each quarter-hour the next, Sunday 23:45 the last."""
    assert slot_of_week(moment) == slot


def test_slot_of_week_numbers_every_quarter_of_a_week_once() -> None:
    """A week of quarter-hours maps one to one, in order, onto 0 … 671."""
    slots = [slot_of_week(at(minutes=15 * n)) for n in range(SLOTS_PER_WEEK)]
    assert slots == list(range(672))


@pytest.mark.parametrize(
    ("day", "local_quarters", "distinct"),
    [
        # Spring: 02:00–03:00 local does not exist; 92 quarters, 92 slots.
        (datetime(2025, 3, 30, tzinfo=OSLO), 92, 92),
        # Autumn: 02:00–03:00 local comes twice; 100 quarters in 96 slots.
        (datetime(2025, 10, 26, tzinfo=OSLO), 100, 96),
    ],
)
def test_slot_of_week_on_dst_days(
    day: datetime, local_quarters: int, distinct: int
) -> None:
    """Every real quarter-hour of a DST Sunday falls in one of Sunday's slots."""
    start = day.astimezone(UTC)
    end = (day + timedelta(days=1)).astimezone(UTC)
    quarters = []
    moment = start
    while moment < end:
        quarters.append(moment.astimezone(OSLO))
        moment += QUARTER
    assert len(quarters) == local_quarters
    slots = [slot_of_week(local) for local in quarters]
    sunday = range(6 * 96, 7 * 96)
    assert all(slot in sunday for slot in slots)
    assert len(set(slots)) == distinct
    # The 02:xx slots: missing in spring, twice in autumn.
    night = {6 * 96 + 8 + n for n in range(4)}
    assert sum(slot in night for slot in slots) == (0 if distinct == 92 else 8)


def test_slot_of_week_of_a_missing_local_time() -> None:
    """02:30 on the spring day (not a real time) still gives Sunday's 02:30 slot."""
    assert slot_of_week(datetime(2025, 3, 30, 2, 30, tzinfo=OSLO)) == 6 * 96 + 10


def test_autumn_night_learns_both_hours() -> None:
    """The repeated hour's readings count (its two passes one after the other)."""
    profile = HouseProfile()
    first = datetime(2025, 10, 26, 0, 0, tzinfo=UTC)  # 02:00 local, summer time
    # 02:00 summer time, then 02:00 winter time (an hour later in UTC).
    for moment, amps in ((first, 10.0), (first + timedelta(hours=1), 20.0)):
        profile.add(moment.astimezone(OSLO), (amps, amps, amps))
        profile.add((moment + QUARTER).astimezone(OSLO), (None, None, None))
    expected = 10.0 + LEARNING_RATE * (20.0 - 10.0)
    assert profile.forecast(first.astimezone(OSLO)) == pytest.approx((expected,) * 3)


# Learning


def test_readings_within_a_slot_are_averaged() -> None:
    """The slot's forecast is the mean per phase, once the next slot begins."""
    profile = HouseProfile()
    start = at(hours=18)
    profile.add(start, (10.0, 1.0, 4.0))
    profile.add(start + timedelta(minutes=5), (20.0, 2.0, 5.0))
    profile.add(start + timedelta(minutes=14, seconds=59), (30.0, 6.0, 9.0))
    # Still in the slot: nothing learned yet.
    assert profile.learned_slots == 0
    profile.add(start + QUARTER, (0.0, 0.0, 0.0))
    assert profile.learned_slots == 1
    assert profile.forecast(start) == pytest.approx((20.0, 3.0, 6.0))
    # Any moment within the slot, and the same slot a week later.
    assert profile.forecast(start + timedelta(minutes=7)) == pytest.approx(
        (20.0, 3.0, 6.0)
    )
    assert profile.forecast(start + WEEK) == pytest.approx((20.0, 3.0, 6.0))


def test_a_slot_moves_towards_each_new_week() -> None:
    """Week by week the slot moves LEARNING_RATE of the way to the new average."""
    assert 0 < LEARNING_RATE < 1
    profile = HouseProfile()
    start = at(days=2, hours=7)
    weeks = [(10.0, 0.0, 30.0), (20.0, 10.0, 30.0), (20.0, 10.0, 0.0)]
    expected = list(weeks[0])
    for week, amps in enumerate(weeks):
        learn(profile, start + week * WEEK, [amps])
        if week:
            expected = [
                old + LEARNING_RATE * (new - old)
                for old, new in zip(expected, amps, strict=True)
            ]
        assert profile.forecast(start) == pytest.approx(tuple(expected))
    # Two weeks at 20 A after 10 A: 13 A, then 15.1 A on L1.
    assert profile.forecast(start)[0] == pytest.approx(15.1)
    assert profile.learned_slots == 1


def test_unknown_readings_are_ignored() -> None:
    """None, NaN and infinity per phase do not count; a negative current is 0."""
    profile = HouseProfile()
    start = at(hours=3)
    learn(
        profile,
        start,
        [
            (10.0, None, math.nan),
            (math.inf, 4.0, 6.0),
            (20.0, -math.inf, -3.0),
            (None, 8.0, math.nan),
        ],
    )
    # L1: 10, 20; L2: 4, 8; L3: 6 and 0 (the negative one).
    assert profile.forecast(start) == pytest.approx((15.0, 6.0, 3.0))


def test_more_than_three_values_only_the_phases_count() -> None:
    """A reading with extra values: the first three are the phases."""
    profile = HouseProfile()
    learn(profile, at(), [(1.0, 2.0, 3.0, 400.0)])
    assert profile.forecast(at()) == pytest.approx((1.0, 2.0, 3.0))


def test_a_slot_with_a_phase_never_read_is_not_kept() -> None:
    """Without every phase the slot is dropped, and it does not leak onwards."""
    profile = HouseProfile()
    start = at(hours=10)
    profile.add(start, (10.0, 10.0, None))
    profile.add(start + timedelta(minutes=1), (10.0, 10.0, math.nan))
    # The next slot has every phase: only its own readings count.
    profile.add(start + QUARTER, (2.0, 3.0, 4.0))
    profile.add(start + 2 * QUARTER, (None, None, None))
    assert profile.learned_slots == 1
    assert profile.forecast(start + QUARTER) == pytest.approx((2.0, 3.0, 4.0))
    # The dropped slot takes the mean of the learned ones (here: that one).
    assert profile.forecast(start) == pytest.approx((2.0, 3.0, 4.0))


def test_an_unread_slot_changes_nothing_learned() -> None:
    """A later week without all phases leaves the slot's forecast as it was."""
    profile = HouseProfile()
    start = at(days=4, hours=20)
    learn(profile, start, [(8.0, 8.0, 8.0)])
    learn(profile, start + WEEK, [(None, 30.0, 30.0)])
    assert profile.forecast(start) == pytest.approx((8.0, 8.0, 8.0))


def test_an_unlearned_slot_takes_the_mean_of_the_learned() -> None:
    """Slots without a forecast of their own get the mean of the others."""
    profile = HouseProfile()
    learn(profile, at(hours=1), [(10.0, 20.0, 30.0)])
    learn(profile, at(days=3, hours=17), [(20.0, 40.0, 0.0)])
    learn(profile, at(days=5, hours=9, minutes=45), [(0.0, 0.0, 90.0)])
    assert profile.learned_slots == 3
    assert profile.forecast(at(days=6, hours=12)) == pytest.approx((10.0, 20.0, 40.0))
    # A learned slot keeps its own.
    assert profile.forecast(at(days=3, hours=17, minutes=3)) == pytest.approx(
        (20.0, 40.0, 0.0)
    )


def test_nothing_learned_forecasts_no_house_load() -> None:
    """A place without a meter: the house counts as drawing nothing."""
    profile = HouseProfile()
    assert profile.learned_slots == 0
    assert profile.forecast(at(days=2, hours=8)) == (0.0, 0.0, 0.0)
    # Readings of one slot only, not yet committed: still nothing.
    profile.add(at(days=2, hours=8), (5.0, 5.0, 5.0))
    assert profile.forecast(at(days=2, hours=8)) == (0.0, 0.0, 0.0)


def test_a_profile_starts_from_what_was_learned() -> None:
    """Learned data given to the constructor is copied, not shared."""
    learned = {5: (1.0, 2.0, 3.0)}
    profile = HouseProfile(learned)
    learn(profile, at(minutes=5 * 15), [(11.0, 2.0, 3.0)])
    assert learned == {5: (1.0, 2.0, 3.0)}
    assert profile.forecast(at(minutes=5 * 15))[0] == pytest.approx(
        1.0 + LEARNING_RATE * 10.0
    )


# Stored and restored


def test_stored_and_restored_round_trip_through_json() -> None:
    """What is stored (as JSON) comes back with the same forecasts."""
    profile = HouseProfile()
    learn(profile, at(hours=6), [(12.5, 3.25, 0.0)])
    learn(profile, at(days=6, hours=23, minutes=45), [(1.0, 2.0, 3.0)])
    stored = profile.stored()
    assert stored == {
        str(6 * 4): [12.5, 3.25, 0.0],
        "671": [1.0, 2.0, 3.0],
    }
    back = HouseProfile.restored(json.loads(json.dumps(stored)))
    assert back.learned_slots == 2
    assert back.stored() == stored
    for moment in (at(hours=6), at(days=6, hours=23, minutes=50), at(days=1)):
        assert back.forecast(moment) == pytest.approx(profile.forecast(moment))


@pytest.mark.parametrize("data", [None, [], "671", 42, [["0", [1, 2, 3]]]])
def test_restored_from_no_mapping_is_empty(data: Any) -> None:
    """Anything but a mapping restores an empty profile."""
    profile = HouseProfile.restored(data)
    assert profile.learned_slots == 0
    assert profile.forecast(at()) == (0.0, 0.0, 0.0)


def test_restored_drops_garbage_and_keeps_the_rest() -> None:
    """Bad keys, bad values, wrong lengths and slots out of the week go."""
    data = {
        "0": [1, 2, 3],
        "671": ["4.5", 5, 6.0],
        "672": [9, 9, 9],
        "-1": [9, 9, 9],
        "abc": [9, 9, 9],
        "1.5": [9, 9, 9],
        "2": [9, 9],
        "3": [9, 9, 9, 9],
        "4": None,
        "5": 7,
        "6": [9, "x", 9],
        "7": [9, None, 9],
    }
    profile = HouseProfile.restored(data)
    assert profile.stored() == {"0": [1.0, 2.0, 3.0], "671": [4.5, 5.0, 6.0]}
    assert profile.forecast(at(days=6, hours=23, minutes=45)) == (4.5, 5.0, 6.0)
    # The mean of the two kept slots elsewhere.
    assert profile.forecast(at(hours=1)) == pytest.approx((2.75, 3.5, 4.5))


# From the meter, at runtime


def meter_place(grid_type: str) -> MockConfigEntry:
    """A place with an MQTT meter and no chargers."""
    return MockConfigEntry(
        domain=DOMAIN,
        title="Home",
        data={**PLACE_DATA, "grid_type": grid_type},
        options={**METER_OPTIONS, "capacity_tariff": False},
    )


async def _learn_from_meter(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    grid_type: str,
    amps: tuple[float, float, float],
) -> HouseProfile:
    """Meter readings in one slot and one in the next; the place's profile."""
    await hass.config.async_set_time_zone("Europe/Oslo")
    start = datetime(2025, 6, 4, 18, 0, tzinfo=OSLO)
    freezer.move_to(start)
    entry = meter_place(grid_type)
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    for minutes in (1, 5, 16):
        freezer.move_to(start + timedelta(minutes=minutes))
        async_fire_mqtt_message(hass, TOPIC, list2(amps))
        await hass.async_block_till_done()
    house: HouseProfile = entry.runtime_data.balancer.house
    return house


async def test_meter_readings_teach_the_place_profile(
    hass: HomeAssistant, mqtt_mock: Any, freezer: FrozenDateTimeFactory
) -> None:
    """A three-phase place learns its house load per slot from the meter."""
    house = await _learn_from_meter(hass, freezer, "3p_400_tn", (12.0, 7.0, 3.0))
    assert house.learned_slots == 1
    assert house.forecast(datetime(2025, 6, 11, 18, 5, tzinfo=OSLO)) == (
        pytest.approx((12.0, 7.0, 3.0))
    )


async def test_one_phase_place_learns_its_house(
    hass: HomeAssistant, mqtt_mock: Any, freezer: FrozenDateTimeFactory
) -> None:
    """A one-phase place learns its house load on L1 too."""
    house = await _learn_from_meter(hass, freezer, "1p_230", (12.0, 0.0, 0.0))
    assert house.learned_slots == 1
    assert house.forecast(datetime(2025, 6, 11, 18, 5, tzinfo=OSLO))[0] == (
        pytest.approx(12.0)
    )
