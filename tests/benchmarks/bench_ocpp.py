"""Benchmark: N OCPP 1.6J chargers on one Home Assistant, a replay, a reload.

A real Home Assistant process runs homecharge with one place of N chargers.
This process connects N lean websocket clients that boot, report status, and
send MeterValues every 10 s plus heartbeats, timing every MeterValues round
trip of the measured minutes (steady state only: not the boot, nor the replay
and reload below, which load Home Assistant on purpose). Each charger sends on
a fixed 10 s grid, its slot at ``number / N`` of the interval, so the N
chargers are spread evenly as real ones are, whatever their boot took. HA's
CPU and memory are read from /proc. The baseline, measured in the same run, is
the same Home Assistant idle with no charger connected (``--idle-minutes 0``:
none).

Then, with the N chargers still reporting:

- a replay: one more charger reconnects and replays ``--replay`` queued
  MeterValues the way firmware does (each waits for its answer), while its
  maximum current is changed ``--limit-changes`` times through Home
  Assistant's API; figures: how long the queue took, and the time from each
  change until the SetChargingProfile reaches the charger;
- a reload of the place: how many chargers lost their socket.

    scripts/bench ocpp [--chargers 100] [--minutes 10] [--idle-minutes 1]
                       [--replay 1000] [--limit-changes 20]
"""

from __future__ import annotations

import argparse
import asyncio
from contextlib import suppress
import json
from pathlib import Path
import shutil
import statistics
import tempfile
import time
from typing import Any

import aiohttp

from ..ha_process import HomeAssistantProcess, free_port, place_entry, write_config

METER_INTERVAL_S = 10.0
# A replaying charger waits this long for each answer, as firmware does; the
# whole replay is given up after the cap (a server that drops frames).
REPLAY_CALL_TIMEOUT_S = 10.0
REPLAY_CAP_S = 60.0
HEARTBEAT_INTERVAL_S = 60.0


PLACE_ID = "01BENCHPLACE0000000000000"


def bench_place(chargers: int) -> dict[str, Any]:
    """One place that owns every charger, and the replaying one."""
    return place_entry(
        entry_id=PLACE_ID,
        name="Bench",
        main_fuse=10_000.0,
        grid_type="3p_400_tn",
        chargers=[
            {
                "charge_point_id": f"BENCH-{number:03}",
                "title": f"Bench {number:03}",
                "circuit_fuse": 32.0,
                "phases": 3,
                "password": None,
            }
            for number in range(chargers)
        ]
        + [
            {
                "charge_point_id": "REPLAY-000",
                "title": "Replay",
                "circuit_fuse": 32.0,
                "phases": 3,
                "password": None,
            }
        ],
    )


def meter_values(
    number: int, energy_wh: float, transaction_id: int | None
) -> dict[str, Any]:
    """A realistic MeterValues payload: energy, power, currents, voltages."""
    sampled = [
        {
            "measurand": "Energy.Active.Import.Register",
            "unit": "Wh",
            "value": f"{energy_wh:.0f}",
        },
        {"measurand": "Power.Active.Import", "unit": "W", "value": "11040"},
        *(
            {
                "measurand": "Current.Import",
                "phase": phase,
                "unit": "A",
                "value": "16.0",
            }
            for phase in ("L1", "L2", "L3")
        ),
        *(
            {
                "measurand": "Voltage",
                "phase": f"{phase}-N",
                "unit": "V",
                "value": "230.1",
            }
            for phase in ("L1", "L2", "L3")
        ),
    ]
    payload: dict[str, Any] = {
        "connectorId": 1,
        "meterValue": [
            {
                "timestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                "sampledValue": sampled,
            }
        ],
    }
    if transaction_id is not None:
        payload["transactionId"] = transaction_id
    return payload


class Client:
    """One lean charger: boots, charges, reports, answers the server."""

    def __init__(
        self,
        url: str,
        number: int,
        latencies: list[float],
        slot_s: float = 0.0,
    ) -> None:
        self.url = url
        self.number = number
        self.latencies = latencies
        # Where in the 10 s interval this charger sends (monotonic clock).
        self.slot_s = slot_s
        self._pending: dict[str, tuple[asyncio.Future[Any], float]] = {}
        self._ids = 0
        self.energy_wh = 1_000_000.0 + number
        self.disconnects = 0
        # Arrival times of our SetChargingProfile calls, with their limit.
        self.profiles: list[tuple[float, float]] = []
        self.prefix = "BENCH"

    async def _call(
        self,
        websocket: aiohttp.ClientWebSocketResponse,
        action: str,
        payload: dict[str, Any],
        wait_s: float = 30.0,
    ) -> Any:
        self._ids += 1
        unique = f"{self.number}-{self._ids}"
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending[unique] = (future, time.perf_counter())
        await websocket.send_str(json.dumps([2, unique, action, payload]))
        return await asyncio.wait_for(future, wait_s)

    async def _receive(self, websocket: aiohttp.ClientWebSocketResponse) -> None:
        await self._answer_all(websocket)
        # The server closed the socket (we cancel this task when we close it).
        self.disconnects += 1

    async def _answer_all(self, websocket: aiohttp.ClientWebSocketResponse) -> None:
        async for message in websocket:
            frame = json.loads(message.data)
            if frame[0] == 2:  # the server asks: answer like a compliant charger
                action = frame[2]
                if action == "SetChargingProfile":
                    profile = frame[3]["csChargingProfiles"]
                    if profile["chargingProfileId"] == 4242:
                        period = profile["chargingSchedule"]["chargingSchedulePeriod"]
                        self.profiles.append((time.perf_counter(), period[0]["limit"]))
                if action == "GetConfiguration":
                    answer: dict[str, Any] = {
                        "configurationKey": [
                            {
                                "key": "ChargingScheduleAllowedChargingRateUnit",
                                "readonly": True,
                                "value": "Current",
                            },
                            {
                                "key": "ChargeProfileMaxStackLevel",
                                "readonly": True,
                                "value": "8",
                            },
                        ]
                    }
                elif action == "ChangeConfiguration":
                    answer = {"status": "Rejected"}
                else:
                    answer = {"status": "Accepted"}
                await websocket.send_str(json.dumps([3, frame[1], answer]))
            elif (pending := self._pending.pop(frame[1], None)) is not None:
                future, sent = pending
                if frame[0] == 3 and not future.done():
                    future.set_result((frame[2], time.perf_counter() - sent))
                elif not future.done():
                    future.set_exception(RuntimeError(str(frame)))

    async def run(
        self,
        session: aiohttp.ClientSession,
        stop: asyncio.Event,
        measuring: asyncio.Event,
    ) -> None:
        async with session.ws_connect(
            f"{self.url}/{self.prefix}-{self.number:03}", protocols=("ocpp1.6",)
        ) as websocket:
            receiver = asyncio.create_task(self._receive(websocket))
            try:
                await self._call(
                    websocket,
                    "BootNotification",
                    {"chargePointVendor": "Bench", "chargePointModel": "B-1"},
                )
                await self._call(
                    websocket,
                    "StatusNotification",
                    {"connectorId": 1, "errorCode": "NoError", "status": "Charging"},
                )
                (started, _) = await self._call(
                    websocket,
                    "StartTransaction",
                    {
                        "connectorId": 1,
                        "idTag": "BENCH",
                        "meterStart": int(self.energy_wh),
                        "timestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                    },
                )
                transaction = started["transactionId"]
                # Our slot on the grid: the chargers stay spread evenly over
                # the interval however long each boot took (a relative sleep
                # after boot bunched those whose boots were held up together,
                # and each period drifted by the round trip).
                next_send = self.slot_s
                while next_send < time.monotonic():
                    next_send += METER_INTERVAL_S
                with suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), next_send - time.monotonic())
                next_heartbeat = time.monotonic() + HEARTBEAT_INTERVAL_S
                while not stop.is_set():
                    self.energy_wh += 11040 * METER_INTERVAL_S / 3600
                    (_, latency) = await self._call(
                        websocket,
                        "MeterValues",
                        meter_values(self.number, self.energy_wh, transaction),
                    )
                    if measuring.is_set():
                        self.latencies.append(latency)
                    if time.monotonic() >= next_heartbeat:
                        await self._call(websocket, "Heartbeat", {})
                        next_heartbeat += HEARTBEAT_INTERVAL_S
                    next_send += METER_INTERVAL_S
                    while next_send < time.monotonic():  # a missed slot
                        next_send += METER_INTERVAL_S
                    with suppress(TimeoutError):
                        await asyncio.wait_for(
                            stop.wait(), next_send - time.monotonic()
                        )
            finally:
                receiver.cancel()
                with suppress(asyncio.CancelledError):
                    await receiver

    async def replay(
        self, session: aiohttp.ClientSession, queued: int, done: asyncio.Event
    ) -> tuple[float, int]:
        """Boot, then send ``queued`` MeterValues one after another.

        Like firmware, each waits for its answer (10 s, then the next one);
        after ``REPLAY_CAP_S`` the rest is given up. Seconds taken, answered.
        """
        async with session.ws_connect(
            f"{self.url}/{self.prefix}-{self.number:03}", protocols=("ocpp1.6",)
        ) as websocket:
            receiver = asyncio.create_task(self._receive(websocket))
            try:
                await self._call(
                    websocket,
                    "BootNotification",
                    {"chargePointVendor": "Bench", "chargePointModel": "B-1"},
                )
                await asyncio.sleep(2)  # its first limit and the questions after
                started = time.perf_counter()
                answered = 0
                for _ in range(queued):
                    if time.perf_counter() - started > REPLAY_CAP_S:
                        break
                    self.energy_wh += 10
                    try:
                        await self._call(
                            websocket,
                            "MeterValues",
                            meter_values(0, self.energy_wh, None),
                            wait_s=REPLAY_CALL_TIMEOUT_S,
                        )
                    except (TimeoutError, RuntimeError):
                        continue
                    answered += 1
                took = time.perf_counter() - started
                done.set()
                await asyncio.sleep(2)  # the last limit change lands
                return took, answered
            finally:
                receiver.cancel()
                with suppress(asyncio.CancelledError):
                    await receiver


async def replay_with_limit_changes(
    process: HomeAssistantProcess,
    session: aiohttp.ClientSession,
    port: int,
    queued: int,
    changes: int,
) -> tuple[int, float, list[float], int]:
    """A charger replays its queue; its maximum current changes meanwhile.

    Each change goes through Home Assistant's API (the number entity, as a
    user's dashboard does); its delay is until the charger has the limit.
    """
    client = Client(f"ws://127.0.0.1:{port}", 0, [])
    client.prefix = "REPLAY"
    done = asyncio.Event()
    replaying = asyncio.create_task(client.replay(session, queued, done))
    entity_id = "number.replay_max_current"
    for _ in range(200):
        if entity_id in await process.states():
            break
        await asyncio.sleep(0.1)
    delays: list[float] = []
    await asyncio.sleep(2.5)  # booted, replaying
    asked_for = 0
    for change in range(changes):
        if done.is_set():
            break
        asked_for += 1
        amps = 10.0 + change % 15
        seen = len(client.profiles)
        asked = time.perf_counter()
        await process.request(
            "POST",
            "/api/services/number/set_value",
            {"entity_id": entity_id, "value": amps},
        )
        while not any(limit == amps for _, limit in client.profiles[seen:]):
            if time.perf_counter() - asked > 40:
                break
            await asyncio.sleep(0.001)
        else:
            arrived = next(at for at, limit in client.profiles[seen:] if limit == amps)
            delays.append(arrived - asked)
        await asyncio.sleep(0.05)
    took, answered = await replaying
    return answered, took, delays, asked_for


async def reload_place(process: HomeAssistantProcess, clients: list[Client]) -> int:
    """Reload the place; how many of its chargers lost their socket."""
    before = sum(client.disconnects for client in clients)
    await process.request("POST", f"/api/config/config_entries/entry/{PLACE_ID}/reload")
    await asyncio.sleep(METER_INTERVAL_S * 2)
    return sum(client.disconnects for client in clients) - before


def percentile(values: list[float], fraction: float) -> float:
    """The value below which ``fraction`` of them lie."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


async def main() -> None:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--chargers", type=int, default=100)
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--idle-minutes", type=float, default=1)
    parser.add_argument("--replay", type=int, default=1000, help="queued messages")
    parser.add_argument("--limit-changes", type=int, default=20)
    args = parser.parse_args()
    args.minutes = max(args.minutes, 1.0)  # memory is compared with minute 1
    directory = Path(tempfile.mkdtemp(prefix="homecharge-bench-"))
    port, http_port = free_port(), free_port()
    write_config(
        directory,
        ocpp_port=port,
        http_port=http_port,
        places=[bench_place(args.chargers)],
    )
    process = HomeAssistantProcess(directory, http_port=http_port, ocpp_port=port)
    process.start()
    try:
        await process.wait_ready()
        await asyncio.sleep(10)  # let start-up settle
        idle_start = process.cpu_seconds()
        await asyncio.sleep(args.idle_minutes * 60)
        idle_cpu = (
            (process.cpu_seconds() - idle_start) / args.idle_minutes
            if args.idle_minutes > 0
            else None
        )
        idle_rss = process.rss_mib()

        latencies: list[float] = []
        stop, measuring = asyncio.Event(), asyncio.Event()
        # No cap on sockets: aiohttp's default (100 per session) would queue
        # every charger past the 100th, and the replaying one, in ws_connect.
        async with aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=0)
        ) as session:
            # The grid starts once all have booted (a few seconds for 300).
            grid = time.monotonic() + 5
            clients = [
                Client(
                    f"ws://127.0.0.1:{port}",
                    n,
                    latencies,
                    grid + METER_INTERVAL_S * n / args.chargers,
                )
                for n in range(args.chargers)
            ]
            tasks = [
                asyncio.create_task(c.run(session, stop, measuring)) for c in clients
            ]
            await asyncio.sleep(METER_INTERVAL_S + 5)  # all booted and reporting
            measuring.set()
            cpu_start, started = process.cpu_seconds(), time.monotonic()
            await asyncio.sleep(max(0.0, 60 - (time.monotonic() - started)))
            rss_1 = process.rss_mib()
            await asyncio.sleep(
                max(0.0, args.minutes * 60 - (time.monotonic() - started))
            )
            minutes = (time.monotonic() - started) / 60
            load_cpu = (process.cpu_seconds() - cpu_start) / minutes
            rss_end = process.rss_mib()
            # The replay and the reload load Home Assistant on purpose: they
            # have figures of their own, not the steady state's latency.
            measuring.clear()
            replay = await replay_with_limit_changes(
                process, session, port, args.replay, args.limit_changes
            )
            reload_lost = await reload_place(process, clients)
            stop.set()
            results = await asyncio.gather(*tasks, return_exceptions=True)
        failures = [r for r in results if isinstance(r, BaseException)]
        print(f"chargers: {args.chargers} count")
        print(f"measured_minutes: {minutes:.1f} min")
        print(f"meter_values_calls: {len(latencies)} count")
        print(f"client_failures: {len(failures)} count")
        if idle_cpu is not None:
            print(f"baseline_idle_cpu: {idle_cpu:.2f} s/min")
        print(f"ha_cpu_with_chargers: {load_cpu:.2f} s/min")
        print(f"ha_cpu_share_of_one_core: {100 * load_cpu / 60:.2f} %")
        if idle_cpu is not None:
            share = 100 * (load_cpu - idle_cpu) / 60
            print(f"chargers_cpu_share_of_one_core: {share:.2f} %")
        print(f"meter_values_latency_p50: {1000 * statistics.median(latencies):.2f} ms")
        print(f"meter_values_latency_p99: {1000 * percentile(latencies, 0.99):.2f} ms")
        print(f"baseline_idle_rss: {idle_rss:.1f} MiB")
        print(f"rss_after_1_min: {rss_1:.1f} MiB")
        if args.minutes > 1:
            print(f"rss_after_{args.minutes:g}_min: {rss_end:.1f} MiB")
        print(f"rss_growth: {rss_end - rss_1:.1f} MiB")
        answered, took, delays, asked_for = replay
        print(f"replay_queued_messages: {args.replay} count")
        print(f"replay_answered: {answered} count")
        print(f"replay_took: {took:.2f} s (given up after {REPLAY_CAP_S:g} s)")
        print(f"replay_limit_changes: {asked_for} count")
        print(f"replay_limit_changes_not_within_40s: {asked_for - len(delays)} count")
        if delays:
            print(f"replay_limit_delay_p50: {1000 * statistics.median(delays):.1f} ms")
            print(f"replay_limit_delay_p99: {1000 * percentile(delays, 0.99):.1f} ms")
            print(f"replay_limit_delay_max: {1000 * max(delays):.1f} ms")
        print(f"reload_chargers_disconnected: {reload_lost} of {args.chargers}")
    finally:
        process.stop()
        shutil.rmtree(directory, ignore_errors=True)


if __name__ == "__main__":
    asyncio.run(main())
