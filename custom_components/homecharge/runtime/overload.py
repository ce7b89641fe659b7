"""The house above its main fuse with nothing of ours left to cut: tell the user.

Every charger homecharge controls is paused, yet the meter stays above the
main fuse: something else draws it (or a charger homecharge no longer
controls). After ``OVERLOAD_REPORT_AFTER`` a repair issue and an event say
which lines, how much and for how long; both end when the load is under the
fuse again.
"""

from __future__ import annotations

from datetime import datetime, timedelta
import logging
from typing import Final

from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir

from ..const import DOMAIN
from ..logic.place import PlaceSettings

_LOGGER = logging.getLogger(__name__)

EVENT_OVERLOAD: Final = "homecharge_overload"
# Above the main fuse this long with every charger paused: the user is told.
OVERLOAD_REPORT_AFTER: Final = timedelta(seconds=30)


class OverloadWatch:
    """One place's watch for an overload the balancer cannot cut."""

    def __init__(self, hass: HomeAssistant, issue_id: str) -> None:
        """Watch for a place; ``issue_id`` names its repair issue."""
        self.hass = hass
        self.issue_id = issue_id
        # Since when the house is above the fuse with all our chargers paused.
        self._since: datetime | None = None
        self._reported = False

    def update(
        self,
        now: datetime,
        place: PlaceSettings,
        over: dict[int, float],
        *,
        all_paused: bool,
        not_connected: list[str],
    ) -> None:
        """A decision was made: ``over`` are the lines above the fuse, in A."""
        if not over or not all_paused:
            self._since = None
            if self._reported:
                self.clear()
            return
        since = self._since = self._since or now
        if self._reported or now - since < OVERLOAD_REPORT_AFTER:
            return
        self._reported = True
        lines = ", ".join(f"L{line + 1}" for line in over)
        seconds = round((now - since).total_seconds())
        fuse = f"{place.main_fuse:g}"
        _LOGGER.warning(
            "%s: %s above the %s A main fuse for %s s with every charger paused",
            place.name,
            lines,
            fuse,
            seconds,
        )
        self.hass.bus.async_fire(
            EVENT_OVERLOAD,
            {
                "place": place.name,
                "lines": {f"L{line + 1}": amps for line, amps in over.items()},
                "main_fuse": place.main_fuse,
                "seconds": seconds,
                "chargers_not_connected": not_connected,
            },
        )
        ir.async_create_issue(
            self.hass,
            DOMAIN,
            self.issue_id,
            is_fixable=False,
            severity=ir.IssueSeverity.ERROR,
            translation_key="overload",
            translation_placeholders={
                "place": place.name,
                "amps": f"{max(over.values()):.1f}",
                "lines": lines,
                "fuse": fuse,
                "seconds": str(seconds),
            },
        )

    def clear(self) -> None:
        """Under the fuse again (or the place unloads): the issue goes."""
        self._reported = False
        ir.async_delete_issue(self.hass, DOMAIN, self.issue_id)
