"""Reduced-cost fixing: the slots a plan better than the best so far cannot change.

The relaxation's reduced costs (shortest paths in its residual graph) give
every empty or full slot a penalty: the least a plan that changes the
slot's total pays over the bound. A slot whose penalty is no less than the
best plan's gap to the bound keeps its total in every better plan, so the
search in ``exact.py`` leaves it alone.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from .relax import Amps, Bounds, GroupProblem, Value, better


class SlotFixing:
    """
    The slots that cannot change in a plan better than the best one so far.

    A change of a slot's total costs at least its reduced cost per amp (the
    cheapest cycle through the slot in the relaxation's residual graph),
    times the least change: the minimum for an empty slot, one amp for a full
    one (``slot_penalties``). Where that is no less than the best plan's gap
    to the bound, the slot keeps its total; the better the plan, the more
    slots that holds for.
    """

    def __init__(
        self, bound: Value, amps: Amps, penalties: Sequence[Value | None]
    ) -> None:
        """Keep the bound, the relaxation's slot totals and the slots by penalty."""
        self._bound = bound
        self._totals = [sum(column) for column in zip(*amps, strict=True)]
        self._by_penalty = sorted(
            (penalty, slot)
            for slot, penalty in enumerate(penalties)
            if penalty is not None
        )

    def fix_for_best(self, bounds: Bounds, best: Value) -> Bounds:
        """The bounds with the slots fixed that a plan better than ``best`` keeps."""
        return self.fix_within_gap(
            bounds, (best[0] - self._bound[0], best[1] - self._bound[1])
        )

    def fix_within_gap(self, bounds: Bounds, gap: Value) -> Bounds:
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


def slot_penalties(
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
    into = _shortest_distances(arcs, 1 + count + slots, reverse=False)
    out = _shortest_distances(arcs, 1 + count + slots, reverse=True)
    penalties: list[Value | None] = [None] * slots
    for slot in range(slots):
        mins = problem.slot_zero_min if slot == 0 else problem.min_a
        users = [car for car in range(count) if caps[car][slot] >= max(mins[car], 1)]
        if not users:
            continue
        least = min(mins[car] for car in users)
        total = totals[slot]
        if total == 0 and not bounds.slot_floors[slot]:
            # Up: a path into the slot (it has no other way in).
            distance, step = into[1 + count + slot], least
        elif total > bounds.slot_floors[slot] and (
            total == problem.room[slot]
            or all(amps[car][slot] >= caps[car][slot] for car in range(count))
        ):
            # Down: out through a car that charges here (not straight back).
            distance = _shortest_plus_arc(
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


def _shortest_plus_arc(
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


def _shortest_distances(
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
