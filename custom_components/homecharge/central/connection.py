"""A charger's websocket as the ocpp package wants it: recv() and send()."""

from __future__ import annotations

import logging
import time

from aiohttp import WSCloseCode, WSMsgType, web

from .rate_limit import TokenBucket

_LOGGER = logging.getLogger(__name__)

# Frames are small (a MeterValues with every measurand is ~3 kB); anything far
# larger is a broken or hostile charger, and aiohttp closes with 1009.
MAX_FRAME_BYTES = 64 * 1024
# Sustained messages per second and the burst an offline queue may replay.
MESSAGE_RATE = 10.0
MESSAGE_BURST = 60.0


class ConnectionClosedError(Exception):
    """The charger's websocket is closed."""


class WebSocketConnection:
    """Text frames in and out; binary frames and floods are not let through."""

    def __init__(self, charge_point_id: str, websocket: web.WebSocketResponse) -> None:
        """Wrap a prepared websocket."""
        self._id = charge_point_id
        self._websocket = websocket
        self._bucket = TokenBucket(rate=MESSAGE_RATE, burst=MESSAGE_BURST)
        self.dropped = 0

    async def recv(self) -> str:
        """The next text frame that the rate limit lets through."""
        while True:
            message = await self._websocket.receive()
            if message.type is WSMsgType.TEXT:
                if self._bucket.take(time.monotonic()):
                    return str(message.data)
                self.dropped += 1
                if self.dropped == 1 or self.dropped % 1000 == 0:
                    _LOGGER.warning(
                        "Charger %s floods us; %s messages dropped so far",
                        self._id,
                        self.dropped,
                    )
                continue
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
