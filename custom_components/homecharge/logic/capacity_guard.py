"""
The capacity guard: keep the clock hour's energy inside the plan's step.

Pure. The grid company bills the month's step from hourly energies (kWh in a
clock hour); the plan chose a step from a *forecast* of the house. The guard
reads what the meter has counted in this hour so far and what the house
draws now, and gives the planned cars what is left of the hour's energy,
spread over what is left of the hour: less when the house runs above its
forecast, back up to the plan when it runs below.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Final

HOUR: Final = timedelta(hours=1)
# The last seconds of an hour are not stretched to infinity: what is left is
# spread over at least this long.
_SHORTEST_REST: Final = timedelta(seconds=30)


def charging_budget_kw(
    *,
    cap_kw: float,
    used_kwh: float,
    house_kw: float,
    now: datetime,
) -> float:
    """
    The power (kW) the guarded chargers may draw together for now.

    ``cap_kw`` is the step's hourly average (kWh per hour), ``used_kwh`` what
    the meter counted since the hour began, ``house_kw`` what everything but
    the guarded chargers draws now (assumed to go on until the hour ends).
    Never negative: an hour already over its cap gets nothing more.
    """
    start = now.replace(minute=0, second=0, microsecond=0)
    rest = max(start + HOUR - now, _SHORTEST_REST) / HOUR
    return max((cap_kw - used_kwh) / rest - house_kw, 0.0)
