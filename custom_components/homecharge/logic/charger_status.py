"""
What a charger is doing, in the one word the user sees, and whether it is online.

Pure logic, no Home Assistant imports: the runtime feeds it what OCPP and the
planner reported and shows the answer in the charger's status and error-code
sensors. The states are those of the app we replace (ZmartCharge), plus
``restarting``.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
import math
import re
from typing import Final

# With OCPP-J heartbeats are optional (OCPP 1.6 §4.6), so an open socket is
# online by itself; these only say how long a closed one may stay closed.
HEARTBEAT_GRACE_S: Final = 30.0
# Long enough for an HA restart plus the charger's reconnect back-off.
MIN_HEARTBEAT_TIMEOUT_S: Final = 300.0
DEFAULT_HEARTBEAT_TIMEOUT_S: Final = 300.0


class ChargerStatus(StrEnum):
    """The charger's state as the user sees it."""

    READY = "ready"
    PREPARING = "preparing"
    WAITING = "waiting"
    PAUSED = "paused"
    COMPLETE = "complete"
    NEEDS_INTERNET = "needs_internet"
    CHARGING = "charging"
    ERROR = "error"
    RESTARTING = "restarting"
    RESTART_SCHEDULED = "restart_scheduled"
    STOPPED = "stopped"


_SEPARATORS = re.compile(r"[\s_-]+")
# Session ends that someone asked for (1.6 Reason, 2.0.1 stoppedReason).
STOPPED_BY_SOMEONE: Final = frozenset({"remote", "local"})


def _key(text: str | None) -> str:
    """
    A protocol word reduced to compare: no case, spaces, underscores or dashes.

    Firmware sends "charging" or " SuspendedEV"; libraries turn enum names into
    "suspended_ev". All of them mean the same state.
    """
    return _SEPARATORS.sub("", text).casefold() if text else ""


# OCPP 2.0.1 ConnectorStatusEnum values that have a 1.6 twin; "Occupied" needs
# the transaction's chargingState to tell which 1.6 state it is.
_CONNECTOR_201: Final = {
    "available": "Available",
    "reserved": "Reserved",
    "unavailable": "Unavailable",
    "faulted": "Faulted",
}
_CHARGING_STATE_201: Final = {
    "charging": "Charging",
    "evconnected": "Preparing",
    "suspendedev": "SuspendedEV",
    "suspendedevse": "SuspendedEVSE",
    # Still plugged in, but the transaction is over.
    "idle": "Finishing",
}


def status_from_ocpp201(
    connector_status: str | None, charging_state: str | None
) -> str | None:
    """
    The OCPP 1.6 ChargePointStatus matching a 2.0.1 connector and charging state.

    ``charging_state`` is the last TransactionEvent's chargingState; the runtime
    clears it when the connector becomes Available again. None when the
    connector status is one we do not know.
    """
    connector = _key(connector_status)
    state = _key(charging_state)
    if connector in _CONNECTOR_201:
        # The connector status is the fresher truth about the cable: an
        # Available connector has no car, whatever the last transaction said.
        return _CONNECTOR_201[connector]
    if connector == "occupied":
        # A cable with no (or an unknown) charging state has not started yet.
        return _CHARGING_STATE_201.get(state, "Preparing")
    if not connector and state in _CHARGING_STATE_201 and state != "idle":
        # TransactionEvents can arrive before the (triggered) StatusNotification;
        # a live charging state already proves a car is plugged in.
        return _CHARGING_STATE_201[state]
    return None


def charger_wide_status(station: str | None, connector: str | None) -> str | None:
    """
    The status that counts: the charger's own (connector 0) and its connector's.

    A charger-wide fault wins until connector 0 reports anything else; a
    charger that reports only connector 0 is read from it.
    """
    if _key(station) == "faulted":
        return station
    return connector if connector is not None else station


def charger_status(
    *,
    online: bool,
    restarting: bool,
    ocpp_status: str | None,
    planner_holding: bool = False,
    ev_full: bool = False,
    restart_scheduled: bool = False,
    stop_reason: str | None = None,
) -> ChargerStatus:
    """
    The one status to show for a charger.

    ``ocpp_status`` is an OCPP 1.6 ChargePointStatus (2.0.1 chargers go through
    ``status_from_ocpp201`` first). ``planner_holding`` is true while our
    planner keeps a plugged-in car from charging for cheaper power; ``ev_full``
    while the car reports a full battery; ``stop_reason`` is why the last
    session ended (OCPP's reason): stopped by someone (from Home Assistant or
    at the charger), a car still plugged in is not called fully charged.
    """
    if restarting:
        # A reset drops the connection on purpose: say so, not "no internet".
        return ChargerStatus.RESTARTING
    if not online:
        return ChargerStatus.NEEDS_INTERNET
    if restart_scheduled and _key(ocpp_status) != "faulted":
        # A 2.0.1 reset answered "Scheduled": after the running session.
        return ChargerStatus.RESTART_SCHEDULED
    match _key(ocpp_status):
        case "faulted":
            return ChargerStatus.ERROR
        case "available" | "reserved":
            # No car yet; a reservation still waits for someone to plug in.
            return ChargerStatus.READY
        case "unavailable":
            # We (or the owner) disabled it, e.g. outside opening hours.
            return ChargerStatus.WAITING
        case "finishing" | "suspendedev" if _key(stop_reason) in STOPPED_BY_SOMEONE:
            return ChargerStatus.STOPPED
        case "finishing":
            return ChargerStatus.COMPLETE
        case "suspendedev" | "suspendedevse" if ev_full:
            # A full car will not take more, so do not promise a start later.
            return ChargerStatus.COMPLETE
        case "suspendedevse":
            return ChargerStatus.WAITING
        case "charging":
            # Energy flows, whatever a stale "full" says; under our hold the
            # charger may still say Charging while it offers 0 A.
            return ChargerStatus.WAITING if planner_holding else ChargerStatus.CHARGING
        case "suspendedev":
            # Offered 0 A, many cars stop and the charger blames the car.
            return ChargerStatus.WAITING if planner_holding else ChargerStatus.PAUSED
        case _:
            # Preparing, or no status we know yet (just connected, or a vendor
            # word). "Preparing" claims the least: "ready" would tell
            # automations the car left, "error" would cry wolf; the next
            # StatusNotification settles it within seconds.
            return ChargerStatus.WAITING if planner_holding else ChargerStatus.PREPARING


def heartbeat_timeout(interval_s: float) -> float:
    """
    Seconds without a frame before a disconnected charger counts as offline.

    Two heartbeat intervals plus a grace: the last frame may be one interval
    old when the socket drops, and the charger needs time to reconnect. An
    interval of 0, negative or not a number means we do not know it.
    """
    if not math.isfinite(interval_s) or interval_s <= 0:
        return DEFAULT_HEARTBEAT_TIMEOUT_S
    return max(2 * interval_s + HEARTBEAT_GRACE_S, MIN_HEARTBEAT_TIMEOUT_S)


def is_online(
    *,
    connected: bool,
    last_seen: datetime | None,
    now: datetime,
    heartbeat_interval_s: float,
) -> bool:
    """
    Whether the charger can talk to Home Assistant now.

    An open websocket is online: OCPP-J does not require heartbeats, and the
    runtime's websocket pings close a socket whose peer has died. A closed
    socket stays online until the heartbeat timeout since the last frame, so
    a dropped connection or an HA restart does not flash "needs internet".
    A charger never seen is offline.
    """
    if connected:
        return True
    if last_seen is None:
        return False
    age = (now - last_seen).total_seconds()
    return age <= heartbeat_timeout(heartbeat_interval_s)


# Vendor codes firmware sends when there is nothing wrong (ABB: "0x0000",
# Wallbox: "", others "null" or "NoError" copied from errorCode).
_NO_VENDOR_CODE: Final = frozenset({"", "null", "none", "noerror"})
_ZERO = re.compile(r"^(0x)?0+$")


def _meaningful(code: str | None) -> str | None:
    """The code, trimmed; None when it only says "no error"."""
    text = (code or "").strip()
    if _key(text) in _NO_VENDOR_CODE or _ZERO.match(text.casefold()):
        return None
    return text


def error_code(error_code: str | None, vendor_error_code: str | None) -> str | None:
    """
    The code to show in the error-code sensor, or None when there is no error.

    The vendor's code is what support asks for, so it wins when it says
    anything; otherwise the OCPP errorCode (e.g. "GroundFailure").
    """
    return _meaningful(vendor_error_code) or _meaningful(error_code)
