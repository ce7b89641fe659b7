"""A place's sessions on disk: an index, and one file per month.

Home Assistant's ``Store`` (JSON, written atomically, in the executor) keeps
``homecharge.<entry>.sessions`` (the chain's head and which months exist) and
``homecharge.<entry>.sessions.<YYYY-MM>`` (every session that started in that
local month). Startup reads the index and the months it needs (this one, the
last, any with a session still running): years of sessions do not slow it.
A month is loaded before it is written, so a late change to an old session
never drops the others of its month.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, tzinfo
import logging
from typing import Any, Final

from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.storage import Store

from ..const import DOMAIN
from ..logic.sessions.chain import GENESIS
from ..logic.sessions.codec import decode, encode
from ..logic.sessions.model import Session
from .saving import ThrottledSave

_LOGGER = logging.getLogger(__name__)

# 2: prices and readings packed as lists (codec.py); 1 wrote them as rows.
SESSIONS_VERSION: Final = 2
# A change is on disk within this time (a running session well within its
# slot), so a SIGKILL loses at most this much of what the register re-says.
SAVE_DELAY_S: Final = 15

type Key = tuple[str, str]


class SessionStore(Store[dict[str, Any]]):
    """Sessions storage; migrations from older layouts go here."""

    async def _async_migrate_func(
        self, old_major_version: int, old_minor_version: int, old_data: dict[str, Any]
    ) -> dict[str, Any]:
        """Bring an older file to this version (a month's or the index)."""
        if old_major_version > SESSIONS_VERSION:
            raise NotImplementedError(
                f"sessions storage version {old_major_version}.{old_minor_version}"
            )
        if old_major_version == 1 and "sessions" in old_data:
            # The codec still reads version 1: decoding and encoding again
            # packs the prices and readings. An unreadable item stays as it is.
            old_data = {
                **old_data,
                "sessions": [_repacked(item) for item in old_data["sessions"]],
            }
        return old_data


def _repacked(item: Any) -> Any:
    try:
        return encode(decode(item))
    except (KeyError, TypeError, ValueError, AttributeError):
        return item


def month_of(moment: datetime, zone: tzinfo) -> str:
    """The local month a session belongs to ("2026-12")."""
    return moment.astimezone(zone).strftime("%Y-%m")


def months_between(first: date, last: date) -> list[str]:
    """Every month from first's to last's, inclusive."""
    months, year, month = [], first.year, first.month
    while (year, month) <= (last.year, last.month):
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


class SessionArchive:
    """Loads and saves a place's sessions by month."""

    def __init__(self, hass: HomeAssistant, entry_id: str, zone: tzinfo) -> None:
        """Name the place's stores (nothing is read yet)."""
        self._hass = hass
        self._key = f"{DOMAIN}.{entry_id}.sessions"
        self._zone = zone
        self._index = self._store(self._key)
        self._index_saver = ThrottledSave(
            hass, self._index, self._index_data, SAVE_DELAY_S
        )
        self._stores: dict[str, SessionStore] = {}
        self._savers: dict[str, ThrottledSave] = {}
        # Months held for writing: the sessions of each, by key.
        self._held: dict[str, dict[Key, Session]] = {}
        self._unreadable: dict[str, list[Any]] = {}
        self.months: set[str] = set()
        self.seq = 0
        self.last_hash = GENESIS
        # What the hourly statistics imported (session_statistics.py).
        self.statistics: dict[str, Any] = {}

    def _store(self, key: str) -> SessionStore:
        return SessionStore(
            self._hass, SESSIONS_VERSION, key, private=True, atomic_writes=True
        )

    def _month_store(self, month: str) -> SessionStore:
        if month not in self._stores:
            self._stores[month] = self._store(f"{self._key}.{month}")
        return self._stores[month]

    async def async_load(self, today: date) -> list[Session]:
        """The sessions to hold: this month's, last month's, any running."""
        index = await self._index.async_load() or {}
        self.months = set(index.get("months", ()))
        self.seq = int(index.get("seq", 0))
        self.last_hash = str(index.get("last_hash", GENESIS))
        self.statistics = dict(index.get("statistics") or {})
        first = date(today.year - (today.month == 1), (today.month - 2) % 12 + 1, 1)
        wanted = set(months_between(first, today)) | set(index.get("running", ()))
        sessions: list[Session] = []
        for month in sorted(wanted & self.months):
            sessions.extend(await self._async_hold(month))
        return sessions

    async def _async_hold(self, month: str) -> list[Session]:
        """Load a month for writing (once); its sessions."""
        if month not in self._held:
            self._held[month] = {
                s.key: s for s in await self.async_read(month, readings=True)
            }
        return list(self._held[month].values())

    async def async_read(self, month: str, *, readings: bool = False) -> list[Session]:
        """A month's sessions as stored (not held: a report's reading).

        A report needs no readings: they stay packed unless asked for.
        """
        if month in self._held:
            return list(self._held[month].values())
        if month not in self.months:
            return []
        data = await self._month_store(month).async_load() or {}
        sessions, unreadable = [], []
        for item in data.get("sessions", ()):
            try:
                sessions.append(decode(item, readings=readings))
            except (KeyError, TypeError, ValueError, AttributeError) as err:
                unreadable.append(item)
                _LOGGER.error(  # noqa: TRY400 - the item, not a traceback
                    "A session in %s's file is unreadable (%r); kept as it is: %s",
                    month,
                    err,
                    item,
                )
        # Written back untouched with the month, never dropped.
        self._unreadable[month] = unreadable
        return sessions

    @callback
    def save(self, sessions: Iterable[Session], seq: int, last_hash: str) -> None:
        """Save changed sessions (each month's file within SAVE_DELAY_S)."""
        self.seq, self.last_hash = seq, last_hash
        by_month: dict[str, list[Session]] = {}
        for session in sessions:
            by_month.setdefault(month_of(session.started, self._zone), []).append(
                session
            )
        for month, changed in by_month.items():
            if month in self._held or month not in self.months:
                self._put(month, changed)
            else:
                self._hass.async_create_task(
                    self._async_put_later(month, changed), eager_start=True
                )
        self._index_saver.changed()

    async def _async_put_later(self, month: str, sessions: list[Session]) -> None:
        await self._async_hold(month)
        self._put(month, sessions)

    def _put(self, month: str, sessions: list[Session]) -> None:
        held = self._held.setdefault(month, {})
        for session in sessions:
            held[session.key] = session
        self.months.add(month)
        if month not in self._savers:
            self._savers[month] = ThrottledSave(
                self._hass,
                self._month_store(month),
                lambda: self._month_data(month),
                SAVE_DELAY_S,
            )
        self._savers[month].changed()

    def _month_data(self, month: str) -> dict[str, Any]:
        held = self._held.get(month, {})
        ordered = sorted(held.values(), key=lambda s: (s.started, s.key))
        return {
            "sessions": [
                *(encode(session) for session in ordered),
                *self._unreadable.get(month, ()),
            ]
        }

    def _index_data(self) -> dict[str, Any]:
        running = {
            month
            for month, held in self._held.items()
            if any(not session.finished for session in held.values())
        }
        return {
            "months": sorted(self.months),
            "running": sorted(running),
            "seq": self.seq,
            "last_hash": self.last_hash,
            "statistics": self.statistics,
        }

    @callback
    def save_index(self) -> None:
        """Save the index (the statistics' progress) soon."""
        self._index_saver.changed()

    async def async_flush(self) -> None:
        """Write everything now (unload, stop)."""
        for month in list(self._held):
            if month in self._savers:
                await self._savers[month].async_flush()
        await self._index_saver.async_flush()

    async def async_remove(self) -> None:
        """Forget every file (the place was removed)."""
        self._index_saver.cancel()
        for saver in self._savers.values():
            saver.cancel()
        index = await self._index.async_load() or {}
        for month in index.get("months", ()):
            await self._month_store(month).async_remove()
        await self._index.async_remove()
