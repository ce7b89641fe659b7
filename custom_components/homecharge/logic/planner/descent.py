"""Several groups one after the other, and a descent that improves their plan.

Each group planned in what the ones before it left (``plan_groups_in_turn``);
the descent (``improve_by_descent``) re-plans one group in what the others
leave, and trades between two groups on a common line. Both are what the
joint planning of several groups (``solve.py``, ``joint.py``) starts from
and finishes with (``trades.py``: the best of the orders, and the trades the
descent's moves miss); continuous mode plans the groups in turn only.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from itertools import permutations
import math

from .blocks import blocks
from .exact import GroupProblem, GroupSolver, SearchBudget, better
from .groups import (
    Group,
    assemble_plan,
    deduct_group_use,
    group_capacity,
    group_problem,
    power_under_step,
    room_left_by,
    whole_plan_value,
)
from .model import PlanProblem

# What solving a group's relaxation counts in the budget, per car and slot.
_RELAXATION_WORK_PER_CELL = 20


# Orders of the groups tried at a place with several (all of up to three).
MAX_GROUP_ORDERS = 6


# Passes of the descent over the groups at most.
DESCENT_ROUNDS = 4


# Search work one group's plan may take within a plan of several groups.
SOLVE_WORK = 10_000


# Proven group plans remembered (``solve_group``), all forgotten when full:
# a plan of several groups solves some hundred.
_PROVEN_KEPT = 512


# A group's proven plans by what they depend on (the group, its room per
# slot, the prices, the share of slot 0 left), with the work each took.
type _Solved = tuple[tuple[tuple[int, ...], ...], int]


_PROVEN: dict[tuple[Group, tuple[int, ...], tuple[float, ...], float], _Solved] = {}


def plan_groups_in_turn(
    problem: PlanProblem, order: Sequence[Group], step_index: int, budget: SearchBudget
) -> dict[str, list[int]]:
    """Each group in what the ones before it left."""
    headroom = [list(row) for row in problem.headroom]
    spare_kw = power_under_step(problem, problem.steps[step_index])
    currents: dict[str, list[int]] = {}
    for group in order:
        capacity = group_capacity(problem, group, headroom, spare_kw)
        if problem.continuous:
            amps = blocks(group.cars, capacity, problem.prices)
        else:
            amps = solve_group(problem, group, capacity, budget)
        for car, row in zip(group.cars, amps, strict=True):
            currents[car.key] = row
        deduct_group_use(problem, group, amps, headroom, spare_kw)
    return currents


def improve_by_descent(
    problem: PlanProblem,
    groups: Sequence[Group],
    step_index: int,
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
    value = whole_plan_value(assemble_plan(problem, currents, step_index, exact=False))
    currents, _ = descend(
        problem,
        groups,
        step_index,
        (currents, value),
        group_moves(groups),
        HOLDS,
        budget,
    )
    return currents


def group_moves(groups: Sequence[Group]) -> list[tuple[Group, ...]]:
    """Each group alone, then each two on a common line (both ways)."""
    moves: list[tuple[Group, ...]] = [(group,) for group in groups]
    moves += [
        (first, second)
        for first, second in permutations(groups, 2)
        if first.lines & second.lines
    ]
    return moves


def descend(
    problem: PlanProblem,
    groups: Sequence[Group],
    step_index: int,
    start: tuple[dict[str, list[int]], tuple[int, float]],
    moves: Sequence[tuple[Group, ...]],
    find: Sequence[FindHolds],
    budget: SearchBudget,
    rounds: int = DESCENT_ROUNDS,
    *,
    only_holds: bool = False,
) -> tuple[dict[str, list[int]], tuple[int, float]]:
    """
    ``moves`` (a group re-planned; two, ``find``'s holds first) while better.

    ``only_holds``: a pair whose holds are all 0 is skipped (nothing to
    trade), rather than both groups re-planned as they are.
    """
    currents, value = start
    for _ in range(rounds):
        if budget.work <= 0:
            break
        improved = False
        for move in moves:
            for find_holds in find if len(move) == 2 else find[:1]:
                trial = dict(currents)
                if len(move) == 2:
                    holds = find_holds(problem, groups, step_index, trial, *move)
                    if only_holds and not any(holds[1]):
                        continue  # nothing to trade: the plan as it is
                    replan_group(
                        problem, groups, step_index, trial, move[0], budget, holds
                    )
                replan_group(problem, groups, step_index, trial, move[-1], budget)
                trial_value = whole_plan_value(
                    assemble_plan(problem, trial, step_index, exact=False)
                )
                if better(trial_value, value):
                    currents, value, improved = trial, trial_value, True
        if not improved:
            break
    return currents, value


def solve_group(
    problem: PlanProblem, group: Group, capacity: Sequence[int], budget: SearchBudget
) -> list[list[int]]:
    """
    One group's best plan in ``capacity``; its relaxation counted in ``budget``.

    The descent plans a group again and again in the same room (two thirds
    of its solves): a plan proven optimal is remembered with the work it
    took, and the same room again gets it back (a search again would find
    one as good) and is charged the same work, so that the descent takes
    the same path as before, only sooner.
    """
    key = (group, tuple(capacity), tuple(problem.prices), problem.first_slot_share)
    if (known := _PROVEN.get(key)) is not None:
        rows, work = known
        budget.work -= work
        return [list(row) for row in rows]
    before = budget.work
    budget.work -= _RELAXATION_WORK_PER_CELL * len(capacity) * len(group.cars)
    amps, proven = GroupSolver(group_problem(problem, group, capacity)).solve(budget)
    if proven:
        if len(_PROVEN) >= _PROVEN_KEPT:
            _PROVEN.clear()
        _PROVEN[key] = (tuple(map(tuple, amps)), before - budget.work)
    return amps


def solve_within(own: GroupProblem, budget: SearchBudget) -> list[list[int]]:
    """
    One group's best plan, its search charged to ``budget``.

    At most ``SOLVE_WORK`` of it: a crowded group's branch and bound would
    take all the budget of a plan of several groups.
    """
    share = SearchBudget(min(budget.work, SOLVE_WORK))
    before = share.work
    amps, _ = GroupSolver(own).solve(share)
    budget.work -= before - share.work
    return amps


def holds_saving_cost(
    problem: PlanProblem,
    groups: Sequence[Group],
    step_index: int,
    currents: dict[str, list[int]],
    yielding: Group,
    taking: Group,
) -> tuple[frozenset[int], list[int]]:
    """
    Amps per slot ``yielding`` should hold free on ``taking``'s lines: to save cost.

    Cheapest first, each slot where ``taking`` is off: it would move its
    minimum there from its dearest slots; ``yielding`` gives up what the
    lines lack for that and moves it to its cheapest slots with room left.
    The minimum is held free in a slot where the one saves more than the
    other pays.
    """
    rows = {car.key: currents[car.key] for car in (*taking.cars, *yielding.cars)}
    taken = [
        sum(rows[car.key][slot] for car in taking.cars) for slot in slots_of(problem)
    ]
    given = [
        sum(rows[car.key][slot] for car in yielding.cars) for slot in slots_of(problem)
    ]
    headroom, _ = room_left_by(problem, groups, step_index, currents)
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
    holds = [0] * len(taken)
    for slot in sorted(slots_of(problem), key=lambda slot: prices[slot]):
        price = prices[slot]
        lacking = max(0, least - min(headroom[slot][line] for line in taking.lines))
        if taken[slot] or lacking > given[slot] or not dear or dear[0][0] <= price:
            continue
        saved = move_saving(dear, least, price, taking.kwh_per_amp, commit=False)
        paid = move_saving(supply, lacking, price, -yielding.kwh_per_amp, commit=False)
        if saved + paid > 0:
            move_saving(dear, least, price, 0.0, commit=True)
            move_saving(supply, lacking, price, 0.0, commit=True)
            holds[slot] = least
    return taking.lines, holds


def _holds_gaining_energy(
    problem: PlanProblem,
    groups: Sequence[Group],
    step_index: int,
    currents: dict[str, list[int]],
    yielding: Group,
    taking: Group,
) -> tuple[frozenset[int], list[int]]:
    """
    Amps per slot ``yielding`` should hold free for a short ``taking``: for energy.

    When ``taking`` lacks energy and the lines are full, a slot where
    ``yielding`` gives up fewer kWh than ``taking`` gains there delivers more
    in all: those slots, the cheapest loss first, as many as it lacks.
    """
    need = sum(car.need_amps for car in taking.cars)
    taken = [
        sum(currents[car.key][slot] for car in taking.cars)
        for slot in slots_of(problem)
    ]
    given = [
        sum(currents[car.key][slot] for car in yielding.cars)
        for slot in slots_of(problem)
    ]
    short = need - sum(taken)
    least = min(car.min_a for car in taking.cars)
    holds = [0] * len(taken)
    if short <= 0:
        return taking.lines, holds
    headroom, _ = room_left_by(problem, groups, step_index, currents)
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
        holds[slot] = least
    return taking.lines, holds


type FindHolds = Callable[
    [PlanProblem, Sequence[Group], int, dict[str, list[int]], Group, Group],
    tuple[frozenset[int], list[int]],
]


HOLDS: tuple[FindHolds, ...] = (holds_saving_cost, _holds_gaining_energy)


def slots_of(problem: PlanProblem) -> range:
    """Every slot of the horizon."""
    return range(len(problem.prices))


def move_saving(
    queue: list[list[float]], amps: int, price: float, weight: float, *, commit: bool
) -> float:
    """
    What moving ``amps`` between the queued slots and a slot at ``price`` is worth.

    ``queue`` holds [price, amps] entries in the order they are used:
    ``weight`` × (queued price − ``price``) over the first ``amps`` queued.
    Where the queue holds too few, a negative ``weight`` (a cost: room that
    is not there) gives −inf. With ``commit`` the amps are taken off it.
    """
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


def replan_group(
    problem: PlanProblem,
    groups: Sequence[Group],
    step_index: int,
    currents: dict[str, list[int]],
    group: Group,
    budget: SearchBudget,
    holds: tuple[frozenset[int], Sequence[int]] | None = None,
) -> None:
    """Plan ``group`` again in what the others (and ``holds`` on its lines) leave."""
    others = [other for other in groups if other is not group]
    headroom, spare_kw = room_left_by(problem, others, step_index, currents)
    if holds is not None:
        lines, amps_held = holds
        for row, hold in zip(headroom, amps_held, strict=True):
            for line in lines:
                row[line] -= hold
    capacity = group_capacity(problem, group, headroom, spare_kw)
    amps = solve_group(problem, group, capacity, budget)
    currents.update((car.key, row) for car, row in zip(group.cars, amps, strict=True))
