"""The capacity tariff: hourly energy from a meter, the month's step, its cost.

Times are Europe/Oslo. Arithmetic on instants is done in UTC: Python subtracts
and compares datetimes of one zone as wall times, which is wrong across DST.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
import json
import math
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import given, strategies as st
import pytest

from custom_components.homecharge.logic.capacity_tariff import (
    NORWEGIAN_STEPS,
    CapacityRule,
    CapacityStep,
    HourEnergy,
    HourlyEnergy,
    StepOption,
    capacity_state,
    cost_increase,
    per_month,
    step_for,
    with_day_caps,
)

OSLO = ZoneInfo("Europe/Oslo")
MINUTE = timedelta(minutes=1)


def oslo(
    day: int,
    hour: int,
    minute: int = 0,
    second: int = 0,
    *,
    month: int = 10,
    fold: int = 0,
) -> datetime:
    return datetime(2025, month, day, hour, minute, second, tzinfo=OSLO, fold=fold)


def later(moment: datetime, delta: timedelta) -> datetime:
    """A real elapsed time later, in Oslo time."""
    return (moment.astimezone(UTC) + delta).astimezone(OSLO)


def feed(energy: HourlyEnergy, start: datetime, minutes: int, watts: float) -> None:
    """A reading a minute, ``minutes`` long (so ``minutes + 1`` readings)."""
    for minute in range(minutes + 1):
        energy.add_power(later(start, minute * MINUTE), watts)


def by_utc(hours: tuple[HourEnergy, ...]) -> dict[datetime, float]:
    return {hour.start.astimezone(UTC): hour.kwh for hour in hours}


def utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC)


# --- Power integration -------------------------------------------------------


def test_constant_power_over_an_hour_is_its_kwh() -> None:
    energy = HourlyEnergy(tz=OSLO)
    feed(energy, oslo(6, 10), 60, 3600)

    (hour,) = energy.hours()
    assert hour.start == oslo(6, 10)
    assert hour.kwh == pytest.approx(3.6)
    # The last reading is held until now: 30 s at 3.6 kW.
    assert energy.current_hour(oslo(6, 11, 0, 30)).kwh == pytest.approx(0.03)


def test_an_interval_across_an_hour_is_split_at_the_hour() -> None:
    energy = HourlyEnergy(tz=OSLO)
    energy.add_power(oslo(6, 10, 58), 6000)
    energy.add_power(oslo(6, 11, 2), 0)

    assert by_utc(energy.hours()) == {utc(oslo(6, 10)): pytest.approx(0.2)}
    current = energy.current_hour(oslo(6, 11, 2))
    assert current.start == oslo(6, 11)
    assert current.kwh == pytest.approx(0.2)


def test_a_gap_is_unknown_not_zero() -> None:
    energy = HourlyEnergy(tz=OSLO)
    energy.add_power(oslo(6, 10), 3600)
    energy.add_power(oslo(6, 10, 10), 3600)
    assert energy.current_hour(oslo(6, 10, 10)).kwh == 0

    energy.add_power(oslo(6, 10, 11), 3600)
    assert energy.current_hour(oslo(6, 10, 11)).kwh == pytest.approx(0.06)
    # Nothing heard for 19 minutes: the last reading is not held that long.
    assert energy.current_hour(oslo(6, 10, 30)).kwh == pytest.approx(0.06)


def test_max_gap_is_configurable() -> None:
    energy = HourlyEnergy(tz=OSLO, max_gap=timedelta(minutes=15))
    energy.add_power(oslo(6, 10), 3600)
    energy.add_power(oslo(6, 10, 10), 0)

    assert energy.current_hour(oslo(6, 10, 10)).kwh == pytest.approx(0.6)


def test_unknown_stale_and_export_readings() -> None:
    energy = HourlyEnergy(tz=OSLO)
    energy.add_power(oslo(6, 10), 6000)
    # Unavailable: the power held until then counts, the time after does not.
    energy.add_power(oslo(6, 10, 1), math.nan)
    energy.add_power(oslo(6, 10, 2), -5000)
    energy.add_power(oslo(6, 10, 3), 6000)
    energy.add_power(oslo(6, 10, 2, 30), 50_000)  # older than the last: ignored
    energy.add_power(oslo(6, 10, 4), 0)

    assert energy.current_hour(oslo(6, 10, 4)).kwh == pytest.approx(0.2)


def test_the_reading_zone_is_used_without_tz() -> None:
    energy = HourlyEnergy()
    feed(energy, oslo(6, 10), 60, 3600)

    (hour,) = energy.hours()
    assert (hour.start, hour.start.tzinfo) == (oslo(6, 10), OSLO)
    assert energy.current_hour(utc(oslo(6, 11))).start == oslo(6, 11)


# --- Registers -----------------------------------------------------------------


def test_registers_give_the_energy_between_hours() -> None:
    energy = HourlyEnergy(tz=OSLO)
    for hour, kwh in ((10, 100.0), (11, 102.5), (12, 104.0)):
        energy.add_register(oslo(6, hour, 0, 10), kwh)

    assert by_utc(energy.hours()) == {
        utc(oslo(6, 10)): pytest.approx(2.5),
        utc(oslo(6, 11)): pytest.approx(1.5),
    }


def test_the_register_wins_over_the_integral() -> None:
    energy = HourlyEnergy(tz=OSLO)
    feed(energy, oslo(6, 10), 120, 3600)
    energy.add_register(oslo(6, 10, 0, 10), 100.0)
    energy.add_register(oslo(6, 11, 0, 10), 102.5)
    energy.add_power(oslo(6, 12, 0, 30), 3600)

    assert by_utc(energy.hours()) == {
        utc(oslo(6, 10)): pytest.approx(2.5),
        # No register at 12:00: the integral stands.
        utc(oslo(6, 11)): pytest.approx(3.6),
    }


def test_a_register_going_back_starts_over() -> None:
    energy = HourlyEnergy(tz=OSLO)
    for hour, kwh in ((10, 100.0), (11, 101.0), (12, 5.0), (13, 6.5)):
        energy.add_register(oslo(6, hour, 0, 10), kwh)

    assert by_utc(energy.hours()) == {
        utc(oslo(6, 10)): pytest.approx(1.0),
        utc(oslo(6, 12)): pytest.approx(1.5),
    }


def test_a_missed_register_leaves_those_hours_to_the_integral() -> None:
    energy = HourlyEnergy(tz=OSLO)
    energy.add_register(oslo(6, 10, 0, 10), 100.0)
    energy.add_register(oslo(6, 12, 0, 10), 103.0)

    assert energy.hours() == ()


def test_unusable_register_readings_are_ignored() -> None:
    energy = HourlyEnergy(tz=OSLO)
    energy.add_register(oslo(6, 10, 0, 10), 100.0)
    energy.add_register(oslo(6, 10, 0, 20), math.nan)
    energy.add_register(oslo(6, 10, 0, 30), -1.0)
    energy.add_register(oslo(6, 10, 0, 5), 0.0)  # older than the last
    energy.add_register(oslo(6, 11, 0, 10), 101.0)

    assert by_utc(energy.hours()) == {utc(oslo(6, 10)): pytest.approx(1.0)}


def test_a_frequent_register_gives_the_current_hour() -> None:
    energy = HourlyEnergy(tz=OSLO)
    feed(energy, oslo(6, 10), 20, 3600)
    energy.add_register(oslo(6, 10, 0, 5), 100.0)
    energy.add_register(oslo(6, 10, 0, 40), 100.01)  # the hour is marked already
    energy.add_register(oslo(6, 10, 20), 100.7)

    assert energy.current_hour(oslo(6, 10, 20)).kwh == pytest.approx(0.7)


def test_an_hourly_register_leaves_the_current_hour_to_the_integral() -> None:
    energy = HourlyEnergy(tz=OSLO)
    energy.add_power(oslo(6, 10), 3600)
    energy.add_register(oslo(6, 10, 0, 10), 100.0)

    assert energy.current_hour(oslo(6, 10, 0, 30)).kwh == pytest.approx(0.03)


# --- Daylight saving -------------------------------------------------------------


def test_the_autumn_night_has_two_distinct_0200_hours() -> None:
    energy = HourlyEnergy(tz=OSLO)
    # From 01:00 CEST, four real hours: 01, 02 CEST, 02 CET, 03 CET.
    feed(energy, oslo(26, 1), 240, 3600)

    hours = energy.hours()
    assert [hour.kwh for hour in hours] == pytest.approx([3.6] * 4)
    assert [(hour.start.hour, hour.start.utcoffset()) for hour in hours] == [
        (1, timedelta(hours=2)),
        (2, timedelta(hours=2)),
        (2, timedelta(hours=1)),
        (3, timedelta(hours=1)),
    ]


def test_the_autumn_night_registers_keep_both_0200_hours() -> None:
    energy = HourlyEnergy(tz=OSLO)
    for moment, kwh in (
        (oslo(26, 1, 0, 10), 0.0),
        (oslo(26, 2, 0, 10), 1.0),
        (oslo(26, 2, 0, 10, fold=1), 3.0),
        (oslo(26, 3, 0, 10), 6.0),
    ):
        energy.add_register(moment, kwh)

    assert by_utc(energy.hours()) == {
        utc(oslo(26, 1)): pytest.approx(1.0),
        utc(oslo(26, 2)): pytest.approx(2.0),
        utc(oslo(26, 2, fold=1)): pytest.approx(3.0),
    }
    # 25 hours, one day: the night counts once.
    state = capacity_state(energy.hours(), oslo(26, 12))
    assert [utc(peak.start) for peak in state.peaks] == [utc(oslo(26, 2, fold=1))]


def test_the_spring_night_skips_0200() -> None:
    energy = HourlyEnergy(tz=OSLO)
    feed(energy, oslo(30, 1, 30, month=3), 60, 3600)

    (hour,) = energy.hours()
    assert hour.start == oslo(30, 1, month=3)
    assert hour.kwh == pytest.approx(1.8)
    current = energy.current_hour(oslo(30, 3, 30, month=3))
    assert current.start == oslo(30, 3, month=3)
    assert current.kwh == pytest.approx(1.8)


# --- Pruning and storage -------------------------------------------------------------


def test_only_the_current_and_previous_month_are_kept() -> None:
    energy = HourlyEnergy(tz=OSLO)
    for month, day, hour in ((1, 31, 23), (2, 1, 0), (3, 5, 10)):
        feed(energy, oslo(day, hour, month=month), 60, 3600)
    energy.add_power(oslo(1, 10, month=4), 0)  # April: January and February go

    assert [hour.start for hour in energy.hours()] == [oslo(5, 10, month=3)]


def test_local_months_decide_what_is_pruned() -> None:
    energy = HourlyEnergy(tz=OSLO)
    # 31 Jan 23:00 and 1 Feb 00:00 local are both 31 January in UTC.
    feed(energy, oslo(31, 23, month=1), 120, 3600)
    energy.add_power(oslo(1, 10, month=3), 0)

    assert [hour.start for hour in energy.hours()] == [oslo(1, 0, month=2)]


def _busy() -> HourlyEnergy:
    energy = HourlyEnergy(tz=OSLO)
    feed(energy, oslo(6, 10), 70, 3600)
    energy.add_register(oslo(6, 10, 0, 10), 100.0)
    energy.add_register(oslo(6, 11, 0, 10), 102.0)
    energy.add_register(oslo(6, 11, 5), 102.3)
    return energy


def test_stored_and_restored_round_trip() -> None:
    energy = _busy()
    data = json.loads(json.dumps(energy.stored()))
    again = HourlyEnergy.restored(data, tz=OSLO)

    assert again.hours() == energy.hours()
    now = oslo(6, 11, 12)
    assert again.current_hour(now) == energy.current_hour(now)
    # The run of power readings goes on across the restart.
    energy.add_power(oslo(6, 11, 12), 0)
    again.add_power(oslo(6, 11, 12), 0)
    assert again.current_hour(now) == energy.current_hour(now)


def test_restored_without_tz_keeps_the_instants() -> None:
    energy = _busy()
    again = HourlyEnergy.restored(energy.stored())

    assert by_utc(again.hours()) == by_utc(energy.hours())


def test_an_empty_accumulator_stores_and_restores() -> None:
    energy = HourlyEnergy.restored(HourlyEnergy().stored())

    assert energy.hours() == ()
    assert energy.current_hour(oslo(6, 10)).kwh == 0


@pytest.mark.parametrize(
    "data",
    [
        None,
        "garbage",
        [1, 2],
        {"integrated": []},
        {"integrated": {"not a time": 1.0}},
        {"integrated": {"2025-10-06T08:00:00": 1.0}},
        {"integrated": {"2025-10-06T08:00:00+00:00": "1.0"}},
        {"metered": {"2025-10-06T08:00:00+00:00": -1.0}},
        {"metered": {"2025-10-06T08:00:00+00:00": math.inf}},
        {"metered": {"2025-10-06T08:00:00+00:00": True}},
        {"power": []},
        {"power": 5},
        {"power": "xy"},
        {"anchor": ["2025-10-06T08:00:00+00:00"]},
        {"register": [None, 1.0]},
        {"latest": 17},
        {"latest": ""},
    ],
)
def test_restored_tolerates_garbage(data: Any) -> None:
    energy = HourlyEnergy.restored(data, tz=OSLO)

    assert energy.hours() == ()
    assert energy.stored() == HourlyEnergy().stored()


# --- The month's step ---------------------------------------------------------------


def hour(day: int, at: int, kwh: float, *, month: int = 10) -> HourEnergy:
    return HourEnergy(start=oslo(day, at, month=month), kwh=kwh)


MID_OCTOBER = oslo(15, 12)


def test_three_peaks_on_different_days() -> None:
    hours = [hour(1, 18, 4.0), hour(2, 18, 6.0), hour(3, 7, 8.0), hour(4, 18, 2.0)]
    state = capacity_state(hours, MID_OCTOBER)

    assert [peak.kwh for peak in state.peaks] == [8.0, 6.0, 4.0]
    assert state.average_kw == pytest.approx(6.0)
    assert state.step == CapacityStep(threshold_kw=5.0, monthly_cost=420.0)
    assert state.next_threshold_kw == 10.0
    assert state.monthly_cost == 420.0


def test_a_day_counts_once_with_its_highest_hour() -> None:
    hours = [hour(1, 17, 9.0), hour(1, 18, 10.0), hour(2, 18, 2.0), hour(3, 18, 3.0)]

    state = capacity_state(hours, MID_OCTOBER)
    assert [peak.kwh for peak in state.peaks] == [10.0, 3.0, 2.0]
    assert state.average_kw == pytest.approx(5.0)

    every_hour = capacity_state(hours, MID_OCTOBER, CapacityRule(one_per_day=False))
    assert [peak.kwh for peak in every_hour.peaks] == [10.0, 9.0, 3.0]


def test_the_peak_count_is_configurable() -> None:
    hours = [hour(1, 18, 12.0), hour(2, 18, 2.0)]
    state = capacity_state(hours, MID_OCTOBER, CapacityRule(peaks=1))

    assert state.average_kw == 12.0
    assert state.monthly_cost == 585.0


def test_only_the_local_calendar_month_counts() -> None:
    last_of_september = hour(30, 23, 20.0, month=9)
    # 00:00 on 1 October in Oslo is still 30 September in UTC, and 00:00 on
    # 1 November still 31 October: the zone of month_of decides.
    first_of_october = hour(1, 0, 4.0)
    first_of_november = hour(1, 0, 1.0, month=11)
    hours = [last_of_september, first_of_october, first_of_november]

    assert capacity_state(hours, MID_OCTOBER).peaks == (first_of_october,)
    in_utc = capacity_state(hours, MID_OCTOBER.astimezone(UTC))
    assert in_utc.peaks == (first_of_november,)


def test_fewer_days_than_peaks_average_those_found() -> None:
    state = capacity_state([hour(1, 18, 3.0), hour(2, 18, 5.0)], MID_OCTOBER)

    assert state.average_kw == pytest.approx(4.0)
    assert state.monthly_cost == 250.0


def test_no_hours_is_the_lowest_step() -> None:
    state = capacity_state([], MID_OCTOBER)

    assert state.peaks == ()
    assert state.average_kw == 0.0
    assert state.step == NORWEGIAN_STEPS[0]
    assert state.next_threshold_kw == 2.0
    assert state.monthly_cost == 150.0


def test_the_top_step_has_no_next_threshold() -> None:
    hours = [hour(day, 18, 120.0) for day in (1, 2, 3)]
    state = capacity_state(hours, MID_OCTOBER)

    assert state.step.threshold_kw == 100.0
    assert state.next_threshold_kw is None
    assert state.monthly_cost == 6800.0


@pytest.mark.parametrize(
    ("average_kw", "threshold_kw"),
    [
        (-1.0, 0.0),
        (0.0, 0.0),
        (1.999, 0.0),
        # A threshold belongs to the step that starts at it ("2-5 kW").
        (2.0, 2.0),
        (4.999, 2.0),
        (5.0, 5.0),
        # Float noise from averaging does not keep a place under a threshold.
        (5.0 - 1e-12, 5.0),
        (99.99, 75.0),
        (100.0, 100.0),
        (250.0, 100.0),
    ],
)
def test_step_for(average_kw: float, threshold_kw: float) -> None:
    assert step_for(average_kw, NORWEGIAN_STEPS).threshold_kw == threshold_kw


def test_an_average_exactly_on_a_threshold_takes_the_higher_step() -> None:
    hours = [hour(1, 18, 4.9), hour(2, 18, 5.1), hour(3, 18, 5.0)]

    assert capacity_state(hours, MID_OCTOBER).monthly_cost == 420.0


@pytest.mark.parametrize(
    "rule",
    [
        {"peaks": 0},
        {"steps": ()},
        {"steps": (CapacityStep(threshold_kw=2, monthly_cost=1),)},
        {"steps": (NORWEGIAN_STEPS[0], NORWEGIAN_STEPS[2], NORWEGIAN_STEPS[1])},
        {"steps": (NORWEGIAN_STEPS[0], NORWEGIAN_STEPS[1], NORWEGIAN_STEPS[1])},
    ],
)
def test_a_rule_that_cannot_pick_a_step_is_refused(rule: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="steps must rise"):
        CapacityRule(**rule)


# --- Cost of an hour -------------------------------------------------------------


PEAKS = [hour(1, 18, 8.0), hour(2, 18, 7.0), hour(3, 18, 6.0)]


def test_an_hour_below_the_third_peak_costs_nothing() -> None:
    assert cost_increase(PEAKS, MID_OCTOBER, oslo(4, 2), 5.9) == 0.0


def test_an_hour_over_a_threshold_costs_the_step_difference() -> None:
    # 15, 8 and 7 average 10 kW: from 420 to 585 NOK.
    assert cost_increase(PEAKS, MID_OCTOBER, oslo(4, 2), 15.0) == 165.0
    # Just under: the average stays below 10 kW.
    assert cost_increase(PEAKS, MID_OCTOBER, oslo(4, 2), 14.9) == 0.0


def test_the_hour_replaces_what_hours_hold_for_it() -> None:
    hours = [*PEAKS, hour(4, 2, 5.0)]

    assert cost_increase(hours, MID_OCTOBER, oslo(4, 2), 5.5) == 0.0
    assert cost_increase(hours, MID_OCTOBER, oslo(4, 2), 15.0) == 165.0
    # Less than the hour already holds is no saving.
    assert cost_increase(PEAKS, MID_OCTOBER, oslo(1, 18), 0.0) == 0.0


def test_an_hour_in_another_month_costs_nothing() -> None:
    assert cost_increase(PEAKS, MID_OCTOBER, oslo(4, 2, month=11), 90.0) == 0.0


# --- Properties ---------------------------------------------------------------------

HOURS = st.lists(
    st.builds(
        hour,
        st.integers(1, 31),
        st.integers(0, 23),
        st.floats(0, 150, allow_nan=False),
    ),
    max_size=40,
)
RULES = st.builds(CapacityRule, peaks=st.integers(1, 5), one_per_day=st.booleans())


@given(HOURS, RULES)
def test_the_counted_peaks(hours: list[HourEnergy], rule: CapacityRule) -> None:
    state = capacity_state(hours, MID_OCTOBER, rule)

    if rule.one_per_day:
        days = [peak.start.astimezone(OSLO).date() for peak in state.peaks]
        assert len(set(days)) == len(days)
        assert len(days) == min(rule.peaks, len({h.start.date() for h in hours}))
    if state.peaks:
        kwh = [peak.kwh for peak in state.peaks]
        assert kwh == sorted(kwh, reverse=True)
        tolerance = 1e-12 * max(kwh)
        assert min(kwh) - tolerance <= state.average_kw <= max(kwh) + tolerance
    else:
        assert state.average_kw == 0.0
    assert state.monthly_cost == step_for(state.average_kw, rule.steps).monthly_cost


@given(HOURS.filter(bool), st.integers(0, 39), st.floats(0, 100), RULES)
def test_more_energy_never_lowers_the_cost(
    hours: list[HourEnergy], index: int, extra: float, rule: CapacityRule
) -> None:
    raised = list(hours)
    chosen = raised[index % len(raised)]
    raised[index % len(raised)] = HourEnergy(start=chosen.start, kwh=chosen.kwh + extra)

    before = capacity_state(hours, MID_OCTOBER, rule).monthly_cost
    assert capacity_state(raised, MID_OCTOBER, rule).monthly_cost >= before


@given(
    HOURS,
    st.integers(1, 31),
    st.integers(0, 23),
    st.floats(0, 150),
    st.floats(0, 150),
)
def test_cost_increase_grows_with_the_hour(
    hours: list[HourEnergy], day: int, at: int, kwh: float, other: float
) -> None:
    low, high = sorted((kwh, other))
    start = oslo(day, at)

    cheaper = cost_increase(hours, MID_OCTOBER, start, low)
    assert 0.0 <= cheaper <= cost_increase(hours, MID_OCTOBER, start, high)


@given(
    st.lists(
        st.tuples(st.integers(1, 400), st.floats(-1000, 11_000)),
        min_size=1,
        max_size=60,
    )
)
def test_integration_keeps_all_energy(readings: list[tuple[int, float]]) -> None:
    """Split at hours (across the autumn night) or not, no energy is lost."""
    energy = HourlyEnergy(tz=OSLO)
    moment, expected, held = utc(oslo(26, 0, 30)), 0.0, None
    for seconds, watts in readings:
        moment += timedelta(seconds=seconds)
        if held is not None and seconds <= 300:
            expected += max(held, 0.0) * seconds / 3_600_000
        energy.add_power(moment.astimezone(OSLO), watts)
        held = watts

    total = sum(h.kwh for h in energy.hours()) + energy.current_hour(moment).kwh
    assert total == pytest.approx(expected, abs=1e-9)


# --- Per-day caps ------------------------------------------------------------------


def test_a_day_that_peaked_anyway_keeps_its_peak_as_its_cap() -> None:
    """One hour per day counts: below the day's own peak, charging is free."""
    options = (
        StepOption(extra_cost=0.0, max_kw=5.0),
        StepOption(extra_cost=165.0, max_kw=None),
    )
    hours = [
        HourEnergy(start=datetime(2025, 9, 30, 18, tzinfo=OSLO), kwh=9.0),
        hour(14, 18, 8.0),
        hour(15, 2, 3.0),
        hour(31, 18, 12.0),
    ]
    house = {date(2025, 10, 15): 6.5, date(2025, 11, 1): 9.0}
    capped = with_day_caps(options, hours, MID_OCTOBER, house)
    # The 14th's 8 kWh and the 15th's forecast 6.5 kW; the 31st (12 kWh) is
    # in the month but not a plan day: listed all the same; a November day
    # too. September's are no plan's.
    assert capped[0].day_max_kw == (
        (date(2025, 10, 14), 8.0),
        (date(2025, 10, 15), 6.5),
        (date(2025, 10, 31), 12.0),
        (date(2025, 11, 1), 9.0),
    )
    assert capped[0].cap_kw(date(2025, 10, 15)) == 6.5
    assert capped[0].cap_kw(date(2025, 10, 16)) == 5.0
    assert capped[0].cap_kw(None) == 5.0
    assert capped[1] == options[1]
    # Counting the top hours whatever the day: no per-day caps.
    any_hours = CapacityRule(one_per_day=False)
    assert with_day_caps(options, hours, MID_OCTOBER, house, any_hours) == options


def test_day_caps_keep_the_next_months_caps() -> None:
    """Per-month options: a November day has November's cap (raised by its peak)."""
    october = (
        StepOption(extra_cost=0.0, max_kw=5.0),
        StepOption(extra_cost=165.0, max_kw=None),
    )
    november = (
        StepOption(extra_cost=0.0, max_kw=2.0),
        StepOption(extra_cost=100.0, max_kw=None),
    )
    first = date(2025, 11, 1)
    options = per_month(october, november, [first])
    house = {date(2025, 10, 31): 6.5, first: 3.0}

    capped = with_day_caps(options, [], MID_OCTOBER, house)

    assert [option.extra_cost for option in capped] == [0.0, 100.0, 165.0, 265.0]
    assert [option.cap_kw(date(2025, 10, 31)) for option in capped] == [
        6.5,
        6.5,
        None,
        None,
    ]
    # November's own peak (3 kW) raises November's 2 kW cap, not its none.
    assert [option.cap_kw(first) for option in capped] == [3.0, None, 3.0, None]
    assert [option.unlimited for option in capped] == [False, False, False, True]
