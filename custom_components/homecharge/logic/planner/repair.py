"""Whole plans from the relaxation: trading cells under the minimum away.

The relaxation leaves a few cells between 0 and the car's minimum (a
*piece*). Moving amps between cars inside a slot keeps every slot's total
and so the cost: ``repair`` tries that, and succeeds more often than not.
Where it does not, ``whole_plan_near`` drops the pieces and puts their amps
back where they fit: a whole plan, if not always as cheap or as full.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .relax import (
    Amps,
    Bounds,
    GroupProblem,
    SearchBudget,
    cell_allows,
    cells_under_minimum,
)

# A trade of `amount` amps from one car to another in a slot:
# (giver, taker, slot, amount).
type Move = tuple[int, int, int, int]


def repair(
    problem: GroupProblem,
    bounds: Bounds,
    amps: Amps,
    effort: Effort,
    budget: SearchBudget | None = None,
) -> bool:
    """
    Trade cells under the minimum away, every slot keeping its total.

    True: ``amps`` (changed in place) is a whole plan as cheap as before.
    """
    trader = _PieceTrader(problem, bounds, amps, effort)
    done = trader.run()
    if budget is not None:
        # A search for a car to shed amps to scans cars and their slots.
        cells = len(problem.need) * len(problem.room)
        budget.work -= cells * (effort.sheds - trader.sheds_left) // 3
    return done


@dataclass(frozen=True, slots=True)
class Effort:
    """How hard a repair tries: shedding searches, and chains through cars."""

    sheds: int
    chains: bool


class _PieceTrader:
    """
    Clears cells under the minimum by trades between cars in a slot.

    Another car in the slot takes the piece, or gives way so that it reaches
    the minimum. The car that gains may go over its need: it then sheds as
    many amps to a car with room, in one slot or by a swap of two (hands
    over some, takes back fewer), or, trying harder, along a chain of cars.
    Every slot keeps its total, so the cost does too.
    """

    def __init__(
        self, problem: GroupProblem, bounds: Bounds, amps: Amps, effort: Effort
    ) -> None:
        self._problem, self._bounds, self._amps = problem, bounds, amps
        self._used = [sum(row) for row in amps]
        self.sheds_left = effort.sheds
        self._chains = effort.chains

    def run(self) -> bool:
        """Whether every piece is gone (the amps are changed in place)."""
        problem, amps = self._problem, self._amps
        progress = True
        while progress and self.sheds_left > 0:
            progress = False
            for car, slot in cells_under_minimum(problem, self._bounds, amps):
                piece = amps[car][slot]
                if 0 < piece < problem.least(car, slot) and self._clear_piece(
                    car, slot
                ):
                    progress = True
        return not cells_under_minimum(problem, self._bounds, amps)

    def _allows(self, car: int, slot: int, current: int) -> bool:
        return cell_allows(self._problem, self._bounds, car, slot, current)

    def _clear_piece(self, car: int, slot: int) -> bool:
        """Whether a trade with another car in the slot cleared the piece."""
        amps, used, need = self._amps, self._used, self._problem.need
        piece = amps[car][slot]
        lift = self._problem.least(car, slot) - piece
        others = [other for other in range(len(amps)) if other != car]
        trades = [
            ((car, other, slot, piece), other)
            for other in others
            if amps[other][slot]
            and self._allows(other, slot, amps[other][slot] + piece)
        ]
        if self._allows(car, slot, piece + lift):
            trades += [
                ((other, car, slot, lift), car)
                for other in others
                if amps[other][slot] >= lift
                and self._allows(other, slot, amps[other][slot] - lift)
            ]
        # Trades that need no shedding first: they cost nothing to try.
        trades.sort(key=lambda trade: used[trade[1]] + trade[0][3] > need[trade[1]])
        return any(self._trade(move, gainer, slot) for move, gainer in trades)

    def _apply_moves(self, moves: Sequence[Move], sign: int = 1) -> None:
        """Make the moves (``sign`` -1: undo them)."""
        amps, used = self._amps, self._used
        for giver, taker, slot, amount in moves:
            amps[giver][slot] -= sign * amount
            amps[taker][slot] += sign * amount
            used[giver] -= sign * amount
            used[taker] += sign * amount

    def _trade(self, move: Move, gainer: int, slot: int) -> bool:
        """Make the move; a gainer over its need sheds the rest."""
        self._apply_moves((move,))
        over = self._used[gainer] - self._problem.need[gainer]
        if over <= 0:
            return True
        if self.sheds_left > 0:
            self.sheds_left -= 1
            if (chain := self._shed(gainer, over, slot)) is not None:
                self._apply_moves(chain)
                return True
        self._apply_moves((move,), -1)
        return False

    def _shed(self, car: int, over: int, avoid: int) -> list[Move] | None:
        """Moves that pass ``over`` amps from the car to one with room."""
        amps = self._amps
        holding = [
            [slot for slot, current in enumerate(row) if current] for row in amps
        ]
        roomy = [
            taker
            for taker in range(len(amps))
            if taker != car and self._used[taker] + over <= self._problem.need[taker]
        ]
        for find in (self._hand_over, self._swap):
            for taker in roomy:
                if moves := find(holding, car, taker, over, avoid):
                    return moves
        if not self._chains:
            return None
        parent: dict[int, tuple[int, list[Move]] | None] = {car: None}
        queue = [car]
        for giver in queue:
            for taker in range(len(amps)):
                if taker in parent:
                    continue
                moves = self._hand_over(
                    holding, giver, taker, over, avoid
                ) or self._swap(holding, giver, taker, over, avoid)
                if not moves:
                    continue
                parent[taker] = (giver, moves)
                queue.append(taker)
                if taker in roomy:
                    return self._checked_chain(parent, taker)
        return None

    def _checked_chain(
        self, parent: dict[int, tuple[int, list[Move]] | None], end: int
    ) -> list[Move] | None:
        """The moves to ``end``, if they still fit together (each was found alone)."""
        chain: list[Move] = []
        car = end
        while (link := parent[car]) is not None:
            chain[:0] = link[1]
            car = link[0]
        after: dict[tuple[int, int], int] = {}
        amps = self._amps
        for giver, taker, slot, amount in chain:
            after[giver, slot] = after.get((giver, slot), amps[giver][slot]) - amount
            after[taker, slot] = after.get((taker, slot), amps[taker][slot]) + amount
        if all(self._allows(car, slot, value) for (car, slot), value in after.items()):
            return chain
        return None

    def _room_to_move(self, giver: int, taker: int, slot: int) -> list[tuple[int, int]]:
        """Ranges of amps the giver can hand the taker in the slot, both still valid."""
        bounds, problem = self._bounds, self._problem
        gives, takes = self._amps[giver][slot], self._amps[taker][slot]
        mins = problem.slot_zero_min if slot == 0 else problem.min_a
        low = max(mins[taker], bounds.floors[taker][slot], takes + 1) - takes
        high = bounds.caps[taker][slot] - takes
        if not gives or high < low:
            return []
        keep = gives - max(mins[giver], bounds.floors[giver][slot])
        ranges = [(low, min(keep, high))] if low <= min(keep, high) else []
        if not bounds.floors[giver][slot] and low <= gives <= high and gives > keep:
            ranges.append((gives, gives))
        return ranges

    def _hand_over(
        self, holding: list[list[int]], giver: int, taker: int, net: int, avoid: int
    ) -> list[Move] | None:
        """One slot where the giver can hand the taker ``net`` amps."""
        for slot in holding[giver]:
            if slot != avoid and any(
                low <= net <= high
                for low, high in self._room_to_move(giver, taker, slot)
            ):
                return [(giver, taker, slot, net)]
        return None

    def _swap(
        self, holding: list[list[int]], giver: int, taker: int, net: int, avoid: int
    ) -> list[Move] | None:
        """
        Two slots: the giver hands over some amps in one, takes back fewer in the other.

        The least amount handed over that some slot can take back (less
        ``net``), from the giver's slots in turn; the first such slot of the
        taker's. Ranges are compared, not every amount in them.
        """
        back = [
            (low, high, slot)
            for slot in holding[taker]
            if slot != avoid
            for low, high in self._room_to_move(taker, giver, slot)
        ]
        if not back:
            return None
        for slot in holding[giver]:
            if slot == avoid:
                continue
            for low, high in self._room_to_move(giver, taker, slot):
                least, most = max(low, net + 1) - net, high - net
                if least > most:
                    continue
                found, other = most + 1, -1
                for back_low, back_high, back_slot in back:
                    if back_slot == slot or back_high < least or back_low > most:
                        continue
                    if (start := max(back_low, least)) < found:
                        found, other = start, back_slot
                if other >= 0:
                    return [
                        (giver, taker, slot, found + net),
                        (taker, giver, other, found),
                    ]
        return None


def whole_plan_near(
    problem: GroupProblem, bounds: Bounds, amps: Amps, order: Sequence[int]
) -> Amps:
    """
    A whole plan near a relaxation's: its cells under the minimum dropped.

    What they held goes back where it fits, cheapest slots first: on top of
    cells that charge anyway, else in a new cell of at least the minimum
    (the car that must be ready soonest first).
    """
    plan = [
        [current if current >= least else 0 for current in row]
        for row, least in zip(amps, problem.min_a, strict=True)
    ]
    if problem.first_min:
        for car, row in enumerate(amps):
            if row:
                plan[car][0] = row[0] if row[0] >= problem.first_min[car] else 0
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
                if opening and amount < max(
                    problem.least(car, slot), bounds.floors[car][slot]
                ):
                    continue
                plan[car][slot] += amount
                left[car] -= amount
                free[slot] -= amount
    for car in cars:
        if 0 < left[car] < problem.min_a[car]:
            _top_up_from_own_cells(problem, bounds, plan, car, left[car], free, order)
    return plan


def _top_up_from_own_cells(
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
    row, caps, floors = plan[car], bounds.caps[car], bounds.floors[car]
    spare = {
        slot: row[slot] - max(problem.least(car, slot), floors[slot])
        for slot in order
        if row[slot]
    }
    for slot in order:
        least = problem.least(car, slot)
        if row[slot] or caps[slot] < least or free[slot] < least:
            continue
        if sum(value for value in spare.values() if value > 0) < least - left:
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
