"""Smart-charging planner: the current of every car in every 15-minute slot.

Pure logic. The problem, in whole amps so that the plan is exact:

- a car may charge in slots ``0 … ready - 1`` at 0 A or between ``min_a`` and
  ``max_a`` amps; it needs ``ceil(need_kwh / kwh_per_amp)`` amp-slots;
- per slot and line, the amps of all cars loading that line stay within the
  line's ``headroom`` (main fuse minus margin minus the forecast house load);
- with a capacity-tariff step chosen, a slot's forecast house power plus the
  charging power stays under the step's ``max_kw`` (no charging at all in a
  slot where the house alone is above it);
- first as much energy as possible is delivered, then at the least cost:
  energy price per slot plus the monthly cost of the chosen step.

Cars that load the same lines with the same energy per amp form a *group*.
Within a group the slot totals form a polymatroid, so filling the slots in
order of price (moving earlier amps between cars where that frees room) is
an optimal relaxation; the 6 A minimum is then settled exactly by branch and
bound. Places whose cars form several groups are planned group by group
(largest energy per amp first), which is safe but may be off the optimum.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
import math

SLOT_MINUTES = 15
SLOTS_PER_HOUR = 60 // SLOT_MINUTES
# Delivered energy comes before cost: one kWh short outweighs any price spread.
_SHORTFALL_COST = 1e6
_EPSILON = 1e-9
_MAX_NODES = 100


@dataclass(frozen=True, kw_only=True)
class CarNeed:
    """One plugged-in car as the planner sees it."""

    key: str
    lines: frozenset[int]
    kwh_per_amp: float
    max_a: int
    need_kwh: float
    ready: int
    min_a: int = 6

    @property
    def need_amps(self) -> int:
        """Amp-slots that cover the energy (at least one slot at the minimum)."""
        if self.need_kwh <= 0:
            return 0
        amps = math.ceil(self.need_kwh / self.kwh_per_amp - _EPSILON)
        return max(amps, self.min_a)


@dataclass(frozen=True, kw_only=True)
class StepOption:
    """A capacity-tariff step the plan may end up in."""

    extra_cost: float
    max_kw: float | None


NO_TARIFF = (StepOption(extra_cost=0.0, max_kw=None),)


@dataclass(frozen=True, kw_only=True)
class PlanProblem:
    """Everything the planner needs, one entry per slot."""

    prices: Sequence[float]
    headroom: Sequence[Sequence[int]]
    house_kw: Sequence[float]
    cars: Sequence[CarNeed]
    steps: Sequence[StepOption] = NO_TARIFF
    price_cap: float | None = None
    continuous: bool = False


@dataclass(frozen=True, kw_only=True)
class Plan:
    """Amps per car per slot and what they cost."""

    currents: dict[str, tuple[int, ...]]
    delivered_kwh: dict[str, float]
    energy_cost: float
    step: int
    step_cost: float
    exact: bool = field(default=True)

    @property
    def cost(self) -> float:
        """Energy plus the capacity step the plan causes."""
        return self.energy_cost + self.step_cost


@dataclass(frozen=True, slots=True)
class _Group:
    """Cars that compete for the same lines with the same energy per amp."""

    lines: frozenset[int]
    kwh_per_amp: float
    cars: tuple[CarNeed, ...]


@dataclass(slots=True)
class _Solution:
    """Amps per car (rows) and slot (columns) with what they deliver and cost."""

    amps: list[list[int]]
    delivered: int
    cost: float

    def better_than(self, other: _Solution | None) -> bool:
        """More energy, or as much for less (beyond float noise)."""
        if other is None or self.delivered != other.delivered:
            return other is None or self.delivered > other.delivered
        return self.cost < other.cost - _EPSILON * max(1.0, abs(other.cost))


def plan_charging(problem: PlanProblem) -> Plan:
    """The least-cost plan that delivers as much as the place allows."""
    slots = len(problem.prices)
    groups = _groups(problem.cars)
    best: tuple[float, Plan] | None = None
    relaxed: Plan | None = None
    # The option without a power cap bounds the energy cost of all the others.
    order = sorted(
        range(len(problem.steps)),
        key=lambda index: (problem.steps[index].max_kw is not None, index),
    )
    for index in order:
        option = problem.steps[index]
        if (
            relaxed is not None
            and best is not None
            and _all_delivered(relaxed, problem.cars)
            and relaxed.energy_cost + option.extra_cost >= best[1].cost - _EPSILON
        ):
            continue
        plan = _plan_for_step(problem, groups, index, slots)
        if relaxed is None and option.max_kw is None:
            relaxed = plan
        delivered = math.fsum(plan.delivered_kwh.values())
        if best is None or (
            (-round(delivered, 6), round(plan.cost, 9))
            < (-round(best[0], 6), round(best[1].cost, 9))
        ):
            best = (delivered, plan)
    if best is None:
        raise ValueError("a plan needs at least one capacity step option")
    return best[1]


def _all_delivered(plan: Plan, cars: Sequence[CarNeed]) -> bool:
    return all(sum(plan.currents[car.key]) >= car.need_amps for car in cars)


def _groups(cars: Sequence[CarNeed]) -> list[_Group]:
    grouped: dict[tuple[frozenset[int], float], list[CarNeed]] = {}
    for car in cars:
        grouped.setdefault((car.lines, round(car.kwh_per_amp, 9)), []).append(car)
    groups = [
        _Group(lines=lines, kwh_per_amp=members[0].kwh_per_amp, cars=tuple(members))
        for (lines, _), members in grouped.items()
    ]
    # More energy per amp first: it gets the most out of the shared lines.
    groups.sort(key=lambda group: -group.kwh_per_amp * len(group.lines))
    return groups


def _plan_for_step(
    problem: PlanProblem, groups: Sequence[_Group], index: int, slots: int
) -> Plan:
    option = problem.steps[index]
    headroom = [list(problem.headroom[slot]) for slot in range(slots)]
    spare_kw: list[float] | None = None
    if option.max_kw is not None:
        spare_kw = [
            option.max_kw - house if house <= option.max_kw else 0.0
            for house in problem.house_kw
        ]
    currents: dict[str, tuple[int, ...]] = {}
    delivered: dict[str, float] = {}
    energy_cost = 0.0
    exact = len(groups) <= 1 and not problem.continuous
    for group in groups:
        capacity = _capacity(problem, group, headroom, spare_kw, slots)
        if problem.continuous:
            solution = _blocks(group, capacity, problem.prices)
        else:
            solution, proven = _branch_and_bound(group, capacity, problem.prices)
            exact = exact and proven
        for car, amps in zip(group.cars, solution.amps, strict=True):
            currents[car.key] = tuple(amps)
            delivered[car.key] = sum(amps) * car.kwh_per_amp
        energy_cost += solution.cost
        _take(group, solution, headroom, spare_kw)
    return Plan(
        currents=currents,
        delivered_kwh=delivered,
        energy_cost=energy_cost,
        step=index,
        step_cost=option.extra_cost,
        exact=exact,
    )


def _capacity(
    problem: PlanProblem,
    group: _Group,
    headroom: Sequence[Sequence[int]],
    spare_kw: Sequence[float] | None,
    slots: int,
) -> list[int]:
    """Amps the group may draw per slot: lines, capacity step and price cap."""
    capacity = []
    kw_per_amp = group.kwh_per_amp * SLOTS_PER_HOUR
    for slot in range(slots):
        amps = min(headroom[slot][line] for line in group.lines)
        if spare_kw is not None:
            amps = min(amps, math.floor(spare_kw[slot] / kw_per_amp + _EPSILON))
        if problem.price_cap is not None and problem.prices[slot] > problem.price_cap:
            amps = 0
        capacity.append(max(amps, 0))
    return capacity


def _take(
    group: _Group,
    solution: _Solution,
    headroom: list[list[int]],
    spare_kw: list[float] | None,
) -> None:
    """Leave the next group what this one does not use."""
    kw_per_amp = group.kwh_per_amp * SLOTS_PER_HOUR
    for slot, total in enumerate(map(sum, zip(*solution.amps, strict=True))):
        for line in group.lines:
            headroom[slot][line] -= total
        if spare_kw is not None:
            spare_kw[slot] -= total * kw_per_amp


def _branch_and_bound(
    group: _Group, capacity: Sequence[int], prices: Sequence[float]
) -> tuple[_Solution, bool]:
    """
    The exact plan for one group: each current 0 or at least the minimum.

    The relaxation allows any amps; a cell it leaves between 0 and the minimum
    is branched on (off, or at least the minimum). Depth first with the better
    child first finds a good plan early, which prunes the rest.
    """
    cars = group.cars
    slots = len(capacity)
    ceiling = [
        [
            min(car.max_a, capacity[slot])
            if slot < car.ready and min(car.max_a, capacity[slot]) >= car.min_a
            else 0
            for slot in range(slots)
        ]
        for car in cars
    ]
    order = sorted(
        (slot for slot in range(slots) if capacity[slot] > 0),
        key=lambda slot: (prices[slot], slot),
    )
    best: _Solution | None = None
    nodes = 0
    stack: list[tuple[list[list[int]], list[list[int]]]] = [
        (ceiling, [[0] * slots for _ in cars])
    ]
    while stack:
        nodes += 1
        if nodes > _MAX_NODES:
            break
        cap, floor_ = stack.pop()
        relaxed = _relax(group, capacity, cap, floor_, order, prices)
        if relaxed is None or not relaxed.better_than(best):
            continue
        _settle(cars, relaxed.amps, capacity, cap, floor_, prices)
        cell = _fractional(cars, relaxed.amps, floor_, prices)
        if cell is None:
            best = relaxed
            continue
        row, slot = cell
        off = [list(r) for r in cap]
        off[row][slot] = 0
        children = [(off, floor_)]
        if cap[row][slot] >= cars[row].min_a:
            on = [list(r) for r in floor_]
            on[row][slot] = cars[row].min_a
            children.append((cap, on))
        # The child more like the relaxation is explored first.
        if relaxed.amps[row][slot] * 2 >= cars[row].min_a:
            children.reverse()
        stack.extend(children)
    if best is None:
        return _Solution(
            amps=[[0] * slots for _ in cars], delivered=0, cost=0.0
        ), nodes <= _MAX_NODES
    return best, nodes <= _MAX_NODES


def _fractional(
    cars: Sequence[CarNeed],
    amps: Sequence[Sequence[int]],
    floor_: Sequence[Sequence[int]],
    prices: Sequence[float],
) -> tuple[int, int] | None:
    """The cell under the minimum in the dearest slot, if any."""
    found: tuple[int, int] | None = None
    for row, car in enumerate(cars):
        for slot, value in enumerate(amps[row]):
            if (
                0 < value < car.min_a
                and not floor_[row][slot]
                and (found is None or prices[slot] > prices[found[1]])
            ):
                found = (row, slot)
    return found


def _relax(
    group: _Group,
    capacity: Sequence[int],
    cap: Sequence[Sequence[int]],
    floor_: Sequence[Sequence[int]],
    order: Sequence[int],
    prices: Sequence[float],
) -> _Solution | None:
    """
    The least-cost most-energy plan when any current up to the cell cap goes.

    Slots are filled cheapest first, each as far as the cars can take it. A
    full car can still give way: it moves amps from an earlier (cheaper) slot
    to this one where another car takes its place there. That keeps every
    earlier slot's total, which is what makes the greedy optimal here.
    """
    cars = group.cars
    count = len(cars)
    amps = [list(row) for row in floor_]
    left = [car.need_amps - sum(row) for car, row in zip(cars, amps, strict=True)]
    free = list(capacity)
    for slot in range(len(capacity)):
        free[slot] -= sum(amps[row][slot] for row in range(count))
        if free[slot] < 0:
            return None
    if any(value < 0 for value in left):
        return None
    done: list[int] = []
    for slot in order:
        while free[slot] > 0:
            path = _augmenting_path(count, slot, amps, cap, floor_, left, done)
            if path is None:
                break
            first, transfers, last = path
            amount = min(free[slot], cap[first][slot] - amps[first][slot], left[last])
            for giver, via, taker in transfers:
                amount = min(
                    amount,
                    amps[giver][via] - floor_[giver][via],
                    cap[taker][via] - amps[taker][via],
                )
            amps[first][slot] += amount
            for giver, via, taker in transfers:
                amps[giver][via] -= amount
                amps[taker][via] += amount
            left[last] -= amount
            free[slot] -= amount
        done.append(slot)
    delivered = sum(map(sum, amps))
    cost = group.kwh_per_amp * math.fsum(
        prices[slot] * amps[row][slot]
        for row in range(count)
        for slot in range(len(capacity))
        if amps[row][slot]
    )
    return _Solution(amps=amps, delivered=delivered, cost=cost)


def _augmenting_path(
    count: int,
    slot: int,
    amps: Sequence[Sequence[int]],
    cap: Sequence[Sequence[int]],
    floor_: Sequence[Sequence[int]],
    left: Sequence[int],
    done: Sequence[int],
) -> tuple[int, list[tuple[int, int, int]], int] | None:
    """
    A chain that puts one more amp into ``slot``, found breadth first.

    It starts at a car with room in the slot and ends at a car that still
    needs energy; each step in between moves a car's amps out of an earlier
    slot into the previous car's place.
    """
    parent: dict[int, tuple[int, int] | None] = {}
    queue: list[int] = []
    for row in range(count):
        if amps[row][slot] < cap[row][slot]:
            parent[row] = None
            queue.append(row)
    for giver in queue:
        if left[giver] > 0:
            transfers: list[tuple[int, int, int]] = []
            node = giver
            while (link := parent[node]) is not None:
                previous, via = link
                transfers.append((previous, via, node))
                node = previous
            return node, transfers, giver
        for taker in range(count):
            if taker in parent:
                continue
            for via in done:
                if (
                    amps[giver][via] > floor_[giver][via]
                    and amps[taker][via] < cap[taker][via]
                ):
                    parent[taker] = (giver, via)
                    queue.append(taker)
                    break
    return None


def _blocks(
    group: _Group, capacity: Sequence[int], prices: Sequence[float]
) -> _Solution:
    """
    One unbroken run per car at the most the lines allow, cheapest run first.

    Cars are placed in order of their ready-by time, each in what the earlier
    ones left. This is the simple plan users ask for when they want no
    stop-and-go; it is not claimed optimal.
    """
    slots = len(capacity)
    free = list(capacity)
    amps = [[0] * slots for _ in group.cars]
    for row in sorted(range(len(group.cars)), key=lambda r: group.cars[r].ready):
        car = group.cars[row]
        best: tuple[tuple[int, float], int, list[int]] | None = None
        for start in range(min(car.ready, slots)):
            run = _run_from(car, start, free, prices)
            if run is None:
                continue
            given = sum(run)
            cost = math.fsum(
                prices[start + offset] * value for offset, value in enumerate(run)
            )
            key = (-given, cost)
            if best is None or key < best[0]:
                best = (key, start, run)
        if best is None:
            continue
        _, start, run = best
        for offset, value in enumerate(run):
            amps[row][start + offset] = value
            free[start + offset] -= value
    cost = group.kwh_per_amp * math.fsum(
        prices[slot] * row[slot] for row in amps for slot in range(slots)
    )
    return _Solution(amps=amps, delivered=sum(map(sum, amps)), cost=cost)


def _run_from(
    car: CarNeed, start: int, free: Sequence[int], prices: Sequence[float]
) -> list[int] | None:
    """Amps per slot of a run starting at ``start`` until the car has enough."""
    run: list[int] = []
    left = car.need_amps
    slot = start
    while left > 0 and slot < min(car.ready, len(free)):
        room = min(car.max_a, free[slot])
        if room < car.min_a:
            break
        amps = min(room, left)
        if amps < car.min_a:
            # Too little for a slot of its own: the slot before gives some up.
            if not run or run[-1] - (car.min_a - amps) < car.min_a:
                break
            run[-1] -= car.min_a - amps
            amps = car.min_a
        run.append(amps)
        left -= amps
        slot += 1
    return run or None


def _settle(
    cars: Sequence[CarNeed],
    amps: list[list[int]],
    capacity: Sequence[int],
    cap: Sequence[Sequence[int]],
    floor_: Sequence[Sequence[int]],
    prices: Sequence[float],
) -> None:
    """
    Clear cells under the minimum by moves that cost nothing.

    Amps move to another slot of the same price, or two cars swap amps
    between two slots (each slot keeps its total). The relaxation often
    splits a slot or an hour this way only because it may; what it could not
    avoid stays for branch and bound.
    """
    slots = len(capacity)
    total = [sum(row[slot] for row in amps) for slot in range(slots)]

    def fits(row: int, slot: int, value: int) -> bool:
        return value == 0 or (
            cars[row].min_a <= value <= cap[row][slot] and value >= floor_[row][slot]
        )

    changed = True
    while changed:
        changed = False
        for row, car in enumerate(cars):
            for slot in range(slots):
                value = amps[row][slot]
                if not 0 < value < car.min_a or floor_[row][slot]:
                    continue
                if _settle_cell(row, slot, amps, total, capacity, prices, fits):
                    changed = True


def _settle_cell(
    row: int,
    slot: int,
    amps: list[list[int]],
    total: list[int],
    capacity: Sequence[int],
    prices: Sequence[float],
    fits: Callable[[int, int, int], bool],
) -> bool:
    value = amps[row][slot]
    for other in range(len(total)):
        if other == slot:
            continue
        here = amps[row][other]
        # Same price elsewhere: move all of it there, or top this cell up.
        if prices[other] == prices[slot]:
            room = capacity[other] - total[other]
            if room >= value and fits(row, other, here + value):
                _move(amps, total, row, slot, other, value)
                return True
            need = fits_gap = 0
            need = _minimum_gap(fits, row, slot, value)
            fits_gap = capacity[slot] - total[slot]
            if need and fits_gap >= need and fits(row, other, here - need):
                _move(amps, total, row, other, slot, need)
                return True
        # Swap with another car: it takes this cell's amps here, gives as
        # many back in the other slot.
        for peer in range(len(amps)):
            if peer == row:
                continue
            if (
                fits(peer, slot, amps[peer][slot] + value)
                and fits(peer, other, amps[peer][other] - value)
                and fits(row, other, here + value)
            ):
                amps[peer][slot] += value
                amps[row][slot] = 0
                amps[peer][other] -= value
                amps[row][other] += value
                return True
            need = _minimum_gap(fits, row, slot, value)
            if (
                need
                and fits(peer, slot, amps[peer][slot] - need)
                and fits(peer, other, amps[peer][other] + need)
                and fits(row, other, here - need)
            ):
                amps[peer][slot] -= need
                amps[row][slot] += need
                amps[peer][other] += need
                amps[row][other] -= need
                return True
    return False


def _minimum_gap(
    fits: Callable[[int, int, int], bool], row: int, slot: int, value: int
) -> int:
    """Amps that lift a cell to a valid value, or 0 when none within 32 A."""
    for gap in range(1, 33):
        if fits(row, slot, value + gap):
            return gap
    return 0


def _move(
    amps: list[list[int]],
    total: list[int],
    row: int,
    source: int,
    target: int,
    value: int,
) -> None:
    amps[row][source] -= value
    amps[row][target] += value
    total[source] -= value
    total[target] += value
