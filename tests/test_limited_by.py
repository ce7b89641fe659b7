"""Why a car charges at the current it does: one reason, from every limit."""

from __future__ import annotations

from typing import Any

import pytest

from custom_components.homecharge.logic.allocation import Bound
from custom_components.homecharge.logic.limited_by import (
    ChargerLimits,
    LimitedBy,
    limited_by,
)
from custom_components.homecharge.logic.limits import LimitSource

USER, ACTION = LimitSource.USER, LimitSource.ACTION
BALANCER, PLANNER = LimitSource.BALANCER, LimitSource.PLANNER


def state(**values: Any) -> ChargerLimits:
    """A plugged-in, charging car on a 32 A circuit, unless told otherwise."""
    base: dict[str, Any] = {
        "plugged_in": True,
        "circuit_fuse": 32.0,
        "limits": {},
        "charging": True,
        "offered_a": None,
        "drawn_a": None,
    }
    return ChargerLimits(**(base | values))


@pytest.mark.parametrize(
    ("values", "reason"),
    [
        ({"plugged_in": False}, LimitedBy.NO_CAR),
        ({}, LimitedBy.CIRCUIT_FUSE),
        ({"enabled": False, "open_now": False}, LimitedBy.PAUSED_BY_USER),
        ({"stopped_by_user": True}, LimitedBy.PAUSED_BY_USER),
        ({"open_now": False}, LimitedBy.OPENING_HOURS),
        ({"limits": {USER: 16.0}}, LimitedBy.MAX_CURRENT),
        ({"limits": {USER: 16.0, ACTION: 10.0}}, LimitedBy.USER_LIMIT),
        ({"limits": {PLANNER: 0.0, USER: 16.0}}, LimitedBy.PLAN),
        # Charging at its planned current (no meter): the plan's power.
        ({"limits": {PLANNER: 10.0, USER: 16.0}}, LimitedBy.PLANNED_POWER),
        # Ties go to what a user can act on: the action before the maximum.
        ({"limits": {USER: 16.0, ACTION: 16.0}}, LimitedBy.USER_LIMIT),
        (
            {"limits": {BALANCER: 10.0, USER: 16.0}, "bound": Bound.MAIN_FUSE},
            LimitedBy.MAIN_FUSE,
        ),
        (
            {"limits": {BALANCER: 16.0}, "bound": Bound.CIRCUIT},
            LimitedBy.CIRCUIT_FUSE,
        ),
        (
            {"limits": {BALANCER: 8.0}, "bound": Bound.CAPACITY},
            LimitedBy.CAPACITY_STEP,
        ),
        (
            {"limits": {BALANCER: 8.0}, "bound": Bound.CAPACITY, "guard_by_plan": True},
            LimitedBy.PLANNED_POWER,
        ),
        (
            {"limits": {BALANCER: 6.0}, "bound": Bound.OWN, "failsafe": True},
            LimitedBy.FAIL_SAFE,
        ),
        # The balancer gave its all: the maximum holds the car.
        (
            {"limits": {BALANCER: 16.0, USER: 16.0}, "bound": Bound.OWN},
            LimitedBy.MAX_CURRENT,
        ),
        # A cut still held after the room came back: the fuse's doing.
        (
            {"limits": {BALANCER: 10.0, USER: 16.0}, "bound": Bound.OWN},
            LimitedBy.MAIN_FUSE,
        ),
        # The car draws 9 A of 16 offered: the car itself.
        (
            {"limits": {USER: 16.0}, "offered_a": 16.0, "drawn_a": 9.0},
            LimitedBy.CAR,
        ),
        # Within 1 A of the offer: it follows the offer.
        (
            {"limits": {USER: 16.0}, "offered_a": 16.0, "drawn_a": 15.5},
            LimitedBy.MAX_CURRENT,
        ),
        # Not charging (a paused session): not the car's doing.
        (
            {"limits": {PLANNER: 0.0}, "charging": False, "offered_a": 0.0},
            LimitedBy.PLAN,
        ),
    ],
)
def test_limited_by(values: dict[str, Any], reason: LimitedBy) -> None:
    """Each case names the one limit that holds the car."""
    assert limited_by(state(**values)) is reason
