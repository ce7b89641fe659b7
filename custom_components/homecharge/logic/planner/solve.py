"""Smart-charging planner: the current of every car in every 15-minute slot.

Pure logic; the problem and the plan are in ``model.py``. Cars that load the
same lines with the same energy per amp form a *group* (``groups.py``: what
each may draw and leaves the others). ``exact.py`` plans one group: a
relaxation without the minimum (a polymatroid, solved greedily) bounds the
cost, cars trade amps to reach it, and else one car is settled by dynamic
programming, several by branch and bound within a work budget;
``Plan.exact`` says whether the optimum was proven. The step options are
planned best bound first, and one whose bound cannot beat the best plan so
far is skipped. Places whose cars form several groups (a 3-phase and a
1-phase charger) are planned group after group in each order, then improved
by re-planning one group in what the others leave and by trades between two
groups: always feasible, usually within a per cent of the optimum but not
proven (``exact`` is False). One-block mode (``blocks.py``) plans the groups
in turn too, without the descent.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from itertools import islice, permutations
import math

from ..capacity_tariff import StepOption
from .blocks import blocks
from .exact import GroupSolver, SearchBudget, better
from .groups import (
    Group,
    assemble_plan,
    deduct_group_use,
    group_capacity,
    group_cars,
    group_problem,
    power_under_step,
    room_left_by,
    whole_plan_value,
)
from .joint import JointRelaxation, plan_in_shares, plan_in_turn_at
from .model import Plan, PlanProblem

# Dives and branch and bound per plan, in the steps ``SearchBudget`` counts:
# some 45 ms at most on a desktop CPU. Past it a plan is the best found, not
# proven (``Plan.exact`` False).
_SEARCH_WORK = 50_000
# Once per plan, for a step option whose search fell short of the energy its
# bound promises: some 0.1 s more at most.
_RESCUE_WORK = 500_000
# What solving a group's relaxation counts in the budget, per car and slot.
_RELAXATION_WORK_PER_CELL = 20
# Orders of the groups tried at a place with several (all of up to three).
_MAX_GROUP_ORDERS = 6
# µWh by which two sums of the same energy may differ (float rounding).
_ENERGY_NOISE = 10
# Passes of the descent over the groups at most.
_DESCENT_ROUNDS = 4
# Work for the joint relaxation of several groups and the plans it makes.
_JOINT_WORK = 80_000
# Plans of several groups the descent improves, the best first.
_DESCENDED = 2


def plan_charging(problem: PlanProblem) -> Plan:
    """The least-cost plan that delivers as much as the place allows."""
    if not problem.steps:
        raise ValueError("a plan needs at least one capacity step option")
    groups = group_cars(problem.cars)
    if not groups:
        cheapest = min(
            range(len(problem.steps)),
            key=lambda step_index: problem.steps[step_index].extra_cost,
        )
        return assemble_plan(problem, {}, cheapest, exact=True)
    if len(groups) == 1 and not problem.continuous:
        return _plan_single_group(problem, groups[0])
    relaxations = [
        JointRelaxation(problem, groups, power_under_step(problem, option))
        for option in problem.steps
    ]
    if problem.continuous:
        budget = SearchBudget(_SEARCH_WORK)
        plans = [
            _plan_groups_under_step(problem, groups, step_index, budget)
            for step_index in range(len(problem.steps))
        ]
    else:
        plans = _plan_several_groups(problem, groups, relaxations)
    best = plans[0]
    for plan in plans[1:]:
        if better(whole_plan_value(plan), whole_plan_value(best)):
            best = plan
    return replace(best, lower_bound=_groups_lower_bound(problem, relaxations, best))


def _plan_several_groups(
    problem: PlanProblem,
    groups: Sequence[Group],
    relaxations: Sequence[JointRelaxation],
) -> list[Plan]:
    """
    A plan under each step option worth planning, best bound first.

    An option whose bound (energy, then cost) cannot beat the best plan so
    far is skipped.
    """
    candidates = sorted(
        (
            (
                (-relaxation.full_uwh, relaxation.bound + option.extra_cost),
                step_index,
            )
            for step_index, (option, relaxation) in enumerate(
                zip(problem.steps, relaxations, strict=True)
            )
        ),
        key=lambda candidate: (candidate[0], candidate[1]),
    )
    plans: list[Plan] = []
    best: tuple[int, float] | None = None
    budget = SearchBudget(_JOINT_WORK)
    for bound, step_index in candidates:
        if plans and not better(bound, best):
            break
        plan = _plan_jointly(
            problem,
            groups,
            step_index,
            relaxations[step_index],
            best,
            budget,
        )
        plans.append(plan)
        if better(value := whole_plan_value(plan), best):
            best = value
    return plans


def _plan_jointly(
    problem: PlanProblem,
    groups: Sequence[Group],
    step_index: int,
    relaxation: JointRelaxation,
    best_so_far: tuple[int, float] | None,
    budget: SearchBudget,
) -> Plan:
    """
    Several groups under one step option, from their joint relaxation.

    The groups in turn in each order; then the relaxation's bound raised
    towards the best of them, and plans made from it (``joint.py``); the
    best few improved by the descent.
    """
    option = problem.steps[step_index]
    spare_kw = power_under_step(problem, option)
    orders = list(islice(permutations(range(len(groups))), _MAX_GROUP_ORDERS))
    found: list[tuple[tuple[int, float], dict[str, list[int]]]] = []

    def consider(currents: dict[str, list[int]]) -> None:
        plan = assemble_plan(problem, currents, step_index, exact=False)
        found.append((whole_plan_value(plan), currents))

    for order in orders:
        consider(
            _plan_groups_in_turn(
                problem, [groups[index] for index in order], step_index, budget
            )
        )
    full = -relaxation.full_uwh + _ENERGY_NOISE

    def target() -> float | None:
        costs = [value[1] for value, _ in found if value[0] <= full]
        return min(costs) - option.extra_cost if costs else None

    tried = relaxation.improve(target(), budget)
    if target() is not None and not better(
        (-relaxation.full_uwh, relaxation.bound + option.extra_cost), best_so_far
    ):
        return _best_found(problem, step_index, found)
    for order in orders:
        consider(plan_in_shares(problem, relaxation, order, spare_kw, budget))
        for prices in tried[-1:]:
            consider(
                plan_in_turn_at(problem, relaxation, order, prices, spare_kw, budget)
            )
    found.sort(key=lambda entry: (entry[0][0], entry[0][1]))
    seen: list[tuple[int, float]] = []
    for value, currents in found[:]:
        if len(seen) >= _DESCENDED:
            break
        if any(not better(value, other) and not better(other, value) for other in seen):
            continue
        seen.append(value)
        consider(_improve_by_descent(problem, groups, step_index, currents, budget))
    before = target()
    plan = _best_found(problem, step_index, found)
    if before is None and target() is not None:
        relaxation.improve(target(), budget)
    return plan


def _best_found(
    problem: PlanProblem,
    step_index: int,
    found: Sequence[tuple[tuple[int, float], dict[str, list[int]]]],
) -> Plan:
    """The best of the plans found."""
    best_value, best = found[0]
    for value, currents in found[1:]:
        if better(value, best_value):
            best_value, best = value, currents
    return assemble_plan(problem, best, step_index, exact=False)


def _groups_lower_bound(
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


def _plan_single_group(problem: PlanProblem, group: Group) -> Plan:
    """
    One group, exactly: the step options in the order of their bounds.

    An option whose relaxation cannot beat the best plan so far is skipped;
    the plan is proven if every option not skipped was solved to the end.
    """
    headroom = [list(row) for row in problem.headroom]
    candidates = []
    for step_index, option in enumerate(problem.steps):
        capacity = group_capacity(
            problem, group, headroom, power_under_step(problem, option)
        )
        solver = GroupSolver(group_problem(problem, group, capacity))
        bound = _with_step_cost(solver.bound, group, option)
        candidates.append((bound, step_index, solver))
    candidates.sort(key=lambda candidate: (candidate[0], candidate[1]))
    budget, rescue = SearchBudget(_SEARCH_WORK), SearchBudget(_RESCUE_WORK)
    best: tuple[int, float] | None = None
    chosen, plan = 0, [[0] * len(problem.prices) for _ in group.cars]
    open_bounds: list[tuple[int, float]] = []
    for bound, step_index, solver in candidates:
        if not better(bound, best):
            break
        amps, proven = solver.solve(budget)
        value = _with_step_cost(
            _amp_slot_value(problem, amps), group, problem.steps[step_index]
        )
        if not proven and value[0] > bound[0] and rescue.work > 0:
            # Short of energy the bound says is there: a dearer step would
            # win on energy alone, so this is worth a longer search.
            amps, proven = solver.solve(rescue)
            value = _with_step_cost(
                _amp_slot_value(problem, amps), group, problem.steps[step_index]
            )
        if not proven:
            open_bounds.append(bound)
        if better(value, best):
            best, chosen, plan = value, step_index, amps
    result = assemble_plan(
        problem,
        {car.key: row for car, row in zip(group.cars, plan, strict=True)},
        chosen,
        exact=not any(better(bound, best) for bound in open_bounds),
    )
    # Proven, or: what the open options' relaxations promise at this energy.
    if result.exact or best is None:
        return replace(result, lower_bound=result.cost)
    if any(bound[0] < best[0] for bound in open_bounds):
        return result
    return replace(
        result,
        lower_bound=min(best[1], *(b[1] for b in open_bounds if b[0] == best[0])),
    )


def _with_step_cost(
    value: tuple[int, float], group: Group, option: StepOption
) -> tuple[int, float]:
    """A group's (amp-slots short, price × amps) as (short, energy + step cost)."""
    return (value[0], value[1] * group.kwh_per_amp + option.extra_cost)


def _amp_slot_value(
    problem: PlanProblem, amps: Sequence[Sequence[int]]
) -> tuple[int, float]:
    """A group's (−amp-slots, price × amps): before energy per amp and step cost."""
    delivered = sum(map(sum, amps))
    cost = math.fsum(
        problem.prices[slot] * current
        for row in amps
        for slot, current in enumerate(row)
        if current
    )
    return (-delivered, cost)


def _plan_groups_under_step(
    problem: PlanProblem,
    groups: Sequence[Group],
    step_index: int,
    budget: SearchBudget,
) -> Plan:
    """
    Several groups (or one-block mode) under one step option.

    Each order of the groups is planned one group after the other, each in
    what the earlier ones left; then improved by a descent
    (``_improve_by_descent``) that never makes the plan worse. The best plan
    found is kept.
    """
    best: dict[str, list[int]] = {}
    best_value: tuple[int, float] | None = None
    for number, order in enumerate(islice(permutations(groups), _MAX_GROUP_ORDERS)):
        if number and budget.work <= 0:
            break
        currents = _plan_groups_in_turn(problem, order, step_index, budget)
        if not problem.continuous:
            currents = _improve_by_descent(
                problem, groups, step_index, currents, budget
            )
        value = whole_plan_value(
            assemble_plan(problem, currents, step_index, exact=False)
        )
        if better(value, best_value):
            best, best_value = currents, value
    return assemble_plan(problem, best, step_index, exact=False)


def _plan_groups_in_turn(
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


def _improve_by_descent(
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
    moves: list[tuple[Group, ...]] = [(group,) for group in groups]
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
            for find_holds in (_holds_saving_cost, _holds_gaining_energy)[: len(move)]:
                trial = dict(currents)
                if len(move) == 2:
                    holds = find_holds(problem, groups, step_index, trial, *move)
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
    return currents


def _solve_group(
    problem: PlanProblem, group: Group, capacity: Sequence[int], budget: SearchBudget
) -> list[list[int]]:
    """One group's best plan in ``capacity``; its relaxation counted in ``budget``."""
    budget.work -= _RELAXATION_WORK_PER_CELL * len(capacity) * len(group.cars)
    amps, _ = GroupSolver(group_problem(problem, group, capacity)).solve(budget)
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
