"""Each hour, the chargers' energy against the house meter's import.

Where the place has a meter homecharge reads: two hours in which one charger
alone counted more than the house imported make a repair issue naming it
(its register drifts, or it reports another meter's energy); the sessions
keep what the charger said. Any such hour is logged. The issue goes once the
charger has an hour that fits again.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
import logging
from typing import Final

from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.event import async_track_time_change
from homeassistant.util import dt as dt_util

from ..const import DOMAIN
from ..logic.sessions.cross_check import CHARGING_KWH, Excess, excess_hours
from ..logic.sessions.hourly import HOUR, hour_of, hourly
from .balancing import PlaceBalancer
from .charger import ChargerCoordinator
from .sessions import PlaceSessions

_LOGGER = logging.getLogger(__name__)

# Hours in which a charger alone exceeded the import before it is reported.
HOURS_TO_REPORT: Final = 2


class RegisterCheck:
    """Compares a place's chargers with its meter, hour by hour."""

    def __init__(
        self,
        hass: HomeAssistant,
        entry_id: str,
        sessions: PlaceSessions,
        balancer: PlaceBalancer,
        names: dict[str, str],
    ) -> None:
        """Name each charger (by charge point id) for the issue."""
        self._hass = hass
        self._entry_id = entry_id
        self._sessions = sessions
        self._balancer = balancer
        self._names = names
        self._checked: datetime | None = None
        self._excess: dict[str, int] = {}

    @classmethod
    def of_place(
        cls,
        hass: HomeAssistant,
        entry_id: str,
        sessions: PlaceSessions,
        balancer: PlaceBalancer,
        chargers: Mapping[str, ChargerCoordinator],
    ) -> RegisterCheck:
        """A place's check, naming each charger as the user named it."""
        names = {
            charger.config.charge_point_id: charger.display_name
            for charger in chargers.values()
            if charger.is_station
        }
        return cls(hass, entry_id, sessions, balancer, names)

    @callback
    def async_start(self) -> CALLBACK_TYPE:
        """Check two minutes past every hour."""
        return async_track_time_change(self._hass, self._on_hour, minute=2, second=0)

    @callback
    def _on_hour(self, _now: datetime) -> None:
        self.check(dt_util.utcnow())

    def issue_id(self, charger: str) -> str:
        """The repair issue of a charger of this place."""
        return f"register_drift_{self._entry_id}_{charger}"

    @callback
    def check(self, now: datetime) -> None:
        """Compare the completed hours not checked yet."""
        if not self._balancer.meter.configured:
            return
        current = hour_of(now.astimezone(UTC))
        imported = {
            hour.start.astimezone(UTC): hour.kwh
            for hour in self._balancer.hourly.hours()
            if self._checked is None or hour.start.astimezone(UTC) >= self._checked
        }
        if not imported:
            return
        charged: dict[datetime, dict[str, float]] = {}
        for series, hours in hourly(self._sessions.ledger, current).items():
            if series is None:
                continue
            for hour, (kwh, _cost) in hours.items():
                if hour in imported:
                    by_charger = charged.setdefault(hour, {})
                    by_charger[series[0]] = by_charger.get(series[0], 0.0) + kwh
        excesses = {e.hour: e for e in excess_hours(charged, imported)}
        for hour in sorted(imported):
            self._judge(hour, charged.get(hour, {}), excesses.get(hour))
        self._checked = max(imported) + HOUR

    def _judge(
        self, hour: datetime, charged: dict[str, float], excess: Excess | None
    ) -> None:
        if excess is not None:
            _LOGGER.warning(
                "In the hour from %s the chargers counted %.2f kWh, the house "
                "imported %.2f kWh (%s)",
                hour.isoformat(),
                excess.chargers_kwh,
                excess.import_kwh,
                excess.charger or "several chargers",
            )
            if excess.charger is not None:
                count = self._excess.get(excess.charger, 0) + 1
                self._excess[excess.charger] = count
                if count >= HOURS_TO_REPORT:
                    self._report(
                        excess.charger, excess.chargers_kwh, excess.import_kwh, hour
                    )
            return
        for charger, kwh in charged.items():
            if kwh >= CHARGING_KWH and self._excess.pop(charger, 0):
                ir.async_delete_issue(self._hass, DOMAIN, self.issue_id(charger))

    def _report(
        self, charger: str, charger_kwh: float, import_kwh: float, hour: datetime
    ) -> None:
        ir.async_create_issue(
            self._hass,
            DOMAIN,
            self.issue_id(charger),
            is_fixable=False,
            severity=ir.IssueSeverity.WARNING,
            translation_key="register_drift",
            translation_placeholders={
                "charger": self._names.get(charger, charger),
                "hours": str(self._excess[charger]),
                "charger_kwh": f"{charger_kwh:.2f}",
                "import_kwh": f"{import_kwh:.2f}",
                "hour": dt_util.as_local(hour).strftime("%Y-%m-%d %H:%M"),
            },
        )
