"""The polish of a plan of several groups: shifts and exchanges in the hourly model.

Checked against the exact reference (HiGHS, ``planner_reference``) and its
plan checker, which the polish does not use.
"""

from __future__ import annotations

from dataclasses import replace
import math

from hypothesis import given
import pytest

from custom_components.homecharge.logic.capacity_tariff import StepOption
from custom_components.homecharge.logic.planner.groups import assemble_plan
from custom_components.homecharge.logic.planner.model import CarNeed, PlanProblem
from custom_components.homecharge.logic.planner.polish import polish
from custom_components.homecharge.logic.planner.solve import plan_charging

from .planner_reference import check_plan, delivered, solve_exact
from .test_planner_hours import HOURLY_SETTINGS, hourly_problems

TN3 = 3 * 230 * 0.25 / 1000  # kWh per amp per slot, 3-phase
THREE_PHASE = CarNeed(
    key="three",
    lines=frozenset({0, 1, 2}),
    kwh_per_amp=TN3,
    max_a=16,
    need_kwh=16 * TN3,
    ready=2,
)
ONE_PHASE = CarNeed(
    key="one",
    lines=frozenset({0}),
    kwh_per_amp=TN3 / 3,
    max_a=16,
    need_kwh=16 * TN3 / 3,
    ready=2,
)


def _problem(**changes: object) -> PlanProblem:
    """Two slots of one hour, the cheap one first, 16 A on line 0 for both cars."""
    fields: dict[str, object] = {
        "prices": [0.1, 0.5],
        "headroom": [[16, 32, 32], [16, 32, 32]],
        "house_kw": [1.0, 1.0],
        "cars": [THREE_PHASE, ONE_PHASE],
        "slot_hours": [0, 0],
    }
    fields.update(changes)
    return PlanProblem(**fields)  # type: ignore[arg-type]


def test_an_exchange_gives_the_cheap_slot_to_the_car_that_draws_more() -> None:
    """The 1-phase car leaves the cheap quarter's line to the 3-phase one."""
    problem = _problem()
    plan = assemble_plan(problem, {"three": [0, 16], "one": [16, 0]}, 0, exact=False)
    assert check_plan(problem, plan) == []
    polished = polish(problem, plan)
    assert polished.currents == {"three": (16.0, 0.0), "one": (0.0, 16.0)}
    assert check_plan(problem, polished) == []
    assert polished.delivered_kwh == pytest.approx(plan.delivered_kwh)
    best = solve_exact(problem)
    assert polished.cost == pytest.approx(best.cost, abs=1e-9)
    assert plan.cost > best.cost + 0.5


def test_an_hour_without_power_room_takes_nothing_more() -> None:
    """A shift into another hour keeps that hour's average under the step."""
    one = replace(ONE_PHASE, need_kwh=10 * TN3 / 3)
    # Two slots of two hours; the cheap one's house leaves 0.5 kW (2 A).
    problem = _problem(
        cars=[one],
        house_kw=[3.5, 1.0],
        slot_hours=[0, 1],
        steps=(StepOption(extra_cost=0.0, max_kw=4.0),),
    )
    plan = assemble_plan(problem, {"one": [0, 10]}, 0, exact=False)
    assert check_plan(problem, plan) == []
    # 2 A would be under the minimum there: nothing moves.
    assert polish(problem, plan).currents == plan.currents
    roomy = _problem(
        cars=[one], slot_hours=[0, 1], steps=(StepOption(extra_cost=0.0, max_kw=4.0),)
    )
    assert polish(roomy, plan).currents == {"one": (10.0, 0.0)}


def test_a_car_short_of_energy_gets_the_room_another_can_leave() -> None:
    """The 1-phase car can only charge now; the 3-phase one moves on for it."""
    problem = _problem(cars=[THREE_PHASE, replace(ONE_PHASE, ready=1)])
    plan = assemble_plan(problem, {"three": [16, 0], "one": [0, 0]}, 0, exact=False)
    assert check_plan(problem, plan) == []
    polished = polish(problem, plan)
    assert polished.currents == {"three": (0.0, 16.0), "one": (16.0, 0.0)}
    assert check_plan(problem, polished) == []
    best = solve_exact(problem)
    assert sum(polished.delivered_kwh.values()) == pytest.approx(best.delivered_total)
    assert polished.cost == pytest.approx(best.cost, abs=1e-9)
    # More energy than the plan's certificate was for: none is claimed.
    assert polished.lower_bound is None


def test_slot_zero_of_a_plan_made_mid_slot_stays() -> None:
    """Its energy is a share of the slot's: moves leave it alone."""
    problem = _problem(first_slot_share=0.5)
    plan = assemble_plan(problem, {"three": [0, 16], "one": [16, 0]}, 0, exact=False)
    assert polish(problem, plan).currents == plan.currents


@HOURLY_SETTINGS
@given(problem=hourly_problems())
def test_a_polished_plan_keeps_every_rule_and_every_cars_energy(
    problem: PlanProblem,
) -> None:
    """
    Feasible by the reference's checker, the same energy per car, never dearer,
    never cheaper than the exact optimum (nor its certificate above it).
    """
    plan = plan_charging(problem)
    assert check_plan(problem, plan) == []
    polished = polish(problem, plan)
    assert check_plan(problem, polished) == []
    assert delivered(problem, polished.currents) == pytest.approx(
        delivered(problem, plan.currents)
    )
    assert polished.cost <= plan.cost + 1e-9
    best = solve_exact(problem, time_limit=20.0)
    if best.proven and math.isclose(
        sum(polished.delivered_kwh.values()), best.delivered_total, abs_tol=1e-6
    ):
        assert polished.cost >= best.cost - 1e-6
        if polished.lower_bound is not None:
            assert polished.lower_bound <= best.cost + 1e-6
