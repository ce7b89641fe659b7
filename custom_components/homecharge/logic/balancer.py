"""
Load balancing: how many amps each charger at a place may draw right now.

Pure logic, fed one meter reading at a time. Three decisions:

- ``headroom``: per phase, what the chargers may use together: the main fuse
  minus everything else the house draws (measured minus our chargers' own
  draw), minus a safety margin.
- ``share`` (allocation.py): a max-min fair share of that headroom, within
  shared circuits and the capacity guard's power, 6 A or nothing each.
- ``follow``: cut at once, raise only after the target has stayed higher for a
  while (the lowest target seen in that window is what is granted) and never
  more often than a charger's vendor tolerates.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Final

from .allocation import Bound, ChargerLoad, PhaseAmps, share
from .grid import IEC_MIN_AMPS, LINES as PHASES, house_load
from .limits import round_down_amps

# A car drawing within this of its offer is held by the offer (it follows it).
FOLLOWS_OFFER_A: Final = 1.0


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


@dataclass(frozen=True, kw_only=True, slots=True)
class Track:
    """What the balancer gave a charger, and a raise it is waiting to give."""

    amps: float
    raise_since: datetime | None = None
    # The lowest target seen since raise_since: what stayed available.
    raise_to: float = 0.0
    raised_at: datetime | None = None
    # Another limit held the charger off (the plan's waiting slot, a user's
    # pause): released, it gets its share at once, not after raise_after.
    held: bool = False


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


@dataclass(frozen=True, kw_only=True, slots=True)
class Decision:
    """One reading's decision."""

    tracks: dict[str, Track]
    # What each charger would get now, and what holds it there.
    targets: dict[str, float]
    bounds: dict[str, Bound]
    changes: list[Change]


def balance(
    tracks: Mapping[str, Track],
    measured: Sequence[float | None],
    chargers: Sequence[ChargerLoad],
    now: datetime,
    settings: BalancerSettings,
    power_kw: float | None = None,
) -> Decision:
    """
    One reading's decision: new tracks, the targets behind them, and changes.

    ``power_kw``: what the chargers may draw together (the capacity guard).
    Chargers no longer present are dropped from the tracks.
    """
    room = headroom(settings.main_fuse, measured, chargers, settings.margin)
    shares = share(room, chargers, power_kw)
    targets = shares.amps
    new_tracks: dict[str, Track] = {}
    changes: list[Change] = []
    for charger in chargers:
        old = tracks.get(charger.charger_id)
        new = follow(
            None if old is not None and old.held else old,
            targets[charger.charger_id],
            now,
            settings,
        )
        new = replace(new, held=charger.max_amps < IEC_MIN_AMPS)
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
    return Decision(
        tracks=new_tracks, targets=targets, bounds=shares.bounds, changes=changes
    )


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
