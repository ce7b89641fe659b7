"""
The capacity guard: keep the clock hour's energy inside the plan's step.

Pure. The grid company bills the month's step from hourly energies (kWh in a
clock hour); the plan chose a step from a *forecast* of the house. The guard
reads what the meter has counted in this hour so far and what the house
draws now (or is forecast to draw, whichever is more), and gives the planned
cars what is left of the hour's energy,
spread over what is left of the hour: less when the house runs above its
forecast, back up to the plan when it runs below.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Final

HOUR: Final = timedelta(hours=1)
SLOT: Final = timedelta(minutes=15)
# The last seconds of an hour are not stretched to infinity: what is left is
# spread over at least this long.
_SHORTEST_REST: Final = timedelta(seconds=30)


def charging_budget_kw(
    *,
    cap_kw: float,
    used_kwh: float,
    house_kw: float,
    now: datetime,
    later_kwh: float | None = None,
    planned_kw: float | None = None,
) -> float:
    """
    The power (kW) the guarded chargers may draw together for now.

    ``cap_kw`` is the step's hourly average (kWh per hour), ``used_kwh`` what
    the meter counted since the hour began, ``house_kw`` what everything but
    the guarded chargers will draw on average until the hour ends (the
    runtime takes the higher of its draw now and its forecast).
    ``later_kwh``: what the plan charges in the hour's slots after this one
    (``planned_later_kwh``), and ``planned_kw`` what it charges now: a plan
    may put the hour's room in its cheapest slot, so what is left of the
    hour is shared as the plan shares it. Where it holds the plan, the slot
    now gets all the later slots leave (a house below its forecast lets the
    cars catch up); where not, every slot's planned energy is cut alike, the
    slot now to no less than what is left spread over the rest of the hour.
    Without them, what is left is spread evenly over the rest of the hour.
    Never negative: an hour already over its cap gets nothing more.
    """
    rest = max(rest_of_hour(now), _SHORTEST_REST / HOUR)
    if later_kwh is None or planned_kw is None:
        return max((cap_kw - used_kwh) / rest - house_kw, 0.0)
    slot_rest = max(_rest_of_slot(now), _SHORTEST_REST / HOUR)
    left = max(cap_kw - used_kwh - house_kw * rest, 0.0)
    planned_kwh = planned_kw * slot_rest + later_kwh
    if left >= planned_kwh:
        return (left - later_kwh) / slot_rest
    # Never less than what is left spread evenly: a slot planned low beside
    # dearer-planned later ones would be cut under a car's minimum and the
    # hour's room lost (either way the hour keeps inside the cap).
    return max(planned_kw * left / planned_kwh, left / rest)


def planned_later_kwh(planned_kw: Mapping[datetime, float], now: datetime) -> float:
    """The plan's charging energy in the slots of this hour after the one now.

    ``planned_kw``: the plan's charging power by slot start, for the hour's
    slots (a slot that has begun is no longer later).
    """
    start = now.replace(minute=0, second=0, microsecond=0)
    hour_end = start + HOUR
    current = start + (now - start) // SLOT * SLOT
    return sum(
        kw * (SLOT / HOUR)
        for slot, kw in planned_kw.items()
        if current < slot < hour_end
    )


def _rest_of_slot(now: datetime) -> float:
    """What is left of the quarter-hour slot holding ``now``, in hours."""
    start = now.replace(minute=0, second=0, microsecond=0)
    current = start + (now - start) // SLOT * SLOT
    return (current + SLOT - now) / HOUR


def rest_of_hour(now: datetime) -> float:
    """What is left of the clock hour holding ``now``, in hours."""
    start = now.replace(minute=0, second=0, microsecond=0)
    return (start + HOUR - now) / HOUR


def forecast_rest_kw(
    now: datetime, forecast_kw: Callable[[datetime], float], slot: timedelta = SLOT
) -> float:
    """
    The house's forecast average (kW) over what is left of the hour.

    Each slot's forecast (``forecast_kw`` of a moment in it) weighted by the
    part of it still to come.
    """
    start = now.replace(minute=0, second=0, microsecond=0)
    end = start + HOUR
    energy = 0.0
    moment = now
    while moment < end:
        slot_end = min(start + ((moment - start) // slot + 1) * slot, end)
        energy += forecast_kw(moment) * ((slot_end - moment) / HOUR)
        moment = slot_end
    rest = (end - now) / HOUR
    return energy / rest if rest else 0.0


def guard_kw(
    planned_kw: float | None, step_kw: float | None
) -> tuple[float | None, bool]:
    """
    The planned cars' power cap, and whether it is the plan's (not the step's).

    The slot's planned power, lowered to what the step leaves of the hour;
    None (no cap) when neither applies.
    """
    if step_kw is None or (planned_kw is not None and planned_kw <= step_kw):
        return planned_kw, planned_kw is not None
    return step_kw, False


def house_kw_ahead(now_kw: float, forecast_kw: float) -> float:
    """The house's power for the rest of the hour: the higher of now and forecast.

    A house that usually peaks later in the hour (the oven at :50) is not
    taken at what it draws at :10.
    """
    return max(now_kw, forecast_kw)
