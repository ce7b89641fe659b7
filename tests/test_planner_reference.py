"""The exact reference itself: hand-checked optima, brute force, checker, baselines."""

from __future__ import annotations

from collections.abc import Sequence
import itertools
import math
import random

import pytest

from custom_components.homecharge.logic.capacity_tariff import StepOption
from custom_components.homecharge.logic.planner.model import CarNeed, Plan, PlanProblem

from .planner_days import (
    IT3_KWH_PER_AMP,
    TN3_KWH_PER_AMP,
    consecutive,
    fixture_day,
    generated_days,
    overnight_scenarios,
)
from .planner_reference import (
    charge_immediately,
    cheapest_slots,
    check_currents,
    check_plan,
    fair_shares,
    solve_exact,
)

ALL = frozenset({0, 1, 2})
# 1 A for one slot is 0.25 kWh and 1 kW: easy sums.
K = 0.25


def car(key: str = "a", **kwargs: object) -> CarNeed:
    """A 3-phase car, 6–10 A, 0.25 kWh per amp-slot, unless told otherwise."""
    values: dict[str, object] = {
        "lines": ALL,
        "kwh_per_amp": K,
        "max_a": 10,
        "need_kwh": 15 * K,
        "ready": 99,
    }
    values.update(kwargs)
    return CarNeed(key=key, **values)  # type: ignore[arg-type]


def problem(
    prices: Sequence[float],
    cars: Sequence[CarNeed],
    *,
    headroom: Sequence[int] | Sequence[Sequence[int]] = 40,  # type: ignore[assignment]
    house: float | Sequence[float] = 0.0,
    **kwargs: object,
) -> PlanProblem:
    """A problem with the same headroom on every line (or per slot)."""
    slots = len(prices)
    if isinstance(headroom, int):
        rooms = [(headroom,) * 3] * slots
    else:
        rooms = [
            (value,) * 3 if isinstance(value, int) else tuple(value)
            for value in headroom
        ]
    houses = [house] * slots if isinstance(house, (int, float)) else list(house)
    return PlanProblem(
        prices=list(prices),
        headroom=rooms,
        house_kw=houses,
        cars=list(cars),
        **kwargs,  # type: ignore[arg-type]
    )


def test_one_car_cheapest_slot_first_then_the_minimum_binds() -> None:
    """15 amp-slots over prices 3, 1, 2: 10 + 5 would break 6 A, so 9 + 6."""
    best = solve_exact(problem([3.0, 1.0, 2.0], [car()]))
    assert best.currents == {"a": (0, 9, 6)}
    assert best.energy_cost == pytest.approx(K * (9 * 1 + 6 * 2))
    assert best.delivered_kwh == {"a": pytest.approx(15 * K)}
    assert best.step == 0
    assert best.status == "optimal"


def test_need_under_the_minimum_still_takes_one_slot_at_the_minimum() -> None:
    """1 kWh-ish need below one 6 A slot: N = min_a amp-slots."""
    best = solve_exact(problem([2.0, 1.0], [car(need_kwh=0.3)]))
    assert best.currents == {"a": (0, 6)}


def test_energy_comes_before_cost() -> None:
    """Dear slots are used when they are needed for the energy."""
    best = solve_exact(problem([100.0, 1.0, 50.0], [car(need_kwh=30 * K)]))
    assert best.currents == {"a": (10, 10, 10)}


def test_headroom_under_the_minimum_closes_a_slot() -> None:
    """Slot 2 has 5 A: not enough for 6 A, so only 20 of 30 amp-slots."""
    best = solve_exact(
        problem([1.0, 1.0, 0.5], [car(need_kwh=30 * K)], headroom=[10, 10, 5])
    )
    assert best.currents == {"a": (10, 10, 0)}
    assert best.delivered_kwh["a"] == pytest.approx(20 * K)


def test_ready_and_price_cap() -> None:
    """Nothing at or after ready, nothing above the cap."""
    best = solve_exact(
        problem(
            [5.0, 9.0, 1.0, 0.0],
            [car(need_kwh=30 * K, ready=3)],
            price_cap=6.0,
        )
    )
    assert best.currents == {"a": (10, 0, 10, 0)}


def test_negative_prices_fill_to_the_need_and_no_further() -> None:
    """At most N amp-slots, the most negative first."""
    best = solve_exact(problem([-2.0, -1.0, 3.0], [car(need_kwh=12 * K)]))
    assert best.currents == {"a": (6, 6, 0)}
    best = solve_exact(problem([-2.0, -1.0, 3.0], [car(need_kwh=14 * K)]))
    assert best.currents == {"a": (8, 6, 0)}


def test_two_cars_share_a_line() -> None:
    """A 3-phase and a 1-phase car share line 0's 12 A in slot 0.

    Energy first: the 3-phase car's 20 amp-slots need 10 A in both slots, so
    the 1-phase car waits for the dearer slot 1 (26 amp-slots in all).
    """
    cars = [
        car("three", need_kwh=20 * K),
        car("one", lines=frozenset({0}), need_kwh=6 * K),
    ]
    best = solve_exact(problem([1.0, 2.0], cars, headroom=[12, 40]))
    assert best.currents == {"three": (10, 10), "one": (0, 6)}
    assert best.energy_cost == pytest.approx(K * (10 + 20 + 12))


def test_the_step_is_chosen_by_energy_then_cost() -> None:
    """Step 0 allows 7 A beside a 1 kW house; step 1 is unlimited at a price."""
    prices = [1.0, 1.0, 3.0]
    need = car(need_kwh=20 * K)
    cheap = (
        StepOption(extra_cost=0.0, max_kw=8.0),
        StepOption(extra_cost=1.0, max_kw=None),
    )
    best = solve_exact(problem(prices, [need], house=1.0, steps=cheap))
    # Step 0: 7 + 7 + 6 at 14·1 + 6·3 = 32 amp-units; step 1: 10 + 10 = 20 + 4.
    assert best.step == 1
    assert best.currents == {"a": (10, 10, 0)}
    assert best.cost == pytest.approx(20 * K + 1.0)
    dear = (
        StepOption(extra_cost=0.0, max_kw=8.0),
        StepOption(extra_cost=4.0, max_kw=None),
    )
    best = solve_exact(problem(prices, [need], house=1.0, steps=dear))
    assert best.step == 0
    assert best.currents == {"a": (7, 7, 6)}
    assert best.cost == pytest.approx(32 * K)


def test_a_step_that_delivers_less_loses_to_a_dear_one() -> None:
    """Step 0 allows only 7 A a slot: 14 of 20 amp-slots; energy first."""
    steps = (
        StepOption(extra_cost=0.0, max_kw=8.0),
        StepOption(extra_cost=50.0, max_kw=None),
    )
    best = solve_exact(
        problem([1.0, 1.0], [car(need_kwh=20 * K)], house=1.0, steps=steps)
    )
    assert best.step == 1
    assert best.delivered_kwh["a"] == pytest.approx(20 * K)


def test_house_above_the_step_stops_charging_in_that_slot() -> None:
    """Under step 0 (5 kW) slot 0's 6 kW house closes it, slot 1's 4.5 kW of
    room is under 6 A: nothing at all, so energy first takes step 1."""
    steps = (
        StepOption(extra_cost=0.0, max_kw=5.0),
        StepOption(extra_cost=9.0, max_kw=None),
    )
    best = solve_exact(
        problem([0.0, 1.0], [car(need_kwh=10 * K)], house=[6.0, 0.5], steps=steps)
    )
    assert best.step == 1
    assert best.currents == {"a": (10, 0)}
    assert best.cost == pytest.approx(9.0)


def test_house_above_the_step_with_room_in_another_slot() -> None:
    """Slot 0's house is over 5 kW, slot 1 leaves 8 A: step 0, slot 1 only."""
    steps = (
        StepOption(extra_cost=0.0, max_kw=9.0),
        StepOption(extra_cost=9.0, max_kw=None),
    )
    best = solve_exact(
        problem([0.0, 1.0], [car(need_kwh=8 * K)], house=[9.5, 1.0], steps=steps)
    )
    assert best.step == 0
    assert best.currents == {"a": (0, 8)}


def test_presolve_cannot_hide_the_cheaper_plan() -> None:
    """A mixed place where HiGHS's presolve answered 0.012075 as "optimal"
    (with an energy row; now both formulations, without presolve, agree).

    Only slot 7 costs anything. The 3-phase car needs 40 amp-slots; without
    slot 7 its lines allow 6 + 6 + 7 + 7 + 8 = 34, so slot 7 takes at least
    6 A: 0.01 × 0.1725 × 6 = 0.01035, with 1.035 + 6.9 kWh delivered.
    """
    tn1 = 0.0575
    given = PlanProblem(
        prices=[0.0] * 7 + [0.01] + [0.0] * 4,
        headroom=[(0, 0, 0)] * 5
        + [(6, 6, 6), (6, 6, 6), (7, 7, 7), (7, 13, 7), (7, 14, 7), (0, 0, 0)]
        + [(8, 14, 8)],
        house_kw=[0.0] * 12,
        cars=[
            CarNeed(
                key="a",
                lines=frozenset({0}),
                kwh_per_amp=tn1,
                max_a=6,
                need_kwh=0.1,
                ready=6,
            ),
            CarNeed(
                key="b",
                lines=frozenset({1}),
                kwh_per_amp=tn1,
                max_a=16,
                need_kwh=1.0,
                ready=12,
            ),
            CarNeed(
                key="c", lines=ALL, kwh_per_amp=3 * tn1, max_a=8, need_kwh=6.8, ready=12
            ),
        ],
    )
    best = solve_exact(given)
    assert best.delivered_total == pytest.approx(7.935)
    assert best.cost == pytest.approx(0.01035, abs=1e-12)
    assert best.currents["c"][7] == 6


def test_a_wrong_infeasible_is_not_believed() -> None:
    """One group on line 2, where HiGHS without presolve called the cost
    solve infeasible although the energy solve had just found a plan.

    Every amp of line 2's headroom is needed (197 amp-slots of 203 wanted),
    so slot 2 (−0.01) carries 20 A and slot 3 (0.14) 13 A:
    0.0575 × (−0.01 × 20 + 0.14 × 13) = 0.09315.
    """
    k = 0.0575
    rooms = [18, 27, 20, 13, 6, 13, 16, 24, 20, 20, 20]
    only = frozenset({2})
    given = PlanProblem(
        prices=[0.0, 0.0, -0.01, 0.14] + [0.0] * 7,
        headroom=[(0, 0, room) for room in rooms],
        house_kw=[0.0] * 11,
        cars=[
            CarNeed(key="a", lines=only, kwh_per_amp=k, max_a=6, need_kwh=1.0, ready=3),
            CarNeed(key="b", lines=only, kwh_per_amp=k, max_a=8, need_kwh=3.6, ready=8),
            CarNeed(
                key="c", lines=only, kwh_per_amp=k, max_a=20, need_kwh=7.0, ready=11
            ),
        ],
    )
    best = solve_exact(given)
    assert best.delivered_total == pytest.approx(197 * k)
    assert best.cost == pytest.approx(k * (-0.01 * 20 + 0.14 * 13), abs=1e-12)


def test_highs_cuts_cannot_hide_the_only_plans() -> None:
    """HiGHS 1.8 called this 21-variable model infeasible once asked for at
    least the most energy (its root cuts cut off every plan).

    Line 2 only: car b (N = 32, 8 A, ready 9) fills slots 5–8 at 8 A; car c
    (N = 30) gets 6 A in the 6, 1, 6, 6, 6, 6 A left in slots 5–10, slot 6
    being under its minimum: 6 × 5 = 30. 62 amp-slots, nothing costs.
    """
    k = 0.0575
    only = frozenset({2})
    given = PlanProblem(
        prices=[0.0] * 11,
        headroom=[(0, 0, 0)] * 5 + [(0, 0, room) for room in (14, 9, 14, 14, 6, 6)],
        house_kw=[0.0] * 11,
        cars=[
            CarNeed(key="b", lines=only, kwh_per_amp=k, max_a=8, need_kwh=1.8, ready=9),
            CarNeed(
                key="c", lines=only, kwh_per_amp=k, max_a=13, need_kwh=1.7, ready=11
            ),
        ],
    )
    best = solve_exact(given)
    assert best.currents == {
        "b": (0, 0, 0, 0, 0, 8, 8, 8, 8, 0, 0),
        "c": (0, 0, 0, 0, 0, 6, 0, 6, 6, 6, 6),
    }
    assert best.cost == 0.0


def test_continuous_is_not_modelled() -> None:
    """The planner claims no optimum there; neither does the reference."""
    with pytest.raises(NotImplementedError):
        solve_exact(problem([1.0], [car()], continuous=True))


def brute_force(problem_: PlanProblem) -> tuple[float, float]:
    """Most kWh, then least cost, by trying every whole-amp plan."""
    slots = len(problem_.prices)
    choices = [
        [0, *range(c.min_a, c.max_a + 1)] for c in problem_.cars for _ in range(slots)
    ]
    best: tuple[float, float] | None = None
    for values in itertools.product(*choices):
        currents = {
            c.key: tuple(values[n * slots : (n + 1) * slots])
            for n, c in enumerate(problem_.cars)
        }
        energy = sum(c.kwh_per_amp * sum(currents[c.key]) for c in problem_.cars)
        cost = sum(
            problem_.prices[t] * c.kwh_per_amp * currents[c.key][t]
            for c in problem_.cars
            for t in range(slots)
        )
        for step, option in enumerate(problem_.steps):
            if check_currents(problem_, currents, step):
                continue
            key = (-round(energy, 9), cost + option.extra_cost)
            if best is None or key < best:
                best = key
    assert best is not None
    return -best[0], best[1]


@pytest.mark.parametrize("seed", range(25))
def test_agrees_with_brute_force(seed: int) -> None:
    """Tiny random problems (2 slots, 2 cars, 6–8 A): every plan tried."""
    rng = random.Random(seed)  # noqa: S311 - seeded test data
    kinds = [(ALL, 0.3), (frozenset({rng.randrange(3)}), 0.1)]
    cars = []
    for number in range(2):
        lines, k = kinds[number] if seed % 2 else kinds[0]
        cars.append(
            CarNeed(
                key=f"c{number}",
                lines=lines,
                kwh_per_amp=k,
                max_a=rng.randint(6, 8),
                need_kwh=round(rng.uniform(0.1, 5.0), 2),
                ready=rng.randint(1, 3),
            )
        )
    slots = 3
    steps = (
        StepOption(extra_cost=0.0, max_kw=rng.choice([4.0, 6.0, 9.0])),
        StepOption(extra_cost=rng.uniform(0.0, 3.0), max_kw=rng.choice([12.0, None])),
    )
    given = PlanProblem(
        prices=[round(rng.uniform(-1.0, 2.0), 3) for _ in range(slots)],
        headroom=[tuple(rng.randint(0, 16) for _ in range(3)) for _ in range(slots)],
        house_kw=[round(rng.uniform(0.0, 6.0), 2) for _ in range(slots)],
        cars=cars,
        steps=steps,
        price_cap=rng.choice([None, 1.0]),
    )
    energy, cost = brute_force(given)
    best = solve_exact(given)
    assert best.delivered_total == pytest.approx(energy, abs=1e-9)
    assert best.cost == pytest.approx(cost, rel=1e-9, abs=1e-9)


def test_solves_the_fixture_scenarios_feasibly() -> None:
    """Real-sized problems: the solution passes the checker."""
    for scenario in overnight_scenarios(generated_days(4), 3, seed=1):
        best = solve_exact(scenario.problem)
        assert check_currents(scenario.problem, best.currents, best.step) == []
        assert best.delivered_total > 0


def test_one_milp_per_step_agrees_with_the_step_binaries() -> None:
    """Two exact formulations of the capacity step, one answer.

    One-group places only: on mixed ones the binaries can take minutes to
    prove what one MILP per step proves in seconds (brute force covers
    small mixed places with steps above).
    """
    scenarios = overnight_scenarios(
        generated_days(6), 6, seed=11, tariffs=("steps5", "steps7", "steps10")
    )
    for scenario in scenarios:
        binaries = solve_exact(scenario.problem, by_step=False)
        per_step = solve_exact(scenario.problem, by_step=True)
        assert per_step.delivered_total == pytest.approx(
            binaries.delivered_total, abs=1e-6
        ), scenario.name
        assert per_step.cost == pytest.approx(binaries.cost, rel=1e-9, abs=1e-6), (
            scenario.name
        )


def test_checker_finds_every_kind_of_fault() -> None:
    """Fuse, minimum, maximum, ready, cap, step, need and stated figures."""
    cars = [car("a", ready=2, need_kwh=20 * K), car("b", lines=frozenset({0}))]
    given = problem(
        [1.0, 5.0, 1.0],
        cars,
        headroom=[12, 12, 12],
        house=[0.0, 0.0, 7.0],
        price_cap=4.0,
        steps=(
            StepOption(extra_cost=0.0, max_kw=8.0),
            StepOption(extra_cost=2.0, max_kw=None),
        ),
    )
    bad = Plan(
        currents={"a": (10, 7, 4), "b": (6, 0, 0)},
        delivered_kwh={"a": 1.0, "b": 6 * K},
        energy_cost=0.0,
        step=0,
        step_cost=0.0,
    )
    text = "\n".join(check_plan(given, bad))
    assert "slot 0 line 0: 16 A > headroom 12" in text
    assert "a[2]: 4 A outside 6..10" in text
    assert "a[2]: 4 A at/after ready 2" in text
    assert "a[1]: charging at 5.0 > cap 4.0" in text
    assert "slot 0: house 0.000 + charging 16.000 kW > step 0's 8.0 kW" in text
    assert "slot 2: charging 4.000 kW while the house 7.000 kW" not in text
    assert "a: 21 step-slots > need 20" in text
    assert "energy_cost 0.0 != recomputed" not in text  # faults first
    good = Plan(
        currents={"a": (8, 0, 0), "b": (0, 0, 0)},
        delivered_kwh={"a": 8 * K, "b": 0.0},
        energy_cost=8 * K * 1.0,
        step=0,
        step_cost=0.0,
    )
    assert check_plan(given, good) == []
    wrong = Plan(
        currents=good.currents,
        delivered_kwh={"a": 1.0, "b": 0.0},
        energy_cost=1.0,
        step=1,
        step_cost=0.0,
    )
    text = "\n".join(check_plan(given, wrong))
    assert "energy_cost 1.0 != recomputed 2.0" in text
    assert "step_cost 0.0 != step's 2.0" in text
    assert "a: delivered_kwh 1.0 != recomputed 2.0" in text


def test_fair_shares_split_the_line_and_pause_under_the_minimum() -> None:
    """Max-min fair per line; a share under 6 A pauses that car."""
    three = car("three", max_a=16)
    one = car("one", lines=frozenset({0}), max_a=16)
    assert fair_shares([three, one], (20, 30, 30), {"three": 6, "one": 6}) == {
        "three": 10,
        "one": 10,
    }
    assert fair_shares([three, one], (40, 30, 30), {"three": 6, "one": 6}) == {
        "three": 16,
        "one": 16,
    }
    # 11 A for two: 5.5 each is under 6, the later car pauses.
    assert fair_shares([three, one], (11, 30, 30), {"three": 6, "one": 6}) == {
        "three": 11
    }
    assert fair_shares([three], (3, 30, 30), {"three": 6}) == {}


def test_charge_immediately_stays_under_the_fuse() -> None:
    """From slot 0 at the fair share until done, whatever the prices."""
    cars = [car("a", need_kwh=25 * K), car("b", need_kwh=10 * K)]
    given = problem([9.0, 1.0, 1.0, 1.0], cars, headroom=[14, 14, 20, 20])
    baseline = charge_immediately(given)
    # b needs only 3 more in slot 1: it draws 7 A for part of the slot.
    assert baseline.amps == {"a": (7, 7, 10, 10), "b": (7, 7, 0, 0)}
    assert baseline.amp_slots == {"a": (7, 7, 10, 1), "b": (7, 3, 0, 0)}
    assert not baseline.over_fuse
    assert baseline.delivered_kwh == {"a": 25 * K, "b": 10 * K}
    assert baseline.energy_cost == pytest.approx(K * (14 * 9 + 10 + 10 + 1))


def test_cheapest_slots_ignore_fuse_and_tariff() -> None:
    """Each car alone: ceil(need / max) cheapest slots at full power."""
    cars = [car("a", need_kwh=15 * K), car("b", need_kwh=8 * K)]
    steps = (
        StepOption(extra_cost=0.0, max_kw=12.0),
        StepOption(extra_cost=3.0, max_kw=None),
    )
    given = problem([3.0, 1.0, 2.0], cars, headroom=15, house=1.0, steps=steps)
    baseline = cheapest_slots(given)
    assert baseline.amps == {"a": (0, 10, 10), "b": (0, 10, 0)}
    # Chronologically: a takes 10 then the last 5; b's 8 in its one slot.
    assert baseline.amp_slots == {"a": (0, 10, 5), "b": (0, 8, 0)}
    assert baseline.over_fuse  # 20 A on slot 1 > 15
    assert baseline.over_lowest_step  # 1 + 18 kW > 12
    assert baseline.step == 1
    assert baseline.cost == pytest.approx(K * (18 * 1 + 5 * 2) + 3.0)


def test_generated_days_are_many_distinct_and_consecutive() -> None:
    """The fixture day and ten more, each after the other, every one 96 slots."""
    base = fixture_day()
    assert base.prices[0] == pytest.approx(0.04697)
    assert len(base.prices) == 96
    days = generated_days(12)
    assert len(days) == 12
    assert len({day.prices for day in days}) == 12
    assert len(consecutive(days)) == 11
    assert any(min(day.prices) < 0 for day in days)
    assert any(len(set(day.prices)) == 1 for day in days)
    assert all(len(day.prices) == 96 for day in days)
    assert days == generated_days(12)  # seeded
    assert all(math.isfinite(p) for day in days for p in day.prices)


def test_scenarios_are_realistic() -> None:
    """Cars plugged in 17–22, ready at 07:00, fuses and needs in range."""
    for scenario in overnight_scenarios(generated_days(6), 12, seed=3):
        given = scenario.problem
        slots = len(given.prices)
        assert 36 <= slots <= 64
        for need in given.cars:
            assert slots - 8 == need.ready
            assert 5.0 <= need.need_kwh <= 60.0
            if need.lines == ALL:
                assert need.kwh_per_amp * given.amp_steps in (
                    TN3_KWH_PER_AMP,
                    IT3_KWH_PER_AMP,
                )
        steps = given.amp_steps
        assert all(0 <= amps <= 62 * steps for room in given.headroom for amps in room)
        assert scenario.grouped
