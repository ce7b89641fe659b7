"""A session's energy spread over its 15-minute slots.

The register readings make a curve of energy over time (straight lines
between readings: a register difference is split across a slot boundary in
proportion to time). Its value at each slot boundary gives each slot's
share; the shares are then rounded to whole watt-hours so that they sum
exactly to the session's energy (largest remainder: the slots with the
largest fractions get the spare watt-hours, the earlier on a tie).
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable
from datetime import datetime
from itertools import pairwise
import math

from .model import QUARTER, Reading, slot_of


def slot_energies(
    start: Reading, end: Reading, readings: Iterable[Reading]
) -> dict[datetime, int]:
    """Watt-hours per slot from start to end, summing to end.wh − start.wh.

    Readings outside the session or off the curve (below an earlier one,
    above the end) are clamped onto it, never counted twice. A session that
    lost energy (end below start) has one empty slot.
    """
    total = end.wh - start.wh
    first = slot_of(start.at)
    if total <= 0 or end.at <= start.at:
        return {first: max(total, 0)}
    times, values = [start.at.timestamp()], [float(start.wh)]
    for reading in sorted(readings):
        if not start.at < reading.at < end.at:
            continue
        times.append(reading.at.timestamp())
        values.append(min(max(float(reading.wh), values[-1]), float(end.wh)))
    times.append(end.at.timestamp())
    values.append(float(end.wh))
    boundaries = []
    moment = first + QUARTER
    while moment < end.at:
        boundaries.append(moment)
        moment += QUARTER
    cumulative = [float(start.wh)]
    cumulative.extend(_at(times, values, b.timestamp()) for b in boundaries)
    cumulative.append(float(end.wh))
    shares = [b - a for a, b in pairwise(cumulative)]
    starts = [first, *boundaries]
    return dict(zip(starts, apportion(shares, total), strict=True))


def apportion(shares: list[float], total: int) -> list[int]:
    """Whole numbers in proportion to the shares, summing exactly to total."""
    floors = [math.floor(share) for share in shares]
    spare = total - sum(floors)
    order = sorted(
        range(len(shares)), key=lambda index: (floors[index] - shares[index], index)
    )
    for step in range(max(spare, 0)):
        floors[order[step % len(order)]] += 1
    # Float residue may leave the floors above the total: take it back from
    # the largest slots.
    for _ in range(max(-spare, 0)):
        floors[max(range(len(floors)), key=floors.__getitem__)] -= 1
    return floors


def _at(times: list[float], values: list[float], moment: float) -> float:
    """The curve's value at a moment (times sorted, moment inside them)."""
    index = bisect_right(times, moment)
    if index >= len(times):
        return values[-1]
    before, after = times[index - 1], times[index]
    if after == before:
        return values[index]
    share = (moment - before) / (after - before)
    return values[index - 1] + (values[index] - values[index - 1]) * share
