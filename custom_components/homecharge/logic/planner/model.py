"""The smart-charging planner's model: the problem it solves and the plan it gives.

The problem, in whole *steps* of current (``PlanProblem.amp_steps`` to the
ampere: 10 from ``build_problem``, as OCPP 1.6 takes tenths of an ampere)
so that the plan is exact: every current, headroom and ``kwh_per_amp`` of the
problem is per step, and ``Plan.currents`` is back in amps.

- a car may charge in slots ``0 … ready - 1`` at 0 or between ``min_a`` and
  ``max_a`` steps; it needs ``ceil(need_kwh / kwh_per_amp)`` step-slots;
- per slot and line, the steps of all cars loading that line stay within the
  line's ``headroom`` (main fuse minus margin minus the forecast house load);
- with a capacity-tariff step chosen, the forecast house power plus the
  charging power stays under the step's ``max_kw`` on average over each
  clock hour, as the grid company measures it: the slots of one hour share
  ``slot_hours``' number (a slot alone in its number is judged alone, as
  those of an hour the plan holds only part of; no charging in such a slot
  where the house alone is above the cap);
- first as much energy as possible is delivered, then at the least cost:
  energy price per slot plus the monthly cost of the chosen step;
- a plan made mid-slot has only ``first_slot_share`` of slot 0 left: a
  current there delivers that share of a slot's energy (``groups.py`` plans
  slot 0 in energy-true steps, the current times the share).

The step options (``StepOption``) are the capacity tariff's, in
``capacity_tariff.py``. How the plan is found: ``solve.py``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property
import math

from ..capacity_tariff import NO_TARIFF, StepOption

SLOT_MINUTES = 15
SLOTS_PER_HOUR = 60 // SLOT_MINUTES
# Float noise ignored where energy or power is rounded to whole steps.
ROUNDING_NOISE = 1e-9


@dataclass(frozen=True, kw_only=True)
class CarNeed:
    """One plugged-in car as the planner sees it (currents in steps)."""

    key: str
    lines: frozenset[int]
    kwh_per_amp: float
    max_a: int
    need_kwh: float
    ready: int
    min_a: int = 6

    @property
    def need_amps(self) -> int:
        """Step-slots that cover the energy (at least one slot at the minimum)."""
        if self.need_kwh <= 0:
            return 0
        amps = math.ceil(self.need_kwh / self.kwh_per_amp - ROUNDING_NOISE)
        return max(amps, self.min_a)


@dataclass(frozen=True, kw_only=True)
class PlanProblem:
    """Everything the planner needs, one entry per slot."""

    prices: Sequence[float]
    headroom: Sequence[Sequence[int]]
    house_kw: Sequence[float]
    cars: Sequence[CarNeed]
    steps: Sequence[StepOption] = NO_TARIFF
    price_cap: float | None = None
    continuous: bool = False
    amp_steps: int = 1
    # Each slot's local day, for the steps' per-day caps (empty: none).
    slot_days: Sequence[date] = ()
    # The part of slot 0 still ahead (a plan made mid-slot): a current there
    # delivers only this share of a slot's energy.
    first_slot_share: float = 1.0
    # Each slot's clock hour: slots of one number are capped by their average
    # power (empty: every slot alone).
    slot_hours: Sequence[int] = ()

    def slot_share(self, slot: int) -> float:
        """The part of ``slot`` still ahead: all of it but slot 0's."""
        return self.first_slot_share if slot == 0 else 1.0

    def cap_kw(self, option: StepOption, slot: int) -> float | None:
        """A step's cap on a slot's power: its day's own where it has one."""
        return option.cap_kw(self.slot_days[slot] if self.slot_days else None)

    @cached_property
    def most_kw(self) -> list[float]:
        """
        Per slot, the most the cars could draw: their maxima within the lines.

        Cars on the same lines with the same energy per amp share those lines'
        tightest room; all of them together no more than every line's room at
        the most power per line-amp any car gets.
        """
        most = []
        for slot, lines in enumerate(self.headroom):
            if self.price_cap is not None and self.prices[slot] > self.price_cap:
                most.append(0.0)
                continue
            groups: dict[tuple[frozenset[int], float], int] = {}
            per_line_kw = 0.0
            for car in self.cars:
                if slot >= car.ready or car.need_kwh <= 0:
                    continue
                key = (car.lines, car.kwh_per_amp)
                groups[key] = groups.get(key, 0) + car.max_a
                # Per amp on each grid line it loads (a shared circuit's
                # "line" after the grid's three is not one).
                grid_lines = sum(line < 3 for line in car.lines) or 1
                per_line_kw = max(
                    per_line_kw, car.kwh_per_amp * SLOTS_PER_HOUR / grid_lines
                )
            cars_kw = math.fsum(
                min(amps, *(max(lines[line], 0) for line in group_lines))
                * kwh_per_amp
                * SLOTS_PER_HOUR
                for (group_lines, kwh_per_amp), amps in groups.items()
            )
            lines_kw = per_line_kw * sum(max(amps, 0) for amps in lines[:3])
            most.append(min(cars_kw, lines_kw) if len(groups) > 1 else cars_kw)
        return most

    @cached_property
    def least_kw(self) -> list[float]:
        """Per slot, the smallest minimum power of a car that may charge there."""
        least = []
        for slot in range(len(self.prices)):
            powers = [
                car.min_a * car.kwh_per_amp * SLOTS_PER_HOUR
                for car in self.cars
                if slot < car.ready and car.need_kwh > 0
            ]
            least.append(min(powers, default=0.0))
        return least

    @cached_property
    def hour_rows(self) -> list[list[int]]:
        """The ``power_rows`` of more than one slot: the hours judged whole."""
        return [row for row in self.power_rows() if len(row) > 1]

    def power_rows(self) -> list[list[int]]:
        """The slots the capacity step judges together: an hour's, or one alone."""
        if not self.slot_hours:
            return [[slot] for slot in range(len(self.prices))]
        rows: dict[int, list[int]] = {}
        for slot, hour in enumerate(self.slot_hours):
            rows.setdefault(hour, []).append(slot)
        return list(rows.values())


@dataclass(frozen=True, kw_only=True)
class Plan:
    """Amps per car per slot (a whole number of steps) and what they cost."""

    currents: dict[str, tuple[float, ...]]
    delivered_kwh: dict[str, float]
    energy_cost: float
    step: int
    step_cost: float
    exact: bool = field(default=True)
    # A cost no plan delivering as much can beat (proven): the plan's own when
    # exact; None when nothing is proven (a plan with more energy may exist).
    lower_bound: float | None = None

    @property
    def cost(self) -> float:
        """Energy plus the capacity step the plan causes."""
        return self.energy_cost + self.step_cost
