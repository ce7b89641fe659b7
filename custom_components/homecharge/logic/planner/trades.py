"""Several groups' plans: the best order in turn, and the trades a descent misses.

``best_in_turn`` plans the groups in each order (``descent.py``), each
descended, and keeps the best; a group still short of energy then trades
line room (``trade_for_energy``). ``finish_by_trades`` finishes a joint plan
from starts the descent cannot reach from it: the groups side by side at
their minimums, and trades tried rather than priced.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from itertools import islice, permutations
import math

from .descent import (
    DESCENT_ROUNDS,
    HOLDS,
    MAX_GROUP_ORDERS,
    SOLVE_WORK,
    FindHolds,
    descend,
    group_moves,
    improve_by_descent,
    plan_groups_in_turn,
    replan_group,
)
from .exact import SearchBudget, better
from .groups import (
    Group,
    assemble_plan,
    room_left_by,
    whole_plan_value,
)
from .model import Plan, PlanProblem

# Search work of each start and of the tried trades that finish a plan
# (``finish_by_trades``): some 60 ms at most.
_FINISH_WORK = 40_000


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
    moves = group_moves(groups)
    traded = descend(
        problem,
        groups,
        step_index,
        (currents, value),
        moves[len(groups) :],
        _TRADES,
        budget,
        rounds=1,
        only_holds=True,
    )
    if not better(traded[1], value):
        return currents
    budget.work = max(budget.work, SOLVE_WORK // 2)
    currents, _ = descend(problem, groups, step_index, traded, moves, HOLDS, budget)
    return currents


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


_TRADES: tuple[FindHolds, ...] = (_holds_trading_energy, _holds_moving_energy)


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
    replan_group(
        problem, groups, step_index, currents, first, budget, (second.lines, holds)
    )
    for group in groups:
        if group is not first:
            replan_group(problem, groups, step_index, currents, group, budget)
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

    ``holds_saving_cost`` prices what the yielding group pays by the room
    it has now, and a group that would spread over other cheap slots pays
    less: here the taking group's minimum is held in its few cheapest
    slots (``_side_by_side_slots``: 1, 2, 4, … of them), both planned again,
    and the first trade that makes the plan better kept; the descent goes
    on from there, and the trades again while they help.
    """
    currents, value = start
    for _ in range(DESCENT_ROUNDS):
        improved = False
        for yielding, taking in group_moves(groups)[len(groups) :]:
            for holds in _side_by_side_holds(
                problem, groups, step_index, currents, yielding, taking
            ):
                trial = dict(currents)
                replan_group(
                    problem, groups, step_index, trial, yielding, budget, holds
                )
                replan_group(problem, groups, step_index, trial, taking, budget)
                trial_value = whole_plan_value(
                    assemble_plan(problem, trial, step_index, exact=False)
                )
                if better(trial_value, value):
                    currents, value, improved = trial, trial_value, True
                    break
        if not improved:
            break
        currents, value = descend(
            problem,
            groups,
            step_index,
            (currents, value),
            group_moves(groups),
            HOLDS,
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
