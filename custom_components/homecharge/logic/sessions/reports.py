"""Reading the ledger: totals over a period, filters, groups, export rows.

Energy and cost of a period are counted by slot, so a session across
midnight counts in both days. Sessions marked as demo data count like the
others (the demo shows a history); exports say which they are.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from enum import StrEnum
from typing import Any, Final

from .model import Classification, Session


@dataclass(frozen=True, slots=True)
class Totals:
    """Energy and cost of some slots; cost None where a price is missing."""

    wh: int = 0
    cost: float = 0.0
    complete: bool = True
    sessions: int = 0

    def __add__(self, other: Totals) -> Totals:
        """Both together."""
        return Totals(
            self.wh + other.wh,
            self.cost + other.cost,
            self.complete and other.complete,
            self.sessions + other.sessions,
        )


def slot_totals(
    session: Session, start: datetime | None = None, end: datetime | None = None
) -> Totals:
    """A session's energy and cost in [start, end) (all of it without bounds)."""
    wh, cost, complete = 0, 0.0, True
    for slot, energy in session.slots.items():
        if (start is not None and slot < start) or (end is not None and slot >= end):
            continue
        wh += energy
        price = session.costs.get(slot)
        if price is None or price.per_kwh is None:
            complete = complete and not energy
            continue
        cost += energy / 1000 * price.per_kwh
    return Totals(wh, cost, complete, 1 if wh or start is None else 0)


def period_totals(
    sessions: Iterable[Session], start: datetime, end: datetime
) -> Totals:
    """Every session's slots in [start, end), added up."""
    total = Totals()
    for session in sessions:
        if session.started >= end or (
            session.stopped is not None and session.stopped < start
        ):
            continue
        total += slot_totals(session, start, end)
    return total


class GroupBy(StrEnum):
    """How a report groups its sessions."""

    DAY = "day"
    WEEK = "week"
    MONTH = "month"
    CHARGER = "charger"
    PERSON = "person"


@dataclass(frozen=True, slots=True)
class Outlet:
    """A charger by its charge point id, or one connector of it."""

    charger: str
    # None: every connector of the charger.
    connector: int | None = None

    def holds(self, session: Session) -> bool:
        """Whether the session was charged here."""
        return session.charger == self.charger and (
            self.connector is None or session.connector == self.connector
        )


def at_outlets(session: Session, outlets: Iterable[Outlet] | None) -> bool:
    """Whether the session was charged at one of ``outlets`` (None: anywhere)."""
    return outlets is None or any(outlet.holds(session) for outlet in outlets)


@dataclass(frozen=True, kw_only=True, slots=True)
class SessionFilter:
    """Which sessions a report takes (None: any)."""

    start: datetime | None = None
    end: datetime | None = None
    chargers: frozenset[Outlet] | None = None
    id_tags: frozenset[str] | None = None
    # People by name, as the sessions keep them.
    people: frozenset[str] | None = None
    classification: Classification | None = None

    def matches(self, session: Session) -> bool:
        """The session started in the period and fits every other field."""
        return (
            (self.start is None or session.started >= self.start)
            and (self.end is None or session.started < self.end)
            and at_outlets(session, self.chargers)
            and (self.id_tags is None or session.id_tag in self.id_tags)
            and (self.people is None or session.person in self.people)
            and (
                self.classification is None
                or session.classification is self.classification
            )
        )


def group_key(session: Session, by: GroupBy, zone: tzinfo) -> str:
    """The group a session falls in (by its start, in local time)."""
    local = session.started.astimezone(zone)
    if by is GroupBy.DAY:
        return local.date().isoformat()
    if by is GroupBy.WEEK:
        year, week, _ = local.isocalendar()
        return f"{year}-W{week:02d}"
    if by is GroupBy.MONTH:
        return local.strftime("%Y-%m")
    if by is GroupBy.CHARGER:
        return session.charger
    # Whose card: the person, else the card itself (nobody's, or before people).
    return session.person or session.id_tag or ""


def grouped(
    sessions: Sequence[Session], by: GroupBy, zone: tzinfo
) -> dict[str, Totals]:
    """Totals per group, groups in order."""
    groups: dict[str, Totals] = {}
    for session in sessions:
        key = group_key(session, by, zone)
        groups[key] = groups.get(key, Totals()) + slot_totals(session)
    return dict(sorted(groups.items()))


# The export's columns, in order (README: "Export columns").
COLUMNS: Final = (
    "charger",
    "connector",
    "transaction_id",
    "id_tag",
    "person",
    "vehicle",
    "started",
    "stopped",
    "duration_min",
    "meter_start_kwh",
    "meter_stop_kwh",
    "energy_kwh",
    "cost",
    "cost_complete",
    "average_price",
    "spot_energy_cost",
    "grid_cost",
    "stop_reason",
    "classification",
    "note",
    "odometer_start_km",
    "odometer_stop_km",
    "flags",
    "demo",
    "seal",
)


def row(session: Session, zone: tzinfo) -> dict[str, Any]:
    """A session as one export row (times local, ISO 8601 with offset)."""
    totals = slot_totals(session)
    energy_part = grid_part = 0.0
    for slot, wh in session.slots.items():
        if (price := session.costs.get(slot)) is not None:
            energy_part += wh / 1000 * (price.energy or 0.0)
            grid_part += wh / 1000 * price.grid
    kwh = totals.wh / 1000
    duration = (session.stopped - session.started) if session.stopped else None
    return {
        "charger": session.charger,
        "connector": session.connector,
        "transaction_id": session.transaction_id,
        "id_tag": session.id_tag,
        "person": session.person,
        "vehicle": session.vehicle,
        "started": session.started.astimezone(zone).isoformat(),
        "stopped": session.stopped.astimezone(zone).isoformat()
        if session.stopped
        else None,
        "duration_min": round(duration / timedelta(minutes=1), 1)
        if duration is not None
        else None,
        "meter_start_kwh": _kwh(session.meter_start_wh),
        "meter_stop_kwh": _kwh(session.meter_stop_wh),
        "energy_kwh": round(kwh, 3),
        "cost": round(totals.cost, 4),
        "cost_complete": totals.complete,
        "average_price": round(totals.cost / kwh, 4) if kwh else None,
        "spot_energy_cost": round(energy_part, 4),
        "grid_cost": round(grid_part, 4),
        "stop_reason": session.stop_reason,
        "classification": session.classification.value,
        "note": session.note,
        "odometer_start_km": session.odometer_start_km,
        "odometer_stop_km": session.odometer_stop_km,
        "flags": " ".join(sorted(flag.value for flag in session.flags)),
        "demo": session.demo,
        "seal": session.seal_hash,
    }


def _kwh(wh: int | None) -> float | None:
    return None if wh is None else wh / 1000
