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
    """Amps the group may draw per slot: lines, capacity step and price cap."""
    capacity = []
    kw_per_amp = group.kwh_per_amp * SLOTS_PER_HOUR
    for slot in range(len(problem.prices)):
        amps = min(headroom[slot][line] for line in group.lines)
        if spare_kw is not None:
            amps = min(amps, math.floor(spare_kw[slot] / kw_per_amp + ROUNDING_NOISE))
        if problem.price_cap is not None and problem.prices[slot] > problem.price_cap:
            amps = 0
        capacity.append(max(amps, 0))
    return capacity


def power_under_step(problem: PlanProblem, option: StepOption) -> list[float] | None:
    """Per slot, the power under the step's cap (none where the house is over it)."""
    if (max_kw := option.max_kw) is None:
        return None
    room = []
    for slot, house in enumerate(problem.house_kw):
        cap = problem.cap_kw(option, slot) or max_kw
        room.append(cap - house if house <= cap else 0.0)
    return room


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
    return GroupProblem(
        prices=problem.prices,
        room=capacity,
        need=[car.need_amps for car in group.cars],
        min_a=[car.min_a for car in group.cars],
        caps=caps,
    )


def deduct_group_use(
    group: Group,
    amps: Sequence[Sequence[int]],
    headroom: list[list[int]],
    spare_kw: list[float] | None,
) -> None:
    """
    Take the group's amps off its lines and the power under the step.

    What is left is what the next group may use.
    """
    kw_per_amp = group.kwh_per_amp * SLOTS_PER_HOUR
    for slot, total in enumerate(map(sum, zip(*amps, strict=True))):
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
            group, [currents[car.key] for car in group.cars], headroom, spare_kw
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
    for car in problem.cars:
        row = currents[car.key]
        delivered[car.key] = sum(row) * car.kwh_per_amp
        energy_cost += car.kwh_per_amp * math.fsum(
            price * current
            for price, current in zip(problem.prices, row, strict=True)
            if current
        )
    steps = problem.amp_steps
    return Plan(
        currents={
            key: tuple(current / steps for current in row)
            for key, row in currents.items()
        },
        delivered_kwh=delivered,
        energy_cost=energy_cost,
        step=step_index,
        step_cost=option.extra_cost,
        exact=exact,
    )


def whole_plan_value(plan: Plan) -> tuple[int, float]:
    """Delivered energy (in µWh, to compare whole steps of any group), then cost."""
    return (-round(math.fsum(plan.delivered_kwh.values()) * 1e6), plan.cost)
