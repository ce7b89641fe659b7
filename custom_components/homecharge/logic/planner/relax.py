"""The relaxation of one group's plan: any current up to the cap.

A group is a set of cars on the same lines with the same energy per amp, so
a slot's cost depends only on its total. The problem, in whole amps: per car
and slot 0 or between the car's minimum and its cap, per slot at most the
group's room, per car at most its need; the most amp-slots first, then the
least cost. Without the minimum the slot totals a group can reach form a
polymatroid, and ``fill_relaxation`` solves it exactly and fast: its plan
bounds every whole plan from below and usually is one, or nearly.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .model import ROUNDING_NOISE

# (amp-slots short of the most, cost): lexicographic, smaller is better.
type Value = tuple[int, float]
type Amps = list[list[int]]


@dataclass(frozen=True, slots=True)
class GroupProblem:
    """One group's part of a plan, per car (rows) and slot (columns)."""

    prices: Sequence[float]
    room: Sequence[int]
    need: Sequence[int]
    min_a: Sequence[int]
    caps: Sequence[Sequence[int]]
    # Each car's minimum in slot 0 when it differs (a plan made mid-slot).
    first_min: Sequence[int] = ()

    def least(self, car: int, slot: int) -> int:
        """The car's minimum in the slot."""
        if slot == 0 and self.first_min:
            return self.first_min[car]
        return self.min_a[car]

    @property
    def slot_zero_min(self) -> Sequence[int]:
        """Each car's minimum in slot 0 (``min_a`` for the others: hot loops)."""
        return self.first_min or self.min_a

    def may_stand_in(self, slot: int, other: int) -> bool:
        """Whether a plan's cells in ``other`` would be allowed in ``slot``.

        Not in slot 0's place when it has lower minimums.
        """
        return not self.first_min or other != 0 or slot == 0


@dataclass(slots=True)
class Bounds:
    """What a branch allows: cell caps and floors, slot floors."""

    caps: Amps
    floors: Amps
    slot_floors: list[int]

    def copy(self) -> Bounds:
        """A copy to change for a child branch."""
        return Bounds(
            [list(row) for row in self.caps],
            [list(row) for row in self.floors],
            list(self.slot_floors),
        )


@dataclass(slots=True)
class SearchBudget:
    """
    Work left for dives and branch and bound, in steps of the relaxation.

    A slot filled counts one, a chain of cars three, a branch-and-bound node
    a pass over its cells (one each), a repair's search for a car to shed
    amps to a third of that: some 1.5 µs each on a desktop CPU, and the
    same count on every run (unlike a clock).
    """

    work: int


def better(value: Value, other: Value | None) -> bool:
    """More amp-slots, or as many for less (beyond float noise)."""
    if other is None:
        return True
    if value[0] != other[0]:
        return value[0] < other[0]
    return value[1] < other[1] - ROUNDING_NOISE * max(1.0, abs(other[1]))


def plan_value(problem: GroupProblem, amps: Amps) -> Value:
    """(amp-slots short, cost) of a plan: what ``better`` compares."""
    delivered = 0
    cost = 0.0
    prices = problem.prices
    for row in amps:
        for slot, current in enumerate(row):
            if current:
                delivered += current
                cost += prices[slot] * current
    return (-delivered, cost)


def fill_relaxation(
    problem: GroupProblem,
    bounds: Bounds,
    order: Sequence[int],
    budget: SearchBudget | None = None,
) -> Amps | None:
    """
    The least-cost most-energy plan when a cell may take any amps up to its cap.

    Slot floors are filled first, then every slot cheapest first, each as
    far as it goes: by a car with need left, or by a chain where a full car
    takes this slot's amps and gives up as many in an earlier slot to the
    next car, and so on to one with need left. Earlier slots keep their
    totals, which is what makes the greedy optimal. None: the floors do not
    fit. The work done is charged to ``budget``.
    """
    caps, floors = bounds.caps, bounds.floors
    count = len(caps)
    room = problem.room
    amps = [list(row) for row in floors]
    left = [need - sum(row) for need, row in zip(problem.need, floors, strict=True)]
    total = [sum(column) for column in zip(*floors, strict=True)] or [0] * len(room)
    if any(value < 0 for value in left) or any(
        value > limit for value, limit in zip(total, room, strict=True)
    ):
        return None
    hand_overs = _HandOverIndex(amps, caps, floors)
    if budget is not None:
        budget.work -= len(order)
    pending = sum(left)
    first = [slot for slot in order if bounds.slot_floors[slot] > total[slot]]
    for targets, slots in ((bounds.slot_floors, first), (room, order)):
        for slot in slots:
            if not pending and targets is room:
                return amps
            want = targets[slot] - total[slot]
            while want > 0 and pending > 0:
                taker, most = -1, 0
                for car in range(count):
                    amount = min(caps[car][slot] - amps[car][slot], left[car])
                    if amount > most:
                        taker, most = car, amount
                if taker >= 0:
                    amount = min(want, most)
                    amps[taker][slot] += amount
                    left[taker] -= amount
                else:
                    amount = hand_overs.push_along_chain(slot, left, want)
                    if budget is not None:
                        budget.work -= 3
                    if not amount:
                        break
                pending -= amount
                want -= amount
                total[slot] += amount
            if targets is bounds.slot_floors and total[slot] < targets[slot]:
                return None
            hand_overs.finish(slot)
    return amps


class _HandOverIndex:
    """
    Where, among the finished slots, one car can hand amps to another.

    ``between[giver][taker]`` holds those slots, kept up to date cell by
    cell from the first chain on, so that finding a chain costs a search
    over cars, not slots (a relaxation that needs no chain skips it all).
    """

    def __init__(self, amps: Amps, caps: Amps, floors: Amps) -> None:
        self._amps, self._caps, self._floors = amps, caps, floors
        cars = range(len(amps))
        self._between: list[list[set[int]]] = [[set() for _ in cars] for _ in cars]
        self._finished = [False] * (len(amps[0]) if amps else 0)
        # Slots finished before the first chain, not yet indexed (None: all are).
        self._waiting: list[int] | None = []
        # Cars that can pass amps on to one with need left (None: to be found).
        self._reaching_need: set[int] | None = None

    def finish(self, slot: int) -> None:
        """The slot has been filled: its cars may trade amps from now on."""
        if self._finished[slot]:
            return
        self._finished[slot] = True
        if self._waiting is not None:
            self._waiting.append(slot)
            return
        for car in range(len(self._amps)):
            if self._amps[car][slot]:
                self._recheck_cell(car, slot)

    def _catch_up(self) -> None:
        """Index the slots finished before the first chain."""
        waiting, self._waiting = self._waiting or [], None
        for slot in waiting:
            self._finished[slot] = False
            self.finish(slot)

    def _recheck_cell(self, car: int, slot: int) -> None:
        """Recheck the pairs with ``car`` in a finished slot whose cell changed."""
        amps, caps, floors, between = (
            self._amps,
            self._caps,
            self._floors,
            self._between,
        )
        current = amps[car][slot]
        gives = current > floors[car][slot]
        takes = current < caps[car][slot]
        for other, row in enumerate(amps):
            if other == car:
                continue
            for giver, taker, can in (
                (car, other, gives and row[slot] < caps[other][slot]),
                (other, car, takes and row[slot] > floors[other][slot]),
            ):
                slots = between[giver][taker]
                if not can:
                    slots.discard(slot)
                elif slot not in slots:
                    if not slots:
                        # A new way between two cars: more may reach need.
                        self._reaching_need = None
                    slots.add(slot)

    def _slot_between(self, giver: int, taker: int, skip: int) -> int:
        """
        A finished slot, not ``skip``, where ``giver`` can hand ``taker`` amps.

        -1 where there is none.
        """
        for slot in self._between[giver][taker]:
            if slot != skip:
                return slot
        return -1

    def push_along_chain(self, slot: int, left: list[int], want: int) -> int:
        """Push amps into ``slot`` along the shortest chain of cars; how many."""
        if self._waiting is not None:
            self._catch_up()
        amps, caps, floors = self._amps, self._caps, self._floors
        cars = range(len(amps))
        if self._reaching_need is None:
            self._reaching_need = self._cars_reaching_need(left)
        start = [
            car
            for car in cars
            if car in self._reaching_need and amps[car][slot] < caps[car][slot]
        ]
        parent: dict[int, tuple[int, int] | None] = dict.fromkeys(start)
        queue = list(start)
        end = -1
        for giver in queue:
            for taker in cars:
                if taker in parent:
                    continue
                via = self._slot_between(giver, taker, slot)
                if via < 0:
                    continue
                parent[taker] = (giver, via)
                queue.append(taker)
                if left[taker] > 0:
                    end = taker
                    break
            if end >= 0:
                break
        if end < 0:
            return 0
        links = []
        car = end
        while (link := parent[car]) is not None:
            giver, via = link
            links.append((giver, via, car))
            car = giver
        amount = min(want, caps[car][slot] - amps[car][slot], left[end])
        for giver, via, taker in links:
            amount = min(
                amount,
                amps[giver][via] - floors[giver][via],
                caps[taker][via] - amps[taker][via],
            )
        amps[car][slot] += amount
        if self._finished[slot]:
            self._recheck_cell(car, slot)
        for giver, via, taker in links:
            amps[giver][via] -= amount
            amps[taker][via] += amount
            self._recheck_cell(giver, via)
            self._recheck_cell(taker, via)
        left[end] -= amount
        return amount

    def _cars_reaching_need(self, left: list[int]) -> set[int]:
        """
        Cars that can pass an amp on, car to car, to one with need left.

        Kept until a new way between two cars opens: needs only fall and
        closed ways only shrink the set, and a larger set merely costs a
        search that finds nothing.
        """
        alive = {car for car, value in enumerate(left) if value > 0}
        grown = True
        while grown:
            grown = False
            for giver in range(len(left)):
                if giver not in alive and any(
                    self._between[giver][taker] for taker in alive
                ):
                    alive.add(giver)
                    grown = True
        return alive


def cells_under_minimum(
    problem: GroupProblem, bounds: Bounds, amps: Amps
) -> list[tuple[int, int]]:
    """Cells under their car's minimum."""
    cells = [
        (car, slot)
        for car, (row, least) in enumerate(zip(amps, problem.min_a, strict=True))
        for slot, current in enumerate(row)
        if 0 < current < least and not bounds.floors[car][slot]
    ]
    if not problem.first_min:
        return cells
    # Slot 0 by its own minimums.
    return [cell for cell in cells if cell[1]] + [
        (car, 0)
        for car, row in enumerate(amps)
        if row and 0 < row[0] < problem.first_min[car] and not bounds.floors[car][0]
    ]


def slots_under_minimum(problem: GroupProblem, bounds: Bounds, amps: Amps) -> list[int]:
    """Used slots whose total is under the least minimum of the cars allowed there."""
    most = max((*problem.min_a, *problem.first_min), default=0)
    return [
        slot
        for slot, column in enumerate(zip(*amps, strict=True))
        if 0 < (total := sum(column)) < most
        and total < least_minimum(problem, bounds, slot)
    ]


def least_minimum(problem: GroupProblem, bounds: Bounds, slot: int) -> int:
    """The smallest total other than 0 a plan may have in the slot."""
    return min(
        (
            least
            for car, caps in enumerate(bounds.caps)
            if caps[slot] >= (least := problem.least(car, slot))
        ),
        default=0,
    )


def cell_allows(
    problem: GroupProblem, bounds: Bounds, car: int, slot: int, current: int
) -> bool:
    """Whether the cell may take ``current`` amps: off, or within its bounds."""
    if current == 0:
        return bounds.floors[car][slot] == 0
    least = max(problem.least(car, slot), bounds.floors[car][slot])
    return least <= current <= bounds.caps[car][slot]
