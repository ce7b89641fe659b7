"""A charger's runtime: OCPP events in, state out to entities, commands through.

The coordinator is the charger's face to the rest of the integration (the
OCPP central system, entities, the balancer and the scheduler). Its concerns
live in their own modules: the state (charger_state.py), session bookkeeping
(charger_sessions.py, charger_transactions.py), provisioning
(charger_provisioning.py), availability (charger_availability.py), cards and
the local list (charger_access.py) and the one limit path (charger_limits.py).
What stays here (over 400 lines) is the one face: each OCPP event and command
a line or two that hands over to those modules.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
import logging
from typing import TYPE_CHECKING, Any

from homeassistant.config_entries import ConfigEntry, ConfigSubentry
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers.event import async_call_later
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator
from homeassistant.util import dt as dt_util

from ..central.meter_values import MeterSample
from ..central.session import BootInfo, ChargerSession, SessionError, StatusReport
from ..central.v16 import HEARTBEAT_INTERVAL_S
from ..const import DOMAIN
from ..logic.access import Person, session_priority
from ..logic.allocation import Priority
from ..logic.charger_status import (
    ChargerStatus,
    charger_status,
    charger_wide_status,
    error_code,
    heartbeat_timeout,
    is_online,
)
from ..logic.grid import charger_lines
from ..logic.limits import LimitSource
from ..logic.place import GridType
from .charger_access import ChargerAccess
from .charger_availability import ChargerAvailability
from .charger_limits import ChargerLimits
from .charger_provisioning import async_ensure_password, record_boot
from .charger_routing import ConnectorRouting
from .charger_sessions import record_samples
from .charger_state import HA_ID_TAG, ChargerConfig, ChargerState
from .charger_transactions import ChargerTransactions

if TYPE_CHECKING:
    from .phones import PlacePhones
    from .sessions import PlaceSessions

_LOGGER = logging.getLogger(__name__)

# When a charger that disconnected counts as offline (checked just after).
OFFLINE_CHECK_S = heartbeat_timeout(HEARTBEAT_INTERVAL_S) + 1


class ChargerCoordinator(DataUpdateCoordinator[ChargerState]):
    """One charger of a place: OCPP events in, state out, commands through.

    A charger with several connectors is one coordinator per connector: the
    first (connector 1) is the charger itself, its *station*, which owns the
    connection, the boot, availability and the lasting fallback and hands
    each connector's events to that connector's coordinator. Each connector
    has its own status, session, readings and limit.
    """

    config_entry: ConfigEntry

    def __init__(
        self,
        hass: HomeAssistant,
        entry: ConfigEntry,
        subentry: ConfigSubentry,
        state: ChargerState,
        save: CALLBACK_TYPE,
        *,
        connector_id: int = 1,
        station: ChargerCoordinator | None = None,
    ) -> None:
        """Wrap a charger subentry (one connector of it) with its restored state."""
        self.config = ChargerConfig.from_subentry(subentry)
        super().__init__(
            hass,
            _LOGGER,
            config_entry=entry,
            name=f"{DOMAIN} {self.config.charge_point_id} {connector_id}",
        )
        self.subentry_id = subentry.subentry_id
        self.connector_id = connector_id
        self._station = station
        # On the station: its other connectors (2 …), by connector id.
        self.connectors: dict[int, ChargerCoordinator] = {}
        self.routing = ConnectorRouting(self)
        self.data = state
        self._save = save
        self._session: ChargerSession | None = None
        self._offline_timer: CALLBACK_TYPE | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        # The place's sessions ledger (set by the place before it starts).
        self.sessions: PlaceSessions | None = None
        # Whose phones are near (set by the place; restricted chargers).
        self.phones: PlacePhones | None = None
        self.transactions = ChargerTransactions(self)
        self.access = ChargerAccess(self)
        self.limit_path = ChargerLimits(self)
        self.availability = ChargerAvailability(self)
        self.limit_path.store(LimitSource.USER, self.config.max_current)

    # KnownCharger, for the central system

    @property
    def password(self) -> str | None:
        """The charger's HTTP Basic password (security profile 1)."""
        return self.config.password

    def events(self) -> ChargerCoordinator:
        """Where the charger's events go: here."""
        return self

    # Which connector of which charger

    @property
    def station(self) -> ChargerCoordinator:
        """The charger this connector belongs to (itself for connector 1)."""
        return self._station or self

    @property
    def is_station(self) -> bool:
        """The charger itself: connection, boot, availability are its own."""
        return self._station is None

    @property
    def key(self) -> str:
        """Identify this connector among a place's: subentry id, plus its number."""
        if self.connector_id == 1:
            return self.subentry_id
        return f"{self.subentry_id}_{self.connector_id}"

    @property
    def device_key(self) -> str:
        """Its device's identifier: the charge point id, plus the connector's."""
        charge_point_id = self.config.charge_point_id
        if self.connector_id == 1:
            return charge_point_id
        # "/" is never part of a charge point id (central/identity.py).
        return f"{charge_point_id}/{self.connector_id}"

    @property
    def display_name(self) -> str:
        """The charger's name, with the connector's number from the second on."""
        if self.connector_id == 1:
            return self.config.name
        return f"{self.config.name} {self.connector_id}"

    @property
    def outlets(self) -> list[ChargerCoordinator]:
        """Every connector of this charger, itself first."""
        return [self, *self.connectors.values()]

    def setting(self, key: str) -> Any:
        """A per-car setting of this connector in the charger's subentry."""
        data = self.config_entry.subentries[self.subentry_id].data
        return data.get(self.setting_key(key))

    def setting_key(self, key: str) -> str:
        """Where this connector's own value of a per-car setting is kept."""
        return key if self.connector_id == 1 else f"{key}_{self.connector_id}"

    # Derived state

    @property
    def session(self) -> ChargerSession | None:
        """The charger's live OCPP session, when connected."""
        return self._session if self._station is None else self._station.session

    @property
    def online(self) -> bool:
        """Connected, or gone for less than the heartbeat timeout."""
        data = self.station.data
        return is_online(
            connected=data.connected,
            last_seen=data.last_seen,
            now=dt_util.utcnow(),
            heartbeat_interval_s=HEARTBEAT_INTERVAL_S,
        )

    @property
    def enabled(self) -> bool:
        """Cars may use the charger (the switch is the charger's, not a connector's)."""
        return self.station.data.enabled

    @property
    def may_charge(self) -> bool:
        """A car here may charge now: enabled, and not locked to nobody.

        At a restricted charger a car waits, unplanned and unbalanced, until
        someone allowed is near or shows a card (or its session runs).
        """
        if not self.enabled:
            return False
        return self.data.transaction_id is not None or not self.station.access.locked

    @property
    def status(self) -> ChargerStatus:
        """The one word the user sees."""
        data, station = self.data, self.station.data
        return charger_status(
            online=self.online,
            restarting=station.restarting,
            ocpp_status=charger_wide_status(station.station_status, data.ocpp_status),
            planner_holding=False,
            ev_full=False,
            restart_scheduled=station.restart_scheduled,
            stop_reason=data.stop_reason,
        )

    @property
    def error(self) -> str | None:
        """The charger's error code (or the connector's), when it reports one."""
        data, station = self.data, self.station.data
        if station.station_status == "Faulted":
            return error_code(
                station.station_error_code, station.station_vendor_error_code
            )
        return error_code(data.error_code, data.vendor_error_code)

    @property
    def currents_stale(self) -> bool:
        """The last reported currents predate the last change of the offer.

        Or the session: a reading from before the car started (the one asked
        for at connect, say) says nothing of what it draws now.
        """
        data = self.data
        reported = data.currents_at
        return any(
            since is not None and (reported is None or reported <= since)
            for since in (data.offer_changed_at, data.session_seen_at)
        )

    @property
    def limit_a(self) -> float:
        """The current this charger may draw now: the lowest of every source."""
        return self.limit_path.amps

    def lines(self, grid: GridType) -> frozenset[int]:
        """The lines of the place's grid this charger loads."""
        return charger_lines(grid, self.config.phases, self.config.phase)

    # Lifetime

    @callback
    def async_start(self) -> None:
        """Renew the limit while HA runs (so it never lapses); watch the hours."""
        self.limit_path.async_start()
        if self.is_station:
            self.availability.async_start()

    async def async_shutdown(self) -> None:
        """Stop timers and tasks; the charger's socket stays open."""
        # No command starts from here on, whatever is still running.
        self._session = None
        await super().async_shutdown()
        self.limit_path.async_stop()
        await self.limit_path.async_cancel()
        self.availability.async_stop()
        self.access.async_stop()
        self.routing.async_stop()
        if self._offline_timer:
            self._offline_timer()
            self._offline_timer = None
        for task in list(self._tasks):
            task.cancel()
        self._session = None

    def changed(self, *, persist: bool = False) -> None:
        """Push the state to the entities (and save it, when it must last)."""
        if persist:
            self._save()
        self.async_set_updated_data(self.data)

    def run(self, job: Any) -> None:
        """Run a command in the background, cancelled when the place unloads."""
        task: asyncio.Task[None] = self.config_entry.async_create_background_task(
            self.hass, job, f"{DOMAIN} {self.config.charge_point_id}"
        )
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def update_config(self, config: ChargerConfig) -> None:
        """The subentry changed (fuse, max current): apply it without reloading."""
        if config == self.config:
            return
        before = (self.limit_a, self.config.phases)
        self.config = config
        self.availability.async_check()
        self.limit_path.store(LimitSource.USER, config.max_current)
        self.changed()
        # Device details changing (from a boot) is no reason to send a limit.
        if (self.limit_a, config.phases) != before:
            if self.data.capabilities is not None:
                self.data.capabilities = replace(
                    self.data.capabilities, phases=config.phases
                )
            self.run(self.async_apply_limit())

    # Events from the charger

    def on_connected(self, session: ChargerSession) -> None:
        """Connected: from now on commands go through this session."""
        if not self.data.connected:
            _LOGGER.info("Charger %s connected", self.config.charge_point_id)
        self._session = session
        self.data.connected = True
        self.data.last_seen = dt_util.utcnow()
        if self._offline_timer:
            self._offline_timer()
            self._offline_timer = None
        self.changed()
        self.run(self._async_after_connect())
        # On its own: not behind a limit or a question the charger is slow with.
        self.run(self.access.async_sync_list())
        for outlet in self.connectors.values():
            outlet.changed()

    def on_disconnected(self, session: ChargerSession) -> None:
        """Disconnected: shown as offline only once the heartbeat timeout passed."""
        if session is not self._session:
            return
        _LOGGER.info(
            "Charger %s disconnected; shown offline if it is not back in %s s",
            self.config.charge_point_id,
            OFFLINE_CHECK_S,
        )
        self._session = None
        self.data.connected = False
        self.data.last_seen = dt_util.utcnow()
        self.changed(persist=True)
        self._offline_timer = async_call_later(
            self.hass, OFFLINE_CHECK_S, self._async_offline_check
        )

    @callback
    def _async_offline_check(self, _now: datetime) -> None:
        self._offline_timer = None
        for outlet in self.outlets:
            outlet.changed()

    def on_frame(self) -> None:
        """A frame arrived: the charger is alive."""
        self.data.last_seen = dt_util.utcnow()

    def on_heartbeat(self) -> None:
        """A heartbeat: shown as the charger's last heartbeat."""
        self.data.last_heartbeat = dt_util.utcnow()
        self.changed()

    def on_boot(self, boot: BootInfo) -> bool:
        """A registered charger is always accepted; it tells who it is."""
        self.data.boot = boot
        self.data.restarting = False
        self.data.restart_scheduled = False
        for outlet in self.outlets:
            outlet.data.capabilities = None
            outlet.changed()
        if self.sessions is not None:
            self.sessions.booted(self.config.charge_point_id)
        record_boot(self, boot)
        return True

    def on_status(self, report: StatusReport) -> None:
        """Connector 0 carries the charger's state; each other, its car's."""
        data = self.data
        if report.connector_id == 0:
            data.station_status = report.status
            faulted = report.status == "Faulted"
            data.station_error_code = report.error_code if faulted else None
            data.station_vendor_error_code = (
                report.vendor_error_code if faulted else None
            )
            self.changed(persist=True)
            for other in self.connectors.values():
                other.changed()
            return
        if (outlet := self.routing.outlet(report.connector_id)) is not None:
            outlet.record_status(report)

    def record_status(self, report: StatusReport) -> None:
        """Record a status of this connector."""
        data = self.data
        previous = data.ocpp_status
        if report.status != previous:
            # The session's state changed since the reset was scheduled.
            self.station.data.restart_scheduled = False
        data.ocpp_status = report.status
        self.station.access.status_changed(self, previous, report.status)
        if self.sessions is not None:
            self.sessions.status(
                self.config.charge_point_id, self.connector_id, report.status
            )
        data.error_code = report.error_code
        data.vendor_error_code = report.vendor_error_code
        self.changed(persist=True)

    def on_meter_values(
        self, connector_id: int, transaction_id: str | None, samples: list[MeterSample]
    ) -> None:
        """Readings in (charger_transactions.py)."""
        self.transactions.meter_values(connector_id, transaction_id, samples)

    def record_readings(self, samples: list[MeterSample]) -> None:
        """Record readings of this connector."""
        for currents in record_samples(self.data, samples, dt_util.utcnow()):
            self.limit_path.check_zero_honoured(currents)
        self.changed(persist=True)

    def on_transaction_started(
        self,
        connector_id: int,
        id_tag: str | None,
        meter_start_wh: float | None,
        timestamp: datetime | None,
        transaction_id: str | None,
    ) -> str:
        """A session began (charger_transactions.py); its id."""
        return self.transactions.started(
            connector_id, id_tag, meter_start_wh, timestamp, transaction_id
        )

    def on_transaction_ended(
        self,
        transaction_id: str,
        meter_stop_wh: float | None,
        timestamp: datetime | None,
        reason: str | None,
    ) -> None:
        """A session ended (charger_transactions.py)."""
        self.transactions.ended(transaction_id, meter_stop_wh, timestamp, reason)

    def on_authorize(self, id_tag: str) -> str:
        """A card shown at the charger (charger_access.py)."""
        return self.access.authorize(id_tag).value

    @property
    def priority(self) -> Priority:
        """Load-balancing priority now: the running session's person's, else ours."""
        running = (
            self.sessions.running(self.config.charge_point_id, self.connector_id)
            if self.sessions is not None
            else None
        )
        return session_priority(
            self.config.priority,
            self.sessions.people if self.sessions is not None else (),
            running.person if running is not None else None,
        )

    # Commands

    async def _async_after_connect(self) -> None:
        """Secure the connection, give the charger its limit, open or close it."""
        await async_ensure_password(self)
        # Unknown what it was told before; a pause in the first limit tells it.
        self.availability.forget()
        await self.limit_path.async_apply()
        self.availability.async_check()
        await self.access.async_configure()
        await self._async_ask_for_news()

    async def _async_ask_for_news(self) -> None:
        """After a (re)connect, ask for status and readings instead of waiting.

        A charger that reconnects does not always resend its status, and its
        next meter values may be minutes away; a refusal changes nothing.
        """
        session = self._session
        if session is None:
            return
        for message, connector_id in (
            ("StatusNotification", None),
            *(("MeterValues", outlet.connector_id) for outlet in self.outlets),
        ):
            try:
                await session.trigger(message, connector_id)
            except SessionError as err:
                _LOGGER.debug(
                    "Charger %s: no %s on request: %s",
                    self.config.charge_point_id,
                    message,
                    err,
                )

    def update_subentry(self, changes: Mapping[str, Any]) -> None:
        """Store changed settings in the charger's subentry (applied live)."""
        entry = self.config_entry
        if (subentry := entry.subentries.get(self.subentry_id)) is not None:
            self.hass.config_entries.async_update_subentry(
                entry, subentry, data={**subentry.data, **changes}
            )
            # Entities showing a setting (Ready by, opening hours) read it
            # from the subentry: shown now, not at the charger's next report.
            self.async_update_listeners()

    def set_limit(self, source: LimitSource, amps: float | None) -> None:
        """Set or clear one source's limit and apply the lowest of them."""
        self.limit_path.set(source, amps)

    async def async_apply_limit(self) -> bool:
        """Send the current limit again (the one path: charger_limits.py)."""
        return await self.limit_path.async_apply()

    async def async_start_charging(self, person: Person | None = None) -> bool:
        """Start (or resume) charging on this connector, for a person if given.

        The tag is accepted at a restricted charger for the few minutes the
        car may take (charger_access.py).
        """
        session = self.require_session()
        tag = person.tag if person is not None else HA_ID_TAG
        self.station.access.issue(tag)
        return await session.remote_start(self.connector_id, tag)

    async def async_stop_charging(self) -> bool:
        """Stop the running session."""
        session = self.require_session()
        if self.data.transaction_id is None:
            return False
        return await session.remote_stop(self.data.transaction_id)

    async def async_set_enabled(self, enabled: bool) -> bool:
        """Let cars use the charger (within its opening hours), or not at all."""
        station = self.station
        accepted = await station.availability.async_set_enabled(enabled)
        if accepted:
            for outlet in station.outlets:
                outlet.changed(persist=outlet is station)
        return accepted

    async def async_restart(self, hard: bool = False) -> bool:
        """Restart the charger; it shows "restarting" until it boots again.

        A 2.0.1 charger may schedule the reset for after the running session:
        shown as such until its next status.
        """
        station = self.station
        answer = await station.require_session().reset(hard)
        if answer == "Scheduled":
            station.data.restart_scheduled = True
        elif answer == "Accepted":
            station.data.restarting = True
        for outlet in station.outlets:
            outlet.changed()
        return answer in {"Accepted", "Scheduled"}

    async def async_unlock(self, connector_id: int | None = None) -> bool:
        """Release the cable on a connector (this one unless told)."""
        return await self.require_session().unlock(connector_id or self.connector_id)

    async def async_get_configuration(self, keys: list[str] | None) -> dict[str, Any]:
        """Read the charger's configuration keys (all when None)."""
        return await self.require_session().get_configuration(keys)

    async def async_change_configuration(self, key: str, value: str) -> str:
        """Write a configuration key; the charger's answer."""
        return await self.require_session().change_configuration(key, value)

    def set_smart_charging(self, on: bool) -> None:
        """Smart charging vs "charge full now" (the planner gives it teeth)."""
        self.data.smart_charging = on
        self.changed(persist=True)

    def require_session(self) -> ChargerSession:
        """The live session, or a SessionError saying the charger is away."""
        if (session := self.session) is None:
            raise SessionError(f"{self.config.charge_point_id} is not connected")
        return session
