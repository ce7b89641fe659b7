"""
Shared parts of the charger simulator.

- ``WebSocketAdapter``: the ``recv``/``send`` pair an ``ocpp`` ChargePoint runs
  over, on top of an aiohttp websocket (client or server side);
  ``ConnectionClosed`` is what ``recv``/``send`` raise once the socket is gone.
- ``SessionBase``: one websocket connection's ``ocpp`` ChargePoint with an
  outbox. Calls to the CSMS are queued in order by ``submit`` (synchronous, so a
  handler can use it) and sent one at a time by ``run_sender``; ``request``
  awaits the answer. Nothing ever awaits ``call()`` inside an ``@on`` handler,
  which would deadlock ocpp 2.1.0 (the answer is read by the same loop).

The ``ocpp`` package has no type information; it is imported here, once, and
re-exported with types so the version modules stay strictly typed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
import contextlib
from datetime import UTC, datetime
import logging
from typing import TYPE_CHECKING, Any, TypeVar, cast

import aiohttp
from aiohttp import web
from ocpp.charge_point import (  # type: ignore[import-untyped, unused-ignore]
    ChargePoint as _OcppChargePoint,
)
from ocpp.exceptions import OCPPError  # type: ignore[import-untyped, unused-ignore]
from ocpp.routing import (  # type: ignore[import-untyped, unused-ignore]
    after as _after,
    on as _on,
)

if TYPE_CHECKING:
    from .charger import SimulatedCharger
    from .model import Connector

__all__ = [
    "ConnectionClosed",
    "OCPPError",
    "SessionBase",
    "WebSocketAdapter",
    "after",
    "iso",
    "on",
    "parse_time",
    "utcnow",
]

_LOGGER = logging.getLogger(__name__)

_F = TypeVar("_F", bound=Callable[..., Any])


def on(action: str) -> Callable[[_F], _F]:
    """``ocpp.routing.on`` with a type mypy can follow."""
    return cast("Callable[[_F], _F]", _on(action))


def after(action: str) -> Callable[[_F], _F]:
    """``ocpp.routing.after``: runs after the answer was sent; must stay synchronous."""
    return cast("Callable[[_F], _F]", _after(action))


def utcnow() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(UTC)


def iso(moment: datetime | None = None) -> str:
    """An OCPP timestamp (UTC, milliseconds, ``Z``)."""
    moment = moment or utcnow()
    return (
        moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    )


def parse_time(value: object) -> datetime | None:
    """An OCPP timestamp as an aware datetime (naive means UTC); None if absent."""
    if not isinstance(value, str) or not value:
        return None
    moment = datetime.fromisoformat(value)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class ConnectionClosed(Exception):  # noqa: N818 - named like websockets' exception
    """The websocket is closed; ``code`` is the close code when known."""

    def __init__(self, code: int | None = None, reason: str = "") -> None:
        """Describe the close."""
        text = f"websocket closed (code {code})"
        super().__init__(f"{text}: {reason}" if reason else text)
        self.code = code


class WebSocketAdapter:
    """An aiohttp websocket as the connection an ``ocpp`` ChargePoint expects."""

    def __init__(
        self, ws: aiohttp.ClientWebSocketResponse | web.WebSocketResponse
    ) -> None:
        """Wrap an open websocket (client or server side)."""
        self._ws = ws

    @property
    def closed(self) -> bool:
        """True once the socket is closing or closed."""
        return self._ws.closed

    async def recv(self) -> str:
        """The next text frame; ``ConnectionClosed`` once the socket closes."""
        while True:
            message = await self._ws.receive()
            if message.type is aiohttp.WSMsgType.TEXT:
                return cast("str", message.data)
            if message.type is aiohttp.WSMsgType.BINARY:
                # OCPP-J is text; pass binary frames on for the parser to reject.
                return bytes(message.data).decode("utf-8", errors="replace")
            if message.type in (aiohttp.WSMsgType.PING, aiohttp.WSMsgType.PONG):
                continue
            reason = str(message.extra or message.data or message.type.name)
            raise ConnectionClosed(self._ws.close_code, reason)

    async def send(self, text: str) -> None:
        """Send one text frame; ``ConnectionClosed`` if the socket is gone."""
        if self._ws.closed:
            raise ConnectionClosed(self._ws.close_code, "send on a closed socket")
        try:
            await self._ws.send_str(text)
        except (ConnectionError, aiohttp.ClientError) as err:
            raise ConnectionClosed(self._ws.close_code, str(err)) from err

    async def close(self, code: int = aiohttp.WSCloseCode.OK) -> None:
        """Close the socket (a close handshake when the peer still answers)."""
        await self._ws.close(code=code)


def _settle(
    future: asyncio.Future[Any],
    *,
    result: Any = None,
    error: BaseException | None = None,
) -> None:
    """Give a call's future its outcome, unless its waiter already gave up."""
    if future.done():
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(result)


def _consume(future: asyncio.Future[Any]) -> None:
    """Mark an outcome as seen so fire-and-forget calls log no 'never retrieved'."""
    if not future.cancelled():
        future.exception()


class SessionBase(_OcppChargePoint):  # type: ignore[misc, unused-ignore]
    """
    One websocket connection's OCPP session, the base of the 1.6 and 2.0.1 ones.

    The version modules implement the methods below that raise
    ``NotImplementedError``; the charger calls only those and the outbox.
    """

    def __init__(self, charger: SimulatedCharger, connection: WebSocketAdapter) -> None:
        """A session over ``connection`` for ``charger``."""
        super().__init__(
            charger.charge_point_id,
            connection,
            response_timeout=charger.response_timeout_s,
        )
        self.charger = charger
        self.connection = connection
        self._outbox: asyncio.Queue[tuple[Any, asyncio.Future[Any]]] = asyncio.Queue()
        self._deferred: dict[str, Callable[[], object]] = {}

    # Follow-ups of a CSMS call ------------------------------------------------

    def defer(self, call_unique_id: str, action: Callable[[], object]) -> None:
        """Run ``action`` once the answer to call ``call_unique_id`` went out."""
        self._deferred[call_unique_id] = action

    def run_deferred(self, call_unique_id: str) -> None:
        """From an ``@after`` hook: run what the ``@on`` handler deferred.

        Errors are caught here: ocpp 2.1.0 lets an ``@after`` exception end the
        receive loop (and silently drops a KeyError).
        """
        action = self._deferred.pop(call_unique_id, None)
        if action is None:
            return
        try:
            action()
        except Exception as err:
            _LOGGER.exception("%s: follow-up failed", self.charger.charge_point_id)
            self.charger._note_error(f"follow-up: {err!r}")

    def record(self, action: str, payload: dict[str, Any]) -> None:
        """Remember a call received from the CSMS."""
        self.charger._record(action, payload)

    # The outbox -------------------------------------------------------------

    def submit(self, payload: Any) -> asyncio.Future[Any]:
        """Queue a call to the CSMS; the future gets its answer (or the error)."""
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        future.add_done_callback(_consume)
        self._outbox.put_nowait((payload, future))
        return future

    async def request(self, payload: Any) -> Any:
        """Queue a call and wait for the CSMS's answer (raises on a CallError)."""
        return await self.submit(payload)

    async def run_sender(self) -> None:
        """Send the queued calls one at a time, in order; runs until cancelled."""
        while True:
            payload, future = await self._outbox.get()
            try:
                await self._send_one(payload, future)
            finally:
                self._outbox.task_done()

    async def _send_one(self, payload: Any, future: asyncio.Future[Any]) -> None:
        if future.done():  # the caller gave up (cancelled) before it went out
            return
        action = type(payload).__name__
        try:
            result = await self.call(payload, suppress=False)
        except asyncio.CancelledError:
            _settle(future, error=ConnectionClosed(reason=f"{action} not answered"))
            raise
        except ConnectionClosed as err:
            # The connection went away: expected around resets and server restarts.
            _LOGGER.debug(
                "%s: %s not sent: %s", self.charger.charge_point_id, action, err
            )
            _settle(future, error=err)
        except TimeoutError as err:
            self.charger._note_error(f"{action}: no answer ({err})")
            _settle(future, error=err)
        except OCPPError as err:
            self.charger._note_error(f"{action}: CallError {err!r}")
            _settle(future, error=err)
        except Exception as err:
            # Our own payload failed the schema, or the answer did: a bug to see.
            _LOGGER.exception("%s: %s failed", self.charger.charge_point_id, action)
            self.charger._note_error(f"{action}: {err!r}")
            _settle(future, error=err)
        else:
            self.charger._note_sent(action, payload)
            _settle(future, result=result)

    async def flush(self, timeout: float) -> None:  # noqa: ASYNC109
        """Wait (at most ``timeout`` s) until every queued call was answered."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._outbox.join(), timeout)

    def fail_pending(self) -> None:
        """Fail the calls still queued: the connection is gone."""
        while not self._outbox.empty():
            payload, future = self._outbox.get_nowait()
            self._outbox.task_done()
            _settle(
                future,
                error=ConnectionClosed(reason=f"{type(payload).__name__} not sent"),
            )

    # What the charger asks of a session -------------------------------------

    async def boot(self, reason: str) -> tuple[str, int]:
        """Send BootNotification; the answer's status and interval."""
        raise NotImplementedError

    async def heartbeat(self) -> None:
        """Send Heartbeat."""
        raise NotImplementedError

    def sync(self, connector: Connector, *, force: bool = False) -> None:
        """Tell the CSMS what changed on ``connector`` since last told (or all of it)."""
        raise NotImplementedError

    def send_meter_values(self, connector: Connector, context: str) -> None:
        """Queue the connector's meter values."""
        raise NotImplementedError

    async def authorize(self, id_tag: str) -> str:
        """Show a card; the CSMS's authorization status."""
        raise NotImplementedError

    async def start_transaction(self, connector: Connector) -> bool:
        """Start a transaction (sets the connector's id and start); True if authorized."""
        raise NotImplementedError

    def stop_transaction(
        self, connector: Connector, reason: str
    ) -> asyncio.Future[Any]:
        """Queue the end of the connector's transaction; ``reason`` in 1.6 words."""
        raise NotImplementedError
