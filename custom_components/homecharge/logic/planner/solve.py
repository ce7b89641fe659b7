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
1-phase charger) are planned group after group in each order, each plan
improved by a descent (``descent.py``: one group re-planned in what the
others leave, trades between two); then jointly (``joint.py``): a
Lagrangian relaxation prices, per slot, the power under the step and each
line two groups share, so that each group is its own relaxation again. Its
value bounds every plan that gives each group its most (the certificate,
``Plan.lower_bound``, and a step's bound for skipping it); unless the plan
is already within 0.1 % of it, its prices and average shares make plans
(each group in its share, or at the adjusted prices, in turn) and the best
is improved by the descent too. Feasible always, near the optimum but not
proven (``exact`` is False). One-block mode (``blocks.py``) plans the
groups in turn. A plan not proven is polished last (``polish.py``: moves
checked in the hourly model itself).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from itertools import islice, permutations
import math

from ..capacity_tariff import StepOption
from .by_hours import hourly, plan_by_hours
from .descent import MAX_GROUP_ORDERS, improve_by_descent, plan_groups_in_turn
from .exact import GroupSolver, SearchBudget, better
from .groups import (
    Group,
    assemble_plan,
    group_capacity,
    group_cars,
    group_problem,
    power_under_step,
    whole_plan_value,
)
from .joint import (
    JointRelaxation,
    joint_lower_bound,
    plan_in_shares,
    plan_in_turn_at,
)
from .model import Plan, PlanProblem
from .polish import polish
from .trades import (
    best_in_turn,
    finish_by_trades,
    plan_groups_under_step,
    trade_for_energy,
)

# The groups in turn, as tests compare with it.
_plan_groups_in_turn = plan_groups_in_turn

# Dives and branch and bound per plan, in the steps ``SearchBudget`` counts:
# some 45 ms at most on a desktop CPU. Past it a plan is the best found, not
# proven (``Plan.exact`` False).
_SEARCH_WORK = 50_000
# Once per plan, for a step option whose search fell short of the energy its
# bound promises: some 0.1 s more at most.
_RESCUE_WORK = 500_000
# Work for the joint relaxation of several groups and the plans it makes.
_JOINT_WORK = 40_000
# Plans made from the joint relaxation that the descent improves, best first.
_DESCENDED = 1
# A plan this close to the joint relaxation's bound (share of its cost) is
# kept as it is.
_CLOSE_ENOUGH = 1e-3
# Costs are compared relative to at least this much currency.
_LEAST_COST = 0.01
# µWh by which two sums of the same energy may differ (float rounding).
_ENERGY_NOISE = 10
# Work for the joint relaxation of several groups and the plans it makes.
# Plans of several groups the descent improves, the best first.


def plan_charging(problem: PlanProblem) -> Plan:
    """The least-cost plan that delivers as much as the place allows."""
    if not problem.steps:
        raise ValueError("a plan needs at least one capacity step option")
    if hourly(problem):
        plan = plan_by_hours(problem, _plan_by_slots, _plan_share)
    else:
        plan = _plan_by_slots(problem)
    if not plan.exact and not problem.continuous:
        # (One-block mode keeps each car's run unbroken: not moved slot by slot.)
        plan = polish(problem, plan)
    return plan


def _plan_share(problem: PlanProblem, budget: SearchBudget) -> Plan:
    """A plan of one group in one share of the hours' room, in ``budget``."""
    (group,) = group_cars(problem.cars)
    return _plan_single_group(problem, group, budget, SearchBudget(0))


def _plan_by_slots(problem: PlanProblem) -> Plan:
    """The least-cost plan with every slot under the step's cap."""
    groups = group_cars(problem.cars)
    if not groups:
        cheapest = min(
            range(len(problem.steps)),
            key=lambda step_index: problem.steps[step_index].extra_cost,
        )
        return assemble_plan(problem, {}, cheapest, exact=True)
    if len(groups) == 1 and not problem.continuous:
        return _plan_single_group(
            problem,
            groups[0],
            SearchBudget(_SEARCH_WORK),
            SearchBudget(_RESCUE_WORK),
        )
    relaxations = [JointRelaxation(problem, groups, option) for option in problem.steps]
    if problem.continuous:
        budget = SearchBudget(_SEARCH_WORK)
        plans = [
            plan_groups_under_step(problem, groups, step_index, budget)
            for step_index in range(len(problem.steps))
        ]
    else:
        plans = _plan_several_groups(problem, groups, relaxations)
    best = plans[0]
    for plan in plans[1:]:
        if better(whole_plan_value(plan), whole_plan_value(best)):
            best = plan
    return replace(best, lower_bound=joint_lower_bound(problem, relaxations, best))


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
    search, joint = SearchBudget(_SEARCH_WORK), SearchBudget(_JOINT_WORK)
    for bound, step_index in candidates:
        if plans and not better(bound, best):
            break
        plan = _plan_jointly(
            problem,
            groups,
            step_index,
            relaxations[step_index],
            best,
            (search, joint),
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
    budgets: tuple[SearchBudget, SearchBudget],
) -> Plan:
    """
    Several groups under one step option: in turn, then from their joint relaxation.

    The groups in turn in each order, improved by the descent (``search``);
    then the joint relaxation's bound raised towards that plan, and, unless
    the plan is already that close or the bound rules the step out, plans
    made from the relaxation (``joint.py``), the best improved by the
    descent too (``budget``); the best then by ``finish_by_trades``.
    """
    search, budget = budgets
    option = problem.steps[step_index]
    spare_kw = power_under_step(problem, option)
    found: list[tuple[tuple[int, float], dict[str, list[int]]]] = []

    def consider(currents: dict[str, list[int]]) -> None:
        plan = assemble_plan(problem, currents, step_index, exact=False)
        found.append((whole_plan_value(plan), currents))

    consider(best_in_turn(problem, groups, step_index, search))
    full = -relaxation.full_uwh + _ENERGY_NOISE

    def target() -> float | None:
        costs = [value[1] for value, _ in found if value[0] <= full]
        return min(costs) - option.extra_cost if costs else None

    before = target()
    tried = relaxation.improve(before, budget)
    if before is not None and (
        before - relaxation.bound <= _CLOSE_ENOUGH * max(abs(before), _LEAST_COST)
        or not better(
            (-relaxation.full_uwh, relaxation.bound + option.extra_cost), best_so_far
        )
    ):
        return _best_found(problem, step_index, found)
    made: list[tuple[tuple[int, float], dict[str, list[int]]]] = []
    for order in islice(permutations(range(len(groups))), MAX_GROUP_ORDERS):
        shares = plan_in_shares(problem, relaxation, order, spare_kw, budget)
        made.append(_valued(problem, step_index, shares))
        if tried:
            priced = plan_in_turn_at(
                problem, relaxation, order, tried[-1], spare_kw, budget
            )
            made.append(_valued(problem, step_index, priced))
    made.sort(key=lambda entry: (entry[0][0], entry[0][1]))
    for _, currents in made[:_DESCENDED]:
        consider(improve_by_descent(problem, groups, step_index, currents, budget))
    # The best so far, its group short of energy: trades of line room.
    consider(trade_for_energy(problem, groups, step_index, _best_entry(found)[1]))
    consider(finish_by_trades(problem, groups, step_index, _best_entry(found)[1]))
    plan = _best_found(problem, step_index, found)
    if before is None and target() is not None:
        relaxation.improve(target(), budget)
    return plan


def _valued(
    problem: PlanProblem, step_index: int, currents: dict[str, list[int]]
) -> tuple[tuple[int, float], dict[str, list[int]]]:
    """A plan's value (energy, cost) and its currents."""
    plan = assemble_plan(problem, currents, step_index, exact=False)
    return whole_plan_value(plan), currents


def _best_found(
    problem: PlanProblem,
    step_index: int,
    found: Sequence[tuple[tuple[int, float], dict[str, list[int]]]],
) -> Plan:
    """The best of the plans found."""
    return assemble_plan(problem, _best_entry(found)[1], step_index, exact=False)


def _best_entry(
    found: Sequence[tuple[tuple[int, float], dict[str, list[int]]]],
) -> tuple[tuple[int, float], dict[str, list[int]]]:
    """The entry of the best plan found (the first of equals)."""
    best = found[0]
    for entry in found[1:]:
        if better(entry[0], best[0]):
            best = entry
    return best


def _plan_single_group(
    problem: PlanProblem, group: Group, budget: SearchBudget, rescue: SearchBudget
) -> Plan:
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
