"""The sessions as long-term statistics: energy and cost per hour.

Per connector and for the place, so HA's statistics graph shows them by day
and month, in kWh or in cost. External statistics (``homecharge:…``) through the recorder. The first run
imports every session on disk in the background, a month at a time (the
event loop is never held long); after that, each hour is added a minute
after it ends, its sums running on from the ones kept in the sessions index.
A late change to an hour already imported (a late stop, a price that came
late) rewrites the series from that hour on. Without the recorder, nothing
is imported.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from datetime import datetime
from itertools import islice
import logging
from typing import Any, Final

from homeassistant.components.recorder.models import (
    StatisticData,
    StatisticMeanType,
    StatisticMetaData,
)
from homeassistant.components.recorder.statistics import async_add_external_statistics
from homeassistant.const import UnitOfEnergy
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers.event import async_track_time_change
from homeassistant.util import dt as dt_util, slugify

from ..const import DOMAIN
from ..logic.sessions.hourly import HourRow, Series, hour_of, hourly, merge, rows
from .charger import ChargerCoordinator
from .sessions import PlaceSessions

_LOGGER = logging.getLogger(__name__)

# Rows handed to the recorder at once (then the event loop gets a turn).
ROWS_PER_BATCH: Final = 2000

# Statistics names cannot be translated by Home Assistant: chosen by the
# system's language when they are made.
_ENERGY: Final = {
    "en": "charging energy",
    "nb": "ladeenergi",
    "da": "ladeenergi",
    "nl": "laadenergie",
    "sv": "laddenergi",
}
_COST: Final = {
    "en": "charging cost",
    "nb": "ladekostnad",
    "da": "ladeudgift",
    "nl": "laadkosten",
    "sv": "laddkostnad",
}


def statistic_id(entry_id: str, series: Series, kind: str) -> str:
    """The external statistic of a series: ``homecharge:<place>[_<charger>]_<kind>``."""
    name = entry_id.lower()
    if series is not None:
        name = f"{name}_{slugify(series[0])}_{series[1]}"
    return f"{DOMAIN}:{slugify(name)}_{kind}"


class SessionStatistics:
    """Feeds a place's sessions into the recorder's long-term statistics."""

    def __init__(
        self,
        hass: HomeAssistant,
        entry_id: str,
        sessions: PlaceSessions,
        names: dict[Series, str],
    ) -> None:
        """Name each series (None: the place)."""
        self._hass = hass
        self._entry_id = entry_id
        self._sessions = sessions
        self._names = names
        self._task: asyncio.Task[None] | None = None
        # Rows handed to the recorder since the start (diagnostics, bench).
        self.rows_written = 0

    @classmethod
    def of_place(
        cls,
        hass: HomeAssistant,
        entry_id: str,
        place_name: str,
        sessions: PlaceSessions,
        chargers: Mapping[str, ChargerCoordinator],
    ) -> SessionStatistics:
        """A place's series: the place, and each connector by its name."""
        names: dict[Series, str] = {None: place_name}
        for charger in chargers.values():
            names[(charger.config.charge_point_id, charger.connector_id)] = (
                charger.display_name
            )
        return cls(hass, entry_id, sessions, names)

    @property
    def _state(self) -> dict[str, Any]:
        return self._sessions.archive.statistics

    @callback
    def async_start(self) -> CALLBACK_TYPE | None:
        """Import what is missing now, then each hour; None without a recorder."""
        if "recorder" not in self._hass.config.components:
            return None
        self._schedule(full=not self._state.get("through"))
        unsubscribe = async_track_time_change(
            self._hass, self._on_hour, minute=1, second=0
        )

        def stop() -> None:
            unsubscribe()
            if self._task is not None:
                self._task.cancel()

        return stop

    @callback
    def _on_hour(self, _now: datetime) -> None:
        self._schedule(full=False)

    def _schedule(self, *, full: bool) -> None:
        if self._task is not None and not self._task.done():
            return
        self._task = self._hass.async_create_background_task(
            self.async_update(full=full), f"{DOMAIN} session statistics"
        )

    async def async_update(self, *, full: bool = False) -> None:
        """Add the hours since the last import (everything, the first time)."""
        until = hour_of(dt_util.utcnow())
        through = _moment(self._state.get("through"))
        stale = self._sessions.stale_from
        self._sessions.stale_from = None
        if full or through is None or (stale is not None and stale < through):
            dense_from = None if full or through is None else hour_of(stale or until)
            await self._async_import_all(until, dense_from)
            return
        if until <= through:
            return
        hours = hourly(self._sessions.ledger, until)
        sums: dict[str, list[float]] = self._state.get("sums", {})
        for series in {*self._names, *hours}:
            recent = {
                start: value
                for start, value in hours.get(series, {}).items()
                if start >= through
            }
            base = sums.get(_key(series), [0.0, 0.0])
            self._add(
                series,
                list(
                    rows(
                        recent, base=(base[0], base[1]), dense_from=through, until=until
                    )
                ),
            )
        self._remember(until)

    async def _async_import_all(
        self, until: datetime, dense_from: datetime | None
    ) -> None:
        """Every session on disk and held, a month at a time.

        The event loop gets a turn after each month and each batch of rows:
        ten years of sessions never hold it for long.
        """
        held = {session.key: session for session in self._sessions.ledger}
        hours: dict[Series, dict[datetime, tuple[float, float]]] = {}
        archive = self._sessions.archive
        for month in sorted(archive.months):
            sessions = [
                held.pop(session.key, session)
                for session in await archive.async_read(month)
            ]
            merge(hours, hourly(sessions, until))
            await asyncio.sleep(0)
        merge(hours, hourly(held.values(), until))
        for series in {*self._names, *hours}:
            made = rows(hours.get(series, {}), dense_from=dense_from, until=until)
            while batch := list(islice(made, ROWS_PER_BATCH)):
                self._add(series, batch)
                await asyncio.sleep(0)
        self._remember(until)

    def _add(self, series: Series, hour_rows: list[HourRow]) -> None:
        if not hour_rows:
            return
        self.rows_written += 2 * len(hour_rows)
        language = self._hass.config.language.split("-")[0]
        name = self._names.get(series, series[0] if series else "")
        sums = self._state.setdefault("sums", {})
        sums[_key(series)] = [hour_rows[-1].kwh_sum, hour_rows[-1].cost_sum]
        for kind, words, unit, unit_class in (
            ("energy", _ENERGY, UnitOfEnergy.KILO_WATT_HOUR, "energy"),
            ("cost", _COST, self._hass.config.currency, None),
        ):
            metadata = StatisticMetaData(
                mean_type=StatisticMeanType.NONE,
                has_sum=True,
                name=f"{name} {words.get(language, words['en'])}",
                source=DOMAIN,
                statistic_id=statistic_id(self._entry_id, series, kind),
                unit_class=unit_class,
                unit_of_measurement=unit,
            )
            energy = kind == "energy"
            async_add_external_statistics(
                self._hass,
                metadata,
                [
                    StatisticData(
                        start=row.start,
                        state=round(row.kwh if energy else row.cost, 4),
                        sum=round(row.kwh_sum if energy else row.cost_sum, 4),
                    )
                    for row in hour_rows
                ],
            )

    def _remember(self, until: datetime) -> None:
        self._state["through"] = until.isoformat()
        self._sessions.archive.save_index()


def _key(series: Series) -> str:
    return "place" if series is None else f"{series[0]}/{series[1]}"


def _moment(value: object) -> datetime | None:
    return dt_util.parse_datetime(value) if isinstance(value, str) else None
