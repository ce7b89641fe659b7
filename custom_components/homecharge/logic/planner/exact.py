"""The plan of one group of cars, exact where it can prove it.

The relaxation (``planner_relax``) allows any current up to the cap; its
plan bounds every whole plan and, once ``planner_repair`` has traded the
few cells under the minimum between cars, usually is one: then it is the
optimum. Otherwise:

- reduced costs of the relaxation give every empty or full slot a penalty,
  the least a plan that changes the slot's total pays over the bound;
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
from collections.abc import Iterable, Sequence
import heapq
import math

from .relax import (
    Amps,
    Bounds,
    GroupProblem,
    SearchBudget,
    Value,
    better,
    fill,
    least_minimum,
    pieces,
    plan_value,
    short_slots,
)
from .repair import Effort, repair

# Slots a lone car's first dynamic program leaves open (beyond the partial).
_ALONE_SLOTS = 16
# Branch-and-bound nodes allowed even with the budget spent.
_MIN_NODES = 4
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
                _most_alone(caps, least, need)
                for caps, least, need in zip(
                    problem.caps, problem.min_a, problem.need, strict=True
                )
            ],
            min_a=problem.min_a,
            caps=problem.caps,
        )
        slots = len(problem.room)
        self._order = sorted(
            (slot for slot in range(slots) if problem.room[slot] > 0),
            key=lambda slot: (problem.prices[slot], slot),
        )
        self._root = Bounds(
            [list(row) for row in problem.caps],
            [[0] * slots for _ in problem.caps],
            [0] * slots,
        )
        relaxed = fill(self._problem, self._root, self._order)
        if relaxed is None:  # pragma: no cover - no floors at the root
            raise RuntimeError("the relaxation has no plan")
        self._relaxed = relaxed
        self.bound = plan_value(self._problem, relaxed)

    def solve(self, budget: SearchBudget) -> tuple[Amps, bool]:
        """The best plan, and whether it is proven optimal; spends ``budget``."""
        problem, root, relaxed = self._problem, self._root, self._relaxed
        if not short_slots(problem, root, relaxed):
            plan = [list(row) for row in relaxed]
            if repair(problem, root, plan, _ROOT_EFFORT, budget):
                return plan, True
        penalties = _slot_penalties(problem, root, relaxed)
        active = [car for car, need in enumerate(problem.need) if need > 0]
        if len(active) == 1:
            return self._solve_alone(active[0], penalties), True
        return self._dive_and_search(penalties, budget)

    def _dive_and_search(
        self, penalties: Sequence[Value | None], budget: SearchBudget
    ) -> tuple[Amps, bool]:
        """A plan by a dive, then branch and bound over the slots it leaves open."""
        problem, root, order, relaxed = (
            self._problem,
            self._root,
            self._order,
            self._relaxed,
        )
        best = _patch(problem, root, relaxed, order)
        dived = _dive(problem, root, order, relaxed, budget)
        if dived is not None and better(
            plan_value(problem, dived), plan_value(problem, best)
        ):
            best = dived
        if not better(self.bound, plan_value(problem, best)):
            return best, True
        fixing = _Fixing(self.bound, relaxed, penalties)
        core = fixing.apply(root, plan_value(problem, best))
        # The slots fixed empty drop out of every relaxation below.
        open_order = [slot for slot in order if any(row[slot] for row in core.caps)]
        return _search(problem, core, open_order, best, budget, fixing)

    def _gap(self, value: Value) -> Value:
        return (value[0] - self.bound[0], value[1] - self.bound[1])

    def _solve_alone(self, car: int, penalties: Sequence[Value | None]) -> Amps:
        """
        One car's optimum: dynamic programming over the slots that may change.

        First over the slots with the smallest penalties (a guess at the
        gap); if the plan found misses the bound by more than that guess, once
        more with the gap it showed, which it cannot miss.
        """
        fixing = _Fixing(self.bound, self._relaxed, penalties)
        known = sorted(
            penalty
            for penalty in penalties
            if penalty is not None and penalty > (0, 0.0)
        )
        guess = known[min(len(known), _ALONE_SLOTS) - 1] if known else (0, 0.0)
        plan = _single_car(self._problem, fixing.within(self._root, guess), car)
        gap = self._gap(plan_value(self._problem, plan))
        if better(guess, gap):
            plan = _single_car(self._problem, fixing.within(self._root, gap), car)
        return plan


def _most_alone(caps: Sequence[int], least: int, need: int) -> int:
    """The most amp-slots a car can take in whole cells of at least ``least``."""
    usable = sorted((cap for cap in caps if cap >= least > 0), reverse=True)
    cells = min(len(usable), need // least) if least > 0 else len(usable)
    return min(need, sum(usable[:cells]))


def _patch(
    problem: GroupProblem, bounds: Bounds, amps: Amps, order: Sequence[int]
) -> Amps:
    """
    A whole plan near a relaxation's: its cells under the minimum dropped.

    What they held goes back where it fits, cheapest slots first: on top of
    cells that charge anyway, else in a new cell of at least the minimum
    (the car that must be ready soonest first).
    """
    mins = problem.min_a
    plan = [
        [current if current >= least else 0 for current in row]
        for row, least in zip(amps, mins, strict=True)
    ]
    left = [need - sum(row) for need, row in zip(problem.need, plan, strict=True)]
    free = [
        room - sum(column)
        for room, column in zip(problem.room, zip(*plan, strict=True), strict=True)
    ]
    last = [
        max((slot for slot, cap in enumerate(row) if cap), default=0)
        for row in bounds.caps
    ]
    cars = sorted(range(len(plan)), key=lambda car: last[car])
    for slot in order:
        for opening in (False, True):
            for car in cars:
                current = plan[car][slot]
                if bool(current) == opening or free[slot] <= 0 or left[car] <= 0:
                    continue
                amount = min(bounds.caps[car][slot] - current, left[car], free[slot])
                if opening and amount < max(mins[car], bounds.floors[car][slot]):
                    continue
                plan[car][slot] += amount
                left[car] -= amount
                free[slot] -= amount
    for car in cars:
        if 0 < left[car] < mins[car]:
            _open_with_own(problem, bounds, plan, car, left[car], free, order)
    return plan


def _open_with_own(
    problem: GroupProblem,
    bounds: Bounds,
    plan: Amps,
    car: int,
    left: int,
    free: list[int],
    order: Sequence[int],
) -> None:
    """
    Give a car the last few amps it lacks (fewer than its minimum).

    A new cell at the minimum, in the cheapest slot with room for it; the
    difference comes off the car's own dearest cells.
    """
    least = problem.min_a[car]
    row, caps, floors = plan[car], bounds.caps[car], bounds.floors[car]
    spare = {slot: row[slot] - max(least, floors[slot]) for slot in order if row[slot]}
    if sum(value for value in spare.values() if value > 0) < least - left:
        return
    for slot in order:
        if row[slot] or caps[slot] < least or free[slot] < least:
            continue
        wanted = least - left
        for donor in reversed(order):
            if wanted and spare.get(donor, 0) > 0:
                taken = min(spare[donor], wanted)
                row[donor] -= taken
                free[donor] += taken
                wanted -= taken
        row[slot] = least
        free[slot] -= least
        return


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
        if not short_slots(problem, bounds, amps):
            plan = [list(row) for row in amps]
            if repair(problem, bounds, plan, _DIVE_EFFORT, budget):
                return plan
        best: tuple[Bounds, Amps, Value] | None = None
        for child in reversed(_branch(problem, bounds, amps)):
            budget.work -= len(problem.room) * len(problem.need)
            found = fill(problem, child, order, budget)
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


# Proof ----------------------------------------------------------------------


class _Fixing:
    """
    The slots that cannot change in a plan better than the best one so far.

    A change of a slot's total costs at least its reduced cost per amp (the
    cheapest cycle through the slot in the relaxation's residual graph),
    times the least change: the minimum for an empty slot, one amp for a full
    one (``_slot_penalties``). Where that is no less than the best plan's gap
    to the bound, the slot keeps its total; the better the plan, the more
    slots that holds for.
    """

    def __init__(
        self, bound: Value, amps: Amps, penalties: Sequence[Value | None]
    ) -> None:
        self._bound = bound
        self._totals = [sum(column) for column in zip(*amps, strict=True)]
        self._by_penalty = sorted(
            (penalty, slot)
            for slot, penalty in enumerate(penalties)
            if penalty is not None
        )

    def apply(self, bounds: Bounds, best: Value) -> Bounds:
        """The bounds with the slots fixed that a plan better than ``best`` keeps."""
        return self.within(bounds, (best[0] - self._bound[0], best[1] - self._bound[1]))

    def within(self, bounds: Bounds, gap: Value) -> Bounds:
        """The bounds with every slot fixed whose penalty is no less than ``gap``."""
        fixed = bounds.copy()
        for penalty, slot in reversed(self._by_penalty):
            if better(penalty, gap):
                break
            if self._totals[slot]:
                fixed.slot_floors[slot] = max(
                    fixed.slot_floors[slot], self._totals[slot]
                )
            else:
                for row in fixed.caps:
                    row[slot] = 0
        return fixed


def _slot_penalties(
    problem: GroupProblem, bounds: Bounds, amps: Amps
) -> list[Value | None]:
    """Least (amp-slots, cost) that moving an empty or full slot would cost."""
    count = len(amps)
    slots = len(problem.room)
    caps, floors = bounds.caps, bounds.floors
    totals = [sum(row[slot] for row in amps) for slot in range(slots)]
    # Nodes: 0 the source and sink, 1.. the cars, then the slots.
    arcs: list[tuple[int, int, int, float]] = []
    for car in range(count):
        used, base = sum(amps[car]), sum(floors[car])
        if used < problem.need[car]:
            arcs.append((0, 1 + car, 0, 0.0))
        if used > base:
            arcs.append((1 + car, 0, 0, 0.0))
        for slot in range(slots):
            node = 1 + count + slot
            if amps[car][slot] < caps[car][slot]:
                arcs.append((1 + car, node, -1, problem.prices[slot]))
            if amps[car][slot] > floors[car][slot]:
                arcs.append((node, 1 + car, 1, -problem.prices[slot]))
    for slot in range(slots):
        if totals[slot] < problem.room[slot]:
            arcs.append((1 + count + slot, 0, 0, 0.0))
        if totals[slot] > bounds.slot_floors[slot]:
            arcs.append((0, 1 + count + slot, 0, 0.0))
    into = _distances(arcs, 1 + count + slots, reverse=False)
    out = _distances(arcs, 1 + count + slots, reverse=True)
    penalties: list[Value | None] = [None] * slots
    for slot in range(slots):
        users = [
            car for car in range(count) if caps[car][slot] >= max(problem.min_a[car], 1)
        ]
        if not users:
            continue
        least = min(problem.min_a[car] for car in users)
        total = totals[slot]
        if total == 0 and not bounds.slot_floors[slot]:
            # Up: a path into the slot (it has no other way in).
            distance, step = into[1 + count + slot], least
        elif total > bounds.slot_floors[slot] and (
            total == problem.room[slot]
            or all(amps[car][slot] >= caps[car][slot] for car in range(count))
        ):
            # Down: out through a car that charges here (not straight back).
            distance = _least(
                (out[1 + car], (1, -problem.prices[slot]))
                for car in range(count)
                if amps[car][slot] > floors[car][slot]
            )
            step = 1 if total > least else total
        else:
            continue
        penalties[slot] = (
            (distance[0] * step, distance[1] * step)
            if distance is not None
            else (1 << 40, 0.0)
        )
    return penalties


def _least(
    paths: Iterable[tuple[Value | None, Value]],
) -> Value | None:
    """The shortest of some known distances, each plus one more arc."""
    best: Value | None = None
    for known, arc in paths:
        if known is not None:
            length = (known[0] + arc[0], known[1] + arc[1])
            if best is None or length < best:
                best = length
    return best


def _distances(
    arcs: list[tuple[int, int, int, float]], count: int, *, reverse: bool
) -> list[Value | None]:
    """Shortest (amps, cost) from node 0, or to it (Bellman-Ford; no negative cycles)."""
    distance: list[Value | None] = [None] * count
    distance[0] = (0, 0.0)
    if reverse:
        arcs = [(head, tail, amps, cost) for tail, head, amps, cost in arcs]
    for _ in range(count):
        changed = False
        for tail, head, amps, cost in arcs:
            known = distance[tail]
            if known is None:
                continue
            candidate = (known[0] + amps, known[1] + cost)
            current = distance[head]
            if (
                current is None
                or candidate[0] < current[0]
                or (candidate[0] == current[0] and candidate[1] < current[1] - 1e-12)
            ):
                distance[head] = candidate
                changed = True
        if not changed:
            break
    return distance


def _search(
    problem: GroupProblem,
    root: Bounds,
    order: Sequence[int],
    best: Amps,
    budget: SearchBudget,
    fixing: _Fixing,
) -> tuple[Amps, bool]:
    """
    Branch and bound from ``best``: the best plan, and whether it is proven.

    Best bound first: a node waits with its parent's relaxation, and is
    dropped unsolved once that cannot beat the best plan any more. A better
    plan fixes more slots in the nodes still waiting. It stops unproven
    when ``budget`` is spent (after a few nodes at least).
    """
    best_value = plan_value(problem, best)
    plans = 0
    queue: list[tuple[Value, int, int, Bounds]] = [((-(1 << 60), 0.0), 0, plans, root)]
    count = 0
    solved = 0
    while queue:
        parent_value, _, found_by, bounds = heapq.heappop(queue)
        if not better(parent_value, best_value):
            continue
        if budget.work <= 0 and solved >= _MIN_NODES:
            return best, False
        solved += 1
        # Copying bounds, finding pieces, branching: a pass over every cell.
        budget.work -= len(problem.room) * len(problem.need)
        if found_by != plans:
            bounds = fixing.apply(bounds, best_value)
        amps = fill(problem, bounds, order, budget)
        if amps is None or not better(value := plan_value(problem, amps), best_value):
            continue
        if not short_slots(problem, bounds, amps):
            plan = [list(row) for row in amps]
            if repair(problem, bounds, plan, _NODE_EFFORT, budget):
                best, best_value = plan, value
                plans += 1
                continue
        patched = _patch(problem, bounds, amps, order)
        if better(patched_value := plan_value(problem, patched), best_value):
            best, best_value = patched, patched_value
            plans += 1
        for child in _branch(problem, bounds, amps):
            count += 1
            heapq.heappush(queue, (value, -count, plans, child))
    return best, True


def _branch(problem: GroupProblem, bounds: Bounds, amps: Amps) -> list[Bounds]:
    """
    The children of a relaxation that is no plan; the likelier one last.

    First the dearest slot under every minimum (off, with every slot it
    dominates; or at least the least minimum of the cars allowed there),
    else the dearest cell under its car's minimum.
    """
    if short := short_slots(problem, bounds, amps):
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
        pieces(problem, bounds, amps), key=lambda cell: problem.prices[cell[1]]
    )
    return _split_cell(problem, bounds, amps, car, slot)


def _single_car(problem: GroupProblem, core: Bounds, car: int) -> Amps:
    """
    One car's best plan by dynamic programming over the slots left open.

    The fixed slots keep their amps; over the open ones, the least cost of
    every total (a window minimum per slot makes each slot linear).
    """
    least = problem.min_a[car]
    caps = core.caps[car]
    fixed = [0] * len(caps)
    open_slots = []
    for slot, cap in enumerate(caps):
        if core.slot_floors[slot]:
            fixed[slot] = core.slot_floors[slot]
        elif cap >= least:
            open_slots.append(slot)
    target = problem.need[car] - sum(fixed)
    unreachable = math.inf
    cost = [0.0] + [unreachable] * target
    choices: list[list[int]] = []
    for slot in open_slots:
        price, cap = problem.prices[slot], min(caps[slot], target)
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
    least = problem.min_a[car]
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
        or bounds.slot_floors[other]
        or problem.room[other] > problem.room[slot]
    ):
        return False
    return all(
        not floors[other] and caps[other] <= caps[slot]
        for caps, floors in zip(bounds.caps, bounds.floors, strict=True)
    )
