"""A charger's availability: the one owner of "may cars use it now".

The enable switch, the opening hours and a pause (for a charger that ignores
0 A) all end here; ``logic.availability.operative`` joins them and the charger
is told the result as one ChangeAvailability on the whole charger (connector /
EVSE 0), only when that changes, one change at a time.

A charger with several connectors is told the switch and the hours on the
whole charger, and a pause on the paused connector alone: pausing one car
must not stop the other.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
import logging
from typing import TYPE_CHECKING

from homeassistant.core import CALLBACK_TYPE, callback
from homeassistant.helpers.event import async_track_time_change
from homeassistant.util import dt as dt_util

from ..central.session import SessionError
from ..logic.availability import is_open, operative, parse_time

if TYPE_CHECKING:
    from .charger import ChargerCoordinator

_LOGGER = logging.getLogger(__name__)

# ChangeAvailability on connector (1.6) or EVSE (2.0.1) 0: the whole charger.
WHOLE_CHARGER = 0


class ChargerAvailability:
    """Tells a charger whether it may be used, whoever's reason it is."""

    def __init__(self, charger: ChargerCoordinator) -> None:
        """Belong to a charger; until it connects nothing is told."""
        self._charger = charger
        # What the charger was last told; None until we know.
        self._told: bool | None = None
        # What this connector (of several) was last told about its pause.
        self._pause_told: bool | None = None
        self._unsub: CALLBACK_TYPE | None = None
        # One change at a time: a pause and the enable switch never cross.
        self._lock = asyncio.Lock()

    @property
    def open_now(self) -> bool:
        """Within the charger's opening hours."""
        config = self._charger.config
        return is_open(
            dt_util.now().time(), parse_time(config.opens), parse_time(config.closes)
        )

    @property
    def _shared(self) -> bool:
        """Connectors share the charger: a pause is told to its connector."""
        return self._charger.config.connectors > 1

    def _wanted(self, *, enabled: bool, paused: bool) -> bool:
        return operative(
            enabled=enabled,
            open_now=self.open_now,
            paused=paused and not self._shared,
        )

    @callback
    def async_start(self) -> None:
        """Watch the opening hours, once a minute."""
        self._unsub = async_track_time_change(
            self._charger.hass, self._async_check, second=0
        )

    @callback
    def async_stop(self) -> None:
        """Stop watching the hours."""
        if self._unsub is not None:
            self._unsub()
            self._unsub = None

    @callback
    def forget(self) -> None:
        """A new connection: what the charger was told is unknown again."""
        self._told = None
        for outlet in self._charger.connectors.values():
            outlet.availability.forget()
        self._pause_told = None

    @callback
    def async_check(self) -> None:
        """Tell the charger when what it should be differs from what it was told."""
        self._async_check()

    @callback
    def _async_check(self, _now: datetime | None = None) -> None:
        if not self._charger.is_station:
            # The charger's switch and hours are its station's to tell.
            return
        data = self._charger.data
        wanted = self._wanted(enabled=data.enabled, paused=data.paused)
        if wanted != self._told and self._charger.session is not None:
            self._charger.run(self._async_tell_now())

    async def _async_tell_now(self) -> None:
        """Tell what is wanted once it is our turn (it may have changed)."""
        data = self._charger.data
        try:
            async with self._lock:
                await self._async_tell(
                    self._wanted(enabled=data.enabled, paused=data.paused)
                )
        except SessionError as err:
            _LOGGER.warning(
                "Charger %s: availability not changed: %s",
                self._charger.config.charge_point_id,
                err,
            )

    async def _async_tell(self, wanted: bool) -> bool:
        """Tell the charger, unless it was told so already; whether it accepted."""
        if wanted == self._told:
            return True
        accepted = await self._charger.require_session().change_availability(
            WHOLE_CHARGER, operative=wanted
        )
        if accepted:
            self._told = wanted
        return accepted

    async def async_set_enabled(self, enabled: bool) -> bool:
        """The user lets cars use the charger (within its hours), or not at all."""
        data = self._charger.data
        async with self._lock:
            accepted = await self._async_tell(
                self._wanted(enabled=enabled, paused=data.paused)
            )
            if accepted:
                data.enabled = enabled
        return accepted

    async def async_set_paused(self, paused: bool) -> None:
        """Pause a charger that ignores 0 A, or let it charge again."""
        charger = self._charger
        data = charger.data
        if self._shared:
            if paused != self._pause_told:
                self._pause_told = None
                if await charger.require_session().change_availability(
                    charger.connector_id, operative=not paused
                ):
                    self._pause_told = paused
            data.paused = paused
            return
        async with self._lock:
            await self._async_tell(self._wanted(enabled=data.enabled, paused=paused))
            data.paused = paused
