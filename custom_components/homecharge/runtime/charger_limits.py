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
from typing import TYPE_CHECKING

from homeassistant.core import CALLBACK_TYPE, callback
from homeassistant.helpers.event import async_call_later, async_track_time_interval
from homeassistant.util import dt as dt_util

from ..central.meter_values import PhaseValues
from ..central.profile import (
    DEFAULT_VALIDITY,
    IGNORED_ZERO_READINGS,
    ChargerCapabilities,
    Step,
    build_profile,
    plan_steps,
    renewal_due,
    zero_ignored_strikes,
)
from ..central.session import ChargerSession, SessionError
from ..logic.limits import LimitSource, effective_limit

if TYPE_CHECKING:
    from .charger import ChargerCoordinator

_LOGGER = logging.getLogger(__name__)


class ChargerLimits:
    """The sources' limits on one charger, and the path that sends the result."""

    def __init__(self, charger: ChargerCoordinator) -> None:
        """Belong to a charger; nothing is sent before it connects."""
        self._charger = charger
        self._lock = asyncio.Lock()
        self._zero_strikes = 0
        self._unsubs: list[CALLBACK_TYPE] = []

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
        """Renew the limit while HA runs, so it never lapses."""
        self._unsubs.append(
            async_track_time_interval(
                self._charger.hass,
                self._async_renew,
                DEFAULT_VALIDITY / 4,
                cancel_on_shutdown=True,
            )
        )

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

        Tries the profile purposes in order (a rejected one is not tried again
        on this connection) and pauses a charger that ignores 0 A.
        """
        charger = self._charger
        async with self._lock:
            session = charger.session
            if session is None:
                return False
            try:
                if charger.data.capabilities is None:
                    capabilities = await session.read_capabilities(
                        charger.config.phases
                    )
                    charger.data.capabilities = replace(
                        capabilities, honours_zero=charger.data.honours_zero
                    )
                return await self._async_send(session, charger.data.capabilities)
            except SessionError as err:
                _LOGGER.warning(
                    "Charger %s: limit not applied: %s",
                    charger.config.charge_point_id,
                    err,
                )
                return False

    async def _async_send(
        self, session: ChargerSession, capabilities: ChargerCapabilities
    ) -> bool:
        charger = self._charger
        data = charger.data
        amps = self.amps
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
