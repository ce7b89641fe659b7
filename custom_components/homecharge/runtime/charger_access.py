"""Cards at a charger: the place's people decide (``logic/access.py``).

The answer to a card goes back in OCPP's Authorize, StartTransaction (1.6)
and TransactionEvent (2.0.1). An unknown card at a restricted charger is
refused, logged (at most once a minute per charger) and fired as an event for
automations.

At a restricted charger the access is also a lock: a car plugged in starts
charging only when someone allowed there is near with his phone
(``phones.py``), shows a card, or starts it from Home Assistant. Home
Assistant then starts the session itself with the person's tag, which it
accepts only for the few minutes after it asked. A session the charger began
on its own with a tag nobody allowed is stopped, and so is a running one
whose cable came out (plug-swap protection; chargers are also told to end a
transaction on an unplug, where they can).

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
from datetime import datetime, timedelta
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
    cable_moved,
    local_list,
    next_change,
    person_from,
    who_unlocks,
)

if TYPE_CHECKING:
    from .charger import ChargerCoordinator

_LOGGER = logging.getLogger(__name__)

EVENT_UNKNOWN_CARD: Final = "homecharge_unknown_card"
# What a charger without a local list is noted as.
NOT_SUPPORTED: Final = "NotSupported"
# How long a start Home Assistant asked for (or a card accepted) waits for
# the car: about a charger's own connection timeout.
UNLOCKED_FOR: Final = timedelta(minutes=3)
# A stop waits for the charger to have our answer to its start.
STOP_AFTER_S: Final = 1.0
# Tell the charger to end a transaction when the cable leaves the car.
STOP_ON_UNPLUG: Final = "StopTransactionOnEVSideDisconnect"


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
    subentry = charger.config_entry.subentries.get(charger.subentry_id)
    if subentry is None:
        # Removed, the place not yet reloaded: nothing new starts there.
        return AccessMode.RESTRICTED
    return AccessMode.of(subentry.data.get(CONF_ACCESS_MODE))


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
        # Tags Home Assistant started sessions with, until when they hold.
        self._issued: dict[str, datetime] = {}
        # Until when a card shown (or a start asked for) lets a car charge.
        self._unlocked_until: datetime | None = None

    @property
    def restricted(self) -> bool:
        """Only people allowed here may charge."""
        return access_mode(self._charger) is AccessMode.RESTRICTED

    @property
    def locked(self) -> bool:
        """A car plugged in now would not charge (nobody allowed near, no card)."""
        if not self.restricted:
            return False
        now = dt_util.utcnow()
        if self._unlocked_until is not None and now < self._unlocked_until:
            return False
        return self.near_person() is None

    def near_person(self) -> Person | None:
        """Who, allowed here now, is near with a phone."""
        charger = self._charger
        phones = charger.phones
        if phones is None:
            return None
        return who_unlocks(
            people_of(charger.config_entry),
            phones.near(charger),
            charger=charger.config.charge_point_id,
            now=dt_util.utcnow(),
        )

    def issue(self, tag: str) -> None:
        """Accept a tag Home Assistant starts a session with, for a while."""
        now = dt_util.utcnow()
        self._issued = {
            key: until for key, until in self._issued.items() if until > now
        }
        self._issued[tag.casefold()] = now + UNLOCKED_FOR

    def _issued_now(self, tag: str) -> bool:
        until = self._issued.get(tag.casefold())
        return until is not None and dt_util.utcnow() < until

    def answer(self, id_tag: str) -> AuthorizationStatus:
        """What a card (or a tag Home Assistant started with) gets now."""
        charger = self._charger
        if self._issued_now(id_tag):
            return AuthorizationStatus.ACCEPTED
        return authorize(
            people_of(charger.config_entry),
            charger=charger.config.charge_point_id,
            tag=id_tag,
            now=dt_util.utcnow(),
            mode=access_mode(charger),
        ).status

    def authorize(self, id_tag: str) -> AuthorizationStatus:
        """The answer to a card shown; an unknown one is logged and fired."""
        charger = self._charger
        issued = self._issued_now(id_tag)
        status = self.answer(id_tag)
        if status is AuthorizationStatus.INVALID:
            self._log.warning("unknown card %s refused", id_tag)
            charger.hass.bus.async_fire(
                EVENT_UNKNOWN_CARD,
                {
                    "place": charger.config_entry.title,
                    "charger": charger.config.charge_point_id,
                    "id_tag": id_tag,
                },
            )
        elif (
            status is AuthorizationStatus.ACCEPTED
            and self.restricted
            and not issued
            and any(outlet.data.transaction_id is None for outlet in charger.outlets)
        ):
            # A card shown before the car (not the answer to a start that
            # already runs): the next car plugged in charges.
            self._unlock()
        return status

    def _unlock(self) -> None:
        self._unlocked_until = dt_util.utcnow() + UNLOCKED_FOR
        for outlet in self._charger.outlets:
            outlet.changed()

    # The lock

    def presence_changed(self) -> None:
        """Someone came near or left: the lock shows it, a waiting car starts."""
        for outlet in self._charger.outlets:
            outlet.changed()
        self._start_waiting_cars()

    def status_changed(
        self, outlet: ChargerCoordinator, previous: str | None, status: str
    ) -> None:
        """A connector's status: a car plugged in, or a cable moved."""
        if cable_moved(
            mode=access_mode(self._charger),
            running=outlet.data.transaction_id is not None,
            previous=previous,
            status=status,
        ):
            self._log.warning(
                "cable unplugged during a session on connector %s: stopped",
                outlet.connector_id,
            )
            self._charger.run(self._async_stop(outlet, after_s=0))
        elif status == "Preparing" and previous != "Preparing":
            self._start_waiting_cars()

    def transaction_started(
        self, outlet: ChargerCoordinator, id_tag: str | None
    ) -> None:
        """A session began: one nobody was allowed to start is stopped."""
        if not self.restricted:
            return
        self._unlocked_until = None
        if id_tag is None or self.answer(id_tag) is not AuthorizationStatus.ACCEPTED:
            self._log.warning(
                "session on connector %s without access: stopped", outlet.connector_id
            )
            self._charger.run(self._async_stop(outlet, after_s=STOP_AFTER_S))

    def _start_waiting_cars(self) -> None:
        """Start a plugged-in car's session for the person near, if any."""
        if not self.restricted or (person := self.near_person()) is None:
            return
        for outlet in self._charger.outlets:
            data = outlet.data
            if (
                data.ocpp_status == "Preparing"
                and data.transaction_id is None
                and not self._issued_now(person.tag)
            ):
                self.issue(person.tag)
                self._charger.run(self._async_start(outlet, person.tag))

    async def _async_start(self, outlet: ChargerCoordinator, tag: str) -> None:
        try:
            await outlet.require_session().remote_start(outlet.connector_id, tag)
        except SessionError as err:
            _LOGGER.warning(
                "Charger %s: could not start for the person near: %s",
                outlet.config.charge_point_id,
                err,
            )

    async def _async_stop(self, outlet: ChargerCoordinator, *, after_s: float) -> None:
        if after_s:
            await asyncio.sleep(after_s)
        if (transaction_id := outlet.data.transaction_id) is None:
            return
        try:
            await outlet.require_session().remote_stop(transaction_id)
        except SessionError as err:
            _LOGGER.warning(
                "Charger %s: could not stop a session without access: %s",
                outlet.config.charge_point_id,
                err,
            )

    async def async_configure(self) -> None:
        """A restricted charger ends a transaction when the cable leaves the car."""
        if not self.restricted or (session := self._charger.session) is None:
            return
        try:
            answer = await session.change_configuration(STOP_ON_UNPLUG, "true")
        except SessionError as err:
            answer = str(err)
        _LOGGER.debug(
            "Charger %s: %s → %s",
            self._charger.config.charge_point_id,
            STOP_ON_UNPLUG,
            answer,
        )

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
