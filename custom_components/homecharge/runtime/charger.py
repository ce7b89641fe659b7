"""A charger's runtime: its live state, pushed to entities, and its commands.

The OCPP session reports events here (central/session.py); the decisions
(status, limits, energy) are made by the pure modules. Every current limit a
charger gets leaves through ``async_apply_limit``, the one path.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
import logging
import secrets
from typing import Any

from homeassistant.config_entries import ConfigEntry, ConfigSubentry
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.event import (
    async_call_later,
    async_track_time_change,
    async_track_time_interval,
)
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator
from homeassistant.util import dt as dt_util

from ..central.meter_values import MeterSample, session_energy_kwh
from ..central.profile import (
    DEFAULT_VALIDITY,
    IGNORED_ZERO_READINGS,
    ChargerCapabilities,
    Step,
    build_profile,
    combined_limit,
    plan_steps,
    renewal_due,
    zero_ignored_strikes,
)
from ..central.session import BootInfo, ChargerSession, SessionError, StatusReport
from ..central.v16 import HEARTBEAT_INTERVAL_S
from ..const import CONF_PHASE, CONF_PRIORITY, DOMAIN
from ..logic.balancer import Priority
from ..logic.charger_status import (
    ChargerStatus,
    charger_status,
    error_code,
    heartbeat_timeout,
    is_online,
)
from ..logic.opening_hours import is_open, parse_time

_LOGGER = logging.getLogger(__name__)

# The id tag homecharge starts sessions with (remote start from HA).
HA_ID_TAG = "homecharge"
# When a charger that disconnected counts as offline (checked just after).
OFFLINE_CHECK_S = heartbeat_timeout(HEARTBEAT_INTERVAL_S) + 1
# Home charger circuits: 6 A (IEC minimum) to 80 A (a 3-phase 55 kW AC outlet).
MAX_CIRCUIT_FUSE = 80.0
# The planner's "what you usually charge" looks this many sessions back.
RECENT_SESSIONS = 14


def new_password() -> str:
    """A charger's HTTP Basic password: 40 hex digits (OCPP AuthorizationKey)."""
    return secrets.token_hex(20)


@dataclass(frozen=True, kw_only=True, slots=True)
class ChargerConfig:
    """A charger as its subentry describes it."""

    charge_point_id: str
    name: str
    circuit_fuse: float
    phases: int = 3
    connectors: int = 1
    max_current: float | None = None
    password: str | None = None
    manufacturer: str | None = None
    model: str | None = None
    serial: str | None = None
    opens: str | None = None
    closes: str | None = None
    # Load balancing: who keeps charging when there is not enough for all, and
    # the house phase (1–3) a 1-phase charger is wired to.
    priority: Priority = Priority.NORMAL
    phase: int = 1

    @property
    def hours(self) -> dict[str, str | None]:
        """Opening hours as stored."""
        return {"opens": self.opens, "closes": self.closes}

    @classmethod
    def from_subentry(cls, subentry: ConfigSubentry) -> ChargerConfig:
        """Read a charger subentry."""
        data = subentry.data
        return cls(
            charge_point_id=data["charge_point_id"],
            name=subentry.title,
            circuit_fuse=float(data["circuit_fuse"]),
            phases=int(data.get("phases", 3)),
            connectors=int(data.get("connectors", 1)),
            max_current=data.get("max_current"),
            password=data.get("password"),
            manufacturer=data.get("manufacturer"),
            model=data.get("model"),
            serial=data.get("serial"),
            opens=data.get("opens"),
            closes=data.get("closes"),
            priority=Priority[str(data.get(CONF_PRIORITY, "normal")).upper()],
            phase=int(data.get(CONF_PHASE, 1)),
        )


@dataclass(slots=True)
class ChargerState:
    """What we know of a charger now; entities read it, nothing else writes it."""

    connected: bool = False
    last_seen: datetime | None = None
    last_heartbeat: datetime | None = None
    boot: BootInfo | None = None
    restarting: bool = False
    ocpp_status: str | None = None
    error_code: str | None = None
    vendor_error_code: str | None = None
    enabled: bool = True
    smart_charging: bool = True
    energy_wh: float | None = None
    power_w: float | None = None
    current_a: tuple[float | None, float | None, float | None] = (None, None, None)
    voltage_v: tuple[float | None, float | None, float | None] = (None, None, None)
    offered_a: float | None = None
    # The offer before the last change, and when currents were last reported:
    # the balancer tells a stale report from a fresh one by these.
    previous_offer_a: float | None = None
    offer_changed_at: datetime | None = None
    currents_at: datetime | None = None
    transaction_id: str | None = None
    meter_start_wh: float | None = None
    session_started: datetime | None = None
    session_energy_kwh: float | None = None
    # Energy of the last sessions: what this car usually charges.
    recent_sessions_kwh: list[float] = field(default_factory=list)
    next_transaction_id: int = 1
    capabilities: ChargerCapabilities | None = None
    limits: dict[str, float] = field(default_factory=dict)
    limit_sent_at: datetime | None = None
    paused: bool = False
    # Learned: some chargers take a 0 A limit and keep charging.
    honours_zero: bool = True

    @property
    def plugged_in(self) -> bool:
        """A car is connected to the charger."""
        return self.transaction_id is not None or (self.ocpp_status or "") in {
            "Preparing",
            "Charging",
            "SuspendedEV",
            "SuspendedEVSE",
            "Finishing",
        }

    def stored(self) -> dict[str, Any]:
        """What must survive a restart of Home Assistant."""
        return {
            "energy_wh": self.energy_wh,
            "transaction_id": self.transaction_id,
            "meter_start_wh": self.meter_start_wh,
            "session_started": self.session_started.isoformat()
            if self.session_started
            else None,
            "session_energy_kwh": self.session_energy_kwh,
            "recent_sessions_kwh": self.recent_sessions_kwh,
            "next_transaction_id": self.next_transaction_id,
            "ocpp_status": self.ocpp_status,
            "last_seen": self.last_seen.isoformat() if self.last_seen else None,
            "enabled": self.enabled,
            "smart_charging": self.smart_charging,
            "honours_zero": self.honours_zero,
        }

    @classmethod
    def restored(cls, data: dict[str, Any]) -> ChargerState:
        """The state saved before Home Assistant stopped."""
        return cls(
            energy_wh=data.get("energy_wh"),
            transaction_id=data.get("transaction_id"),
            meter_start_wh=data.get("meter_start_wh"),
            session_started=dt_util.parse_datetime(data["session_started"])
            if data.get("session_started")
            else None,
            session_energy_kwh=data.get("session_energy_kwh"),
            recent_sessions_kwh=[
                float(kwh)
                for kwh in data.get("recent_sessions_kwh") or []
                if isinstance(kwh, (int, float))
            ][-RECENT_SESSIONS:],
            next_transaction_id=int(data.get("next_transaction_id", 1)),
            ocpp_status=data.get("ocpp_status"),
            last_seen=dt_util.parse_datetime(data["last_seen"])
            if data.get("last_seen")
            else None,
            enabled=bool(data.get("enabled", True)),
            smart_charging=bool(data.get("smart_charging", True)),
            honours_zero=bool(data.get("honours_zero", True)),
        )


class ChargerCoordinator(DataUpdateCoordinator[ChargerState]):
    """One charger of a place: OCPP events in, state out, commands through."""

    config_entry: ConfigEntry

    def __init__(
        self,
        hass: HomeAssistant,
        entry: ConfigEntry,
        subentry: ConfigSubentry,
        state: ChargerState,
        save: CALLBACK_TYPE,
    ) -> None:
        """Wrap a charger subentry with its restored state."""
        self.config = ChargerConfig.from_subentry(subentry)
        super().__init__(
            hass,
            _LOGGER,
            config_entry=entry,
            name=f"{DOMAIN} {self.config.charge_point_id}",
        )
        self.subentry_id = subentry.subentry_id
        self.data = state
        self._save = save
        self._session: ChargerSession | None = None
        self._limit_lock = asyncio.Lock()
        self._unsubs: list[CALLBACK_TYPE] = []
        self._offline_timer: CALLBACK_TYPE | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        # What the charger was last told: in use, or disabled (by the user or
        # by its opening hours). None until we know.
        self._available: bool | None = None
        self._zero_strikes = 0
        if self.config.max_current is not None:
            state.limits["user"] = self.config.max_current

    # KnownCharger, for the central system

    @property
    def password(self) -> str | None:
        """The charger's HTTP Basic password (security profile 1)."""
        return self.config.password

    def events(self) -> ChargerCoordinator:
        """Where the charger's events go: here."""
        return self

    # Derived state

    @property
    def session(self) -> ChargerSession | None:
        """The live OCPP session, when connected."""
        return self._session

    @property
    def online(self) -> bool:
        """Connected, or gone for less than the heartbeat timeout."""
        return is_online(
            connected=self.data.connected,
            last_seen=self.data.last_seen,
            now=dt_util.utcnow(),
            heartbeat_interval_s=HEARTBEAT_INTERVAL_S,
        )

    @property
    def status(self) -> ChargerStatus:
        """The one word the user sees."""
        return charger_status(
            online=self.online,
            restarting=self.data.restarting,
            ocpp_status=self.data.ocpp_status,
            planner_holding=False,
            ev_full=False,
        )

    @property
    def error(self) -> str | None:
        """The charger's error code, when it reports one."""
        return error_code(self.data.error_code, self.data.vendor_error_code)

    @property
    def currents_stale(self) -> bool:
        """The last reported currents predate the last change of the offer."""
        changed, reported = self.data.offer_changed_at, self.data.currents_at
        return changed is not None and (reported is None or reported <= changed)

    @property
    def limit_a(self) -> float:
        """The current this charger may draw now: the lowest of every source."""
        return combined_limit(self.config.circuit_fuse, self.data.limits.values())

    def limit_without(self, source: str) -> float:
        """The lowest limit of every other source: what one source may give."""
        return min(
            [
                self.config.circuit_fuse,
                *(amps for name, amps in self.data.limits.items() if name != source),
            ]
        )

    # Lifetime

    @property
    def open_now(self) -> bool:
        """Within the charger's opening hours."""
        return is_open(
            dt_util.now().time(),
            parse_time(self.config.opens),
            parse_time(self.config.closes),
        )

    @callback
    def async_start(self) -> None:
        """Renew the limit while HA runs (so it never lapses); watch the hours."""
        self._unsubs.append(
            async_track_time_interval(
                self.hass,
                self._async_renew,
                DEFAULT_VALIDITY / 4,
                cancel_on_shutdown=True,
            )
        )
        self._unsubs.append(
            async_track_time_change(self.hass, self._async_check_hours, second=0)
        )

    @callback
    def _async_check_hours(self, _now: datetime | None = None) -> None:
        """Open or close the charger when its hours say so."""
        available = self.data.enabled and self.open_now
        if available != self._available and self._session is not None:
            self._run(self._async_availability(available))

    async def _async_availability(self, available: bool) -> None:
        try:
            await self._async_set_availability(available)
        except SessionError as err:
            _LOGGER.warning(
                "Charger %s: availability not changed: %s",
                self.config.charge_point_id,
                err,
            )

    async def _async_set_availability(self, available: bool) -> bool:
        accepted = await self._require_session().change_availability(
            0, operative=available
        )
        if accepted:
            self._available = available
        return accepted

    async def async_shutdown(self) -> None:
        """Stop timers and tasks; the charger's socket stays open."""
        await super().async_shutdown()
        for unsub in self._unsubs:
            unsub()
        self._unsubs.clear()
        if self._offline_timer:
            self._offline_timer()
            self._offline_timer = None
        for task in list(self._tasks):
            task.cancel()
        self._session = None

    def _changed(self, *, persist: bool = False) -> None:
        if persist:
            self._save()
        self.async_set_updated_data(self.data)

    def _run(self, job: Any) -> None:
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
        self._async_check_hours()
        if config.max_current is None:
            self.data.limits.pop("user", None)
        else:
            self.data.limits["user"] = config.max_current
        self._changed()
        # Device details changing (from a boot) is no reason to send a limit.
        if (self.limit_a, config.phases) != before:
            if self.data.capabilities is not None:
                self.data.capabilities = replace(
                    self.data.capabilities, phases=config.phases
                )
            self._run(self.async_apply_limit())

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
        self._changed()
        self._run(self._async_after_connect())

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
        self._changed(persist=True)
        self._offline_timer = async_call_later(
            self.hass, OFFLINE_CHECK_S, self._async_offline_check
        )

    @callback
    def _async_offline_check(self, _now: datetime) -> None:
        self._offline_timer = None
        self._changed()

    def on_frame(self) -> None:
        """A frame arrived: the charger is alive."""
        self.data.last_seen = dt_util.utcnow()

    def on_heartbeat(self) -> None:
        """A heartbeat: shown as the charger's last heartbeat."""
        self.data.last_heartbeat = dt_util.utcnow()
        self._changed()

    def on_boot(self, boot: BootInfo) -> bool:
        """A registered charger is always accepted; it tells who it is."""
        self.data.boot = boot
        self.data.restarting = False
        self.data.capabilities = None
        self._changed()
        # Fill in what the user left empty; what they typed stays.
        known = {
            "manufacturer": boot.vendor or None,
            "model": boot.model or None,
            "serial": boot.serial,
        }
        missing = {k: v for k, v in known.items() if v and not getattr(self.config, k)}
        if missing:
            self.update_subentry(missing)
        registry = dr.async_get(self.hass)
        if device := registry.async_get_device(
            identifiers={(DOMAIN, self.config.charge_point_id)}
        ):
            registry.async_update_device(
                device.id,
                sw_version=boot.firmware,
                manufacturer=self.config.manufacturer or known["manufacturer"],
                model=self.config.model or known["model"],
                serial_number=self.config.serial or known["serial"],
            )
        return True

    def on_status(self, report: StatusReport) -> None:
        """Connector 1 carries the car's state; connector 0 the charger's."""
        if report.connector_id == 0 and report.status != "Faulted":
            return
        self.data.ocpp_status = report.status
        self.data.error_code = report.error_code
        self.data.vendor_error_code = report.vendor_error_code
        self._changed(persist=True)

    def on_meter_values(
        self, connector_id: int, transaction_id: str | None, samples: list[MeterSample]
    ) -> None:
        """Keep the newest readings; a queued old one only raises the register."""
        for sample in sorted(samples, key=_sample_time):
            if sample.energy_wh is not None and (
                self.data.energy_wh is None or sample.energy_wh >= self.data.energy_wh
            ):
                self.data.energy_wh = sample.energy_wh
            if sample.power_w is not None:
                self.data.power_w = sample.power_w
            if any(value is not None for value in sample.current_a):
                self.data.current_a = sample.current_a
                self.data.currents_at = dt_util.utcnow()
                self._check_zero_honoured()
            if any(value is not None for value in sample.voltage_v):
                self.data.voltage_v = sample.voltage_v
        if (
            self.data.transaction_id is not None
            and self.data.meter_start_wh is not None
            and self.data.energy_wh is not None
        ):
            self.data.session_energy_kwh = session_energy_kwh(
                self.data.meter_start_wh, self.data.energy_wh
            )
        self._changed(persist=True)

    def _check_zero_honoured(self) -> None:
        """Learn that a charger ignores 0 A; from then on it is paused instead."""
        if self.data.transaction_id is None:
            return
        self._zero_strikes = zero_ignored_strikes(
            self.data.offered_a, self.data.current_a, self._zero_strikes
        )
        capabilities = self.data.capabilities
        if (
            self._zero_strikes >= IGNORED_ZERO_READINGS
            and capabilities is not None
            and capabilities.honours_zero
        ):
            _LOGGER.warning(
                "Charger %s keeps charging at 0 A; it will be paused instead",
                self.config.charge_point_id,
            )
            self.data.honours_zero = False
            self.data.capabilities = replace(capabilities, honours_zero=False)
            self._changed(persist=True)
            self._run(self.async_apply_limit())

    def on_transaction_started(
        self,
        connector_id: int,
        id_tag: str | None,
        meter_start_wh: float | None,
        timestamp: datetime | None,
        transaction_id: str | None,
    ) -> str:
        """A session began (maybe while HA was down: its own time is kept)."""
        if transaction_id is None:
            transaction_id = str(self.data.next_transaction_id)
            self.data.next_transaction_id += 1
        self.data.transaction_id = transaction_id
        self.data.meter_start_wh = meter_start_wh
        self.data.session_started = timestamp or dt_util.utcnow()
        self.data.session_energy_kwh = 0.0
        if meter_start_wh is not None and (
            self.data.energy_wh is None or meter_start_wh > self.data.energy_wh
        ):
            self.data.energy_wh = meter_start_wh
        self._changed(persist=True)
        return transaction_id

    def on_transaction_ended(
        self,
        transaction_id: str,
        meter_stop_wh: float | None,
        timestamp: datetime | None,
        reason: str | None,
    ) -> None:
        """A session ended: its energy is stop − start, never negative."""
        if self.data.meter_start_wh is not None and meter_stop_wh is not None:
            self.data.session_energy_kwh = session_energy_kwh(
                self.data.meter_start_wh, meter_stop_wh
            )
        if meter_stop_wh is not None and (
            self.data.energy_wh is None or meter_stop_wh > self.data.energy_wh
        ):
            self.data.energy_wh = meter_stop_wh
        if self.data.transaction_id == transaction_id:
            self.data.transaction_id = None
            self.data.meter_start_wh = None
            if self.data.session_energy_kwh:
                recent = [*self.data.recent_sessions_kwh, self.data.session_energy_kwh]
                self.data.recent_sessions_kwh = recent[-RECENT_SESSIONS:]
        self.data.power_w = 0.0
        self._changed(persist=True)

    # Commands

    async def _async_after_connect(self) -> None:
        """Secure the connection, give the charger its limit, open or close it."""
        await self._async_ensure_password()
        await self.async_apply_limit()
        self._available = None
        self._async_check_hours()

    async def _async_ensure_password(self) -> None:
        """A charger added without a password gets one (AuthorizationKey).

        It is required from the next connection on; a charger that refuses
        keeps connecting without one (README: known limitations).
        """
        session = self._session
        if self.config.password is not None or session is None:
            return
        password = new_password()
        try:
            status = await session.change_configuration("AuthorizationKey", password)
        except SessionError as err:
            _LOGGER.warning(
                "Charger %s: password not set: %s", self.config.charge_point_id, err
            )
            return
        if status == "Accepted":
            self.update_subentry({"password": password})
        else:
            _LOGGER.warning(
                "Charger %s refused a password (%s); it connects without one",
                self.config.charge_point_id,
                status,
            )

    def update_subentry(self, changes: Mapping[str, Any]) -> None:
        """Store changed settings in the charger's subentry (applied live)."""
        entry = self.config_entry
        if (subentry := entry.subentries.get(self.subentry_id)) is not None:
            self.hass.config_entries.async_update_subentry(
                entry, subentry, data={**subentry.data, **changes}
            )

    async def _async_renew(self, _now: datetime) -> None:
        sent = self.data.limit_sent_at
        if self._session is not None and (
            sent is None or renewal_due(sent, dt_util.utcnow())
        ):
            await self.async_apply_limit()

    def set_limit(self, source: str, amps: float | None) -> None:
        """Set or clear one source's limit and apply the lowest of them."""
        if amps is None:
            self.data.limits.pop(source, None)
        else:
            self.data.limits[source] = amps
        self._changed()
        self._run(self.async_apply_limit())

    async def async_apply_limit(self) -> bool:
        """Send the current limit: the one path every limit takes.

        Tries the profile purposes in order (a rejected one is not tried again
        on this connection) and pauses a charger that ignores 0 A.
        """
        async with self._limit_lock:
            session = self._session
            if session is None:
                return False
            try:
                if self.data.capabilities is None:
                    capabilities = await session.read_capabilities(self.config.phases)
                    self.data.capabilities = replace(
                        capabilities, honours_zero=self.data.honours_zero
                    )
                return await self._async_send_limit(session, self.data.capabilities)
            except SessionError as err:
                _LOGGER.warning(
                    "Charger %s: limit not applied: %s",
                    self.config.charge_point_id,
                    err,
                )
                return False

    async def _async_send_limit(
        self, session: ChargerSession, capabilities: ChargerCapabilities
    ) -> bool:
        amps = self.limit_a
        for step in plan_steps(amps, capabilities, paused=self.data.paused):
            if step is Step.PAUSE:
                if self.data.transaction_id is not None:
                    await session.remote_stop(self.data.transaction_id)
                await session.change_availability(1, operative=False)
                self.data.paused = True
            elif step is Step.RESUME:
                await session.change_availability(1, operative=True)
                self.data.paused = False
            else:
                while (
                    request := build_profile(
                        amps,
                        capabilities,
                        now=dt_util.utcnow(),
                        transaction_id=self.data.transaction_id,
                    )
                ) is not None:
                    if await session.set_profile(request):
                        break
                    _LOGGER.info(
                        "Charger %s rejected %s; trying the next kind",
                        self.config.charge_point_id,
                        request.purpose,
                    )
                    capabilities = capabilities.after_rejection(request.purpose)
                    self.data.capabilities = capabilities
                else:
                    _LOGGER.warning(
                        "Charger %s accepts no charging profile",
                        self.config.charge_point_id,
                    )
                    return False
        if amps != self.data.offered_a:
            self.data.previous_offer_a = self.data.offered_a
            self.data.offer_changed_at = dt_util.utcnow()
        self.data.offered_a = amps
        self.data.limit_sent_at = dt_util.utcnow()
        self._changed()
        return True

    async def async_start_charging(self) -> bool:
        """Start (or resume) charging."""
        session = self._require_session()
        return await session.remote_start(1, HA_ID_TAG)

    async def async_stop_charging(self) -> bool:
        """Stop the running session."""
        session = self._require_session()
        if self.data.transaction_id is None:
            return False
        return await session.remote_stop(self.data.transaction_id)

    async def async_set_enabled(self, enabled: bool) -> bool:
        """Let cars use the charger (within its opening hours), or not at all."""
        accepted = await self._async_set_availability(enabled and self.open_now)
        if accepted:
            self.data.enabled = enabled
            self._changed(persist=True)
        return accepted

    async def async_restart(self, hard: bool = False) -> bool:
        """Restart the charger; it shows "restarting" until it boots again."""
        session = self._require_session()
        accepted = await session.reset(hard)
        if accepted:
            self.data.restarting = True
            self._changed()
        return accepted

    def expire_limit(self, source: str, after: timedelta) -> None:
        """Clear a source's limit after a while (an action's duration)."""

        @callback
        def _expire(_now: datetime) -> None:
            self._unsubs.remove(cancel)
            self.set_limit(source, None)

        cancel = async_call_later(self.hass, after, _expire)
        self._unsubs.append(cancel)

    async def async_unlock(self, connector_id: int) -> bool:
        """Release the cable on a connector."""
        return await self._require_session().unlock(connector_id)

    async def async_get_configuration(self, keys: list[str] | None) -> dict[str, Any]:
        """Read the charger's configuration keys (all when None)."""
        return await self._require_session().get_configuration(keys)

    async def async_change_configuration(self, key: str, value: str) -> str:
        """Write a configuration key; the charger's answer."""
        return await self._require_session().change_configuration(key, value)

    def set_smart_charging(self, on: bool) -> None:
        """Smart charging vs "charge full now" (the planner gives it teeth)."""
        self.data.smart_charging = on
        self._changed(persist=True)

    def _require_session(self) -> ChargerSession:
        if self._session is None:
            raise SessionError(f"{self.config.charge_point_id} is not connected")
        return self._session


def _sample_time(sample: MeterSample) -> datetime:
    return sample.timestamp or datetime.min.replace(tzinfo=dt_util.UTC)
