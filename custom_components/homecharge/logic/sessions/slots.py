"""A session's energy spread over its 15-minute slots.

The register readings make a curve of energy over time (straight lines
between readings: a register difference is split across a slot boundary in
proportion to time). Its value at each slot boundary, rounded to a whole
watt-hour, closes one slot and opens the next: each slot is the difference
of its two boundaries, so the slots sum exactly to the session's energy,
and a slot depends only on the readings around its own boundaries. That
last property lets a running session grow one reading at a time
(``extend``) at the cost of the boundaries the reading crosses.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable
from datetime import datetime, timedelta

from .model import QUARTER, Reading, slot_of

EPSILON = timedelta(microseconds=1)


def _value(t0: float, v0: float, t1: float, v1: float, moment: float) -> int:
    """The curve at a moment between two of its points, to the whole Wh."""
    if t1 <= t0:
        return round(v1)
    return round(v0 + (v1 - v0) * (moment - t0) / (t1 - t0))


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
    slots: dict[datetime, int] = {}
    opened, level = first, start.wh
    boundary = first + QUARTER
    while boundary < end.at:
        moment = boundary.timestamp()
        index = bisect_right(times, moment)
        value = _value(
            times[index - 1], values[index - 1], times[index], values[index], moment
        )
        slots[opened] = value - level
        opened, level = boundary, value
        boundary += QUARTER
    slots[opened] = end.wh - level
    return slots


def extend(slots: dict[datetime, int], last: Reading, reading: Reading) -> None:
    """Grow a running session's slots by a reading after its last one.

    ``slots`` end at ``last`` (as ``slot_energies`` made them, with ``last``
    as the end) and ``reading`` is later and not lower: the result is what
    ``slot_energies`` would give with ``reading`` as the new end.
    """
    # The slot that holds the energy up to ``last`` (the one before, when
    # ``last`` is right on a boundary).
    opened = slot_of(last.at - EPSILON)
    level = last.wh - slots[opened]
    t0, t1 = last.at.timestamp(), reading.at.timestamp()
    boundary = opened + QUARTER
    while boundary < reading.at:
        value = _value(t0, float(last.wh), t1, float(reading.wh), boundary.timestamp())
        slots[opened] = value - level
        opened, level = boundary, value
        boundary += QUARTER
    slots[opened] = reading.wh - level
