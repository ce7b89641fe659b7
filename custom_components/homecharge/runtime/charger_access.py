"""Cards at a charger: the place's people decide (``logic/access.py``).

The answer to a card goes back in OCPP's Authorize, StartTransaction (1.6)
and TransactionEvent (2.0.1). An unknown card at a restricted charger is
refused, logged (at most once a minute per charger) and fired as an event for
automations.

The charger's local authorization list holds the cards that work there now,
each until its access ends, so they keep working (and stop on time) while
Home Assistant is down. It is sent in full after each connect when it
differs from what the charger last accepted, and again whenever someone's
access begins or ends. A charger without a local list answers NotSupported
(or an OCPP error); that is kept for diagnostics and it is not asked again
until its list would change.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from datetime import datetime
import hashlib
import logging
from typing import TYPE_CHECKING, Final

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import CALLBACK_TYPE, callback
from homeassistant.helpers.event import async_track_point_in_utc_time
from homeassistant.util import dt as dt_util

from ..central.charger_log import ChargerLog
from ..central.session import SessionError
from ..const import SUBENTRY_PERSON
from ..logic.access import (
    CONF_ACCESS_MODE,
    AccessMode,
    AuthorizationStatus,
    Person,
    authorize,
    local_list,
    next_change,
    person_from,
)

if TYPE_CHECKING:
    from .charger import ChargerCoordinator

_LOGGER = logging.getLogger(__name__)

EVENT_UNKNOWN_CARD: Final = "homecharge_unknown_card"
# What a charger without a local list is noted as.
NOT_SUPPORTED: Final = "NotSupported"


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
    return AccessMode.of(data.get(CONF_ACCESS_MODE))


class ChargerAccess:
    """Answers the cards shown at one charger."""

    def __init__(self, charger: ChargerCoordinator) -> None:
        """Answer for a charger (its station, which gets the OCPP calls)."""
        self._charger = charger
        self._log = ChargerLog(charger.config.charge_point_id)
        self._timer: CALLBACK_TYPE | None = None
        # One list at a time: two at once would both take the next version.
        self._sending = asyncio.Lock()
        # A list the charger could not take: not offered again unchanged.
        self._refused: str | None = None

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

    async def async_sync_list(self) -> None:
        """Send the local list if the charger's differs; again at the next change."""
        async with self._sending:
            await self._async_sync_list()

    async def _async_sync_list(self) -> None:
        charger = self._charger
        people = people_of(charger.config_entry)
        now = dt_util.utcnow()
        self._schedule(next_change(people, now))
        session = charger.session
        if session is None:
            return
        cards = local_list(
            people,
            charger=charger.config.charge_point_id,
            now=now,
            mode=access_mode(charger),
        )
        data = charger.data
        digest = list_digest(cards)
        if digest in (data.local_list_digest, self._refused) or (
            not cards and data.local_list_digest is None
        ):
            # The charger has it already, could not take it, or never had
            # ours (nothing to clear).
            return
        version = data.local_list_version + 1
        try:
            status = await session.send_local_list(version, cards)
        except SessionError as err:
            _LOGGER.debug(
                "Charger %s: no local list (%s)", charger.config.charge_point_id, err
            )
            status = NOT_SUPPORTED
        data.local_list_status = status
        self._refused = digest if status == NOT_SUPPORTED else None
        if status == "Accepted":
            data.local_list_version, data.local_list_digest = version, digest
        elif status == "VersionMismatch":
            # Its version runs ahead of ours: take the next after it next time.
            data.local_list_version = version
        charger.changed(persist=True)

    def _schedule(self, moment: datetime | None) -> None:
        self.async_stop()
        if moment is not None:
            self._timer = async_track_point_in_utc_time(
                self._charger.hass, self._on_change, moment
            )

    @callback
    def _on_change(self, _now: datetime) -> None:
        self._timer = None
        self._charger.run(self.async_sync_list())

    @callback
    def async_stop(self) -> None:
        """Stop waiting for the next change."""
        if self._timer is not None:
            self._timer()
            self._timer = None


def list_digest(cards: Mapping[str, datetime | None]) -> str:
    """What a local list holds, in a few characters (to tell a change)."""
    text = ";".join(
        f"{tag}={expiry.isoformat() if expiry else ''}" for tag, expiry in cards.items()
    )
    return hashlib.sha256(text.encode()).hexdigest()[:16]
