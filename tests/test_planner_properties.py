"""Planner properties on random small problems (hypothesis), checked independently.

Every plan, whatever the problem: within each line's headroom, each current
0 or within the car's minimum and maximum, nothing at or after ready or above
the price cap, within the chosen step's max_kw, never more than the car's
amp-slots, its own figures right; never more energy than the most possible
and never cheaper than the optimum. With one group, the MILP's cost exactly.
"""

from __future__ import annotations

import math
import os

from hypothesis import HealthCheck, given, note, settings, strategies as st

from custom_components.homecharge.logic.capacity_tariff import StepOption
from custom_components.homecharge.logic.planner.model import CarNeed, PlanProblem
from custom_components.homecharge.logic.planner.solve import plan_charging

from .planner_days import (
    IT1_KWH_PER_AMP,
    IT3_KWH_PER_AMP,
    TN1_KWH_PER_AMP,
    TN3_KWH_PER_AMP,
)
from .planner_reference import assert_feasible, delivered, plan_cost, solve_exact

ALL = frozenset({0, 1, 2})
# (lines, kWh per amp-slot): 3-phase TN, 1-phase TN on each line, IT 3/1-phase.
KINDS = (
    (ALL, TN3_KWH_PER_AMP),
    (frozenset({0}), TN1_KWH_PER_AMP),
    (frozenset({1}), TN1_KWH_PER_AMP),
    (frozenset({2}), TN1_KWH_PER_AMP),
    (ALL, IT3_KWH_PER_AMP),
    (frozenset({0, 1}), IT1_KWH_PER_AMP),
)
# Seconds per MILP solve where the planner is not claimed exact.
MILP_SECONDS = 2.0
# More examples to hunt for counterexamples: PLANNER_EXAMPLES=5000 pytest …
PROPERTY_SETTINGS = settings(
    max_examples=int(os.environ.get("PLANNER_EXAMPLES", "60")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@st.composite
def problems(draw: st.DrawFn, *, one_group: bool) -> PlanProblem:
    """Up to 24 slots and 3 cars; headroom 0–40 A a line; prices from −0.5."""
    slots = draw(st.integers(1, 24))
    count = draw(st.integers(1, 3))
    group = draw(st.sampled_from(KINDS))
    cars = []
    for number in range(count):
        lines, kwh_per_amp = group if one_group else draw(st.sampled_from(KINDS))
        cars.append(
            CarNeed(
                key=f"car{number}",
                lines=lines,
                kwh_per_amp=kwh_per_amp,
                max_a=draw(st.sampled_from((6, 8, 10, 13, 16, 20, 32))),
                need_kwh=draw(st.integers(0, 400)) / 10,
                ready=draw(st.integers(0, slots + 2)),
            )
        )
    prices = draw(st.lists(st.integers(-50, 300), min_size=slots, max_size=slots))
    headroom = draw(
        st.lists(
            st.tuples(*(st.integers(0, 40) for _ in range(3))),
            min_size=slots,
            max_size=slots,
        )
    )
    house = draw(st.lists(st.integers(0, 120), min_size=slots, max_size=slots))
    limits = sorted(draw(st.lists(st.integers(20, 250), max_size=3, unique=True)))
    uncapped = draw(st.booleans()) or not limits
    extras = sorted(
        draw(
            st.lists(
                st.integers(0, 500),
                min_size=len(limits) + uncapped,
                max_size=len(limits) + uncapped,
            )
        )
    )
    steps = tuple(
        StepOption(extra_cost=extra / 100, max_kw=None if limit is None else limit / 10)
        for extra, limit in zip(
            extras, [*limits, *([None] if uncapped else [])], strict=True
        )
    )
    cap = draw(st.one_of(st.none(), st.sampled_from(prices)))
    return PlanProblem(
        prices=[price / 100 for price in prices],
        headroom=headroom,
        house_kw=[kw / 10 for kw in house],
        cars=cars,
        steps=steps,
        price_cap=None if cap is None else cap / 100,
    )


@PROPERTY_SETTINGS
@given(problem=problems(one_group=False))
def test_any_plan_is_feasible_and_never_beats_the_optimum(problem: PlanProblem) -> None:
    """All the rules hold; at most the most energy; no cheaper than exact."""
    note(repr(problem))
    plan = plan_charging(problem)
    note(repr(plan))
    assert_feasible(problem, plan)
    # Mixed places can take HiGHS long to prove: its bounds are enough here.
    best = solve_exact(problem, time_limit=MILP_SECONDS)
    got = sum(delivered(problem, plan.currents).values())
    assert got <= best.delivered_bound + 1e-6
    if got >= best.delivered_total - 1e-6:
        energy_cost, step_cost = plan_cost(problem, plan.currents, plan.step)
        assert energy_cost + step_cost >= best.cost_bound - 1e-6


@PROPERTY_SETTINGS
@given(problem=problems(one_group=True))
def test_one_group_plan_costs_the_optimum(problem: PlanProblem) -> None:
    """One group: the same energy as the MILP, and its cost when proven.

    A plan whose search ran out of its budget (``exact`` False) is the best
    found: never cheaper than the optimum, and its certified lower bound
    never above it.
    """
    note(repr(problem))
    plan = plan_charging(problem)
    note(repr(plan))
    assert_feasible(problem, plan)
    best = solve_exact(problem)
    note(f"optimum: {best!r}")
    got = sum(delivered(problem, plan.currents).values())
    energy_cost, step_cost = plan_cost(problem, plan.currents, plan.step)
    assert math.isclose(got, best.delivered_total, abs_tol=1e-6)
    cost = energy_cost + step_cost
    assert plan.lower_bound is not None
    assert plan.lower_bound <= best.cost + 1e-6
    if plan.exact:
        assert math.isclose(cost, best.cost, rel_tol=1e-9, abs_tol=1e-6)
    else:
        assert cost >= best.cost - 1e-6
