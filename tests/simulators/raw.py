"""A raw OCPP-J 1.6 charger: frames by hand, answers when the test says.

The full simulator (charger.py, on the ``ocpp`` package) behaves like real
firmware; this one lets a test do what firmware does when it misbehaves or is
busy: replay a queue of a thousand frames, hold back the answer to one of our
calls, send garbage, or flood. Our calls are answered by ``answers`` (an
action → payload table, plausible defaults for every call homecharge makes)
unless the action is in ``withhold``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
import contextlib
import itertools
import json
import time
from typing import Any

import aiohttp

DEFAULT_ANSWERS: dict[str, dict[str, Any]] = {
    "GetConfiguration": {"configurationKey": [], "unknownKey": []},
    "ChangeConfiguration": {"status": "Accepted"},
    "SetChargingProfile": {"status": "Accepted"},
    "ClearChargingProfile": {"status": "Accepted"},
    "ChangeAvailability": {"status": "Accepted"},
    "TriggerMessage": {"status": "Accepted"},
    "RemoteStopTransaction": {"status": "Accepted"},
    "RemoteStartTransaction": {"status": "Accepted"},
    "Reset": {"status": "Accepted"},
}


class RawCharger:
    """One websocket, frames in and out, every frame kept with its arrival time."""

    def __init__(
        self, url: str, charge_point_id: str, password: str | None = None
    ) -> None:
        """Point it at the server; nothing happens until ``connect``."""
        self.url = f"{url.rstrip('/')}/{charge_point_id}"
        self.charge_point_id = charge_point_id
        self.password = password
        self.answers: dict[str, dict[str, Any]] = dict(DEFAULT_ANSWERS)
        self.withhold: set[str] = set()
        # Our calls as (arrival time, action, payload, message id).
        self.calls: list[tuple[float, str, dict[str, Any], str]] = []
        # Answers to its calls, by message id: (arrival time, frame).
        self.results: dict[str, list[tuple[float, list[Any]]]] = {}
        self.other: list[str] = []
        self._ids = itertools.count(1)
        self._http: aiohttp.ClientSession | None = None
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._reader: asyncio.Task[None] | None = None
        self._waiters: dict[str, asyncio.Future[list[Any]]] = {}
        self.close_code: int | None = None

    async def connect(self) -> None:
        """Open the websocket (OCPP 1.6J) and start reading."""
        self._http = aiohttp.ClientSession()
        auth = (
            aiohttp.BasicAuth(self.charge_point_id, self.password)
            if self.password
            else None
        )
        self._ws = await self._http.ws_connect(
            self.url, protocols=("ocpp1.6",), auth=auth, autoping=True
        )
        self._reader = asyncio.create_task(self._read())

    async def close(self) -> None:
        """Drop the socket (as a charger losing its network would)."""
        if self._ws is not None:
            await self._ws.close()
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
        if self._http is not None:
            await self._http.close()

    @property
    def closed(self) -> bool:
        """The server closed the socket (or we did)."""
        return self._ws is None or self._ws.closed

    async def send_raw(self, text: str) -> None:
        """Send a frame as it is, well-formed or not."""
        assert self._ws is not None
        await self._ws.send_str(text)

    def next_id(self) -> str:
        """A fresh message id."""
        return f"raw-{next(self._ids)}"

    async def call(
        self, action: str, payload: dict[str, Any], *, wait: bool = True
    ) -> list[Any] | None:
        """Send a CALL; with ``wait``, its answer (CALLRESULT or CALLERROR)."""
        message_id = self.next_id()
        future: asyncio.Future[list[Any]] = asyncio.get_running_loop().create_future()
        self._waiters[message_id] = future
        await self.send_raw(json.dumps([2, message_id, action, payload]))
        if not wait:
            return None
        return await future

    async def boot(self) -> list[Any] | None:
        """BootNotification, as every charger starts."""
        return await self.call(
            "BootNotification",
            {"chargePointVendor": "Raw", "chargePointModel": "R-1"},
        )

    def answered(self, message_id: str) -> int:
        """How many answers a CALL of ours got (OCPP-J: exactly one)."""
        return len(self.results.get(message_id, []))

    def calls_of(self, action: str) -> list[tuple[float, dict[str, Any], str]]:
        """Our calls of one action: (arrival time, payload, message id)."""
        return [(at, p, i) for at, name, p, i in self.calls if name == action]

    async def answer(self, message_id: str, payload: dict[str, Any]) -> None:
        """Answer a call we held back."""
        await self.send_raw(json.dumps([3, message_id, payload]))

    async def wait_for(self, check: Callable[[], bool], seconds: float = 5.0) -> None:
        """Until ``check`` holds, or fail."""
        deadline = time.monotonic() + seconds
        while not check():
            if time.monotonic() > deadline:
                raise AssertionError("condition not reached")
            await asyncio.sleep(0.01)

    async def _read(self) -> None:
        assert self._ws is not None
        async for message in self._ws:
            if message.type is not aiohttp.WSMsgType.TEXT:
                break
            now = time.monotonic()
            try:
                frame = json.loads(message.data)
            except ValueError:
                self.other.append(message.data)
                continue
            if frame[0] == 2:
                _, message_id, action, payload = frame
                self.calls.append((now, action, payload, message_id))
                if action not in self.withhold:
                    await self.answer(message_id, self.answers.get(action, {}))
            elif frame[0] in (3, 4):
                self.results.setdefault(frame[1], []).append((now, frame))
                waiter = self._waiters.pop(frame[1], None)
                if waiter is not None and not waiter.done():
                    waiter.set_result(frame)
            else:
                self.other.append(message.data)
        self.close_code = self._ws.close_code
