"""The house's own current by slot of the week, learned from the meter.

Pure logic. The planner keeps the planned charging under the main fuse with
this forecast. Readings within a 15-minute slot are averaged; each slot of the
week then moves a share of the way towards its newest average, so a changed
habit shows within a few weeks and one odd day does not dominate.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
import math
from typing import Any, Final

from .grid import LINES as PHASES

SLOTS_PER_DAY: Final = 96
SLOTS_PER_WEEK: Final = 7 * SLOTS_PER_DAY
# Weight of the newest week in a slot's forecast.
LEARNING_RATE: Final = 0.3

type PhaseAmps = tuple[float, float, float]


def slot_of_week(local: datetime) -> int:
    """0 for Monday 00:00–00:15 local time, up to 671 for Sunday 23:45."""
    return local.weekday() * SLOTS_PER_DAY + (local.hour * 60 + local.minute) // 15


class HouseProfile:
    """Learned house current per phase for every slot of the week."""

    def __init__(self, learned: dict[int, PhaseAmps] | None = None) -> None:
        """Start from what was learned before (or nothing)."""
        self._learned: dict[int, PhaseAmps] = dict(learned or {})
        self._slot: int | None = None
        self._sums = [0.0] * PHASES
        self._counts = [0] * PHASES

    def add(self, local: datetime, currents: Sequence[float | None]) -> None:
        """One reading of the house's own current (None where unknown)."""
        slot = slot_of_week(local)
        if slot != self._slot:
            self._commit()
            self._slot = slot
        for phase, amps in enumerate(currents[:PHASES]):
            if amps is not None and math.isfinite(amps):
                self._sums[phase] += max(amps, 0.0)
                self._counts[phase] += 1

    def _commit(self) -> None:
        if self._slot is None or not all(self._counts):
            self._sums, self._counts = [0.0] * PHASES, [0] * PHASES
            return
        average = tuple(s / n for s, n in zip(self._sums, self._counts, strict=True))
        before = self._learned.get(self._slot)
        if before is None:
            learned = average
        else:
            learned = tuple(
                old + LEARNING_RATE * (new - old)
                for old, new in zip(before, average, strict=True)
            )
        self._learned[self._slot] = (learned[0], learned[1], learned[2])
        self._sums, self._counts = [0.0] * PHASES, [0] * PHASES

    def forecast(self, local: datetime) -> PhaseAmps:
        """The house current expected in the slot holding ``local``.

        A slot not learned yet takes the mean of those learned; with nothing
        learned the house counts as drawing nothing (a place without a meter).
        """
        if (known := self._learned.get(slot_of_week(local))) is not None:
            return known
        if not self._learned:
            return (0.0, 0.0, 0.0)
        count = len(self._learned)
        sums = [
            math.fsum(v[phase] for v in self._learned.values()) for phase in range(3)
        ]
        return (sums[0] / count, sums[1] / count, sums[2] / count)

    @property
    def learned_slots(self) -> int:
        """How many slots of the week have a forecast of their own."""
        return len(self._learned)

    def stored(self) -> dict[str, list[float]]:
        """JSON-ready: slot of the week → amps per phase."""
        return {str(slot): list(amps) for slot, amps in self._learned.items()}

    @classmethod
    def restored(cls, data: Any) -> HouseProfile:
        """What ``stored`` wrote; anything unreadable is dropped."""
        learned: dict[int, PhaseAmps] = {}
        if isinstance(data, dict):
            for key, value in data.items():
                try:
                    slot = int(key)
                    amps = [float(v) for v in value]
                except (TypeError, ValueError):
                    continue
                if 0 <= slot < SLOTS_PER_WEEK and len(amps) == PHASES:
                    learned[slot] = (amps[0], amps[1], amps[2])
        return cls(learned)
