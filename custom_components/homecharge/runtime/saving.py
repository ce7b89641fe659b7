"""Saving a Store at most a while after a change, however often it changes.

``Store.async_delay_save`` is a debounce: each call moves the write further
out, so data that changes every few seconds (a charging session's readings)
would never be written until Home Assistant stops — and a SIGKILL would lose
it all. Here the first change starts the clock and the write happens when it
runs out, changes in between included.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.storage import Store


class ThrottledSave:
    """Writes a Store within ``delay`` seconds of its first unsaved change."""

    def __init__(
        self,
        hass: HomeAssistant,
        store: Store[Any],
        data: Callable[[], Any],
        delay: float,
    ) -> None:
        """Save ``data()`` to ``store``."""
        self._hass = hass
        self._store = store
        self._data = data
        self._delay = delay
        self._due: asyncio.TimerHandle | None = None

    @callback
    def changed(self) -> None:
        """Something to save: written within the delay."""
        if self._due is None:
            self._due = self._hass.loop.call_later(self._delay, self._write)

    @callback
    def _write(self) -> None:
        self._due = None
        self._store.async_delay_save(self._data, 0)

    async def async_flush(self) -> None:
        """Write now (unload, stop)."""
        if self._due is not None:
            self._due.cancel()
            self._due = None
        await self._store.async_save(self._data())

    @callback
    def cancel(self) -> None:
        """Forget a pending write (the data goes away)."""
        if self._due is not None:
            self._due.cancel()
            self._due = None
