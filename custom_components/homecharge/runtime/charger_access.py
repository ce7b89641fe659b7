"""A card shown at a charger: the place's people decide (``logic/access.py``).

The answer goes back in OCPP's Authorize, StartTransaction (1.6) and
TransactionEvent (2.0.1). An unknown card at a restricted charger is refused,
logged (at most once a minute per charger) and fired as an event for
automations.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from homeassistant.config_entries import ConfigEntry
from homeassistant.util import dt as dt_util

from ..central.charger_log import ChargerLog
from ..const import SUBENTRY_PERSON
from ..logic.access import (
    CONF_ACCESS_MODE,
    AccessMode,
    AuthorizationStatus,
    Person,
    authorize,
    person_from,
)

if TYPE_CHECKING:
    from .charger import ChargerCoordinator

EVENT_UNKNOWN_CARD: Final = "homecharge_unknown_card"


def people_of(entry: ConfigEntry) -> list[Person]:
    """The place's people, their windows read in Home Assistant's time zone."""
    zone = dt_util.get_default_time_zone()
    return [
        person_from(sub.subentry_id, sub.title, sub.data, zone)
        for sub in entry.subentries.values()
        if sub.subentry_type == SUBENTRY_PERSON
    ]


def access_mode(charger: ChargerCoordinator) -> AccessMode:
    """The charger's access mode (open unless set; a mode not known: restricted)."""
    data = charger.config_entry.subentries[charger.subentry_id].data
    value = data.get(CONF_ACCESS_MODE, AccessMode.OPEN)
    return AccessMode.OPEN if value == AccessMode.OPEN else AccessMode.RESTRICTED


class ChargerAccess:
    """Answers the cards shown at one charger."""

    def __init__(self, charger: ChargerCoordinator) -> None:
        """Answer for a charger (its station, which gets the OCPP calls)."""
        self._charger = charger
        self._log = ChargerLog(charger.config.charge_point_id)

    def authorize(self, id_tag: str) -> AuthorizationStatus:
        """The answer to a card now."""
        charger = self._charger
        charge_point_id = charger.config.charge_point_id
        mode = access_mode(charger)
        answer = authorize(
            people_of(charger.config_entry),
            charger=charge_point_id,
            tag=id_tag,
            now=dt_util.utcnow(),
            mode=mode,
        )
        if answer.status is AuthorizationStatus.INVALID:
            self._log.warning("unknown card %s refused", id_tag)
            charger.hass.bus.async_fire(
                EVENT_UNKNOWN_CARD,
                {
                    "place": charger.config_entry.title,
                    "charger": charge_point_id,
                    "id_tag": id_tag,
                },
            )
        return answer.status
