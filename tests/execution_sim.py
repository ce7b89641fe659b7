"""Following smart-charging plans against a house that is not its forecast.

What the runtime does (``runtime/scheduling.py`` and ``runtime/balancing.py``),
with the pure logic modules only, no Home Assistant: every 15-minute slot the
place plans again from now with each car's remaining need and the meter's
hours so far (``build_problem``, the capacity tariff's ``step_options``,
``plan_charging``); between slot boundaries it executes the slot in small
time steps: each step the meter reads the house plus what the cars draw, the
hour's energy is integrated (``HourlyEnergy``), and the balancer decides the
chargers' limits (``balance`` with a power cap). Cars follow a new limit one
step later (a charger takes a few seconds), draw up to their own maximum and
stop when their need is met; at their ready time they leave.

Execution modes (``Mode``):

- ``GUARD``: the runtime's rule: cars the plan has waiting get 0 A; the
  planned cars share the slot's planned power, cut by the capacity guard
  (``charging_budget_kw``: the hour's energy within the plan's step, the
  house taken to go on as it draws now);
- ``PLAN``: the same without the guard: the slot's planned power is the cap;
- ``FUSE``: the behaviour before: the planned cars get their whole fuse share.

Truth is kept apart from the runtime's view: each clock hour's energy (and
the house's part of it) is summed from the true power of every step; the
runtime sees only its ``HourlyEnergy``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
import math
from zoneinfo import ZoneInfo

from custom_components.homecharge.logic.allocation import ChargerLoad
from custom_components.homecharge.logic.balancer import (
    BalancerSettings,
    Track,
    balance,
)
from custom_components.homecharge.logic.capacity_guard import (
    charging_budget_kw,
    forecast_rest_kw,
    guard_kw,
    house_kw_ahead,
    planned_later_kwh,
)
from custom_components.homecharge.logic.capacity_tariff import (
    DEFAULT_RULE,
    NO_TARIFF,
    CapacityRule,
    CapacityStep,
    HourEnergy,
    HourlyEnergy,
    StepOption,
    capacity_state,
    with_day_caps,
)
from custom_components.homecharge.logic.grid import (
    IEC_MIN_AMPS,
    fuse_kw,
    house_kw,
    kw_per_amp,
)
from custom_components.homecharge.logic.grid_tariff import step_options
from custom_components.homecharge.logic.place import GridType
from custom_components.homecharge.logic.plan_following import hour_plan_kw
from custom_components.homecharge.logic.planner.model import SLOTS_PER_HOUR, Plan
from custom_components.homecharge.logic.planner.problem import (
    SLOT,
    CarInput,
    NeedSource,
    build_problem,
    house_peaks_by_day,
    kwh_per_amp,
)
from custom_components.homecharge.logic.planner.solve import plan_charging
from custom_components.homecharge.logic.slot_prices import SlotPrice

OSLO = ZoneInfo("Europe/Oslo")
HOUR = timedelta(hours=1)
# Where step_options puts a planned hour (grid_tariff._PLANNED_HOUR).
_PLANNED_HOUR = time(12, 0, 0, 1)
_WATT_SECONDS_PER_KWH = 3_600_000

type Amps = tuple[float, float, float]
# The house's own current per line at a moment (UTC).
type HouseFn = Callable[[datetime], Amps]


class Mode(StrEnum):
    """How a plan is followed."""

    GUARD = "guard"
    PLAN = "plan_limit"
    FUSE = "fuse_share"


@dataclass(frozen=True, kw_only=True)
class Place:
    """The place: its grid, main fuse, the balancer's margin and the tariff."""

    grid: GridType
    fuse_a: float
    margin_a: float = 1.0
    rule: CapacityRule | None = DEFAULT_RULE


@dataclass(frozen=True, kw_only=True)
class SimCar:
    """A car for one night: lines, its own maximum, need, plug-in and ready (UTC)."""

    key: str
    lines: frozenset[int]
    max_a: float
    need_kwh: float
    plug: datetime
    ready: datetime


@dataclass
class HourRecord:
    """One clock hour as it happened: energy, the house's part, the plans' caps."""

    start: datetime
    kwh: float = 0.0
    house_kwh: float = 0.0
    charge_kwh: float = 0.0
    # The step cap (kW) of each slot's plan while cars were planned in the hour.
    caps: list[float] = field(default_factory=list)

    @property
    def cap(self) -> float | None:
        """The cap in force when the hour ended (None: no plan held a step)."""
        return self.caps[-1] if self.caps else None


@dataclass
class NightResult:
    """What one night of plans and their execution came to."""

    need_kwh: float = 0.0
    delivered_kwh: float = 0.0
    shortfall_kwh: float = 0.0
    # What the plans put in the slots that were executed (slot 0 of each).
    planned_kwh: float = 0.0
    planned_cost: float = 0.0
    executed_cost: float = 0.0
    # The month's step each plan chose (the highest of the night).
    plan_step: CapacityStep | None = None
    plans: int = 0


def quarter(moment: datetime) -> datetime:
    """The start of the 15-minute slot holding ``moment``."""
    return moment.replace(
        minute=moment.minute - moment.minute % 15, second=0, microsecond=0
    )


def hour_of(moment: datetime) -> datetime:
    """The UTC start of the clock hour holding ``moment`` (Oslo's are whole)."""
    return moment.replace(minute=0, second=0, microsecond=0)


def amps_for_kw(grid: GridType, kw: float, shares: Sequence[float]) -> Amps:
    """The house's current per line for ``kw`` spread by ``shares``."""
    if grid is GridType.THREE_PHASE_230_IT:
        total = kw * 1000 * math.sqrt(3) / 230
    elif grid is GridType.ONE_PHASE_230:
        return (kw * 1000 / 230, 0.0, 0.0)
    else:
        total = kw * 1000 / 230
    return (total * shares[0], total * shares[1], total * shares[2])


def line_shares(moment: datetime) -> tuple[float, float, float]:
    """How the house spreads over the lines: uneven, turning by the local hour."""
    turn = moment.astimezone(OSLO).hour % 3
    shares = (0.5, 0.3, 0.2)
    return (shares[turn], shares[(turn + 1) % 3], shares[(turn + 2) % 3])


class Execution:
    """One place over a month: its meter's hours, its balancer, its plans."""

    def __init__(
        self,
        *,
        place: Place,
        mode: Mode,
        house: HouseFn,
        forecast: HouseFn,
        prices: dict[datetime, float],
        start: datetime,
        step: timedelta = timedelta(seconds=10),
        day_step: timedelta = timedelta(minutes=1),
    ) -> None:
        """Start at ``start`` (UTC, on a slot boundary) with an empty meter."""
        self.place = place
        self.mode = mode
        self.house = house
        self.forecast = forecast
        self.prices = prices
        self.now = start
        self.step = step
        self.day_step = day_step
        self.hourly = HourlyEnergy(tz=OSLO)
        # The plan's charging power per slot of the clock hour now.
        self.hour_plan: dict[datetime, float] = {}
        self.records: dict[datetime, HourRecord] = {}
        self.settings = BalancerSettings(main_fuse=place.fuse_a, margin=place.margin_a)
        self.tracks: dict[str, Track] = {}

    # The meter and the truth

    def _record(self, moment: datetime) -> HourRecord:
        key = hour_of(moment)
        record = self.records.get(key)
        if record is None:
            record = self.records[key] = HourRecord(start=key)
        return record

    def _meter(
        self, moment: datetime, house: Amps, charge_kw: float, dt: float
    ) -> None:
        """The step [moment, moment + dt s): read by the meter, kept as truth."""
        grid = self.place.grid
        house_power = house_kw(grid, house)
        self.hourly.add_power(moment.astimezone(OSLO), 1000 * (house_power + charge_kw))
        record = self._record(moment)
        record.house_kwh += house_power * dt / 3600
        record.charge_kwh += charge_kw * dt / 3600
        record.kwh += (house_power + charge_kw) * dt / 3600

    def idle_until(self, end: datetime) -> None:
        """No car: the house alone until ``end``."""
        self.tracks = {}
        self.hour_plan = {}
        while self.now < end:
            dt = min(self.day_step, end - self.now)
            self._meter(self.now, self.house(self.now), 0.0, dt.total_seconds())
            self.now += dt

    def hours(self) -> list[HourEnergy]:
        """The true clock hours so far (local starts)."""
        return [
            HourEnergy(start=r.start.astimezone(OSLO), kwh=r.kwh)
            for r in self.records.values()
        ]

    def house_hours(self) -> list[HourEnergy]:
        """The same hours with the house alone."""
        return [
            HourEnergy(start=r.start.astimezone(OSLO), kwh=r.house_kwh)
            for r in self.records.values()
        ]

    # Planning, as async_replan does

    def _steps(self, prices: Sequence[SlotPrice]) -> tuple[StepOption, ...]:
        rule = self.place.rule
        if rule is None:
            return NO_TARIFF
        local = self.now.astimezone(OSLO)
        known = [*self.hourly.hours(), self.hourly.current_hour(local)]
        peaks = self._peaks(prices)
        most = fuse_kw(self.place.grid, self.place.fuse_a)
        options = step_options(known, sorted(peaks), peaks, local, most, rule)
        # As the runtime: a day that already peaked higher keeps its peak.
        return with_day_caps(options, known, local, peaks, rule)

    def _peaks(self, prices: Sequence[SlotPrice]) -> dict[date, float]:
        return house_peaks_by_day(
            self.place.grid,
            [
                (slot.start.astimezone(OSLO).date(), self.forecast(slot.start))
                for slot in prices
            ],
        )

    def month_step(
        self, prices: Sequence[SlotPrice], option: StepOption
    ) -> CapacityStep | None:
        """The month's step a plan's option stands for (base + its extra cost)."""
        rule = self.place.rule
        if rule is None:
            return None
        local = self.now.astimezone(OSLO)
        known = [*self.hourly.hours(), self.hourly.current_hour(local)]
        planned = [
            HourEnergy(start=datetime.combine(day, _PLANNED_HOUR, tzinfo=OSLO), kwh=kw)
            for day, kw in self._peaks(prices).items()
            if (day.year, day.month) == (local.year, local.month)
        ]
        base = capacity_state([*known, *planned], local, rule).step
        cost = base.monthly_cost + option.extra_cost
        return min(rule.steps, key=lambda step: abs(step.monthly_cost - cost))

    def plan(
        self, cars: Sequence[SimCar], delivered: dict[str, float]
    ) -> tuple[Plan, list[SlotPrice], tuple[StepOption, ...], list[CarInput]]:
        """The plan from now with each car's remaining need."""
        grid = self.place.grid
        inputs = [
            CarInput(
                key=car.key,
                name=car.key,
                lines=car.lines,
                kwh_per_amp=kwh_per_amp(grid, car.lines),
                max_a=car.max_a,
                need_kwh=max(car.need_kwh - delivered[car.key], 0.0),
                need_source=NeedSource.BATTERY,
                ready_by=car.ready,
            )
            for car in cars
        ]
        end = max(car.ready for car in cars)
        prices = []
        moment = self.now
        while moment < end:
            prices.append(SlotPrice(start=moment, price=self.prices[moment]))
            moment += SLOT
        steps = self._steps(prices)
        problem = build_problem(
            prices=prices,
            house_a=[self.forecast(slot.start) for slot in prices],
            grid=grid,
            fuse_a=self.place.fuse_a,
            margin_a=self.place.margin_a,
            cars=inputs,
            steps=steps,
            price_cap=None,
            continuous=False,
            zone=OSLO,
        )
        return plan_charging(problem), prices, steps, inputs

    # Executing

    def night(self, cars: Sequence[SimCar]) -> NightResult:
        """Plug-in to ready: plan every slot, follow each slot step by step."""
        result = NightResult(need_kwh=sum(car.need_kwh for car in cars))
        delivered = dict.fromkeys((car.key for car in cars), 0.0)
        grid = self.place.grid
        per_amp = {car.key: kw_per_amp(grid, car.lines) for car in cars}
        start = min(car.plug for car in cars)
        end = max(car.ready for car in cars)
        self.idle_until(start)
        self.tracks = {}
        # What each car draws now (A per line): its offer of the step before.
        drawing = dict.fromkeys(delivered, 0.0)
        while self.now < end:
            slot_end = self.now + SLOT
            here = [car for car in cars if car.plug <= self.now < car.ready]
            limits: dict[str, float] = {}
            planned_kw: float | None = None
            cap_kw: float | None = None
            if here:
                plan, prices, steps, inputs = self.plan(here, delivered)
                result.plans += 1
                planned_kw = 0.0
                for given in inputs:
                    amps = plan.currents.get(given.key, (0.0,))[0]
                    # Waiting: 0 A; charging: the charger's own maximum.
                    limits[given.key] = given.max_a if amps else 0.0
                    planned_kw += amps * given.kwh_per_amp * SLOTS_PER_HOUR
                    kwh = amps * given.kwh_per_amp
                    result.planned_kwh += kwh
                    result.planned_cost += kwh * prices[0].price
                # As the runtime (PlaceScheduler._apply): the plan's power in
                # this clock hour's slots, which the guard keeps for later.
                self.hour_plan = hour_plan_kw(
                    [slot.start for slot in prices],
                    plan.currents,
                    {given.key: given.kwh_per_amp * SLOTS_PER_HOUR for given in inputs},
                    OSLO,
                )
                needs = any(given.need_kwh > 0.1 for given in inputs)
                # Today's cap (a day may have its own share of the step).
                today = prices[0].start.astimezone(OSLO).date()
                cap_kw = steps[plan.step].cap_kw(today) if needs else None
                step = self.month_step(prices, steps[plan.step]) if needs else None
                if step is not None and (
                    result.plan_step is None
                    or step.threshold_kw > result.plan_step.threshold_kw
                ):
                    result.plan_step = step
            while self.now < slot_end:
                dt = min(self.step, slot_end - self.now).total_seconds()
                house = self.house(self.now)
                present = [car for car in here if self.now < car.ready]
                charge_kw = 0.0
                for car in cars:
                    if car not in present:
                        drawing[car.key] = 0.0
                    elif delivered[car.key] >= car.need_kwh:
                        drawing[car.key] = 0.0  # full: the car stops
                    kw = drawing[car.key] * per_amp[car.key]
                    charge_kw += kw
                    delivered[car.key] += kw * dt / 3600
                    result.executed_cost += (
                        kw * dt / 3600 * self.prices[quarter(self.now)]
                    )
                self._meter(self.now, house, charge_kw, dt)
                if cap_kw is not None and present:
                    self._record(self.now).caps.append(cap_kw)
                if present:
                    offers = self._decide(
                        present, limits, drawing, house, planned_kw, cap_kw, per_amp
                    )
                    for car in present:
                        offer = offers[car.key]
                        full = delivered[car.key] >= car.need_kwh
                        ok = offer >= IEC_MIN_AMPS and not full
                        drawing[car.key] = min(offer, car.max_a) if ok else 0.0
                self.now += timedelta(seconds=dt)
        for car in cars:
            result.delivered_kwh += min(delivered[car.key], car.need_kwh)
            result.shortfall_kwh += max(car.need_kwh - delivered[car.key], 0.0)
        return result

    def _decide(
        self,
        present: Sequence[SimCar],
        limits: dict[str, float],
        drawing: dict[str, float],
        house: Amps,
        planned_kw: float | None,
        cap_kw: float | None,
        per_amp: dict[str, float],
    ) -> dict[str, float]:
        """One meter reading's decision: the balancer with the mode's power cap."""
        grid = self.place.grid
        loads = [
            ChargerLoad(
                charger_id=car.key,
                phases=car.lines,
                max_amps=limits.get(car.key, 0.0),
                draw=(
                    drawing[car.key] if 0 in car.lines else 0.0,
                    drawing[car.key] if 1 in car.lines else 0.0,
                    drawing[car.key] if 2 in car.lines else 0.0,
                ),
                kw_per_amp=per_amp[car.key],
            )
            for car in present
        ]
        measured = tuple(
            house[line] + sum(load.draw[line] for load in loads) for line in range(3)
        )
        power: float | None = None
        if self.mode is Mode.PLAN:
            power = planned_kw
        elif self.mode is Mode.GUARD:
            budget = None
            if cap_kw is not None:
                local = self.now.astimezone(OSLO)
                # As the runtime (PlaceBalancer._guard_kw).
                rest_kw = forecast_rest_kw(
                    local, lambda moment: house_kw(grid, self.forecast(moment))
                )
                budget = charging_budget_kw(
                    cap_kw=cap_kw,
                    used_kwh=self.hourly.current_hour(local).kwh,
                    house_kw=house_kw_ahead(house_kw(grid, house), rest_kw),
                    now=local,
                    later_kwh=planned_later_kwh(self.hour_plan, local),
                    planned_kw=planned_kw,
                )
            power, _by_plan = guard_kw(planned_kw, budget)
        decision = balance(self.tracks, measured, loads, self.now, self.settings, power)
        self.tracks = dict(decision.tracks)
        return {key: track.amps for key, track in decision.tracks.items()}


def month_state(
    hours: Sequence[HourEnergy], at: datetime, rule: CapacityRule = DEFAULT_RULE
) -> CapacityStep:
    """The step the grid company bills for the month holding ``at``."""
    return capacity_state(hours, at.astimezone(OSLO), rule).step


def oslo(day: date, hour: int, minute: int = 0) -> datetime:
    """A local time in Oslo, in UTC."""
    return datetime.combine(day, time(hour, minute), tzinfo=OSLO).astimezone(UTC)
