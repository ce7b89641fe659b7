"""The chargers' registers against the house meter, hour by hour.

The main meter measures everything the house imports, the chargers included:
in no hour can the chargers' energy be more than the import. An hour where
it is (beyond a tolerance for the meters' own accuracy) points at a charger
whose register drifts — but only where one charger alone charged that hour
can it be named.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Final

# Meters class B (MID) are within 1 %; a charger's own meter often within
# 2 %. More than 5 % and 0.1 kWh over the import is no rounding.
TOLERANCE: Final = 0.05
SLACK_KWH: Final = 0.1
# Energy below this in an hour does not count as charging in it.
CHARGING_KWH: Final = 0.1


@dataclass(frozen=True, kw_only=True, slots=True)
class Excess:
    """An hour in which the chargers counted more than the house imported."""

    hour: datetime
    chargers_kwh: float
    import_kwh: float
    # The one charger that charged that hour; None when several did.
    charger: str | None


def excess_hours(
    charged: Mapping[datetime, Mapping[str, float]],
    imported: Mapping[datetime, float],
) -> list[Excess]:
    """Hours (both sides known) where the chargers exceed the import."""
    found = []
    for hour, by_charger in sorted(charged.items()):
        if hour not in imported:
            continue
        total = sum(by_charger.values())
        allowed = imported[hour] * (1 + TOLERANCE) + SLACK_KWH
        if total <= allowed:
            continue
        active = [c for c, kwh in by_charger.items() if kwh >= CHARGING_KWH]
        found.append(
            Excess(
                hour=hour,
                chargers_kwh=total,
                import_kwh=imported[hour],
                charger=active[0] if len(active) == 1 else None,
            )
        )
    return found
