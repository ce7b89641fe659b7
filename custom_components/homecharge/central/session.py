"""What flows between a charger's OCPP session and its runtime.

Each OCPP version has its own session class (v16.py, v201.py) that turns
protocol frames into the events below and the commands below into frames; the
runtime (runtime/charger.py) sees only these, whichever version the charger speaks.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
import time
from typing import Any, Final, Protocol
import uuid

from aiohttp import WSCloseCode
from ocpp.exceptions import OCPPError
from ocpp.routing import on

from .charger_log import ChargerLog
from .connection import ConnectionClosedError, WebSocketConnection
from .frames import BadFrame, MessageType, Violation, call_error, inspect_frame
from .meter_values import MeterSample
from .profile import (
    ChargerCapabilities,
    OcppVersion,
    ProfileRequest,
    parse_rate_units,
    parse_stack_level,
)
from .rate_limit import TokenBucket


class SessionError(Exception):
    """A command did not get an answer we can use."""


def parse_timestamp(value: object) -> datetime | None:
    """An OCPP timestamp as an aware UTC datetime; None when unreadable."""
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment.replace(tzinfo=moment.tzinfo or UTC).astimezone(UTC)


def now_iso() -> str:
    """Now, the way OCPP writes time."""
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def clean_text(value: object) -> str | None:
    """A text field with its whitespace trimmed; None when empty."""
    text = str(value).strip() if value is not None else ""
    return text or None


RESPONSE_TIMEOUT_S = 30
# A charger's own calls: sustained per second, and the burst of a replayed
# offline queue (1,000 messages go through at once).
CALL_RATE: Final = 20.0
CALL_BURST: Final = 1200.0
# Malformed frames within a minute before the socket is closed (1008).
MAX_VIOLATIONS: Final = 10
VIOLATION_WINDOW_S: Final = 60.0


class SessionBase:
    """What both OCPP versions' sessions share, mixed in before ChargePoint.

    Events go to whoever owns the charger right now: ``events`` is asked on
    every frame, so a charger discovered while connected is handed to its
    new runtime without reconnecting.
    """

    call: Callable[..., Any]
    version: OcppVersion
    # Each version reads configuration its own way.
    get_configuration: Callable[[list[str] | None], Awaitable[dict[str, Any]]]

    def __init__(
        self,
        charge_point_id: str,
        connection: WebSocketConnection,
        events: Callable[[], ChargerEvents],
    ) -> None:
        """A session on a connected charger's socket."""
        self.log = ChargerLog(charge_point_id)
        super().__init__(  # type: ignore[call-arg]  # ChargePoint's
            charge_point_id,
            connection,
            response_timeout=RESPONSE_TIMEOUT_S,
            logger=self.log,
        )
        self._connection = connection
        self._events = events
        self._bucket = TokenBucket(rate=CALL_RATE, burst=CALL_BURST)
        self._violations: list[float] = []
        # Our calls in flight: their tasks, by the message id they went out with.
        self._calls: dict[str, tuple[asyncio.Task[Any], float]] = {}
        self._answered: set[str] = set()
        self._closed = False

    async def route_message(self, raw_msg: str) -> None:
        """
        Route a frame; every CALL gets exactly one answer.

        Answers to our calls always go through. A charger's CALL over the
        rate limit is answered with a CallError (a charger retries its
        transaction messages), a broken CALL with the OCPP-J error for what is
        wrong; a frame without a readable id cannot be answered. Every frame
        is a sign of life, even one we cannot use.
        """
        self._events().on_frame()
        frame = inspect_frame(raw_msg)
        if isinstance(frame, BadFrame):
            await self._refuse(frame)
            await self._count_violation(frame)
            return
        if frame.message_type is not MessageType.CALL:
            if frame.message_id not in self._calls:
                # An answer to no call of ours (late, or made up): the ocpp
                # package would queue it for our next call; it goes nowhere.
                self.log.warning("dropped an answer to no pending call")
                return
            # Answered: a closing socket no longer takes this call with it.
            self._answered.add(frame.message_id)
        if frame.message_type is MessageType.CALL and not self._bucket.take(
            time.monotonic()
        ):
            await self._refuse(BadFrame(Violation.FLOOD, frame.message_id))
            return
        await super().route_message(raw_msg)  # type: ignore[misc]

    async def _refuse(self, frame: BadFrame) -> None:
        self.log.warning("refused a frame (%s)", frame.violation.value)
        if frame.message_id is not None:
            await self._connection.send(
                call_error(self.version, frame.message_id, frame.violation)
            )

    async def _count_violation(self, frame: BadFrame) -> None:
        now = time.monotonic()
        self._violations = [
            at for at in self._violations if now - at < VIOLATION_WINDOW_S
        ] + [now]
        if len(self._violations) >= MAX_VIOLATIONS:
            self.log.warning(
                "%d malformed frames within a minute; closing", len(self._violations)
            )
            await self._connection.close(WSCloseCode.POLICY_VIOLATION)
            raise ConnectionClosedError(frame.violation.value)

    async def close(self) -> None:
        """Drop the connection."""
        await self._connection.close()

    def _forget_call(self, message_id: str) -> None:
        self._calls.pop(message_id, None)
        self._answered.discard(message_id)

    @property
    def closed(self) -> bool:
        """The socket closed; no call of ours can be answered any more."""
        return self._closed

    def cancel_calls(self) -> None:
        """The socket closed: our calls waiting for an answer end now."""
        self._closed = True
        for message_id, (task, _) in self._calls.items():
            if message_id not in self._answered:
                task.cancel()

    def cancel_calls_older_than(self, seconds: float) -> None:
        """Our calls waiting for an answer this long: given up (lost answers)."""
        now = time.monotonic()
        for message_id, (task, sent) in list(self._calls.items()):
            if now - sent > seconds and message_id not in self._answered:
                task.cancel()

    async def read_capabilities(self, phases: int) -> ChargerCapabilities:
        """How the charger takes limits; the OCPP defaults if it will not say."""
        try:
            config = await self.get_configuration(
                [
                    "ChargingScheduleAllowedChargingRateUnit",
                    "ChargeProfileMaxStackLevel",
                ]
            )
        except SessionError:
            config = {}
        return ChargerCapabilities(
            version=self.version,
            rate_units=parse_rate_units(
                config.get("ChargingScheduleAllowedChargingRateUnit")
            ),
            max_stack_level=parse_stack_level(config.get("ChargeProfileMaxStackLevel")),
            phases=phases,
        )

    async def _call(self, payload: Any) -> Any:
        """One of our calls; it ends at once when the socket closes."""
        name = type(payload).__name__
        if self.closed:
            raise SessionError(f"{name}: disconnected")
        message_id = str(uuid.uuid4())
        task = asyncio.ensure_future(
            self.call(payload, suppress=False, unique_id=message_id)
        )
        self._calls[message_id] = (task, time.monotonic())
        task.add_done_callback(lambda _: self._forget_call(message_id))
        try:
            return await task
        except OCPPError as err:
            raise SessionError(f"{name}: {err}") from err
        except (TimeoutError, ConnectionClosedError) as err:
            raise SessionError(f"{name}: no answer") from err
        except asyncio.CancelledError as err:
            if caller_cancelled():
                raise
            # Not our caller's cancellation: the socket closed (cancel_calls).
            raise SessionError(f"{name}: disconnected") from err


@dataclass(frozen=True, kw_only=True, slots=True)
class BootInfo:
    """Who the charger says it is."""

    vendor: str
    model: str
    serial: str | None
    firmware: str | None


@dataclass(frozen=True, kw_only=True, slots=True)
class StatusReport:
    """A connector's (or with connector 0, the charger's) OCPP status."""

    connector_id: int
    status: str
    error_code: str | None = None
    vendor_error_code: str | None = None
    info: str | None = None
    timestamp: datetime | None = None


class ChargerEvents(Protocol):
    """What a session reports; implemented by the charger runtime."""

    def on_connected(self, session: ChargerSession) -> None:
        """The charger connected (or reconnected)."""

    def on_disconnected(self, session: ChargerSession) -> None:
        """The charger's socket closed."""

    def on_frame(self) -> None:
        """Any frame arrived: the charger is alive."""

    def on_heartbeat(self) -> None:
        """A heartbeat arrived."""

    def on_boot(self, boot: BootInfo) -> bool:
        """The charger booted; True to accept it, False for Pending."""

    def on_status(self, report: StatusReport) -> None:
        """A connector changed status."""

    def on_meter_values(
        self, connector_id: int, transaction_id: str | None, samples: list[MeterSample]
    ) -> None:
        """Readings arrived, live or from the charger's offline queue."""

    def on_transaction_started(
        self,
        connector_id: int,
        id_tag: str | None,
        meter_start_wh: float | None,
        timestamp: datetime | None,
        transaction_id: str | None,
    ) -> str:
        """A transaction began; returns its id (1.6: ours to assign)."""

    def on_transaction_ended(
        self,
        transaction_id: str,
        meter_stop_wh: float | None,
        timestamp: datetime | None,
        reason: str | None,
    ) -> None:
        """A transaction ended."""

    def on_authorize(self, id_tag: str) -> str:
        """A card shown: OCPP's authorization status for it (Accepted ...)."""


class ChargerSession(Protocol):
    """Commands a connected charger understands."""

    version: OcppVersion

    async def read_capabilities(self, phases: int) -> ChargerCapabilities:
        """Ask how the charger takes limits."""

    async def set_profile(self, request: ProfileRequest) -> bool:
        """Send a charging profile; True when accepted."""

    async def remote_start(self, connector_id: int, id_tag: str) -> bool:
        """Ask the charger to start charging."""

    async def remote_stop(self, transaction_id: str) -> bool:
        """Ask the charger to stop a transaction."""

    async def change_availability(self, connector_id: int, operative: bool) -> bool:
        """Enable or disable a connector (0: the whole charger)."""

    async def reset(self, hard: bool) -> str:
        """Restart the charger; its answer (Accepted, Scheduled or Rejected)."""

    async def trigger(self, message: str, connector_id: int | None) -> bool:
        """Ask for a StatusNotification or MeterValues now (None: every connector)."""

    async def clear_profile(self, profile_id: int) -> bool:
        """Remove one of our charging profiles."""

    def cancel_calls_older_than(self, seconds: float) -> None:
        """Give up our calls that have waited this long for an answer."""

    async def unlock(self, connector_id: int) -> bool:
        """Release the cable."""

    async def get_configuration(self, keys: list[str] | None) -> dict[str, Any]:
        """Read configuration keys (all when None)."""

    async def change_configuration(self, key: str, value: str) -> str:
        """Write a configuration key; the charger's status word."""

    async def send_local_list(
        self, version: int, cards: Mapping[str, datetime | None]
    ) -> str:
        """Replace the charger's local authorization list (tag → expiry); its answer."""

    async def close(self) -> None:
        """Drop the connection."""


def handles[F: Callable[..., Any]](
    action: str, *, skip_schema_validation: bool = False
) -> Callable[[F], F]:
    """``ocpp.routing.on`` with types: marks a method as the handler of an action."""
    decorator: Callable[[F], F] = on(
        action, skip_schema_validation=skip_schema_validation
    )
    return decorator


def caller_cancelled() -> bool:
    """Whether the running task itself is being cancelled (not what it awaits)."""
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0
