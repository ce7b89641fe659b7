"""The capacity guard's budget: what is left of the hour's energy, spread out."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, strategies as st
import pytest

from custom_components.homecharge.logic.capacity_guard import (
    charging_budget_kw,
    forecast_rest_kw,
    planned_later_kwh,
    rest_of_hour,
)

HOUR = datetime(2026, 12, 7, 22, 0, tzinfo=UTC)


def test_what_is_left_of_the_hour_spread_over_what_is_left_of_it() -> None:
    """5 kWh allowed, 2 used by half past: 6 kW on average, the house takes 1."""
    budget = charging_budget_kw(
        cap_kw=5.0, used_kwh=2.0, house_kw=1.0, now=HOUR + timedelta(minutes=30)
    )
    assert budget == pytest.approx(5.0)


def test_the_house_above_its_forecast_leaves_the_cars_less() -> None:
    """The same hour with the house at 3 kW: the cars get 3 kW, not 5."""
    budget = charging_budget_kw(
        cap_kw=5.0, used_kwh=2.0, house_kw=3.0, now=HOUR + timedelta(minutes=30)
    )
    assert budget == pytest.approx(3.0)


def test_an_hour_over_its_cap_gets_nothing_more() -> None:
    """Used up before the hour ends: 0, never negative."""
    at = HOUR + timedelta(minutes=50)
    assert charging_budget_kw(cap_kw=5.0, used_kwh=5.2, house_kw=0.5, now=at) == 0


def test_the_last_seconds_are_not_stretched_to_infinity() -> None:
    """10 s before the hour ends, what is left counts as 30 s of room."""
    at = HOUR + timedelta(minutes=59, seconds=50)
    budget = charging_budget_kw(cap_kw=5.0, used_kwh=4.9, house_kw=0.0, now=at)
    assert budget == pytest.approx(0.1 / (30 / 3600))


@given(
    cap=st.floats(min_value=0, max_value=50),
    used=st.floats(min_value=0, max_value=50),
    house=st.floats(min_value=0, max_value=50),
    seconds=st.integers(min_value=0, max_value=3599),
)
def test_drawing_the_budget_to_the_end_of_the_hour_stays_in_the_cap(
    cap: float, used: float, house: float, seconds: int
) -> None:
    """Used + (house + budget) × rest of the hour never passes the cap.

    Unless the hour was already over it (then the budget is 0), or the rest
    is under the 30 s floor.
    """
    now = HOUR + timedelta(seconds=seconds)
    budget = charging_budget_kw(cap_kw=cap, used_kwh=used, house_kw=house, now=now)
    assert budget >= 0
    rest_h = max(3600 - seconds, 30) / 3600
    if budget > 0:
        assert used + (house + budget) * rest_h <= cap + 1e-9


def test_the_forecast_for_the_rest_of_the_hour_weighs_each_slot() -> None:
    """At :10, 5 min of the first slot, then three whole ones: 4.3 kW."""
    at = HOUR + timedelta(minutes=10)
    by_slot = {0: 1.0, 15: 2.0, 30: 3.0, 45: 9.0}
    average = forecast_rest_kw(at, lambda moment: by_slot[moment.minute // 15 * 15])
    assert average == pytest.approx((5 * 1 + 15 * 2 + 15 * 3 + 15 * 9) / 50)
    assert rest_of_hour(at) == pytest.approx(50 / 60)
    assert forecast_rest_kw(HOUR, lambda _moment: 2.5) == pytest.approx(2.5)


def test_the_plans_later_slots_keep_their_share_of_the_hour() -> None:
    """
    A plan that puts the hour's room in its cheap first slot keeps it there.

    5 kWh allowed, the house at 1 kW: the plan charges 8 kW in 22:00–22:15
    and 2.67 kW in the other three slots. The slot now gets what the hour
    leaves once the later slots have their 2 kWh: 8 kW (spread over the
    hour, it would have got 4).
    """
    planned = {
        HOUR + timedelta(minutes=m): kw
        for m, kw in ((0, 8.0), (15, 8 / 3), (30, 8 / 3), (45, 8 / 3))
    }
    later = planned_later_kwh(planned, HOUR)
    assert later == pytest.approx(2.0)
    budget = charging_budget_kw(
        cap_kw=5.0,
        used_kwh=0.0,
        house_kw=1.0,
        now=HOUR,
        later_kwh=later,
        planned_kw=planned[HOUR],
    )
    assert budget == pytest.approx(8.0)
    # The house below its forecast: the slot now may catch up.
    budget = charging_budget_kw(
        cap_kw=5.0,
        used_kwh=0.0,
        house_kw=0.6,
        now=HOUR,
        later_kwh=later,
        planned_kw=planned[HOUR],
    )
    assert budget == pytest.approx(8.0 + 0.4 / 0.25)
    # Half past, the house above its forecast: 5 − 3.6 − 1.5 · 0.5 = 0.65 kWh
    # left of the 1.33 planned; this slot and the last are cut alike.
    at = HOUR + timedelta(minutes=30)
    later = planned_later_kwh(planned, at)
    assert later == pytest.approx(2 / 3)
    budget = charging_budget_kw(
        cap_kw=5.0,
        used_kwh=3.6,
        house_kw=1.5,
        now=at,
        later_kwh=later,
        planned_kw=planned[at],
    )
    assert budget == pytest.approx(8 / 3 * 0.65 / (4 / 3))


def test_a_slot_that_has_begun_is_no_longer_later() -> None:
    """At 22:20 the 22:15 slot is the one now; slots of the next hour never count."""
    planned = {HOUR + timedelta(minutes=15 * n): 4.0 for n in range(8)}
    assert planned_later_kwh(planned, HOUR + timedelta(minutes=20)) == pytest.approx(
        2.0
    )
    assert planned_later_kwh(planned, HOUR + timedelta(minutes=59)) == 0


@given(
    shares=st.lists(st.floats(0, 20), min_size=4, max_size=4),
    house=st.floats(0, 4),
)
def test_following_an_hourly_plan_under_the_guard_stays_in_the_cap(
    shares: list[float], house: float
) -> None:
    """
    Cars that draw the guard's budget, slot by slot, keep the hour in the cap.

    Whatever the plan's shares of the hour (it may plan more than the hour
    holds), the house as forecast and the cars at most the budget: the hour
    ends at no more than the cap.
    """
    cap = 5.0
    planned = {HOUR + timedelta(minutes=15 * n): kw for n, kw in enumerate(shares)}
    used = 0.0
    step = timedelta(seconds=10)
    moment = HOUR
    while moment < HOUR + timedelta(hours=1):
        later = planned_later_kwh(planned, moment)
        slot = HOUR + (moment - HOUR) // timedelta(minutes=15) * timedelta(minutes=15)
        budget = charging_budget_kw(
            cap_kw=cap,
            used_kwh=used,
            house_kw=house,
            now=moment,
            later_kwh=later,
            planned_kw=planned[slot],
        )
        draw = min(budget, planned[slot])
        used += (draw + house) * step.total_seconds() / 3600
        moment += step
    assert used <= max(cap, house) + 1e-6


def test_a_slot_planned_low_is_not_cut_under_the_even_share() -> None:
    """
    The plan: 4.2 kW now, 8 kW later in the hour; the house runs 3.45 kW
    above its forecast. Cut alike, now would get 2.6 kW (a car's 6 A minimum
    is 4.14): it gets the rest of the hour spread evenly, 4.55 kW.
    """
    at = HOUR + timedelta(minutes=20)
    planned = {
        HOUR + timedelta(minutes=15 * n): kw
        for n, kw in enumerate((4.2, 4.2, 8.0, 8.0))
    }
    budget = charging_budget_kw(
        cap_kw=8.0,
        used_kwh=8.0 / 3,
        house_kw=3.45,
        now=at,
        later_kwh=planned_later_kwh(planned, at),
        planned_kw=4.2,
    )
    assert budget == pytest.approx(8.0 - 3.45)
