"""A plan not proven optimal, polished by moves checked in the hourly model itself.

The solvers plan in per-slot caps (a share of each hour's room); the grid
company judges the hour. Three moves, each checked against the lines, the
cars' minimum and maximum, their ready slot, the price cap and the step's
hourly average:

- a *fill*: a car short of its energy takes room where there is some, or
  where another car can move on for it (more energy first, as the model
  wants);
- a *shift*: one car's current moves from a slot to a cheaper one;
- an *exchange*: a car moves into a cheaper slot where another, loading a
  line with it, gives up room and moves to the cheapest slot it fits in: a
  3-phase car takes a cheap quarter's line from a 1-phase car (it draws
  three times the power per amp, so more energy lands in the cheap slot),
  or a 32 A car from a 16 A one.

Shifts and exchanges keep every car's energy and are kept where the plan
gets cheaper.
Slot 0 of a plan made mid-slot stays as it is (its energy is a share).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
import math
from typing import Final

from .model import ROUNDING_NOISE, SLOTS_PER_HOUR, CarNeed, Plan, PlanProblem

# Moves looked at per plan (each about a µs): some 60 ms at most, at a mixed
# place with every hour of a 48 h plan full.
POLISH_WORK: Final = 60_000
# Of it, per round, for exchanges between cars of one group.
_SAME_GROUP_WORK: Final = 10_000
# Currency a move must save to count (float noise below it).
_LEAST_GAIN: Final = 1e-9
# kW of float noise a row's room may be short by.
_KW_NOISE: Final = 1e-9


@dataclass(slots=True)
class _Moves:
    """A plan in steps with what each slot's lines and hour have left."""

    problem: PlanProblem
    cars: list[CarNeed]
    amps: list[list[int]]
    line_room: list[list[int]]
    row_of: list[int]
    row_room: list[float]
    first: int
    work: int
    # Step-slots each car needed beyond the plan, and those it got here.
    missing: list[float]
    added: list[int]
    gain: float = 0.0

    def kw_per_step(self, car: int) -> float:
        """Power of one step of the car's current."""
        return self.cars[car].kwh_per_amp * SLOTS_PER_HOUR

    def usable(self, car: int, slot: int) -> bool:
        """Whether the car may charge in the slot at all."""
        problem = self.problem
        return self.first <= slot < self.cars[car].ready and (
            problem.price_cap is None or problem.prices[slot] <= problem.price_cap
        )

    def fits(self, car: int, slot: int, amps: int) -> bool:
        """Whether the car's current in the slot may be ``amps`` (0 or min…max)."""
        need = self.cars[car]
        return amps == 0 or need.min_a <= amps <= need.max_a

    def room(self, car: int, slot: int, free: Sequence[int] = ()) -> int:
        """Steps the car's lines have left in the slot (``free``: lines freed)."""
        lines = self.line_room[slot]
        return min(
            lines[line] + free[line] if free else lines[line]
            for line in self.cars[car].lines
        )

    def free(self, car: int, slot: int, source: int | None = None) -> int:
        """
        Steps the car may add in the slot: its maximum, its lines, the hour.

        Moved from ``source`` in the same hour, the hour's power stays.
        """
        free = min(self.cars[car].max_a - self.amps[car][slot], self.room(car, slot))
        spare = self.row_room[self.row_of[slot]]
        if spare < math.inf and (
            source is None or self.row_of[source] != self.row_of[slot]
        ):
            free = min(free, math.floor(spare / self.kw_per_step(car) + _KW_NOISE))
        return free

    def move(self, car: int, source: int, target: int, amps: int) -> None:
        """``amps`` steps of the car from ``source`` to ``target``."""
        self.amps[car][source] -= amps
        self.amps[car][target] += amps
        for line in self.cars[car].lines:
            self.line_room[source][line] += amps
            self.line_room[target][line] -= amps
        kw = amps * self.kw_per_step(car)
        self.row_room[self.row_of[source]] += kw
        self.row_room[self.row_of[target]] -= kw
        prices = self.problem.prices
        self.gain += (
            amps * self.cars[car].kwh_per_amp * (prices[source] - prices[target])
        )

    def short(self, car: int) -> int:
        """Whole steps of current the car may still take in one slot."""
        return math.floor(self.missing[car] - self.added[car] + ROUNDING_NOISE)

    def add(self, car: int, slot: int, amps: int) -> None:
        """``amps`` steps more for the car in the slot: more energy."""
        self.amps[car][slot] += amps
        for line in self.cars[car].lines:
            self.line_room[slot][line] -= amps
        self.row_room[self.row_of[slot]] -= amps * self.kw_per_step(car)
        self.added[car] += amps
        self.gain -= amps * self.cars[car].kwh_per_amp * self.problem.prices[slot]

    def power_fits(self, rows: dict[int, float]) -> bool:
        """Whether the rows' power changes (kW) keep each inside its step."""
        return all(
            kw <= 0 or self.row_room[row] - kw >= -_KW_NOISE for row, kw in rows.items()
        )


def polish(problem: PlanProblem, plan: Plan, work: int = POLISH_WORK) -> Plan:
    """The plan after the fills, and every shift and exchange that saves.

    ``work``: the moves looked at, at most.
    """
    moves = _start(problem, plan, work)
    if moves is None:
        return plan
    order = sorted(
        range(moves.first, len(problem.prices)), key=problem.prices.__getitem__
    )
    _fills(moves, order)
    while moves.work > 0:
        before = moves.gain
        _shifts(moves, order)
        _exchanges(moves, order, same_group=False)
        # Within a group an exchange pays only where the taker may draw more
        # than the giver gives up (a 32 A car beside a 16 A one): a small
        # share of the work.
        rest, moves.work = moves.work, min(moves.work, _SAME_GROUP_WORK)
        _exchanges(moves, order, same_group=True)
        moves.work = rest - (min(rest, _SAME_GROUP_WORK) - moves.work)
        if moves.gain - before <= _LEAST_GAIN:
            break
    if moves.gain <= _LEAST_GAIN and not any(moves.added):
        return plan
    steps = problem.amp_steps
    currents = dict(plan.currents)
    for car, row in zip(moves.cars, moves.amps, strict=True):
        first = currents[car.key][: moves.first]
        currents[car.key] = (*first, *(amps / steps for amps in row[moves.first :]))
    cost = plan.energy_cost - moves.gain
    lower = plan.lower_bound
    if any(moves.added):
        # More energy: a bound for less says nothing of it.
        lower = None
    delivered = dict(plan.delivered_kwh)
    for car, added in zip(moves.cars, moves.added, strict=True):
        delivered[car.key] += car.kwh_per_amp * added
    return replace(
        plan,
        currents=currents,
        delivered_kwh=delivered,
        energy_cost=cost,
        lower_bound=None if lower is None else min(lower, cost + plan.step_cost),
    )


def _start(problem: PlanProblem, plan: Plan, work: int) -> _Moves | None:
    """The plan in steps and its rooms; None where it is not one to polish."""
    steps = problem.amp_steps
    cars = [car for car in problem.cars if car.key in plan.currents]
    slots = len(problem.prices)
    amps = [
        [round(current * steps) for current in plan.currents[car.key]] for car in cars
    ]
    if any(len(row) != slots for row in amps):
        return None
    line_room = [list(row) for row in problem.headroom]
    for car, row in zip(cars, amps, strict=True):
        for slot, current in enumerate(row):
            for line in car.lines:
                line_room[slot][line] -= current
    option = problem.steps[plan.step]
    rows = problem.power_rows()
    row_of = [0] * slots
    row_room = []
    for number, row in enumerate(rows):
        cap = problem.cap_kw(option, row[0])
        room = math.inf
        if cap is not None:
            room = cap * len(row) - math.fsum(problem.house_kw[slot] for slot in row)
        for slot in row:
            row_of[slot] = number
            room -= math.fsum(
                row_amps[slot] * car.kwh_per_amp * SLOTS_PER_HOUR
                for car, row_amps in zip(cars, amps, strict=True)
            )
        row_room.append(room)
    first = 1 if problem.first_slot_share < 1 else 0
    missing = [
        car.need_amps - plan.delivered_kwh.get(car.key, 0.0) / car.kwh_per_amp
        for car in cars
    ]
    return _Moves(
        problem,
        cars,
        amps,
        line_room,
        row_of,
        row_room,
        first,
        work,
        missing,
        [0] * len(cars),
    )


def _shifts(moves: _Moves, order: Sequence[int]) -> None:
    """Each car's current from its dearest slots to the cheapest with room."""
    prices = moves.problem.prices
    for car, row in enumerate(moves.amps):
        need = moves.cars[car]
        for source, target in _downhill(row, _open(moves, car, order), order, prices):
            if moves.work <= 0:
                return
            moves.work -= 1
            amps = min(row[source], moves.free(car, target, source))
            if amps < row[source] and row[source] - amps < need.min_a:
                amps = row[source] - need.min_a
            if amps > 0 and moves.fits(car, target, row[target] + amps):
                moves.move(car, source, target, amps)


def _exchanges(moves: _Moves, order: Sequence[int], *, same_group: bool) -> None:
    """A car into a cheaper slot, with line room another car gives up there."""
    prices = moves.problem.prices
    for taker, row in enumerate(moves.amps):
        for giver in _givers(moves, taker, same_group=same_group):
            targets = [
                slot
                for slot in order
                if moves.amps[giver][slot] and moves.usable(taker, slot)
            ]
            dests = _open(moves, giver, order, power=True)
            for source, target in _downhill(row, targets, order, prices):
                if moves.work <= 0:
                    return
                _exchange(moves, (taker, giver), (source, target), dests)


def _downhill(
    row: Sequence[int],
    targets: Sequence[int],
    order: Sequence[int],
    prices: Sequence[float],
) -> Iterator[tuple[int, int]]:
    """
    Pairs of slots to move a car's current between, the dearest first.

    Each slot the car charges in (dearest first) with each cheaper target
    (cheapest first), while the car still charges there.
    """
    for source in reversed(order):
        if row[source] == 0:
            continue
        for target in targets:
            if prices[target] >= prices[source] or row[source] == 0:
                break
            yield source, target


def _fills(moves: _Moves, order: Sequence[int]) -> None:
    """A car short of its energy: into the cheapest slots with room, or made room."""
    for car, row in enumerate(moves.amps):
        for target in _open(moves, car, order):
            if moves.work <= 0 or moves.short(car) <= 0:
                break
            moves.work -= 1
            amps = min(moves.short(car), moves.free(car, target))
            if amps > 0 and moves.fits(car, target, row[target] + amps):
                moves.add(car, target, amps)
        for giver in _givers(moves, car):
            dests = _open(moves, giver, order, power=True)
            for target in order:
                if moves.work <= 0 or moves.short(car) <= 0:
                    break
                if moves.amps[giver][target] and moves.usable(car, target):
                    _exchange(moves, (car, giver), (None, target), dests)


def _open(
    moves: _Moves, car: int, order: Sequence[int], *, power: bool = False
) -> list[int]:
    """
    The slots, cheapest first, where the car could take more current.

    With ``power``: only where its hour has the power for a step more (for
    its minimum where it does not charge yet).
    """
    need, row = moves.cars[car], moves.amps[car]
    kw = moves.kw_per_step(car)
    return [
        slot
        for slot in order
        if row[slot] < need.max_a
        and moves.usable(car, slot)
        and moves.room(car, slot) > 0
        and (
            not power
            or moves.row_room[moves.row_of[slot]]
            >= kw * (1 if row[slot] else need.min_a) - _KW_NOISE
        )
    ]


def _givers(moves: _Moves, taker: int, *, same_group: bool | None = None) -> list[int]:
    """The other cars that load a line with ``taker`` (of its group or not)."""
    need = moves.cars[taker]
    group = (need.lines, need.kwh_per_amp)
    return [
        car
        for car, other in enumerate(moves.cars)
        if car != taker
        and other.lines & need.lines
        and (
            same_group is None
            or ((other.lines, other.kwh_per_amp) == group) == same_group
        )
    ]


def _exchange(
    moves: _Moves,
    cars: tuple[int, int],
    slots: tuple[int | None, int],
    dests: Sequence[int],
) -> None:
    """
    The taker into the target slot, where the giver makes room, if that saves.

    The taker comes from the source slot (None: it takes more energy); the
    giver moves to the cheapest of ``dests`` (or the source) it fits in.
    """
    (taker, giver), (source, target) = cars, slots
    moves.work -= 1
    take_row, give_row = moves.amps[taker], moves.amps[giver]
    taker_need, giver_need = moves.cars[taker], moves.cars[giver]
    prices = moves.problem.prices
    available = moves.short(taker) if source is None else take_row[source]
    wanted = min(available, taker_need.max_a - take_row[target])
    for given in _givings(
        give_row[target], giver_need.min_a, wanted - moves.room(taker, target)
    ):
        lines = len(moves.line_room[target])
        freed = [given if line in giver_need.lines else 0 for line in range(lines)]
        taken = min(wanted, moves.room(taker, target, freed))
        if (
            source is not None
            and taken < take_row[source]
            and take_row[source] - taken < taker_need.min_a
        ):
            taken = take_row[source] - taker_need.min_a
        if taken <= 0 or not moves.fits(taker, target, take_row[target] + taken):
            continue
        saved = (
            math.inf
            if source is None
            else taken * taker_need.kwh_per_amp * (prices[source] - prices[target])
        )
        # The cheapest slot with room for the giver, or the source the taker
        # leaves: while it saves.
        for dest in (
            *_saving(dests, saved, given * giver_need.kwh_per_amp, prices, target),
            *(() if source is None else (source,)),
        ):
            moves.work -= 1
            cost = given * giver_need.kwh_per_amp * (prices[dest] - prices[target])
            if (
                dest != target
                and saved - cost > _LEAST_GAIN
                and _gives_to(
                    moves, (taker, giver), (source, target, dest), (taken, given)
                )
            ):
                return


def _saving(
    dests: Sequence[int],
    saved: float,
    kwh: float,
    prices: Sequence[float],
    target: int,
) -> Iterator[int]:
    """``dests`` (cheapest first) while moving ``kwh`` there saves."""
    for dest in dests:
        if saved - kwh * (prices[dest] - prices[target]) <= _LEAST_GAIN:
            return
        yield dest


def _gives_to(
    moves: _Moves,
    cars: tuple[int, int],
    slots: tuple[int | None, int, int],
    amps: tuple[int, int],
) -> bool:
    """Make the exchange with the giver moving to ``dest``, if it fits there."""
    (taker, giver), (source, target, dest), (taken, given) = cars, slots, amps
    giver_row = moves.amps[giver]
    if not moves.usable(giver, dest) or not moves.fits(
        giver, dest, giver_row[dest] + given
    ):
        return False
    if dest != source:
        if moves.room(giver, dest) < given:
            return False
    else:
        # Where the taker leaves, its lines have what it drew there.
        taker_lines = moves.cars[taker].lines
        back = [
            taken if line in taker_lines else 0
            for line in range(len(moves.line_room[dest]))
        ]
        if moves.room(giver, dest, back) < given:
            return False
    take_kw = taken * moves.kw_per_step(taker)
    give_kw = given * moves.kw_per_step(giver)
    rows: dict[int, float] = {}
    for slot, kw in (
        (target, take_kw - give_kw),
        (dest, give_kw),
        *(() if source is None else ((source, -take_kw),)),
    ):
        rows[moves.row_of[slot]] = rows.get(moves.row_of[slot], 0.0) + kw
    if not moves.power_fits(rows):
        return False
    moves.move(giver, target, dest, given)
    if source is None:
        moves.add(taker, target, taken)
    else:
        moves.move(taker, source, target, taken)
    return True


def _givings(current: int, least: int, deficit: int) -> list[int]:
    """What a giver may give up of ``current``: all, down to its minimum, or the deficit."""
    givings = [current]
    if current - least > 0:
        givings.append(current - least)
    if 0 < deficit < current - least:
        givings.append(deficit)
    return givings
