"""Plans whose clock hours, not slots, are held under the capacity step.

The grid company measures each clock hour's average power. The planner's
solvers cap each slot, so an hour's room is shared out among its slots first
(``hours.py``) and the problem planned slot by slot in that share; which
share is best depends on the cars, so several are planned and the cheapest
kept:

1. every slot under the cap, as a slot alone is, and scaled down where a
   house peak in one slot leaves the hour less (``each_within_hour``): the
   plan to beat;
2. per step whose hourly bound could beat the best plan so far (and whose
   plan is not proven and free of its caps already): the hour's room
   evenly, cheapest first, in parts of at least a car's minimum, and as the
   step's hourly relaxation (``joint.py``, the hour's power priced) uses it
   on average, early in its subgradient rounds and, unless a plan is
   already within 0.1 % of its bound, late; one group planned exactly, or
   several in turn with the descent, all in one search budget;
3. around the best plan of the step: what each slot uses kept, the rest of
   the hour cheapest first, while that improves the plan;
4. a place of several groups short of the energy a cheaper step allows:
   the full joint search in the even share and around it, for two steps
   (the first may be one its relaxation promised too much).

The certificate is the hourly relaxation's bound, so a plan is proven
optimal only where it reaches it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace

from ..capacity_tariff import StepOption
from .exact import SearchBudget, better
from .groups import assemble_plan, group_cars, step_slack_kw, whole_plan_value
from .hours import per_slot_problem, plan_power_kw, share_hours
from .joint import JointRelaxation, joint_lower_bound
from .model import Plan, PlanProblem
from .trades import finish_by_trades, plan_groups_under_step

type PlanBySlots = Callable[[PlanProblem], Plan]
type PlanShare = Callable[[PlanProblem, SearchBudget], Plan]

# Search work of all plans in shares of the hours together, and of one.
_SHARES_WORK = 200_000
_SHARE_WORK = 30_000
# Work for the hourly relaxations' subgradient rounds.
_WORK = 40_000
# Rounds after the first ones (``JointRelaxation.improve``'s), averaged apart.
_LATER_ROUNDS = 20
# Steps of a plan of several groups that get the joint search in shares, and
# its plans there (the even share, then around it).
_JOINT_STEPS = 2
_JOINT_PLANS = 2
# Plans around the step's best, while each is better.
_AROUND_ROUNDS = 2
# A plan this close to its step's bound (share of its cost) is kept.
_CLOSE_ENOUGH = 1e-3
# Share of a plan's cost its certificate may fall short by and prove it
# (float rounding of sums in another order).
_PROOF_SLACK = 1e-9
# µWh by which two sums of the same energy may differ (float rounding).
_ENERGY_NOISE = 10
# Costs are compared relative to at least this much currency.
_LEAST_COST = 0.01


def hourly(problem: PlanProblem) -> bool:
    """Whether a capacity step caps some clock hour's average over its slots."""
    return bool(problem.hour_rows) and any(
        not option.unlimited for option in problem.steps
    )


def plan_by_hours(
    problem: PlanProblem, plan_by_slots: PlanBySlots, plan_share: PlanShare
) -> Plan:
    """
    The cheapest plan of the hours' shares tried, with its certificate.

    ``plan_by_slots`` plans with every slot under the cap, ``plan_share`` in
    a share of one group (in a search budget all shares take from: past
    it, no more shares are tried).
    """
    groups = group_cars(problem.cars)
    best = plan_by_slots(problem)
    relaxations = [JointRelaxation(problem, groups, option) for option in problem.steps]
    budget, shares = SearchBudget(_WORK), SearchBudget(_SHARES_WORK)
    joint_left = _JOINT_STEPS
    order = sorted(
        range(len(problem.steps)),
        key=lambda index: (
            -relaxations[index].full_uwh,
            relaxations[index].bound + problem.steps[index].extra_cost,
        ),
    )
    for step_index in order:
        option, relaxation = problem.steps[step_index], relaxations[step_index]
        slack = step_slack_kw(problem, option)
        if slack is None or not _may_beat(relaxation, option, best):
            continue
        relaxation.improve(best.cost - option.extra_cost, budget)
        if not _may_beat(relaxation, option, best):
            continue
        step = _Step(problem, step_index, plan_share, shares)
        base = best if best.step == step_index else step.plan(None)
        if base.exact and not _held_back(problem, base, slack):
            continue
        found = _plan_step(step, relaxation, base, slack, budget)
        if (
            len(groups) > 1
            and joint_left
            and option.extra_cost < problem.steps[best.step].extra_cost
            and _short(found, relaxation)
        ):
            # Several groups short of the energy a cheaper step allows: the
            # joint search in the hours' even share and around it (some
            # 0.1 s each), for two steps of the plan.
            found = _around(step, slack, plan_by_slots, found)
            joint_left -= 1
        if better(whole_plan_value(found), whole_plan_value(best)):
            best = found
    if len(groups) > 1:
        best = _finished(problem, best)
    lower = joint_lower_bound(problem, relaxations, best)
    if lower is None:
        return replace(best, exact=False, lower_bound=None)
    exact = lower >= best.cost - _PROOF_SLACK * max(abs(best.cost), _LEAST_COST)
    return replace(best, exact=exact, lower_bound=min(lower, best.cost))


def _finished(problem: PlanProblem, plan: Plan) -> Plan:
    """
    A plan of several groups, finished by trades (``finish_by_trades``).

    In the share of the hours that keeps what each slot of the plan uses and
    gives the rest cheapest first: the shares' plans are the groups in turn
    and the descent, which miss the starts and trades the finish tries.
    """
    option = problem.steps[plan.step]
    slack = step_slack_kw(problem, option)
    if slack is None:
        return plan
    rooms = share_hours(problem, slack, used_kw=plan_power_kw(problem, plan))
    single = per_slot_problem(problem, option, rooms)
    steps = problem.amp_steps
    currents = {
        key: [round(amps * steps) for amps in row] for key, row in plan.currents.items()
    }
    finished = finish_by_trades(single, group_cars(single.cars), 0, currents)
    found = assemble_plan(problem, finished, plan.step, exact=False)
    return found if better(whole_plan_value(found), whole_plan_value(plan)) else plan


def _plan_step(
    step: _Step,
    relaxation: JointRelaxation,
    base: Plan,
    slack: Sequence[float],
    budget: SearchBudget,
) -> Plan:
    """The best plan of one step's shares of the hours, from ``base`` on."""
    problem, option = step.problem, step.option
    found = step.best_of(
        base,
        share_hours(problem, slack, level=True),
        share_hours(problem, slack, chunks=True),
        share_hours(problem, slack),
        share_hours(problem, slack, used_kw=relaxation.average_kw()),
    )
    if not _close(found, relaxation, option):
        relaxation.forget_plans()
        relaxation.improve(found.cost - option.extra_cost, budget, _LATER_ROUNDS)
        found = step.best_of(
            found, share_hours(problem, slack, used_kw=relaxation.average_kw())
        )
    for _ in range(_AROUND_ROUNDS):
        used = plan_power_kw(problem, found)
        around = step.best_of(found, share_hours(problem, slack, used_kw=used))
        if around is found:
            break
        found = around
    return found


def _around(
    step: _Step, slack: Sequence[float], plan_by_slots: PlanBySlots, found: Plan
) -> Plan:
    """The full planner in the hours' even share, then around its plan."""
    problem = step.problem
    rooms = share_hours(problem, slack, level=True)
    for _ in range(_JOINT_PLANS):
        single = per_slot_problem(problem, step.option, rooms)
        plan = replace(plan_by_slots(single), step=step.index)
        if better(whole_plan_value(plan), whole_plan_value(found)):
            found = plan
        rooms = share_hours(problem, slack, used_kw=plan_power_kw(problem, plan))
    return found


def _short(plan: Plan, relaxation: JointRelaxation) -> bool:
    """Whether ``plan`` delivers less than the step's relaxation could."""
    return -whole_plan_value(plan)[0] < relaxation.full_uwh - _ENERGY_NOISE


class _Step:
    """Plans under one step option, each in a share of the hours' room."""

    def __init__(
        self,
        problem: PlanProblem,
        step_index: int,
        plan_share: PlanShare,
        budget: SearchBudget,
    ) -> None:
        self.problem = problem
        self.index = step_index
        self.option = problem.steps[step_index]
        self._plan_share = plan_share
        self._budget = budget

    def plan(self, room_kw: Sequence[float] | None) -> Plan:
        """
        The plan with each slot under the cap, or in its ``room_kw``.

        Each takes at most ``_SHARE_WORK`` of the budget (no longer search
        for one share than the others get).
        """
        problem, option = self.problem, self.problem.steps[self.index]
        if room_kw is None:
            single = replace(problem, steps=(option,))
        else:
            single = per_slot_problem(problem, option, room_kw)
        groups = group_cars(single.cars)
        own = SearchBudget(min(_SHARE_WORK, self._budget.work))
        if len(groups) == 1:
            plan = self._plan_share(single, own)
        else:
            # Several groups: in turn and the descent, not the joint search
            # (some 0.1 s a plan).
            plan = plan_groups_under_step(single, groups, 0, own)
        self._budget.work -= min(_SHARE_WORK, self._budget.work) - max(own.work, 0)
        return replace(plan, step=self.index)

    def best_of(self, plan: Plan, *rooms: Sequence[float]) -> Plan:
        """``plan``, or a better one planned in one of ``rooms`` (budget left)."""
        for room in rooms:
            if self._budget.work <= 0:
                break
            other = self.plan(room)
            if better(whole_plan_value(other), whole_plan_value(plan)):
                plan = other
        return plan


def _held_back(problem: PlanProblem, plan: Plan, slack: Sequence[float]) -> bool:
    """
    Whether a slot of a clock hour charges within a car's minimum of its cap.

    A proven plan of the per-slot model that no slot's cap holds back is
    kept as it is: more room in a slot would not change it.
    """
    power = plan_power_kw(problem, plan)
    least = problem.least_kw
    return any(
        power[slot] + least[slot] > slack[slot]
        for row in problem.hour_rows
        for slot in row
    )


def _may_beat(relaxation: JointRelaxation, option: StepOption, best: Plan) -> bool:
    """Whether the step's bound (energy, then cost) could beat ``best``."""
    return better(
        (-relaxation.full_uwh, relaxation.bound + option.extra_cost),
        whole_plan_value(best),
    )


def _close(plan: Plan, relaxation: JointRelaxation, option: StepOption) -> bool:
    """Whether ``plan`` is within ``_CLOSE_ENOUGH`` of the step's bound."""
    gap = plan.cost - relaxation.bound - option.extra_cost
    return gap <= _CLOSE_ENOUGH * max(abs(plan.cost), _LEAST_COST)
