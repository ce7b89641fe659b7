"""Benchmark: the reimbursement's CDR outbox against a local OCPI receiver.

In a Home Assistant instance of the test harness (a temporary config
folder, HA's own Store), ``CdrOutbox`` — the runtime's outbox, its Store
writes and its drain loop — sends ``--cdrs`` real CDRs (``build_cdr`` of
sessions of 8 slots) to the tests' fake eMSP (``tests/ocpi_receiver.py``,
an aiohttp server on 127.0.0.1 that validates every CDR against OCPI
2.2.1's field rules) with ``async_post_cdr`` after a real credentials
handshake:

- ``drain``: from the moment all CDRs are queued until the receiver holds
  them all, in order, each once; baseline in the same run: the same CDRs
  POSTed one after the other by the client alone (no outbox, no Store);
- ``load``: an outbox of ``--entries`` queued CDRs read back by a new
  ``CdrOutbox`` (``async_start``: the Store's JSON and ``Outbox.from_dict``),
  p50 over ``--runs``; baseline: ``json.loads`` of the same file alone.

Targets: 1,000 CDRs drained in < 10 s; 10,000 entries load in < 100 ms.

    scripts/bench sync [--cdrs 1000] [--entries 10000] [--runs 5]
"""

from __future__ import annotations

import argparse
import asyncio
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
import json
from pathlib import Path
import statistics
import sys
import tempfile
import time
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import ClientSession, web

from custom_components.homecharge.feeds.ocpi_client import (
    Registration,
    async_post_cdr,
)
from custom_components.homecharge.logic.reimbursement.ocpi_cdr import (
    CdrDriver,
    CdrSite,
    Party,
    build_cdr,
)
from custom_components.homecharge.logic.reimbursement.tariff import (
    Tariff,
    TariffBasis,
)
from custom_components.homecharge.logic.sessions.model import Classification, Session

from ..ocpi_receiver import FakeReceiver

OSLO = ZoneInfo("Europe/Oslo")
SENDER = Party("NO", "HCH")
QUARTER = timedelta(minutes=15)
FIXED = Tariff(
    effective_from=date(2026, 1, 1),
    basis=TariffBasis.FIXED,
    name="Fastpris",
    currency="NOK",
    unit_rate=Decimal("2.50"),
    vat_percent=Decimal(25),
)
SITE = CdrSite(
    location_id="home-1",
    address="Storgata 1",
    city="Oslo",
    postal_code="0155",
    country="NOR",
    latitude=59.913868,
    longitude=10.752245,
)


def cdrs(count: int, receiver: Party) -> list[dict[str, Any]]:
    """``count`` CDRs of 2-hour business sessions, one a day."""
    driver = CdrDriver(receiver=receiver, contract_id="NO-EMP-C12345678-9")
    start = datetime(2026, 1, 1, 17, tzinfo=UTC)
    made = []
    for number in range(count):
        began = start + timedelta(days=number)
        slots = {began + i * QUARTER: 2750 for i in range(8)}
        session = Session(
            charger="CP-1",
            connector=1,
            transaction_id=str(number + 1),
            started=began,
            meter_start_wh=0,
            stopped=began + 8 * QUARTER,
            meter_stop_wh=sum(slots.values()),
            classification=Classification.BUSINESS,
            slots=slots,
        )
        made.append(
            build_cdr(
                session,
                sender=SENDER,
                driver=driver,
                site=SITE,
                tariffs=(FIXED,),
                zone=OSLO,
                now=began + timedelta(hours=3),
            )
        )
    return made


async def _receiver() -> tuple[FakeReceiver, web.AppRunner]:
    fake = FakeReceiver()
    runner = web.AppRunner(fake.app())
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    fake.base = f"http://127.0.0.1:{port}"
    return fake, runner


def _registration(fake: FakeReceiver) -> Registration:
    return Registration(
        versions_url=fake.versions_url,
        token_c=fake.token_c,
        credentials_url=f"{fake.base}/ocpi/2.2.1/credentials",
        cdrs_url=f"{fake.base}/ocpi/2.2.1/cdrs",
        receiver=Party("NO", "EMP"),
        receiver_name="Employer",
    )


async def run(config: Path, count: int, entries: int, runs: int) -> None:
    """Both figures and their baselines."""
    from pytest_homeassistant_custom_component.common import (  # noqa: PLC0415
        async_test_home_assistant,
    )

    from custom_components.homecharge.runtime.reimbursement_outbox import (  # noqa: PLC0415
        CdrOutbox,
        store_key,
    )

    fake, runner = await _receiver()
    registration = _registration(fake)
    made = cdrs(max(count, 1), registration.receiver)
    # The handshake is the tests' (test_ocpi_client): here token C is given.
    try:
        async with ClientSession() as session:
            # Baseline: the client alone, one POST after the other.
            started = time.perf_counter()
            for cdr in made:
                answer = await async_post_cdr(session, registration, SENDER, cdr)
                assert answer.http_status in (200, 201), answer
            alone = time.perf_counter() - started
            fake.cdrs.clear()
            fake.order.clear()

            async with async_test_home_assistant(config_dir=str(config)) as hass:

                async def send(payload: dict[str, Any]) -> Any:
                    return await async_post_cdr(session, registration, SENDER, payload)

                outbox = CdrOutbox(hass, "bench", send)
                await outbox.async_start()
                for cdr in made:
                    outbox.queue_soon(cdr["id"], cdr)
                started = time.perf_counter()
                # The receiver has no event to wait on: polled every 5 ms.
                while len(fake.order) < len(made):  # noqa: ASYNC110
                    await asyncio.sleep(0.005)
                drained = time.perf_counter() - started
                await hass.async_block_till_done()
                await outbox.async_stop()
                assert fake.order == [cdr["id"] for cdr in made], "out of order"
                assert all(not problems for problems in fake.problems)
                print(f"drain_cdrs: {len(made)} count")
                print(f"drain: {drained:.2f} s")
                print(f"baseline_post_alone: {alone:.2f} s")
                print(f"drain_per_cdr: {1000 * drained / len(made):.2f} ms")

                # An outbox of ``entries`` queued CDRs, written by the outbox.
                big = CdrOutbox(hass, "load", send)
                big._running = True
                for number in range(entries):
                    cdr = dict(made[number % len(made)], id=f"CDR{number:08d}")
                    big._outbox.add(cdr["id"], cdr, datetime.now(UTC))
                await big._store.async_save(big._data())
                path = Path(config, ".storage", store_key("load"))
                size = path.stat().st_size
                loads, parses = [], []
                for _ in range(runs):
                    started = time.perf_counter()
                    json.loads(path.read_text())
                    parses.append(1000 * (time.perf_counter() - started))
                    fresh = CdrOutbox(hass, "load", send)
                    started = time.perf_counter()
                    await fresh.async_start()
                    loads.append(1000 * (time.perf_counter() - started))
                    assert fresh.status.waiting == entries
                    await fresh.async_stop()
                print(f"load_entries: {entries} count")
                print(f"load_file: {size / 1e6:.1f} MB")
                print(f"load_p50: {statistics.median(loads):.1f} ms")
                print(f"load_max: {max(loads):.1f} ms")
                print(f"baseline_json_loads_p50: {statistics.median(parses):.1f} ms")
    finally:
        await runner.cleanup()


def main(argv: list[str]) -> None:
    """Run it and print the figures."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--cdrs", type=int, default=1000)
    parser.add_argument("--entries", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        config = Path(folder)
        (config / ".storage").mkdir()
        asyncio.run(run(config, args.cdrs, args.entries, max(args.runs, 1)))


if __name__ == "__main__":
    main(sys.argv[1:])
