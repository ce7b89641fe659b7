"""The charger simulator against a tiny central system over real websockets.

The central system here is an aiohttp websocket server running the ``ocpp``
package's CSMS side, so every frame the simulator sends is checked against the
official OCPP schemas on arrival.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
import itertools
from pathlib import Path
import signal
import sys
import time
from typing import Any

from aiohttp import BasicAuth, hdrs, web
from ocpp.routing import on
from ocpp.v16 import (
    ChargePoint as ChargePoint16,
    call as call16,
    call_result as result16,
)
from ocpp.v201 import (
    ChargePoint as ChargePoint201,
    call as call201,
    call_result as result201,
)
import pytest

from tests.simulators.base import ConnectionClosed, WebSocketAdapter
from tests.simulators.charger import SimulatedCharger

ROOT = Path(__file__).parents[1]
FIRST_KEY = "first-secret"
SECOND_KEY = "second-secret"
AUTH_KEY = "0123456789abcdef0123456789abcdef"


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _now() -> str:
    return _iso(datetime.now(UTC))


class CentralSystem:
    """A minimal CSMS: accepts everyone (or checks a password) and records calls."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, dict[str, Any]]] = []
        self.points: dict[str, Any] = {}
        self.sockets: dict[str, web.WebSocketResponse] = {}
        self.boot_status = "Accepted"
        self.interval = 60
        self.password: str | None = None
        self.tx_ids = itertools.count(101)
        self.url = ""
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/noproto/{cp_id}", self._no_subprotocol)
        app.router.add_get("/{cp_id}", self._handle)
        self._runner = web.AppRunner(app, shutdown_timeout=1)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.url = f"ws://127.0.0.1:{port}"

    async def close(self) -> None:
        for ws in list(self.sockets.values()):
            await ws.close()
        assert self._runner is not None
        await self._runner.cleanup()

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        cp_id = request.match_info["cp_id"]
        if self.password is not None:
            header = request.headers.get(hdrs.AUTHORIZATION, "")
            try:
                auth = BasicAuth.decode(header)
            except ValueError:
                raise web.HTTPUnauthorized from None
            if (auth.login, auth.password) != (cp_id, self.password):
                raise web.HTTPUnauthorized
        ws = web.WebSocketResponse(protocols=("ocpp1.6", "ocpp2.0.1"))
        await ws.prepare(request)
        kind = Csms16 if ws.ws_protocol == "ocpp1.6" else Csms201
        point = kind(cp_id, WebSocketAdapter(ws), self)
        self.points[cp_id] = point
        self.sockets[cp_id] = ws
        try:
            await point.start()
        except ConnectionClosed:
            pass
        finally:
            if self.sockets.get(cp_id) is ws:
                del self.sockets[cp_id]
        return ws

    async def _no_subprotocol(self, request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        async for _ in ws:
            pass
        return ws

    def record(self, cp_id: str, action: str, payload: dict[str, Any]) -> None:
        self.calls.append((cp_id, action, payload))

    def got(self, action: str, cp_id: str | None = None) -> list[dict[str, Any]]:
        return [
            payload
            for who, name, payload in self.calls
            if name == action and cp_id in (None, who)
        ]

    async def call(self, cp_id: str, payload: Any) -> Any:
        return await self.points[cp_id].call(payload)


class Csms16(ChargePoint16):
    def __init__(self, cp_id: str, connection: Any, csms: CentralSystem) -> None:
        super().__init__(cp_id, connection, response_timeout=5)
        self.csms = csms

    @on("BootNotification")
    def on_boot(self, **payload: Any) -> Any:
        self.csms.record(self.id, "BootNotification", payload)
        return result16.BootNotification(
            current_time=_now(),
            interval=self.csms.interval,
            status=self.csms.boot_status,
        )

    @on("Heartbeat")
    def on_heartbeat(self, **payload: Any) -> Any:
        self.csms.record(self.id, "Heartbeat", payload)
        return result16.Heartbeat(current_time=_now())

    @on("StatusNotification")
    def on_status(self, **payload: Any) -> Any:
        self.csms.record(self.id, "StatusNotification", payload)
        return result16.StatusNotification()

    @on("MeterValues")
    def on_meter_values(self, **payload: Any) -> Any:
        self.csms.record(self.id, "MeterValues", payload)
        return result16.MeterValues()

    @on("Authorize")
    def on_authorize(self, **payload: Any) -> Any:
        self.csms.record(self.id, "Authorize", payload)
        return result16.Authorize(id_tag_info={"status": "Accepted"})

    @on("StartTransaction")
    def on_start_transaction(self, **payload: Any) -> Any:
        self.csms.record(self.id, "StartTransaction", payload)
        return result16.StartTransaction(
            transaction_id=next(self.csms.tx_ids), id_tag_info={"status": "Accepted"}
        )

    @on("StopTransaction")
    def on_stop_transaction(self, **payload: Any) -> Any:
        self.csms.record(self.id, "StopTransaction", payload)
        return result16.StopTransaction()


class Csms201(ChargePoint201):
    def __init__(self, cp_id: str, connection: Any, csms: CentralSystem) -> None:
        super().__init__(cp_id, connection, response_timeout=5)
        self.csms = csms

    @on("BootNotification")
    def on_boot_201(self, **payload: Any) -> Any:
        self.csms.record(self.id, "BootNotification", payload)
        return result201.BootNotification(
            current_time=_now(),
            interval=self.csms.interval,
            status=self.csms.boot_status,
        )

    @on("Heartbeat")
    def on_heartbeat_201(self, **payload: Any) -> Any:
        self.csms.record(self.id, "Heartbeat", payload)
        return result201.Heartbeat(current_time=_now())

    @on("StatusNotification")
    def on_status_201(self, **payload: Any) -> Any:
        self.csms.record(self.id, "StatusNotification", payload)
        return result201.StatusNotification()

    @on("MeterValues")
    def on_meter_values_201(self, **payload: Any) -> Any:
        self.csms.record(self.id, "MeterValues", payload)
        return result201.MeterValues()

    @on("TransactionEvent")
    def on_transaction_event(self, **payload: Any) -> Any:
        self.csms.record(self.id, "TransactionEvent", payload)
        if payload["event_type"] == "Started":
            return result201.TransactionEvent(id_token_info={"status": "Accepted"})
        return result201.TransactionEvent()


@pytest.fixture
async def csms(socket_enabled: None) -> AsyncIterator[CentralSystem]:
    """The central system on a free loopback port."""
    system = CentralSystem()
    await system.start()
    yield system
    await system.close()


@pytest.fixture
async def make_charger(
    csms: CentralSystem,
) -> AsyncIterator[Callable[..., SimulatedCharger]]:
    """Chargers pointed at ``csms`` with fast timings; all stopped afterwards."""
    chargers: list[SimulatedCharger] = []

    def make(**config: Any) -> SimulatedCharger:
        config = {
            "url": csms.url,
            "charge_point_id": f"SIM-{len(chargers) + 1}",
            "meter_interval_s": 0.1,
            "reset_delay_s": 0.1,
            "reconnect_interval_s": 0.1,
            "response_timeout_s": 3,
        } | config
        charger = SimulatedCharger(**config)
        chargers.append(charger)
        return charger

    yield make
    for charger in chargers:
        await charger.stop()


async def until(predicate: Callable[[], object], within: float = 3.0) -> None:
    """Wait for a condition on the central system's side."""
    deadline = time.monotonic() + within
    while not predicate():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.01)


def last_status(csms: CentralSystem) -> str | None:
    """The status last notified (None before the first: a busy machine is slow)."""
    notified = csms.got("StatusNotification")
    return str(notified[-1]["status"]) if notified else None


def last_meter_value(
    csms: CentralSystem, measurand: str, phase: str | None = None
) -> float | None:
    """The latest MeterValues' reading of ``measurand`` (None before the first)."""
    sent = csms.got("MeterValues")
    return reading(sent[-1], measurand, phase) if sent else None


def samples(meter_values: dict[str, Any]) -> list[dict[str, Any]]:
    """All sampled values of a MeterValues / TransactionEvent payload."""
    return [
        sample
        for value in meter_values["meter_value"]
        for sample in value["sampled_value"]
    ]


def reading(
    meter_values: dict[str, Any], measurand: str, phase: str | None = None
) -> float:
    """One measurand's value (first match) as a number."""
    for sample in samples(meter_values):
        if sample.get("measurand") == measurand and sample.get("phase") == phase:
            return float(sample["value"])
    raise AssertionError(f"no {measurand} {phase} in {meter_values}")


def max_profile(
    limit: float,
    *,
    unit: str = "A",
    purpose: str = "ChargePointMaxProfile",
    kind: str = "Absolute",
    stack_level: int = 1,
    duration: int | None = None,
    valid_to: datetime | None = None,
    profile_id: int = 1,
) -> dict[str, Any]:
    """A 1.6 csChargingProfiles (snake_case; the ocpp package camelCases it)."""
    schedule: dict[str, Any] = {
        "charging_rate_unit": unit,
        "charging_schedule_period": [{"start_period": 0, "limit": limit}],
    }
    if kind == "Absolute":
        schedule["start_schedule"] = _iso(datetime.now(UTC) - timedelta(seconds=1))
    if duration is not None:
        schedule["duration"] = duration
    profile: dict[str, Any] = {
        "charging_profile_id": profile_id,
        "stack_level": stack_level,
        "charging_profile_purpose": purpose,
        "charging_profile_kind": kind,
        "charging_schedule": schedule,
    }
    if valid_to is not None:
        profile["valid_to"] = _iso(valid_to)
    return profile


async def test_boot_status_and_heartbeat(
    csms: CentralSystem, make_charger: Callable[..., SimulatedCharger]
) -> None:
    """Boot with the configured identity, statuses for 0 and 1, heartbeats at the interval."""
    csms.interval = 1
    charger = make_charger(vendor="Alfen BV", model="NG910-60023", serial="ACE0001")
    await charger.start()

    boot = csms.got("BootNotification")[0]
    assert boot["charge_point_vendor"] == "Alfen BV"
    assert boot["charge_point_model"] == "NG910-60023"
    assert boot["charge_point_serial_number"] == "ACE0001"
    await until(lambda: len(csms.got("StatusNotification")) >= 2)
    assert [
        (s["connector_id"], s["status"]) for s in csms.got("StatusNotification")
    ] == [
        (0, "Available"),
        (1, "Available"),
    ]
    assert charger.connected
    assert charger.boots == 1
    assert charger.heartbeat_interval == 1
    await until(lambda: csms.got("Heartbeat"), within=2)
    assert charger.errors == []


async def test_transaction_meter_values_grow(
    csms: CentralSystem, make_charger: Callable[..., SimulatedCharger]
) -> None:
    """Plug, start: StartTransaction, Charging, MeterValues with growing energy; stop, unplug."""
    charger = make_charger(initial_energy_wh=4_265_924)
    await charger.start()
    charger.plug_in()
    await until(lambda: last_status(csms) == "Preparing")

    transaction_id = await charger.start_transaction("TAG-42")
    start = csms.got("StartTransaction")[0]
    assert start["id_tag"] == "TAG-42"
    assert start["meter_start"] == 4_265_924
    assert transaction_id == 101
    await until(lambda: last_status(csms) == "Charging")

    await until(
        lambda: len([m for m in csms.got("MeterValues") if m.get("transaction_id")])
        >= 3
    )
    during = [m for m in csms.got("MeterValues") if m.get("transaction_id") == 101]
    energies = [reading(m, "Energy.Active.Import.Register") for m in during]
    assert energies == sorted(energies)
    assert energies[-1] > energies[0] >= 4_265_924
    last = during[-1]
    assert [reading(last, "Current.Import", f"L{n}") for n in (1, 2, 3)] == [32.0] * 3
    assert reading(last, "Current.Offered") == 32.0
    assert reading(last, "Power.Active.Import") == pytest.approx(32 * 230 * 3)
    assert {
        s["unit"] for s in samples(last) if s["measurand"].startswith("Energy")
    } == {"Wh"}

    await charger.stop_transaction()
    stop = csms.got("StopTransaction")[0]
    assert stop["transaction_id"] == 101
    assert stop["reason"] == "Local"
    assert stop["meter_stop"] >= start["meter_start"]
    assert charger.status == "Finishing"
    charger.unplug()
    await until(lambda: last_status(csms) == "Available")
    assert charger.errors == []


@pytest.mark.parametrize(("unit", "limit"), [("A", 10.0), ("W", 6900.0)])
async def test_max_profile_caps_current(
    csms: CentralSystem,
    make_charger: Callable[..., SimulatedCharger],
    unit: str,
    limit: float,
) -> None:
    """A ChargePointMaxProfile on connector 0 caps the current (W over 3 × 230 V)."""
    charger = make_charger(rate_unit="Current,Power")
    await charger.start()
    await charger.start_transaction()

    result = await csms.call(
        charger.charge_point_id,
        call16.SetChargingProfile(
            connector_id=0, cs_charging_profiles=max_profile(limit, unit=unit)
        ),
    )
    assert result.status == "Accepted"
    await charger.wait_for(lambda: charger.current_a == pytest.approx(10.0))
    assert charger.current_limit_a == pytest.approx(10.0)
    await until(lambda: last_meter_value(csms, "Current.Import", "L1") == 10.0)
    assert charger.profiles[0].purpose == "ChargePointMaxProfile"
    assert charger.received_calls("SetChargingProfile")[0]["connector_id"] == 0


@pytest.mark.parametrize(
    ("quirks", "profile"),
    [
        ({"rejects_purposes": {"ChargePointMaxProfile"}}, max_profile(10)),
        ({"rejects_relative": True}, max_profile(10, kind="Relative")),
        ({"max_stack_level": 3}, max_profile(10, stack_level=4)),
        ({"rate_unit": "A"}, max_profile(6900, unit="W")),
    ],
    ids=["purpose", "relative", "stack-level", "unit"],
)
async def test_quirky_charger_rejects_profile(
    csms: CentralSystem,
    make_charger: Callable[..., SimulatedCharger],
    quirks: dict[str, Any],
    profile: dict[str, Any],
) -> None:
    """Rejected purposes, Relative, too high stack levels and units answer Rejected."""
    charger = make_charger(**quirks)
    await charger.start()
    result = await csms.call(
        charger.charge_point_id,
        call16.SetChargingProfile(connector_id=0, cs_charging_profiles=profile),
    )
    assert result.status == "Rejected"
    assert charger.profiles == []
    # The same limit as a TxDefaultProfile at a low stack level is fine.
    fallback = max_profile(10, purpose="TxDefaultProfile")
    result = await csms.call(
        charger.charge_point_id,
        call16.SetChargingProfile(connector_id=1, cs_charging_profiles=fallback),
    )
    assert result.status == "Accepted"
    assert charger.current_limit_a == 10


async def test_profile_stacking_and_clearing(
    csms: CentralSystem, make_charger: Callable[..., SimulatedCharger]
) -> None:
    """TxProfile beats TxDefaultProfile, the station maximum caps both; clearing undoes."""
    charger = make_charger()
    await charger.start()
    cp_id = charger.charge_point_id

    async def set_profile(connector_id: int, profile: dict[str, Any]) -> None:
        result = await csms.call(
            cp_id,
            call16.SetChargingProfile(
                connector_id=connector_id, cs_charging_profiles=profile
            ),
        )
        assert result.status == "Accepted"

    await set_profile(0, max_profile(20, purpose="TxDefaultProfile", profile_id=1))
    assert charger.current_limit_a == 20
    tx_profile = max_profile(12, purpose="TxProfile", kind="Relative", profile_id=2)
    result = await csms.call(
        cp_id,
        call16.RemoteStartTransaction(id_tag="REMOTE-2", charging_profile=tx_profile),
    )
    assert result.status == "Accepted"
    charger.plug_in()
    await charger.wait_for(lambda: charger.current_a == 12)
    await set_profile(0, max_profile(16, profile_id=3))
    assert charger.current_limit_a == 12
    await set_profile(0, max_profile(8, profile_id=3))
    assert charger.current_limit_a == 8

    result = await csms.call(
        cp_id,
        call16.ClearChargingProfile(charging_profile_purpose="ChargePointMaxProfile"),
    )
    assert result.status == "Accepted"
    assert charger.current_limit_a == 12
    await charger.stop_transaction()
    assert charger.current_limit_a == 20  # the TxProfile ended with its transaction
    result = await csms.call(cp_id, call16.ClearChargingProfile())
    assert result.status == "Accepted"
    assert charger.current_limit_a == 32
    assert charger.profiles == []


async def test_expired_profiles_fall_back(
    csms: CentralSystem, make_charger: Callable[..., SimulatedCharger]
) -> None:
    """A profile past its duration or validTo stops limiting: the fallback current rules."""
    charger = make_charger(fallback_current=16)
    await charger.start()
    await charger.start_transaction()
    assert charger.current_limit_a == 16

    stale = max_profile(8, valid_to=datetime.now(UTC) - timedelta(seconds=1))
    result = await csms.call(
        charger.charge_point_id,
        call16.SetChargingProfile(connector_id=0, cs_charging_profiles=stale),
    )
    assert result.status == "Accepted"
    assert charger.current_limit_a == 16

    # Started a second ago, lasting two: applies for about one more second.
    short = max_profile(8, duration=2, profile_id=2)
    result = await csms.call(
        charger.charge_point_id,
        call16.SetChargingProfile(connector_id=0, cs_charging_profiles=short),
    )
    assert result.status == "Accepted"
    await charger.wait_for(lambda: charger.current_a == 8)
    began = time.monotonic()
    await charger.wait_for(lambda: charger.current_a == 16, timeout=3)
    assert time.monotonic() - began > 0.3  # the limit held until the profile ended
    await until(lambda: last_meter_value(csms, "Current.Offered") == 16)


async def test_low_limit_suspends_unless_charger_ignores_zero(
    csms: CentralSystem, make_charger: Callable[..., SimulatedCharger]
) -> None:
    """Below 6 A a charger suspends (SuspendedEVSE); one that ignores it keeps 6 A."""
    strict = make_charger()
    sloppy = make_charger(ignores_zero=True)
    for charger in (strict, sloppy):
        await charger.start()
        await charger.start_transaction()
        result = await csms.call(
            charger.charge_point_id,
            call16.SetChargingProfile(
                connector_id=0, cs_charging_profiles=max_profile(0)
            ),
        )
        assert result.status == "Accepted"

    await strict.wait_for(lambda: strict.status == "SuspendedEVSE")
    assert strict.current_a == 0
    await until(
        lambda: csms.got("StatusNotification", strict.charge_point_id)[-1]["status"]
        == "SuspendedEVSE"
    )
    await sloppy.wait_for(lambda: sloppy.offered_current == 6)
    assert sloppy.status == "Charging"
    assert sloppy.current_a == 6
    assert sloppy.current_limit_a == 0


async def test_configuration(
    csms: CentralSystem, make_charger: Callable[..., SimulatedCharger]
) -> None:
    """GetConfiguration shows the rate unit quirk; ChangeConfiguration knows what is writable."""
    charger = make_charger(rate_unit="Current,Power", max_stack_level=3)
    await charger.start()
    cp_id = charger.charge_point_id

    result = await csms.call(
        cp_id,
        call16.GetConfiguration(
            key=["ChargingScheduleAllowedChargingRateUnit", "AuthorizationKey", "Foo"]
        ),
    )
    assert result.configuration_key == [
        {
            "key": "ChargingScheduleAllowedChargingRateUnit",
            "readonly": True,
            "value": "Current,Power",
        }
    ]
    assert result.unknown_key == ["AuthorizationKey", "Foo"]
    everything = await csms.call(cp_id, call16.GetConfiguration())
    keys = {item["key"]: item["value"] for item in everything.configuration_key}
    assert keys["ChargeProfileMaxStackLevel"] == "3"
    assert keys["MeterValueSampleInterval"] == "0.1"
    assert "AuthorizationKey" not in keys

    changes = {
        ("HeartbeatInterval", "30"): "Accepted",
        ("MeterValueSampleInterval", "0.2"): "Accepted",
        ("MeterValueSampleInterval", "soon"): "Rejected",
        ("NumberOfConnectors", "2"): "Rejected",
        ("Foo", "1"): "NotSupported",
        ("AuthorizationKey", AUTH_KEY): "Accepted",
    }
    for (key, value), expected in changes.items():
        result = await csms.call(
            cp_id, call16.ChangeConfiguration(key=key, value=value)
        )
        assert result.status == expected, key
    assert charger.heartbeat_interval == 30
    assert charger.meter_interval_s == 0.2
    assert charger.password == AUTH_KEY


async def test_authorization_key_is_used_on_the_next_connection(
    csms: CentralSystem, make_charger: Callable[..., SimulatedCharger]
) -> None:
    """Basic auth with the password; a new AuthorizationKey counts from the next connect."""
    csms.password = FIRST_KEY
    wrong = make_charger(password=SECOND_KEY)
    await wrong.start(wait=False)
    await wrong.wait_for(lambda: wrong.state.startswith("refused: HTTP 401"))
    await wrong.stop()

    charger = make_charger(password=FIRST_KEY)
    await charger.start()
    result = await csms.call(
        charger.charge_point_id,
        call16.ChangeConfiguration(key="AuthorizationKey", value=SECOND_KEY),
    )
    assert result.status == "Accepted"
    csms.password = SECOND_KEY
    await csms.sockets[charger.charge_point_id].close()
    await charger.wait_for(lambda: charger.boots == 2)
    assert charger.errors == []


async def test_reset_reconnects_and_boots_again(
    csms: CentralSystem, make_charger: Callable[..., SimulatedCharger]
) -> None:
    """Reset Accepted: the transaction ends (HardReset), the socket closes, boot again."""
    charger = make_charger()
    stubborn = make_charger(refuses_reset=True)
    await charger.start()
    await stubborn.start()
    await charger.start_transaction()

    result = await csms.call(charger.charge_point_id, call16.Reset(type="Hard"))
    assert result.status == "Accepted"
    await charger.wait_for(lambda: charger.boots == 2)
    assert csms.got("StopTransaction")[0]["reason"] == "HardReset"
    assert len(csms.got("BootNotification", charger.charge_point_id)) == 2
    assert charger.transaction_id is None
    assert charger.status == "Preparing"  # the car is still plugged in

    result = await csms.call(stubborn.charge_point_id, call16.Reset(type="Soft"))
    assert result.status == "Rejected"
    assert stubborn.boots == 1
    assert charger.errors == stubborn.errors == []


async def test_remote_start_stop_availability_and_trigger(
    csms: CentralSystem, make_charger: Callable[..., SimulatedCharger]
) -> None:
    """RemoteStart waits for the car; RemoteStop; ChangeAvailability; TriggerMessage."""
    charger = make_charger()
    await charger.start()
    cp_id = charger.charge_point_id

    result = await csms.call(cp_id, call16.RemoteStartTransaction(id_tag="REMOTE-1"))
    assert result.status == "Accepted"
    await asyncio.sleep(0.05)
    assert csms.got("StartTransaction") == []
    charger.plug_in()
    await charger.wait_for(lambda: charger.status == "Charging")
    assert csms.got("StartTransaction")[0]["id_tag"] == "REMOTE-1"

    result = await csms.call(
        cp_id, call16.ChangeAvailability(connector_id=0, type="Inoperative")
    )
    assert result.status == "Scheduled"
    result = await csms.call(cp_id, call16.RemoteStopTransaction(transaction_id=999))
    assert result.status == "Rejected"
    result = await csms.call(
        cp_id, call16.RemoteStopTransaction(transaction_id=charger.transaction_id)
    )
    assert result.status == "Accepted"
    await until(lambda: csms.got("StopTransaction"))
    assert csms.got("StopTransaction")[0]["reason"] == "Remote"
    await charger.wait_for(lambda: charger.status == "Unavailable")
    assert charger.availability == "Inoperative"
    result = await csms.call(
        cp_id, call16.ChangeAvailability(connector_id=1, type="Operative")
    )
    assert result.status == "Accepted"
    await until(lambda: last_status(csms) == "Finishing")

    before = len(csms.got("StatusNotification"))
    result = await csms.call(
        cp_id,
        call16.TriggerMessage(requested_message="StatusNotification", connector_id=1),
    )
    assert result.status == "Accepted"
    await until(lambda: len(csms.got("StatusNotification")) == before + 1)
    result = await csms.call(
        cp_id, call16.TriggerMessage(requested_message="Heartbeat")
    )
    assert result.status == "Accepted"
    await until(lambda: csms.got("Heartbeat"))
    result = await csms.call(cp_id, call16.UnlockConnector(connector_id=1))
    assert result.status == "Unlocked"
    result = await csms.call(cp_id, call16.DataTransfer(vendor_id="com.example"))
    assert result.status == "UnknownVendorId"
    result = await csms.call(cp_id, call16.ClearChargingProfile())
    assert result.status == "Unknown"
    assert [name for name, _ in charger.received][:2] == [
        "RemoteStartTransaction",
        "ChangeAvailability",
    ]
    assert charger.errors == []


async def test_meter_value_quirks(
    csms: CentralSystem, make_charger: Callable[..., SimulatedCharger]
) -> None:
    """kWh / kW units and Current.Import without a phase, as some chargers send them."""
    charger = make_charger(
        energy_unit="kWh", power_unit="kW", omit_phase=True, phases=1
    )
    await charger.start()
    await charger.start_transaction()
    await until(
        lambda: len([m for m in csms.got("MeterValues") if m.get("transaction_id")])
        >= 2
    )
    last = csms.got("MeterValues")[-1]
    units = {s["measurand"]: s["unit"] for s in samples(last)}
    assert units["Energy.Active.Import.Register"] == "kWh"
    assert units["Power.Active.Import"] == "kW"
    assert reading(last, "Current.Import") == 32.0
    assert reading(last, "Power.Active.Import") == pytest.approx(7.36)
    assert all("phase" not in s for s in samples(last))


async def test_pending_boot_is_retried(
    csms: CentralSystem, make_charger: Callable[..., SimulatedCharger]
) -> None:
    """Pending: the charger boots again after the interval, then runs normally."""
    csms.boot_status = "Pending"
    csms.interval = 1
    charger = make_charger()
    await charger.start(wait=False)
    await until(lambda: csms.got("BootNotification"))
    assert not charger.booted
    assert csms.got("StatusNotification") == []
    csms.boot_status = "Accepted"
    await charger.wait_for(lambda: charger.booted, timeout=2)
    assert len(csms.got("BootNotification")) == 2
    assert charger.boots == 1


async def test_unreachable_and_unagreeable_servers(
    csms: CentralSystem, make_charger: Callable[..., SimulatedCharger]
) -> None:
    """No server, or one that ignores the subprotocol: retried, with the reason in ``state``."""
    nowhere = make_charger(url="ws://127.0.0.1:9")
    with pytest.raises(TimeoutError):
        await nowhere.start(timeout=0.3)
    assert nowhere.state == "stopped"

    stubborn = make_charger(url=f"{csms.url}/noproto")
    await stubborn.start(wait=False)
    await stubborn.wait_for(lambda: "subprotocol ocpp1.6" in stubborn.state)
    assert not stubborn.connected


async def test_send_raw_and_server_close(
    csms: CentralSystem, make_charger: Callable[..., SimulatedCharger]
) -> None:
    """Hostile frames go out as they are; a closed socket is reconnected."""
    charger = make_charger()
    await charger.start()
    await charger.send_raw("this is not OCPP")
    await charger.send_raw('[2, "x1", "NoSuchAction", {}]')
    await csms.sockets[charger.charge_point_id].close()
    await charger.wait_for(lambda: charger.boots == 2)
    assert charger.errors == []
    await charger.stop()
    await charger.stop()  # idempotent
    assert not charger.connected
    with pytest.raises(ConnectionClosed):
        await charger.send_raw("[]")


async def test_ocpp201_life_cycle(
    csms: CentralSystem, make_charger: Callable[..., SimulatedCharger]
) -> None:
    """2.0.1: boot, StatusNotification, TransactionEvent Started/Updated/Ended, a max profile."""
    charger = make_charger(version="2.0.1", rate_unit="A,W")
    await charger.start()
    cp_id = charger.charge_point_id
    boot = csms.got("BootNotification")[0]
    assert boot["reason"] == "PowerUp"
    assert boot["charging_station"]["vendor_name"] == "Homecharge Sim"
    await until(lambda: csms.got("StatusNotification"))
    assert csms.got("StatusNotification")[0]["connector_status"] == "Available"

    transaction_id = await charger.start_transaction("TOKEN-1")
    started = csms.got("TransactionEvent")[0]
    assert started["event_type"] == "Started"
    assert started["transaction_info"]["transaction_id"] == transaction_id
    assert started["transaction_info"]["charging_state"] == "Charging"
    assert started["id_token"] == {"id_token": "TOKEN-1", "type": "ISO14443"}
    await until(
        lambda: csms.got("StatusNotification")[-1]["connector_status"] == "Occupied"
    )

    profile = {
        "id": 7,
        "stack_level": 1,
        "charging_profile_purpose": "ChargingStationMaxProfile",
        "charging_profile_kind": "Absolute",
        "charging_schedule": [
            {
                "id": 1,
                "start_schedule": _iso(datetime.now(UTC) - timedelta(seconds=1)),
                "charging_rate_unit": "A",
                "charging_schedule_period": [{"start_period": 0, "limit": 10}],
            }
        ],
    }
    result = await csms.call(
        cp_id, call201.SetChargingProfile(evse_id=0, charging_profile=profile)
    )
    assert result.status == "Accepted"
    await charger.wait_for(lambda: charger.current_a == 10)
    await until(
        lambda: reading(csms.got("TransactionEvent")[-1], "Current.Import", "L1") == 10
    )
    updated = csms.got("TransactionEvent")[-1]
    assert updated["event_type"] == "Updated"
    assert isinstance(samples(updated)[0]["value"], (int, float))

    result = await csms.call(
        cp_id,
        call201.GetVariables(
            get_variable_data=[
                {
                    "component": {"name": "SmartChargingCtrlr"},
                    "variable": {"name": "RateUnit"},
                },
                {
                    "component": {"name": "SmartChargingCtrlr"},
                    "variable": {"name": "Nope"},
                },
            ]
        ),
    )
    assert [r["attribute_status"] for r in result.get_variable_result] == [
        "Accepted",
        "UnknownVariable",
    ]
    assert result.get_variable_result[0]["attribute_value"] == "A,W"

    result = await csms.call(
        cp_id, call201.RequestStopTransaction(transaction_id=transaction_id)
    )
    assert result.status == "Accepted"
    await until(lambda: csms.got("TransactionEvent")[-1]["event_type"] == "Ended")
    ended = csms.got("TransactionEvent")[-1]
    assert ended["transaction_info"]["stopped_reason"] == "Remote"
    seq_nos = [event["seq_no"] for event in csms.got("TransactionEvent")]
    assert seq_nos == list(range(len(seq_nos)))

    result = await csms.call(cp_id, call201.Reset(type="Immediate"))
    assert result.status == "Accepted"
    await charger.wait_for(lambda: charger.boots == 2)
    assert csms.got("BootNotification")[-1]["reason"] == "RemoteReset"
    assert charger.errors == []


async def test_ocpp201_reset_on_idle_waits_for_the_transaction(
    csms: CentralSystem, make_charger: Callable[..., SimulatedCharger]
) -> None:
    """Reset OnIdle while charging: Scheduled; the reboot follows the transaction's end."""
    charger = make_charger(version="2.0.1")
    await charger.start()
    await charger.start_transaction()
    result = await csms.call(charger.charge_point_id, call201.Reset(type="OnIdle"))
    assert result.status == "Scheduled"
    await asyncio.sleep(0.2)
    assert charger.boots == 1
    await charger.stop_transaction()
    await charger.wait_for(lambda: charger.boots == 2)
    ended = [e for e in csms.got("TransactionEvent") if e["event_type"] == "Ended"]
    assert ended[0]["transaction_info"]["stopped_reason"] == "Local"
    assert charger.errors == []


async def test_command_line_autoplug(csms: CentralSystem) -> None:
    """``python -m tests.simulators.charger --autoplug`` charges, and stops on SIGINT."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.simulators.charger",
        "--url",
        csms.url,
        "--id",
        "CLI-1",
        "--autoplug",
        "--meter-interval",
        "0.2",
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        await until(lambda: csms.got("MeterValues", "CLI-1"), within=4.5)
        assert csms.got("StartTransaction", "CLI-1")
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGINT)
        _, stderr = await asyncio.wait_for(process.communicate(), timeout=5)
    assert process.returncode == 0, stderr.decode()
    assert "CLI-1: booted" in stderr.decode()
