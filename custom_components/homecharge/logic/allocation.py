"""
Fair shares: how the room the balancer found is shared among the chargers.

Pure logic. Each charger draws on *resources*: the house phases it loads
(1 A per amp), the circuit it shares with the other connectors of its charger
(1 A per amp) and, under the capacity guard, the place's charging power
(kW per amp). A max-min fair share by progressive filling ("water-filling"):
every active charger gets at least the IEC minimum of 6 A or nothing, never
more than its own maximum, and rises with the others until a resource it
uses is full. When there is not enough for 6 A each, the lowest-priority
charger (the latest to plug in among equals) is paused rather than letting
everyone flap around the minimum. What stopped each charger is its *bound*:
the entities say it as "limited by".
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import IntEnum, StrEnum
import math
from typing import Final

from .grid import IEC_MIN_AMPS
from .limits import round_down_amps

# Shares below this are float noise, not current.
_EPSILON: Final = 1e-9
# The resource of the capacity guard: kW the chargers may draw together.
POWER: Final = "power"

type PhaseAmps = tuple[float, float, float]
# A house phase (0–2), a shared circuit's name, or POWER.
type Resource = int | str


class Priority(IntEnum):
    """Who keeps charging when there is not enough for everyone."""

    LOW = 0
    NORMAL = 1
    HIGH = 2


def priority_of(value: object, default: Priority) -> Priority:
    """A stored priority ("low", "normal", "high"); the default if unset or unknown."""
    try:
        return Priority[str(value).upper()]
    except KeyError:
        return default


class Bound(StrEnum):
    """What holds a charger's share where it is."""

    # A house phase under the main fuse.
    MAIN_FUSE = "main_fuse"
    # The circuit the charger's connectors share.
    CIRCUIT = "circuit"
    # The capacity guard: the hour's energy under the plan's step.
    CAPACITY = "capacity"
    # Its own maximum: what the other limit sources leave it.
    OWN = "own"
    # No car: a standby at most.
    IDLE = "idle"


@dataclass(frozen=True, kw_only=True, slots=True)
class ChargerLoad:
    """One charger as the balancer sees it."""

    charger_id: str
    # House phases (0–2) the charger loads: all three, one (TN), or the two
    # lines a 1-phase charger sits between on an IT grid.
    phases: frozenset[int]
    max_amps: float
    # What it draws now on each house phase: part of the measured current.
    draw: PhaseAmps = (0.0, 0.0, 0.0)
    # A car is connected and may charge; idle chargers only get a standby.
    active: bool = True
    priority: Priority = Priority.NORMAL
    # When its car plugged in (seconds, any epoch); later ones yield first.
    since: float = 0.0
    # The connectors of one charger share its supply circuit: its name, and
    # the fuse they stay within together.
    circuit: str | None = None
    circuit_amps: float = math.inf
    # kW per amp it draws (the capacity guard counts power, not amps).
    kw_per_amp: float = 0.0


@dataclass(frozen=True, kw_only=True, slots=True)
class Shares:
    """Amps per charger, and what holds each one there."""

    amps: dict[str, float]
    bounds: dict[str, Bound]


def _bound(resource: Resource) -> Bound:
    if resource == POWER:
        return Bound.CAPACITY
    return Bound.MAIN_FUSE if isinstance(resource, int) else Bound.CIRCUIT


def _weights(charger: ChargerLoad, capped: bool) -> dict[Resource, float]:
    """What one amp of a charger takes of each resource it draws on."""
    weights: dict[Resource, float] = dict.fromkeys(sorted(charger.phases), 1.0)
    if charger.circuit is not None:
        weights[charger.circuit] = 1.0
    if capped and charger.kw_per_amp > 0:
        weights[POWER] = charger.kw_per_amp
    return weights


def _capacity(
    room: PhaseAmps, chargers: Sequence[ChargerLoad], power_kw: float | None
) -> dict[Resource, float]:
    """Per phase the room; per shared circuit its fuse; the power cap."""
    capacity: dict[Resource, float] = dict(enumerate(room))
    for charger in chargers:
        if charger.circuit is not None:
            capacity[charger.circuit] = min(
                capacity.get(charger.circuit, charger.circuit_amps),
                charger.circuit_amps,
            )
    if power_kw is not None:
        capacity[POWER] = max(power_kw, 0.0)
    return capacity


def _short(
    room: Mapping[Resource, float],
    need: Mapping[Resource, float],
    resources: Iterable[Resource],
) -> set[Resource]:
    """Of ``resources``, those where the minimum for everyone does not fit."""
    return {r for r in resources if need.get(r, 0.0) > room[r] + _EPSILON}


def _choose(
    room: Mapping[Resource, float],
    chargers: Sequence[ChargerLoad],
    weights: Mapping[str, Mapping[Resource, float]],
    bounds: dict[str, Bound],
) -> list[ChargerLoad]:
    """
    The chargers that get current: pause the lowest-ranked until 6 A fits.

    Pausing a charger only helps on a resource that is short; one scan in
    rank order (lowest priority, then latest to plug in, first) finds them.
    """
    chosen = []
    for charger in chargers:
        if charger.max_amps >= IEC_MIN_AMPS:
            chosen.append(charger)
        else:
            bounds[charger.charger_id] = Bound.OWN
    need: dict[Resource, float] = dict.fromkeys(room, 0.0)
    for charger in chosen:
        for resource, weight in weights[charger.charger_id].items():
            need[resource] += IEC_MIN_AMPS * weight
    short = _short(room, need, room)
    paused: set[str] = set()
    for charger in sorted(chosen, key=lambda c: (c.priority, -c.since)):
        if not short:
            break
        uses = weights[charger.charger_id]
        if hit := sorted(short.intersection(uses), key=str):
            paused.add(charger.charger_id)
            bounds[charger.charger_id] = _bound(hit[0])
            for resource, weight in uses.items():
                need[resource] -= IEC_MIN_AMPS * weight
            short = _short(room, need, short)
    return [c for c in chosen if c.charger_id not in paused]


def _fill(
    room: Mapping[Resource, float],
    chargers: Sequence[ChargerLoad],
    weights: Mapping[str, Mapping[Resource, float]],
    bounds: dict[str, Bound],
) -> dict[str, float]:
    """Progressive filling from the minimum up: the max-min fair share."""
    amps = dict.fromkeys((c.charger_id for c in chargers), IEC_MIN_AMPS)
    left = dict(room)
    for charger in chargers:
        for resource, weight in weights[charger.charger_id].items():
            left[resource] -= IEC_MIN_AMPS * weight
    rising = []
    for charger in chargers:
        if charger.max_amps > IEC_MIN_AMPS + _EPSILON:
            rising.append(charger)
        else:
            bounds[charger.charger_id] = Bound.OWN
    while rising:
        users = dict.fromkeys(left, 0.0)
        step = math.inf
        for charger in rising:
            step = min(step, charger.max_amps - amps[charger.charger_id])
            for resource, weight in weights[charger.charger_id].items():
                users[resource] += weight
        for resource, weight in users.items():
            if weight:
                step = min(step, max(left[resource], 0.0) / weight)
        for resource, weight in users.items():
            left[resource] -= step * weight
        full = sorted(
            (r for r, weight in users.items() if weight and left[r] <= _EPSILON),
            key=str,
        )
        still = []
        for charger in rising:
            key = charger.charger_id
            amps[key] += step
            if charger.max_amps - amps[key] <= _EPSILON:
                bounds[key] = Bound.OWN
            elif hit := [r for r in full if r in weights[key]]:
                bounds[key] = _bound(hit[0])
            else:
                still.append(charger)
        rising = still
    return amps


def share(
    room: PhaseAmps, chargers: Sequence[ChargerLoad], power_kw: float | None = None
) -> Shares:
    """
    Amps per charger: 0 or between 6 A and its maximum, within ``room``.

    Active chargers share the room fairly; an idle charger gets a 6 A
    standby where what is left allows, so a car that plugs in starts gently
    and gets its share with the next reading. Connectors of one charger stay
    within its circuit fuse together; with ``power_kw`` (the capacity guard)
    all chargers together stay within that many kW.
    """
    capacity = _capacity(room, chargers, power_kw)
    weights = {c.charger_id: _weights(c, power_kw is not None) for c in chargers}
    bounds: dict[str, Bound] = {}
    active = [c for c in chargers if c.active]
    amps = _fill(capacity, _choose(capacity, active, weights, bounds), weights, bounds)
    left = dict(capacity)
    for charger in active:
        for resource, weight in weights[charger.charger_id].items():
            left[resource] -= amps.get(charger.charger_id, 0.0) * weight
    for charger in chargers:
        if charger.active:
            continue
        bounds[charger.charger_id] = Bound.IDLE
        standby = min(charger.max_amps, IEC_MIN_AMPS)
        uses = weights[charger.charger_id]
        if standby >= IEC_MIN_AMPS and all(
            left[resource] + _EPSILON >= standby * weight
            for resource, weight in uses.items()
        ):
            amps[charger.charger_id] = standby
            for resource, weight in uses.items():
                left[resource] -= standby * weight
    # The share is decided in the 0.1 A steps a charger is told (never above
    # what was allocated): a change smaller than that is no change, which
    # keeps limits and events from following the meter's noise.
    return Shares(
        amps={
            c.charger_id: round_down_amps(amps.get(c.charger_id, 0.0)) for c in chargers
        },
        bounds=bounds,
    )


def allocate(
    room: PhaseAmps, chargers: Sequence[ChargerLoad], power_kw: float | None = None
) -> dict[str, float]:
    """Amps per charger (``share`` without the bounds)."""
    return share(room, chargers, power_kw).amps
