"""Benchmark: the smart-charging planner against the exact optimum and what peers do.

Price days: ``../shared/data/prices/*.csv`` when that folder is there (hourly
files spread to four 15-minute slots; SE3 2025-10-01 is 15-minute already),
else the ENTSO-E fixture day and days generated from it
(``tests/planner_days.py``); the output says which. Prices are per kWh in
each day's own currency (EUR, NOK, SEK): totals are given per currency.

Horizons, all in Europe/Oslo local time:

- ``overnight``: plugged in 17:00–22:00 on day d, ready at 07:00 on d+1 (the
  horizon runs on to the end of d+1's prices: nothing may charge after 07:00);
- ``48h``: two consecutive days, plugged in at 00:00 of d, ready at the end
  of d+1 (192 slots);
- ``day``: a day without the next one: 00:00 to 24:00.

Per horizon, scenarios of 1–4 cars (3-phase TN, 3-phase IT, 1-phase, and
mixed places of 3- and 1-phase cars), main fuse 16/25/40/63 A minus a house
forecast (evening and morning peaks, uneven over the lines), needs 5–60 kWh,
with and without a capacity tariff (three hand-made step ladders), no price
cap (so that the baselines deliver the same energy).

Figures, each ``name: value unit``:

- the planner's certified gap (its cost over its own lower bound, ``Plan.lower_bound``;
  "none" where it could not rule out more energy), and any certificate above
  the MILP's optimum (a false proof: must be 0);
- the planner's cost gap to the exact optimum (``solve_exact``: scipy's HiGHS
  MILP, each solve limited to ``--milp-seconds``; where it hits the limit its
  best plan stands in, counted in ``milp_unproven``), max and mean in % of
  the optimum's cost (at least 0.01 in the day's currency), and the largest
  in each currency, for one-group and mixed-group places; scenarios where the planner delivers less energy
  than the most possible are counted, not put into the gap;
- savings against charging at once (every car at full power from plug-in,
  shared out by a load balancer; blind to prices and tariff) and against
  "the N cheapest slots at full power" per car (what evcc and
  ev_smart_charging do; blind to the other cars, the fuse and the tariff),
  in % of the baseline's cost, over the scenarios where both deliver the
  same energy; energy plus the capacity step each ends up in (and the
  energy alone: ``…_energy_only``);
- how often that cheapest-slots schedule would exceed the fuse (the
  balancer would cut it) and raise the capacity step (above the lowest
  step's max_kw), in % of the scenarios (with a tariff, for the step);
- the planner's time for 4 cars × 48 h (192 slots, tariff on) over ≥ 200
  problems, and the MILP's time on the first of the same problems; the
  planner's time for a mixed place (2 three-phase, 2 one-phase cars) too.

The benchmark never fails on its figures; an infeasible plan raises.

    scripts/bench planner [--quick] [--runs 200] [--milp-seconds 10]
"""

from __future__ import annotations

import argparse
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
import random
import statistics
import sys
import time as timer

from custom_components.homecharge.logic.planner.model import Plan, PlanProblem
from custom_components.homecharge.logic.planner.solve import plan_charging

from ..planner_days import (
    FIXTURE,
    OSLO,
    SLOT,
    CarSpec,
    PriceDay,
    Scenario,
    build_problem,
    consecutive,
    day_from_file,
    generated_days,
    series,
)
from ..planner_reference import (
    Optimum,
    charge_immediately,
    cheapest_slots,
    check_plan,
    delivered,
    plan_cost,
    solve_exact,
)
from .baseline_planner import load_baseline

SHARED_PRICES = (
    Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "prices"
)
FUSES = (16, 25, 40, 63)
TARIFFS = ("steps5", "steps7", "steps10")
# Places: the kinds of their cars, in turn (one kind: one group).
PLACES = (("tn3",), ("it3",), ("tn3", "tn1"), ("it3", "it1"), ("tn1",))
# Per cent figures are relative to at least this much currency.
MIN_COST = 0.01
ENERGY_TOLERANCE = 1e-6


def progress(text: str) -> None:
    """A status line on stderr (the figures go to stdout)."""
    sys.stderr.write(f"{timer.strftime('%H:%M:%S')} {text}\n")
    sys.stderr.flush()


def percentile(values: Sequence[float], fraction: float) -> float:
    """The value below which ``fraction`` of them lie."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def price_days() -> tuple[list[PriceDay], str, list[str]]:
    """The days, where they came from, and the files used."""
    if SHARED_PRICES.is_dir():
        files = sorted(SHARED_PRICES.glob("*.csv"))
        if files:
            days = [day_from_file(path) for path in files]
            return days, "../shared/data/prices", [path.name for path in files]
    days = generated_days(12)
    return days, f"generated from tests/fixtures/prices/{FIXTURE.name}", [FIXTURE.name]


def random_cars(rng: random.Random, count: int, kinds: Sequence[str]) -> list[CarSpec]:
    """``count`` cars of the place's kinds in turn; 1-phase TN cars on one line."""
    line = rng.randrange(3)
    cars = []
    for number in range(count):
        kind = kinds[number % len(kinds)]
        one_phase = kind in ("tn1", "it1")
        cars.append(
            CarSpec(
                kind=kind,
                max_a=rng.choice((16, 32)),
                need_kwh=round(rng.uniform(5.0, 25.0 if one_phase else 60.0), 1),
                line=line,
            )
        )
    return cars


@dataclass(frozen=True, kw_only=True)
class Horizon:
    """Where a scenario's slots come from."""

    kind: str
    first: PriceDay
    second: PriceDay | None


def horizons(days: Sequence[PriceDay]) -> list[Horizon]:
    """Overnight and 48 h for each consecutive pair, a whole day for the rest."""
    pairs = consecutive(days)
    paired = {first.name for first, _ in pairs}
    found = []
    for first, second in pairs:
        found.append(Horizon(kind="overnight", first=first, second=second))
        found.append(Horizon(kind="48h", first=first, second=second))
    found.extend(
        Horizon(kind="day", first=day, second=None)
        for day in days
        if day.name not in paired
    )
    return found


def scenario_for(horizon: Horizon, turn: int, number: int) -> Scenario:
    """Scenario ``number`` of the ``turn``-th horizon: cars 1–4, fuse, tariff
    on and off, kind of place in turn (so that every combination comes up
    over the horizons)."""
    seed = turn * 97 + number
    rng = random.Random(seed)
    count = 1 + number % 4
    fuse = FUSES[(number // 4 + turn) % len(FUSES)]
    tariff = TARIFFS[seed % len(TARIFFS)] if (number + turn) % 2 else None
    kinds = PLACES[(number + 3 * turn) % len(PLACES)]
    cars = random_cars(rng, count, kinds)
    first, second = horizon.first, horizon.second
    days = (first,) if second is None else (first, second)
    prices = series(days)
    last = days[-1]
    end = last.start + SLOT * len(last.prices)
    if horizon.kind == "overnight":
        plug = 17 + (number + turn) % 6
        start = datetime.combine(first.day, time(plug), tzinfo=OSLO).astimezone(UTC)
        ready_day = None
        label = f"plug{plug}"
    else:
        start = first.start
        cars = [
            CarSpec(
                kind=c.kind,
                max_a=c.max_a,
                need_kwh=c.need_kwh,
                line=c.line,
                ready_hour=0.0,
            )
            for c in cars
        ]
        ready_day = last.day + timedelta(days=1)
        label = horizon.kind
    problem = build_problem(
        prices,
        start=start,
        end=end,
        cars=cars,
        fuse=fuse,
        tariff=tariff,
        currency=first.currency,
        seed=seed,
        ready_day=ready_day,
    )
    name = (
        f"{first.name}-{label}-{'+'.join(c.kind for c in cars)}-{fuse}A-"
        f"{tariff or 'notariff'}"
    )
    return Scenario(
        name=name, problem=problem, currency=first.currency, kind=horizon.kind
    )


def feasible(scenario: Scenario, plan: Plan) -> None:
    """Raise if the plan breaks a rule (the benchmark's only failure)."""
    errors = check_plan(scenario.problem, plan)
    if errors:
        raise RuntimeError(f"{scenario.name}: infeasible plan: {errors[:10]}")


@dataclass
class Tally:
    """What the scenarios add up to."""

    scenarios: int = 0
    one_group: int = 0
    mixed: int = 0
    tariffed: int = 0
    milp_unproven: int = 0
    planner_not_exact: int = 0
    gaps: dict[str, list[float]] = field(
        default_factory=lambda: {"one_group": [], "mixed": []}
    )
    short: dict[str, int] = field(default_factory=lambda: {"one_group": 0, "mixed": 0})
    below: dict[str, int] = field(default_factory=lambda: {"one_group": 0, "mixed": 0})
    worst: dict[str, tuple[float, str]] = field(default_factory=dict)
    worst_abs: dict[tuple[str, str], float] = field(
        default_factory=lambda: defaultdict(float)
    )
    immediate_pct: list[float] = field(default_factory=list)
    immediate_total: dict[str, float] = field(
        default_factory=lambda: defaultdict(float)
    )
    cheapest_pct: list[float] = field(default_factory=list)
    immediate_energy_pct: list[float] = field(default_factory=list)
    cheapest_energy_pct: list[float] = field(default_factory=list)
    cheapest_over_fuse: int = 0
    cheapest_raises_step: int = 0
    # The planner's own certificate: cost above its lower bound, in %; and
    # plans without one (more energy could not be ruled out).
    certified: dict[str, list[float]] = field(
        default_factory=lambda: {"one_group": [], "mixed": []}
    )
    uncertified: dict[str, int] = field(
        default_factory=lambda: {"one_group": 0, "mixed": 0}
    )
    # A certificate above the MILP's optimum would be a false proof.
    certificate_above_optimum: int = 0


def relative(saved: float, base: float) -> float:
    """``saved`` in % of ``base`` (at least ``MIN_COST``)."""
    return 100 * saved / max(abs(base), MIN_COST)


def evaluate(
    scenario: Scenario,
    tally: Tally,
    milp_seconds: float,
    baseline: Baseline | None = None,
) -> None:
    """Plan, check, compare with the optimum and both baselines."""
    problem = scenario.problem
    plan = plan_charging(problem)
    best: Optimum = solve_exact(problem, time_limit=milp_seconds)
    tally.milp_unproven += not best.proven
    cost, got = against_optimum(scenario, plan, best, tally)
    if baseline is not None:
        older = baseline.plan(problem)
        if check_plan(problem, older):
            # Its model may allow what the grid company's does not (a cap
            # per slot lets an hour with a house peak run over on average).
            baseline.infeasible += 1
            progress(f"{scenario.name}: the baseline's plan breaks a rule")
        else:
            against_optimum(scenario, older, best, baseline.tally)
    energy_cost = plan_cost(problem, plan.currents, plan.step)[0]
    tariffed = any(not step.unlimited for step in problem.steps)

    immediate = charge_immediately(problem)
    if abs(immediate.delivered_total - got) <= ENERGY_TOLERANCE:
        saved = immediate.cost - cost
        tally.immediate_pct.append(relative(saved, immediate.cost))
        tally.immediate_energy_pct.append(
            relative(immediate.energy_cost - energy_cost, immediate.energy_cost)
        )
        tally.immediate_total[scenario.currency] += saved

    cheapest = cheapest_slots(problem)
    if abs(cheapest.delivered_total - got) <= ENERGY_TOLERANCE:
        tally.cheapest_pct.append(relative(cheapest.cost - cost, cheapest.cost))
        tally.cheapest_energy_pct.append(
            relative(cheapest.energy_cost - energy_cost, cheapest.energy_cost)
        )
    tally.cheapest_over_fuse += cheapest.over_fuse
    tally.cheapest_raises_step += tariffed and cheapest.over_lowest_step


def against_optimum(
    scenario: Scenario, plan: Plan, best: Optimum, tally: Tally
) -> tuple[float, float]:
    """Tally a feasible plan's gap to the optimum; its cost and energy."""
    problem = scenario.problem
    feasible(scenario, plan)
    energy_cost, step_cost = plan_cost(problem, plan.currents, plan.step)
    cost = energy_cost + step_cost
    got = sum(delivered(problem, plan.currents).values())
    place = "one_group" if scenario.grouped else "mixed"
    tally.scenarios += 1
    tally.one_group += place == "one_group"
    tally.mixed += place == "mixed"
    tally.planner_not_exact += not plan.exact
    tariffed = any(not step.unlimited for step in problem.steps)
    tally.tariffed += tariffed
    if plan.lower_bound is None:
        tally.uncertified[place] += 1
    else:
        tally.certified[place].append(relative(cost - plan.lower_bound, cost))
    if plan.lower_bound is not None and plan.lower_bound > best.cost + 1e-6:
        tally.certificate_above_optimum += 1
        progress(f"{scenario.name}: certificate above the optimum?!")
    if got < best.delivered_total - ENERGY_TOLERANCE:
        tally.short[place] += 1
        progress(
            f"{scenario.name}: planner delivers {got:.3f} of "
            f"{best.delivered_total:.3f} kWh possible"
        )
    else:
        gap = relative(cost - best.cost, best.cost)
        if cost < best.cost_bound - 1e-6:
            tally.below[place] += 1
            progress(f"{scenario.name}: planner below the optimum's bound?!")
        tally.gaps[place].append(gap)
        key = (place, scenario.currency)
        tally.worst_abs[key] = max(tally.worst_abs[key], cost - best.cost)
        if gap > tally.worst.get(place, (0.0, ""))[0]:
            tally.worst[place] = (gap, scenario.name)
    return cost, got


@dataclass
class Baseline:
    """Another revision's planner (``--baseline``) and its figures."""

    plan: Callable[[PlanProblem], Plan]
    tally: Tally = field(default_factory=lambda: Tally())
    # Plans that break a rule of this revision's model (not in the tally).
    infeasible: int = 0


def print_baseline(baseline: Baseline) -> None:
    """The other revision's gaps, each figure prefixed ``baseline_``."""
    tally = baseline.tally
    print(f"baseline_infeasible: {baseline.infeasible} count")
    print(f"baseline_planner_not_exact: {tally.planner_not_exact} count")
    for place in ("one_group", "mixed"):
        if gaps := tally.gaps[place]:
            print(f"baseline_gap_{place}_max: {max(gaps):.4f} %")
            print(f"baseline_gap_{place}_mean: {statistics.fmean(gaps):.4f} %")
            print(f"baseline_gap_{place}_median: {statistics.median(gaps):.4f} %")
            print(f"baseline_gap_{place}_nonzero: {sum(g > 1e-6 for g in gaps)} count")
        short = tally.short[place]
        print(f"baseline_gap_{place}_planner_delivers_less: {short} count")
        if place in tally.worst:
            gap, name = tally.worst[place]
            progress(f"baseline: largest {place} gap {gap:.4f} %: {name}")


def print_tally(tally: Tally) -> None:
    """The scenario figures."""
    print(f"scenarios: {tally.scenarios} count")
    print(f"scenarios_one_group: {tally.one_group} count")
    print(f"scenarios_mixed: {tally.mixed} count")
    print(f"scenarios_with_tariff: {tally.tariffed} count")
    print(f"milp_unproven: {tally.milp_unproven} count")
    print(f"planner_not_exact: {tally.planner_not_exact} count")
    print(f"certificate_above_optimum: {tally.certificate_above_optimum} count")
    for place in ("one_group", "mixed"):
        gaps = tally.gaps[place]
        if gaps:
            print(f"gap_{place}_max: {max(gaps):.4f} %")
            print(f"gap_{place}_mean: {statistics.fmean(gaps):.4f} %")
            print(f"gap_{place}_median: {statistics.median(gaps):.4f} %")
            print(f"gap_{place}_nonzero: {sum(g > 1e-6 for g in gaps)} count")
        for (kind, currency), most in sorted(tally.worst_abs.items()):
            if kind == place:
                print(f"gap_{place}_max_{currency}: {most:.4f} {currency}")
        print(f"gap_{place}_planner_delivers_less: {tally.short[place]} count")
        if certified := tally.certified[place]:
            print(f"certified_gap_{place}_max: {max(certified):.4f} %")
            print(f"certified_gap_{place}_mean: {statistics.fmean(certified):.4f} %")
        print(f"certified_gap_{place}_none: {tally.uncertified[place]} count")
        print(f"gap_{place}_below_optimum: {tally.below[place]} count")
        if place in tally.worst:
            gap, name = tally.worst[place]
            progress(f"largest {place} gap {gap:.4f} %: {name}")
    if tally.immediate_pct:
        print(
            f"savings_vs_immediate_mean: {statistics.fmean(tally.immediate_pct):.2f} %"
        )
    if tally.immediate_energy_pct:
        mean = statistics.fmean(tally.immediate_energy_pct)
        print(f"savings_vs_immediate_energy_only_mean: {mean:.2f} %")
    print(f"savings_vs_immediate_compared: {len(tally.immediate_pct)} count")
    for currency, total in sorted(tally.immediate_total.items()):
        print(f"savings_vs_immediate_total_{currency}: {total:.2f} {currency}")
    if tally.cheapest_pct:
        print(
            f"savings_vs_cheapest_slots_mean: {statistics.fmean(tally.cheapest_pct):.2f} %"
        )
    if tally.cheapest_energy_pct:
        mean = statistics.fmean(tally.cheapest_energy_pct)
        print(f"savings_vs_cheapest_slots_energy_only_mean: {mean:.2f} %")
    print(f"savings_vs_cheapest_slots_compared: {len(tally.cheapest_pct)} count")
    if tally.scenarios:
        share = 100 * tally.cheapest_over_fuse / tally.scenarios
        print(f"cheapest_slots_over_fuse: {share:.1f} %")
    if tally.tariffed:
        share = 100 * tally.cheapest_raises_step / tally.tariffed
        print(f"cheapest_slots_raises_step: {share:.1f} %")


def timing_problems(
    days: Sequence[PriceDay], count: int, kinds: Sequence[str] = ("tn3",)
) -> list[Scenario]:
    """``count`` problems of 4 cars (``kinds`` in turn) × 192 slots with a tariff."""
    pairs = [
        (first, second)
        for first, second in consecutive(days)
        if len(first.prices) + len(second.prices) == 192
    ]
    if not pairs:
        return []
    problems = []
    for number in range(count):
        first, second = pairs[number % len(pairs)]
        rng = random.Random(1000 + number)
        cars = [
            CarSpec(
                kind=kinds[car % len(kinds)],
                max_a=rng.choice((16, 32)),
                need_kwh=round(rng.uniform(5.0, 60.0), 1),
                ready_hour=0.0,
            )
            for car in range(4)
        ]
        fuse = FUSES[number % len(FUSES)]
        tariff = TARIFFS[number % len(TARIFFS)]
        problem = build_problem(
            series((first, second)),
            start=first.start,
            end=second.start + SLOT * len(second.prices),
            cars=cars,
            fuse=fuse,
            tariff=tariff,
            currency=first.currency,
            seed=2000 + number,
            ready_day=second.day + timedelta(days=1),
        )
        assert len(problem.prices) == 192
        problems.append(
            Scenario(
                name=f"{first.name}-48h-4x{'+'.join(kinds)}-{fuse}A-{tariff}",
                problem=problem,
                currency=first.currency,
                kind="48h",
            )
        )
    return problems


def timed(
    problems: Sequence[Scenario], baseline: Baseline | None
) -> tuple[list[float], list[float]]:
    """Milliseconds per plan, and the baseline's, run alternately (same load)."""
    times: list[float] = []
    base_times: list[float] = []
    for scenario in problems:
        started = timer.perf_counter()
        plan = plan_charging(scenario.problem)
        times.append(1000 * (timer.perf_counter() - started))
        feasible(scenario, plan)
        if baseline is not None:
            started = timer.perf_counter()
            baseline.plan(scenario.problem)
            base_times.append(1000 * (timer.perf_counter() - started))
    return times, base_times


def print_times(name: str, times: Sequence[float]) -> None:
    """p50, p99 and max of ``times``."""
    if times:
        print(f"{name}_runs: {len(times)} count")
        print(f"{name}_p50: {statistics.median(times):.1f} ms")
        print(f"{name}_p99: {percentile(times, 0.99):.1f} ms")
        print(f"{name}_max: {max(times):.1f} ms")


def print_mixed_timing(
    problems: Sequence[Scenario], baseline: Baseline | None = None
) -> None:
    """Planner time on 2 three-phase + 2 one-phase cars × 48 h (no MILP)."""
    times, base_times = timed(problems, baseline)
    print_times("planner_mixed_4_cars_48h", times)
    print_times("baseline_planner_mixed_4_cars_48h", base_times)


def print_timing(
    problems: Sequence[Scenario],
    milp_runs: int,
    milp_seconds: float,
    baseline: Baseline | None = None,
) -> None:
    """Planner and MILP time on 4 cars × 48 h."""
    if not problems:
        print("planner_4_cars_48h_runs: 0 count")
        return
    plan_charging(problems[0].problem)  # warm up
    if baseline is not None:
        baseline.plan(problems[0].problem)
    times, base_times = timed(problems, baseline)
    print_times("planner_4_cars_48h", times)
    print_times("baseline_planner_4_cars_48h", base_times)
    milp_times = []
    unproven = 0
    gaps = []
    for scenario in problems[:milp_runs]:
        progress(f"MILP on {scenario.name}")
        started = timer.perf_counter()
        best = solve_exact(scenario.problem, time_limit=milp_seconds)
        milp_times.append(1000 * (timer.perf_counter() - started))
        unproven += not best.proven
        plan = plan_charging(scenario.problem)
        got = sum(delivered(scenario.problem, plan.currents).values())
        if got >= best.delivered_total - ENERGY_TOLERANCE:
            gaps.append(relative(plan.cost - best.cost, best.cost))
    print(f"milp_4_cars_48h_runs: {len(milp_times)} count")
    print(f"milp_4_cars_48h_p50: {statistics.median(milp_times):.1f} ms")
    print(f"milp_4_cars_48h_max: {max(milp_times):.1f} ms")
    print(f"milp_4_cars_48h_unproven: {unproven} count")
    if gaps:
        print(f"gap_4_cars_48h_max: {max(gaps):.4f} %")
    print(f"gap_4_cars_48h_planner_delivers_less: {len(milp_times) - len(gaps)} count")


def main() -> None:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--per-horizon", type=int, default=8, help="scenarios each")
    parser.add_argument("--runs", type=int, default=200, help="4 × 48 h timings")
    parser.add_argument("--milp-runs", type=int, default=10, help="MILPs timed")
    parser.add_argument(
        "--milp-seconds", type=float, default=10.0, help="limit per MILP solve"
    )
    parser.add_argument("--quick", action="store_true", help="a smoke run")
    parser.add_argument(
        "--baseline",
        type=Path,
        help="an older custom_components/homecharge to compare with (same run)",
    )
    args = parser.parse_args()
    per_horizon, runs, milp_runs = args.per_horizon, max(args.runs, 1), args.milp_runs
    if args.quick:
        per_horizon, runs, milp_runs = 2, 20, 2

    days, source, files = price_days()
    print(f"price_source: {source}")
    if source.startswith("generated"):
        print(
            "price_fallback: ../shared/data/prices is absent, "
            f"{len(days)} days generated from the fixture"
        )
    print(f"price_files: {' '.join(files)}")
    print(f"price_days: {len(days)} count")
    found = horizons(days)
    print(f"horizons: {len(found)} count")

    tally = Tally()
    baseline = None
    if args.baseline is not None:
        baseline = Baseline(load_baseline(args.baseline))
        print(f"baseline: {args.baseline}")
    started = timer.perf_counter()
    for index, horizon in enumerate(found):
        for number in range(per_horizon):
            scenario = scenario_for(horizon, index, number)
            evaluate(scenario, tally, args.milp_seconds, baseline)
        progress(
            f"{index + 1}/{len(found)} horizons, {tally.scenarios} scenarios, "
            f"{timer.perf_counter() - started:.0f} s"
        )
    print_tally(tally)
    if baseline is not None:
        print_baseline(baseline)
    print_timing(timing_problems(days, runs), milp_runs, args.milp_seconds, baseline)
    print_mixed_timing(timing_problems(days, runs, ("tn3", "tn1")), baseline)


if __name__ == "__main__":
    main()
