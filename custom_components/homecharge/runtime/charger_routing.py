"""Which of a charger's connectors an event is for, and connectors learned.

A charger with several connectors is a coordinator per connector; the first
is the charger's own (its station) and receives every event. Events name a
connector: the station's routing hands each to that connector's coordinator.
A connector beyond the configured ones is learned once the charger has
reported them all (a moment after the first): the subentry is updated and
the reload that follows shows its device. Learned once: a user who sets
fewer (a socket nobody uses) is not overruled by the next report. Past
MAX_CONNECTORS a charger is not trusted to get a device per number.
"""

from __future__ import annotations

from datetime import datetime
import logging
from typing import TYPE_CHECKING, Final

from homeassistant.core import CALLBACK_TYPE, callback
from homeassistant.helpers.event import async_call_later

from ..const import CONF_CONNECTORS, MAX_CONNECTORS

if TYPE_CHECKING:
    from .charger import ChargerCoordinator

_LOGGER = logging.getLogger(__name__)

# How long after the first unknown connector the highest one is learned.
LEARN_CONNECTORS_AFTER_S: Final = 2.0
# The most connectors a charger has reported (subentry): learned once.
CONF_REPORTED: Final = "connectors_reported"


class ConnectorRouting:
    """A station's connectors by number, and the ones it reports unknown."""

    def __init__(self, station: ChargerCoordinator) -> None:
        """Route for a station; what it has is its ``connectors``."""
        self._station = station
        subentry = station.config_entry.subentries[station.subentry_id]
        self._seen = max(
            station.config.connectors, int(subentry.data.get(CONF_REPORTED, 0))
        )
        self._learn_timer: CALLBACK_TYPE | None = None
        self._past_max_told = False

    def outlet(self, connector_id: int) -> ChargerCoordinator | None:
        """The coordinator of a connector (0 and 1: the station's own).

        None for one not shown: learned in a moment, or past the most shown.
        """
        station = self._station
        if connector_id <= 1:
            return station
        if connector_id in station.connectors:
            return station.connectors[connector_id]
        if connector_id > MAX_CONNECTORS:
            if not self._past_max_told:
                self._past_max_told = True
                _LOGGER.warning(
                    "Charger %s reports connector %s; connectors past %s are ignored",
                    station.config.charge_point_id,
                    connector_id,
                    MAX_CONNECTORS,
                )
        elif connector_id > self._seen:
            self._seen = connector_id
            if self._learn_timer is None:
                self._learn_timer = async_call_later(
                    station.hass, LEARN_CONNECTORS_AFTER_S, self._async_learn
                )
        return None

    @callback
    def async_stop(self) -> None:
        """Learn nothing more (the place unloads)."""
        if self._learn_timer is not None:
            self._learn_timer()
            self._learn_timer = None

    @callback
    def _async_learn(self, _now: datetime) -> None:
        self._learn_timer = None
        station = self._station
        _LOGGER.info(
            "Charger %s has %s connectors: each gets its own device",
            station.config.charge_point_id,
            self._seen,
        )
        station.update_subentry(
            {CONF_CONNECTORS: self._seen, CONF_REPORTED: self._seen}
        )
