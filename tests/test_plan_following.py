"""How a plan's slot becomes limits: per car, and the slot's power."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from custom_components.homecharge.logic.capacity_guard import guard_kw, house_kw_ahead
from custom_components.homecharge.logic.plan_following import hour_plan_kw, slot_limits

PLANNED = {"waiting": 0.0, "charging": 10.0, "full_now": None}
KW_PER_AMP = {"waiting": 0.69, "charging": 0.69}


def test_with_a_meter_the_charging_cars_share_the_slots_power() -> None:
    """The waiting car is paused; the charging one is held by the slot's kW."""
    limits = slot_limits(PLANNED, KW_PER_AMP, metered=True)
    assert limits.amps == {"waiting": 0.0, "charging": None, "full_now": None}
    assert limits.planned_kw == pytest.approx(6.9)


def test_without_a_meter_each_car_gets_its_planned_current() -> None:
    """Nobody shares the slot: the plan's current per car, no power cap."""
    limits = slot_limits(PLANNED, KW_PER_AMP, metered=False)
    assert limits.amps == {"waiting": 0.0, "charging": 10.0, "full_now": None}
    assert limits.planned_kw is None


def test_no_car_in_the_plan_no_power_cap() -> None:
    """A plan without cars holds nothing."""
    limits = slot_limits({"a": None}, {}, metered=True)
    assert limits.amps == {"a": None}
    assert limits.planned_kw is None


@pytest.mark.parametrize(
    ("planned", "step", "cap", "by_plan"),
    [
        (None, None, None, False),
        (6.9, None, 6.9, True),
        (None, 3.0, 3.0, False),
        # The house above its forecast: the step's rest is less than planned.
        (6.9, 3.0, 3.0, False),
        (6.9, 9.0, 6.9, True),
    ],
)
def test_the_guard_takes_the_lower_of_plan_and_step(
    planned: float | None, step: float | None, cap: float | None, by_plan: bool
) -> None:
    """The cap, and whether *Limited by* should say the plan or the step."""
    assert guard_kw(planned, step) == (cap, by_plan)


def test_the_house_ahead_is_the_higher_of_now_and_forecast() -> None:
    """A quiet moment before the usual peak counts as the peak."""
    assert house_kw_ahead(1.0, 4.3) == 4.3
    assert house_kw_ahead(6.0, 4.3) == 6.0


def test_the_plans_power_in_the_slots_of_its_first_clock_hour() -> None:
    """A plan from 22:30 (Oslo): 22:30 and 22:45, in kW, none of 23:00."""
    oslo = ZoneInfo("Europe/Oslo")
    starts = [
        datetime(2026, 12, 7, 22, 30, tzinfo=oslo) + timedelta(minutes=15 * n)
        for n in range(4)
    ]
    planned = hour_plan_kw(
        starts,
        {"a": (16.0, 0.0, 10.0, 10.0), "b": (6.0, 6.0, 0.0, 0.0), "c": (8.0,) * 4},
        {"a": 0.69, "b": 0.23},
        oslo,
    )
    assert list(planned) == starts[:2]
    assert planned[starts[0]] == pytest.approx(16 * 0.69 + 6 * 0.23)
    assert planned[starts[1]] == pytest.approx(6 * 0.23)
    assert hour_plan_kw([], {}, {}, oslo) == {}
