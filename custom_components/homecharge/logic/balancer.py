"""
Load balancing: how many amps each charger at a place may draw right now.

Pure logic, fed one meter reading at a time. Three decisions:

- ``headroom``: per phase, what the chargers may use together: the main fuse
  minus everything else the house draws (measured minus our chargers' own
  draw), minus a safety margin.
- ``allocate``: a max-min fair share of that headroom (progressive filling,
  "water-filling" across phases): every active charger gets at least the IEC
  minimum of 6 A or nothing, never more than its circuit fuse or maximum, and a
  1-phase charger loads only its own phase(s); the connectors of one
  charger stay within its circuit fuse together. When there is not enough for 6 A
  each, the lowest-priority charger (the latest to plug in among equals) is
  paused rather than letting everyone flap around the minimum.
- ``follow``: cut at once, raise only after the target has stayed higher for a
  while (the lowest target seen in that window is what is granted) and never
  more often than a charger's vendor tolerates.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import IntEnum, StrEnum
import math
from typing import Final

from .grid import IEC_MIN_AMPS, LINES as PHASES, house_load
from .limits import round_down_amps

# A car drawing within this of its offer is held by the offer (it follows it).
FOLLOWS_OFFER_A: Final = 1.0
# Shares below this are float noise, not current.
_EPSILON: Final = 1e-9

type PhaseAmps = tuple[float, float, float]


class Priority(IntEnum):
    """Who keeps charging when there is not enough for everyone."""

    LOW = 0
    NORMAL = 1
    HIGH = 2


class Reason(StrEnum):
    """Why the balancer changed a charger's limit (event and diagnostics)."""

    OVERLOAD = "overload"
    PAUSED = "paused"
    RAISED = "raised"
    METER_OFFLINE = "meter_offline"


@dataclass(frozen=True, kw_only=True, slots=True)
class BalancerSettings:
    """A place's load-balancing settings."""

    main_fuse: float
    margin: float = 1.0
    raise_after: timedelta = timedelta(seconds=60)
    raise_interval: timedelta = timedelta(seconds=10)
    safe_current: float = IEC_MIN_AMPS


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


def own_total(chargers: Iterable[ChargerLoad]) -> PhaseAmps:
    """What our chargers draw together on each phase."""
    total = [0.0] * PHASES
    for charger in chargers:
        for phase in range(PHASES):
            total[phase] += charger.draw[phase]
    return (total[0], total[1], total[2])


def headroom(
    main_fuse: float,
    measured: Sequence[float | None],
    chargers: Iterable[ChargerLoad],
    margin: float,
) -> PhaseAmps:
    """
    What the chargers may draw together, per phase.

    A phase the meter does not report (a 1-phase grid's L2 and L3) has no
    headroom: nothing may be put on it.
    """
    lines = [*measured[:PHASES], *[None] * (PHASES - len(measured))]
    house = house_load(lines, own_total(chargers))
    room = [
        0.0 if amps is None else max(main_fuse - amps - margin, 0.0) for amps in house
    ]
    return (room[0], room[1], room[2])


type Resource = int | str


def _resources(charger: ChargerLoad) -> tuple[Resource, ...]:
    """What a charger's amps count against: its house phases and its circuit."""
    phases: tuple[Resource, ...] = tuple(sorted(charger.phases))
    return phases if charger.circuit is None else (*phases, charger.circuit)


def _capacity(
    room: PhaseAmps, chargers: Sequence[ChargerLoad]
) -> dict[Resource, float]:
    """Per phase the room; per shared circuit (a charger's connectors) its fuse."""
    capacity: dict[Resource, float] = dict(enumerate(room))
    for charger in chargers:
        if charger.circuit is not None:
            capacity[charger.circuit] = min(
                capacity.get(charger.circuit, charger.circuit_amps),
                charger.circuit_amps,
            )
    return capacity


def _short(
    room: Mapping[Resource, float],
    need: Mapping[Resource, float],
    resources: Iterable[Resource],
) -> set[Resource]:
    """Of ``resources``, those where the minimum for everyone does not fit."""
    return {r for r in resources if need.get(r, 0.0) > room[r] + _EPSILON}


def _choose(
    room: Mapping[Resource, float], chargers: Sequence[ChargerLoad]
) -> list[ChargerLoad]:
    """
    The chargers that get current: pause the lowest-ranked until 6 A fits.

    Pausing a charger only helps on a phase (or shared circuit) that is
    short; one scan in rank order (lowest priority, then latest to plug in,
    first) finds them all.
    """
    chosen = [c for c in chargers if c.max_amps >= IEC_MIN_AMPS]
    need: dict[Resource, float] = dict.fromkeys(room, 0.0)
    for charger in chosen:
        for resource in _resources(charger):
            need[resource] += IEC_MIN_AMPS
    short = _short(room, need, room)
    if not short:
        return chosen
    paused: set[str] = set()
    for charger in sorted(chosen, key=lambda c: (c.priority, -c.since)):
        if not short:
            break
        resources = _resources(charger)
        if short.intersection(resources):
            paused.add(charger.charger_id)
            for resource in resources:
                need[resource] -= IEC_MIN_AMPS
            short = _short(room, need, short)
    return [c for c in chosen if c.charger_id not in paused]


def _fill(
    room: Mapping[Resource, float], chargers: Sequence[ChargerLoad]
) -> dict[str, float]:
    """Progressive filling from the minimum up: the max-min fair share."""
    amps = dict.fromkeys((c.charger_id for c in chargers), IEC_MIN_AMPS)
    left = dict(room)
    for charger in chargers:
        for resource in _resources(charger):
            left[resource] -= IEC_MIN_AMPS
    rising = [
        (c.charger_id, _resources(c), c.max_amps)
        for c in chargers
        if c.max_amps > IEC_MIN_AMPS + _EPSILON
    ]
    while rising:
        users = dict.fromkeys(left, 0)
        step = float("inf")
        for charger_id, resources, max_amps in rising:
            step = min(step, max_amps - amps[charger_id])
            for resource in resources:
                users[resource] += 1
        for resource, count in users.items():
            if count:
                step = min(step, max(left[resource], 0.0) / count)
        for resource, count in users.items():
            left[resource] -= step * count
        full = {r for r, count in users.items() if count and left[r] <= _EPSILON}
        still = []
        for entry in rising:
            charger_id, resources, max_amps = entry
            amps[charger_id] += step
            if max_amps - amps[charger_id] > _EPSILON and not full.intersection(
                resources
            ):
                still.append(entry)
        rising = still
    return amps


def allocate(room: PhaseAmps, chargers: Sequence[ChargerLoad]) -> dict[str, float]:
    """
    Amps per charger: 0 or between 6 A and its maximum, within ``room``.

    Active chargers share the room fairly; an idle charger gets a 6 A
    standby where what is left allows, so a car that plugs in starts gently
    and gets its share with the next reading. Connectors of one charger
    share its circuit: together they stay within its fuse.
    """
    capacity = _capacity(room, chargers)
    active = [c for c in chargers if c.active]
    amps = _fill(capacity, _choose(capacity, active))
    left = dict(capacity)
    for charger in active:
        for resource in _resources(charger):
            left[resource] -= amps.get(charger.charger_id, 0.0)
    for charger in chargers:
        if charger.active:
            continue
        standby = min(charger.max_amps, IEC_MIN_AMPS)
        resources = _resources(charger)
        if standby >= IEC_MIN_AMPS and all(
            left[resource] + _EPSILON >= standby for resource in resources
        ):
            amps[charger.charger_id] = standby
            for resource in resources:
                left[resource] -= standby
    # The share is decided in the 0.1 A steps a charger is told (never above
    # what was allocated): a change smaller than that is no change, which
    # keeps limits and events from following the meter's noise.
    return {
        c.charger_id: round_down_amps(amps.get(c.charger_id, 0.0)) for c in chargers
    }


@dataclass(frozen=True, kw_only=True, slots=True)
class Track:
    """What the balancer gave a charger, and a raise it is waiting to give."""

    amps: float
    raise_since: datetime | None = None
    # The lowest target seen since raise_since: what stayed available.
    raise_to: float = 0.0
    raised_at: datetime | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class Change:
    """A limit the balancer changed, for the event and the log."""

    charger_id: str
    from_amps: float | None
    to_amps: float
    reason: Reason


def follow(
    track: Track | None, target: float, now: datetime, settings: BalancerSettings
) -> Track:
    """
    Move a charger's limit towards its target: down at once, up when stable.

    A raise waits until the target has stayed above the limit for
    ``raise_after`` and at least ``raise_interval`` has passed since the last
    raise; it then grants the lowest target seen while waiting. The first
    decision (no track yet, e.g. after a restart) is taken as it is.
    """
    if track is None:
        return Track(amps=target)
    if target <= track.amps:
        return Track(amps=target, raised_at=track.raised_at)
    since = track.raise_since or now
    track = replace(
        track,
        raise_since=since,
        raise_to=target if track.raise_since is None else min(track.raise_to, target),
    )
    if now - since < settings.raise_after or (
        track.raised_at is not None and now - track.raised_at < settings.raise_interval
    ):
        return track
    return Track(amps=track.raise_to, raised_at=now)


def balance(
    tracks: Mapping[str, Track],
    measured: Sequence[float | None],
    chargers: Sequence[ChargerLoad],
    now: datetime,
    settings: BalancerSettings,
) -> tuple[dict[str, Track], dict[str, float], list[Change]]:
    """
    One reading's decision: new tracks, the targets behind them, and changes.

    Chargers no longer present are dropped from the tracks.
    """
    room = headroom(settings.main_fuse, measured, chargers, settings.margin)
    targets = allocate(room, chargers)
    new_tracks: dict[str, Track] = {}
    changes: list[Change] = []
    for charger in chargers:
        old = tracks.get(charger.charger_id)
        new = follow(old, targets[charger.charger_id], now, settings)
        new_tracks[charger.charger_id] = new
        before = None if old is None else old.amps
        if before != new.amps:
            changes.append(
                Change(
                    charger_id=charger.charger_id,
                    from_amps=before,
                    to_amps=new.amps,
                    reason=_reason(before, new.amps),
                )
            )
    return new_tracks, targets, changes


def overloaded_lines(
    measured: Sequence[float | None], main_fuse: float
) -> dict[int, float]:
    """The lines (0–2) the meter measures above the main fuse, with their amps."""
    return {
        line: amps
        for line, amps in enumerate(measured[:PHASES])
        if amps is not None and amps > main_fuse
    }


def _reason(before: float | None, after: float) -> Reason:
    if after == 0:
        return Reason.PAUSED
    if before is not None and after < before:
        return Reason.OVERLOAD
    return Reason.RAISED


def fail_safe(
    tracks: Mapping[str, Track], charger_ids: Iterable[str], safe_current: float
) -> tuple[dict[str, Track], list[Change]]:
    """
    The meter went silent: every charger down to the safe current.

    Never up: a charger paused for an overload stays paused, since the
    silence says nothing about the overload having passed.
    """
    safe = round_down_amps(safe_current)
    new_tracks: dict[str, Track] = {}
    changes: list[Change] = []
    for charger_id in charger_ids:
        old = tracks.get(charger_id)
        amps = safe if old is None else min(old.amps, safe)
        new_tracks[charger_id] = Track(amps=amps)
        if old is None or amps != old.amps:
            changes.append(
                Change(
                    charger_id=charger_id,
                    from_amps=None if old is None else old.amps,
                    to_amps=amps,
                    reason=Reason.METER_OFFLINE,
                )
            )
    return new_tracks, changes


def own_draw(
    phases: frozenset[int],
    reported: Sequence[float | None],
    offered: float | None,
    *,
    charging: bool,
    previous_offer: float | None = None,
    stale: bool = False,
) -> PhaseAmps:
    """
    What a charger draws on each house phase, as part of the meter's reading.

    Its own report, never more than it is offered. A report older than the
    last limit change (``stale``) says what the car drew before: a car that
    was using its whole previous offer follows the new one, up or down; one
    that took less (the car's own limit) keeps taking that. Without a report,
    a charging charger is taken at its offer.
    """
    if not charging:
        return (0.0, 0.0, 0.0)
    known = [abs(a) for a in reported if a is not None]
    amps = max(known) if known else (offered or 0.0)
    if (
        stale
        and offered is not None
        and (previous_offer is None or amps >= previous_offer - FOLLOWS_OFFER_A)
    ):
        amps = offered
    if offered is not None:
        amps = min(amps, offered)
    return (
        amps if 0 in phases else 0.0,
        amps if 1 in phases else 0.0,
        amps if 2 in phases else 0.0,
    )
