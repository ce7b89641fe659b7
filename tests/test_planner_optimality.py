"""The planner against the exact MILP on realistic overnight scenarios.

Days: the ENTSO-E fixture day and eleven derived from it (``planner_days``).
Where all cars form one group (same lines, same energy per amp) the planner
claims the optimum: its cost must equal the MILP's. Where they do not, its
plan must be feasible and can never beat the optimum; the gap is reported
in the test output, not asserted.

Every figure is recomputed from the plan's currents (``check_plan``): the
planner's own numbers are not trusted.
"""

from __future__ import annotations

import math
from typing import Any

import pytest

from custom_components.homecharge.logic.planner import solve as planner, trades
from custom_components.homecharge.logic.planner.groups import (
    assemble_plan,
    group_cars,
    whole_plan_value,
)
from custom_components.homecharge.logic.planner.model import CarNeed, PlanProblem
from custom_components.homecharge.logic.planner.relax import SearchBudget, better
from custom_components.homecharge.logic.planner.solve import plan_charging

from .planner_days import (
    TN1_KWH_PER_AMP,
    Scenario,
    generated_days,
    overnight_scenarios,
)
from .planner_reference import assert_feasible, delivered, plan_cost, solve_exact

DAYS = generated_days(12)
ONE_GROUP = overnight_scenarios(DAYS, 40, seed=1)
MIXED = overnight_scenarios(DAYS, 8, seed=2, mixed=True)
# Seconds per MILP solve for the mixed places (then the cost is bounded, not
# proven: HiGHS's lower bound still shows whether the planner beat it).
MIXED_TIME_LIMIT = 1.0
# How far over the optimum a one-group plan not proven exact may be.
UNPROVEN_GAP = 0.01


def describe(scenario: Scenario, plan: Any, best: Any) -> str:
    """What differs, for the failure message."""
    return (
        f"{scenario.name}: planner cost {plan.cost:.9f} (step {plan.step}, "
        f"exact={plan.exact}) vs optimum {best.cost:.9f} (step {best.step}); "
        f"delivered {sum(plan.delivered_kwh.values()):.6f} vs "
        f"{best.delivered_total:.6f} kWh"
    )


@pytest.mark.parametrize("scenario", ONE_GROUP, ids=lambda s: s.name)
def test_one_group_plan_is_optimal(scenario: Scenario) -> None:
    """Same energy and the same cost as the MILP (abs 1e-6, rel 1e-9)."""
    problem = scenario.problem
    assert scenario.grouped
    plan = plan_charging(problem)
    assert_feasible(problem, plan)
    best = solve_exact(problem)
    got = sum(delivered(problem, plan.currents).values())
    energy_cost, step_cost = plan_cost(problem, plan.currents, plan.step)
    assert got == pytest.approx(best.delivered_total, abs=1e-6), describe(
        scenario, plan, best
    )
    # Proven or not, the certificate never claims more than the MILP's optimum.
    if plan.lower_bound is not None:
        assert plan.lower_bound <= best.cost + 1e-6, describe(scenario, plan, best)
        assert plan.lower_bound <= energy_cost + step_cost + 1e-9
    if not plan.exact:
        # In tenths of an ampere a crowded group (two cars at their minimum
        # beside each other under a step's cap) can outlast the search
        # budget: then the plan is the best found, and must be close.
        limit = best.cost + abs(best.cost) * UNPROVEN_GAP + 1e-6
        assert energy_cost + step_cost <= limit, describe(scenario, plan, best)
        return
    assert math.isclose(
        energy_cost + step_cost, best.cost, rel_tol=1e-9, abs_tol=1e-6
    ), describe(scenario, plan, best)


L2 = frozenset({2})
# Small one-group problems where a planner version missed the optimum (the
# shrunk form of a failing scenario or property example).
SMALL = [
    Scenario(
        name="3x1phase-7slots-short-one-amp-slot",
        problem=PlanProblem(
            prices=[
                0.055134,
                0.055134,
                0.055134,
                0.06256,
                0.062215,
                0.060233,
                0.064317,
            ],
            headroom=[(40, 40, room) for room in (33, 34, 36, 37, 37, 35, 36)],
            house_kw=[0.0] * 7,
            cars=[
                CarNeed(
                    key="a",
                    lines=L2,
                    kwh_per_amp=TN1_KWH_PER_AMP,
                    max_a=6,
                    need_kwh=1.03,
                    ready=7,
                ),
                CarNeed(
                    key="b",
                    lines=L2,
                    kwh_per_amp=TN1_KWH_PER_AMP,
                    max_a=16,
                    need_kwh=6.26,
                    ready=7,
                ),
                CarNeed(
                    key="c",
                    lines=L2,
                    kwh_per_amp=TN1_KWH_PER_AMP,
                    max_a=16,
                    need_kwh=6.43,
                    ready=7,
                ),
            ],
        ),
        currency="EUR",
    ),
]


@pytest.mark.parametrize("scenario", SMALL, ids=lambda s: s.name)
def test_small_one_group_cases(scenario: Scenario) -> None:
    """Shrunk counterexamples: the optimum, as on the full scenarios."""
    test_one_group_plan_is_optimal(scenario)


@pytest.mark.parametrize("scenario", MIXED, ids=lambda s: s.name)
def test_mixed_groups_plan_is_feasible(
    scenario: Scenario, capsys: pytest.CaptureFixture[str]
) -> None:
    """Feasible, never more energy than the most, never below the optimum."""
    problem = scenario.problem
    assert not scenario.grouped
    plan = plan_charging(problem)
    assert_feasible(problem, plan)
    best = solve_exact(problem, time_limit=MIXED_TIME_LIMIT)
    got = sum(delivered(problem, plan.currents).values())
    energy_cost, step_cost = plan_cost(problem, plan.currents, plan.step)
    cost = energy_cost + step_cost
    assert got <= best.delivered_bound + 1e-6, describe(scenario, plan, best)
    if plan.lower_bound is not None:
        # The planner's own certificate: no plan delivering as much is cheaper.
        assert got >= best.delivered_total - 1e-6, describe(scenario, plan, best)
        assert plan.lower_bound <= best.cost + 1e-6, describe(scenario, plan, best)
        assert plan.lower_bound <= cost + 1e-9
    if got >= best.delivered_total - 1e-6:
        # As much energy: it cannot cost less than the optimum's lower bound.
        assert cost >= best.cost_bound - 1e-6, describe(scenario, plan, best)
        gap = cost - best.cost
        share = 100 * gap / abs(best.cost) if best.cost else math.inf
        proven = (
            "" if best.proven else f" ({best.status}: optimum ≥ {best.cost_bound:.6f})"
        )
        certified = (
            "none" if plan.lower_bound is None else f"{cost - plan.lower_bound:+.6f}"
        )
        text = f"gap {gap:+.6f} ({share:+.3f} %){proven}; certified ≤ {certified}"
    else:
        text = (
            f"delivers {best.delivered_total - got:.3f} kWh less than the most "
            f"({got:.3f} of {best.delivered_total:.3f})"
        )
    with capsys.disabled():
        print(f"\n  mixed groups, planner vs MILP: {scenario.name}: {text}")  # noqa: T201


def test_mixed_places_improve_on_one_group_after_another() -> None:
    """The descent keeps every plan at least as good as planning the groups in
    turn, and the trades between groups make some strictly better."""
    improved = 0
    for scenario in MIXED:
        problem = scenario.problem
        plan = plan_charging(problem)
        groups = group_cars(problem.cars)
        for index in range(len(problem.steps)):
            budget = SearchBudget(planner._SEARCH_WORK)
            in_turn = planner._plan_groups_in_turn(problem, groups, index, budget)
            baseline = assemble_plan(problem, in_turn, index, exact=False)
            assert not better(whole_plan_value(baseline), whole_plan_value(plan)), (
                scenario.name
            )
            improved += better(whole_plan_value(plan), whole_plan_value(baseline))
    assert improved


# Mixed places under a binding capacity step where planning the groups in
# turn fell short of the energy the lower step allows and paid the next one
# (65-80 % over the optimum): (seed of ``overnight_scenarios``, name).
UNDER_A_BINDING_STEP = [
    (2, "gen08-spiky-tn3+tn1+tn1-32A-plug21-steps7-cap"),
    (4, "gen09-calm-tn3+tn1+tn1-50A-plug22-steps5-cap"),
    (5, "gen09-calm-tn3+tn1+tn1-40A-plug20-steps5-cap"),
    # Short of the lower step's energy by a few amp-slots until the joint
    # search was given to every cheaper step short of its bound (the first,
    # a step the relaxation promised too much, took it): 70 % over.
    (7, "gen01-scaled-tn3+tn1+tn1+tn3-32A-plug22-steps10-cap"),
]
# How far over the optimum such a plan may be (the optimum under hourly
# caps: the planner plans a few shares of each hour's room, not every one).
MIXED_GAP = 0.02


@pytest.mark.parametrize(("seed", "name"), UNDER_A_BINDING_STEP)
def test_mixed_place_stays_in_the_optimums_step(seed: int, name: str) -> None:
    """The joint relaxation's plans deliver it all in the optimum's step."""
    scenarios = overnight_scenarios(DAYS, 40, seed=seed, mixed=True)
    scenario = next(found for found in scenarios if found.name == name)
    problem = scenario.problem
    plan = plan_charging(problem)
    assert_feasible(problem, plan)
    best = solve_exact(problem, time_limit=10.0)
    got = sum(delivered(problem, plan.currents).values())
    energy_cost, step_cost = plan_cost(problem, plan.currents, plan.step)
    assert got == pytest.approx(best.delivered_total, abs=1e-6), describe(
        scenario, plan, best
    )
    assert plan.step == best.step, describe(scenario, plan, best)
    limit = best.cost + abs(best.cost) * MIXED_GAP + 1e-6
    assert energy_cost + step_cost <= limit, describe(scenario, plan, best)
    assert plan.lower_bound is not None
    assert plan.lower_bound <= best.cost + 1e-6, describe(scenario, plan, best)


# Places short of energy (a small main fuse) where the groups in turn and
# the descent left a 1-phase car's line to the 3-phase cars or the other
# way round less well than trading its room would: (seed, name).
SHORT_OF_ENERGY = [
    (0, "gen07-night_expensive-tn3+tn1+tn1-16A-plug17-notariff-cap"),
    (4, "gen04-negative-tn3+tn3+tn1-16A-plug19-notariff"),
]


@pytest.mark.parametrize(("seed", "name"), SHORT_OF_ENERGY)
def test_trades_of_line_room_deliver_more(
    seed: int, name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the trades the plan delivers more, and never more than the most."""
    scenarios = overnight_scenarios(DAYS, 40, seed=seed, mixed=True)
    problem = next(found for found in scenarios if found.name == name).problem
    plan = plan_charging(problem)
    assert_feasible(problem, plan)
    got = sum(delivered(problem, plan.currents).values())
    monkeypatch.setattr(trades, "_TRADES", ())
    # (``finish_by_trades`` finds some of it too: without it as well.)
    monkeypatch.setattr(
        planner, "finish_by_trades", lambda problem, groups, step, currents: currents
    )
    without = plan_charging(problem)
    assert got > sum(delivered(problem, without.currents).values()) + 0.1
    best = solve_exact(problem, time_limit=10.0)
    assert got <= best.delivered_bound + 1e-6


# Mixed places where the descent stopped short of the optimum's pattern
# (3-phase and 1-phase cars at their minimum side by side in cheap slots):
# (seed, name, kWh the plan may lack, share of the optimum's cost it may
# be over). Before ``finish_by_trades``: 10.6 % over; 2.96 kWh short.
SIDE_BY_SIDE = [
    (2, "gen10-rotated_noisy-tn3+tn1+tn3+tn1-32A-plug21-notariff", 1e-6, 0.05),
    (0, "gen05-flat-tn3+tn3+tn1+tn3-20A-plug21-notariff", 1.6, math.inf),
]


@pytest.mark.parametrize(("seed", "name", "short_kwh", "over"), SIDE_BY_SIDE)
def test_side_by_side_starts_and_tried_trades(
    seed: int, name: str, short_kwh: float, over: float
) -> None:
    """Finished by ``finish_by_trades``, the plan comes near the optimum."""
    scenarios = overnight_scenarios(DAYS, 40, seed=seed, mixed=True)
    scenario = next(found for found in scenarios if found.name == name)
    problem = scenario.problem
    plan = plan_charging(problem)
    assert_feasible(problem, plan)
    best = solve_exact(problem, time_limit=10.0)
    got = sum(delivered(problem, plan.currents).values())
    energy_cost, step_cost = plan_cost(problem, plan.currents, plan.step)
    assert got >= best.delivered_total - short_kwh, describe(scenario, plan, best)
    limit = best.cost + abs(best.cost) * over + 1e-6
    assert energy_cost + step_cost <= limit, describe(scenario, plan, best)
