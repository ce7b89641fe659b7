"""With a meter, every executed clock hour stays inside the plan's step.

A few nights of the runtime's loop (``tests/execution_sim.py``: a plan every
15-minute slot from the remaining need, the slot executed in 10 s steps by
the balancer under the capacity guard) against a synthetic house that is not
its forecast: per-minute noise of ±30 % and 10-minute bursts of +2 kW the
forecast does not know. The capacity rule counts the month's single highest
hour (``peaks=1``) so that a step's cap is its threshold itself and the plans
charge right up to it: the guard has to work in most charging hours.

Asserted: each clock hour in which a plan with a capped step held cars
ends at or under that cap (the cap in force at the hour's end), wherever the
house's own energy in that hour was under it (the step was feasible).
The synthetic house never draws more than the cap's rate by itself (at
most 5.25 kW against caps of about 10 kW): under that the guard can keep
its promise. It cannot when the house alone draws above the cap's rate
late in an hour (the guard assumes the house goes on as it draws now):
``test_a_late_house_peak_after_the_cars_used_the_hour`` is that
counterexample, an expected failure until the runtime keeps a reserve.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
import random

import pytest

from custom_components.homecharge.logic.capacity_guard import (
    charging_budget_kw,
    forecast_rest_kw,
)
from custom_components.homecharge.logic.capacity_tariff import CapacityRule
from custom_components.homecharge.logic.place import GridType
from custom_components.homecharge.logic.planner.problem import SLOT

from .execution_sim import (
    OSLO,
    Execution,
    HourRecord,
    Mode,
    Place,
    SimCar,
    amps_for_kw,
    line_shares,
    oslo,
)

GRID = GridType.THREE_PHASE_400_TN
FIRST = date(2025, 1, 6)
NIGHTS = 2
# kWh of float noise an hour may be over its cap.
TOLERANCE_KWH = 1e-6


def forecast_kw(moment: datetime) -> float:
    """What the plan expects: evenings 2.5 kW, else 1.2 kW."""
    local = moment.astimezone(OSLO)
    return 2.5 if 17 <= local.hour < 22 else 1.2


def house_kw(moment: datetime, seed: int) -> float:
    """The forecast with per-minute noise and 10-minute bursts (seeded)."""
    minute = int(moment.timestamp()) // 60
    kw = forecast_kw(moment) * random.Random(seed * 7919 + minute).uniform(0.7, 1.3)  # noqa: S311
    if random.Random(seed * 104729 + minute // 10).random() < 0.2:  # noqa: S311
        kw += 2.0
    return kw


def run(seed: int, mode: Mode = Mode.GUARD) -> list[HourRecord]:
    """``NIGHTS`` nights of one 11 kW car needing 70 kWh; the hours it made."""
    rng = random.Random(seed)  # noqa: S311 - seeded test data
    prices = {
        oslo(FIRST, 0) + number * SLOT: round(rng.uniform(0.8, 1.6), 3)
        for number in range(96 * (NIGHTS + 2))
    }
    execution = Execution(
        place=Place(grid=GRID, fuse_a=25, rule=CapacityRule(peaks=1)),
        mode=mode,
        house=lambda m: amps_for_kw(GRID, house_kw(m, seed), line_shares(m)),
        forecast=lambda m: amps_for_kw(GRID, forecast_kw(m), line_shares(m)),
        prices=prices,
        start=oslo(FIRST, 0),
    )
    for night in range(NIGHTS):
        day = FIRST + timedelta(days=night)
        car = SimCar(
            key="car",
            lines=frozenset({0, 1, 2}),
            max_a=16,
            need_kwh=70.0,
            plug=oslo(day, 17),
            ready=oslo(day + timedelta(days=1), 7),
        )
        execution.night([car])
    return list(execution.records.values())


def over_cap(records: list[HourRecord]) -> list[HourRecord]:
    """Hours over the cap in force at their end, the house alone under it."""
    return [
        record
        for record in records
        if record.cap is not None
        and record.house_kwh <= record.cap
        and record.kwh > record.cap + TOLERANCE_KWH
    ]


@pytest.mark.parametrize("seed", [1, 2])
def test_every_guarded_hour_stays_in_the_plans_step(seed: int) -> None:
    """The guard keeps each feasible hour inside its step, house noise and all."""
    records = run(seed)
    capped = [record for record in records if record.cap is not None]
    # The plans did charge against a cap (else the test proves nothing).
    assert sum(record.charge_kwh > 1.0 for record in capped) >= 5
    assert max(record.kwh / record.cap for record in capped if record.cap) > 0.9
    over = over_cap(records)
    assert not over, [
        (r.start.isoformat(), round(r.kwh, 4), round(r.house_kwh, 4), r.cap)
        for r in over
    ]


def test_without_the_guard_the_same_nights_leave_the_step() -> None:
    """The control: the planned power alone lets the house's bursts through.

    (Seed 2: with hourly plans, seed 1's bursts happen to fall in hours the
    plan leaves room in.)
    """
    assert over_cap(run(2, Mode.PLAN))


def test_a_late_house_peak_the_forecast_knows_is_kept_in_the_hour() -> None:
    """The same hour when the forecast knows the 9 kW at :50 (the usual oven).

    The guard takes the higher of the house now and its forecast for the rest
    of the hour, so the cars leave the peak its energy: the hour ends at the
    cap, not above it.
    """
    start = oslo(FIRST, 23)

    def house_at(moment: datetime) -> float:
        return 1.0 if (moment - start) < timedelta(minutes=50) else 9.0

    def forecast(moment: datetime) -> float:
        """A learned profile: each 15-minute slot's average (45–60: 6.33 kW)."""
        return 1.0 if (moment - start) < timedelta(minutes=45) else 19 / 3

    cap, used = 5.0, 0.0
    for second in range(0, 3600, 10):
        now = (start + timedelta(seconds=second)).astimezone(OSLO)
        house = house_at(now)
        budget = charging_budget_kw(
            cap_kw=cap,
            used_kwh=used,
            house_kw=max(house, forecast_rest_kw(now, forecast)),
            now=now,
        )
        used += (house + min(budget, 11.0)) * 10 / 3600
    assert used <= cap + TOLERANCE_KWH, round(used, 3)


@pytest.mark.xfail(
    strict=True,
    reason="limitation: a house peak that neither the meter nor the forecast "
    "has seen yet, late in the hour, comes after the cars have used the "
    "hour's energy (README: known limitations)",
)
def test_a_late_house_peak_after_the_cars_used_the_hour() -> None:
    """Cap 5 kWh; the house 1 kW for 50 min, then 9 kW (oven, water heater).

    The hour's house energy is 2.33 kWh (the step is feasible). The cars
    follow the guard's budget every 10 s (11 kW car, no delay, no 6 A
    minimum): 4 kW for 50 min, then nothing; the hour ends at 5.67 kWh.
    """
    start = oslo(FIRST, 23)
    cap, used, house_only = 5.0, 0.0, 0.0
    for second in range(0, 3600, 10):
        house = 1.0 if second < 3000 else 9.0
        budget = charging_budget_kw(
            cap_kw=cap,
            used_kwh=used,
            house_kw=house,
            now=(start + timedelta(seconds=second)).astimezone(OSLO),
        )
        used += (house + min(budget, 11.0)) * 10 / 3600
        house_only += house * 10 / 3600
    assert house_only < cap
    assert used <= cap + TOLERANCE_KWH, round(used, 3)
