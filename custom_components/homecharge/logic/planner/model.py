"""The smart-charging planner's model: the problem it solves and the plan it gives.

The problem, in whole *steps* of current (``PlanProblem.amp_steps`` to the
ampere: 10 from ``build_problem``, as OCPP 1.6 takes tenths of an ampere)
so that the plan is exact: every current, headroom and ``kwh_per_amp`` of the
problem is per step, and ``Plan.currents`` is back in amps.

- a car may charge in slots ``0 … ready - 1`` at 0 or between ``min_a`` and
  ``max_a`` steps; it needs ``ceil(need_kwh / kwh_per_amp)`` step-slots;
- per slot and line, the steps of all cars loading that line stay within the
  line's ``headroom`` (main fuse minus margin minus the forecast house load);
- with a capacity-tariff step chosen, a slot's forecast house power plus the
  charging power stays under the step's ``max_kw`` (no charging at all in a
  slot where the house alone is above it);
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

    def slot_share(self, slot: int) -> float:
        """The part of ``slot`` still ahead: all of it but slot 0's."""
        return self.first_slot_share if slot == 0 else 1.0

    def cap_kw(self, option: StepOption, slot: int) -> float | None:
        """A step's cap on a slot's power: its day's own where it has one."""
        return option.cap_kw(self.slot_days[slot] if self.slot_days else None)


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
