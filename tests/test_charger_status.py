"""Pure charger status: OCPP states to the user's word, liveness, error codes."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
import itertools
import math

from hypothesis import given, strategies as st
import pytest

from custom_components.homecharge.logic.charger_status import (
    DEFAULT_HEARTBEAT_TIMEOUT_S,
    MIN_HEARTBEAT_TIMEOUT_S,
    ChargerStatus,
    charger_status,
    error_code,
    heartbeat_timeout,
    is_online,
    status_from_ocpp201,
)

S = ChargerStatus
OCPP16 = (
    "Available",
    "Preparing",
    "Charging",
    "SuspendedEVSE",
    "SuspendedEV",
    "Finishing",
    "Reserved",
    "Unavailable",
    "Faulted",
)
CONNECTOR_201 = ("Available", "Occupied", "Reserved", "Unavailable", "Faulted")
CHARGING_STATE_201 = ("Charging", "EVConnected", "SuspendedEV", "SuspendedEVSE", "Idle")

# What an online charger shows for each 1.6 status, by (planner_holding, ev_full).
EXPECTED: dict[str, dict[tuple[bool, bool], ChargerStatus]] = {
    "Available": dict.fromkeys(
        [(False, False), (True, False), (False, True), (True, True)], S.READY
    ),
    "Reserved": dict.fromkeys(
        [(False, False), (True, False), (False, True), (True, True)], S.READY
    ),
    "Preparing": {
        (False, False): S.PREPARING,
        (True, False): S.WAITING,
        (False, True): S.PREPARING,
        (True, True): S.WAITING,
    },
    "Charging": {
        (False, False): S.CHARGING,
        (True, False): S.WAITING,
        (False, True): S.CHARGING,
        (True, True): S.WAITING,
    },
    "SuspendedEVSE": {
        (False, False): S.WAITING,
        (True, False): S.WAITING,
        (False, True): S.COMPLETE,
        (True, True): S.COMPLETE,
    },
    "SuspendedEV": {
        (False, False): S.PAUSED,
        (True, False): S.WAITING,
        (False, True): S.COMPLETE,
        (True, True): S.COMPLETE,
    },
    "Finishing": dict.fromkeys(
        [(False, False), (True, False), (False, True), (True, True)], S.COMPLETE
    ),
    "Unavailable": dict.fromkeys(
        [(False, False), (True, False), (False, True), (True, True)], S.WAITING
    ),
    "Faulted": dict.fromkeys(
        [(False, False), (True, False), (False, True), (True, True)], S.ERROR
    ),
}

CASES = [
    (status, holding, full, expected)
    for status, by_flags in EXPECTED.items()
    for (holding, full), expected in by_flags.items()
]


def test_every_ocpp16_status_is_in_the_table() -> None:
    """The table below covers the whole 1.6 ChargePointStatus enum."""
    assert set(EXPECTED) == set(OCPP16)


@pytest.mark.parametrize(("status", "holding", "full", "expected"), CASES)
def test_ocpp16_status_and_flags(
    status: str, holding: bool, full: bool, expected: ChargerStatus
) -> None:
    """Every 1.6 status, with and without our hold and a full car."""
    assert (
        charger_status(
            online=True,
            restarting=False,
            ocpp_status=status,
            planner_holding=holding,
            ev_full=full,
        )
        is expected
    )


@pytest.mark.parametrize(("status", "holding", "full", "expected"), CASES)
@pytest.mark.parametrize("spell", [str.lower, str.upper, lambda s: f"  {s}\t\n"])
def test_odd_spelling_is_the_same_status(
    status: str,
    holding: bool,
    full: bool,
    expected: ChargerStatus,
    spell: Callable[[str], str],
) -> None:
    """Firmware casing and padding do not change the answer."""
    assert (
        charger_status(
            online=True,
            restarting=False,
            ocpp_status=spell(status),
            planner_holding=holding,
            ev_full=full,
        )
        is expected
    )


@pytest.mark.parametrize("status", ["suspended_ev", "Suspended EV", "SUSPENDED-EV"])
def test_enum_names_and_separators(status: str) -> None:
    """Libraries' snake_case enum names read like the wire value."""
    assert charger_status(online=True, restarting=False, ocpp_status=status) is S.PAUSED


@pytest.mark.parametrize("status", [None, "", "   ", "Occupied", "Error", "ready"])
def test_online_without_a_known_status_is_preparing(status: str | None) -> None:
    """Until the charger says what it does, it is getting ready, not free."""
    assert (
        charger_status(online=True, restarting=False, ocpp_status=status) is S.PREPARING
    )
    assert (
        charger_status(
            online=True, restarting=False, ocpp_status=status, planner_holding=True
        )
        is S.WAITING
    )


@pytest.mark.parametrize("status", [*OCPP16, None, "junk"])
def test_precedence(status: str | None) -> None:
    """Restarting beats offline, offline beats whatever the charger last said."""
    assert (
        charger_status(online=False, restarting=True, ocpp_status=status)
        is S.RESTARTING
    )
    assert (
        charger_status(online=True, restarting=True, ocpp_status=status) is S.RESTARTING
    )
    assert (
        charger_status(online=False, restarting=False, ocpp_status=status)
        is S.NEEDS_INTERNET
    )


def test_faulted_beats_hold_and_full_car() -> None:
    """A fault is shown even while the planner holds a full car."""
    assert (
        charger_status(
            online=True,
            restarting=False,
            ocpp_status="Faulted",
            planner_holding=True,
            ev_full=True,
        )
        is S.ERROR
    )


def test_enum_values() -> None:
    """The translation keys are exactly these eleven."""
    assert [s.value for s in ChargerStatus] == [
        "ready",
        "preparing",
        "waiting",
        "paused",
        "complete",
        "needs_internet",
        "charging",
        "error",
        "restarting",
        "restart_scheduled",
        "stopped",
    ]


@pytest.mark.parametrize(
    ("connector", "state", "expected"),
    [
        *[("Available", state, "Available") for state in (*CHARGING_STATE_201, None)],
        *[("Reserved", state, "Reserved") for state in (*CHARGING_STATE_201, None)],
        *[
            ("Unavailable", state, "Unavailable")
            for state in (*CHARGING_STATE_201, None)
        ],
        *[("Faulted", state, "Faulted") for state in (*CHARGING_STATE_201, None)],
        ("Occupied", "Charging", "Charging"),
        ("Occupied", "EVConnected", "Preparing"),
        ("Occupied", "SuspendedEV", "SuspendedEV"),
        ("Occupied", "SuspendedEVSE", "SuspendedEVSE"),
        ("Occupied", "Idle", "Finishing"),
        ("Occupied", None, "Preparing"),
        ("Occupied", "", "Preparing"),
        ("Occupied", "Discharging", "Preparing"),
        (" occupied ", "suspended_evse", "SuspendedEVSE"),
        ("OCCUPIED", "ev_connected", "Preparing"),
        (None, "Charging", "Charging"),
        (None, "EVConnected", "Preparing"),
        (None, "SuspendedEV", "SuspendedEV"),
        ("", "SuspendedEVSE", "SuspendedEVSE"),
        (None, "Idle", None),
        (None, None, None),
        (None, "junk", None),
        ("Plugged", "Charging", None),
        ("Charging", None, None),
    ],
)
def test_ocpp201_normalization(
    connector: str | None, state: str | None, expected: str | None
) -> None:
    """2.0.1 connector status and charging state become one 1.6 status."""
    assert status_from_ocpp201(connector, state) == expected


@pytest.mark.parametrize(
    ("connector", "state"),
    itertools.product([*CONNECTOR_201, None], [*CHARGING_STATE_201, None]),
)
def test_ocpp201_gives_statuses_charger_status_knows(
    connector: str | None, state: str | None
) -> None:
    """A known 2.0.1 connector status always maps to a real 1.6 status."""
    status16 = status_from_ocpp201(connector, state)
    assert status16 in OCPP16 or (connector is None and status16 is None)


@given(
    ocpp_status=st.one_of(st.none(), st.text(), st.sampled_from(OCPP16)),
    online=st.booleans(),
    restarting=st.booleans(),
    holding=st.booleans(),
    full=st.booleans(),
)
def test_any_input_gives_a_status(
    ocpp_status: str | None,
    online: bool,
    restarting: bool,
    holding: bool,
    full: bool,
) -> None:
    """Never raises; restarting always wins; offline is always needs_internet."""
    status = charger_status(
        online=online,
        restarting=restarting,
        ocpp_status=ocpp_status,
        planner_holding=holding,
        ev_full=full,
    )
    assert isinstance(status, ChargerStatus)
    if restarting:
        assert status is S.RESTARTING
    elif not online:
        assert status is S.NEEDS_INTERNET
    else:
        assert status not in (S.RESTARTING, S.NEEDS_INTERNET)


@given(st.text(), st.text())
def test_ocpp201_never_raises(connector: str, state: str) -> None:
    """Garbage from a 2.0.1 charger is None or a 1.6 status, never an exception."""
    assert status_from_ocpp201(connector, state) in (None, *OCPP16)


@pytest.mark.parametrize(
    ("interval", "timeout"),
    [
        (300, 630.0),
        (3600, 7230.0),
        (60, MIN_HEARTBEAT_TIMEOUT_S),
        (135, MIN_HEARTBEAT_TIMEOUT_S),
        (136, 302.0),
        (0, DEFAULT_HEARTBEAT_TIMEOUT_S),
        (-5, DEFAULT_HEARTBEAT_TIMEOUT_S),
        (math.nan, DEFAULT_HEARTBEAT_TIMEOUT_S),
        (math.inf, DEFAULT_HEARTBEAT_TIMEOUT_S),
    ],
)
def test_heartbeat_timeout(interval: float, timeout: float) -> None:
    """Two intervals plus grace, with a floor; unknown intervals get the default."""
    assert heartbeat_timeout(interval) == timeout


@given(st.floats(allow_nan=True, allow_infinity=True))
def test_heartbeat_timeout_is_a_positive_number(interval: float) -> None:
    """Any interval gives a usable timeout, never shorter than the floor."""
    timeout = heartbeat_timeout(interval)
    assert timeout >= MIN_HEARTBEAT_TIMEOUT_S
    assert not math.isnan(timeout)


NOW = datetime(2026, 1, 15, 7, 0, tzinfo=UTC)


def _online(*, connected: bool, age_s: float | None, interval: float = 300) -> bool:
    last_seen = None if age_s is None else NOW - timedelta(seconds=age_s)
    return is_online(
        connected=connected, last_seen=last_seen, now=NOW, heartbeat_interval_s=interval
    )


@pytest.mark.parametrize("connected", [True, False])
def test_one_missed_heartbeat_is_still_online(connected: bool) -> None:
    """A heartbeat that never came (age between one and two intervals) is fine."""
    assert _online(connected=connected, age_s=301)
    assert _online(connected=connected, age_s=599)


def test_closed_socket_within_the_timeout_is_online() -> None:
    """A charger reconnecting (or HA restarting) keeps its status, up to the boundary."""
    assert _online(connected=False, age_s=1)
    assert _online(connected=False, age_s=630)
    assert _online(connected=False, age_s=200, interval=10)  # the floor covers it


def test_closed_socket_past_the_timeout_is_offline() -> None:
    """Past two intervals plus grace, the charger needs internet."""
    assert not _online(connected=False, age_s=630.001)
    assert not _online(connected=False, age_s=301, interval=10)
    assert not _online(connected=False, age_s=301, interval=0)


def test_open_socket_is_online_without_heartbeats() -> None:
    """OCPP-J heartbeats are optional, so an open socket is proof enough."""
    assert _online(connected=True, age_s=86_400)
    assert _online(connected=True, age_s=None)


def test_never_seen_is_offline() -> None:
    """No socket and no frame ever: offline."""
    assert not _online(connected=False, age_s=None)


def test_clock_going_backwards_is_online() -> None:
    """A frame stamped after "now" (clock stepped back) is fresh, not an error."""
    assert _online(connected=False, age_s=-60)


@pytest.mark.parametrize(
    ("ocpp_code", "vendor_code", "shown"),
    [
        # ABB Terra AC, FW 1.8.0 (evcc-io/evcc#15493): nothing wrong.
        ("NoError", "0x0000", None),
        # Wallbox (lbbrhzn/ocpp#1925): empty vendor code.
        ("NoError", "", None),
        # ABB Terra DC (evcc-io/evcc#30114): no vendor code at all.
        ("NoError", None, None),
        # Alfen NG910 fw 4.15.7 (lbbrhzn/ocpp#337): Faulted, safe mode.
        ("OtherError", "210", "210"),
        ("GroundFailure", None, "GroundFailure"),
        ("GroundFailure", "0", "GroundFailure"),
        ("HighTemperature", "null", "HighTemperature"),
        ("OtherError", " NoError ", "OtherError"),
        ("OtherError", "0X00", "OtherError"),
        ("OtherError", "None", "OtherError"),
        ("OtherError", " E42 ", "E42"),
        ("NoError", "E42", "E42"),
        ("noerror", "0", None),
        (None, None, None),
        ("", "  ", None),
        ("0", None, None),
    ],
)
def test_error_code(
    ocpp_code: str | None, vendor_code: str | None, shown: str | None
) -> None:
    """The vendor's code when it says something, else the OCPP errorCode."""
    assert error_code(ocpp_code, vendor_code) == shown


def test_error_code_of_real_frames() -> None:
    """StatusNotification payloads as chargers sent them."""
    # evcc-io/evcc#15493, ABB Terra AC FW 1.8.0.
    abb = {
        "connectorId": 0,
        "errorCode": "NoError",
        "info": "null",
        "status": "Available",
        "vendorErrorCode": "0x0000",
    }
    # lbbrhzn/ocpp#337, Alfen NG910-60023 fw 4.15.7-4054.
    alfen = {
        "connectorId": 0,
        "errorCode": "OtherError",
        "info": "Modbus TCP/IP lost, in safe mode max 14.0A",
        "status": "Faulted",
        "timestamp": "2022-01-31T14:44:28Z",
        "vendorErrorCode": "210",
    }
    for frame, status, code in ((abb, S.READY, None), (alfen, S.ERROR, "210")):
        assert (
            error_code(str(frame["errorCode"]), str(frame["vendorErrorCode"])) == code
        )
        assert (
            charger_status(
                online=True, restarting=False, ocpp_status=str(frame["status"])
            )
            is status
        )


@given(st.one_of(st.none(), st.text()), st.one_of(st.none(), st.text()))
def test_error_code_never_raises(
    ocpp_code: str | None, vendor_code: str | None
) -> None:
    """Any input gives None or a trimmed, non-empty code."""
    shown = error_code(ocpp_code, vendor_code)
    assert shown is None or (shown and shown == shown.strip())


@pytest.mark.parametrize(
    ("ocpp_status", "stop_reason", "expected"),
    [
        ("Finishing", "Remote", S.STOPPED),
        ("Finishing", "Local", S.STOPPED),
        ("SuspendedEV", "local", S.STOPPED),
        # The car left, or the session ended by itself: complete as before.
        ("Finishing", "EVDisconnected", S.COMPLETE),
        ("Finishing", None, S.COMPLETE),
        # A new car charging: the last session's reason is history.
        ("Charging", "Remote", S.CHARGING),
    ],
)
def test_a_stopped_session_is_not_complete(
    ocpp_status: str, stop_reason: str | None, expected: S
) -> None:
    """Stopped by someone with the car still plugged in: not "complete"."""
    assert (
        charger_status(
            online=True,
            restarting=False,
            ocpp_status=ocpp_status,
            stop_reason=stop_reason,
        )
        is expected
    )
