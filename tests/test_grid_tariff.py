"""The grid tariff: the energy part by time of day, the capacity step options.

Times are Europe/Oslo; 20 October 2025 is a Monday.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from custom_components.homecharge.logic.capacity_tariff import (
    NORWEGIAN_STEPS,
    CapacityRule,
    CapacityStep,
    HourEnergy,
    StepOption,
    capacity_state,
)
from custom_components.homecharge.logic.grid_tariff import (
    CONF_GRID_DAY_PRICE,
    CONF_GRID_NIGHT_END,
    CONF_GRID_NIGHT_PRICE,
    CONF_GRID_NIGHT_START,
    CONF_GRID_WEEKEND_NIGHT,
    NORWEGIAN_ENERGY_TARIFF,
    STEP_MARGIN_KW,
    EnergyTariff,
    from_options,
    month_starts,
    step_options,
    validate_tariff,
)

OSLO = ZoneInfo("Europe/Oslo")


def oslo(day: int, hour: int, minute: int = 0, *, month: int = 10) -> datetime:
    return datetime(2025, month, day, hour, minute, tzinfo=OSLO)


TARIFF = EnergyTariff(day_price=0.40, night_price=0.25, night_start=22, night_end=6)


# --- Energy part ------------------------------------------------------------


@pytest.mark.parametrize(
    ("moment", "price"),
    [
        (oslo(20, 5, 59), 0.25),  # Monday before six
        (oslo(20, 6), 0.40),
        (oslo(20, 21, 59), 0.40),
        (oslo(20, 22), 0.25),  # the night wraps past midnight
        (oslo(21, 0, 30), 0.25),
        (oslo(24, 23), 0.25),  # Friday night
        (oslo(25, 12), 0.25),  # Saturday noon
        (oslo(26, 12), 0.25),  # Sunday noon
        (oslo(27, 6), 0.40),  # Monday morning again
    ],
)
def test_day_night_and_weekend(moment: datetime, price: float) -> None:
    assert TARIFF.price_at(moment) == price


def test_night_within_a_day_and_weekdays_only() -> None:
    tariff = EnergyTariff(
        day_price=1.0,
        night_price=0.5,
        night_start=1,
        night_end=5,
        weekend_is_night=False,
    )

    assert [tariff.price_at(oslo(20, hour)) for hour in (0, 1, 4, 5, 23)] == [
        1.0,
        0.5,
        0.5,
        1.0,
        1.0,
    ]
    assert tariff.price_at(oslo(25, 12)) == 1.0
    assert tariff.price_at(oslo(25, 2)) == 0.5


def test_flat_and_no_night_hours() -> None:
    flat = EnergyTariff(day_price=0.3)
    assert {flat.price_at(oslo(day, hour)) for day in (20, 25) for hour in (3, 12)} == {
        0.3
    }

    no_night = EnergyTariff(day_price=1.0, night_price=0.5, night_start=0, night_end=0)
    assert no_night.price_at(oslo(20, 3)) == 1.0
    assert no_night.price_at(oslo(25, 12)) == 0.5


def test_norwegian_default_is_elvia_with_vat() -> None:
    """Working days 06–22 at the day price; nights and weekends cheaper."""
    tariff = NORWEGIAN_ENERGY_TARIFF

    assert tariff.price_at(oslo(20, 12)) == pytest.approx(0.362375)
    assert tariff.price_at(oslo(20, 23)) == pytest.approx(0.212375)
    assert tariff.price_at(oslo(25, 12)) == pytest.approx(0.212375)


def test_from_options() -> None:
    tariff = from_options(
        {
            CONF_GRID_DAY_PRICE: "0,45",
            CONF_GRID_NIGHT_PRICE: 0.3,
            CONF_GRID_NIGHT_START: "23",
            CONF_GRID_NIGHT_END: 5.0,
            CONF_GRID_WEEKEND_NIGHT: False,
        }
    )

    assert tariff == EnergyTariff(
        day_price=0.45,
        night_price=0.3,
        night_start=23,
        night_end=5,
        weekend_is_night=False,
    )


@pytest.mark.parametrize(
    "options",
    [
        {},
        {CONF_GRID_DAY_PRICE: "free", CONF_GRID_NIGHT_PRICE: ""},
        {CONF_GRID_DAY_PRICE: -1, CONF_GRID_NIGHT_PRICE: None},
        {CONF_GRID_NIGHT_START: 24, CONF_GRID_NIGHT_END: "6.5"},
        {CONF_GRID_NIGHT_START: True, CONF_GRID_NIGHT_END: [6]},
    ],
)
def test_from_options_defaults(options: dict[str, Any]) -> None:
    assert from_options(options) == EnergyTariff()


def test_validate_tariff_accepts() -> None:
    assert validate_tariff({}) == {}
    assert (
        validate_tariff(
            {
                CONF_GRID_DAY_PRICE: "0,4999",
                CONF_GRID_NIGHT_PRICE: "",
                CONF_GRID_NIGHT_START: "22",
                CONF_GRID_NIGHT_END: 0,
            }
        )
        == {}
    )
    assert (
        validate_tariff({CONF_GRID_NIGHT_PRICE: None, CONF_GRID_NIGHT_END: 23.0}) == {}
    )


@pytest.mark.parametrize(
    ("user_input", "errors"),
    [
        ({CONF_GRID_DAY_PRICE: "abc"}, {CONF_GRID_DAY_PRICE: "invalid_price"}),
        ({CONF_GRID_DAY_PRICE: ""}, {CONF_GRID_DAY_PRICE: "invalid_price"}),
        ({CONF_GRID_DAY_PRICE: -0.1}, {CONF_GRID_DAY_PRICE: "invalid_price"}),
        ({CONF_GRID_NIGHT_PRICE: 1000}, {CONF_GRID_NIGHT_PRICE: "invalid_price"}),
        ({CONF_GRID_NIGHT_PRICE: False}, {CONF_GRID_NIGHT_PRICE: "invalid_price"}),
        ({CONF_GRID_NIGHT_START: 24}, {CONF_GRID_NIGHT_START: "invalid_hour"}),
        ({CONF_GRID_NIGHT_START: -1}, {CONF_GRID_NIGHT_START: "invalid_hour"}),
        ({CONF_GRID_NIGHT_END: "6.5"}, {CONF_GRID_NIGHT_END: "invalid_hour"}),
        ({CONF_GRID_NIGHT_END: "six"}, {CONF_GRID_NIGHT_END: "invalid_hour"}),
        (
            {CONF_GRID_DAY_PRICE: None, CONF_GRID_NIGHT_START: None},
            {
                CONF_GRID_DAY_PRICE: "invalid_price",
                CONF_GRID_NIGHT_START: "invalid_hour",
            },
        ),
    ],
)
def test_validate_tariff_errors(
    user_input: dict[str, Any], errors: dict[str, str]
) -> None:
    assert validate_tariff(user_input) == errors


# --- Capacity step options --------------------------------------------------

MONDAY = date(2025, 10, 20)
TUESDAY = date(2025, 10, 21)
NOW = oslo(20, 10)


def recorded(peaks: dict[int, float]) -> list[HourEnergy]:
    """Whole days of October: 1 kWh an hour, one peak hour at 18:00."""
    return [
        HourEnergy(start=oslo(day, hour), kwh=peak if hour == 18 else 1.0)
        for day, peak in peaks.items()
        for hour in range(24)
    ]


# Three earlier days peaked at 2.7 kW: the month stands in the 2–5 kW step.
KNOWN = recorded({1: 2.7, 2: 2.7, 3: 2.7, 4: 1.5})


def step_cost(hours: list[HourEnergy]) -> float:
    return capacity_state(hours, NOW).monthly_cost


def planned(days: list[date], kw: float, house: dict[date, float]) -> list[HourEnergy]:
    """An hour on each day at the larger of kw and the house's peak."""
    return [
        HourEnergy(
            start=datetime(d.year, d.month, d.day, 19, tzinfo=OSLO),
            kwh=max(kw, house[d]),
        )
        for d in days
    ]


def test_options_from_the_base_step_up() -> None:
    """Two horizon days with a 3 kW house; the average of three days counts."""
    house = {MONDAY: 3.0, TUESDAY: 3.0}

    options = step_options(KNOWN, [MONDAY, TUESDAY], house, NOW, 22.0)
    even = [option for option in options if not option.day_max_kw]

    # Base: (3 + 3 + 2.7) / 3 = 2.9 kW, the 2–5 step (250 kr); X keeps
    # (2X + 2.7) / 3 under 5, 10 and 15 kW; 22 kW reaches 15–20 (755 kr).
    assert [option.extra_cost for option in even] == [0.0, 170.0, 335.0, 505.0]
    limits = [option.max_kw for option in even]
    assert limits[:3] == pytest.approx([6.15, 13.65, 21.15], abs=2 * STEP_MARGIN_KW)
    assert limits[-1] is None


def test_each_limit_keeps_its_step_and_a_little_more_does_not() -> None:
    house = {MONDAY: 3.0, TUESDAY: 1.0}
    days = [MONDAY, TUESDAY]
    base = step_cost([*KNOWN, *planned(days, 0.0, house)])

    options = step_options(KNOWN, days, house, NOW, 40.0)

    for option in options[:-1]:
        assert option.max_kw is not None
        at_limit = step_cost([*KNOWN, *planned(days, option.max_kw, house)])
        above = step_cost(
            [*KNOWN, *planned(days, option.max_kw + 2 * STEP_MARGIN_KW, house)]
        )
        # The margin: a little float noise above the limit keeps the step.
        noisy = step_cost(
            [*KNOWN, *planned(days, option.max_kw + STEP_MARGIN_KW / 2, house)]
        )
        assert at_limit - base == option.extra_cost
        assert noisy == at_limit
        assert above > at_limit
    top = step_cost([*KNOWN, *planned(days, 40.0, house)])
    assert options[-1] == StepOption(extra_cost=top - base, max_kw=None)


def test_options_rise_in_cost_and_power() -> None:
    options = step_options(KNOWN, [MONDAY], {MONDAY: 0.5}, NOW, 400.0)

    costs = [option.extra_cost for option in options]
    assert all(option.max_kw is not None for option in options[:-1])
    limits = [option.max_kw or 0.0 for option in options[:-1]]
    assert costs == sorted(costs)
    assert len(set(costs)) == len(costs)
    assert limits == sorted(limits)
    assert len(set(limits)) == len(limits)
    assert len(options) == 10 - 1  # from 2–5 kW up to > 100 kW


def test_house_alone_sets_the_base() -> None:
    """A house peak above every planned power leaves nothing to choose."""
    options = step_options(KNOWN, [MONDAY], {MONDAY: 12.0}, NOW, 11.0)

    assert options == (StepOption(extra_cost=0.0, max_kw=None),)


def test_a_recorded_peak_today_counts_once() -> None:
    """Today's recorded 6 kW and the planned hour are one day's peak."""
    known = [*recorded({1: 2.0, 2: 2.0}), HourEnergy(start=oslo(20, 8), kwh=6.0)]

    options = step_options(known, [MONDAY], {MONDAY: 1.0}, NOW, 12.0)

    # (max(X, 6) + 2 + 2) / 3 reaches 5 kW at X = 11.
    assert options[0].extra_cost == 0.0
    assert options[0].max_kw == pytest.approx(11.0, abs=2 * STEP_MARGIN_KW)
    # From the 2–5 step (250 kr) to 5–10 (420 kr).
    assert options[1] == StepOption(extra_cost=170.0, max_kw=None)


def test_without_one_per_day_the_top_hours_count() -> None:
    rule = CapacityRule(peaks=3, one_per_day=False)
    known = [HourEnergy(start=oslo(20, hour), kwh=4.0) for hour in (7, 8, 12)]

    options = step_options(known, [MONDAY], {MONDAY: 0.0}, NOW, 8.0, rule)

    # (X + 4 + 4) / 3 reaches 5 kW at X = 7: the planned hour is a fourth.
    assert options[0].max_kw == pytest.approx(7.0, abs=2 * STEP_MARGIN_KW)
    assert len(options) == 2


def test_a_plan_over_the_month_end_is_judged_per_month() -> None:
    """October's days by October's step, November's by a fresh month's."""
    october = date(2025, 10, 31)
    november = date(2025, 11, 1)
    late = oslo(31, 20)
    known = recorded({1: 2.7, 2: 2.7, 3: 2.7})

    both = step_options(
        known, [october, november], {october: 3.0, november: 1.0}, late, 22.0
    )
    first = step_options(known, [october], {october: 3.0}, late, 22.0)
    second = step_options(
        known, [november], {november: 1.0}, datetime(2025, 11, 1, tzinfo=OSLO), 22.0
    )

    # October: (X + 2.7 + 2.7) / 3 stays under 5 kW up to 9.6 kW; November
    # starts empty: its one day is its average, 1 kW in the 0–2 step.
    assert first[0].max_kw == pytest.approx(3 * 5.0 - 2 * 2.7, abs=2 * STEP_MARGIN_KW)
    assert second[0].max_kw == pytest.approx(2.0, abs=2 * STEP_MARGIN_KW)
    assert len(both) == len(first) * len(second)
    costs = sorted(a.extra_cost + b.extra_cost for a in first for b in second)
    assert [option.extra_cost for option in both] == costs
    for option in both:
        pair = [
            (a, b)
            for a in first
            for b in second
            if option.cap_kw(october) == a.max_kw
            and option.cap_kw(november) == b.max_kw
        ]
        assert len(pair) == 1
        assert option.extra_cost == pair[0][0].extra_cost + pair[0][1].extra_cost
    cheapest = both[0]
    assert cheapest.cap_kw(october) == first[0].max_kw
    assert cheapest.cap_kw(november) == second[0].max_kw
    assert not cheapest.unlimited
    assert both[-1].unlimited
    # Only both months' top steps leave every day without a cap.
    assert [option.unlimited for option in both].count(True) == 1


def test_a_plan_within_one_month_has_its_options_alone() -> None:
    """Days of the next month only split the options when the plan has them."""
    options = step_options(KNOWN, [MONDAY, TUESDAY], {MONDAY: 3.0}, NOW, 22.0)

    # Only the two days' uneven shares of a step name days.
    assert {day for option in options for day, _ in option.day_max_kw} == {
        MONDAY,
        TUESDAY,
    }
    assert all(len(option.day_max_kw) in (0, 2) for option in options)
    assert month_starts([MONDAY, TUESDAY], NOW) == [NOW]
    assert month_starts([date(2025, 11, 2), date(2025, 10, 31)], NOW) == [
        NOW,
        datetime(2025, 11, 1, tzinfo=OSLO),
    ]


def test_no_horizon_day_in_the_month() -> None:
    """A plan only in the next month: that month's options, this one free."""
    november = date(2025, 11, 3)
    options = step_options(KNOWN, [november], {}, NOW, 22.0)
    alone = step_options(
        KNOWN, [november], {}, datetime(2025, 11, 1, tzinfo=OSLO), 22.0
    )

    assert [option.extra_cost for option in options] == [
        option.extra_cost for option in alone
    ]
    assert [option.cap_kw(november) for option in options] == [
        option.max_kw for option in alone
    ]
    assert all(option.cap_kw(MONDAY) is None for option in options)


def test_steps_narrower_than_the_margin_are_skipped() -> None:
    rule = CapacityRule(
        steps=(
            CapacityStep(threshold_kw=0.0, monthly_cost=100.0),
            CapacityStep(threshold_kw=5.0, monthly_cost=200.0),
            CapacityStep(threshold_kw=5.0 + STEP_MARGIN_KW / 10, monthly_cost=300.0),
            CapacityStep(threshold_kw=10.0, monthly_cost=400.0),
        ),
        peaks=1,
    )

    options = step_options([], [MONDAY], {MONDAY: 1.0}, NOW, 12.0, rule)

    assert [option.extra_cost for option in options] == [0.0, 200.0, 300.0]
    assert options[0].max_kw == pytest.approx(5.0, abs=2 * STEP_MARGIN_KW)
    assert options[1].max_kw == pytest.approx(10.0, abs=2 * STEP_MARGIN_KW)


def test_norwegian_steps_are_the_default_rule() -> None:
    """Without a rule, Elvia's steps: 0–2 kW for 125 kr, 2–5 kW for 190 kr."""
    assert step_options([], [MONDAY], {MONDAY: 0.0}, NOW, 1.0) == (
        StepOption(extra_cost=0.0, max_kw=None),
    )

    options = step_options([], [MONDAY], {MONDAY: 0.0}, NOW, 3.0)

    assert options[0].max_kw == pytest.approx(
        NORWEGIAN_STEPS[1].threshold_kw, abs=2 * STEP_MARGIN_KW
    )
    assert options[1] == StepOption(extra_cost=250.0 - 150.0, max_kw=None)


def test_two_days_share_a_steps_room_unevenly() -> None:
    """
    An overnight plan may keep one day low so that the other goes higher.

    Three days count and two are the plan's: with 2.7 kW recorded, the 2–5
    step holds (a + b + 2.7) / 3 < 5: evenly 6.15 kW each, or Monday at its
    house peak (3 kW) and Tuesday up to 9.3 kW, or halfway. Each uneven
    share keeps the step, and a little more on either day leaves it.
    """
    house = {MONDAY: 3.0, TUESDAY: 3.0}
    days = [MONDAY, TUESDAY]
    base = step_cost([*KNOWN, *planned(days, 0.0, house)])
    options = step_options(KNOWN, days, house, NOW, 22.0)
    splits = [option for option in options if option.day_max_kw]
    # Two per day and step, up to the top step (no cap to share).
    assert len(splits) == 4 * 3
    tuesday_most = max(dict(option.day_max_kw)[TUESDAY] for option in splits[:4])
    assert tuesday_most == pytest.approx(3 * 5 - 2.7 - 3.0, abs=1e-5)
    for option in splits:
        caps = dict(option.day_max_kw)
        hours = [
            HourEnergy(start=datetime.combine(day, time(19), tzinfo=OSLO), kwh=kw)
            for day, kw in caps.items()
        ]
        assert step_cost([*KNOWN, *hours]) - base == option.extra_cost
        for day in days:
            more = [
                replace(hour, kwh=hour.kwh + 0.01) if hour.start.date() == day else hour
                for hour in hours
            ]
            assert step_cost([*KNOWN, *more]) - base > option.extra_cost
    # One day of a plan has nothing to share with.
    assert all(
        not option.day_max_kw
        for option in step_options(KNOWN, [MONDAY], house, NOW, 22.0)
    )


def test_no_uneven_share_before_the_month_fills_its_peaks() -> None:
    """With two other days counted of three, days to come could count: even only."""
    house = {MONDAY: 3.0, TUESDAY: 3.0}
    few = recorded({1: 2.7, 2: 2.7})
    options = step_options(few, [MONDAY, TUESDAY], house, NOW, 22.0)
    assert all(not option.day_max_kw for option in options)
