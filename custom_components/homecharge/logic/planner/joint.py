"""Several groups planned jointly: a Lagrangian relaxation of what they share.

Groups of cars (``groups.py``) share two things per slot: a line that more
than one group loads (a 1-phase car on one of a 3-phase car's lines) and the
power under the capacity step. Priced per slot (``Prices``: currency per
amp-step on a shared line, per kW under the step), the groups no longer
meet: each is its own relaxation (``relax.py``, a polymatroid solved
greedily) at its energy prices plus what it uses of the shared things, and
the sum, less what the shared things are worth, bounds from below every
plan that gives each group all it can take alone (weak duality). The prices
are raised where the groups together overuse a slot and lowered where they
leave it free (subgradient steps towards the best plan's cost).

The same prices make plans: the groups in turn, each but the last at its
adjusted prices (so that it leaves the slots the others value most), the
last at the true prices in what the others left.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
import math

from ..capacity_tariff import StepOption
from .descent import solve_within
from .exact import GroupSolver, SearchBudget
from .groups import (
    Group,
    deduct_group_use,
    group_capacity,
    group_problem,
    power_under_step,
    step_slack_kw,
)
from .model import SLOTS_PER_HOUR, Plan, PlanProblem
from .relax import Bounds, GroupProblem, fill_relaxation

# Subgradient steps per step option at most, and without a better bound.
_ROUNDS = 12
_PATIENCE = 6
# The first step's share of the distance to the best plan (Polyak), halved
# whenever the bound stalls for ``_PATIENCE`` rounds.
_FIRST_SCALE = 1.0
# µWh by which two sums of the same energy may differ (float rounding).
_ENERGY_NOISE = 10
# Relative distance below which the bound is as good as the plan.
_CLOSE = 1e-7


@dataclass(slots=True)
class Prices:
    """What the shared things cost per slot: power (per kW), lines (per step)."""

    power: list[float]
    lines: dict[int, list[float]]


@dataclass(frozen=True, slots=True)
class _Alone:
    """A group alone in the whole room: its relaxation's problem and bounds."""

    group: Group
    problem: GroupProblem
    bounds: Bounds
    most: int


class JointRelaxation:
    """The Lagrangian relaxation of several groups under one step option."""

    def __init__(
        self,
        problem: PlanProblem,
        groups: Sequence[Group],
        option: StepOption,
    ) -> None:
        """Each group alone in the whole room, and what the groups share.

        The power under the step is shared per clock hour (``power_rows``):
        alone, a group may take all of its hour's room in any one slot.
        """
        self._problem = problem
        slots = len(problem.prices)
        headroom = [list(row) for row in problem.headroom]
        spare_kw = power_under_step(problem, option, relaxed=True)
        self._alone: list[_Alone] = []
        alone_cost, full = 0.0, 0.0
        for group in groups:
            capacity = group_capacity(problem, group, headroom, spare_kw)
            solver = GroupSolver(group_problem(problem, group, capacity))
            tight = solver.problem
            bounds = Bounds(
                [list(row) for row in tight.caps],
                [[0] * slots for _ in tight.caps],
                [0] * slots,
            )
            self._alone.append(_Alone(group, tight, bounds, -solver.bound[0]))
            alone_cost += group.kwh_per_amp * solver.bound[1]
            full += group.kwh_per_amp * -solver.bound[0]
        # Slot 0 of a plan made mid-slot is in energy-true steps: left out
        # (leaving a constraint out only weakens the bound).
        first = 1 if problem.first_slot_share < 1 else 0
        self._coupled = range(first, slots)
        counts: dict[int, int] = {}
        for group in groups:
            for line in group.lines:
                counts[line] = counts.get(line, 0) + 1
        self._shared = sorted(line for line, count in counts.items() if count > 1)
        # The power under the step per hour (its slots), priced per hour.
        self._rows = [
            row for row in problem.power_rows() if all(slot >= first for slot in row)
        ]
        self._power = [math.inf] * len(self._rows)
        if (slack := step_slack_kw(problem, option)) is not None:
            self._power = [
                max(math.fsum(slack[slot] for slot in row), 0.0) for row in self._rows
            ]
        self.prices = Prices(
            [0.0] * slots, {line: [0.0] * slots for line in self._shared}
        )
        # The energy cost bound: each group alone at first.
        self.bound = alone_cost
        # The most energy, µWh: every group at its most alone.
        self.full_uwh = round(full * 1e6)
        self._summed: list[list[int]] = []
        self._count = 0

    @property
    def groups(self) -> list[Group]:
        """The groups, in the order given."""
        return [alone.group for alone in self._alone]

    @property
    def most_amps(self) -> list[int]:
        """Each group's most amp-slots alone (its relaxation's)."""
        return [alone.most for alone in self._alone]

    def adjusted_prices(self, index: int, prices: Prices) -> list[float]:
        """Group ``index``'s price per amp-step and slot, the shared things in."""
        group = self._alone[index].group
        kwh = group.kwh_per_amp
        kw = kwh * SLOTS_PER_HOUR
        lines = [prices.lines[line] for line in self._shared if line in group.lines]
        adjusted = list(self._problem.prices)
        for slot in self._coupled:
            extra = prices.power[slot] * kw + sum(row[slot] for row in lines)
            if extra:
                adjusted[slot] += extra / kwh
        return adjusted

    def _evaluate(self, prices: Prices) -> tuple[float, list[list[int]]]:
        """The dual value at ``prices`` and each group's slot totals."""
        value = 0.0
        totals = []
        for index, alone in enumerate(self._alone):
            adjusted = self.adjusted_prices(index, prices)
            order = sorted(
                (slot for slot, room in enumerate(alone.problem.room) if room > 0),
                key=lambda slot: (adjusted[slot], slot),
            )
            amps = fill_relaxation(
                replace(alone.problem, prices=adjusted), alone.bounds, order
            )
            if amps is None:  # pragma: no cover - no floors here
                raise RuntimeError("a relaxation without floors has a plan")
            column = [sum(cells) for cells in zip(*amps, strict=True)]
            kwh = alone.group.kwh_per_amp
            value += kwh * math.fsum(
                price * total
                for price, total in zip(adjusted, column, strict=True)
                if total
            )
            totals.append(column)
        for row, room in zip(self._rows, self._power, strict=True):
            if (price := prices.power[row[0]]) and not math.isinf(room):
                value -= price * room
        for slot in self._coupled:
            for line in self._shared:
                if price := prices.lines[line][slot]:
                    value -= price * max(self._problem.headroom[slot][line], 0)
        return value, totals

    def _sum_totals(self, totals: Sequence[Sequence[int]]) -> None:
        """Add the relaxed plans' slot totals to the running sum."""
        if not self._summed:
            self._summed = [[0] * len(column) for column in totals]
        for kept, column in zip(self._summed, totals, strict=True):
            for slot, total in enumerate(column):
                kept[slot] += total
        self._count += 1

    @property
    def average(self) -> list[list[float]]:
        """Each group's slot totals averaged over the relaxed plans seen."""
        return [[total / self._count for total in row] for row in self._summed]

    @property
    def plans_seen(self) -> int:
        """Relaxed plans averaged so far."""
        return self._count

    def forget_plans(self) -> None:
        """Average only the relaxed plans from now on."""
        self._summed, self._count = [], 0

    def average_kw(self) -> list[float]:
        """The relaxed plans' average charging power per slot (kW)."""
        power = [0.0] * len(self._problem.prices)
        if not self._count:
            return power
        for alone, row in zip(self._alone, self._summed, strict=True):
            kw = alone.group.kwh_per_amp * SLOTS_PER_HOUR / self._count
            for slot, total in enumerate(row):
                power[slot] += total * kw
        return power

    def _overuse(self, totals: Sequence[Sequence[int]]) -> Prices:
        """How much the groups overuse each shared thing (a subgradient)."""
        slots = len(self._problem.prices)
        power = [0.0] * slots
        lines = {line: [0.0] * slots for line in self._shared}
        first = self._coupled.start
        for alone, column in zip(self._alone, totals, strict=True):
            kw = alone.group.kwh_per_amp * SLOTS_PER_HOUR
            for slot in range(first, slots):
                if total := column[slot]:
                    power[slot] += kw * total
            for line in self._shared:
                if line in alone.group.lines:
                    row = lines[line]
                    for slot in range(first, slots):
                        row[slot] += column[slot]
        used = power
        power = [0.0] * slots
        for hour, room in zip(self._rows, self._power, strict=True):
            if not math.isinf(room):
                over = math.fsum(used[slot] for slot in hour) - room
                for slot in hour:
                    power[slot] = over
        for slot in self._coupled:
            for line in self._shared:
                lines[line][slot] -= max(self._problem.headroom[slot][line], 0)
        return Prices(power, lines)

    def improve(
        self, target: float | None, budget: SearchBudget, rounds: int = _ROUNDS
    ) -> list[Prices]:
        """
        Raise the bound towards ``target`` (the best plan's energy cost).

        Without one (no plan gives every group its most yet), a tenth above
        the bound so far. Returns the prices at which the bound rose, the
        best last.
        """
        best_prices: list[Prices] = []
        scale, stalled = _FIRST_SCALE, 0
        prices = self.prices
        for _ in range(rounds):
            value, totals = self._evaluate(prices)
            self._sum_totals(totals)
            if value > self.bound:
                if value > self.bound + _CLOSE * max(1.0, abs(value)):
                    stalled = 0
                self.bound, self.prices = value, prices
                best_prices.append(prices)
            else:
                stalled += 1
                if stalled >= _PATIENCE:
                    scale, stalled = scale / 2, 0
            goal = (
                target
                if target is not None
                else self.bound + max(1.0, abs(self.bound)) / 10
            )
            if goal - self.bound <= _CLOSE * max(1.0, abs(goal)):
                break
            if budget.work <= 0:
                break
            slope = self._overuse(totals)
            norm = math.fsum(x * x for x in slope.power if x) + math.fsum(
                x * x for row in slope.lines.values() for x in row if x
            )
            if norm <= 0:
                break  # the relaxed plans fit together: the bound is reached
            gap = max(goal - value, _CLOSE * max(1.0, abs(goal)))
            step = scale * gap / norm
            prices = Prices(
                [
                    max(0.0, price + step * rise)
                    for price, rise in zip(prices.power, slope.power, strict=True)
                ],
                {
                    line: [
                        max(0.0, price + step * rise)
                        for price, rise in zip(
                            prices.lines[line], slope.lines[line], strict=True
                        )
                    ]
                    for line in self._shared
                },
            )
        return best_prices


def plan_in_turn_at(
    problem: PlanProblem,
    relaxation: JointRelaxation,
    order: Sequence[int],
    prices: Prices,
    spare_kw: Sequence[float] | None,
    budget: SearchBudget,
) -> dict[str, list[int]]:
    """
    The groups in ``order``, each in what the ones before it left.

    Each but the last at its adjusted prices (it leaves the slots the others
    value most), the last at the true prices.
    """
    headroom = [list(row) for row in problem.headroom]
    spare = None if spare_kw is None else list(spare_kw)
    currents: dict[str, list[int]] = {}
    for position, index in enumerate(order):
        group = relaxation.groups[index]
        capacity = group_capacity(problem, group, headroom, spare)
        own = group_problem(problem, group, capacity)
        if position < len(order) - 1:
            own = replace(own, prices=relaxation.adjusted_prices(index, prices))
        amps = solve_within(own, budget)
        for car, row in zip(group.cars, amps, strict=True):
            currents[car.key] = row
        deduct_group_use(problem, group, amps, headroom, spare)
    return currents


def plan_in_shares(
    problem: PlanProblem,
    relaxation: JointRelaxation,
    order: Sequence[int],
    spare_kw: Sequence[float] | None,
    budget: SearchBudget,
) -> dict[str, list[int]]:
    """
    The groups in ``order``, each but the last in its share of the relaxation.

    A group's share in a slot is its average relaxed total there (rounded
    up); the last group takes what the others left.
    """
    headroom = [list(row) for row in problem.headroom]
    spare = None if spare_kw is None else list(spare_kw)
    shares = relaxation.average
    currents: dict[str, list[int]] = {}
    for position, index in enumerate(order):
        group = relaxation.groups[index]
        capacity = group_capacity(problem, group, headroom, spare)
        if position < len(order) - 1:
            capacity = [
                min(room, math.ceil(share - 1e-6))
                for room, share in zip(capacity, shares[index], strict=True)
            ]
        amps = solve_within(group_problem(problem, group, capacity), budget)
        for car, row in zip(group.cars, amps, strict=True):
            currents[car.key] = row
        deduct_group_use(problem, group, amps, headroom, spare)
    return currents


def joint_lower_bound(
    problem: PlanProblem, relaxations: Sequence[JointRelaxation], plan: Plan
) -> float | None:
    """
    A certified lower bound on the cost of any plan delivering as much.

    Under each step, the groups' joint relaxation (``joint.py``): no plan
    under that step delivers more than every group alone at its most, nor
    that much for less than the relaxation's bound. Steps that cannot
    deliver as much as the plan are ruled out; one that could deliver more
    leaves nothing proven (None).
    """
    delivered = round(math.fsum(plan.delivered_kwh.values()) * 1e6)
    lowest: float | None = None
    for option, relaxation in zip(problem.steps, relaxations, strict=True):
        energy = relaxation.full_uwh
        cost = relaxation.bound + option.extra_cost
        if energy > delivered + _ENERGY_NOISE:
            return None
        if energy >= delivered - _ENERGY_NOISE and (lowest is None or cost < lowest):
            lowest = cost
    return lowest
