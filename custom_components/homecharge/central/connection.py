"""A charger's websocket as the ocpp package wants it: recv() and send().

Every text frame is handed on: answers to our calls are never held back, and
a charger's own calls are rate-limited by its session, which answers each one
(session.py).
"""

from __future__ import annotations

import logging

from aiohttp import WSCloseCode, WSMsgType, web

_LOGGER = logging.getLogger(__name__)

# Frames are small (a MeterValues with every measurand is ~3 kB); anything far
# larger is a broken or hostile charger, and aiohttp closes with 1009.
MAX_FRAME_BYTES = 64 * 1024


class ConnectionClosedError(Exception):
    """The charger's websocket is closed."""


class WebSocketConnection:
    """Text frames in and out; a binary frame closes the socket."""

    def __init__(self, charge_point_id: str, websocket: web.WebSocketResponse) -> None:
        """Wrap a prepared websocket."""
        self._id = charge_point_id
        self._websocket = websocket

    async def recv(self) -> str:
        """The next text frame."""
        message = await self._websocket.receive()
        if message.type is WSMsgType.TEXT:
            return str(message.data)
        if message.type is WSMsgType.BINARY:
            _LOGGER.warning("Charger %s sent a binary frame; closing", self._id)
            await self.close(WSCloseCode.UNSUPPORTED_DATA)
        raise ConnectionClosedError(self._id)

    async def send(self, text: str) -> None:
        """Send a frame; a closed socket ends the session."""
        if self._websocket.closed:
            raise ConnectionClosedError(self._id)
        try:
            await self._websocket.send_str(text)
        except ConnectionError as err:
            raise ConnectionClosedError(self._id) from err

    async def close(self, code: int = WSCloseCode.GOING_AWAY) -> None:
        """Close the socket."""
        await self._websocket.close(code=code)
