"""The capacity step as the grid company measures it: each clock hour's average.

Checked against the exact MILP reference, which models the hour's average
(``planner_reference``), and the hourly checker: a slot may go above the cap
when its hour stays under it on average.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
import math
import os
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings, strategies as st
import pytest

from custom_components.homecharge.logic.capacity_tariff import StepOption
from custom_components.homecharge.logic.grid import house_kw
from custom_components.homecharge.logic.place import GridType
from custom_components.homecharge.logic.planner.groups import whole_plan_value
from custom_components.homecharge.logic.planner.hours import (
    each_within_hour,
    per_slot_problem,
    plan_power_kw,
    share_hours,
)
from custom_components.homecharge.logic.planner.model import (
    CarNeed,
    PlanProblem,
)
from custom_components.homecharge.logic.planner.problem import (
    CarInput,
    NeedSource,
    build_problem,
    slot_hours,
)
from custom_components.homecharge.logic.planner.relax import better
from custom_components.homecharge.logic.planner.solve import plan_charging
from custom_components.homecharge.logic.slot_prices import SlotPrice

from .planner_reference import check_plan, solve_exact

OSLO = ZoneInfo("Europe/Oslo")
QUARTER = timedelta(minutes=15)
TN3 = 3 * 230 * 0.25 / 1000  # kWh per amp per slot, 3-phase
HOUSE_A = (1.0, 1.0, 1.0)


def slots_from(start: datetime, count: int) -> list[datetime]:
    """``count`` quarter-hour slot starts from ``start``."""
    return [start + n * QUARTER for n in range(count)]


def test_whole_hours_share_a_number_partial_ones_stand_alone() -> None:
    """A plan from 17:15 to 19:30: 17:xx and 19:xx are partial, 18:xx whole."""
    starts = slots_from(datetime(2025, 6, 2, 17, 15, tzinfo=OSLO), 9)
    assert slot_hours(starts, OSLO) == [0, 1, 2, 3, 3, 3, 3, 7, 8]


def test_a_plan_made_mid_slot_holds_its_first_hour_alone() -> None:
    """Begun at 18:05, the 18:00 hour's first minutes are not the plan's."""
    starts = slots_from(datetime(2025, 6, 2, 18, 0, tzinfo=OSLO), 8)
    assert slot_hours(starts, OSLO, first_share=2 / 3) == [0, 1, 2, 3, 4, 4, 4, 4]
    assert slot_hours(starts, OSLO) == [0, 0, 0, 0, 4, 4, 4, 4]


def test_the_autumn_nights_two_two_oclock_hours_are_two_hours() -> None:
    """Clock hours are the zone's: 02:00 CEST and 02:00 CET are not one hour."""
    start = datetime(2025, 10, 26, 0, 0, tzinfo=UTC)  # 02:00 CEST
    starts = slots_from(start, 8)
    assert slot_hours(starts, OSLO) == [0, 0, 0, 0, 4, 4, 4, 4]
    # Half-hour zones keep their own hours.
    india = ZoneInfo("Asia/Kolkata")
    starts = slots_from(datetime(2025, 6, 2, 18, 0, tzinfo=india), 4)
    assert slot_hours(starts, india) == [0, 0, 0, 0]


def one_car_problem(
    prices: list[float], house: list[float], *, max_a: int = 160, need: float = 10.0
) -> PlanProblem:
    """A 3-phase car in tenths of an ampere under a 5 kW step, hours whole."""
    return PlanProblem(
        prices=prices,
        headroom=[[250, 250, 250]] * len(prices),
        house_kw=house,
        cars=[
            CarNeed(
                key="car",
                lines=frozenset({0, 1, 2}),
                kwh_per_amp=TN3 / 10,
                max_a=max_a,
                min_a=60,
                need_kwh=need,
                ready=len(prices),
            )
        ],
        steps=(StepOption(extra_cost=0.0, max_kw=5.0),),
        amp_steps=10,
        slot_hours=[slot - slot % 4 for slot in range(len(prices))],
    )


def test_cheapest_first_up_to_what_the_cars_draw() -> None:
    """An hour's 4 × 4 kW: 11.04 kW (16 A) in the cheapest slot, the rest next."""
    problem = one_car_problem([0.3, 0.1, 0.2, 0.4], [1.0] * 4)
    room = share_hours(problem, [4.0] * 4)
    assert room[1] == pytest.approx(16 * 3 * 0.23)
    assert room[2] == pytest.approx(16.0 - 16 * 3 * 0.23)
    assert room[0] == room[3] == 0
    assert math.fsum(room) == pytest.approx(16.0)


def test_a_share_below_the_minimum_is_topped_up_from_the_slot_before() -> None:
    """12 kW-slots: 11.04 would leave 0.96 kW, under 6 A (4.14 kW): moved over."""
    problem = one_car_problem([0.3, 0.1, 0.2, 0.4], [2.0] * 4)
    room = share_hours(problem, [3.0] * 4)
    least = 6 * 3 * 0.23
    assert room[2] == pytest.approx(least)
    assert room[1] == pytest.approx(12.0 - least)
    assert math.fsum(room) == pytest.approx(12.0)


def test_levelled_evenly_and_a_house_peak_made_up() -> None:
    """The house above the cap in one slot takes room from the hour, not all."""
    problem = one_car_problem([0.1] * 4, [1.0, 7.0, 1.0, 1.0])
    slack = [4.0, -2.0, 4.0, 4.0]
    assert share_hours(problem, slack, level=True) == pytest.approx([2.5] * 4)
    # Each slot alone (the per-slot model) loses the peak's slot entirely.
    assert share_hours(replace(problem, slot_hours=()), slack) == [4.0, 0.0, 4.0, 4.0]
    # For a bound, any one slot may take the hour's whole room.
    relaxed = share_hours(problem, slack, relaxed=True)
    assert relaxed == pytest.approx([10.0] * 4)


def test_in_parts_each_at_least_a_cars_minimum() -> None:
    """
    Each quarter alone under the 6 A minimum (4.14 kW), the hour not.

    4 × 2.7 kW: two parts of 5.4 kW in the two cheapest quarters.
    """
    problem = one_car_problem([0.3, 0.1, 0.2, 0.4], [2.3] * 4)
    room = share_hours(problem, [2.7] * 4, chunks=True)
    assert room == pytest.approx([0.0, 5.4, 5.4, 0.0])
    # Evenly, no quarter could charge at all.
    assert max(share_hours(problem, [2.7] * 4, level=True)) < 6 * 3 * 0.23


def test_each_slot_under_the_cap_and_its_hour_too() -> None:
    """
    The per-slot plan's rooms: a house peak in one slot cuts the others.

    3.5 kW under the cap in three slots and 2.5 over it in the fourth leave
    the hour 8 kW-slots, not 10.5: each of the three gets 8/3.
    """
    problem = one_car_problem([0.1] * 4, [0.5, 0.5, 0.5, 6.5])
    room = each_within_hour(problem, [3.5, 3.5, 3.5, -2.5])
    assert room == pytest.approx([8 / 3, 8 / 3, 8 / 3, 0.0])
    # An hour with room to spare keeps each slot's own.
    assert each_within_hour(problem, [3.5, 1.0, 3.5, 0.5]) == [3.5, 1.0, 3.5, 0.5]


def test_around_a_plan_its_power_is_kept() -> None:
    """What a plan uses stays; the rest of the hour goes cheapest first."""
    problem = one_car_problem([0.3, 0.1, 0.2, 0.4], [1.0] * 4)
    room = share_hours(problem, [4.0] * 4, used_kw=[4.14, 0.0, 0.0, 4.14])
    assert room[0] == pytest.approx(4.14)
    assert room[3] == pytest.approx(4.14)
    assert room[1] == pytest.approx(16.0 - 8.28)
    # Shares over the hour's room (a relaxation's) are scaled down to it.
    room = share_hours(problem, [4.0] * 4, used_kw=[8.0] * 4)
    assert room == pytest.approx([4.0] * 4)


def test_a_share_becomes_a_per_slot_problem_of_the_same_hours() -> None:
    """The rooms turn into a house that leaves them under the cap."""
    problem = one_car_problem([0.3, 0.1, 0.2, 0.4], [1.0] * 4)
    option = problem.steps[0]
    single = per_slot_problem(problem, option, [0.0, 11.04, 4.96, 0.0])
    assert single.slot_hours == ()
    assert list(single.house_kw) == pytest.approx([5.0, 5.0 - 11.04, 0.04, 5.0])
    plan = plan_charging(single)
    assert check_plan(problem, replace(plan, step=0)) == []


def test_the_cheap_quarter_takes_the_hours_room() -> None:
    """
    One cheap quarter per hour: the plan charges above the cap there.

    The grid company bills each hour's average: the plan keeps every hour
    under 5 kW on average, costs less than with every slot under 5 kW, and
    is the exact optimum of the hourly model.
    """
    start = datetime(2025, 6, 2, 22, 0, tzinfo=OSLO)
    prices = [0.9, 0.2, 0.9, 0.9] * 4
    slots = [
        SlotPrice(start=moment, price=price, forecast=False)
        for moment, price in zip(slots_from(start, 16), prices, strict=True)
    ]
    problem = build_problem(
        prices=slots,
        house_a=[HOUSE_A] * 16,
        grid=GridType.THREE_PHASE_400_TN,
        fuse_a=25.0,
        margin_a=0.0,
        cars=[
            CarInput(
                key="cp1",
                name="Garage",
                lines=frozenset({0, 1, 2}),
                kwh_per_amp=TN3,
                max_a=16,
                need_kwh=8.0,
                need_source=NeedSource.DEFAULT,
                ready_by=start + 16 * QUARTER,
            )
        ],
        steps=(StepOption(extra_cost=0.0, max_kw=5.0),),
        price_cap=None,
        continuous=False,
        zone=OSLO,
    )
    assert list(problem.slot_hours) == [0] * 4 + [4] * 4 + [8] * 4 + [12] * 4
    plan = plan_charging(problem)
    assert check_plan(problem, plan) == []
    house = house_kw(GridType.THREE_PHASE_400_TN, HOUSE_A)
    power = plan_power_kw(problem, plan)
    assert max(power) > 5.0 - house + 1
    for hour in range(0, 16, 4):
        assert math.fsum(power[hour : hour + 4]) / 4 <= 5.0 - house + 1e-9
    per_slot = plan_charging(replace(problem, slot_hours=()))
    assert plan.cost < per_slot.cost
    best = solve_exact(problem)
    assert plan.cost == pytest.approx(best.cost, abs=1e-6)
    assert plan.lower_bound is not None
    assert plan.lower_bound <= best.cost + 1e-6


@st.composite
def hourly_problems(draw: st.DrawFn) -> PlanProblem:
    """Small places of 1-2 cars (3- and 1-phase) under a step, 2-3 hours."""
    hours = draw(st.integers(2, 3))
    slots = 4 * hours
    prices = draw(
        st.lists(
            st.sampled_from([0.1, 0.2, 0.3, 0.5, 0.8]), min_size=slots, max_size=slots
        )
    )
    house = draw(
        st.lists(
            st.sampled_from([0.5, 1.0, 2.5, 4.0, 6.5]), min_size=slots, max_size=slots
        )
    )
    kinds = draw(st.lists(st.sampled_from(["tn3", "tn1"]), min_size=1, max_size=2))
    cars = []
    for number, kind in enumerate(kinds):
        lines = frozenset({0, 1, 2}) if kind == "tn3" else frozenset({0})
        cars.append(
            CarNeed(
                key=f"car{number}",
                lines=lines,
                kwh_per_amp=(TN3 if kind == "tn3" else TN3 / 3),
                max_a=draw(st.sampled_from([10, 16])),
                min_a=6,
                need_kwh=draw(st.sampled_from([2.0, 5.0, 9.0])),
                ready=slots - draw(st.integers(0, 3)),
            )
        )
    fuse = draw(st.sampled_from([16, 25]))
    return PlanProblem(
        prices=prices,
        headroom=[[fuse - 2] * 3] * slots,
        house_kw=house,
        cars=cars,
        steps=(
            StepOption(extra_cost=0.0, max_kw=draw(st.sampled_from([4.0, 6.0]))),
            StepOption(extra_cost=1.0, max_kw=None),
        ),
        slot_hours=[slot - slot % 4 for slot in range(slots)],
    )


# Each example is checked against the exact reference: a few seconds at most.
HOURLY_SETTINGS = settings(
    max_examples=int(os.environ.get("HOMECHARGE_EXAMPLES", "40")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    database=None,
)


@HOURLY_SETTINGS
@given(problem=hourly_problems())
def test_hourly_plans_hold_the_hour_and_beat_the_slots(problem: PlanProblem) -> None:
    """
    Every plan keeps each hour's average under its step, is never worse than
    the per-slot model's plan where that keeps the hours too, and its
    certificate never claims more than the exact optimum of the hourly model.
    """
    plan = plan_charging(problem)
    assert check_plan(problem, plan) == []
    per_slot = plan_charging(replace(problem, slot_hours=()))
    if not check_plan(problem, per_slot):
        # (Where a house peak in one slot leaves its hour less room, a plan
        # of the per-slot model may break the hour: no comparison.)
        assert not better(whole_plan_value(per_slot), whole_plan_value(plan))
    best = solve_exact(problem, time_limit=20.0)
    assert math.fsum(plan.delivered_kwh.values()) <= best.delivered_total + 1e-6
    if plan.lower_bound is not None and best.proven:
        assert plan.lower_bound <= best.cost + 1e-6
    if plan.exact and best.proven:
        assert plan.cost == pytest.approx(best.cost, abs=1e-6)
