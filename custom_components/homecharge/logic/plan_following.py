"""
How a plan's slot becomes limits: per car, and the slot's power.

Pure. A car the plan has waiting gets 0 A. With a meter, the cars the plan
charges now get no limit of their own but share the slot's planned power
(what its cost and the capacity step rest on) under the fuse: how a plan
splits one slot among cars that pay its one price is arbitrary. Without a
meter there is nobody to share it: each car gets its planned current. A car
the plan does not hold (no car, charging full now) has no planner limit.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
import math


@dataclass(frozen=True, kw_only=True, slots=True)
class SlotLimits:
    """The planner's limit per car (None: none), and the slot's power."""

    amps: dict[str, float | None]
    # kW the planned cars may draw together; None without a meter.
    planned_kw: float | None


def slot_limits(
    planned_amps: Mapping[str, float | None],
    kw_per_amp: Mapping[str, float],
    *,
    metered: bool,
) -> SlotLimits:
    """The limits for the slot now from each car's planned current.

    ``planned_amps``: per charger, the plan's current now (None: not held by
    the plan); ``kw_per_amp``: the planned cars' power per amp.
    """
    amps: dict[str, float | None] = {}
    planned_kw = 0.0
    for key, planned in planned_amps.items():
        amps[key] = None if planned is None else float(planned)
        if planned and key in kw_per_amp:
            planned_kw += planned * kw_per_amp[key]
            if metered:
                amps[key] = None
    return SlotLimits(
        amps=amps, planned_kw=planned_kw if metered and kw_per_amp else None
    )


def hour_plan_kw(
    starts: Sequence[datetime],
    currents: Mapping[str, Sequence[float]],
    kw_per_amp: Mapping[str, float],
    zone: tzinfo,
) -> dict[datetime, float]:
    """The plan's charging power per slot of the clock hour it begins in.

    ``starts``: the plan's slot starts; the guard keeps what the plan gives
    the hour's later slots (``capacity_guard.planned_later_kwh``).
    """
    if not starts:
        return {}
    local = starts[0].astimezone(zone)
    hour_end = local.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    return {
        start: math.fsum(
            row[slot] * kw_per_amp[key]
            for key, row in currents.items()
            if key in kw_per_amp and slot < len(row)
        )
        for slot, start in enumerate(starts)
        if start < hour_end
    }
