"""Benchmark: the sessions ledger with ten years of sessions.

Ten years of sessions at a place with 4 chargers (25,000 by default; 1–8 h,
3–50 kWh, a register reading every 5 minutes, each slot priced) are made
through the ledger itself (``Ledger.start``/``record``/``stop``) and written
as Home Assistant would (one ``Store`` file per month under ``.storage`` of a
temporary config folder). Then, in a Home Assistant instance of the test
harness with a real recorder (SQLite in the temporary folder):

- ``ledger_record``: the ledger's work for one MeterValues message (one
  register reading into a running session of 40 slots), mean and p99 over
  all the readings made; baseline in the same run: the charger state's own
  bookkeeping per message (``record_samples``), what ran before the ledger;
- ``startup_load``: ``PlaceSessions.async_load`` (the index and the months
  held: this one, the last, any running) — baseline: reading every month;
- ``month_query``: the sessions of a month on disk (not held) with their
  totals, as ``get_sessions`` and the calendar ask — baseline: a held month;
- ``year_export_csv``: a year's sessions read, made rows and written as CSV
  (``export_sessions``);
- ``statistics_import``: the first import of every session into the
  recorder's long-term statistics (``SessionStatistics``, every row handed
  to the recorder and committed), and ``loop_block_max``: the longest the
  event loop was held meanwhile (a 5 ms ticker's worst lateness) —
  baseline: one full garbage collection of the same process.

Targets: load < 200 ms, month < 20 ms, year export < 1 s, < 100 µs per
message, import < 30 s with the loop never held > 50 ms.

    scripts/bench sessions [--sessions 25000] [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
import gc
import json
from pathlib import Path
import random
import statistics
import sys
import tempfile
import time
from typing import Any

from custom_components.homecharge.central.meter_values import MeterSample
from custom_components.homecharge.logic.sessions.codec import encode
from custom_components.homecharge.logic.sessions.ledger import Ledger
from custom_components.homecharge.logic.sessions.model import (
    Reading,
    Session,
    SlotCost,
)
from custom_components.homecharge.runtime.charger_sessions import record_samples
from custom_components.homecharge.runtime.charger_state import ChargerState

ENTRY = "01benchplace0000000000000"
CHARGERS = ("CP-1", "CP-2", "CP-3", "CP-4")
START = datetime(2016, 12, 1, tzinfo=UTC)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def make_sessions(count: int, seed: int = 1) -> tuple[Ledger, list[float]]:
    """Ten years of sessions through the ledger; the µs of each reading."""
    rng = random.Random(seed)
    ledger = Ledger()
    span = timedelta(days=3650)
    step = span / count
    registers = dict.fromkeys(CHARGERS, 0)
    record_us: list[float] = []
    for number in range(count):
        charger = CHARGERS[number % len(CHARGERS)]
        started = (START + step * number).replace(microsecond=0)
        hours = rng.uniform(1, 8)
        energy = rng.uniform(3_000, 50_000)
        tid = str(number + 1)
        now = started
        ledger.start(
            charger=charger,
            connector=1,
            transaction_id=tid,
            started=started,
            meter_start_wh=registers[charger],
            now=now,
        )
        readings = int(hours * 12)
        for index in range(1, readings):
            at = started + timedelta(minutes=5 * index)
            wh = registers[charger] + round(energy * index / readings)
            begin = time.perf_counter_ns()
            ledger.record(
                charger=charger,
                connector=1,
                transaction_id=tid,
                readings=[Reading(at, wh)],
                now=at,
            )
            record_us.append((time.perf_counter_ns() - begin) / 1000)
        stopped = started + timedelta(minutes=5 * readings)
        registers[charger] += round(energy)
        ledger.stop(
            charger=charger,
            transaction_id=tid,
            stopped=stopped,
            meter_stop_wh=registers[charger],
            reason="EVDisconnected",
            now=stopped,
        )
        session = ledger.get((charger, tid))
        assert session is not None
        for slot in session.slots:
            spot = 0.5 + 0.4 * ((slot.hour % 24) / 24)
            session.costs[slot] = SlotCost(
                spot=spot,
                markup=0.02,
                vat_percent=25.0,
                energy=(spot + 0.02) * 1.25,
                grid=0.3,
            )
        ledger.changed.clear()
    return ledger, record_us


def baseline_record_us(count: int) -> list[float]:
    """The charger state's bookkeeping per message (what ran before)."""
    state = ChargerState(transaction_id="1", meter_start_wh=0.0)
    times = []
    at = START
    for index in range(count):
        at += timedelta(minutes=5)
        sample = [MeterSample(timestamp=at, energy_wh=float(index * 100))]
        begin = time.perf_counter_ns()
        record_samples(state, sample, at)
        times.append((time.perf_counter_ns() - begin) / 1000)
    return times


def write_storage(config: Path, ledger: Ledger) -> int:
    """Month files and the index as HA's Store writes them; the month count."""
    from custom_components.homecharge.runtime.session_store import (  # noqa: PLC0415
        SESSIONS_VERSION,
        month_of,
    )

    storage = config / ".storage"
    storage.mkdir(parents=True)
    months: dict[str, list[Session]] = {}
    for session in ledger:
        months.setdefault(month_of(session.started, UTC), []).append(session)
    key = f"homecharge.{ENTRY}.sessions"
    for month, sessions in months.items():
        data = {
            "sessions": [encode(s) for s in sorted(sessions, key=lambda s: s.started)]
        }
        (storage / f"{key}.{month}").write_text(
            json.dumps(
                {
                    "version": SESSIONS_VERSION,
                    "minor_version": 1,
                    "key": f"{key}.{month}",
                    "data": data,
                }
            )
        )
    index = {
        "months": sorted(months),
        "running": [],
        "seq": ledger.seq,
        "last_hash": ledger.last_hash,
        "statistics": {},
    }
    (storage / key).write_text(
        json.dumps(
            {"version": SESSIONS_VERSION, "minor_version": 1, "key": key, "data": index}
        )
    )
    return len(months)


async def timed_ms(job: Callable[[], Awaitable[Any]], runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        begin = time.perf_counter()
        await job()
        times.append((time.perf_counter() - begin) * 1000)
    return times


class LoopWatch:
    """A 5 ms ticker: how late it ever woke is how long the loop was held."""

    def __init__(self) -> None:
        self.worst_ms = 0.0
        self._task: asyncio.Task[None] | None = None

    async def _tick(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            due = loop.time() + 0.005
            await asyncio.sleep(0.005)
            self.worst_ms = max(self.worst_ms, (loop.time() - due) * 1000)

    def start(self) -> None:
        self._task = asyncio.create_task(self._tick())

    def stop(self) -> None:
        if self._task:
            self._task.cancel()


async def in_home_assistant(config: Path, runs: int) -> None:
    from pytest_homeassistant_custom_component.common import (  # noqa: PLC0415
        async_test_home_assistant,
    )
    from pytest_homeassistant_custom_component.components.recorder.common import (  # noqa: PLC0415
        async_wait_recording_done,
    )

    from custom_components.homecharge.logic.sessions.reports import (  # noqa: PLC0415
        GroupBy,
        grouped,
        row,
    )
    from custom_components.homecharge.runtime.session_statistics import (  # noqa: PLC0415
        SessionStatistics,
    )
    from custom_components.homecharge.runtime.sessions import (  # noqa: PLC0415
        PlaceSessions,
    )
    from custom_components.homecharge.session_services import _write  # noqa: PLC0415
    from homeassistant.components.recorder import get_instance  # noqa: PLC0415
    from homeassistant.helpers import recorder as recorder_helper  # noqa: PLC0415
    from homeassistant.setup import async_setup_component  # noqa: PLC0415
    from homeassistant.util import dt as dt_util  # noqa: PLC0415

    async with async_test_home_assistant(config_dir=str(config)) as hass:
        await hass.config.async_set_time_zone("UTC")
        # The sessions end in 2026-11: "now" is their last month.
        last = START + timedelta(days=3650)
        dt_util.utcnow = lambda: last  # type: ignore[assignment]
        dt_util.now = lambda time_zone=None: last  # type: ignore[assignment]

        loads = await timed_ms(lambda: PlaceSessions.async_load(hass, ENTRY), runs)
        place = await PlaceSessions.async_load(hass, ENTRY)
        print(f"startup_load_p50: {statistics.median(loads):.1f} ms")
        print(f"startup_load_max: {max(loads):.1f} ms")
        print(f"startup_sessions_held: {len(place.ledger)} count")

        held_months = dict(place.archive._held)

        async def read_all() -> None:
            for month in sorted(place.archive.months):
                place.archive._held.pop(month, None)
                await place.archive.async_read(month)
            # The months startup holds are held again (the held baseline).
            place.archive._held.update(held_months)

        all_months = await timed_ms(read_all, max(1, runs // 5))
        print(f"baseline_load_all_months_p50: {statistics.median(all_months):.1f} ms")

        zone = dt_util.get_default_time_zone()
        old_month = START + timedelta(days=400)
        month_end = (old_month + timedelta(days=32)).replace(day=1)

        async def month_query(first: datetime, end: datetime) -> None:
            sessions = await place.async_sessions(first, end)
            grouped(sessions, GroupBy.DAY, zone)

        on_disk = await timed_ms(
            lambda: month_query(old_month.replace(day=1), month_end), runs
        )
        print(f"month_query_p50: {statistics.median(on_disk):.2f} ms")
        print(f"month_query_p99: {percentile(on_disk, 0.99):.2f} ms")
        held_start = (last - timedelta(days=1)).replace(day=1)
        held = await timed_ms(lambda: month_query(held_start, last), runs)
        print(f"baseline_held_month_query_p50: {statistics.median(held):.2f} ms")

        year_start = START + timedelta(days=365 * 5)

        async def export_year() -> None:
            sessions = await place.async_sessions(
                year_start, year_start + timedelta(days=365)
            )
            rows = [row(session, zone) for session in sessions]
            await hass.async_add_executor_job(
                _write, config / "export.csv", rows, "csv"
            )

        export = await timed_ms(export_year, max(1, runs // 5))
        print(f"year_export_csv_p50: {statistics.median(export):.0f} ms")

        recorder_helper.async_initialize_recorder(hass)
        assert await async_setup_component(
            hass, "recorder", {"recorder": {"db_url": f"sqlite:///{config}/db.sqlite"}}
        )
        await hass.async_block_till_done()
        names = {None: "Bench", **{(cp, 1): cp for cp in CHARGERS}}
        feeder = SessionStatistics(hass, ENTRY, place, names)
        # What one full garbage collection of this process holds the loop
        # for: any work that allocates much triggers some (the baseline of
        # loop_block_max).
        begin = time.perf_counter()
        gc.collect()
        print(f"baseline_full_gc: {(time.perf_counter() - begin) * 1000:.0f} ms")
        watch = LoopWatch()
        watch.start()
        begin = time.perf_counter()
        await feeder.async_update(full=True)
        queued = time.perf_counter() - begin
        await async_wait_recording_done(hass)
        done = time.perf_counter() - begin
        watch.stop()
        print(f"statistics_import_queued: {queued:.2f} s")
        print(f"statistics_import: {done:.2f} s")
        print(f"statistics_rows: {feeder.rows_written} count")
        print(f"statistics_rows_per_s: {feeder.rows_written / done:.0f} count")
        print(f"loop_block_max: {watch.worst_ms:.1f} ms")
        await get_instance(hass).async_block_till_done()
        # Stopped here, or the recorder's thread keeps the process alive.
        await hass.async_stop(force=True)


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sessions", type=int, default=25_000)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--quick", action="store_true", help="2,500 sessions")
    args = parser.parse_args(argv)
    count = 2_500 if args.quick else args.sessions
    begin = time.perf_counter()
    ledger, record_us = make_sessions(count)
    print(f"sessions: {len(ledger)} count")
    print(f"ledger_build: {time.perf_counter() - begin:.1f} s")
    print(f"ledger_record_mean: {statistics.fmean(record_us):.1f} us")
    print(f"ledger_record_p99: {percentile(record_us, 0.99):.1f} us")
    base = baseline_record_us(len(record_us))
    print(f"baseline_state_record_mean: {statistics.fmean(base):.1f} us")
    print(f"baseline_state_record_p99: {percentile(base, 0.99):.1f} us")
    with tempfile.TemporaryDirectory() as folder:
        config = Path(folder)
        months = write_storage(config, ledger)
        # Home Assistant never holds ten years at once: the ledger made here
        # goes, or its millions of objects would slow every collection.
        del ledger
        gc.collect()
        size = sum(f.stat().st_size for f in (config / ".storage").iterdir())
        print(f"months: {months} count")
        print(f"storage_size: {size / 1e6:.1f} MB")
        asyncio.run(in_home_assistant(config, args.runs))


if __name__ == "__main__":
    main(sys.argv[1:])
