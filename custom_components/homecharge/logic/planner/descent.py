"""Several groups one after the other, and a descent that improves their plan.

Each group planned in what the ones before it left (``plan_groups_in_turn``);
the descent (``improve_by_descent``) re-plans one group in what the others
leave, and trades between two groups on a common line. Both are what the
joint planning of several groups (``solve.py``, ``joint.py``) starts from
and finishes with; continuous mode plans the groups in turn only.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from itertools import islice, permutations
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
from .model import Plan, PlanProblem

# What solving a group's relaxation counts in the budget, per car and slot.
_RELAXATION_WORK_PER_CELL = 20
# Orders of the groups tried at a place with several (all of up to three).
MAX_GROUP_ORDERS = 6
# Passes of the descent over the groups at most.
_DESCENT_ROUNDS = 4
# Search work one group's plan may take within a plan of several groups.
SOLVE_WORK = 10_000
# Proven group plans remembered (``_solve_group``), all forgotten when full:
# a plan of several groups solves some hundred.
_PROVEN_KEPT = 512
# Search work of each start and of the tried trades that finish a plan
# (``finish_by_trades``): some 60 ms at most.
_FINISH_WORK = 40_000

# A group's proven plans by what they depend on (the group, its room per
# slot, the prices, the share of slot 0 left), with the work each took.
type _Solved = tuple[tuple[tuple[int, ...], ...], int]
_PROVEN: dict[tuple[Group, tuple[int, ...], tuple[float, ...], float], _Solved] = {}


def plan_groups_under_step(
    problem: PlanProblem,
    groups: Sequence[Group],
    step_index: int,
    budget: SearchBudget,
) -> Plan:
    """
    Several groups (or one-block mode) under one step option.

    Each order of the groups is planned one group after the other, each in
    what the earlier ones left; then improved by a descent
    (``improve_by_descent``) that never makes the plan worse. The best plan
    found is kept.
    """
    best = best_in_turn(problem, groups, step_index, budget)
    return assemble_plan(problem, best, step_index, exact=False)


def best_in_turn(
    problem: PlanProblem,
    groups: Sequence[Group],
    step_index: int,
    budget: SearchBudget,
) -> dict[str, list[int]]:
    """The best of the groups in turn in each order, each improved by the descent."""
    best: dict[str, list[int]] = {}
    best_value: tuple[int, float] | None = None
    for number, order in enumerate(islice(permutations(groups), MAX_GROUP_ORDERS)):
        if number and budget.work <= 0:
            break
        currents = plan_groups_in_turn(problem, order, step_index, budget)
        if not problem.continuous:
            currents = improve_by_descent(problem, groups, step_index, currents, budget)
        value = whole_plan_value(
            assemble_plan(problem, currents, step_index, exact=False)
        )
        if better(value, best_value):
            best, best_value = currents, value
    if best and not problem.continuous:
        best = trade_for_energy(problem, groups, step_index, best)
    return best


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
            amps = _solve_group(problem, group, capacity, budget)
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
    currents, _ = _descend(
        problem, groups, step_index, (currents, value), _moves(groups), _HOLDS, budget
    )
    return currents


def trade_for_energy(
    problem: PlanProblem,
    groups: Sequence[Group],
    step_index: int,
    currents: dict[str, list[int]],
) -> dict[str, list[int]]:
    """
    A plan whose group is short of energy, improved by trades of line room.

    The descent's moves take room a group does not use; where a short group
    could use more of a full shared line than the other gives up (a 3-phase
    car beside a 1-phase one on an IT grid), or where the other could move,
    the room is held for it (``_holds_trading_energy``), then the descent
    goes on. Its own work, after the plan's: a plan short of energy is
    worth the search, and the plans it was chosen from keep theirs.
    """
    value = whole_plan_value(assemble_plan(problem, currents, step_index, exact=False))
    budget = SearchBudget(SOLVE_WORK)
    moves = _moves(groups)
    traded = _descend(
        problem,
        groups,
        step_index,
        (currents, value),
        moves[len(groups) :],
        _TRADES,
        budget,
        rounds=1,
    )
    if not better(traded[1], value):
        return currents
    budget.work = max(budget.work, SOLVE_WORK // 2)
    currents, _ = _descend(problem, groups, step_index, traded, moves, _HOLDS, budget)
    return currents


def _moves(groups: Sequence[Group]) -> list[tuple[Group, ...]]:
    """Each group alone, then each two on a common line (both ways)."""
    moves: list[tuple[Group, ...]] = [(group,) for group in groups]
    moves += [
        (first, second)
        for first, second in permutations(groups, 2)
        if first.lines & second.lines
    ]
    return moves


def _descend(
    problem: PlanProblem,
    groups: Sequence[Group],
    step_index: int,
    start: tuple[dict[str, list[int]], tuple[int, float]],
    moves: Sequence[tuple[Group, ...]],
    find: Sequence[_FindHolds],
    budget: SearchBudget,
    rounds: int = _DESCENT_ROUNDS,
) -> tuple[dict[str, list[int]], tuple[int, float]]:
    """``moves`` (a group re-planned; two, ``find``'s holds first) while better."""
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
                    if find is _TRADES and not any(holds[1]):
                        continue  # nothing to trade: the plan as it is
                    _replan_group(
                        problem, groups, step_index, trial, move[0], budget, holds
                    )
                _replan_group(problem, groups, step_index, trial, move[-1], budget)
                trial_value = whole_plan_value(
                    assemble_plan(problem, trial, step_index, exact=False)
                )
                if better(trial_value, value):
                    currents, value, improved = trial, trial_value, True
        if not improved:
            break
    return currents, value


def _solve_group(
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


def _holds_saving_cost(
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
        sum(rows[car.key][slot] for car in taking.cars) for slot in _slots(problem)
    ]
    given = [
        sum(rows[car.key][slot] for car in yielding.cars) for slot in _slots(problem)
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
    for slot in sorted(_slots(problem), key=lambda slot: prices[slot]):
        price = prices[slot]
        lacking = max(0, least - min(headroom[slot][line] for line in taking.lines))
        if taken[slot] or lacking > given[slot] or not dear or dear[0][0] <= price:
            continue
        saved = _move_saving(dear, least, price, taking.kwh_per_amp, commit=False)
        paid = _move_saving(supply, lacking, price, -yielding.kwh_per_amp, commit=False)
        if saved + paid > 0:
            _move_saving(dear, least, price, 0.0, commit=True)
            _move_saving(supply, lacking, price, 0.0, commit=True)
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
        sum(currents[car.key][slot] for car in taking.cars) for slot in _slots(problem)
    ]
    given = [
        sum(currents[car.key][slot] for car in yielding.cars)
        for slot in _slots(problem)
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


def _holds_trading_energy(
    problem: PlanProblem,
    groups: Sequence[Group],
    step_index: int,
    currents: dict[str, list[int]],
    yielding: Group,
    taking: Group,
    *,
    moving: bool = False,
) -> tuple[frozenset[int], list[int]]:
    """
    Room per slot ``yielding`` should hold free for a short ``taking``, beside it.

    Where ``taking`` charges below its most and the shared line is full, it
    gains more per amp of that line than ``yielding`` loses (a 3-phase car
    beside a 1-phase one on an IT grid): the best trades first, as many as
    it lacks. ``moving``: every such slot, the best first, for a
    ``yielding`` that has room elsewhere (a car full already).
    """
    short = sum(car.need_amps for car in taking.cars)
    taken = [0] * len(problem.prices)
    given = [0] * len(problem.prices)
    for group, row in ((taking, taken), (yielding, given)):
        for car in group.cars:
            for slot, amps in enumerate(currents[car.key]):
                row[slot] += amps
    short -= sum(taken)
    holds = [0] * len(taken)
    if short <= 0:
        return taking.lines, holds
    least = min(car.min_a for car in taking.cars)
    headroom, _ = room_left_by(problem, groups, step_index, currents)
    shared, own_lines = taking.lines & yielding.lines, taking.lines - yielding.lines
    trades = []
    for slot in range(min(max(car.ready for car in taking.cars), len(taken))):
        most = sum(car.max_a for car in taking.cars if slot < car.ready)
        shared_room = min(headroom[slot][line] for line in shared)
        added = min(
            most - taken[slot],
            min((headroom[slot][line] for line in own_lines), default=most),
            shared_room + given[slot],
        )
        if added <= 0 or (not taken[slot] and added < least):
            continue
        lacking = max(0, added - shared_room)
        gained = added * taking.kwh_per_amp - lacking * yielding.kwh_per_amp
        if lacking and (moving or gained > 0):
            trades.append((-gained / lacking, problem.prices[slot], slot, added))
    for _, _, slot, added in sorted(trades):
        if short <= 0:
            break
        holds[slot] = min(added, max(short, least))
        short -= holds[slot]
    return taking.lines, holds


def _holds_moving_energy(
    problem: PlanProblem,
    groups: Sequence[Group],
    step_index: int,
    currents: dict[str, list[int]],
    yielding: Group,
    taking: Group,
) -> tuple[frozenset[int], list[int]]:
    """``_holds_trading_energy`` for a ``yielding`` that may move (``moving``)."""
    return _holds_trading_energy(
        problem, groups, step_index, currents, yielding, taking, moving=True
    )


type _FindHolds = Callable[
    [PlanProblem, Sequence[Group], int, dict[str, list[int]], Group, Group],
    tuple[frozenset[int], list[int]],
]
_HOLDS: tuple[_FindHolds, ...] = (_holds_saving_cost, _holds_gaining_energy)
_TRADES: tuple[_FindHolds, ...] = (_holds_trading_energy, _holds_moving_energy)


def _slots(problem: PlanProblem) -> range:
    """Every slot of the horizon."""
    return range(len(problem.prices))


def _move_saving(
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


def _replan_group(
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
    amps = _solve_group(problem, group, capacity, budget)
    currents.update((car.key, row) for car, row in zip(group.cars, amps, strict=True))


def finish_by_trades(
    problem: PlanProblem,
    groups: Sequence[Group],
    step_index: int,
    currents: dict[str, list[int]],
) -> dict[str, list[int]]:
    """
    A plan of several groups, improved by what the descent's moves miss.

    The descent moves from one plan to one next to it, and the optimum of a
    3-phase and a 1-phase group is often far: both at their minimum side by
    side in the cheap slots (12 A of a 16 A line) where the plan gives the
    3-phase one its most alone and the 1-phase one dearer slots. So: that
    plan as a start (``_side_by_side``), descended; then trades tried on the
    best rather than priced (``_trade_by_trial``). Each in its own budget,
    after the plan's; the best plan kept.
    """
    best = currents
    value = whole_plan_value(assemble_plan(problem, best, step_index, exact=False))
    starts = [
        _side_by_side(
            problem, groups, step_index, first, second, SearchBudget(_FINISH_WORK)
        )
        for first, second in permutations(groups, 2)
        if first.lines & second.lines and len(first.lines) > len(second.lines)
    ]
    for trial in starts:
        trial_value = whole_plan_value(
            assemble_plan(problem, trial, step_index, exact=False)
        )
        if better(trial_value, value):
            best, value = trial, trial_value
    return _trade_by_trial(
        problem, groups, step_index, (best, value), SearchBudget(_FINISH_WORK)
    )


def _side_by_side(
    problem: PlanProblem,
    groups: Sequence[Group],
    step_index: int,
    first: Group,
    second: Group,
    budget: SearchBudget,
) -> dict[str, list[int]]:
    """
    ``first`` planned leaving ``second``'s minimum wherever both fit; descended.

    Wherever the shared lines have room for both minimums (and the others
    of each for its own), ``first`` leaves ``second``'s minimum free; then
    the other groups in what is left, and the descent from there.
    """
    currents = {car.key: [0] * len(problem.prices) for car in problem.cars}
    headroom = problem.headroom
    least = min(car.min_a for car in second.cars)
    first_least = min(car.min_a for car in first.cars)
    shared = first.lines & second.lines
    ready = max(car.ready for car in second.cars)
    holds = [0] * len(problem.prices)
    for slot in range(min(ready, len(holds))):
        room = headroom[slot]
        if (
            min(room[line] for line in shared) >= least + first_least
            and min(room[line] for line in second.lines) >= least
            and min((room[line] for line in first.lines), default=0) >= first_least
        ):
            holds[slot] = least
    _replan_group(
        problem, groups, step_index, currents, first, budget, (second.lines, holds)
    )
    for group in groups:
        if group is not first:
            _replan_group(problem, groups, step_index, currents, group, budget)
    return improve_by_descent(problem, groups, step_index, currents, budget)


def _trade_by_trial(
    problem: PlanProblem,
    groups: Sequence[Group],
    step_index: int,
    start: tuple[dict[str, list[int]], tuple[int, float]],
    budget: SearchBudget,
) -> dict[str, list[int]]:
    """
    Trades of two groups on a common line, tried rather than priced.

    ``_holds_saving_cost`` prices what the yielding group pays by the room
    it has now, and a group that would spread over other cheap slots pays
    less: here the taking group's minimum is held in its few cheapest
    slots (``_side_by_side_slots``: 1, 2, 4, … of them), both planned again,
    and the first trade that makes the plan better kept; the descent goes
    on from there, and the trades again while they help.
    """
    currents, value = start
    for _ in range(_DESCENT_ROUNDS):
        improved = False
        for yielding, taking in _moves(groups)[len(groups) :]:
            for holds in _side_by_side_holds(
                problem, groups, step_index, currents, yielding, taking
            ):
                trial = dict(currents)
                _replan_group(
                    problem, groups, step_index, trial, yielding, budget, holds
                )
                _replan_group(problem, groups, step_index, trial, taking, budget)
                trial_value = whole_plan_value(
                    assemble_plan(problem, trial, step_index, exact=False)
                )
                if better(trial_value, value):
                    currents, value, improved = trial, trial_value, True
                    break
        if not improved:
            break
        currents, value = _descend(
            problem,
            groups,
            step_index,
            (currents, value),
            _moves(groups),
            _HOLDS,
            budget,
        )
    return currents


def _side_by_side_holds(
    problem: PlanProblem,
    groups: Sequence[Group],
    step_index: int,
    currents: dict[str, list[int]],
    yielding: Group,
    taking: Group,
) -> Iterator[tuple[frozenset[int], list[int]]]:
    """
    ``taking``'s minimum held in its 1, 2, 4, … cheapest slots to share.

    A slot to share: cheaper than ``taking``'s dearest, ``taking`` off
    there for want of room that ``yielding`` takes and could give up while
    keeping its own minimum. Up to as many as ``taking``'s need at its
    minimum.
    """
    taken = [0] * len(problem.prices)
    given = [0] * len(problem.prices)
    for group, row in ((taking, taken), (yielding, given)):
        for car in group.cars:
            for slot, amps in enumerate(currents[car.key]):
                row[slot] += amps
    prices = problem.prices
    dearest = max(
        (prices[slot] for slot, total in enumerate(taken) if total), default=math.inf
    )
    least = min(car.min_a for car in taking.cars)
    kept = min(car.min_a for car in yielding.cars)
    headroom, _ = room_left_by(problem, groups, step_index, currents)
    ready = max(car.ready for car in taking.cars)
    slots = sorted(
        (
            slot
            for slot in range(min(ready, len(taken)))
            if not taken[slot]
            and prices[slot] < dearest
            and 0
            < least - min(headroom[slot][line] for line in taking.lines)
            <= given[slot] - kept
        ),
        key=lambda slot: prices[slot],
    )
    most = min(len(slots), math.ceil(sum(car.need_amps for car in taking.cars) / least))
    count = 1
    while count <= most:
        holds = [0] * len(taken)
        for slot in slots[:count]:
            holds[slot] = least
        yield taking.lines, holds
        if count == most:
            break
        count = min(count * 2, most)
