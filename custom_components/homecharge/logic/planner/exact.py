"""The plan of one group of cars, exact where it can prove it.

The relaxation (``relax.py``) allows any current up to the cap; its plan
bounds every whole plan and, once ``repair.py`` has traded the few cells
under the minimum between cars, usually is one: then it is the optimum.
Otherwise:

- reduced costs of the relaxation give every empty or full slot a penalty,
  the least a plan that changes the slot's total pays over the bound
  (``fixing.py``);
- one car alone: dynamic programming over the slots with small penalties,
  exact (the others cannot change in a plan better than the one found);
- several cars: a dive (one decision at a time, down the better branch)
  finds a plan; slots whose penalty is no less than that plan's gap to the
  bound keep their totals, and best-first branch and bound searches the rest
  (each node's relaxation patched into a plan too):
  a slot whose total is under every minimum is switched off (with the
  slots it dominates) or raised to the minimum, else a cell under its
  car's minimum is switched off (in its twin slots too) or raised. It
  stops when the budget is spent: the plan is then the best found, not
  proven.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
import heapq
import math

from .fixing import SlotFixing, slot_penalties
from .relax import (
    Amps,
    Bounds,
    GroupProblem,
    SearchBudget,
    Value,
    better,
    cells_under_minimum,
    fill_relaxation,
    least_minimum,
    plan_value,
    slots_under_minimum,
)
from .repair import Effort, repair, whole_plan_near

# Slots a lone car's first dynamic program leaves open (beyond the partial).
_LONE_CAR_OPEN_SLOTS = 16
# Branch-and-bound nodes allowed even with the budget spent.
_NODES_PAST_BUDGET = 4
# How hard a repair tries: at the root, on a dive, in branch and bound
# (where most nodes are no plan anyway and should stay cheap).
_ROOT_EFFORT = Effort(sheds=60, chains=True)
_DIVE_EFFORT = Effort(sheds=8, chains=False)
_NODE_EFFORT = Effort(sheds=8, chains=False)

__all__ = ["GroupProblem", "GroupSolver", "SearchBudget", "better"]


class GroupSolver:
    """The relaxation's bound of one group's problem, then its best plan."""

    def __init__(self, problem: GroupProblem) -> None:
        """Tighten the needs and solve the relaxation."""
        self._problem = GroupProblem(
            prices=problem.prices,
            room=problem.room,
            need=[
                _most_in_whole_cells(caps, least, first, need)
                for caps, least, first, need in zip(
                    problem.caps,
                    problem.min_a,
                    problem.slot_zero_min,
                    problem.need,
                    strict=True,
                )
            ],
            min_a=problem.min_a,
            caps=problem.caps,
            first_min=problem.first_min,
        )
        slots = len(problem.room)
        self._cheapest_first = sorted(
            (slot for slot in range(slots) if problem.room[slot] > 0),
            key=lambda slot: (problem.prices[slot], slot),
        )
        self._root_bounds = Bounds(
            [list(row) for row in problem.caps],
            [[0] * slots for _ in problem.caps],
            [0] * slots,
        )
        relaxed = fill_relaxation(
            self._problem, self._root_bounds, self._cheapest_first
        )
        if relaxed is None:  # pragma: no cover - no floors at the root
            raise RuntimeError("the relaxation has no plan")
        self._relaxed = relaxed
        self.bound = plan_value(self._problem, relaxed)

    @property
    def problem(self) -> GroupProblem:
        """The problem with each car's need cut to what whole cells can take."""
        return self._problem

    def solve(self, budget: SearchBudget) -> tuple[Amps, bool]:
        """The best plan, and whether it is proven optimal; spends ``budget``."""
        problem, root, relaxed = self._problem, self._root_bounds, self._relaxed
        if not slots_under_minimum(problem, root, relaxed):
            plan = [list(row) for row in relaxed]
            if repair(problem, root, plan, _ROOT_EFFORT, budget):
                return plan, True
        penalties = slot_penalties(problem, root, relaxed)
        active = [car for car, need in enumerate(problem.need) if need > 0]
        if len(active) == 1:
            return self._solve_lone_car(active[0], penalties), True
        return self._dive_and_search(penalties, budget)

    def _dive_and_search(
        self, penalties: Sequence[Value | None], budget: SearchBudget
    ) -> tuple[Amps, bool]:
        """A plan by a dive, then branch and bound over the slots it leaves open."""
        problem, root, order, relaxed = (
            self._problem,
            self._root_bounds,
            self._cheapest_first,
            self._relaxed,
        )
        best = whole_plan_near(problem, root, relaxed, order)
        dived = _dive(problem, root, order, relaxed, budget)
        if dived is not None and better(
            plan_value(problem, dived), plan_value(problem, best)
        ):
            best = dived
        if not better(self.bound, plan_value(problem, best)):
            return best, True
        fixing = SlotFixing(self.bound, relaxed, penalties)
        fixed_bounds = fixing.fix_for_best(root, plan_value(problem, best))
        # The slots fixed empty drop out of every relaxation below.
        open_order = [
            slot for slot in order if any(row[slot] for row in fixed_bounds.caps)
        ]
        return _branch_and_bound(
            problem, fixed_bounds, open_order, best, budget, fixing
        )

    def _gap_to_bound(self, value: Value) -> Value:
        """How far a plan's value is from the relaxation's bound."""
        return (value[0] - self.bound[0], value[1] - self.bound[1])

    def _solve_lone_car(self, car: int, penalties: Sequence[Value | None]) -> Amps:
        """
        One car's optimum: dynamic programming over the slots that may change.

        First over the slots with the smallest penalties (a guess at the
        gap); if the plan found misses the bound by more than that guess, once
        more with the gap it showed, which it cannot miss.
        """
        fixing = SlotFixing(self.bound, self._relaxed, penalties)
        known = sorted(
            penalty
            for penalty in penalties
            if penalty is not None and penalty > (0, 0.0)
        )
        guess = known[min(len(known), _LONE_CAR_OPEN_SLOTS) - 1] if known else (0, 0.0)
        plan = _lone_car_optimum(
            self._problem, fixing.fix_within_gap(self._root_bounds, guess), car
        )
        gap = self._gap_to_bound(plan_value(self._problem, plan))
        if better(guess, gap):
            plan = _lone_car_optimum(
                self._problem, fixing.fix_within_gap(self._root_bounds, gap), car
            )
        return plan


def _most_in_whole_cells(caps: Sequence[int], least: int, first: int, need: int) -> int:
    """
    The most amp-slots a car can take in whole cells of at least its minimum.

    ``first``: its minimum in slot 0 (lower in a plan made mid-slot).
    """
    usable = sorted(
        (
            cap
            for slot, cap in enumerate(caps)
            if cap >= (first if slot == 0 else least) > 0
        ),
        reverse=True,
    )
    smallest = min(least, first)
    cells = min(len(usable), need // smallest) if smallest > 0 else len(usable)
    return min(need, sum(usable[:cells]))


def _dive(
    problem: GroupProblem,
    bounds: Bounds,
    order: Sequence[int],
    amps: Amps,
    budget: SearchBudget,
) -> Amps | None:
    """
    A plan: settle one open question at a time, down the better branch.

    The likelier child is solved first and kept if it costs no more than its
    parent, else the other is solved too and the better one followed: a
    greedy walk down the branch-and-bound tree that ends in a plan or in
    nothing. It spends at most three quarters of ``budget``.
    """
    stop = budget.work // 4
    value = plan_value(problem, amps)
    while budget.work > stop:
        if not slots_under_minimum(problem, bounds, amps):
            plan = [list(row) for row in amps]
            if repair(problem, bounds, plan, _DIVE_EFFORT, budget):
                return plan
        best: tuple[Bounds, Amps, Value] | None = None
        for child in reversed(_branch(problem, bounds, amps)):
            budget.work -= len(problem.room) * len(problem.need)
            found = fill_relaxation(problem, child, order, budget)
            if found is None:
                continue
            found_value = plan_value(problem, found)
            if best is None or better(found_value, best[2]):
                best = (child, found, found_value)
            if not better(value, found_value):
                break
        if best is None:
            return None
        bounds, amps, value = best
    return None


def _branch_and_bound(
    problem: GroupProblem,
    root: Bounds,
    order: Sequence[int],
    best: Amps,
    budget: SearchBudget,
    fixing: SlotFixing,
) -> tuple[Amps, bool]:
    """
    Branch and bound from ``best``: the best plan, and whether it is proven.

    Best bound first: a node waits with its parent's relaxation, and is
    dropped unsolved once that cannot beat the best plan any more. A better
    plan fixes more slots in the nodes still waiting. It stops unproven
    when ``budget`` is spent (after a few nodes at least).
    """
    best_value = plan_value(problem, best)
    plans_found = 0
    # (parent's value, −push number: newest first on a tie, plans found when
    # pushed, bounds)
    queue: list[tuple[Value, int, int, Bounds]] = [
        ((-(1 << 60), 0.0), 0, plans_found, root)
    ]
    pushed = 0
    solved = 0
    while queue:
        parent_value, _, plans_when_pushed, bounds = heapq.heappop(queue)
        if not better(parent_value, best_value):
            continue
        if budget.work <= 0 and solved >= _NODES_PAST_BUDGET:
            return best, False
        solved += 1
        # Copying bounds, finding cells under the minimum, branching: a pass
        # over every cell.
        budget.work -= len(problem.room) * len(problem.need)
        if plans_when_pushed != plans_found:
            bounds = fixing.fix_for_best(bounds, best_value)
        amps = fill_relaxation(problem, bounds, order, budget)
        if amps is None or not better(value := plan_value(problem, amps), best_value):
            continue
        if not slots_under_minimum(problem, bounds, amps):
            plan = [list(row) for row in amps]
            if repair(problem, bounds, plan, _NODE_EFFORT, budget):
                best, best_value = plan, value
                plans_found += 1
                continue
        patched = whole_plan_near(problem, bounds, amps, order)
        if better(patched_value := plan_value(problem, patched), best_value):
            best, best_value = patched, patched_value
            plans_found += 1
        for child in _branch(problem, bounds, amps):
            pushed += 1
            heapq.heappush(queue, (value, -pushed, plans_found, child))
    return best, True


def _branch(problem: GroupProblem, bounds: Bounds, amps: Amps) -> list[Bounds]:
    """
    The children of a relaxation that is no plan; the likelier one last.

    First the dearest slot under every minimum (off, with every slot it
    dominates; or at least the least minimum of the cars allowed there),
    else the dearest cell under its car's minimum.
    """
    if short := slots_under_minimum(problem, bounds, amps):
        slot = max(short, key=lambda slot: problem.prices[slot])
        off = bounds.copy()
        for other in range(len(problem.room)):
            if other == slot or _dominated(problem, bounds, slot, other):
                for row in off.caps:
                    row[other] = 0
        on = bounds.copy()
        on.slot_floors[slot] = least_minimum(problem, bounds, slot)
        return [off, on]
    car, slot = max(
        cells_under_minimum(problem, bounds, amps),
        key=lambda cell: problem.prices[cell[1]],
    )
    return _split_cell(problem, bounds, amps, car, slot)


def _lone_car_optimum(problem: GroupProblem, bounds: Bounds, car: int) -> Amps:
    """
    One car's best plan by dynamic programming over the slots left open.

    The fixed slots keep their amps; over the open ones, the least cost of
    every total (a window minimum per slot makes each slot linear).
    """
    caps = bounds.caps[car]
    fixed = [0] * len(caps)
    open_slots = []
    for slot, cap in enumerate(caps):
        if bounds.slot_floors[slot]:
            fixed[slot] = bounds.slot_floors[slot]
        elif cap >= problem.least(car, slot):
            open_slots.append(slot)
    target = problem.need[car] - sum(fixed)
    unreachable = math.inf
    cost = [0.0] + [unreachable] * target
    choices: list[list[int]] = []
    for slot in open_slots:
        price, cap = problem.prices[slot], min(caps[slot], target)
        least = problem.least(car, slot)
        after = list(cost)
        choice = [0] * (target + 1)
        window: deque[tuple[float, int]] = deque()
        for total in range(least, target + 1):
            start = total - least
            if cost[start] < unreachable:
                entry = cost[start] - price * start
                while window and window[-1][0] >= entry:
                    window.pop()
                window.append((entry, start))
            while window and window[0][1] < total - cap:
                window.popleft()
            if window and (found := window[0][0] + price * total) < after[total]:
                after[total] = found
                choice[total] = total - window[0][1]
        cost = after
        choices.append(choice)
    total = max(amount for amount in range(target + 1) if cost[amount] < unreachable)
    plan = [[0] * len(caps) for _ in problem.need]
    plan[car] = fixed
    for slot, choice in zip(reversed(open_slots), reversed(choices), strict=True):
        plan[car][slot] = choice[total]
        total -= choice[total]
    return plan


def _split_cell(
    problem: GroupProblem, bounds: Bounds, amps: Amps, car: int, slot: int
) -> list[Bounds]:
    """
    The cell off, or at least at the minimum; the likelier child last.

    Off goes for the car in every slot just like this one too: a plan with
    the car on there but not here has a twin, as cheap, with the two slots'
    columns swapped, which the branch with this cell on covers.
    """
    least = problem.least(car, slot)
    off = bounds.copy()
    for other in range(len(problem.room)):
        if other == slot or _twins(problem, bounds, slot, other):
            off.caps[car][other] = 0
    if bounds.caps[car][slot] < least:
        return [off]
    on = bounds.copy()
    on.floors[car][slot] = least
    return [off, on] if amps[car][slot] * 2 >= least else [on, off]


def _twins(problem: GroupProblem, bounds: Bounds, slot: int, other: int) -> bool:
    """Whether two slots are alike in everything a plan can tell apart."""
    return (
        problem.prices[other] == problem.prices[slot]
        and problem.may_stand_in(slot, other)
        and problem.may_stand_in(other, slot)
        and problem.room[other] == problem.room[slot]
        and bounds.slot_floors[other] == bounds.slot_floors[slot]
        and all(
            caps[other] == caps[slot] and floors[other] == floors[slot]
            for caps, floors in zip(bounds.caps, bounds.floors, strict=True)
        )
    )


def _dominated(problem: GroupProblem, bounds: Bounds, slot: int, other: int) -> bool:
    """
    Whether ``other`` may go off with ``slot``: same price, no more room anywhere.

    Any plan that uses ``other`` but not ``slot`` has a twin, as cheap, with
    the two swapped: the branch where ``slot`` is on covers it.
    """
    if (
        other == slot
        or problem.prices[other] != problem.prices[slot]
        or not problem.may_stand_in(slot, other)
        or bounds.slot_floors[other]
        or problem.room[other] > problem.room[slot]
    ):
        return False
    return all(
        not floors[other] and caps[other] <= caps[slot]
        for caps, floors in zip(bounds.caps, bounds.floors, strict=True)
    )
