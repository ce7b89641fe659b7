"""From a place's cars, prices and house forecast to a plan, and back to words.

Pure logic around the planner: when each car must be ready, how much it
needs, the problem in slots, and what the plan means per charger (start, end,
energy, cost, status) and per slot (why it was chosen).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from enum import StrEnum
import math
import statistics
from typing import Any, Final

from ..capacity_tariff import StepOption
from ..grid import house_kw, kw_per_amp
from ..place import GridType
from ..slot_prices import SlotPrice
from .model import (
    ROUNDING_NOISE,
    SLOT_MINUTES,
    SLOTS_PER_HOUR,
    CarNeed,
    Plan,
    PlanProblem,
)

SLOT: Final = timedelta(minutes=SLOT_MINUTES)
MAX_HORIZON: Final = timedelta(hours=48)
# Energy from the grid that ends up in the battery (charger and car losses).
CHARGE_EFFICIENCY: Final = 0.9
TYPICAL_SESSIONS: Final = 14
WEEKDAYS: Final = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# A car this close to its need is done (meter rounding, the car's own taper).
DONE_KWH: Final = 0.1
# Steps of current per ampere the plan is made in: OCPP 1.6 limits take one
# decimal, and whole amps cost up to a few per cent more than tenths.
AMP_STEPS: Final = 10
# The least current a car charges at (IEC 61851), amps.
MIN_A: Final = 6


class PlanStatus(StrEnum):
    """What smart charging is doing for a charger."""

    NO_CAR = "no_car"
    WAITING = "waiting"
    CHARGING = "charging"
    DONE = "done"
    CANNOT_FINISH = "cannot_finish"
    CHARGE_NOW = "charge_now"


class NeedSource(StrEnum):
    """Where a car's energy need came from."""

    BATTERY = "battery"
    USUAL = "usual"
    DEFAULT = "default"


class SlotReason(StrEnum):
    """Why a slot is (not) used."""

    CHEAP = "cheap"
    CHEAPER_FULL = "cheaper_slots_full"
    NOT_NEEDED = "not_needed"
    PRICE_CAP = "price_cap"
    AFTER_READY_BY = "after_ready_by"


@dataclass(frozen=True, kw_only=True, slots=True)
class CarInput:
    """One plugged-in car under smart charging."""

    key: str
    name: str
    lines: frozenset[int]
    kwh_per_amp: float
    max_a: float
    need_kwh: float
    need_source: NeedSource
    ready_by: datetime
    # The connectors of one charger share its supply circuit and its fuse.
    circuit: str | None = None
    circuit_a: float = math.inf


@dataclass(frozen=True, kw_only=True, slots=True)
class ChargerPlan:
    """The plan of one charger in words a dashboard shows."""

    status: PlanStatus
    start: datetime | None = None
    end: datetime | None = None
    energy_kwh: float = 0.0
    need_kwh: float = 0.0
    cost: float = 0.0
    ready_by: datetime | None = None
    amps_now: float | None = None
    need_source: NeedSource | None = None


def ready_moment(
    now: datetime,
    daily: time,
    days: Mapping[str, time] | None = None,
    once: datetime | None = None,
) -> datetime:
    """
    The next moment a car must be ready, after ``now`` (local, aware).

    A one-off time wins while it lies ahead; otherwise the day's own time
    (weekday override, else daily) today if still ahead, else tomorrow's.
    """
    # Compared in UTC: one zone's datetimes compare by wall clock, which puts
    # the repeated autumn hour's first half after its second.
    if once is not None and once.astimezone(UTC) > now.astimezone(UTC):
        return once
    days = days or {}
    for offset in range(8):
        day = (now + timedelta(days=offset)).date()
        at = days.get(WEEKDAYS[day.weekday()], daily)
        moment = datetime.combine(day, at, tzinfo=now.tzinfo)
        if moment.astimezone(UTC) > now.astimezone(UTC):
            return moment
    raise AssertionError("a day always has a time")  # pragma: no cover


def energy_need(
    *,
    soc: float | None,
    battery_kwh: float | None,
    target_soc: float,
    sessions_kwh: Sequence[float],
    delivered_kwh: float,
    default_kwh: float,
) -> tuple[float, NeedSource]:
    """
    Energy still to charge, and what it is based on.

    From the car's battery level when known (it shows progress by itself);
    else from what this charger usually delivers in a session ("based on what
    you usually charge"), else the place's default, less what this session
    delivered so far.
    """
    if soc is not None and battery_kwh:
        missing = max(target_soc - soc, 0.0) / 100 * battery_kwh
        return missing / CHARGE_EFFICIENCY, NeedSource.BATTERY
    recent = [kwh for kwh in sessions_kwh[-TYPICAL_SESSIONS:] if kwh > 0]
    if recent:
        return max(statistics.median(recent) - delivered_kwh, 0.0), NeedSource.USUAL
    return max(default_kwh - delivered_kwh, 0.0), NeedSource.DEFAULT


def kwh_per_amp(grid: GridType, lines: frozenset[int]) -> float:
    """Energy one amp gives in one slot, for a charger loading ``lines``."""
    return kw_per_amp(grid, lines) / SLOTS_PER_HOUR


def house_peaks_by_day(
    grid: GridType, slots: Sequence[tuple[date, Sequence[float]]]
) -> dict[date, float]:
    """
    The house's highest forecast power on each local day of a plan, kW.

    ``slots`` are (local day, the house's current per line) per slot: what the
    capacity tariff's step options start from.
    """
    peaks: dict[date, float] = {}
    for day, amps in slots:
        peaks[day] = max(peaks.get(day, 0.0), house_kw(grid, amps))
    return peaks


def slot_start(moment: datetime) -> datetime:
    """The start of the 15-minute slot holding ``moment``."""
    return moment.replace(
        minute=moment.minute - moment.minute % SLOT_MINUTES, second=0, microsecond=0
    )


def build_problem(
    *,
    prices: Sequence[SlotPrice],
    house_a: Sequence[Sequence[float]],
    grid: GridType,
    fuse_a: float,
    margin_a: float,
    cars: Sequence[CarInput],
    steps: Sequence[StepOption],
    price_cap: float | None,
    continuous: bool,
    zone: tzinfo | None = None,
    now: datetime | None = None,
) -> PlanProblem:
    """The planner's problem over ``prices`` (consecutive slots from now).

    ``zone``: the place's time zone, whose days the steps' per-day caps name;
    ``now``: a moment in the first slot, of which only the rest is planned.

    Currents in tenths of an ampere (``AMP_STEPS``), each rounded down.
    A circuit shared by cars (a charger's connectors) is one more "line"
    after the grid's three, its fuse the headroom in every slot: the
    planner keeps the cars on it within the fuse together.
    """
    start = prices[0].start if prices else None
    circuits: dict[str, int] = {}
    circuit_amps: list[int] = []
    for car in cars:
        if car.circuit is None or math.isinf(car.circuit_a):
            continue
        amps = _steps(car.circuit_a)
        if car.circuit not in circuits:
            circuits[car.circuit] = 3 + len(circuit_amps)
            circuit_amps.append(amps)
        index = circuits[car.circuit] - 3
        circuit_amps[index] = min(circuit_amps[index], amps)
    needs = []
    for car in cars:
        ready = 0
        if start is not None:
            ready = math.floor((car.ready_by - start) / SLOT)
        needs.append(
            CarNeed(
                key=car.key,
                lines=car.lines
                if car.circuit not in circuits
                else car.lines | {circuits[car.circuit]},
                kwh_per_amp=car.kwh_per_amp / AMP_STEPS,
                max_a=_steps(car.max_a),
                min_a=MIN_A * AMP_STEPS,
                # A car this close is done: no slot at the 6 A minimum for it.
                need_kwh=car.need_kwh if car.need_kwh > DONE_KWH else 0.0,
                ready=max(0, min(ready, len(prices))),
            )
        )
    lines = grid.phases
    headroom = [
        [
            _steps(fuse_a - margin_a - amps[line]) if line < lines else 0
            for line in range(3)
        ]
        + circuit_amps
        for amps in house_a
    ]
    first_share = _share_left(prices[0].start, now) if prices and now else 1.0
    return PlanProblem(
        prices=[slot.price for slot in prices],
        headroom=headroom,
        house_kw=[house_kw(grid, amps) for amps in house_a],
        cars=needs,
        steps=steps,
        price_cap=price_cap,
        continuous=continuous,
        amp_steps=AMP_STEPS,
        first_slot_share=first_share,
        slot_days=[slot.start.astimezone(zone).date() for slot in prices]
        if zone is not None
        else (),
        slot_hours=slot_hours([slot.start for slot in prices], zone, first_share),
    )


def slot_hours(
    starts: Sequence[datetime], zone: tzinfo | None, first_share: float = 1.0
) -> list[int]:
    """
    Each slot's clock hour, as ``PlanProblem.slot_hours`` numbers them.

    The slots of a clock hour the plan holds whole share its first slot's
    index; a slot of an hour it holds only part of (begun before the plan,
    or past its end) has its own: the step judges that hour's average with
    energy the plan does not know.
    """
    keys = []
    for start in starts:
        local = start.astimezone(zone) if zone is not None else start
        keys.append(start.astimezone(UTC) - timedelta(minutes=local.minute))
    numbers = list(range(len(starts)))
    first: dict[datetime, int] = {}
    counts: dict[datetime, int] = {}
    for index, key in enumerate(keys):
        first.setdefault(key, index)
        counts[key] = counts.get(key, 0) + 1
    for index, key in enumerate(keys):
        whole = counts[key] == SLOTS_PER_HOUR and not (
            first_share < 1 and first[key] == 0
        )
        if whole:
            numbers[index] = first[key]
    return numbers


def _share_left(slot: datetime, now: datetime) -> float:
    """The part of the slot starting at ``slot`` still ahead at ``now``."""
    if not slot <= now < slot + SLOT:
        raise ValueError(f"{now} is not in the slot from {slot}")
    return (slot + SLOT - now) / SLOT


def _steps(amps: float) -> int:
    """Whole steps of current within ``amps``."""
    return math.floor(amps * AMP_STEPS + ROUNDING_NOISE)


def unplanned_status(*, plugged_in: bool, smart_charging: bool) -> PlanStatus:
    """What smart charging shows for a charger the plan does not hold."""
    if not plugged_in:
        return PlanStatus.NO_CAR
    if not smart_charging:
        return PlanStatus.CHARGE_NOW
    return PlanStatus.DONE


def summarize(
    problem: PlanProblem,
    plan: Plan,
    prices: Sequence[SlotPrice],
    cars: Sequence[CarInput],
) -> dict[str, ChargerPlan]:
    """Start, end, energy, cost and status of every planned car."""
    summaries = {}
    for car, need in zip(cars, problem.cars, strict=True):
        amps = plan.currents.get(car.key, ())
        used = [slot for slot, value in enumerate(amps) if value]
        energy = car.kwh_per_amp * math.fsum(
            value * problem.slot_share(slot) for slot, value in enumerate(amps)
        )
        cost = math.fsum(
            problem.prices[slot] * value * problem.slot_share(slot) * car.kwh_per_amp
            for slot, value in enumerate(amps)
        )
        now_amps = amps[0] if amps else 0.0
        if car.need_kwh <= DONE_KWH:
            status = PlanStatus.DONE
        elif energy + DONE_KWH < min(car.need_kwh, need.need_amps * need.kwh_per_amp):
            status = PlanStatus.CANNOT_FINISH
        elif now_amps:
            status = PlanStatus.CHARGING
        else:
            status = PlanStatus.WAITING
        summaries[car.key] = ChargerPlan(
            status=status,
            start=prices[used[0]].start if used else None,
            end=prices[used[-1]].start + SLOT if used else None,
            energy_kwh=energy,
            need_kwh=car.need_kwh,
            cost=cost,
            ready_by=car.ready_by,
            amps_now=now_amps,
            need_source=car.need_source,
        )
    return summaries


def explain(
    problem: PlanProblem,
    plan: Plan,
    prices: Sequence[SlotPrice],
    cars: Sequence[CarInput],
) -> list[dict[str, Any]]:
    """Every slot: price, current per charger, cost and why it is (not) used."""
    rows: list[dict[str, Any]] = []
    ready = max((need.ready for need in problem.cars), default=0)
    for slot, price in enumerate(prices):
        currents = {
            car.name: plan.currents.get(car.key, ())[slot]
            if slot < len(plan.currents.get(car.key, ()))
            else 0
            for car in cars
        }
        energy = problem.slot_share(slot) * math.fsum(
            currents[car.name] * car.kwh_per_amp for car in cars
        )
        rows.append(
            {
                "start": price.start.isoformat(),
                "price": round(price.price, 5),
                "forecast": price.forecast,
                "currents": currents,
                "energy_kwh": round(energy, 3),
                "cost": round(energy * price.price, 4),
                "reason": _reason(problem, plan, slot, ready, energy > 0),
            }
        )
    return rows


def _reason(
    problem: PlanProblem, plan: Plan, slot: int, ready: int, used: bool
) -> SlotReason:
    price = problem.prices[slot]
    if used:
        cheaper_free = any(
            problem.prices[other] < price
            and not any(amps[other] for amps in plan.currents.values())
            and (
                problem.price_cap is None or problem.prices[other] <= problem.price_cap
            )
            for other in range(ready)
        )
        return SlotReason.CHEAPER_FULL if cheaper_free else SlotReason.CHEAP
    if slot >= ready:
        return SlotReason.AFTER_READY_BY
    if problem.price_cap is not None and price > problem.price_cap:
        return SlotReason.PRICE_CAP
    return SlotReason.NOT_NEEDED
