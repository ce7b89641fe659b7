"""The capacity step's room in a clock hour, shared out among its slots.

The grid company measures each clock hour's average power, not each slot's:
an hour under a cap of 5 kW may take 8 kW in its cheapest quarter and 4 kW
in the others. The planner's groups are planned slot by slot, so an hour's
room (the cap times its slots, less the house) is shared out among them
before planning (``by_hours.py`` tries the shares and keeps the cheapest
plan):

- ``each_within_hour``: each slot under the cap, as a slot alone is, scaled
  down where a house peak in one slot leaves the hour less;
- ``share_hours``: evenly, cheapest first (each slot up to what its cars
  could draw, the last topped up to a car's minimum), in parts of at least
  a car's minimum, or around given shares (a plan's, a relaxation's: kept,
  and the rest of the hour given out).

Every share keeps each hour's average under the cap; which is best depends
on the cars (a slow car needs many slots, a fast one the cheapest).
``share_hours(relaxed=True)``, for bounds: each slot may take the whole
hour's room (up to what its cars could draw), which no plan can beat.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
import math

from ..capacity_tariff import StepOption
from .model import SLOTS_PER_HOUR, Plan, PlanProblem


def share_hours(
    problem: PlanProblem,
    slack_kw: Sequence[float],
    *,
    relaxed: bool = False,
    level: bool = False,
    chunks: bool = False,
    used_kw: Sequence[float] | None = None,
) -> list[float]:
    """
    Per slot, the power under the cap once each hour's room is shared out.

    ``slack_kw`` is each slot's cap less the house (negative where the house
    alone is above it, inf where the day has no cap); a slot alone in its
    hour keeps its own (at least 0). An hour's room goes cheapest first; with
    ``used_kw`` (a plan's power per slot) each slot keeps what it uses and
    only the rest goes cheapest first. ``level``: evenly instead, each
    slot up to its most (a house peak in one slot is made up by the others).
    ``chunks``: in as many equal parts as the smallest car minimum allows,
    to the cheapest slots (where each quarter alone is below a car's 6 A
    minimum but the hour is not).
    """
    room = [max(kw, 0.0) for kw in slack_kw]
    rows = problem.hour_rows
    if not rows:
        return room
    most, least = problem.most_kw, problem.least_kw
    for row in rows:
        if any(math.isinf(slack_kw[slot]) for slot in row):
            continue
        total = max(math.fsum(slack_kw[slot] for slot in row), 0.0)
        if relaxed:
            for slot in row:
                room[slot] = min(total, most[slot])
            continue
        kept = {slot: used_kw[slot] if used_kw else 0.0 for slot in row}
        if (over := math.fsum(kept.values())) > total:
            # More than the hour holds (a relaxation's shares): scaled down.
            kept = {slot: kw * total / over for slot, kw in kept.items()}
        rest = max(total - math.fsum(kept.values()), 0.0)
        free = {slot: most[slot] - kept[slot] for slot in row}
        if level:
            shares = _levelled(row, rest, free)
        elif chunks:
            shares = _in_chunks(problem, row, rest, free, least)
        else:
            shares = _cheapest_first(
                problem,
                row,
                rest,
                free,
                {slot: least[slot] if used_kw is None else 0.0 for slot in row},
            )
        for slot in row:
            room[slot] = kept[slot] + shares[slot]
    return room


def each_within_hour(problem: PlanProblem, slack_kw: Sequence[float]) -> list[float]:
    """
    Each slot under the cap, and its hour under it on average.

    Where the house is above the cap in one slot, the others may not all
    charge up to it: they are scaled down to the hour's room.
    """
    room = [max(kw, 0.0) for kw in slack_kw]
    for row in problem.hour_rows:
        if any(math.isinf(slack_kw[slot]) for slot in row):
            continue
        total = max(math.fsum(slack_kw[slot] for slot in row), 0.0)
        given = math.fsum(room[slot] for slot in row)
        if given > total:
            for slot in row:
                room[slot] *= total / given
    return room


def per_slot_problem(
    problem: PlanProblem, option: StepOption, room_kw: Sequence[float]
) -> PlanProblem:
    """
    The problem under one step with each slot's room as its own cap.

    The house is what leaves each slot ``room_kw`` under the cap (it counts
    for nothing else): a plan of it keeps each hour of ``problem`` under the
    cap wherever the rooms do.
    """
    house = []
    for slot, kw in enumerate(problem.house_kw):
        cap = problem.cap_kw(option, slot)
        house.append(kw if cap is None else cap - room_kw[slot])
    return replace(problem, steps=(option,), house_kw=house, slot_hours=())


def plan_power_kw(problem: PlanProblem, plan: Plan) -> list[float]:
    """A plan's charging power per slot (kW)."""
    power = [0.0] * len(problem.prices)
    steps = problem.amp_steps
    for car in problem.cars:
        kw_per_amp = car.kwh_per_amp * SLOTS_PER_HOUR * steps
        for slot, amps in enumerate(plan.currents.get(car.key, ())):
            if amps:
                power[slot] += amps * kw_per_amp
    return power


def _levelled(
    row: Sequence[int], total: float, most: Mapping[int, float]
) -> dict[int, float]:
    """An hour's room given evenly, each slot up to its most (water filling)."""
    shares: dict[int, float] = {}
    left, open_slots = total, sorted(row, key=lambda slot: most[slot])
    while open_slots:
        even = left / len(open_slots)
        slot = open_slots[0]
        if most[slot] >= even:
            # Every slot left takes the even share: none is full below it.
            shares.update(dict.fromkeys(open_slots, even))
            return shares
        shares[slot] = most[slot]
        left -= most[slot]
        open_slots.pop(0)
    return shares


def _in_chunks(
    problem: PlanProblem,
    row: Sequence[int],
    total: float,
    most: Mapping[int, float],
    least: Sequence[float],
) -> dict[int, float]:
    """An hour's room in equal parts of at least a car's minimum, cheapest first."""
    smallest = min((least[slot] for slot in row if least[slot] > 0), default=0.0)
    parts = len(row) if smallest <= 0 else int(total / smallest)
    parts = max(1, min(parts, len(row)))
    order = sorted(row, key=lambda slot: (problem.prices[slot], slot))
    shares = dict.fromkeys(row, 0.0)
    left = total
    for number, slot in enumerate(order):
        if left <= 0:
            break
        share = min(most[slot], left / max(parts - number, 1))
        shares[slot] = max(share, 0.0)
        left -= shares[slot]
    return shares


def _cheapest_first(
    problem: PlanProblem,
    row: Sequence[int],
    total: float,
    most: Mapping[int, float],
    least: Mapping[int, float],
) -> dict[int, float]:
    """An hour's room given to its slots cheapest first, each up to its most."""
    order = sorted(row, key=lambda slot: (problem.prices[slot], slot))
    shares = dict.fromkeys(row, 0.0)
    left = total
    given: list[int] = []
    for slot in order:
        if left <= 0:
            break
        share = min(most[slot], left)
        if share <= 0:
            continue
        shares[slot] = share
        left -= share
        given.append(slot)
    if given and shares[last := given[-1]] < least[last]:
        # Too little for any car's minimum: top it up from the dearer slots
        # before it, each kept at its own minimum at least.
        short = least[last] - shares[last]
        for slot in reversed(given[:-1]):
            spare = min(shares[slot] - least[slot], short)
            if spare > 0:
                shares[slot] -= spare
                shares[last] += spare
                short -= spare
            if short <= 0:
                break
    if left > 0 and order:
        # Nothing can use the rest; it stays in the hour's cheapest slot.
        shares[order[0]] += left
    return shares
