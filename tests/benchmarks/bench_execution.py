"""Benchmark: do executed plans stay in the capacity step the plans chose?

A month of nights (January 2025, Europe/Oslo) at one place per configuration,
simulated as the runtime does it with the pure logic only
(``tests/execution_sim.py``): a plan every 15-minute slot from each car's
remaining need and the meter's hours so far (``build_problem``, the capacity
tariff's ``step_options`` with Elvia's steps, 3 peaks, one per day;
``plan_charging``), each slot executed in 10 s steps by the balancer, cars
following a new limit one step later. Nights: plug-in 17:00–22:00 (a random
quarter hour per car), ready 07:00; between nights the house alone counts in
the month's hours too.

House: a real one, ``../shared/data/load/`` (OPSD, CoSSMic household
DE_KN_residential4, winter week from 2017-01-14: grid import minus its own EV
charger, hourly kW), its week repeated over the month. The planner's
forecast is the previous day of the trace at the same hour (so the forecast
error is the trace's own day-to-day change); reality is the trace. The trace
is hourly: ``flat`` holds each hour's kW for the whole hour; ``bursts`` puts
seeded appliance bursts (+1.5–3 kW, 5–15 min) into each hour and lowers the
rest so the hour's energy stays the trace's (what a meter sees within an
hour is not flat). Lines share the house unevenly (50/30/20 %, turning).

Prices: ``../shared/data/prices/FI_2023-03-19…25`` (ENTSO-E days, EUR/MWh,
as bench_planner reads them) repeated over the month, in NOK (× 11.5), plus
Elvia's energy tariff (day/night); without ``../shared`` the fixture day and
days generated from it (``tests/planner_days.py``). The output says which.

Execution modes, in the same run on the same nights:

- ``guard``: the runtime: waiting cars 0 A, planned cars share the slot's
  planned power under the fuse, cut by the capacity guard;
- ``plan_limit``: the slot's planned power as the only cap (no guard);
- ``fuse_share``: the behaviour before: planned slots get the full fuse share.

Figures per configuration, house variant and mode, each ``name: value unit``:
``nights_step_above_plan`` (nights after which the month's billed step so
far is above the highest step the plans chose so far; target 0),
``month_step_above_plan`` (at the month's end), ``hours_over_cap`` (clock
hours over the cap of the step in force at their end while the house alone
was under it; ``…_house_alone`` where the house by itself was over it),
``max_over_cap`` (kWh), the billed step and the plans' step (kW threshold),
costs in NOK (energy of what was charged at the slots' all-in prices, and
the month's step cost; ``plans``: slot 0 of each plan at its price, and the
highest step the plans chose), shortfalls at ready-by (kWh, nights short by
more than 0.1 kWh). The benchmark never fails on its figures.

    .venv/bin/python -m tests.benchmarks.bench_execution [--quick] [--nights N]
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
import csv
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
import random
import sys
import time as timer

from custom_components.homecharge.logic.capacity_tariff import (
    DEFAULT_RULE,
    CapacityStep,
    capacity_state,
)
from custom_components.homecharge.logic.grid_tariff import NORWEGIAN_ENERGY_TARIFF
from custom_components.homecharge.logic.place import GridType
from custom_components.homecharge.logic.planner.problem import SLOT

from ..execution_sim import (
    OSLO,
    Execution,
    Mode,
    Place,
    SimCar,
    amps_for_kw,
    line_shares,
    oslo,
)
from ..planner_days import NOK_PER, PriceDay, day_from_file, generated_days

SHARED = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"
LOAD = "opsd_DE_KN_residential4_{}_winter_2017-01-14_7d.csv"
PRICE_FILES = [f"FI_2023-03-{day}.csv" for day in range(19, 26)]
FIRST = date(2025, 1, 1)
OVER_KWH = 1e-6


def progress(text: str) -> None:
    """A status line on stderr (the figures go to stdout)."""
    sys.stderr.write(f"{timer.strftime('%H:%M:%S')} {text}\n")
    sys.stderr.flush()


@dataclass(frozen=True, kw_only=True)
class Config:
    """A place: grid, main fuse, cars (kind, max A)."""

    name: str
    grid: GridType
    fuse_a: float
    cars: tuple[tuple[str, float], ...]


CONFIGS = (
    Config(name="1car_tn3_25A", grid=GridType.THREE_PHASE_400_TN, fuse_a=25,
           cars=(("3", 16),)),
    Config(name="2cars_tn3+tn1_32A", grid=GridType.THREE_PHASE_400_TN, fuse_a=32,
           cars=(("3", 16), ("1", 32))),
    Config(name="3cars_it3+it3+it1_40A", grid=GridType.THREE_PHASE_230_IT,
           fuse_a=40, cars=(("3", 32), ("3", 16), ("1", 32))),
)  # fmt: skip


def read_trace(folder: Path) -> list[float] | None:
    """The house's hourly kW (grid import minus its EV), UTC from 2017-01-14."""
    try:
        series = {}
        for name in ("grid_import", "ev"):
            with (folder / LOAD.format(name)).open(newline="") as file:
                series[name] = [float(row["kW"]) for row in csv.DictReader(file)]
    except OSError:
        return None
    return [
        max(grid - ev, 0.0)
        for grid, ev in zip(series["grid_import"], series["ev"], strict=True)
    ]


class House:
    """The trace as the house (``bursts``: within-hour bursts) and its forecast."""

    def __init__(self, trace: Sequence[float], grid: GridType, bursts: bool) -> None:
        """Map January 2025 onto the trace's week (trace day = day of month)."""
        self.trace = trace
        self.grid = grid
        self.bursts = bursts
        self._minutes: dict[datetime, list[float]] = {}

    def hour_kw(self, moment: datetime, days_back: int = 0) -> float:
        """The trace's kW for the local hour holding ``moment`` (days earlier)."""
        local = moment.astimezone(OSLO)
        day = (local.date() - FIRST).days - days_back
        # The trace's timestamps are UTC; Konstanz and Oslo are both UTC+1.
        index = (day * 24 + local.hour - 1) % len(self.trace)
        return self.trace[index]

    def _minute_kw(self, hour: datetime) -> list[float]:
        minutes = self._minutes.get(hour)
        if minutes is None:
            mean = self.hour_kw(hour)
            rng = random.Random(int(hour.timestamp()))
            bursts = [0.0] * 60
            for _ in range(rng.randint(0, 2)):
                length, height = rng.randint(5, 15), rng.uniform(1.5, 3.0)
                first = rng.randrange(60 - length + 1)
                for minute in range(first, first + length):
                    bursts[minute] += height
            # Never below 0.2 kW: the bursts shrink to what the hour holds.
            room = max(mean - 0.2, 0.0) * 60
            scale = min(1.0, room / sum(bursts)) if sum(bursts) else 0.0
            base = mean - scale * sum(bursts) / 60
            minutes = [base + scale * burst for burst in bursts]
            self._minutes[hour] = minutes
        return minutes

    def actual(self, moment: datetime) -> tuple[float, float, float]:
        """What the house draws now, per line."""
        if self.bursts:
            hour = moment.replace(minute=0, second=0, microsecond=0)
            kw = self._minute_kw(hour)[moment.minute]
        else:
            kw = self.hour_kw(moment)
        return amps_for_kw(self.grid, kw, line_shares(moment))

    def forecast(self, moment: datetime) -> tuple[float, float, float]:
        """The planner's forecast: the same hour the day before."""
        return amps_for_kw(self.grid, self.hour_kw(moment, 1), line_shares(moment))


def price_days() -> tuple[list[PriceDay], str]:
    """Seven days of quarter-hour prices and where they came from."""
    folder = SHARED / "prices"
    files = [folder / name for name in PRICE_FILES]
    if all(path.is_file() for path in files):
        return [day_from_file(path) for path in files], "../shared/data/prices FI"
    return generated_days(7), "generated from tests/fixtures/prices (no ../shared)"


def month_prices(days: Sequence[PriceDay], count: int) -> dict[datetime, float]:
    """All-in NOK per kWh by UTC slot for ``count`` days from FIRST."""
    prices = {}
    for number in range(count):
        source = days[number % len(days)]
        factor = NOK_PER.get(source.currency, 1.0)
        start = oslo(FIRST + timedelta(days=number), 0)
        for slot, price in enumerate(source.prices[:96]):
            moment = start + slot * SLOT
            grid = NORWEGIAN_ENERGY_TARIFF.price_at(moment.astimezone(OSLO))
            prices[moment] = price * factor + grid
    return prices


def nights_cars(config: Config, nights: int, seed: int) -> list[list[SimCar]]:
    """Each night's cars: plug-in 17:00–22:00, ready 07:00, needs by kind."""
    rng = random.Random(seed)
    result = []
    line = rng.randrange(3)
    for night in range(nights):
        day = FIRST + timedelta(days=night)
        cars = []
        for number, (kind, max_a) in enumerate(config.cars):
            if kind == "3":
                lines = frozenset({0, 1, 2})
                need = rng.uniform(5.0, 40.0)
            elif config.grid is GridType.THREE_PHASE_230_IT:
                lines = frozenset({line, (line + 1) % 3})
                need = rng.uniform(3.0, 20.0)
            else:
                lines = frozenset({line})
                need = rng.uniform(3.0, 20.0)
            plug = oslo(day, 17) + rng.randrange(21) * SLOT
            cars.append(
                SimCar(
                    key=f"car{number + 1}",
                    lines=lines,
                    max_a=max_a,
                    need_kwh=round(need, 1),
                    plug=plug,
                    ready=oslo(day + timedelta(days=1), 7),
                )
            )
        result.append(cars)
    return result


@dataclass
class Tally:
    """One configuration × house variant × mode over the month."""

    nights_above: int = 0
    planned_cost: float = 0.0
    executed_cost: float = 0.0
    need: float = 0.0
    delivered: float = 0.0
    shortfall: float = 0.0
    nights_short: int = 0
    plan_step: CapacityStep | None = None
    plans: int = 0
    lines: list[str] = field(default_factory=list)


def higher(step: CapacityStep | None, than: CapacityStep | None) -> bool:
    """Whether ``step`` is above ``than`` (None: no step)."""
    if step is None:
        return False
    return than is None or step.threshold_kw > than.threshold_kw


def run_month(
    config: Config,
    house: House,
    mode: Mode,
    prices: dict[datetime, float],
    nights: list[list[SimCar]],
) -> Tally:
    """The month's nights in one mode, and its figures."""
    tally = Tally()
    execution = Execution(
        place=Place(grid=config.grid, fuse_a=config.fuse_a),
        mode=mode,
        house=house.actual,
        forecast=house.forecast,
        prices=prices,
        start=oslo(FIRST, 0),
    )
    for cars in nights:
        result = execution.night(cars)
        tally.plans += result.plans
        tally.planned_cost += result.planned_cost
        tally.executed_cost += result.executed_cost
        tally.need += result.need_kwh
        tally.delivered += result.delivered_kwh
        tally.shortfall += result.shortfall_kwh
        tally.nights_short += result.shortfall_kwh > 0.1
        if higher(result.plan_step, tally.plan_step):
            tally.plan_step = result.plan_step
        so_far = capacity_state(execution.hours(), execution.now.astimezone(OSLO))
        tally.nights_above += higher(so_far.step, tally.plan_step)
    at = execution.now.astimezone(OSLO)
    billed = capacity_state(execution.hours(), at).step
    house_only = capacity_state(execution.house_hours(), at).step
    capped = [r for r in execution.records.values() if r.cap is not None]
    feasible = [r for r in capped if r.house_kwh <= (r.cap or 0.0)]
    over = [r for r in feasible if r.kwh > (r.cap or 0.0) + OVER_KWH]
    over_house = [r for r in capped if r.house_kwh > (r.cap or 0.0)]
    worst = max((r.kwh - (r.cap or 0.0) for r in over), default=0.0)
    lowered = sum(1 for r in capped if min(r.caps) < r.caps[0] - OVER_KWH)
    plan_step = tally.plan_step or house_only
    name = f"{config.name}_{'bursts' if house.bursts else 'flat'}_{mode.value}"
    step_cost_billed = billed.monthly_cost
    step_cost_plans = plan_step.monthly_cost
    tally.lines = [
        f"{name}_nights_step_above_plan: {tally.nights_above} count",
        f"{name}_month_step_above_plan: {int(higher(billed, plan_step))} count",
        f"{name}_billed_step: {billed.threshold_kw:g} kW",
        f"{name}_plans_step: {plan_step.threshold_kw:g} kW",
        f"{name}_house_alone_step: {house_only.threshold_kw:g} kW",
        f"{name}_hours_capped: {len(capped)} count",
        f"{name}_hours_over_cap: {len(over)} count",
        f"{name}_hours_over_cap_house_alone: {len(over_house)} count",
        f"{name}_hours_cap_lowered_within: {lowered} count",
        f"{name}_max_over_cap: {worst:.4f} kWh",
        f"{name}_energy_cost_executed: {tally.executed_cost:.2f} NOK",
        f"{name}_energy_cost_plans: {tally.planned_cost:.2f} NOK",
        f"{name}_step_cost_billed: {step_cost_billed:.2f} NOK",
        f"{name}_step_cost_plans: {step_cost_plans:.2f} NOK",
        f"{name}_cost_executed: {tally.executed_cost + step_cost_billed:.2f} NOK",
        f"{name}_cost_plans: {tally.planned_cost + step_cost_plans:.2f} NOK",
        f"{name}_need: {tally.need:.1f} kWh",
        f"{name}_delivered: {tally.delivered:.1f} kWh",
        f"{name}_shortfall: {tally.shortfall:.2f} kWh",
        f"{name}_nights_short: {tally.nights_short} count",
        f"{name}_plans: {tally.plans} count",
    ]
    return tally


def main() -> None:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--nights", type=int, default=30, help="nights a month")
    parser.add_argument("--quick", action="store_true", help="a smoke run")
    parser.add_argument("--seed", type=int, default=2025)
    parser.add_argument(
        "--place",
        action="append",
        choices=[config.name for config in CONFIGS],
        help="only this place (repeatable; default: all)",
    )
    parser.add_argument(
        "--house",
        choices=("flat", "bursts"),
        help="only the house as recorded, or with bursts (default: both)",
    )
    args = parser.parse_args()
    nights = max(1, min(args.nights, 30))
    variants: tuple[bool, ...] = (False, True)
    if args.house:
        variants = (args.house == "bursts",)
    configs: Sequence[Config] = [
        config for config in CONFIGS if not args.place or config.name in args.place
    ]
    if args.quick:
        nights, variants = 3, (True,)
    trace = read_trace(SHARED / "load")
    if trace is None:
        print(
            "load_source: missing (../shared/data/load is absent; "
            "this benchmark needs the real house trace)"
        )
        return
    print("load_source: ../shared/data/load DE_KN_residential4 grid_import - ev")
    print(f"load_mean: {sum(trace) / len(trace):.3f} kW")
    print(f"load_max: {max(trace):.3f} kW")
    days, source = price_days()
    print(f"price_source: {source}")
    prices = month_prices(days, nights + 2)
    print(f"nights: {nights} count")
    print(f"capacity_rule_peaks: {DEFAULT_RULE.peaks} count")
    started = timer.perf_counter()
    for config in configs:
        # Each place its own cars, whichever places run.
        number = CONFIGS.index(config)
        cars = nights_cars(config, nights, args.seed + number)
        for bursts in variants:
            house = House(trace, config.grid, bursts)
            for mode in Mode:
                tally = run_month(config, house, mode, prices, cars)
                for line in tally.lines:
                    print(line, flush=True)
                progress(
                    f"{config.name} {'bursts' if bursts else 'flat'} {mode.value}: "
                    f"{timer.perf_counter() - started:.0f} s"
                )
    print(f"elapsed: {timer.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
