"""From cars, prices and the house forecast to a plan, and back to words."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
import math
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from custom_components.homecharge.logic.capacity_tariff import (
    NO_TARIFF,
    HourEnergy,
    StepOption,
    capacity_state,
    per_month,
)
from custom_components.homecharge.logic.grid import house_kw
from custom_components.homecharge.logic.grid_tariff import step_options
from custom_components.homecharge.logic.place import GridType
from custom_components.homecharge.logic.planner.hours import plan_power_kw
from custom_components.homecharge.logic.planner.model import Plan, PlanProblem
from custom_components.homecharge.logic.planner.problem import (
    CHARGE_EFFICIENCY,
    SLOT,
    CarInput,
    NeedSource,
    PlanStatus,
    SlotReason,
    build_problem,
    energy_need,
    explain,
    house_peaks_by_day,
    kwh_per_amp,
    ready_moment,
    slot_start,
    summarize,
    unplanned_status,
)
from custom_components.homecharge.logic.planner.solve import plan_charging
from custom_components.homecharge.logic.slot_prices import SlotPrice

from .planner_reference import check_plan, solve_exact

OSLO = ZoneInfo("Europe/Oslo")
QUARTER = timedelta(minutes=15)
T0 = datetime(2025, 6, 2, 22, 0, tzinfo=UTC)
# Energy per amp and slot of a 3-phase car on a 400 V TN grid: 3 × 230 V × ¼ h.
TN3 = 3 * 230 * 0.25 / 1000
SEVEN = time(7, 0)


def at(hour: int, minute: int = 0, *, day: int = 2, month: int = 6) -> datetime:
    """A local time in Oslo, June 2025 unless told (2 June is a Monday)."""
    return datetime(2025, month, day, hour, minute, tzinfo=OSLO)


# ready_moment


def test_ready_later_today() -> None:
    """Before the daily time: today at that time."""
    assert ready_moment(at(6, 0), SEVEN) == at(7, 0)
    assert ready_moment(at(6, 59), SEVEN) == at(7, 0)


def test_ready_tomorrow_once_past() -> None:
    """At or after the daily time: tomorrow's."""
    assert ready_moment(at(7, 0), SEVEN) == at(7, 0, day=3)
    assert ready_moment(at(8, 30), SEVEN) == at(7, 0, day=3)


def test_ready_after_midnight() -> None:
    """Plugged in at 18:00 with ready-by 07:00: the next morning, 13 hours on."""
    ready = ready_moment(at(18, 0), SEVEN)
    assert ready == at(7, 0, day=3)
    assert ready - at(18, 0) == timedelta(hours=13)


def test_ready_by_weekday_override() -> None:
    """A weekday's own time wins on that day; other days keep the daily time."""
    days = {"sat": time(10, 0)}
    friday, saturday, sunday = 6, 7, 8  # June 2025
    # Friday evening: Saturday at 10:00, not 07:00.
    assert ready_moment(at(20, 0, day=friday), SEVEN, days) == at(10, 0, day=saturday)
    # Saturday 08:00: still ahead at 10:00.
    assert ready_moment(at(8, 0, day=saturday), SEVEN, days) == at(10, 0, day=saturday)
    # Saturday 11:00: Sunday keeps the daily time.
    assert ready_moment(at(11, 0, day=saturday), SEVEN, days) == at(7, 0, day=sunday)
    # Friday morning: Friday's daily time.
    assert ready_moment(at(6, 0, day=friday), SEVEN, days) == at(7, 0, day=friday)
    # An override earlier than now on its day moves to the next day.
    early = {"mon": time(5, 0)}
    assert ready_moment(at(6, 0), SEVEN, early) == at(7, 0, day=3)
    assert ready_moment(at(6, 0), SEVEN, None) == ready_moment(at(6, 0), SEVEN, {})


def test_ready_by_once_while_ahead() -> None:
    """A one-off time wins while ahead, even later than the daily time."""
    once = at(9, 30, day=3)
    assert ready_moment(at(6, 0), SEVEN, once=once) == once
    # Given in another zone it is still the same moment.
    assert ready_moment(at(6, 0), SEVEN, once=once.astimezone(UTC)) == once


def test_ready_by_once_passed() -> None:
    """A one-off time now or past is ignored: the daily time again."""
    now = at(6, 0)
    assert ready_moment(now, SEVEN, once=now - timedelta(hours=1)) == at(7, 0)
    assert ready_moment(now, SEVEN, once=now) == at(7, 0)


@pytest.mark.parametrize(
    ("now", "ready", "hours"),
    [
        # Spring forward: the night has 23 hours.
        (at(18, 0, month=3, day=29), at(7, 0, month=3, day=30), 12),
        # Fall back: 25 hours.
        (at(18, 0, month=10, day=25), at(7, 0, month=10, day=26), 14),
    ],
)
def test_ready_across_a_dst_night(now: datetime, ready: datetime, hours: int) -> None:
    """07:00 local on the DST day, with that day's offset."""
    moment = ready_moment(now, SEVEN)
    assert moment == ready
    assert (moment.hour, moment.minute) == (7, 0)
    assert moment.utcoffset() == ready.utcoffset()
    assert moment.astimezone(UTC) - now.astimezone(UTC) == timedelta(hours=hours)


def test_ready_in_the_repeated_autumn_hour_is_ahead() -> None:
    """02:15 winter time (after 02:30 summer time has passed): tomorrow 02:30."""
    now = datetime(2025, 10, 26, 2, 15, fold=1, tzinfo=OSLO)
    moment = ready_moment(now, time(2, 30))
    assert moment.astimezone(UTC) > now.astimezone(UTC)


# energy_need


def need(**kwargs: Any) -> tuple[float, NeedSource]:
    """energy_need with nothing known unless told."""
    args: dict[str, Any] = {
        "soc": None,
        "battery_kwh": None,
        "target_soc": 80.0,
        "sessions_kwh": [],
        "delivered_kwh": 0.0,
        "default_kwh": 20.0,
    }
    return energy_need(**{**args, **kwargs})


def test_need_from_the_battery() -> None:
    """From 20 % to 80 % of 50 kWh: 30 kWh in the car, 30 / 0.9 from the grid."""
    assert CHARGE_EFFICIENCY == 0.9
    kwh, source = need(soc=20.0, battery_kwh=50.0, sessions_kwh=[5.0])
    assert source is NeedSource.BATTERY
    assert kwh == pytest.approx(30.0 / 0.9)
    # Delivered energy shows in the battery level; it is not taken off again.
    assert need(soc=20.0, battery_kwh=50.0, delivered_kwh=10.0)[0] == pytest.approx(
        30.0 / 0.9
    )
    # An empty battery is a battery level too.
    assert need(soc=0.0, battery_kwh=50.0)[0] == pytest.approx(40.0 / 0.9)


@pytest.mark.parametrize("soc", [80.0, 95.0, 100.0])
def test_need_when_the_battery_is_at_target(soc: float) -> None:
    """At or above the target nothing is needed."""
    assert need(soc=soc, battery_kwh=50.0) == (0.0, NeedSource.BATTERY)


@pytest.mark.parametrize(("soc", "battery"), [(None, 50.0), (40.0, None), (40.0, 0.0)])
def test_need_without_battery_level_and_size(
    soc: float | None, battery: float | None
) -> None:
    """The level needs the size and the other way round: else the default."""
    assert need(soc=soc, battery_kwh=battery) == (20.0, NeedSource.DEFAULT)


def test_need_as_usual() -> None:
    """The median of the recent sessions, less what this session delivered."""
    kwh, source = need(sessions_kwh=[10.0, 30.0, 12.0], delivered_kwh=2.0)
    assert source is NeedSource.USUAL
    assert kwh == pytest.approx(10.0)
    # An even count: the mean of the middle two.
    assert need(sessions_kwh=[10.0, 20.0])[0] == pytest.approx(15.0)


def test_need_as_usual_from_the_last_14_sessions() -> None:
    """Older sessions do not count; sessions without energy are left out."""
    sessions = [100.0] * 6 + [8.0] * 7 + [12.0] * 7
    assert need(sessions_kwh=sessions)[0] == pytest.approx(10.0)
    assert need(sessions_kwh=[0.0, -3.0, 8.0, 12.0])[0] == pytest.approx(10.0)


def test_need_as_usual_never_negative() -> None:
    """A session that already took more than usual needs nothing."""
    assert need(sessions_kwh=[10.0], delivered_kwh=14.0) == (0.0, NeedSource.USUAL)


def test_need_by_default() -> None:
    """No battery level, no past sessions with energy: the default, less delivered."""
    assert need(sessions_kwh=[0.0]) == (20.0, NeedSource.DEFAULT)
    kwh, source = need(delivered_kwh=6.5)
    assert source is NeedSource.DEFAULT
    assert kwh == pytest.approx(13.5)
    assert need(delivered_kwh=25.0) == (0.0, NeedSource.DEFAULT)


# kwh_per_amp, house_kw, slot_start


@pytest.mark.parametrize(
    ("grid", "lines", "kwh"),
    [
        (GridType.THREE_PHASE_400_TN, {0, 1, 2}, 3 * 230 * 0.25 / 1000),
        (GridType.THREE_PHASE_400_TN, {1}, 230 * 0.25 / 1000),
        # Line to line 230 V: √3 × 230 V per amp on three lines.
        (GridType.THREE_PHASE_230_IT, {0, 1, 2}, math.sqrt(3) * 230 * 0.25 / 1000),
        # A one-phase charger between two lines.
        (GridType.THREE_PHASE_230_IT, {2, 0}, 230 * 0.25 / 1000),
        (GridType.ONE_PHASE_230, {0}, 230 * 0.25 / 1000),
    ],
)
def test_kwh_per_amp(grid: GridType, lines: set[int], kwh: float) -> None:
    """Energy of one amp for one 15-minute slot."""
    assert kwh_per_amp(grid, frozenset(lines)) == pytest.approx(kwh)


@pytest.mark.parametrize(
    ("grid", "amps", "kw"),
    [
        (GridType.THREE_PHASE_400_TN, (10.0, 20.0, 30.0), 60 * 230 / 1000),
        # Balanced IT: √3 × 230 V × 10 A.
        (GridType.THREE_PHASE_230_IT, (10.0, 10.0, 10.0), math.sqrt(3) * 2.3),
        # One phase: L1 only, whatever else is given.
        (GridType.ONE_PHASE_230, (10.0, 99.0, 99.0), 2.3),
        (GridType.THREE_PHASE_400_TN, (0.0, 0.0, 0.0), 0.0),
    ],
)
def test_house_kw(grid: GridType, amps: tuple[float, ...], kw: float) -> None:
    """The house's power from its currents."""
    assert house_kw(grid, amps) == pytest.approx(kw)


def test_house_peaks_by_day() -> None:
    """Each local day's highest slot, as the capacity tariff starts from."""
    monday, tuesday = date(2026, 12, 7), date(2026, 12, 8)
    peaks = house_peaks_by_day(
        GridType.THREE_PHASE_400_TN,
        [
            (monday, (10.0, 10.0, 10.0)),
            (monday, (20.0, 10.0, 0.0)),
            (tuesday, (1.0, 1.0, 1.0)),
        ],
    )
    assert peaks == pytest.approx({monday: 6.9, tuesday: 0.69})


@pytest.mark.parametrize(
    ("moment", "start"),
    [
        (
            datetime(2025, 6, 2, 12, 7, 33, 123, tzinfo=UTC),
            datetime(2025, 6, 2, 12, 0, tzinfo=UTC),
        ),
        (
            datetime(2025, 6, 2, 12, 15, tzinfo=UTC),
            datetime(2025, 6, 2, 12, 15, tzinfo=UTC),
        ),
        (
            datetime(2025, 6, 2, 12, 59, 59, tzinfo=UTC),
            datetime(2025, 6, 2, 12, 45, tzinfo=UTC),
        ),
        (at(0, 44), at(0, 30)),
    ],
)
def test_slot_start(moment: datetime, start: datetime) -> None:
    """The start of the quarter-hour, in the moment's own zone."""
    result = slot_start(moment)
    assert result == start
    assert result.tzinfo is moment.tzinfo


# build_problem


def price_slots(
    prices: Sequence[float], start: datetime = T0, forecast: bool = False
) -> list[SlotPrice]:
    """Consecutive 15-minute slots from ``start``."""
    return [
        SlotPrice(start=start + n * QUARTER, price=price, forecast=forecast)
        for n, price in enumerate(prices)
    ]


def car(
    ready: int | datetime = 4,
    *,
    key: str = "cp1",
    name: str = "Garage",
    need_kwh: float = 5.0,
    max_a: float = 16,
    lines: frozenset[int] = frozenset({0, 1, 2}),
    kwh: float = TN3,
) -> CarInput:
    """A car ready ``ready`` slots after T0 (or at a moment)."""
    return CarInput(
        key=key,
        name=name,
        lines=lines,
        kwh_per_amp=kwh,
        max_a=max_a,
        need_kwh=need_kwh,
        need_source=NeedSource.DEFAULT,
        ready_by=ready if isinstance(ready, datetime) else T0 + ready * QUARTER,
    )


def problem_for(
    prices: list[SlotPrice],
    cars: list[CarInput],
    *,
    house: Sequence[Sequence[float]] | None = None,
    grid: GridType = GridType.THREE_PHASE_400_TN,
    fuse: float = 25.0,
    margin: float = 0.0,
    price_cap: float | None = None,
    continuous: bool = False,
) -> PlanProblem:
    """The problem; the house draws nothing unless told."""
    return build_problem(
        prices=prices,
        house_a=house if house is not None else [(0.0, 0.0, 0.0)] * len(prices),
        grid=grid,
        fuse_a=fuse,
        margin_a=margin,
        cars=cars,
        steps=NO_TARIFF,
        price_cap=price_cap,
        continuous=continuous,
    )


@pytest.mark.parametrize(
    ("ready_by", "ready"),
    [
        (T0 + timedelta(minutes=65), 4),
        (T0 + timedelta(minutes=60), 4),
        (T0 + timedelta(minutes=59), 3),
        (T0 + timedelta(minutes=14), 0),
        (T0 - timedelta(hours=1), 0),
        (T0 + timedelta(days=3), 8),
        # Local time: 01:00 in Oslo (summer) is 23:00 UTC.
        (at(1, 0, day=3), 4),
    ],
)
def test_ready_index(ready_by: datetime, ready: int) -> None:
    """Whole slots before the ready-by, within the horizon."""
    problem = problem_for(price_slots([1.0] * 8), [car(ready_by)])
    assert problem.cars[0].ready == ready


def test_problem_carries_the_cars_and_settings() -> None:
    """Prices, car figures, steps, price cap and continuity go to the planner."""
    steps = (
        StepOption(extra_cost=0.0, max_kw=5.0),
        StepOption(extra_cost=100.0, max_kw=None),
    )
    cars = [
        car(key="a", need_kwh=7.5, max_a=20),
        car(key="b", lines=frozenset({1}), kwh=0.0575, need_kwh=3.0, max_a=10),
    ]
    problem = build_problem(
        prices=price_slots([0.3, -0.1, 2.0]),
        house_a=[(0.0, 0.0, 0.0)] * 3,
        grid=GridType.THREE_PHASE_400_TN,
        fuse_a=25.0,
        margin_a=0.0,
        cars=cars,
        steps=steps,
        price_cap=1.5,
        continuous=True,
    )
    assert list(problem.prices) == [0.3, -0.1, 2.0]
    assert problem.steps == steps
    assert problem.price_cap == 1.5
    assert problem.continuous is True
    # In tenths of an ampere: energy per tenth, maximum and minimum in tenths.
    assert [
        (need.key, need.lines, need.kwh_per_amp, need.max_a, need.min_a, need.need_kwh)
        for need in problem.cars
    ] == [
        ("a", frozenset({0, 1, 2}), pytest.approx(TN3 / 10), 200, 60, 7.5),
        ("b", frozenset({1}), pytest.approx(0.00575), 100, 60, 3.0),
    ]
    assert problem.amp_steps == 10


def test_maximum_in_tenths_rounded_down() -> None:
    """A charger's 15.97 A limit is planned as 15.9 A at most."""
    problem = problem_for(price_slots([1.0]), [car(max_a=15.97)])
    assert problem.cars[0].max_a == 159


def test_connectors_on_one_circuit_are_planned_within_its_fuse() -> None:
    """A twin charger's two cars share its 32 A circuit in every slot.

    The main fuse (63 A) would let each take 32 A; the cheapest slot is
    shared, the rest goes to the next cheapest, and no slot's sum passes 32 A.
    """
    twin = {"circuit": "twin", "circuit_a": 32.0}
    cars = [
        replace(car(key=key, need_kwh=8.0, max_a=32), **twin)  # type: ignore[arg-type]
        for key in ("left", "right")
    ]
    problem = problem_for(price_slots([0.5, 0.1, 0.9, 0.2, 0.8, 0.3]), cars, fuse=63.0)
    assert [row[3] for row in problem.headroom] == [320] * 6
    plan = plan_charging(problem)
    for slot in range(6):
        assert plan.currents["left"][slot] + plan.currents["right"][slot] <= 32
    for key in ("left", "right"):
        assert plan.delivered_kwh[key] >= 8.0
    # Without the shared circuit both would take 32 A in the cheapest slots.
    alone = plan_charging(
        problem_for(price_slots([0.5, 0.1, 0.9, 0.2, 0.8, 0.3]), cars[:1], fuse=63.0)
    )
    assert max(alone.currents["left"]) == 32


def overnight_plan(
    prices: list[SlotPrice], steps: Sequence[StepOption]
) -> tuple[PlanProblem, Plan]:
    """A 20 kWh, 32 A car over ``prices`` (Oslo days), a 1 A house, 63 A fuse."""
    problem = build_problem(
        prices=prices,
        house_a=[(1.0, 1.0, 1.0)] * len(prices),
        grid=GridType.THREE_PHASE_400_TN,
        fuse_a=63.0,
        margin_a=0.0,
        cars=[car(prices[-1].start + QUARTER, need_kwh=20.0, max_a=32)],
        steps=steps,
        price_cap=None,
        continuous=False,
        zone=OSLO,
    )
    return problem, plan_charging(problem)


def test_a_day_that_peaked_anyway_may_charge_up_to_its_peak() -> None:
    """Today's 8 kW hour counts already: today the cars may take 8 kW, not 5.

    The step's 5 kW holds for tomorrow; the plan uses today's room, the exact
    reference agrees, and it costs no more than with one cap for both days.
    """
    start = datetime(2025, 6, 2, 21, 0, tzinfo=OSLO)
    # 21:00–23:00 today (cheap), then 00:00–02:00 tomorrow (dearer).
    prices = price_slots([0.1] * 12 + [0.5] * 8, start=start.astimezone(UTC))
    today, tomorrow = start.date(), start.date() + timedelta(days=1)
    one_cap = StepOption(extra_cost=0.0, max_kw=5.0)
    day_caps = replace(one_cap, day_max_kw=((today, 8.0),))
    top = StepOption(extra_cost=1000.0, max_kw=None)

    def plan_for(option: StepOption) -> tuple[PlanProblem, Plan]:
        return overnight_plan(prices, (option, top))

    problem, plan = plan_for(day_caps)
    assert problem.slot_days[0] == today
    assert problem.slot_days[-1] == tomorrow
    assert plan.step == 0
    assert check_plan(problem, plan) == []
    power = [amps * TN3 * 4 for amps in plan.currents["cp1"]]
    house = house_kw(GridType.THREE_PHASE_400_TN, (1.0, 1.0, 1.0))
    # The grid company measures each clock hour's average.
    hours = [sum(power[slot : slot + 4]) / 4 for slot in range(0, 20, 4)]
    assert max(hours[:3]) > 5.0 - house
    assert all(kw <= 8.0 - house + 1e-6 for kw in hours[:3])
    assert all(kw <= 5.0 - house + 1e-6 for kw in hours[3:])
    assert plan.cost == pytest.approx(solve_exact(problem).cost, abs=1e-6)
    assert plan.cost < plan_for(one_cap)[1].cost


def test_a_plan_over_the_month_end_keeps_each_months_step() -> None:
    """October's evening under October's cap, November's night under its own.

    The night is cheaper: the plan fills it up to November's 5 kW, not to
    October's 8 kW, and buys the rest in October; the exact reference agrees.
    """
    start = datetime(2025, 10, 31, 21, 0, tzinfo=OSLO)
    prices = price_slots([0.5] * 12 + [0.1] * 8, start=start.astimezone(UTC))
    october, november = start.date(), date(2025, 11, 1)
    top = StepOption(extra_cost=1000.0, max_kw=None)
    options = per_month(
        (StepOption(extra_cost=0.0, max_kw=8.0), top),
        (StepOption(extra_cost=0.0, max_kw=5.0), top),
        [november],
    )
    problem, plan = overnight_plan(prices, options)

    assert problem.slot_days[0] == october
    assert problem.slot_days[-1] == november
    assert plan.step == 0
    assert check_plan(problem, plan) == []
    power = [amps * TN3 * 4 for amps in plan.currents["cp1"]]
    house = house_kw(GridType.THREE_PHASE_400_TN, (1.0, 1.0, 1.0))
    # Each clock hour's average, as the grid company measures it.
    hours = [sum(power[slot : slot + 4]) / 4 for slot in range(0, 20, 4)]
    assert all(kw <= 8.0 - house + 1e-6 for kw in hours[:3])
    assert all(kw <= 5.0 - house + 1e-6 for kw in hours[3:])
    assert min(hours[3:]) > 5.0 - house - 0.1
    assert plan.delivered_kwh["cp1"] >= 20.0
    assert plan.cost == pytest.approx(solve_exact(problem).cost, abs=1e-6)


def test_headroom_per_line_and_slot() -> None:
    """Fuse less margin less the house, rounded down; negative when overloaded."""
    house = [(10.2, 3.0, 24.0), (0.0, 0.0, 0.0), (30.0, 1.0, 0.5)]
    problem = problem_for(
        price_slots([1.0] * 3), [car()], house=house, fuse=25.0, margin=1.5
    )
    # In tenths; 25 − 1.5 − 24 = −0.5: −5.
    assert [list(row) for row in problem.headroom] == [
        [133, 205, -5],
        [235, 235, 235],
        [-65, 225, 230],
    ]
    assert list(problem.house_kw) == pytest.approx([37.2 * 0.23, 0.0, 31.5 * 0.23])


def test_one_phase_grid_has_no_other_lines() -> None:
    """Lines a one-phase grid lacks have no headroom; L1 alone is the house."""
    house = [(4.0, 9.0, 9.0), (12.6, 0.0, 0.0)]
    problem = problem_for(
        price_slots([1.0] * 2),
        [car(lines=frozenset({0}), kwh=0.0575)],
        house=house,
        grid=GridType.ONE_PHASE_230,
        fuse=32.0,
    )
    assert [list(row) for row in problem.headroom] == [[280, 0, 0], [194, 0, 0]]
    assert list(problem.house_kw) == pytest.approx([0.92, 12.6 * 0.23])


def test_no_prices_no_slots() -> None:
    """Without slots the cars cannot be charged (ready at slot 0)."""
    problem = problem_for([], [car(), car(key="b")])
    assert list(problem.prices) == []
    assert list(problem.headroom) == []
    assert [need.ready for need in problem.cars] == [0, 0]


# summarize


def amps_of(plan: Plan, key: str = "cp1") -> tuple[int, ...]:
    """A car's planned amps per slot."""
    return plan.currents[key]


def test_summary_from_the_plans_currents() -> None:
    """Start, end, energy and cost follow from the amps per slot."""
    prices = price_slots([1.0, 2.0, 3.0, 4.0, 5.0])
    cars = [car(ready=5, need_kwh=1.6, kwh=0.1)]
    problem = problem_for(prices, cars)
    plan = Plan(
        currents={"cp1": (0, 10, 0, 6, 0)},
        delivered_kwh={"cp1": 1.6},
        energy_cost=4.4,
        step=0,
        step_cost=0.0,
    )
    summary = summarize(problem, plan, prices, cars)["cp1"]
    assert summary.status is PlanStatus.WAITING
    assert summary.start == T0 + QUARTER
    assert summary.end == T0 + 4 * QUARTER
    assert summary.energy_kwh == pytest.approx(1.6)
    # 2.0 × 10 A × 0.1 kWh + 4.0 × 6 A × 0.1 kWh.
    assert summary.cost == pytest.approx(4.4)
    assert summary.amps_now == 0
    assert summary.need_kwh == 1.6
    assert summary.ready_by == T0 + 5 * QUARTER
    assert summary.need_source is NeedSource.DEFAULT


def test_summary_of_a_planned_run_matches_its_slots() -> None:
    """With the planner: the figures agree with the amps it planned."""
    prices = price_slots([0.9, 0.4, 0.1, 0.2, 0.3, 1.2, 0.05])
    cars = [car(ready=6, need_kwh=12.0)]
    problem = problem_for(prices, cars)
    plan = plan_charging(problem)
    amps = amps_of(plan)
    used = [slot for slot, value in enumerate(amps) if value]
    assert used, amps
    summary = summarize(problem, plan, prices, cars)["cp1"]
    assert summary.start == prices[used[0]].start
    assert summary.end == prices[used[-1]].start + QUARTER
    assert summary.energy_kwh == pytest.approx(sum(amps) * TN3)
    assert summary.cost == pytest.approx(
        sum(prices[slot].price * amps[slot] * TN3 for slot in used)
    )
    assert summary.energy_kwh >= 12.0
    # Not after the ready-by, however cheap.
    assert amps[6] == 0


@pytest.mark.parametrize(
    "need_kwh",
    [
        0.0,
        0.05,
        0.1,
    ],
)
def test_summary_done(need_kwh: float) -> None:
    """Nothing (or at most 0.1 kWh) left to charge: done, and not charged."""
    prices = price_slots([1.0] * 4)
    cars = [car(need_kwh=need_kwh)]
    problem = problem_for(prices, cars)
    plan = plan_charging(problem)
    summary = summarize(problem, plan, prices, cars)["cp1"]
    assert summary.status is PlanStatus.DONE
    assert not summary.amps_now
    assert summary.start is None
    assert summary.end is None


@pytest.mark.parametrize("need_kwh", [0.05, 0.1])
def test_summary_done_whatever_the_plan(need_kwh: float) -> None:
    """Within 0.1 kWh of the need the status is done."""
    prices = price_slots([1.0] * 4)
    cars = [car(need_kwh=need_kwh)]
    problem = problem_for(prices, cars)
    plan = plan_charging(problem)
    assert summarize(problem, plan, prices, cars)["cp1"].status is PlanStatus.DONE
    # Just above: no longer done.
    cars = [car(need_kwh=0.11)]
    problem = problem_for(prices, cars)
    plan = plan_charging(problem)
    assert summarize(problem, plan, prices, cars)["cp1"].status is not (PlanStatus.DONE)


def test_summary_cannot_finish_on_a_small_fuse() -> None:
    """5 A of headroom is under the 6 A minimum: nothing can be planned."""
    prices = price_slots([1.0] * 8)
    cars = [car(ready=8, need_kwh=2.0)]
    problem = problem_for(prices, cars, fuse=5.0)
    plan = plan_charging(problem)
    summary = summarize(problem, plan, prices, cars)["cp1"]
    assert summary.status is PlanStatus.CANNOT_FINISH
    assert summary.energy_kwh == 0.0
    assert summary.start is None
    assert summary.amps_now == 0


def test_summary_cannot_finish_when_ready_too_soon() -> None:
    """Two slots at 16 A hold 5.5 kWh: 20 kWh cannot be ready; both slots go."""
    prices = price_slots([1.0, 0.5, 0.1, 0.1])
    cars = [car(ready=2, need_kwh=20.0)]
    problem = problem_for(prices, cars)
    plan = plan_charging(problem)
    summary = summarize(problem, plan, prices, cars)["cp1"]
    assert summary.status is PlanStatus.CANNOT_FINISH
    assert amps_of(plan) == (16, 16, 0, 0)
    assert summary.energy_kwh == pytest.approx(32 * TN3)
    assert summary.amps_now == 16


def test_summary_charging_when_the_slot_now_is_used() -> None:
    """The cheapest slot is now: charging, with its amps."""
    prices = price_slots([0.1, 1.0, 1.0, 1.0])
    cars = [car(need_kwh=2.0)]
    problem = problem_for(prices, cars)
    plan = plan_charging(problem)
    summary = summarize(problem, plan, prices, cars)["cp1"]
    assert summary.status is PlanStatus.CHARGING
    assert summary.amps_now == amps_of(plan)[0]
    assert summary.amps_now >= 6
    assert summary.start == T0


def test_summary_waiting_for_a_cheaper_slot() -> None:
    """The cheap slot comes later: waiting, at 0 A now."""
    prices = price_slots([1.0, 1.0, 0.1, 1.0])
    cars = [car(need_kwh=2.0)]
    problem = problem_for(prices, cars)
    plan = plan_charging(problem)
    summary = summarize(problem, plan, prices, cars)["cp1"]
    assert summary.status is PlanStatus.WAITING
    assert summary.amps_now == 0
    assert summary.start == T0 + 2 * QUARTER
    assert summary.end == T0 + 3 * QUARTER


def test_summary_a_little_short_is_not_cannot_finish() -> None:
    """Within 0.1 kWh of the need (meter rounding) the plan finishes."""
    prices = price_slots([1.0, 1.0])
    cars = [car(ready=2, need_kwh=1.05, kwh=0.1)]
    problem = problem_for(prices, cars)
    short = Plan(
        currents={"cp1": (10, 0)},
        delivered_kwh={"cp1": 1.0},
        energy_cost=1.0,
        step=0,
        step_cost=0.0,
    )
    assert summarize(problem, short, prices, cars)["cp1"].status is (
        PlanStatus.CHARGING
    )
    shorter = Plan(
        currents={"cp1": (8, 0)},
        delivered_kwh={"cp1": 0.8},
        energy_cost=0.8,
        step=0,
        step_cost=0.0,
    )
    assert summarize(problem, shorter, prices, cars)["cp1"].status is (
        PlanStatus.CANNOT_FINISH
    )


def test_summary_of_a_car_the_plan_lacks() -> None:
    """No amps for a car: nothing planned, it cannot finish."""
    prices = price_slots([1.0, 1.0])
    cars = [car(ready=2)]
    problem = problem_for(prices, cars)
    empty = Plan(currents={}, delivered_kwh={}, energy_cost=0.0, step=0, step_cost=0.0)
    summary = summarize(problem, empty, prices, cars)["cp1"]
    assert summary.status is PlanStatus.CANNOT_FINISH
    assert (summary.energy_kwh, summary.cost, summary.amps_now) == (0.0, 0.0, 0)
    assert summary.start is None


# explain


def reasons(rows: list[dict[str, Any]]) -> list[str]:
    """The reason of every slot."""
    return [row["reason"] for row in rows]


def test_explain_cheap_not_needed_and_after_ready_by() -> None:
    """Used slots are cheap; others before the ready-by were not needed."""
    prices = price_slots([0.5, 0.1, 0.2, 0.9, 0.3, 0.05], forecast=False)
    # Two slots at 16 A exactly.
    cars = [car(ready=5, need_kwh=32 * TN3)]
    problem = problem_for(prices, cars)
    plan = plan_charging(problem)
    assert amps_of(plan) == (0, 16, 16, 0, 0, 0)
    rows = explain(problem, plan, prices, cars)
    assert reasons(rows) == [
        SlotReason.NOT_NEEDED,
        SlotReason.CHEAP,
        SlotReason.CHEAP,
        SlotReason.NOT_NEEDED,
        SlotReason.NOT_NEEDED,
        SlotReason.AFTER_READY_BY,
    ]
    assert reasons(rows)[1] == "cheap"
    assert rows[1] == {
        "start": (T0 + QUARTER).isoformat(),
        "price": 0.1,
        "forecast": False,
        "currents": {"Garage": 16},
        "energy_kwh": round(16 * TN3, 3),
        "cost": round(16 * TN3 * 0.1, 4),
        "reason": "cheap",
    }
    assert rows[0]["currents"] == {"Garage": 0}
    assert rows[0]["energy_kwh"] == 0.0
    assert rows[0]["cost"] == 0.0


def test_explain_price_cap() -> None:
    """Slots above the cap are unused for that reason; cheaper ones not needed."""
    prices = price_slots([0.5, 0.1, 0.2, 0.9, 0.3, 0.05])
    cars = [car(ready=5, need_kwh=32 * TN3)]
    problem = problem_for(prices, cars, price_cap=0.4)
    plan = plan_charging(problem)
    assert reasons(explain(problem, plan, prices, cars)) == [
        "price_cap",
        "cheap",
        "cheap",
        "price_cap",
        "not_needed",
        "after_ready_by",
    ]


def test_explain_cheaper_slots_full() -> None:
    """The cheapest slot has 3 A left beside the house: dearer ones take over."""
    prices = price_slots([0.5, 0.1, 0.2, 0.9, 0.3])
    cars = [car(ready=5, need_kwh=32 * TN3)]
    house = [(0.0, 0.0, 0.0)] * 5
    house[1] = (22.0, 22.0, 22.0)
    problem = problem_for(prices, cars, house=house)
    assert list(problem.headroom[1]) == [30, 30, 30]
    plan = plan_charging(problem)
    assert amps_of(plan) == (0, 0, 16, 0, 16)
    found = reasons(explain(problem, plan, prices, cars))
    # (The full slot's own reason is left open here.)
    assert [found[0], found[2], found[3], found[4]] == [
        "not_needed",
        "cheaper_slots_full",
        "not_needed",
        "cheaper_slots_full",
    ]
    # With a price cap the full slot still counts as the cheaper one.
    capped = problem_for(prices, cars, house=house, price_cap=0.35)
    plan = plan_charging(capped)
    found = reasons(explain(capped, plan, prices, cars))
    assert [found[0], found[2], found[3], found[4]] == [
        "price_cap",
        "cheaper_slots_full",
        "price_cap",
        "cheaper_slots_full",
    ]


def test_explain_several_cars() -> None:
    """Currents per charger; energy and cost of all; ready-by of the latest car."""
    prices = price_slots([0.2, 0.1, 0.3, 0.4], forecast=True)
    one = car(ready=2, key="a", name="Garage", need_kwh=6 * TN3)
    other = car(
        ready=3,
        key="b",
        name="Carport",
        lines=frozenset({0}),
        kwh=0.0575,
        need_kwh=8 * 0.0575,
    )
    cars = [one, other]
    problem = problem_for(prices, cars)
    plan = Plan(
        currents={"a": (0, 6, 0, 0), "b": (0, 8, 0, 0)},
        delivered_kwh={},
        energy_cost=0.0,
        step=0,
        step_cost=0.0,
    )
    rows = explain(problem, plan, prices, cars)
    assert rows[1]["currents"] == {"Garage": 6, "Carport": 8}
    energy = 6 * TN3 + 8 * 0.0575
    assert rows[1]["energy_kwh"] == pytest.approx(round(energy, 3))
    assert rows[1]["cost"] == pytest.approx(round(energy * 0.1, 4))
    assert all(row["forecast"] is True for row in rows)
    # Slot 2 is past "a"'s ready-by but not "b"'s.
    assert reasons(rows) == ["not_needed", "cheap", "not_needed", "after_ready_by"]


def test_explain_a_car_the_plan_lacks() -> None:
    """A car without amps shows 0 A in every slot."""
    prices = price_slots([0.2, 0.1])
    cars = [car(ready=2)]
    problem = problem_for(prices, cars)
    empty = Plan(currents={}, delivered_kwh={}, energy_cost=0.0, step=0, step_cost=0.0)
    rows = explain(problem, empty, prices, cars)
    assert [row["currents"] for row in rows] == [{"Garage": 0}, {"Garage": 0}]
    assert reasons(rows) == ["not_needed", "not_needed"]


def test_explain_rounds_prices() -> None:
    """Prices to 5 decimals, energy to 3, cost to 4."""
    prices = price_slots([0.123456789])
    cars = [car(ready=1, need_kwh=7 * 0.1, kwh=0.1)]
    problem = problem_for(prices, cars)
    plan = Plan(
        currents={"cp1": (7,)},
        delivered_kwh={"cp1": 0.7},
        energy_cost=0.0,
        step=0,
        step_cost=0.0,
    )
    (row,) = explain(problem, plan, prices, cars)
    assert row["price"] == 0.12346
    assert row["energy_kwh"] == 0.7
    assert row["cost"] == 0.0864
    assert row["start"] == "2025-06-02T22:00:00+00:00"


def test_slot_is_a_quarter() -> None:
    """The plan's grid is 15 minutes."""
    assert timedelta(minutes=15) == SLOT


def test_unplanned_status() -> None:
    """A charger without a plan: no car, charging now, or done."""
    assert unplanned_status(plugged_in=False, smart_charging=True) is PlanStatus.NO_CAR
    assert (
        unplanned_status(plugged_in=True, smart_charging=False) is PlanStatus.CHARGE_NOW
    )
    assert unplanned_status(plugged_in=True, smart_charging=True) is PlanStatus.DONE


def test_an_overnight_plan_keeps_the_dear_evening_low_for_the_night() -> None:
    """
    The two days of a night share the step's room unevenly when that pays.

    Three days count; three are already at 4 kW this month. The evening
    (dear) and the night (cheap) are two days: evenly each may peak at 5.5
    kW and stay under 5 kW on average, but the evening kept at the house's
    own peak lets the night take up to 7 kW. The plan does, pays less than
    with the even share, and the month's step is the one it chose.
    """
    start = datetime(2025, 6, 10, 21, 0, tzinfo=OSLO)
    # 21:00–24:00 dear, 00:00–04:00 cheap: 4 h at the even share's 4.8 kW is
    # not quite the car's 20 kWh.
    prices = price_slots([0.9] * 12 + [0.1] * 16, start=start.astimezone(UTC))
    today, tomorrow = start.date(), start.date() + timedelta(days=1)
    known = [
        HourEnergy(start=datetime(2025, 6, day, 18, tzinfo=OSLO), kwh=4.0)
        for day in (1, 2, 3)
    ]
    house = house_kw(GridType.THREE_PHASE_400_TN, (1.0, 1.0, 1.0))
    peaks = {today: house, tomorrow: house}
    options = step_options(known, [today, tomorrow], peaks, start, 43.0)
    even = tuple(option for option in options if not option.day_max_kw)

    problem, plan = overnight_plan(prices, options)
    _, even_plan = overnight_plan(prices, even)
    assert check_plan(problem, plan) == []
    assert plan.step_cost == even_plan.step_cost == 0.0
    assert plan.cost < even_plan.cost
    assert dict(problem.steps[plan.step].day_max_kw)[tomorrow] > (even[0].max_kw or 0.0)
    # The month's step from the plan's hours, as the grid company counts.
    power = plan_power_kw(problem, plan)
    hours = [
        HourEnergy(
            start=prices[slot].start,
            kwh=house + math.fsum(power[slot : slot + 4]) / 4,
        )
        for slot in range(0, len(prices), 4)
    ]
    month = capacity_state([*known, *hours], start)
    assert month.step == capacity_state(known, start).step
