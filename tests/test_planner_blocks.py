"""One-block mode: one unbroken run per car, cheapest run first, under the lines."""

from __future__ import annotations

from custom_components.homecharge.logic.planner.model import CarNeed, PlanProblem
from custom_components.homecharge.logic.planner.solve import plan_charging

from .planner_reference import assert_feasible

ALL = frozenset({0, 1, 2})
KWH_PER_AMP = 0.1725  # 3 × 230 V for 15 minutes


def car(key: str, need_kwh: float, ready: int, max_a: int = 16) -> CarNeed:
    return CarNeed(
        key=key,
        lines=ALL,
        kwh_per_amp=KWH_PER_AMP,
        max_a=max_a,
        need_kwh=need_kwh,
        ready=ready,
    )


def runs(row: tuple[int, ...]) -> list[tuple[int, int]]:
    """(first slot, last slot) of every unbroken run of a row."""
    found: list[tuple[int, int]] = []
    for slot, amps in enumerate(row):
        if amps and found and found[-1][1] == slot - 1:
            found[-1] = (found[-1][0], slot)
        elif amps:
            found.append((slot, slot))
    return found


def test_one_run_in_the_cheapest_window() -> None:
    """Scattered cheap slots lose to the cheapest unbroken run."""
    prices = [5.0, 1.0, 9.0, 1.0, 2.0, 2.0, 2.0, 8.0]
    problem = PlanProblem(
        prices=prices,
        headroom=[(16, 16, 16)] * 8,
        house_kw=[0.0] * 8,
        cars=[car("a", 16 * 3 * KWH_PER_AMP, ready=8)],
        continuous=True,
    )
    plan = plan_charging(problem)
    assert_feasible(problem, plan)
    assert runs(plan.currents["a"]) == [(3, 5)]
    assert plan.currents["a"][3:6] == (16, 16, 16)


def test_the_last_slot_keeps_the_minimum() -> None:
    """A remainder under 6 A is taken from the slot before it."""
    problem = PlanProblem(
        prices=[1.0, 1.0, 3.0],
        headroom=[(16, 16, 16)] * 3,
        house_kw=[0.0] * 3,
        cars=[car("a", 18 * KWH_PER_AMP, ready=3)],
        continuous=True,
    )
    plan = plan_charging(problem)
    assert_feasible(problem, plan)
    assert plan.currents["a"] == (12, 6, 0)


def test_cars_share_the_lines_in_ready_by_order() -> None:
    """The car due first takes the cheap run; the other fits in what is left."""
    problem = PlanProblem(
        prices=[1.0, 1.0, 4.0, 4.0, 2.0, 2.0],
        headroom=[(20, 20, 20)] * 6,
        house_kw=[0.0] * 6,
        cars=[
            car("late", 32 * KWH_PER_AMP, ready=6),
            car("early", 32 * KWH_PER_AMP, ready=2),
        ],
        continuous=True,
    )
    plan = plan_charging(problem)
    assert_feasible(problem, plan)
    assert plan.currents["early"][:2] == (16, 16)
    assert runs(plan.currents["late"]) == [(4, 5)]
    assert plan.delivered_kwh["late"] == 32 * KWH_PER_AMP


def test_no_room_no_run() -> None:
    """Headroom under the minimum everywhere: nothing, and nothing broken."""
    problem = PlanProblem(
        prices=[1.0, 2.0],
        headroom=[(5, 5, 5)] * 2,
        house_kw=[0.0] * 2,
        cars=[car("a", 5.0, ready=2)],
        continuous=True,
    )
    plan = plan_charging(problem)
    assert plan.currents["a"] == (0, 0)
