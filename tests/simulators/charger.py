"""
A simulated OCPP charger that drives our central system over a real websocket.

    charger = SimulatedCharger(url="ws://127.0.0.1:9000", charge_point_id="SIM-1",
                               meter_interval_s=0.1)
    await charger.start()                  # connects, boots, runs its loops
    await charger.start_transaction("TAG-1")
    await charger.wait_for(lambda: charger.current_a == 10)
    await charger.stop()

or from the repository root (until Ctrl-C / SIGTERM):

    python -m tests.simulators.charger --url ws://127.0.0.1:9000 --id SIM-1 --autoplug

The charger connects to ``{url}/{charge_point_id}`` with subprotocol ``ocpp1.6`` or
``ocpp2.0.1`` (a server that does not agree counts as a refusal), HTTP Basic auth
when a password is set, and reconnects every ``reconnect_interval_s`` when the
server is down, refuses, or closes the socket. There is no offline queue: what
happens while disconnected is only told through the statuses sent after the next
boot (a transaction survives a lost connection; a Reset ends it).

Physics: while a transaction runs, the car draws ``min(offered, car_max_current)``
on ``phases`` phases at ``voltage``; the energy register integrates that power.
The offered current is ``min(limit, max_current)`` where the limit is the lowest of
the station-wide profile (ChargePointMaxProfile / ChargingStationMaxProfile) and
the transaction's profile (TxProfile, else TxDefaultProfile), each the highest
stack level that applies now (validFrom/validTo, startSchedule + duration,
Relative from the transaction start, Daily/Weekly recurrence). W limits become
amps through ``voltage`` × phases. With no applicable profile the limit is
``fallback_current`` (default ``max_current``): an expired profile is how a charger
falls back when Home Assistant dies. Offered below 6 A is 0 A (SuspendedEVSE),
unless ``ignores_zero``: then it keeps offering and drawing 6 A. One simplification:
the station-wide cap limits each connector, not their sum.

OCPP 1.6 (``v16.py``): BootNotification (Pending/Rejected → retried after the
interval), StatusNotification for connector 0 and each connector, Heartbeat,
StartTransaction/StopTransaction, MeterValues; answers RemoteStart/Stop,
SetChargingProfile, ClearChargingProfile, ChangeAvailability, Reset,
UnlockConnector, GetConfiguration, ChangeConfiguration, TriggerMessage, DataTransfer
(everything else gets the ``ocpp`` package's NotImplemented CallError).

OCPP 2.0.1 (``v201.py``) covers the same life cycle: BootNotification,
StatusNotification, Heartbeat, TransactionEvent Started/Updated/Ended, MeterValues
outside transactions; answers RequestStart/StopTransaction, SetChargingProfile,
ClearChargingProfile, ChangeAvailability, Reset (Immediate / OnIdle),
UnlockConnector, GetVariables/SetVariables (the few variables listed there),
TriggerMessage, DataTransfer. Each EVSE has one connector.

Configuration keys (1.6), read-only unless marked: ChargeProfileMaxStackLevel,
ChargingScheduleAllowedChargingRateUnit, ChargingScheduleMaxPeriods,
HeartbeatInterval (writable), MeterValueSampleInterval (writable, > 0),
MeterValuesSampledData, NumberOfConnectors, SupportedFeatureProfiles; and
AuthorizationKey, write-only: never returned (asked for by name it is listed as
unknown), it becomes the Basic auth password of the next connection.

Modules: ``model.py`` (configuration, state, physics, decisions; no network),
``base.py`` (websocket adapter, session outbox), ``v16.py`` / ``v201.py``
(payloads), this one (connection life cycle, public API, command line).
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Callable, Coroutine, Sequence
import contextlib
from dataclasses import dataclass, replace
import logging
import math
import signal
import sys
from typing import Any, Final
from urllib.parse import quote

import aiohttp

from .base import ConnectionClosed, OCPPError, SessionBase, WebSocketAdapter
from .model import ChargerModel, ChargingProfile, Connector
from .v16 import V16Session
from .v201 import V201Session

_LOGGER = logging.getLogger(__name__)

SUBPROTOCOLS: Final[dict[str, str]] = {"1.6": "ocpp1.6", "2.0.1": "ocpp2.0.1"}


class _RefusedError(Exception):
    """The server answered but would not have us."""


@dataclass(kw_only=True, eq=False)
class SimulatedCharger(ChargerModel):
    """A charger on a websocket: configure it with the fields, drive it with the methods."""

    def __post_init__(self) -> None:
        """Set up the state (nothing runs until ``start``)."""
        super().__post_init__()
        self.state = "stopped"
        self._boots = 0
        self._booted = False
        self._boot_reason = "PowerUp"
        self._rebooting = False
        self._reset_when_idle = False
        self._session: SessionBase | None = None
        self._disconnect: asyncio.Event | None = None
        self._http: aiohttp.ClientSession | None = None
        self._runner: asyncio.Task[None] | None = None
        self._ticker: asyncio.Task[None] | None = None
        self._conn_tasks: set[asyncio.Task[Any]] = set()

    # Public API ---------------------------------------------------------------

    async def start(
        self,
        *,
        wait: bool = True,
        timeout: float = 10.0,  # noqa: ASYNC109 - a test helper's deadline
    ) -> None:
        """Connect and boot in the background; with ``wait``, until booted."""
        if self._runner is None:
            self._http = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=None, sock_connect=5)
            )
            self._runner = asyncio.create_task(
                self._run(), name=f"{self.charge_point_id} connection"
            )
            self._ticker = asyncio.create_task(
                self._tick_loop(), name=f"{self.charge_point_id} physics"
            )
        if wait:
            try:
                await self.wait_for(lambda: self._booted, timeout)
            except TimeoutError:
                await self.stop()
                raise

    async def stop(self) -> None:
        """Stop everything and close the socket, like pulling the plug; idempotent."""
        tasks = [task for task in (self._runner, self._ticker) if task is not None]
        self._runner = self._ticker = None
        for task in tasks:
            task.cancel()
        for result in await asyncio.gather(*tasks, return_exceptions=True):
            if isinstance(result, Exception):
                self._note_error(f"{result!r}")
        if self._http is not None:
            await self._http.close()
            self._http = None
        self.state = "stopped"

    def plug_in(self, connector_id: int = 1) -> None:
        """The car is plugged in: Preparing (or starts an accepted remote start)."""
        connector = self._connector(connector_id)
        if connector.plugged:
            return
        connector.plugged = True
        connector.finishing = False
        self._refresh()
        self._start_pending(connector)

    def unplug(self, connector_id: int = 1) -> None:
        """The car leaves: Available; a running transaction ends (EVDisconnected)
        unless the charger is set to keep it over an unplug."""
        connector = self._connector(connector_id)
        connector.plugged = False
        if self.stop_tx_on_unplug:
            self._end_transaction(connector, "EVDisconnected")
        connector.finishing = False
        self._refresh()

    async def start_transaction(
        self, id_tag: str = "TAG-1", connector_id: int = 1
    ) -> int | str | None:
        """Start charging (plugs in first if needed); the transaction id."""
        connector = self._connector(connector_id)
        if connector.transaction_id is not None:
            raise RuntimeError(f"connector {connector_id} is already in a transaction")
        self._require_session()
        if not connector.plugged:
            self.plug_in(connector_id)
        await self._begin(connector, id_tag)
        return connector.transaction_id

    async def authorize(self, id_tag: str) -> str:
        """Show a card (Authorize); the status the CSMS answered."""
        return await self._require_session().authorize(id_tag)

    async def stop_transaction(
        self, reason: str = "Local", connector_id: int = 1
    ) -> None:
        """End the transaction (``reason`` in OCPP 1.6 words); Finishing while plugged."""
        future = self._end_transaction(self._connector(connector_id), reason)
        if future is not None:
            await future

    async def send_raw(self, text: str) -> None:
        """Send any text on the socket (hostile-frame tests)."""
        if self._session is None:
            raise ConnectionClosed(reason="not connected")
        await self._session.connection.send(text)

    async def wait_for(
        self,
        predicate: Callable[[], object],
        timeout: float = 5.0,  # noqa: ASYNC109 - a test helper's deadline
        *,
        interval: float = 0.01,
    ) -> None:
        """Return once ``predicate()`` is true; TimeoutError after ``timeout`` s."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not predicate():
            if loop.time() >= deadline:
                raise TimeoutError(
                    f"{self.charge_point_id}: condition not met within {timeout} s "
                    f"(state {self.state!r}, status {self.status}, "
                    f"errors {self.errors[-3:]})"
                )
            await asyncio.sleep(interval)

    @property
    def connected(self) -> bool:
        """True while the websocket is open."""
        return self._session is not None

    @property
    def booted(self) -> bool:
        """True once the CSMS accepted the BootNotification of this connection."""
        return self._booted

    @property
    def boots(self) -> int:
        """How many connections got their BootNotification accepted."""
        return self._boots

    # Connection life cycle ----------------------------------------------------

    async def _run(self) -> None:
        while True:
            delay = self.reconnect_interval_s
            try:
                ws = await self._connect()
            except _RefusedError as err:
                self._set_state(f"refused: {err}")
            except aiohttp.WSServerHandshakeError as err:
                self._set_state(f"refused: HTTP {err.status} {err.message}")
            except (aiohttp.ClientError, OSError, TimeoutError) as err:
                self._set_state(f"server not reachable: {str(err) or repr(err)}")
            else:
                self._set_state("connected")
                await self._serve(ws)
                if self._rebooting:
                    self._rebooting = False
                    delay = self.reset_delay_s
                    self._set_state("rebooting")
                else:
                    self._set_state("disconnected")
            await asyncio.sleep(delay)

    async def _connect(self) -> aiohttp.ClientWebSocketResponse:
        assert self._http is not None
        subprotocol = SUBPROTOCOLS[self.version]
        auth = (
            aiohttp.BasicAuth(self.charge_point_id, self.password)
            if self.password is not None
            else None
        )
        ws = await self._http.ws_connect(
            f"{self.url.rstrip('/')}/{quote(self.charge_point_id, safe='')}",
            protocols=(subprotocol,),
            auth=auth,
            ssl=self.ssl_context if self.ssl_context is not None else True,
            timeout=aiohttp.ClientWSTimeout(ws_close=2.0),
        )
        if ws.protocol != subprotocol:
            await ws.close()
            raise _RefusedError(
                f"the server did not agree to subprotocol {subprotocol}"
            )
        return ws

    async def _serve(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        """Run one connection until it closes or we drop it."""
        adapter = WebSocketAdapter(ws)
        session_type = V16Session if self.version == "1.6" else V201Session
        session = session_type(self, adapter)
        self._disconnect = disconnect = asyncio.Event()
        self._session = session
        receiver = asyncio.create_task(session.start(), name="receiver")
        waiter = asyncio.create_task(disconnect.wait(), name="disconnect")
        self._spawn(session.run_sender(), "sender", essential=True)
        self._spawn(self._boot_sequence(session), "boot", essential=True)
        try:
            await asyncio.wait((receiver, waiter), return_when=asyncio.FIRST_COMPLETED)
        finally:
            self._session = self._disconnect = None
            self._booted = False
            with contextlib.suppress(
                aiohttp.ClientError, ConnectionError, TimeoutError
            ):
                await adapter.close()
            tasks = [receiver, waiter, *self._conn_tasks]
            for task in tasks:
                task.cancel()
            results = await asyncio.gather(*tasks, return_exceptions=True)
            session.fail_pending()
            if isinstance(results[0], Exception) and not isinstance(
                results[0], ConnectionClosed
            ):
                _LOGGER.error(
                    "%s: receiving failed", self.charge_point_id, exc_info=results[0]
                )
                self._note_error(f"receiver: {results[0]!r}")

    async def _boot_sequence(self, session: SessionBase) -> None:
        while True:
            status, interval = await session.boot(self._boot_reason)
            if status == "Accepted":
                break
            self._set_state(
                f"boot {status}, retrying in {interval or self.reconnect_interval_s} s"
            )
            await asyncio.sleep(interval if interval > 0 else self.reconnect_interval_s)
        self._heartbeat_s = interval if interval > 0 else self.heartbeat_interval_s
        self._boot_reason = "PowerUp"
        self._boots += 1
        self._booted = True
        self._set_state("booted")
        self._refresh(force=True)
        self._spawn(self._heartbeat_loop(session), "heartbeat", essential=True)
        self._spawn(self._meter_loop(session), "meter values", essential=True)
        for connector in self._connectors.values():
            self._start_pending(connector)

    async def _heartbeat_loop(self, session: SessionBase) -> None:
        while True:
            await asyncio.sleep(self._heartbeat_s)
            with contextlib.suppress(OCPPError, TimeoutError):
                await session.heartbeat()

    async def _meter_loop(self, session: SessionBase) -> None:
        while True:
            await asyncio.sleep(self.meter_interval_s)
            self._refresh()
            for connector in self._connectors.values():
                if connector.id:
                    session.send_meter_values(connector, "Sample.Periodic")

    async def _tick_loop(self) -> None:
        tick = self.tick_s or max(0.02, min(0.5, self.meter_interval_s / 4))
        while True:
            self._refresh()
            await asyncio.sleep(tick)

    def _spawn(
        self, coro: Coroutine[Any, Any, Any], what: str, *, essential: bool = False
    ) -> None:
        """Run ``coro`` for this connection; it is cancelled when the socket closes."""
        if self._session is None:
            coro.close()
            return
        task = asyncio.create_task(coro, name=f"{self.charge_point_id} {what}")
        self._conn_tasks.add(task)
        task.add_done_callback(lambda done: self._task_done(done, essential))

    def _task_done(self, task: asyncio.Task[Any], essential: bool) -> None:
        self._conn_tasks.discard(task)
        if task.cancelled() or (error := task.exception()) is None:
            return
        if not isinstance(error, (ConnectionClosed, OCPPError, TimeoutError)):
            _LOGGER.error("%s failed", task.get_name(), exc_info=error)
            self._note_error(f"{task.get_name()}: {error!r}")
        if essential and self._disconnect is not None:
            self._disconnect.set()

    def _require_session(self) -> SessionBase:
        if self._session is None or not self._booted:
            raise RuntimeError(f"{self.charge_point_id} is not connected and booted")
        return self._session

    def _set_state(self, state: str) -> None:
        if state != self.state:
            _LOGGER.info("%s: %s", self.charge_point_id, state)
            self.state = state

    def _tell(self, connector: Connector, *, force: bool) -> None:
        if self._session is not None and self._booted:
            self._session.sync(connector, force=force)

    # Transactions -------------------------------------------------------------

    async def _begin(
        self,
        connector: Connector,
        id_tag: str,
        *,
        profile: ChargingProfile | None = None,
        remote_start_id: int | None = None,
    ) -> None:
        session = self._require_session()
        connector.id_tag = id_tag
        connector.remote_start_id = remote_start_id
        connector.finishing = False
        authorized = await session.start_transaction(connector)
        if profile is not None and connector.transaction_id is not None:
            self._store_profile(
                replace(
                    profile,
                    connector_id=connector.id,
                    transaction_id=connector.transaction_id,
                )
            )
        self._refresh()
        if not authorized:
            future = self._end_transaction(connector, "DeAuthorized")
            if future is not None:
                await future

    def _start_pending(self, connector: Connector) -> None:
        if connector.pending_start and connector.plugged and self._booted:
            id_tag, profile, remote_start_id = connector.pending_start
            connector.pending_start = None
            self._spawn(
                self._begin(
                    connector, id_tag, profile=profile, remote_start_id=remote_start_id
                ),
                "remote start",
            )

    def _end_transaction(
        self, connector: Connector, reason: str
    ) -> asyncio.Future[Any] | None:
        """End a running transaction; the future of the message telling the CSMS."""
        if connector.transaction_id is None:
            return None
        self._refresh()
        session = self._session if self._booted else None
        future = session.stop_transaction(connector, reason) if session else None
        connector.transaction_id = None
        connector.tx_started = None
        connector.id_tag = None
        connector.remote_start_id = None
        connector.finishing = connector.plugged
        self._profiles = [
            p
            for p in self._profiles
            if not (p.purpose == "TxProfile" and p.connector_id == connector.id)
        ]
        if connector.operative_after_tx is not None:
            connector.operative = connector.operative_after_tx
            connector.operative_after_tx = None
        self._refresh()
        if self._reset_when_idle and not any(
            c.transaction_id is not None for c in self._connectors.values()
        ):
            self._reset_when_idle = False
            self._spawn(self._reboot("Reboot"), "reset")
        return future

    def _remote_start(
        self,
        connector: Connector,
        id_tag: str,
        profile: ChargingProfile | None,
        remote_start_id: int | None,
    ) -> None:
        connector.pending_start = (id_tag, profile, remote_start_id)
        self._start_pending(connector)

    def _reset(self, *, when_idle: bool = False) -> str:
        """Accepted (reboot follows), Scheduled (after the transactions) or Rejected."""
        if self.refuses_reset:
            return "Rejected"
        if when_idle and any(
            c.transaction_id is not None for c in self._connectors.values()
        ):
            self._reset_when_idle = True
            return "Scheduled"
        return "Accepted"

    async def _reboot(self, stop_reason: str) -> None:
        """End the transactions, close the socket; reconnect after reset_delay_s."""
        for connector in self._connectors.values():
            self._end_transaction(connector, stop_reason)
        if self._session is not None:
            await self._session.flush(self.response_timeout_s)
        for connector in self._connectors.values():
            connector.finishing = False
            connector.pending_start = None
        self._rebooting = True
        self._boot_reason = "RemoteReset"
        if self._disconnect is not None:
            self._disconnect.set()

    def _trigger(self, message: str, connector_id: int | None) -> None:
        """Send what a TriggerMessage asked for (after answering Accepted)."""
        session = self._session
        if session is None:
            return
        self._refresh()
        connectors = self._connectors.values()
        if message == "BootNotification":
            self._spawn(self._triggered_boot(session), "triggered boot")
        elif message == "Heartbeat":
            self._spawn(session.heartbeat(), "triggered heartbeat")
        elif message == "StatusNotification":
            for connector in connectors:
                if connector_id in (None, connector.id):
                    session.sync(connector, force=True)
        elif message == "MeterValues":
            for connector in connectors:
                if connector.id and connector_id in (None, 0, connector.id):
                    session.send_meter_values(connector, "Trigger")

    async def _triggered_boot(self, session: SessionBase) -> None:
        status, interval = await session.boot("Triggered")
        if status == "Accepted" and interval > 0:
            self._heartbeat_s = interval


# Command line ---------------------------------------------------------------


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m tests.simulators.charger",
        description="A simulated OCPP charger; runs until Ctrl-C / SIGTERM.",
    )
    parser.add_argument("--url", default="ws://127.0.0.1:9000")
    parser.add_argument("--id", dest="charge_point_id", default="SIM-1")
    parser.add_argument("--password")
    parser.add_argument("--version", choices=sorted(SUBPROTOCOLS), default="1.6")
    parser.add_argument(
        "--autoplug",
        action="store_true",
        help="after every boot: plug in and start a transaction",
    )
    parser.add_argument(
        "--plug-only",
        action="store_true",
        help="after every boot: plug in, and wait for the CSMS to start (restricted)",
    )
    parser.add_argument("--id-tag", default="TAG-1")
    parser.add_argument("--meter-interval", type=float, default=10.0)
    parser.add_argument("--connectors", type=int, default=1)
    parser.add_argument("--phases", type=int, default=3)
    parser.add_argument("--max-current", type=float, default=32.0)
    parser.add_argument("--fallback-current", type=float)
    parser.add_argument("--vendor", default="Homecharge Sim")
    parser.add_argument("--model", default="SIM-22")
    parser.add_argument("--serial", default="SIM-0001")
    parser.add_argument("--energy-unit", choices=("Wh", "kWh"), default="Wh")
    parser.add_argument("--power-unit", choices=("W", "kW"), default="W")
    parser.add_argument("--rate-unit", default="A")
    parser.add_argument("--omit-phase", action="store_true")
    parser.add_argument("--ignores-zero", action="store_true")
    parser.add_argument("--refuses-reset", action="store_true")
    parser.add_argument("--rejects-relative", action="store_true")
    parser.add_argument(
        "--rejects-purpose", action="append", default=[], metavar="PURPOSE"
    )
    parser.add_argument("--reconnect-interval", type=float, default=3.0)
    parser.add_argument("-v", "--verbose", action="store_true", help="log every frame")
    return parser


def charger_from_args(args: argparse.Namespace) -> SimulatedCharger:
    """The charger the command line describes."""
    return SimulatedCharger(
        url=args.url,
        charge_point_id=args.charge_point_id,
        version=args.version,
        password=args.password,
        vendor=args.vendor,
        model=args.model,
        serial=args.serial,
        connectors=args.connectors,
        phases=args.phases,
        max_current=args.max_current,
        fallback_current=args.fallback_current,
        meter_interval_s=args.meter_interval,
        energy_unit=args.energy_unit,
        power_unit=args.power_unit,
        rate_unit=args.rate_unit,
        omit_phase=args.omit_phase,
        ignores_zero=args.ignores_zero,
        refuses_reset=args.refuses_reset,
        rejects_relative=args.rejects_relative,
        rejects_purposes=frozenset(args.rejects_purpose),
        reconnect_interval_s=args.reconnect_interval,
    )


async def _autoplug(
    charger: SimulatedCharger, id_tag: str, *, start: bool = True
) -> None:
    """After every boot: plug in and charge (or only plug in), unless a transaction runs."""
    seen = 0

    def booted_again() -> bool:
        return charger.booted and charger.boots > seen

    while True:
        await charger.wait_for(booted_again, math.inf, interval=0.2)
        seen = charger.boots
        if charger.transaction_id is None:
            charger.plug_in()
            if not start:
                continue
            try:
                await charger.start_transaction(id_tag)
            except (ConnectionClosed, OCPPError, RuntimeError, TimeoutError) as err:
                _LOGGER.warning(
                    "%s: could not start charging: %r", charger.charge_point_id, err
                )


async def _run_cli(
    charger: SimulatedCharger, autoplug: bool, id_tag: str, *, start: bool = True
) -> None:
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stopping.set)
    await charger.start(wait=False)
    plugger = (
        asyncio.create_task(_autoplug(charger, id_tag, start=start))
        if autoplug
        else None
    )
    try:
        await stopping.wait()
    finally:
        if plugger is not None:
            plugger.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await plugger
        await charger.stop()


def main(argv: Sequence[str] | None = None) -> int:
    """Run a simulated charger from the command line."""
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO,
        format="%(asctime)s %(levelname)s %(message)s",
        stream=sys.stderr,
    )
    logging.getLogger("ocpp").setLevel(
        logging.INFO if args.verbose else logging.WARNING
    )
    asyncio.run(
        _run_cli(
            charger_from_args(args),
            args.autoplug or args.plug_only,
            args.id_tag,
            start=not args.plug_only,
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
