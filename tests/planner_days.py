"""Price days and planning scenarios for the planner's tests and benchmark.

Everything here comes from ``tests/fixtures/prices/FI_2024-02-20.csv`` (one
ENTSO-E day) or from fixed seeds: a clone of the project has no
``../shared``. ``generated_days`` derives further consecutive days from the
fixture (scaled, shifted, noisy, a day with negative prices, a flat day of
ties, …). ``build_problem`` turns a stretch of prices into a ``PlanProblem``:
the horizon starts when the cars are plugged in (local time, Europe/Oslo),
each car must be done by its ready time (07:00 the next morning by default),
and the fuse headroom per line is the main fuse minus a 1 A margin minus a
house forecast with evening and morning peaks.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
import csv
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
import math
from pathlib import Path
import random
from zoneinfo import ZoneInfo

from custom_components.homecharge.logic.capacity_tariff import NO_TARIFF, StepOption
from custom_components.homecharge.logic.planner.model import CarNeed, PlanProblem
from custom_components.homecharge.logic.planner.problem import (
    AMP_STEPS,
    MIN_A,
    slot_hours,
)

OSLO = ZoneInfo("Europe/Oslo")
SLOT = timedelta(minutes=15)
FIXTURE = Path(__file__).parent / "fixtures" / "prices" / "FI_2024-02-20.csv"
MARGIN_A = 1

# kWh that 1 A delivers in one 15-minute slot.
TN3_KWH_PER_AMP = 3 * 230 * 0.25 / 1000
TN1_KWH_PER_AMP = 230 * 0.25 / 1000
IT3_KWH_PER_AMP = math.sqrt(3) * 230 * 0.25 / 1000
IT1_KWH_PER_AMP = 230 * 0.25 / 1000

# Car kinds: grid, lines (None: one line, picked per car), energy per amp.
CAR_KINDS: dict[str, tuple[str, frozenset[int] | None, float]] = {
    "tn3": ("tn", frozenset({0, 1, 2}), TN3_KWH_PER_AMP),
    "tn1": ("tn", None, TN1_KWH_PER_AMP),
    "it3": ("it", frozenset({0, 1, 2}), IT3_KWH_PER_AMP),
    "it1": ("it", frozenset({0, 1}), IT1_KWH_PER_AMP),
}

# Capacity tariffs by hand, in NOK a month (scaled to the day's currency):
# the step the month is in costs nothing extra, the next ones do.
TARIFFS: dict[str, tuple[tuple[float, float | None], ...]] = {
    "steps5": ((0.0, 5.0), (110.0, 10.0), (220.0, None)),
    "steps10": ((0.0, 10.0), (150.0, 15.0), (300.0, 20.0)),
    "steps7": ((0.0, 7.0), (40.0, 12.0), (95.0, None)),
}
NOK_PER = {"NOK": 1.0, "SEK": 1.0, "EUR": 11.5}


@dataclass(frozen=True, kw_only=True)
class PriceDay:
    """One local day of quarter-hour prices per kWh."""

    name: str
    day: date
    start: datetime  # UTC: local midnight
    prices: tuple[float, ...]
    currency: str
    area: str = "FI"
    source: str = "generated"


def local_midnight(day: date) -> datetime:
    """Local (Europe/Oslo) midnight of ``day``, in UTC."""
    return datetime.combine(day, time(0), tzinfo=OSLO).astimezone(UTC)


def read_price_file(path: Path) -> tuple[dict[datetime, float], str]:
    """Quarter-hour prices per kWh by UTC start (hours spread to four slots)."""
    prices: dict[datetime, float] = {}
    currency = ""
    with path.open(newline="") as file:
        for row in csv.DictReader(file):
            start = datetime.fromisoformat(row["start_utc"].replace("Z", "+00:00"))
            end = datetime.fromisoformat(row["end_utc"].replace("Z", "+00:00"))
            price = float(row["price"])
            unit = row["unit"]
            currency = row["currency"]
            if unit.endswith("/MWh"):
                price /= 1000
            elif not unit.endswith("/kWh"):
                raise ValueError(f"{path.name}: unit {unit!r}")
            moment = start
            while moment < end:
                prices[moment.astimezone(UTC)] = price
                moment += SLOT
    return prices, currency


def day_from_file(path: Path) -> PriceDay:
    """A price file as a local day (its slots from local midnight on)."""
    prices, currency = read_price_file(path)
    # Nord Pool's (and ENTSO-E's) delivery day is CET's: Oslo's midnight too.
    day = min(prices).astimezone(OSLO).date()
    ordered = tuple(prices[moment] for moment in sorted(prices))
    return PriceDay(
        name=path.stem,
        day=day,
        start=local_midnight(day),
        prices=ordered,
        currency=currency,
        area=path.stem.split("_")[0],
        source=path.name,
    )


def fixture_day() -> PriceDay:
    """The ENTSO-E day shipped with the tests: FI, 2024-02-20, EUR."""
    return day_from_file(FIXTURE)


def _noisy(rng: random.Random, prices: Sequence[float], spread: float) -> list[float]:
    return [price + rng.gauss(0.0, spread) for price in prices]


def generated_days(count: int = 12) -> list[PriceDay]:
    """The fixture day and ``count - 1`` days after it, derived by fixed seeds.

    They follow one another (2024-02-20, 21, …) so that any day and the next
    make an overnight horizon. Variants: scaled, shifted by hours, noisy per
    quarter, a day with negative prices, a flat day (every slot tied), a
    day of a few price levels (many ties), an expensive night, a spiky
    evening, a calm day.
    """
    base = fixture_day()
    hourly = [base.prices[4 * hour] for hour in range(24)]
    mean = sum(hourly) / len(hourly)

    def quarters(values: Sequence[float]) -> list[float]:
        return [value for value in values for _ in range(4)]

    recipes = [
        ("scaled", lambda rng: [p * rng.uniform(1.5, 2.5) for p in quarters(hourly)]),
        (
            "shifted",
            lambda rng: quarters(hourly[3:] + hourly[:3]),
        ),
        ("noisy", lambda rng: _noisy(rng, quarters(hourly), 0.008)),
        (
            "negative",
            lambda rng: [
                p - 0.075 + rng.gauss(0.0, 0.004) for p in quarters(hourly[::-1])
            ],
        ),
        ("flat", lambda rng: [round(mean, 4)] * 96),
        (
            "levels",
            lambda rng: quarters([round(p / 0.02) * 0.02 for p in hourly]),
        ),
        (
            "night_expensive",
            lambda rng: quarters([2 * mean - p for p in hourly]),
        ),
        (
            "spiky",
            lambda rng: [
                p * (3.0 if 68 <= q < 80 else 1.0) + rng.uniform(0.0, 0.01)
                for q, p in enumerate(quarters(hourly))
            ],
        ),
        ("calm", lambda rng: [mean + 0.2 * (p - mean) for p in quarters(hourly)]),
        (
            "rotated_noisy",
            lambda rng: _noisy(rng, quarters(hourly[12:] + hourly[:12]), 0.01),
        ),
        ("cheap", lambda rng: [p * 0.3 for p in quarters(hourly)]),
    ]
    days = [base]
    for number in range(count - 1):
        label, recipe = recipes[number % len(recipes)]
        rng = random.Random(20240220 + number)  # noqa: S311 - seeded test data
        day = base.day + timedelta(days=number + 1)
        prices = recipe(rng)
        days.append(
            PriceDay(
                name=f"gen{number + 1:02}-{label}",
                day=day,
                start=local_midnight(day),
                prices=tuple(round(price, 6) for price in prices),
                currency=base.currency,
            )
        )
    return days


def consecutive(days: Sequence[PriceDay]) -> list[tuple[PriceDay, PriceDay]]:
    """Pairs of days of one area where the second starts when the first ends."""
    by_start = {(day.area, day.currency, day.start): day for day in days}
    pairs = []
    for day in days:
        after = by_start.get(
            (day.area, day.currency, day.start + SLOT * len(day.prices))
        )
        if after is not None:
            pairs.append((day, after))
    return pairs


def series(days: Iterable[PriceDay]) -> dict[datetime, float]:
    """Prices of several days by UTC slot start."""
    return {
        day.start + number * SLOT: price
        for day in days
        for number, price in enumerate(day.prices)
    }


def house_kw(moment: datetime, rng: random.Random) -> float:
    """A winter house's load: low at night, peaks in the morning and evening."""
    local = moment.astimezone(OSLO)
    hour = local.hour + local.minute / 60
    load = 0.6 + 0.8  # standby plus some heating
    if 6 <= hour < 8.5:
        load += 1.8 * math.sin(math.pi * (hour - 6) / 2.5)
    if 16 <= hour < 22:
        load += 3.2 * math.sin(math.pi * (hour - 16) / 6)
    if 0 <= hour < 5:
        load += 0.9  # water heater at night
    return round(max(0.2, load + rng.uniform(-0.3, 0.6)), 3)


def line_shares(moment: datetime) -> tuple[float, float, float]:
    """How the house spreads over the lines (uneven, shifting by the hour)."""
    turn = moment.astimezone(OSLO).hour % 3
    shares = (0.5, 0.3, 0.2)
    return (shares[turn], shares[(turn + 1) % 3], shares[(turn + 2) % 3])


def headroom(
    fuse: int, grid: str, kw: float, moment: datetime, amp_steps: int = 1
) -> tuple[int, int, int]:
    """Whole steps per line left by the house under ``fuse`` minus the margin."""
    # A balanced 3-phase load of P kW draws P / (V_eff) A per line.
    v_eff = 3 * 0.230 if grid == "tn" else math.sqrt(3) * 0.230
    room = [
        max(0, math.floor((fuse - MARGIN_A - 3 * share * kw / v_eff) * amp_steps))
        for share in line_shares(moment)
    ]
    return (room[0], room[1], room[2])


def steps_for(tariff: str | None, currency: str) -> tuple[StepOption, ...]:
    """A hand-made capacity tariff in the day's currency."""
    if tariff is None:
        return NO_TARIFF
    factor = NOK_PER.get(currency, 1.0)
    return tuple(
        StepOption(extra_cost=round(cost / factor, 2), max_kw=max_kw)
        for cost, max_kw in TARIFFS[tariff]
    )


@dataclass(frozen=True, kw_only=True)
class CarSpec:
    """A car in a scenario: kind, line (1-phase TN), maximum, need, ready."""

    kind: str
    max_a: int
    need_kwh: float
    line: int = 0
    ready_hour: float = 7.0


@dataclass(frozen=True, kw_only=True)
class Scenario:
    """A named planning problem."""

    name: str
    problem: PlanProblem
    currency: str
    kind: str = "overnight"

    @property
    def grouped(self) -> bool:
        """Whether the cars form one group (same lines, same energy per amp)."""
        cars = [car for car in self.problem.cars if car.need_amps > 0]
        return all(
            car.lines == cars[0].lines and car.kwh_per_amp == cars[0].kwh_per_amp
            for car in cars
        )


def build_problem(
    prices: dict[datetime, float],
    *,
    start: datetime,
    end: datetime,
    cars: Sequence[CarSpec],
    fuse: int,
    tariff: str | None,
    currency: str,
    price_cap: float | None = None,
    seed: int = 0,
    ready_day: date | None = None,
    amp_steps: int = AMP_STEPS,
    hourly: bool = True,
) -> PlanProblem:
    """The problem from ``start`` to ``end`` (UTC; both on the slot grid).

    A car's ready time is ``ready_hour`` local on ``ready_day`` (default: the
    day after ``start``), or the end of the horizon if that comes first.
    Currents in ``amp_steps`` to the ampere (tenths, as the integration plans).
    ``hourly``: the capacity step caps each clock hour's average, as the grid
    company measures it (else each slot's power).
    """
    rng = random.Random(seed)  # noqa: S311 - seeded test data
    moments = []
    moment = start
    while moment < end:
        moments.append(moment)
        moment += SLOT
    grids = {CAR_KINDS[spec.kind][0] for spec in cars}
    if len(grids) != 1:
        raise ValueError("cars of one place share its grid")
    grid = grids.pop()
    house = [house_kw(moment, rng) for moment in moments]
    local_start = start.astimezone(OSLO)
    ready_on = ready_day or local_start.date() + timedelta(days=1)
    needs = []
    for number, spec in enumerate(cars):
        _, lines, kwh_per_amp = CAR_KINDS[spec.kind]
        hours, minutes = divmod(round(spec.ready_hour * 60), 60)
        ready_at = datetime.combine(ready_on, time(hours, minutes), tzinfo=OSLO)
        ready = min(len(moments), math.ceil((ready_at - start) / SLOT))
        needs.append(
            CarNeed(
                key=f"car{number + 1}",
                lines=lines if lines is not None else frozenset({spec.line}),
                kwh_per_amp=kwh_per_amp / amp_steps,
                max_a=spec.max_a * amp_steps,
                min_a=MIN_A * amp_steps,
                need_kwh=spec.need_kwh,
                ready=max(0, ready),
            )
        )
    return PlanProblem(
        prices=tuple(prices[moment] for moment in moments),
        headroom=tuple(
            headroom(fuse, grid, kw, moment, amp_steps)
            for kw, moment in zip(house, moments, strict=True)
        ),
        house_kw=tuple(house),
        cars=tuple(needs),
        steps=steps_for(tariff, currency),
        price_cap=price_cap,
        amp_steps=amp_steps,
        slot_hours=slot_hours(moments, OSLO) if hourly else (),
    )


def quantile(values: Sequence[float], fraction: float) -> float:
    """The value ``fraction`` of the way up the sorted values."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


FUSES = (16, 20, 25, 32, 40, 50, 63)
ONE_GROUP_KINDS = ("tn3", "tn1", "it3", "it1")
MIXES = (("tn3", "tn1"), ("tn3", "tn3", "tn1"), ("it3", "it1"), ("tn3", "tn1", "tn1"))


def random_cars(
    rng: random.Random, count: int, kinds: Sequence[str], *, mixed: bool
) -> list[CarSpec]:
    """``count`` cars: of one kind (one group) or a mix of kinds."""
    specs = []
    line = rng.randrange(3)
    for number in range(count):
        kind = kinds[number % len(kinds)] if mixed else kinds[0]
        three_phase = CAR_KINDS[kind][1] == frozenset({0, 1, 2})
        specs.append(
            CarSpec(
                kind=kind,
                max_a=rng.choice((16, 16, 32) if not three_phase else (10, 16, 16, 32)),
                need_kwh=round(rng.uniform(5.0, 60.0 if three_phase else 25.0), 1),
                # One group: every 1-phase TN car on the same line.
                line=line if not mixed else rng.randrange(3),
                ready_hour=7.0,
            )
        )
    return specs


def overnight_scenarios(
    days: Sequence[PriceDay],
    count: int,
    *,
    seed: int,
    mixed: bool = False,
    max_plug_hour: int = 22,
    extra_slots: int = 8,
    tariffs: Sequence[str | None] = (None, "steps5", None, "steps10", "steps7"),
    cap_every: int = 4,
) -> list[Scenario]:
    """``count`` overnight scenarios: plug-in 17–22 on day d, ready 07:00 on d+1.

    The horizon runs ``extra_slots`` past 07:00 (nothing may charge there).
    Cars 1–4 of one group (``mixed``: several kinds), fuses 16–63 A, needs
    5–60 kWh, tariffs and a price cap (the 70 % quantile) in turn.
    """
    rng = random.Random(seed)  # noqa: S311 - seeded test data
    pairs = consecutive(days)
    if not pairs:
        raise ValueError("no two consecutive days")
    scenarios = []
    for number in range(count):
        first, second = pairs[number % len(pairs)]
        prices = series((first, second))
        cars_count = 1 + number % 4 if not mixed else 2 + number % 3
        if mixed:
            kinds: Sequence[str] = MIXES[number % len(MIXES)]
            cars = random_cars(rng, cars_count, kinds, mixed=True)
        else:
            kind = ONE_GROUP_KINDS[(number // 4) % len(ONE_GROUP_KINDS)]
            cars = random_cars(rng, cars_count, (kind,), mixed=False)
        fuse = rng.choice(FUSES)
        plug = rng.randint(17, max_plug_hour)
        start = datetime.combine(first.day, time(plug), tzinfo=OSLO).astimezone(UTC)
        ready = datetime.combine(second.day, time(7), tzinfo=OSLO).astimezone(UTC)
        end = min(ready + extra_slots * SLOT, second.start + SLOT * len(second.prices))
        tariff = tariffs[number % len(tariffs)]
        cap = None
        if cap_every and number % cap_every == cap_every - 1:
            window = [p for m, p in prices.items() if start <= m < ready]
            cap = round(quantile(window, 0.7), 5)
        problem = build_problem(
            prices,
            start=start,
            end=end,
            cars=cars,
            fuse=fuse,
            tariff=tariff,
            currency=first.currency,
            price_cap=cap,
            seed=seed * 1000 + number,
        )
        kinds_label = "+".join(spec.kind for spec in cars)
        name = (
            f"{first.name}-{kinds_label}-{fuse}A-plug{plug}-{tariff or 'notariff'}"
            f"{'-cap' if cap is not None else ''}"
        )
        scenarios.append(Scenario(name=name, problem=problem, currency=first.currency))
    return scenarios
