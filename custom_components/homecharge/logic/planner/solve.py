"""Smart-charging planner: the current of every car in every 15-minute slot.

Pure logic. The problem, in whole amps so that the plan is exact:

- a car may charge in slots ``0 … ready - 1`` at 0 A or between ``min_a`` and
  ``max_a`` amps; it needs ``ceil(need_kwh / kwh_per_amp)`` amp-slots;
- per slot and line, the amps of all cars loading that line stay within the
  line's ``headroom`` (main fuse minus margin minus the forecast house load);
- with a capacity-tariff step chosen, a slot's forecast house power plus the
  charging power stays under the step's ``max_kw`` (no charging at all in a
  slot where the house alone is above it);
- first as much energy as possible is delivered, then at the least cost:
  energy price per slot plus the monthly cost of the chosen step.

Cars that load the same lines with the same energy per amp form a *group*.
``planner_exact`` plans one group: a relaxation without the minimum (a
polymatroid, solved greedily) bounds the cost, cars trade amps to reach it,
and else one car is settled by dynamic programming, several by branch and
bound within a work budget; ``Plan.exact`` says whether the optimum was
proven. The step options are planned best bound first, and one whose
bound cannot beat the best plan so far is skipped. Places whose cars form
several groups (a 3-phase and a 1-phase charger) are planned group after
group in each order, then improved by re-planning one group in what the
others leave and by trades between two groups: always feasible, usually
within a per cent of the optimum but not proven (``exact`` is False).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import islice, permutations
import math

from .blocks import blocks
from .exact import GroupProblem, GroupSolver, SearchBudget, better

SLOT_MINUTES = 15
SLOTS_PER_HOUR = 60 // SLOT_MINUTES
_EPSILON = 1e-9
# Dives and branch and bound per plan, in the steps ``SearchBudget`` counts:
# some 45 ms at most on a desktop CPU. Past it a plan is the best found, not
# proven (``Plan.exact`` False).
_SEARCH_WORK = 50_000
# Once per plan, for a step option whose search fell short of the energy its
# bound promises: some 0.1 s more at most.
_RESCUE_WORK = 500_000
# What solving a group's relaxation counts in the budget, per car and slot.
_RELAX_WORK = 20
# Orders of the groups tried at a place with several (all of up to three).
_MAX_ORDERS = 6
# Passes of the descent over the groups at most.
_DESCENT_ROUNDS = 4


@dataclass(frozen=True, kw_only=True)
class CarNeed:
    """One plugged-in car as the planner sees it."""

    key: str
    lines: frozenset[int]
    kwh_per_amp: float
    max_a: int
    need_kwh: float
    ready: int
    min_a: int = 6

    @property
    def need_amps(self) -> int:
        """Amp-slots that cover the energy (at least one slot at the minimum)."""
        if self.need_kwh <= 0:
            return 0
        amps = math.ceil(self.need_kwh / self.kwh_per_amp - _EPSILON)
        return max(amps, self.min_a)


@dataclass(frozen=True, kw_only=True)
class StepOption:
    """A capacity-tariff step the plan may end up in."""

    extra_cost: float
    max_kw: float | None


NO_TARIFF = (StepOption(extra_cost=0.0, max_kw=None),)


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


@dataclass(frozen=True, kw_only=True)
class Plan:
    """Amps per car per slot and what they cost."""

    currents: dict[str, tuple[int, ...]]
    delivered_kwh: dict[str, float]
    energy_cost: float
    step: int
    step_cost: float
    exact: bool = field(default=True)

    @property
    def cost(self) -> float:
        """Energy plus the capacity step the plan causes."""
        return self.energy_cost + self.step_cost


@dataclass(frozen=True, slots=True)
class _Group:
    """Cars that compete for the same lines with the same energy per amp."""

    lines: frozenset[int]
    kwh_per_amp: float
    cars: tuple[CarNeed, ...]


def plan_charging(problem: PlanProblem) -> Plan:
    """The least-cost plan that delivers as much as the place allows."""
    if not problem.steps:
        raise ValueError("a plan needs at least one capacity step option")
    groups = _groups(problem.cars)
    if not groups:
        cheapest = min(
            range(len(problem.steps)), key=lambda index: problem.steps[index].extra_cost
        )
        return _plan(problem, {}, cheapest, exact=True)
    if len(groups) == 1 and not problem.continuous:
        return _plan_group(problem, groups[0])
    budget = SearchBudget(_SEARCH_WORK)
    best = _plan_groups(problem, groups, 0, budget)
    for index in range(1, len(problem.steps)):
        plan = _plan_groups(problem, groups, index, budget)
        if better(_plan_value(plan), _plan_value(best)):
            best = plan
    return best


def _plan_value(plan: Plan) -> tuple[int, float]:
    """Delivered energy (in µWh, to compare whole amps of any group), then cost."""
    return (-round(math.fsum(plan.delivered_kwh.values()) * 1e6), plan.cost)


def _groups(cars: Sequence[CarNeed]) -> list[_Group]:
    grouped: dict[tuple[frozenset[int], float], list[CarNeed]] = {}
    for car in cars:
        grouped.setdefault((car.lines, round(car.kwh_per_amp, 9)), []).append(car)
    groups = [
        _Group(lines=lines, kwh_per_amp=members[0].kwh_per_amp, cars=tuple(members))
        for (lines, _), members in grouped.items()
    ]
    # More energy per amp first: it gets the most out of the shared lines.
    groups.sort(key=lambda group: -group.kwh_per_amp * len(group.lines))
    return groups


def _plan_group(problem: PlanProblem, group: _Group) -> Plan:
    """
    One group, exactly: the step options in the order of their bounds.

    An option whose relaxation cannot beat the best plan so far is skipped;
    the plan is proven if every option not skipped was solved to the end.
    """
    headroom = [list(row) for row in problem.headroom]
    candidates = []
    for index, option in enumerate(problem.steps):
        capacity = _capacity(problem, group, headroom, _spare_kw(problem, option))
        solver = GroupSolver(_group_problem(problem, group, capacity))
        bound = _step_value(solver.bound, group, option)
        candidates.append((bound, index, solver))
    candidates.sort(key=lambda candidate: (candidate[0], candidate[1]))
    budget, rescue = SearchBudget(_SEARCH_WORK), SearchBudget(_RESCUE_WORK)
    best: tuple[int, float] | None = None
    chosen, plan = 0, [[0] * len(problem.prices) for _ in group.cars]
    open_bounds: list[tuple[int, float]] = []
    for bound, index, solver in candidates:
        if not better(bound, best):
            break
        amps, proven = solver.solve(budget)
        value = _step_value(_amps_value(problem, amps), group, problem.steps[index])
        if not proven and value[0] > bound[0] and rescue.work > 0:
            # Short of energy the bound says is there: a dearer step would
            # win on energy alone, so this is worth a longer search.
            amps, proven = solver.solve(rescue)
            value = _step_value(_amps_value(problem, amps), group, problem.steps[index])
        if not proven:
            open_bounds.append(bound)
        if better(value, best):
            best, chosen, plan = value, index, amps
    return _plan(
        problem,
        {car.key: row for car, row in zip(group.cars, plan, strict=True)},
        chosen,
        exact=not any(better(bound, best) for bound in open_bounds),
    )


def _step_value(
    value: tuple[int, float], group: _Group, option: StepOption
) -> tuple[int, float]:
    """A group's (amp-slots short, price × amps) as (short, energy + step cost)."""
    return (value[0], value[1] * group.kwh_per_amp + option.extra_cost)


def _amps_value(
    problem: PlanProblem, amps: Sequence[Sequence[int]]
) -> tuple[int, float]:
    delivered = sum(map(sum, amps))
    cost = math.fsum(
        problem.prices[slot] * current
        for row in amps
        for slot, current in enumerate(row)
        if current
    )
    return (-delivered, cost)


def _plan_groups(
    problem: PlanProblem, groups: Sequence[_Group], index: int, budget: SearchBudget
) -> Plan:
    """
    Several groups (or one-block mode) under one step option.

    Each order of the groups is planned one group after the other, each in
    what the earlier ones left; then improved by a descent (``_descend``)
    that never makes the plan worse. The best plan found is kept.
    """
    best: dict[str, list[int]] = {}
    best_value: tuple[int, float] | None = None
    for number, order in enumerate(islice(permutations(groups), _MAX_ORDERS)):
        if number and budget.work <= 0:
            break
        currents = _one_after_another(problem, order, index, budget)
        if not problem.continuous:
            currents = _descend(problem, groups, index, currents, budget)
        value = _plan_value(_plan(problem, currents, index, exact=False))
        if better(value, best_value):
            best, best_value = currents, value
    return _plan(problem, best, index, exact=False)


def _one_after_another(
    problem: PlanProblem, order: Sequence[_Group], index: int, budget: SearchBudget
) -> dict[str, list[int]]:
    """Each group in what the ones before it left."""
    headroom = [list(row) for row in problem.headroom]
    spare_kw = _spare_kw(problem, problem.steps[index])
    currents: dict[str, list[int]] = {}
    for group in order:
        capacity = _capacity(problem, group, headroom, spare_kw)
        if problem.continuous:
            amps = blocks(group.cars, capacity, problem.prices)
        else:
            amps = _solve_mixed(problem, group, capacity, budget)
        for car, row in zip(group.cars, amps, strict=True):
            currents[car.key] = row
        _take(group, amps, headroom, spare_kw)
    return currents


def _descend(
    problem: PlanProblem,
    groups: Sequence[_Group],
    index: int,
    currents: dict[str, list[int]],
    budget: SearchBudget,
) -> dict[str, list[int]]:
    """
    Improve a plan of several groups by moves that each keep it no worse.

    A group planned again in what all the others leave; and, for two groups
    on a common line, the first planned again leaving the second's minimum
    in the slots cheaper than the second's dearest, then the second again:
    the trade (one car a little slower so that the other charges beside it
    rather than later) that re-planning one group at a time cannot make.
    """
    value = _plan_value(_plan(problem, currents, index, exact=False))
    moves: list[tuple[_Group, ...]] = [(group,) for group in groups]
    moves += [
        (first, second)
        for first, second in permutations(groups, 2)
        if first.lines & second.lines
    ]
    for _ in range(_DESCENT_ROUNDS):
        if budget.work <= 0:
            break
        improved = False
        for move in moves:
            for holding in (_held_for, _held_for_energy)[: len(move)]:
                trial = dict(currents)
                if len(move) == 2:
                    held = holding(problem, groups, index, trial, *move)
                    _replan(problem, groups, index, trial, move[0], budget, held)
                _replan(problem, groups, index, trial, move[-1], budget)
                trial_value = _plan_value(_plan(problem, trial, index, exact=False))
                if better(trial_value, value):
                    currents, value, improved = trial, trial_value, True
        if not improved:
            break
    return currents


def _left_by(
    problem: PlanProblem,
    groups: Sequence[_Group],
    index: int,
    currents: dict[str, list[int]],
) -> tuple[list[list[int]], list[float] | None]:
    """Headroom per slot and line, and power under the step, that ``groups`` leave."""
    headroom = [list(row) for row in problem.headroom]
    spare_kw = _spare_kw(problem, problem.steps[index])
    for group in groups:
        _take(group, [currents[car.key] for car in group.cars], headroom, spare_kw)
    return headroom, spare_kw


def _solve_mixed(
    problem: PlanProblem, group: _Group, capacity: Sequence[int], budget: SearchBudget
) -> list[list[int]]:
    """One group's best plan in ``capacity``; its relaxation counted in ``budget``."""
    budget.work -= _RELAX_WORK * len(capacity) * len(group.cars)
    amps, _ = GroupSolver(_group_problem(problem, group, capacity)).solve(budget)
    return amps


def _held_for(
    problem: PlanProblem,
    groups: Sequence[_Group],
    index: int,
    currents: dict[str, list[int]],
    yielding: _Group,
    taking: _Group,
) -> tuple[frozenset[int], list[int]]:
    """
    Where ``yielding`` should leave ``taking`` its minimum, on its lines.

    Cheapest first, each slot where ``taking`` is off: it would move its
    minimum there from its dearest slots; ``yielding`` gives up what the
    lines lack for that and moves it to its cheapest slots with room left.
    A slot is held where the one saves more than the other pays.
    """
    rows = {car.key: currents[car.key] for car in (*taking.cars, *yielding.cars)}
    taken = [
        sum(rows[car.key][slot] for car in taking.cars) for slot in _slots(problem)
    ]
    given = [
        sum(rows[car.key][slot] for car in yielding.cars) for slot in _slots(problem)
    ]
    headroom, _ = _left_by(problem, groups, index, currents)
    prices = problem.prices
    # Amps ``taking`` would move, dearest first; room ``yielding`` has, cheapest.
    dear = sorted(
        ([prices[slot], total] for slot, total in enumerate(taken) if total),
        reverse=True,
    )
    ready = max(car.ready for car in yielding.cars)
    least_own = min(car.min_a for car in yielding.cars)
    supply = sorted(
        [prices[slot], room]
        for slot in range(min(ready, len(given)))
        if (room := min(headroom[slot][line] for line in yielding.lines))
        >= (1 if given[slot] else least_own)
    )
    least = min(car.min_a for car in taking.cars)
    held = [0] * len(taken)
    for slot in sorted(_slots(problem), key=lambda slot: prices[slot]):
        price = prices[slot]
        lacking = max(0, least - min(headroom[slot][line] for line in taking.lines))
        if taken[slot] or lacking > given[slot] or not dear or dear[0][0] <= price:
            continue
        saved = _spend(dear, least, price, taking.kwh_per_amp, commit=False)
        paid = _spend(supply, lacking, price, -yielding.kwh_per_amp, commit=False)
        if saved + paid > 0:
            _spend(dear, least, price, 0.0, commit=True)
            _spend(supply, lacking, price, 0.0, commit=True)
            held[slot] = least
    return taking.lines, held


def _held_for_energy(
    problem: PlanProblem,
    groups: Sequence[_Group],
    index: int,
    currents: dict[str, list[int]],
    yielding: _Group,
    taking: _Group,
) -> tuple[frozenset[int], list[int]]:
    """
    Where ``yielding`` should leave a short ``taking`` its minimum.

    When ``taking`` lacks energy and the lines are full, a slot where
    ``yielding`` gives up fewer kWh than ``taking`` gains there delivers more
    in all: those slots, the cheapest loss first, as many as it lacks.
    """
    need = sum(car.need_amps for car in taking.cars)
    taken = [
        sum(currents[car.key][slot] for car in taking.cars) for slot in _slots(problem)
    ]
    given = [
        sum(currents[car.key][slot] for car in yielding.cars)
        for slot in _slots(problem)
    ]
    short = need - sum(taken)
    least = min(car.min_a for car in taking.cars)
    held = [0] * len(taken)
    if short <= 0:
        return taking.lines, held
    headroom, _ = _left_by(problem, groups, index, currents)
    ready = max(car.ready for car in taking.cars)
    losses = []
    for slot in range(min(ready, len(taken))):
        lacking = max(0, least - min(headroom[slot][line] for line in taking.lines))
        lost = lacking * yielding.kwh_per_amp
        if (
            not taken[slot]
            and lacking <= given[slot]
            and lost < least * taking.kwh_per_amp
        ):
            losses.append((lost, problem.prices[slot], slot))
    for _, _, slot in sorted(losses)[: math.ceil(short / least)]:
        held[slot] = least
    return taking.lines, held


def _slots(problem: PlanProblem) -> range:
    return range(len(problem.prices))


def _spend(
    queue: list[list[float]], amps: int, price: float, weight: float, *, commit: bool
) -> float:
    """``weight`` × (queued price − ``price``) over the first ``amps`` queued."""
    total, left = 0.0, float(amps)
    for entry in queue:
        if left <= 0:
            break
        used = min(left, entry[1])
        total += weight * used * (entry[0] - price)
        left -= used
        if commit:
            entry[1] -= used
    if commit:
        queue[:] = [entry for entry in queue if entry[1] > 0]
    return total if left <= 0 else -math.inf if weight < 0 else total


def _replan(
    problem: PlanProblem,
    groups: Sequence[_Group],
    index: int,
    currents: dict[str, list[int]],
    group: _Group,
    budget: SearchBudget,
    held: tuple[frozenset[int], Sequence[int]] | None = None,
) -> None:
    """Plan ``group`` again in what the others (and ``held`` on its lines) leave."""
    others = [other for other in groups if other is not group]
    headroom, spare_kw = _left_by(problem, others, index, currents)
    if held is not None:
        lines, amps_held = held
        for row, hold in zip(headroom, amps_held, strict=True):
            for line in lines:
                row[line] -= hold
    capacity = _capacity(problem, group, headroom, spare_kw)
    amps = _solve_mixed(problem, group, capacity, budget)
    currents.update((car.key, row) for car, row in zip(group.cars, amps, strict=True))


def _plan(
    problem: PlanProblem, currents: dict[str, list[int]], index: int, *, exact: bool
) -> Plan:
    option = problem.steps[index]
    energy_cost = 0.0
    delivered: dict[str, float] = {}
    for car in problem.cars:
        row = currents[car.key]
        delivered[car.key] = sum(row) * car.kwh_per_amp
        energy_cost += car.kwh_per_amp * math.fsum(
            price * current
            for price, current in zip(problem.prices, row, strict=True)
            if current
        )
    return Plan(
        currents={key: tuple(row) for key, row in currents.items()},
        delivered_kwh=delivered,
        energy_cost=energy_cost,
        step=index,
        step_cost=option.extra_cost,
        exact=exact,
    )


def _spare_kw(problem: PlanProblem, option: StepOption) -> list[float] | None:
    """Per slot, the power under the step's cap (none where the house is over it)."""
    if option.max_kw is None:
        return None
    return [
        option.max_kw - house if house <= option.max_kw else 0.0
        for house in problem.house_kw
    ]


def _group_problem(
    problem: PlanProblem, group: _Group, capacity: Sequence[int]
) -> GroupProblem:
    caps = []
    for car in group.cars:
        row = []
        for slot, room in enumerate(capacity):
            cap = min(car.max_a, room)
            row.append(cap if slot < car.ready and cap >= car.min_a else 0)
        caps.append(row)
    return GroupProblem(
        prices=problem.prices,
        room=capacity,
        need=[car.need_amps for car in group.cars],
        min_a=[car.min_a for car in group.cars],
        caps=caps,
    )


def _capacity(
    problem: PlanProblem,
    group: _Group,
    headroom: Sequence[Sequence[int]],
    spare_kw: Sequence[float] | None,
) -> list[int]:
    """Amps the group may draw per slot: lines, capacity step and price cap."""
    capacity = []
    kw_per_amp = group.kwh_per_amp * SLOTS_PER_HOUR
    for slot in range(len(problem.prices)):
        amps = min(headroom[slot][line] for line in group.lines)
        if spare_kw is not None:
            amps = min(amps, math.floor(spare_kw[slot] / kw_per_amp + _EPSILON))
        if problem.price_cap is not None and problem.prices[slot] > problem.price_cap:
            amps = 0
        capacity.append(max(amps, 0))
    return capacity


def _take(
    group: _Group,
    amps: Sequence[Sequence[int]],
    headroom: list[list[int]],
    spare_kw: list[float] | None,
) -> None:
    """Leave the next group what this one does not use."""
    kw_per_amp = group.kwh_per_amp * SLOTS_PER_HOUR
    for slot, total in enumerate(map(sum, zip(*amps, strict=True))):
        for line in group.lines:
            headroom[slot][line] -= total
        if spare_kw is not None:
            spare_kw[slot] -= total * kw_per_amp
