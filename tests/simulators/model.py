"""
The simulated charger's configuration, state and rules, without any networking.

``ChargerModel`` holds what a charger knows: its connectors, the charging
profiles it accepted, its configuration keys, and the physics (limit → offered
current → drawn current → energy register). ``SimulatedCharger`` (charger.py)
puts it on a websocket.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
import logging
import math
import ssl
import time
from typing import Any, Final, Literal

from .base import utcnow

_LOGGER = logging.getLogger(__package__)

# IEC 61851: a car cannot charge below 6 A; a lower limit means "no current".
MIN_CURRENT: Final = 6.0
STATION_MAX_PURPOSES: Final = frozenset(
    {"ChargePointMaxProfile", "ChargingStationMaxProfile"}
)
MEASURANDS: Final = (
    "Energy.Active.Import.Register",
    "Power.Active.Import",
    "Current.Import",
    "Voltage",
    "Current.Offered",
)
WRITE_ONLY_KEYS: Final = frozenset({"AuthorizationKey"})
_RECORD_LIMIT: Final = 10_000

type Version = Literal["1.6", "2.0.1"]
type Sample = tuple[str, float, str, str | None]  # measurand, value, unit, phase


def allowed_units(rate_unit: str) -> frozenset[str]:
    """The units ("A", "W") a ChargingScheduleAllowedChargingRateUnit value allows."""
    words = {"a": "A", "current": "A", "w": "W", "power": "W"}
    return frozenset(
        words[token.strip().lower()]
        for token in rate_unit.split(",")
        if token.strip().lower() in words
    )


@dataclass(frozen=True, slots=True)
class Period:
    """One charging schedule period: from ``start_s`` on, at most ``limit``."""

    start_s: float
    limit: float
    phases: int | None = None


@dataclass(frozen=True, kw_only=True)
class ChargingProfile:
    """
    A charging profile the simulator accepted, for 1.6 and 2.0.1 alike.

    ``connector_id`` is the 1.6 connectorId or the 2.0.1 evseId (0 = the whole
    station); ``unit`` is "A" or "W"; ``raw`` is the profile as the ``ocpp``
    package handed it over (snake_case keys).
    """

    id: int
    connector_id: int
    stack_level: int
    purpose: str
    kind: str
    unit: str
    periods: tuple[Period, ...]
    start_schedule: datetime | None = None
    duration_s: float | None = None
    valid_from: datetime | None = None
    valid_to: datetime | None = None
    recurrency: str | None = None
    transaction_id: int | str | None = None
    received_at: datetime = field(default_factory=utcnow)
    raw: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def limit(self) -> float:
        """The first period's limit, in the profile's unit."""
        return self.periods[0].limit if self.periods else 0.0

    @property
    def is_station_max(self) -> bool:
        """True for ChargePointMaxProfile (1.6) / ChargingStationMaxProfile (2.0.1)."""
        return self.purpose in STATION_MAX_PURPOSES

    def limit_at(
        self,
        now: datetime,
        *,
        tx_start: datetime | None,
        voltage: float,
        phases: int,
    ) -> float | None:
        """The limit in amps at ``now``; None while the profile does not apply."""
        if self.valid_from and now < self.valid_from:
            return None
        if self.valid_to and now >= self.valid_to:
            return None
        start = self._schedule_start(now, tx_start)
        if now < start:
            return None
        elapsed = (now - start).total_seconds()
        if self.duration_s is not None and elapsed >= self.duration_s:
            return None
        current = [period for period in self.periods if period.start_s <= elapsed]
        if not current:
            return None
        period = current[-1]
        if self.unit == "W":
            return period.limit / (voltage * (period.phases or phases))
        return period.limit

    def _schedule_start(self, now: datetime, tx_start: datetime | None) -> datetime:
        if self.kind == "Relative":
            return tx_start or self.received_at
        start = self.start_schedule or self.received_at
        if self.kind == "Recurring" and now >= start:
            step = timedelta(days=7 if self.recurrency == "Weekly" else 1)
            start += step * ((now - start) // step)
        return start


@dataclass(kw_only=True)
class Connector:
    """One connector (1.6) or EVSE (2.0.1); id 0 stands for the whole station."""

    id: int
    status: str = "Available"  # OCPP 1.6 ChargePointStatus words, for both versions
    operative: bool = True
    operative_after_tx: bool | None = None  # a Scheduled ChangeAvailability
    error_code: str = "NoError"
    plugged: bool = False
    finishing: bool = False
    transaction_id: int | str | None = None
    tx_started: datetime | None = None
    id_tag: str | None = None
    id_token_type: str = "ISO14443"  # noqa: S105 - a token type, not a secret
    remote_start_id: int | None = None
    seq_no: int = 0
    pending_start: tuple[str, ChargingProfile | None, int | None] | None = None
    energy_wh: float = 0.0
    limit_a: float = 0.0
    offered_a: float = 0.0
    current_a: float = 0.0
    power_w: float = 0.0
    last_tick: float = 0.0


@dataclass(kw_only=True, eq=False)
class ChargerModel:
    """A charger's configuration (the fields) and state."""

    url: str
    charge_point_id: str
    version: Version = "1.6"
    password: str | None = field(default=None, repr=False)
    ssl_context: ssl.SSLContext | None = field(default=None, repr=False)
    vendor: str = "Homecharge Sim"
    model: str = "SIM-22"
    serial: str = "SIM-0001"
    firmware: str = "1.0"
    phases: int = 3
    voltage: float = 230.0
    max_current: float = 32.0
    car_max_current: float = 32.0  # what the car takes; 0 → SuspendedEV
    fallback_current: float | None = None  # limit without profiles; None → max
    connectors: int = 1
    meter_interval_s: float = 10.0
    heartbeat_interval_s: float = 60.0  # until a BootNotification answer says
    initial_energy_wh: float = 0.0
    # Quirks seen on real chargers.
    energy_unit: Literal["Wh", "kWh"] = "Wh"
    power_unit: Literal["W", "kW"] = "W"
    omit_phase: bool = False  # Current.Import / Voltage without a phase
    rate_unit: str = "A"  # ChargingScheduleAllowedChargingRateUnit
    max_stack_level: int = 8  # ChargeProfileMaxStackLevel
    rejects_purposes: Collection[str] = frozenset()
    rejects_relative: bool = False
    ignores_zero: bool = False  # accepts a limit < 6 A but keeps drawing 6 A
    refuses_reset: bool = False
    supports_local_list: bool = True  # SendLocalList (1.6 LocalAuthListManagement)
    # StopTransactionOnEVSideDisconnect: whether an unplug ends the transaction,
    # and whether the CSMS may change that (some firmware has it read-only).
    stop_tx_on_unplug: bool = True
    stop_tx_on_unplug_writable: bool = True
    # Timing.
    reset_delay_s: float = 1.0
    reconnect_interval_s: float = 3.0
    response_timeout_s: float = 10.0
    # How long a SetChargingProfile's answer takes after the limit is in force.
    profile_answer_delay_s: float = 0.0
    tick_s: float | None = None  # physics step; None → from meter_interval_s

    def __post_init__(self) -> None:
        """Set up the state."""
        if self.version not in ("1.6", "2.0.1"):
            raise ValueError(f"version must be 1.6 or 2.0.1, not {self.version!r}")
        self._connectors = {
            number: Connector(
                id=number, energy_wh=self.initial_energy_wh if number else 0.0
            )
            for number in range(self.connectors + 1)
        }
        self._profiles: list[ChargingProfile] = []
        self._heartbeat_s = self.heartbeat_interval_s
        self.received: list[tuple[str, dict[str, Any]]] = []
        self.sent: list[tuple[str, dict[str, Any]]] = []
        self.errors: list[str] = []
        # The local authorization list as the CSMS last sent it: tag → expiry.
        self.local_list_version = 0
        self.local_list: dict[str, str | None] = {}

    # What tests read ----------------------------------------------------------

    def received_calls(self, action: str) -> list[dict[str, Any]]:
        """The payloads (snake_case) of the ``action`` calls received from the CSMS."""
        return [payload for name, payload in self.received if name == action]

    def connector(self, connector_id: int = 1) -> Connector:
        """A connector's live state (read it, do not change it)."""
        return self._connector(connector_id)

    @property
    def status(self) -> str:
        """Connector 1's status in OCPP 1.6 words (also for 2.0.1 chargers)."""
        return self._connector(1).status

    @property
    def availability(self) -> str:
        """Connector 1's availability: Operative or Inoperative."""
        return "Operative" if self._connector(1).operative else "Inoperative"

    @property
    def current_limit_a(self) -> float:
        """Connector 1's limit now: the profiles', else the fallback."""
        return self._effective(self._connector(1))[0]

    def connector_limit_a(self, connector_id: int) -> float:
        """A connector's limit now: the profiles', else the fallback."""
        return self._effective(self._connector(connector_id))[0]

    @property
    def offered_current(self) -> float:
        """What connector 1 offers the car now (0 below 6 A; 6 if ignores_zero)."""
        return self._effective(self._connector(1))[1]

    @property
    def current_a(self) -> float:
        """What the car on connector 1 draws per phase."""
        return self._connector(1).current_a

    @property
    def power_w(self) -> float:
        """Connector 1's power."""
        return self._connector(1).power_w

    @property
    def energy_wh(self) -> float:
        """Connector 1's energy register, up to this moment."""
        connector = self._connector(1)
        elapsed = max(0.0, time.monotonic() - connector.last_tick)
        return connector.energy_wh + connector.power_w * elapsed / 3600

    @property
    def transaction_id(self) -> int | str | None:
        """Connector 1's transaction, if any."""
        return self._connector(1).transaction_id

    @property
    def profiles(self) -> list[ChargingProfile]:
        """The charging profiles installed now (expired ones stay until replaced)."""
        return list(self._profiles)

    @property
    def heartbeat_interval(self) -> float:
        """The heartbeat interval in use."""
        return self._heartbeat_s

    def fault(self, error_code: str = "OtherError", connector_id: int = 1) -> None:
        """Report a fault on a connector (1.6 ChargePointErrorCode)."""
        self._connector(connector_id).error_code = error_code
        self._refresh()

    def clear_fault(self, connector_id: int = 1) -> None:
        """The fault is gone."""
        self._connector(connector_id).error_code = "NoError"
        self._refresh()

    # Physics ------------------------------------------------------------------

    def _refresh(self, *, force: bool = False) -> None:
        """Advance energy to now, re-evaluate limits and statuses, tell the CSMS."""
        mono = time.monotonic()
        for connector in self._connectors.values():
            if connector.last_tick:
                connector.energy_wh += (
                    connector.power_w * (mono - connector.last_tick) / 3600
                )
            connector.last_tick = mono
            old = (connector.status, connector.offered_a)
            if connector.id:
                connector.limit_a, connector.offered_a = self._effective(connector)
            connector.status = self._status_for(connector)
            charging = connector.status == "Charging"
            connector.current_a = (
                min(connector.offered_a, max(self.car_max_current, 0.0))
                if charging
                else 0.0
            )
            connector.power_w = connector.current_a * self.voltage * self.phases
            if old != (connector.status, connector.offered_a):
                _LOGGER.info(
                    "%s connector %s: %s, offering %.1f A",
                    self.charge_point_id,
                    connector.id,
                    connector.status,
                    connector.offered_a,
                )
            self._tell(connector, force=force)

    def _tell(self, connector: Connector, *, force: bool) -> None:
        """Tell the CSMS about ``connector`` (the networked charger does)."""

    def _effective(self, connector: Connector) -> tuple[float, float]:
        """The limit (profiles, else fallback) and the current offered, in amps."""
        limit = self._profile_limit(connector)
        if limit is None:
            limit = (
                self.max_current
                if self.fallback_current is None
                else self.fallback_current
            )
        offered = min(limit, self.max_current)
        if offered < MIN_CURRENT:
            offered = MIN_CURRENT if self.ignores_zero else 0.0
        return limit, offered

    def _profile_limit(self, connector: Connector) -> float | None:
        now = utcnow()

        def best(candidates: list[ChargingProfile]) -> float | None:
            applying = [
                (profile.stack_level, profile.connector_id == connector.id, limit)
                for profile in candidates
                if (
                    limit := profile.limit_at(
                        now,
                        tx_start=connector.tx_started,
                        voltage=self.voltage,
                        phases=self.phases,
                    )
                )
                is not None
            ]
            return max(applying)[2] if applying else None

        station = best([p for p in self._profiles if p.is_station_max])
        session_limit = None
        if connector.transaction_id is not None:
            session_limit = best(
                [
                    p
                    for p in self._profiles
                    if p.purpose == "TxProfile"
                    and p.connector_id == connector.id
                    and p.transaction_id in (None, connector.transaction_id)
                ]
            )
        if session_limit is None:
            session_limit = best(
                [
                    p
                    for p in self._profiles
                    if p.purpose == "TxDefaultProfile"
                    and p.connector_id in (0, connector.id)
                ]
            )
        limits = [value for value in (station, session_limit) if value is not None]
        return min(limits) if limits else None

    def _status_for(self, connector: Connector) -> str:
        if connector.error_code != "NoError":
            return "Faulted"
        if connector.transaction_id is not None:
            if not connector.plugged:
                # Kept over an unplug: no car, the transaction still open.
                return "Available"
            if connector.offered_a <= 0:
                return "SuspendedEVSE"
            return "SuspendedEV" if self.car_max_current <= 0 else "Charging"
        if not connector.operative:
            return "Unavailable"
        if connector.plugged:
            return "Finishing" if connector.finishing else "Preparing"
        return "Available"

    def samples(self, connector: Connector) -> list[Sample]:
        """The meter readings of a connector, in the configured units."""
        energy = connector.energy_wh / (1000 if self.energy_unit == "kWh" else 1)
        power = connector.power_w / (1000 if self.power_unit == "kW" else 1)
        rows: list[Sample] = [
            ("Energy.Active.Import.Register", energy, self.energy_unit, None),
            ("Power.Active.Import", power, self.power_unit, None),
        ]
        if self.omit_phase:
            rows.append(("Current.Import", connector.current_a, "A", None))
            rows.append(("Voltage", self.voltage, "V", None))
        else:
            phases = range(1, self.phases + 1)
            rows.extend(
                ("Current.Import", connector.current_a, "A", f"L{n}") for n in phases
            )
            rows.extend(("Voltage", self.voltage, "V", f"L{n}-N") for n in phases)
        rows.append(("Current.Offered", connector.offered_a, "A", None))
        return rows

    # What the CSMS asks -------------------------------------------------------

    def _pick_connector(self, connector_id: int | None) -> Connector | None:
        """The connector a remote start asks for (None: the first free one)."""
        if connector_id is None:
            candidates = [c for c in self._connectors.values() if c.id]
        elif connector_id and connector_id in self._connectors:
            candidates = [self._connectors[connector_id]]
        else:
            candidates = []
        for connector in candidates:
            if (
                connector.operative
                and connector.transaction_id is None
                and connector.pending_start is None
                and connector.error_code == "NoError"
            ):
                return connector
        return None

    def _transaction_connector(self, transaction_id: object) -> Connector | None:
        for connector in self._connectors.values():
            if connector.transaction_id is not None and str(
                connector.transaction_id
            ) == str(transaction_id):
                return connector
        return None

    def _check_profile(
        self, profile: ChargingProfile, *, remote_start: bool = False
    ) -> str | None:
        """Why the charger rejects ``profile``; None when it takes it.

        ``remote_start``: the TxProfile of a RemoteStart, for a transaction that
        does not exist yet.
        """
        connector = self._connectors.get(profile.connector_id)
        problems = [
            (profile.purpose in self.rejects_purposes, "purpose rejected (quirk)"),
            (self.rejects_relative and profile.kind == "Relative", "Relative rejected"),
            (profile.stack_level > self.max_stack_level, "stack level too high"),
            (profile.unit not in allowed_units(self.rate_unit), "unit not allowed"),
            (connector is None, "no such connector"),
            (
                profile.is_station_max and profile.connector_id != 0,
                "max profile not on 0",
            ),
            (not profile.periods, "no schedule periods"),
        ]
        if remote_start:
            problems.append((profile.purpose != "TxProfile", "not a TxProfile"))
        elif profile.purpose == "TxProfile":
            running = connector.transaction_id if connector else None
            problems.append((running is None, "TxProfile without a transaction"))
            problems.append(
                (
                    profile.transaction_id not in (None, running)
                    and str(profile.transaction_id) != str(running),
                    "TxProfile for another transaction",
                )
            )
        return next((reason for bad, reason in problems if bad), None)

    def _install_profile(self, profile: ChargingProfile) -> bool:
        """Validate and store a SetChargingProfile's profile; True if accepted."""
        if (reason := self._check_profile(profile)) is not None:
            _LOGGER.info(
                "%s: profile %s rejected: %s", self.charge_point_id, profile.id, reason
            )
            return False
        self._store_profile(profile)
        return True

    def _store_profile(self, profile: ChargingProfile) -> None:
        self._profiles = [
            p
            for p in self._profiles
            if p.id != profile.id
            and (p.connector_id, p.purpose, p.stack_level)
            != (profile.connector_id, profile.purpose, profile.stack_level)
        ]
        self._profiles.append(profile)

    def _clear_profiles(
        self,
        profile_id: int | None = None,
        connector_id: int | None = None,
        purpose: str | None = None,
        stack_level: int | None = None,
    ) -> bool:
        def matches(p: ChargingProfile) -> bool:
            if profile_id is not None:
                return p.id == profile_id
            return (
                connector_id in (None, p.connector_id)
                and purpose in (None, p.purpose)
                and stack_level in (None, p.stack_level)
            )

        kept = [p for p in self._profiles if not matches(p)]
        cleared = len(kept) != len(self._profiles)
        self._profiles = kept
        return cleared

    def _change_availability(self, connector_id: int, operative: bool) -> str:
        """Accepted, Scheduled (after the running transaction) or Rejected."""
        if connector_id not in self._connectors:
            return "Rejected"
        targets = (
            list(self._connectors.values())
            if connector_id == 0
            else [self._connectors[connector_id]]
        )
        scheduled = False
        for connector in targets:
            if connector.transaction_id is not None and not operative:
                connector.operative_after_tx = operative
                scheduled = True
            else:
                connector.operative = operative
                connector.operative_after_tx = None
        return "Scheduled" if scheduled else "Accepted"

    def _config_table(self) -> dict[str, tuple[str, bool]]:
        """The 1.6 configuration keys: value and read-only flag."""
        return {
            "ChargeProfileMaxStackLevel": (str(self.max_stack_level), True),
            "ChargingScheduleAllowedChargingRateUnit": (self.rate_unit, True),
            "ChargingScheduleMaxPeriods": ("24", True),
            "HeartbeatInterval": (f"{self._heartbeat_s:g}", False),
            "MeterValueSampleInterval": (f"{self.meter_interval_s:g}", False),
            "MeterValuesSampledData": (",".join(MEASURANDS), True),
            "NumberOfConnectors": (str(self.connectors), True),
            # "0.RST, 1.RST" for three phases; a 1-phase charger has none.
            "ConnectorPhaseRotation": (
                ", ".join(
                    f"{n}.{'RST' if self.phases == 3 else 'NotApplicable'}"
                    for n in range(self.connectors + 1)
                ),
                True,
            ),
            "SupportedFeatureProfiles": ("Core,SmartCharging,RemoteTrigger", True),
            "StopTransactionOnEVSideDisconnect": (
                str(self.stop_tx_on_unplug).lower(),
                not self.stop_tx_on_unplug_writable,
            ),
        }

    def _get_config(
        self, keys: list[str] | None
    ) -> tuple[list[dict[str, Any]], list[str]]:
        """GetConfiguration: the known keys (all when none asked) and the unknown."""
        table = self._config_table()
        wanted = keys or list(table)
        known = [
            {"key": key, "readonly": table[key][1], "value": table[key][0]}
            for key in wanted
            if key in table
        ]
        return known, [key for key in wanted if key not in table]

    def _set_config(self, key: str, value: str) -> str:
        """ChangeConfiguration: Accepted, Rejected or NotSupported."""
        if key in WRITE_ONLY_KEYS:
            self.password = value  # used from the next connection on
            return "Accepted"
        table = self._config_table()
        if key not in table:
            return "NotSupported"
        if table[key][1]:
            return "Rejected"
        if key == "StopTransactionOnEVSideDisconnect":
            if value.lower() not in ("true", "false"):
                return "Rejected"
            self.stop_tx_on_unplug = value.lower() == "true"
            return "Accepted"
        try:
            number = float(value)
        except ValueError:
            return "Rejected"
        if not math.isfinite(number) or number <= 0:
            return "Rejected"
        if key == "HeartbeatInterval":
            self._heartbeat_s = number
        else:
            self.meter_interval_s = number
        return "Accepted"

    # Bookkeeping --------------------------------------------------------------

    def _connector(self, connector_id: int) -> Connector:
        try:
            return self._connectors[connector_id]
        except KeyError:
            raise ValueError(f"no connector {connector_id}") from None

    def _record(self, action: str, payload: dict[str, Any]) -> None:
        _append_capped(self.received, (action, payload))

    def _note_sent(self, action: str, payload: Any) -> None:
        data = {k: v for k, v in asdict(payload).items() if v is not None}
        _append_capped(self.sent, (action, data))

    def _note_error(self, text: str) -> None:
        _LOGGER.warning("%s: %s", self.charge_point_id, text)
        _append_capped(self.errors, text)


def _append_capped[T](items: list[T], item: T) -> None:
    items.append(item)
    if len(items) > _RECORD_LIMIT:
        del items[: _RECORD_LIMIT // 10]
