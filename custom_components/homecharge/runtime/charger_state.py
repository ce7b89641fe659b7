"""A charger's configuration and live state: the data its runtime parts share.

``ChargerConfig`` is what its subentry says; ``ChargerState`` what we know of
it now. Entities read the state; only the charger's runtime parts write it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
import secrets
from typing import Any

from homeassistant.config_entries import ConfigSubentry
from homeassistant.util import dt as dt_util

from ..central.profile import ChargerCapabilities
from ..central.session import BootInfo
from ..const import CONF_PHASE, CONF_PRIORITY, MAX_CONNECTORS
from ..logic.allocation import Priority, priority_of
from ..logic.charger_status import charger_wide_status
from ..logic.limits import LimitSource

# The id tag homecharge starts sessions with (remote start from HA).
HA_ID_TAG = "homecharge"
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

    @classmethod
    def from_subentry(cls, subentry: ConfigSubentry) -> ChargerConfig:
        """Read a charger subentry."""
        data = subentry.data
        return cls(
            charge_point_id=data["charge_point_id"],
            name=subentry.title,
            circuit_fuse=float(data["circuit_fuse"]),
            phases=int(data.get("phases", 3)),
            connectors=min(max(int(data.get("connectors", 1)), 1), MAX_CONNECTORS),
            max_current=data.get("max_current"),
            password=data.get("password"),
            manufacturer=data.get("manufacturer"),
            model=data.get("model"),
            serial=data.get("serial"),
            opens=data.get("opens"),
            closes=data.get("closes"),
            priority=priority_of(data.get(CONF_PRIORITY), Priority.NORMAL),
            phase=int(data.get(CONF_PHASE, 1)),
        )


class Fallback(StrEnum):
    """What a charger falls back to when our limits expire."""

    UNKNOWN = "unknown"
    # A lasting profile at the place's safe current (fallback_a).
    SAFE_CURRENT = "safe_current"
    # One stack level only: it falls back to its own maximum.
    OWN_MAXIMUM = "own_maximum"
    # It refused the lasting profile: its own maximum as well.
    REJECTED = "rejected"


@dataclass(slots=True)
class ChargerState:
    """What we know of a charger now; entities read it, nothing else writes it."""

    connected: bool = False
    last_seen: datetime | None = None
    last_heartbeat: datetime | None = None
    boot: BootInfo | None = None
    restarting: bool = False
    # A reset the charger will do after the running session (2.0.1).
    restart_scheduled: bool = False
    # Connector 1's status and the charger's own (connector / EVSE 0).
    ocpp_status: str | None = None
    station_status: str | None = None
    error_code: str | None = None
    vendor_error_code: str | None = None
    # A charger-wide fault's codes, kept apart until connector 0 clears it.
    station_error_code: str | None = None
    station_vendor_error_code: str | None = None
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
    # A lower offer sent and not yet answered: the charger may hold it already,
    # so a meter reading meanwhile may show the car at it.
    cutting_to_a: float | None = None
    currents_at: datetime | None = None
    transaction_id: str | None = None
    meter_start_wh: float | None = None
    session_started: datetime | None = None
    # When we heard of the session (our clock, unlike session_started).
    session_seen_at: datetime | None = None
    session_energy_kwh: float | None = None
    # Why the last session ended (OCPP's reason: Remote, Local, EVDisconnected …).
    stop_reason: str | None = None
    # Energy of the last sessions: what this car usually charges.
    recent_sessions_kwh: list[float] = field(default_factory=list)
    next_transaction_id: int = 1
    capabilities: ChargerCapabilities | None = None
    limits: dict[LimitSource, float] = field(default_factory=dict)
    limit_sent_at: datetime | None = None
    paused: bool = False
    # Learned: some chargers take a 0 A limit and keep charging.
    honours_zero: bool = True
    # The lasting safe-current profile beneath our expiring limits: what the
    # charger falls to if Home Assistant dies (diagnostics show it).
    fallback: Fallback = field(default_factory=lambda: Fallback.UNKNOWN)
    fallback_a: float | None = None
    # The local authorization list last sent (charger_access.py): its
    # version and content digest, and the charger's last answer.
    local_list_version: int = 0
    local_list_digest: str | None = None
    local_list_status: str | None = None

    @property
    def plugged_in(self) -> bool:
        """A car is connected to the charger."""
        status = charger_wide_status(self.station_status, self.ocpp_status)
        return self.transaction_id is not None or (status or "") in {
            "Preparing",
            "Charging",
            "SuspendedEV",
            "SuspendedEVSE",
            "Finishing",
        }

    def handed_over(self, now: datetime) -> dict[str, Any]:
        """
        What a charger moved to another place takes along.

        A running session goes on at the new place from now and from the last
        register: the old place keeps what was charged there, so each kWh is
        counted at one place only.
        """
        stored = self.stored()
        if self.transaction_id is not None and self.energy_wh is not None:
            stored["session_started"] = now.isoformat()
            stored["meter_start_wh"] = self.energy_wh
        return stored

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
            "station_status": self.station_status,
            "last_seen": self.last_seen.isoformat() if self.last_seen else None,
            "last_heartbeat": self.last_heartbeat.isoformat()
            if self.last_heartbeat
            else None,
            "enabled": self.enabled,
            "smart_charging": self.smart_charging,
            "honours_zero": self.honours_zero,
            "stop_reason": self.stop_reason,
            "local_list_version": self.local_list_version,
            "local_list_digest": self.local_list_digest,
            "local_list_status": self.local_list_status,
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
            station_status=data.get("station_status"),
            last_seen=dt_util.parse_datetime(data["last_seen"])
            if data.get("last_seen")
            else None,
            last_heartbeat=dt_util.parse_datetime(data["last_heartbeat"])
            if data.get("last_heartbeat")
            else None,
            enabled=bool(data.get("enabled", True)),
            smart_charging=bool(data.get("smart_charging", True)),
            honours_zero=bool(data.get("honours_zero", True)),
            stop_reason=data.get("stop_reason"),
            local_list_version=int(data.get("local_list_version") or 0),
            local_list_digest=data.get("local_list_digest"),
            local_list_status=data.get("local_list_status"),
        )
