"""Sessions as hourly energy and cost: what long-term statistics are made of.

Each series (a connector, or the whole place) gets one row per clock hour
(UTC hours: the local ones wherever the offset is whole hours) with the
hour's kWh and cost and the running sums since the first session. Rows are
written for the hours with energy, and for every hour from ``dense_from``
on, so that rewriting a stretch after a late change leaves no stale row in it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from .model import Session

HOUR = timedelta(hours=1)

# A series: a connector (charge point id, connector), or None for the place.
type Series = tuple[str, int] | None


@dataclass(frozen=True, slots=True)
class HourRow:
    """One hour of one series: its energy and cost, and the sums through it."""

    start: datetime
    kwh: float
    cost: float
    kwh_sum: float
    cost_sum: float


def hour_of(moment: datetime) -> datetime:
    """The start of the clock hour a moment is in."""
    return moment.replace(minute=0, second=0, microsecond=0)


def hourly(
    sessions: Iterable[Session], until: datetime
) -> dict[Series, dict[datetime, tuple[float, float]]]:
    """Energy (kWh) and cost by hour before ``until``, per series."""
    series: dict[Series, dict[datetime, tuple[float, float]]] = {}
    for session in sessions:
        keys: tuple[Series, Series] = ((session.charger, session.connector), None)
        for slot, wh in session.slots.items():
            if not wh or slot >= until:
                continue
            price = session.costs.get(slot)
            cost = wh / 1000 * (price.per_kwh or 0.0) if price else 0.0
            hour = hour_of(slot)
            for key in keys:
                hours = series.setdefault(key, {})
                kwh, money = hours.get(hour, (0.0, 0.0))
                hours[hour] = (kwh + wh / 1000, money + cost)
    return series


def merge(
    into: dict[Series, dict[datetime, tuple[float, float]]],
    more: dict[Series, dict[datetime, tuple[float, float]]],
) -> None:
    """Add one set of hourly figures to another."""
    for series, hours in more.items():
        target = into.setdefault(series, {})
        for start, (kwh, cost) in hours.items():
            had_kwh, had_cost = target.get(start, (0.0, 0.0))
            target[start] = (had_kwh + kwh, had_cost + cost)


def rows(
    hours: dict[datetime, tuple[float, float]],
    *,
    base: tuple[float, float] = (0.0, 0.0),
    dense_from: datetime | None = None,
    until: datetime,
) -> Iterator[HourRow]:
    """The rows of one series, sums running on from ``base`` (made as read)."""
    starts = set(hours)
    if dense_from is not None:
        moment = hour_of(dense_from)
        while moment < until:
            starts.add(moment)
            moment += HOUR
    kwh_sum, cost_sum = base
    for start in sorted(starts):
        if start >= until:
            continue
        kwh, cost = hours.get(start, (0.0, 0.0))
        kwh_sum += kwh
        cost_sum += cost
        yield HourRow(start, kwh, cost, kwh_sum, cost_sum)
