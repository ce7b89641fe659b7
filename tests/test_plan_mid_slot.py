"""A plan made mid-slot plans only what is left of the slot now.

Checked against a brute force over real currents that states the rule
directly: a current in slot 0 delivers only the share of the slot left.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import product
import math

from hypothesis import given, settings, strategies as st
import pytest

from custom_components.homecharge.logic.capacity_tariff import NO_TARIFF, StepOption
from custom_components.homecharge.logic.place import GridType
from custom_components.homecharge.logic.planner.model import CarNeed, PlanProblem
from custom_components.homecharge.logic.planner.problem import (
    CarInput,
    NeedSource,
    build_problem,
    summarize,
)
from custom_components.homecharge.logic.planner.solve import plan_charging
from custom_components.homecharge.logic.slot_prices import SlotPrice

KWH_PER_AMP = 0.1725  # 3 × 230 V, a quarter of an hour, per amp
# In tenths of an ampere, as build_problem plans: off, or 6.0 A to 16.0 A.
TENTHS = (0, *range(60, 161))


def brute_force(
    prices: list[float], share: float, need: int, headroom: list[int]
) -> tuple[float, float]:
    """
    (most energy, least cost of it) over every current per slot, up to the need.

    In tenth-of-an-ampere slots. A current in slot 0 delivers ``share`` of
    its energy; the model plans no more than the need (model.py).
    """
    best: tuple[float, float] | None = None
    for amps in product(TENTHS, repeat=len(prices)):
        if any(a > room for a, room in zip(amps, headroom, strict=True)):
            continue
        energy = sum(a * (share if t == 0 else 1.0) for t, a in enumerate(amps))
        if energy > need + 1e-9:
            continue
        cost = sum(
            p * a * (share if t == 0 else 1.0)
            for t, (p, a) in enumerate(zip(prices, amps, strict=True))
        )
        if best is None or (-energy, cost) < (-best[0], best[1]):
            best = (energy, cost)
    assert best is not None
    return best


def car_problem(
    prices: list[float],
    share: float,
    need: int,
    headroom: list[int],
    *,
    steps: int = 10,
) -> PlanProblem:
    """One 3-phase car, 6–16 A, in ``steps`` per ampere; need and room in steps."""
    return PlanProblem(
        prices=prices,
        headroom=[[room] * 3 for room in headroom],
        house_kw=[0.0] * len(prices),
        cars=[
            CarNeed(
                key="car",
                lines=frozenset({0, 1, 2}),
                kwh_per_amp=KWH_PER_AMP / steps,
                max_a=16 * steps,
                min_a=6 * steps,
                need_kwh=need * KWH_PER_AMP / steps,
                ready=len(prices),
            )
        ],
        steps=NO_TARIFF,
        amp_steps=steps,
        first_slot_share=share,
    )


@settings(max_examples=40, deadline=None)
@given(
    prices=st.lists(st.integers(1, 9), min_size=2, max_size=2),
    share=st.floats(0.05, 1.0),
    need=st.integers(1, 320),
    headroom=st.lists(st.integers(0, 200), min_size=2, max_size=2),
)
def test_slot_now_counts_for_what_is_left_of_it(
    prices: list[int], share: float, need: int, headroom: list[int]
) -> None:
    """Energy and cost as the brute force over real currents finds them.

    Energy to a step of current in slot 0 (0.1 A for the share left) at each
    end of its range; with the same energy, the cost.
    """
    problem = car_problem([float(p) for p in prices], share, need, headroom)
    plan = plan_charging(problem)
    currents = [round(amps * 10) for amps in plan.currents["car"]]

    for t, tenths in enumerate(currents):
        assert tenths == 0 or 60 <= tenths <= min(160, headroom[t])
    delivered = sum(a * problem.slot_share(t) for t, a in enumerate(currents))
    assert plan.delivered_kwh["car"] == pytest.approx(delivered * KWH_PER_AMP / 10)
    # A need under the minimum is a slot at the minimum (CarNeed.need_amps).
    most, least = brute_force(
        [float(p) for p in prices], share, max(need, 60), headroom
    )
    # Known limit: slot 0's room within a step of the minimum (6.0 A for
    # five eighths is 37.5 energy-true steps, between 37 and 38) is not used.
    room = min(160, headroom[0])
    lost = room >= 60 and math.floor(room * share + 1e-9) < math.ceil(60 * share - 1e-9)
    assert delivered >= most - 2 or (lost and delivered >= most - room * share)
    if delivered >= most - 1e-9:
        # Slot 0's current rounded up within its step may deliver a little
        # more than the need (less than a step): at most that much dearer.
        extra = (delivered - most) * max(prices)
        per_step = KWH_PER_AMP / 10
        assert plan.energy_cost <= (least + extra) * per_step + 1e-9
        if delivered <= most + 1e-9:
            assert plan.energy_cost == pytest.approx(least * per_step)


def test_an_awkward_share_stays_within_the_limits() -> None:
    """Slot 0 with 40 % left: the current never passes the car's or the line's.

    14 A for 40 % is 5.6 amp-slots; the plan takes 5 of them (12 A: 4.8 is
    the most in whole steps under 14 A) and the rest later.
    """
    problem = car_problem([1.0, 5.0, 5.0], 0.4, 20, [14, 20, 20], steps=1)
    plan = plan_charging(problem)
    now = plan.currents["car"][0]
    assert 6 <= now <= 14
    assert plan.delivered_kwh["car"] >= (20 - 1) * KWH_PER_AMP


def test_build_problem_takes_the_share_from_now() -> None:
    """12:05 in the 12:00 slot: two thirds left; summarize counts that much."""
    start = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
    prices = [
        SlotPrice(start=start + n * timedelta(minutes=15), price=price)
        for n, price in enumerate([0.1, 1.0, 1.0, 1.0])
    ]
    car = CarInput(
        key="cp",
        name="Garage",
        lines=frozenset({0, 1, 2}),
        kwh_per_amp=KWH_PER_AMP,
        max_a=16,
        need_kwh=4.0,
        need_source=NeedSource.DEFAULT,
        ready_by=start + timedelta(hours=1),
    )

    def plan_at(now: datetime | None) -> tuple[PlanProblem, tuple[float, ...], float]:
        problem = build_problem(
            prices=prices,
            house_a=[(0.0, 0.0, 0.0)] * 4,
            grid=GridType.THREE_PHASE_400_TN,
            fuse_a=25.0,
            margin_a=0.0,
            cars=[car],
            steps=(StepOption(extra_cost=0.0, max_kw=None),),
            price_cap=None,
            continuous=False,
            now=now,
        )
        plan = plan_charging(problem)
        summary = summarize(problem, plan, prices, [car])["cp"]
        return problem, plan.currents["cp"], summary.energy_kwh

    problem, mid, energy = plan_at(start + timedelta(minutes=5))
    full, whole, whole_energy = plan_at(None)
    assert problem.first_slot_share == pytest.approx(2 / 3)
    assert full.first_slot_share == 1.0
    assert plan_at(start)[0].first_slot_share == 1.0
    # The cheap slot at 16 A either way: two thirds of 160 tenths are 106
    # energy-true steps, and 160 tenths are still within the 106th. A whole
    # slot of it covers 2.76 of the 4 kWh, two thirds only 1.84: the rest
    # comes later.
    assert mid[0] == whole[0] == 16.0
    assert sum(mid[1:]) > sum(whole[1:])
    assert energy == pytest.approx(whole_energy, abs=0.02)
    assert energy >= 4.0 - 0.1


def test_two_cars_mid_slot_stay_within_the_line() -> None:
    """Rounded up within their steps, two cars' currents still fit the line.

    Slot 0 has 20.5 A of room for two 16 A cars and two thirds left; each
    current is lifted to the top of its energy-true step only where the line
    has room for it.
    """
    share = 2 / 3
    for room in range(120, 321, 7):
        problem = PlanProblem(
            prices=[1.0, 9.0, 9.0],
            headroom=[[room] * 3, [320] * 3, [320] * 3],
            house_kw=[0.0] * 3,
            cars=[
                CarNeed(
                    key=key,
                    lines=frozenset({0, 1, 2}),
                    kwh_per_amp=KWH_PER_AMP / 10,
                    max_a=160,
                    min_a=60,
                    need_kwh=2 * KWH_PER_AMP * 16,
                    ready=3,
                )
                for key in ("a", "b")
            ],
            amp_steps=10,
            first_slot_share=share,
        )
        plan = plan_charging(problem)
        now = [round(plan.currents[key][0] * 10) for key in ("a", "b")]
        assert sum(now) <= room
        assert all(tenths == 0 or 60 <= tenths <= 160 for tenths in now)
        # The cheap slot is used as far as the line allows, to a step each.
        assert sum(now) >= min(room, 320) - 2 / share * 2


def test_now_outside_the_first_slot_is_refused() -> None:
    """A plan's first slot must hold ``now``: anything else is a caller's bug."""
    start = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
    prices = [SlotPrice(start=start, price=1.0)]
    with pytest.raises(ValueError, match="not in the slot"):
        build_problem(
            prices=prices,
            house_a=[(0.0, 0.0, 0.0)],
            grid=GridType.THREE_PHASE_400_TN,
            fuse_a=25.0,
            margin_a=0.0,
            cars=[],
            steps=NO_TARIFF,
            price_cap=None,
            continuous=False,
            now=start + timedelta(minutes=15),
        )
