"""Saving a Store at most a while after a change, however often it changes.

``Store.async_delay_save`` is a debounce when called at every change: each
call moves the write further out, so data that changes every few seconds (a
charging session's readings) would never be written until Home Assistant
stops — and a SIGKILL would lose it all. Here only the first change since
the last write asks for it, so the write happens ``delay`` after that first
change, changes in between included. It is still Home Assistant's delayed
write: on a clean stop (which does not unload config entries) Home
Assistant writes it at its final write, so a change made just before a
restart is kept.
"""

from __future__ import annotations

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
        self._pending = False

    @callback
    def changed(self) -> None:
        """Something to save: written within the delay (or at the final write)."""
        if not self._pending:
            self._pending = True
            self._store.async_delay_save(self._collect, self._delay)

    @callback
    def _collect(self) -> Any:
        """The data, as the Store writes it (later changes ask again)."""
        self._pending = False
        return self._data()

    async def async_flush(self) -> None:
        """Write now (unload)."""
        self._pending = False
        await self._store.async_save(self._data())

    @callback
    def cancel(self) -> None:
        """Forget the pending write: a save of its own, or a removal, follows."""
        self._pending = False
