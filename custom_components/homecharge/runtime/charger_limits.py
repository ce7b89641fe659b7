"""A charger's limit path: the one way a current limit reaches a charger.

Every source (the user's maximum, an action, the balancer, the planner) sets
its limit here; the charger gets ``effective_limit`` of them all, said as the
charging profile it accepts (central/profile.py), renewed before it lapses. A
charger that keeps charging at 0 A is learned here and paused instead.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import datetime, timedelta
import logging
from typing import TYPE_CHECKING, Any
import zlib

from homeassistant.core import CALLBACK_TYPE, callback
from homeassistant.helpers.event import async_call_later, async_track_time_interval
from homeassistant.util import dt as dt_util

from ..central.meter_values import PhaseValues
from ..central.profile import (
    DEFAULT_VALIDITY,
    IGNORED_ZERO_READINGS,
    ChargerCapabilities,
    Step,
    build_fallback_profile,
    build_profile,
    plan_steps,
    renewal_due,
    zero_ignored_strikes,
)
from ..central.session import ChargerSession, SessionError, caller_cancelled
from ..logic.grid import IEC_MIN_AMPS
from ..logic.limits import LimitSource, effective_limit
from .charger_state import Fallback

if TYPE_CHECKING:
    from .charger import ChargerCoordinator

_LOGGER = logging.getLogger(__name__)

# An apply that holds up the next one this long is stuck on a lost answer: it
# is cancelled rather than waited for up to the call's 30 s timeout.
STALE_AFTER_S = 2.0


class ChargerLimits:
    """The sources' limits on one charger, and the path that sends the result."""

    def __init__(self, charger: ChargerCoordinator) -> None:
        """Belong to a charger; nothing is sent before it connects."""
        self._charger = charger
        self._lock = asyncio.Lock()
        # Applies asked for so far, those in flight, and the one sending now.
        self._requested = 0
        self._pending: set[asyncio.Future[bool]] = set()
        self._holder: asyncio.Task[Any] | None = None
        self._holder_request = 0
        self._zero_strikes = 0
        self._unsubs: list[CALLBACK_TYPE] = []
        # The place's safe current, held by the charger beneath our limits.
        self.fallback_amps = IEC_MIN_AMPS
        self._fallback_sent: float | None = None

    @property
    def amps(self) -> float:
        """The current the charger may draw now: the lowest of every source."""
        return self.without()

    def without(self, *sources: LimitSource) -> float:
        """What every other source leaves: what one source may give or plan."""
        charger = self._charger
        return effective_limit(
            charger.config.circuit_fuse, charger.data.limits, ignoring=sources
        )

    @callback
    def async_start(self) -> None:
        """Renew the limit while HA runs, so it never lapses.

        Each charger checks at its own offset within the interval (from its
        id): 300 renewals due in one timer tick stalled Home Assistant's loop
        for a quarter of a second. A limit is due after half its validity
        and checked every quarter, so it still never lapses.
        """
        interval = DEFAULT_VALIDITY / 4
        offset = zlib.crc32(self._charger.device_key.encode()) / 2**32

        @callback
        def _begin(now: datetime) -> None:
            self._unsubs.remove(cancel)
            self._charger.run(self._async_renew(now))
            self._unsubs.append(
                async_track_time_interval(
                    self._charger.hass,
                    self._async_renew,
                    interval,
                    cancel_on_shutdown=True,
                )
            )

        cancel = async_call_later(self._charger.hass, interval * offset, _begin)
        self._unsubs.append(cancel)

    @callback
    def async_stop(self) -> None:
        """Stop renewing and forget pending expiries."""
        while self._unsubs:
            self._unsubs.pop()()

    def store(self, source: LimitSource, amps: float | None) -> None:
        """Set or clear one source's limit; the caller applies it."""
        limits = self._charger.data.limits
        if amps is None:
            limits.pop(source, None)
        else:
            limits[source] = amps

    def set(self, source: LimitSource, amps: float | None) -> None:
        """Set or clear one source's limit and apply the lowest of them."""
        charger = self._charger
        self.store(source, amps)
        charger.changed()
        charger.run(self.async_apply())

    def expire(self, source: LimitSource, after: timedelta) -> None:
        """Clear a source's limit after a while (an action's duration)."""

        @callback
        def _expire(_now: datetime) -> None:
            self._unsubs.remove(cancel)
            self.set(source, None)

        cancel = async_call_later(self._charger.hass, after, _expire)
        self._unsubs.append(cancel)

    async def _async_renew(self, _now: datetime) -> None:
        sent = self._charger.data.limit_sent_at
        if self._charger.session is not None and (
            sent is None or renewal_due(sent, dt_util.utcnow())
        ):
            await self.async_apply()

    async def async_apply(self) -> bool:
        """Send the current limit: the one path every limit takes.

        The latest limit wins. Applies take turns; one that waits longer than
        ``STALE_AFTER_S`` for its turn cancels the apply holding it up (stuck
        on a lost answer, which would hold its call for the whole 30 s
        timeout). An apply whose turn comes after a newer one was asked for
        leaves the sending to that one. False when this one was superseded.
        """
        self._requested += 1
        sending = asyncio.ensure_future(self._async_apply_now(self._requested))
        self._pending.add(sending)
        sending.add_done_callback(self._pending.discard)
        try:
            return await asyncio.shield(sending)
        except asyncio.CancelledError:
            if caller_cancelled():
                raise
            return False

    async def async_cancel(self) -> None:
        """Stop every apply in flight (the charger is going away)."""
        for sending in list(self._pending):
            sending.cancel()
            try:
                await sending
            except asyncio.CancelledError:
                if caller_cancelled():
                    raise

    async def _async_take_turn(self, request: int) -> bool:
        """
        The lock for ``request``; False when a newer request will send instead.

        Waiting longer than ``STALE_AFTER_S``, the newest request cancels an
        older holder (stuck on a lost answer) and our own calls stuck as long
        (an answer lost to a TriggerMessage holds the charger's call lock too).
        """
        while True:
            try:
                async with asyncio.timeout(STALE_AFTER_S):
                    await self._lock.acquire()
            except TimeoutError:
                if request < self._requested:
                    return False
                if self._holder is not None and self._holder_request < request:
                    self._holder.cancel()
                if (session := self._charger.session) is not None:
                    session.cancel_calls_older_than(STALE_AFTER_S)
                continue
            return True

    async def _async_apply_now(self, request: int) -> bool:
        """Try the profile purposes in order and pause a charger that ignores 0 A.

        A purpose the charger rejected is not tried again on this connection.
        """
        charger = self._charger
        if not await self._async_take_turn(request):
            return False
        self._holder, self._holder_request = asyncio.current_task(), request
        try:
            session = charger.session
            if session is None or request < self._requested:
                return False
            try:
                if charger.data.capabilities is None:
                    capabilities = await session.read_capabilities(
                        charger.config.phases
                    )
                    charger.data.capabilities = replace(
                        capabilities,
                        honours_zero=charger.data.honours_zero,
                        # One of several connectors gets a limit of its own.
                        connector=charger.connector_id
                        if charger.config.connectors > 1
                        else None,
                    )
                    # A new connection (or boot): the lasting profile anew.
                    self._fallback_sent = None
                sent = await self._async_send(session, charger.data.capabilities)
                # A boot meanwhile forgets them; the fallback waits for the next.
                # It lies on the whole charger: the station sends it.
                if (
                    capabilities := charger.data.capabilities
                ) is not None and charger.is_station:
                    await self._async_ensure_fallback(session, capabilities)
            except SessionError as err:
                _LOGGER.warning(
                    "Charger %s: limit not applied: %s",
                    charger.config.charge_point_id,
                    err,
                )
                return False
            return sent
        finally:
            charger.data.cutting_to_a = None
            self._holder = None
            self._lock.release()

    async def _async_send(
        self, session: ChargerSession, capabilities: ChargerCapabilities
    ) -> bool:
        charger = self._charger
        data = charger.data
        amps = self.amps
        if data.offered_a is None or amps < data.offered_a:
            data.cutting_to_a = amps
        for step in plan_steps(amps, capabilities, paused=data.paused):
            if step is Step.PAUSE:
                if data.transaction_id is not None:
                    await session.remote_stop(data.transaction_id)
                await charger.availability.async_set_paused(True)
            elif step is Step.RESUME:
                await charger.availability.async_set_paused(False)
            else:
                while (
                    request := build_profile(
                        amps,
                        capabilities,
                        now=dt_util.utcnow(),
                        transaction_id=data.transaction_id,
                    )
                ) is not None:
                    if await session.set_profile(request):
                        break
                    _LOGGER.info(
                        "Charger %s rejected %s; trying the next kind",
                        charger.config.charge_point_id,
                        request.purpose,
                    )
                    capabilities = capabilities.after_rejection(request.purpose)
                    data.capabilities = capabilities
                else:
                    _LOGGER.warning(
                        "Charger %s accepts no charging profile",
                        charger.config.charge_point_id,
                    )
                    return False
        if amps != data.offered_a:
            data.previous_offer_a = data.offered_a
            data.offer_changed_at = dt_util.utcnow()
        data.offered_a = amps
        data.limit_sent_at = dt_util.utcnow()
        charger.changed()
        return True

    def set_fallback(self, amps: float) -> None:
        """The place's safe current changed: the lasting profile follows."""
        if amps != self.fallback_amps:
            self.fallback_amps = amps
            self._charger.run(self.async_apply())

    async def _async_ensure_fallback(
        self, session: ChargerSession, capabilities: ChargerCapabilities
    ) -> None:
        """Beneath our expiring limits, a lasting one at the safe current."""
        charger = self._charger
        data = charger.data
        amps = effective_limit(
            charger.config.circuit_fuse,
            {
                source: limit
                for source, limit in data.limits.items()
                if source is LimitSource.USER
            }
            | {LimitSource.BALANCER: self.fallback_amps},
        )
        if self._fallback_sent == amps:
            return
        request = build_fallback_profile(amps, capabilities, now=dt_util.utcnow())
        try:
            accepted = request is not None and await session.set_profile(request)
        except SessionError as err:
            # Tried again with the next limit.
            _LOGGER.debug("Charger %s: %s", charger.config.charge_point_id, err)
            return
        if request is None:
            data.fallback, data.fallback_a = Fallback.OWN_MAXIMUM, None
        elif accepted:
            data.fallback, data.fallback_a = Fallback.SAFE_CURRENT, amps
        else:
            _LOGGER.info(
                "Charger %s refused a lasting safe-current profile; if Home "
                "Assistant stops, it falls back to its own maximum",
                charger.config.charge_point_id,
            )
            data.fallback, data.fallback_a = Fallback.REJECTED, None
        self._fallback_sent = amps

    def check_zero_honoured(self, currents: PhaseValues) -> None:
        """Learn that a charger ignores 0 A; from then on it is paused instead."""
        charger = self._charger
        data = charger.data
        if data.transaction_id is None:
            return
        self._zero_strikes = zero_ignored_strikes(
            data.offered_a, currents, self._zero_strikes
        )
        capabilities = data.capabilities
        if (
            self._zero_strikes >= IGNORED_ZERO_READINGS
            and capabilities is not None
            and capabilities.honours_zero
        ):
            _LOGGER.warning(
                "Charger %s keeps charging at 0 A; it will be paused instead",
                charger.config.charge_point_id,
            )
            data.honours_zero = False
            data.capabilities = replace(capabilities, honours_zero=False)
            charger.changed(persist=True)
            charger.run(self.async_apply())
