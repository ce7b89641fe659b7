"""
Why a car charges at the current it does: the one reason a dashboard shows.

Pure. Of every limit on a charger (its sources, its circuit fuse, the
balancer's bound, availability, the car itself), the one that holds the car
now. The car itself comes first: a car drawing well under what it is offered
is held by itself, whatever else limits it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from .allocation import Bound
from .limits import LimitSource, effective_limit

# A car drawing this much under its offer is held by itself.
CAR_SLACK_A: Final = 1.0


class LimitedBy(StrEnum):
    """What holds a plugged-in car's current (a translated enum)."""

    NO_CAR = "no_car"
    MAIN_FUSE = "main_fuse"
    CAPACITY_STEP = "capacity_step"
    # Waiting for a cheaper slot.
    PLAN = "plan"
    # Charging at what the plan gives this slot (shared with the other cars).
    PLANNED_POWER = "planned_power"
    CIRCUIT_FUSE = "circuit_fuse"
    MAX_CURRENT = "max_current"
    # The set_current_limit action.
    USER_LIMIT = "user_limit"
    OPENING_HOURS = "opening_hours"
    # The meter went silent: the safe current.
    FAIL_SAFE = "fail_safe"
    # Disabled, or the session stopped from Home Assistant or the charger.
    PAUSED_BY_USER = "paused_by_user"
    CAR = "car"


@dataclass(frozen=True, kw_only=True, slots=True)
class ChargerLimits:
    """What is known of one charger's limits now."""

    plugged_in: bool
    enabled: bool = True
    open_now: bool = True
    stopped_by_user: bool = False
    circuit_fuse: float
    limits: Mapping[LimitSource, float]
    # What holds the balancer's share (None without balancing).
    bound: Bound | None = None
    failsafe: bool = False
    # The balancer's power cap is the plan's slot power (else the step's).
    guard_by_plan: bool = False
    charging: bool = False
    offered_a: float | None = None
    drawn_a: float | None = None


_BY_SOURCE: Final = {
    LimitSource.ACTION: LimitedBy.USER_LIMIT,
    LimitSource.PLANNER: LimitedBy.PLAN,
    LimitSource.USER: LimitedBy.MAX_CURRENT,
}
# Ties go to the source a user can act on first.
_ORDER: Final = (
    LimitSource.ACTION,
    LimitSource.PLANNER,
    LimitSource.BALANCER,
    LimitSource.USER,
)


def limited_by(state: ChargerLimits) -> LimitedBy:
    """The one limit that holds the car now."""
    if not state.plugged_in:
        return LimitedBy.NO_CAR
    if not state.enabled or state.stopped_by_user:
        return LimitedBy.PAUSED_BY_USER
    if not state.open_now:
        return LimitedBy.OPENING_HOURS
    if (
        state.charging
        and state.offered_a
        and state.drawn_a is not None
        and state.drawn_a < state.offered_a - CAR_SLACK_A
    ):
        return LimitedBy.CAR
    effective = effective_limit(state.circuit_fuse, state.limits)
    holding = [
        source
        for source in _ORDER
        if (amps := state.limits.get(source)) is not None
        and effective_limit(state.circuit_fuse, {source: amps}) <= effective
    ]
    for source in holding:
        if source is LimitSource.PLANNER and effective > 0:
            return LimitedBy.PLANNED_POWER
        if source is not LimitSource.BALANCER:
            return _BY_SOURCE[source]
        if (reason := _balancer_reason(state)) is not None:
            return reason
        if holding[-1] is LimitSource.BALANCER:
            # Its share is its own maximum, yet nothing else is as low: a cut
            # it holds until the room has lasted (the fuse's).
            return LimitedBy.MAIN_FUSE
    return LimitedBy.CIRCUIT_FUSE


def _balancer_reason(state: ChargerLimits) -> LimitedBy | None:
    """The balancer's bound in words; None when it gave all it could."""
    if state.failsafe:
        return LimitedBy.FAIL_SAFE
    if state.bound is Bound.MAIN_FUSE:
        return LimitedBy.MAIN_FUSE
    if state.bound is Bound.CIRCUIT:
        return LimitedBy.CIRCUIT_FUSE
    if state.bound is Bound.CAPACITY:
        if state.guard_by_plan:
            return LimitedBy.PLANNED_POWER
        return LimitedBy.CAPACITY_STEP
    return None
