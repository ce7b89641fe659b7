"""A place's cars in groups, and what each group may draw and leaves the others.

Cars that load the same lines with the same energy per amp form a *group*:
within one, a slot's cost depends only on its total, which is what
``exact.py`` solves. Here: grouping the cars, the amps a group may draw per
slot (lines, capacity step, price cap), what it leaves the next, and amps
per car made into a ``Plan``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
import math

from ..capacity_tariff import StepOption
from .hours import each_within_hour, share_hours
from .model import ROUNDING_NOISE, SLOTS_PER_HOUR, CarNeed, Plan, PlanProblem
from .relax import GroupProblem


@dataclass(frozen=True, slots=True)
class Group:
    """Cars that compete for the same lines with the same energy per amp."""

    lines: frozenset[int]
    kwh_per_amp: float
    cars: tuple[CarNeed, ...]


def group_cars(cars: Sequence[CarNeed]) -> list[Group]:
    """The cars grouped by lines and energy per amp, the most energy per amp first."""
    grouped: dict[tuple[frozenset[int], float], list[CarNeed]] = {}
    for car in cars:
        grouped.setdefault((car.lines, round(car.kwh_per_amp, 9)), []).append(car)
    groups = [
        Group(lines=lines, kwh_per_amp=members[0].kwh_per_amp, cars=tuple(members))
        for (lines, _), members in grouped.items()
    ]
    # More energy per amp first: it gets the most out of the shared lines.
    groups.sort(key=lambda group: -group.kwh_per_amp * len(group.lines))
    return groups


def group_capacity(
    problem: PlanProblem,
    group: Group,
    headroom: Sequence[Sequence[int]],
    spare_kw: Sequence[float] | None,
) -> list[int]:
    """
    Amps the group may draw per slot: lines, capacity step and price cap.

    Slot 0 of a plan made mid-slot in energy-true steps: the current times
    the share of the slot left (``to_current`` turns them back).
    """
    capacity = []
    kw_per_amp = group.kwh_per_amp * SLOTS_PER_HOUR
    first_share = problem.first_slot_share
    for slot in range(len(problem.prices)):
        amps: float = min(headroom[slot][line] for line in group.lines)
        if spare_kw is not None:  # inf where a day has no cap
            amps = min(amps, spare_kw[slot] / kw_per_amp)
        if problem.price_cap is not None and problem.prices[slot] > problem.price_cap:
            amps = 0
        if slot == 0:
            amps *= first_share
        capacity.append(max(math.floor(amps + ROUNDING_NOISE), 0))
    return capacity


def to_current(problem: PlanProblem, slot: int, steps: int) -> int:
    """A slot's energy-true steps as the current for the rest of the slot."""
    share = problem.slot_share(slot)
    if share == 1:
        return steps
    return math.floor(steps / share + ROUNDING_NOISE)


def power_under_step(
    problem: PlanProblem, option: StepOption, *, relaxed: bool = False
) -> list[float] | None:
    """
    Per slot, the power under the step's cap (none where the house is over it).

    Each slot under the cap and each clock hour under it on average;
    ``relaxed``, for bounds: each slot of an hour may take all of the hour's
    room (``hours.py``).
    """
    slack = step_slack_kw(problem, option)
    if slack is None:
        return None
    if relaxed:
        return share_hours(problem, slack, relaxed=True)
    return each_within_hour(problem, slack)


def step_slack_kw(problem: PlanProblem, option: StepOption) -> list[float] | None:
    """Per slot, the step's cap less the house (inf: no cap; None: no step)."""
    if option.unlimited:
        return None
    slack = []
    for slot, house in enumerate(problem.house_kw):
        cap = problem.cap_kw(option, slot)
        slack.append(math.inf if cap is None else cap - house)
    return slack


def group_problem(
    problem: PlanProblem, group: Group, capacity: Sequence[int]
) -> GroupProblem:
    """
    One group's part of the problem in ``capacity``.

    A car's cap in a slot is 0 where it is under the car's minimum or at or
    after the car's ``ready`` slot.
    """
    caps = []
    for car in group.cars:
        row = []
        for slot, room in enumerate(capacity):
            cap = min(car.max_a, room)
            row.append(cap if slot < car.ready and cap >= car.min_a else 0)
        caps.append(row)
    share = problem.first_slot_share
    first_min: list[int] = []
    if share < 1:
        # Slot 0 in energy-true steps: each car's range for the share left.
        for car, row in zip(group.cars, caps, strict=True):
            least = math.ceil(car.min_a * share - ROUNDING_NOISE)
            first_min.append(least)
            if capacity and car.ready > 0:
                cap = min(math.floor(car.max_a * share + ROUNDING_NOISE), capacity[0])
                row[0] = cap if cap >= least else 0
    return GroupProblem(
        prices=problem.prices,
        room=capacity,
        need=[car.need_amps for car in group.cars],
        min_a=[car.min_a for car in group.cars],
        caps=caps,
        first_min=first_min,
    )


def deduct_group_use(
    problem: PlanProblem,
    group: Group,
    amps: Sequence[Sequence[int]],
    headroom: list[list[int]],
    spare_kw: list[float] | None,
) -> None:
    """
    Take the group's currents off its lines and the power under the step.

    What is left is what the next group may use.
    """
    kw_per_amp = group.kwh_per_amp * SLOTS_PER_HOUR
    totals = list(map(sum, zip(*amps, strict=True)))
    if totals and problem.first_slot_share < 1:
        totals[0] = sum(to_current(problem, 0, row[0]) for row in amps)
    for slot, total in enumerate(totals):
        for line in group.lines:
            headroom[slot][line] -= total
        if spare_kw is not None:
            spare_kw[slot] -= total * kw_per_amp


def room_left_by(
    problem: PlanProblem,
    groups: Sequence[Group],
    step_index: int,
    currents: dict[str, list[int]],
) -> tuple[list[list[int]], list[float] | None]:
    """Headroom per slot and line, and power under the step, that ``groups`` leave."""
    headroom = [list(row) for row in problem.headroom]
    spare_kw = power_under_step(problem, problem.steps[step_index])
    for group in groups:
        deduct_group_use(
            problem,
            group,
            [currents[car.key] for car in group.cars],
            headroom,
            spare_kw,
        )
    return headroom, spare_kw


def assemble_plan(
    problem: PlanProblem,
    currents: dict[str, list[int]],
    step_index: int,
    *,
    exact: bool,
) -> Plan:
    """The ``Plan`` of steps per car under a step option, in amps: energy, cost."""
    option = problem.steps[step_index]
    energy_cost = 0.0
    delivered: dict[str, float] = {}
    share = problem.first_slot_share
    planned = {key: list(row) for key, row in currents.items()}
    if share < 1:
        for row in planned.values():
            if row:
                row[0] = to_current(problem, 0, row[0])
        _fill_first_slot(problem, currents, planned, option)
    for car in problem.cars:
        row = planned[car.key]
        # Slot 0 counts for the share of it left.
        first = (row[0] * (share - 1)) if row else 0
        delivered[car.key] = car.kwh_per_amp * (sum(row) + first)
        energy_cost += car.kwh_per_amp * (
            math.fsum(
                price * current
                for price, current in zip(problem.prices, row, strict=True)
                if current
            )
            + (problem.prices[0] * first if row else 0.0)
        )
    steps = problem.amp_steps
    return Plan(
        currents={
            key: tuple(current / steps for current in row)
            for key, row in planned.items()
        },
        delivered_kwh=delivered,
        energy_cost=energy_cost,
        step=step_index,
        step_cost=option.extra_cost,
        exact=exact,
    )


def _fill_first_slot(
    problem: PlanProblem,
    steps: dict[str, list[int]],
    planned: dict[str, list[int]],
    option: StepOption,
) -> None:
    """
    Slot 0's currents up to the top of their energy-true steps, where room is.

    ``to_current`` rounds down (10.6 steps of two thirds make 15.9 A, not the
    16 A the car could have): each current rises while it stands for the
    same energy-true step, stays within the car's maximum, and its lines and
    the step's power have room for it.
    """
    share = problem.slot_share(0)
    room = list(problem.headroom[0])
    cap = problem.cap_kw(option, 0)
    spare = math.inf if cap is None else cap - problem.house_kw[0]
    cars = [car for car in problem.cars if car.key in planned]
    for car in cars:
        for line in car.lines:
            room[line] -= planned[car.key][0]
        spare -= planned[car.key][0] * car.kwh_per_amp * SLOTS_PER_HOUR
    for car in cars:
        current = planned[car.key][0]
        if not current:
            continue
        # The highest current whose energy is still within the same step.
        top = math.ceil((steps[car.key][0] + 1) / share - ROUNDING_NOISE) - 1
        kw_per_step = car.kwh_per_amp * SLOTS_PER_HOUR
        limits = [top - current, car.max_a - current]
        limits += [room[line] for line in car.lines]
        if not math.isinf(spare):
            limits.append(math.floor(spare / kw_per_step + ROUNDING_NOISE))
        if (lift := min(limits)) > 0:
            planned[car.key][0] += lift
            for line in car.lines:
                room[line] -= lift
            spare -= lift * kw_per_step


def whole_plan_value(plan: Plan) -> tuple[int, float]:
    """Delivered energy (in µWh, to compare whole steps of any group), then cost."""
    return (-round(math.fsum(plan.delivered_kwh.values()) * 1e6), plan.cost)
