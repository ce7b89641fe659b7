"""Benchmark: how fast the load balancer cuts the chargers on an overload.

End to end, in one run: a real Mosquitto broker, a real Home Assistant
process with its MQTT integration and homecharge, one place per scenario (2
and 20 chargers by default; 3-phase TN 400 V, main fuse 250 A, margin 1 A,
``raise_after`` and ``raise_interval`` 0 s so every other message raises
again), and every charger a ``SimulatedCharger`` in a real OCPP 1.6 websocket
session, charging. This process publishes amsreader JSON classic list-2
messages (``SimulatedMeter.payload``: the house load plus what the simulated
cars draw) with its own paho client, QoS 0, alternating

- an overload: the house load is set so that the fair share falls to
  9.0–9.9 A; timed from ``time.perf_counter()`` right before ``publish``
  until each charger's websocket hands over the ``SetChargingProfile`` frame
  with a lower limit (the simulators run in this process: same clock);
- a normal load: the share rises to 11.0–11.9 A, raised at once (not timed
  as a cut; reported as ``raise_all``).

One message per 150 ms at most: every new limit costs each charger one
answer, and homecharge drops a charger's messages beyond 10/s sustained.

Figures per scenario of N chargers: ``e2e_N_chargers_p50``/``p99`` (each
charger's own cut, pooled), ``first`` (the first charger cut) and ``all``
(the site fully cut: the last charger's frame); ``missing`` counts chargers
that got no cut within 5 s, ``unexpected_limit`` cuts that differ from the
fair share by more than 0.1 A; ``ha_cpu``/``bench_cpu`` are the CPU time
Home Assistant and this process (simulators, publisher) spent per overload
and raise. The simulators share this process's event loop, so with many
chargers part of ``all`` is their own handling: an upper bound. Targets: p99
under 250 ms end to end (``all`` with 20 chargers included); the decision
under 100 µs for 20 chargers.

The decision alone: ``balancer.balance`` (headroom + allocate + follow) for 2
and 20 chargers, ≥ 10,000 calls each, timed with ``perf_counter_ns``, the
house load per phase random up to the main fuse (``decision_N_chargers``),
split into houses that leave every charger 6 A (``all_fit``) and houses
that force pauses (``pausing``); also a 20-charger site with every third
charger on one phase, and parsing one JSON classic payload.

Reference figures, NOT measured: evcc's control loop. Its ``interval``
(https://docs.evcc.io/en/reference/configuration/interval: "interval: 30s",
shorter than 30 s warned against) is the time between control cycles, and
each cycle updates ONE loadpoint (core/site.go: ``loopLoadpoints`` hands the
``Run`` ticker the next loadpoint round robin), so with 20 chargers a given
charger is revisited every 20 × 30 s.

    scripts/bench balancer [--messages 500] [--chargers 2,20] [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Callable, Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
import json
import math
from pathlib import Path
import random
import shutil
import statistics
import sys
import tempfile
import time
from typing import Any, cast

import aiohttp
from paho.mqtt.client import Client
from paho.mqtt.enums import CallbackAPIVersion

from custom_components.homecharge.logic.allocation import ChargerLoad
from custom_components.homecharge.logic.balancer import (
    BalancerSettings,
    Track,
    balance,
)
from custom_components.homecharge.logic.grid import IEC_MIN_AMPS
from custom_components.homecharge.logic.limits import round_down_amps
from custom_components.homecharge.logic.meter_formats import MeterFormat, parse_message

from ..ha_process import HomeAssistantProcess, free_port, place_entry, write_config
from ..mosquitto import Mosquitto
from ..simulators.charger import SimulatedCharger
from ..simulators.meter import SimulatedMeter

MARGIN = 1.0
# Fair shares: each overload cuts to one of the low ones, each normal load
# raises to one of the high ones; x.x5 so the 0.1 A rounding is never a tie.
# Even if HA still took a charger at its old offer (the answer to the raise
# not yet read), a cut stays above 6 A (2 × 9.05 − 11.95 ≥ 6): nobody pauses.
LOW_SHARES = tuple(9.05 + 0.1 * step for step in range(10))
HIGH_SHARES = tuple(11.05 + 0.1 * step for step in range(10))
CUT_TIMEOUT_S = 5.0
# One meter message per this long at most. Each new limit costs a charger one
# answer, and homecharge lets a charger send 10 messages/s sustained (a token
# bucket, burst 60; central/connection.py): faster, it drops the answers and
# the limit path waits 30 s for them.
STEP_S = 0.15
WARMUP_S = 120.0
DECISION_WARMUP = 500
REFERENCE_EVCC_INTERVAL_MS = 30_000


def site_fuse(chargers: int) -> float:
    """250 A, or more when 20+ chargers at the high share would not fit."""
    return float(max(250, math.ceil(chargers * max(HIGH_SHARES) + MARGIN + 5)))


def percentile(values: Sequence[float], fraction: float) -> float:
    """The value below which ``fraction`` of them lie."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


# Decision alone ----------------------------------------------------------------


def decision_times(
    chargers: int, calls: int, *, mixed: bool, seed: int, regime: str = "any"
) -> list[float]:
    """Microseconds per ``balance`` call, the tracks carried from call to call.

    The house load per phase is random: anything up to the main fuse
    (``any``), low enough for every charger to get 6 A (``fit``), or so high
    that some must pause (``pause``: the allocation's slowest path).
    """
    rng = random.Random(seed)
    fuse = site_fuse(chargers)
    fits = fuse - MARGIN - IEC_MIN_AMPS * chargers
    low, high = {"any": (0.0, fuse), "fit": (0.0, fits), "pause": (fits, fuse)}[regime]
    settings = BalancerSettings(main_fuse=fuse, margin=MARGIN)
    phases = [
        frozenset({(number // 3) % 3})
        if mixed and number % 3 == 0
        else frozenset(range(3))
        for number in range(chargers)
    ]
    tracks: dict[str, Track] = {}
    now = datetime(2026, 1, 5, 17, 0, tzinfo=UTC)
    times: list[float] = []
    for call in range(DECISION_WARMUP + calls):
        loads = []
        own = [0.0, 0.0, 0.0]
        for number in range(chargers):
            charger_id = f"charger-{number:02}"
            track = tracks.get(charger_id)
            amps = 16.0 if track is None else track.amps
            draw = tuple(amps if phase in phases[number] else 0.0 for phase in range(3))
            for phase in range(3):
                own[phase] += draw[phase]
            loads.append(
                ChargerLoad(
                    charger_id=charger_id,
                    phases=phases[number],
                    max_amps=32.0,
                    draw=(draw[0], draw[1], draw[2]),
                    since=float(number),
                )
            )
        measured = [rng.uniform(low, high) + own[phase] for phase in range(3)]
        now += timedelta(seconds=2.5)
        started = time.perf_counter_ns()
        tracks = balance(tracks, measured, loads, now, settings).tracks
        elapsed = time.perf_counter_ns() - started
        if call >= DECISION_WARMUP:
            times.append(elapsed / 1000)
    return times


def parse_times(calls: int) -> list[float]:
    """Microseconds to parse one JSON classic list 2 (as HA's feed gets it)."""
    meter = SimulatedMeter(grid="3p_400_tn", list1_s=None, list2_s=None, list3_s=None)
    rng = random.Random(7)
    payloads = []
    for _ in range(100):
        meter.house_a = tuple(rng.uniform(0.0, 200.0) for _ in range(3))
        payloads.append(meter.payload(2).encode())
    fmt = MeterFormat.AMS_JSON_CLASSIC
    times: list[float] = []
    for call in range(DECISION_WARMUP + calls):
        payload = payloads[call % len(payloads)]
        started = time.perf_counter_ns()
        parse_message(fmt, "amsreader", "amsreader", payload)
        elapsed = time.perf_counter_ns() - started
        if call >= DECISION_WARMUP:
            times.append(elapsed / 1000)
    return times


# End to end --------------------------------------------------------------------


class _TimedSocket:
    """A client websocket that notes when each text frame arrives."""

    def __init__(
        self,
        ws: aiohttp.ClientWebSocketResponse,
        on_text: Callable[[float, str], None],
    ) -> None:
        self._ws = ws
        self._on_text = on_text

    async def receive(self, timeout: float | None = None) -> aiohttp.WSMessage:  # noqa: ASYNC109 - aiohttp's signature
        message = await self._ws.receive(timeout)
        if message.type is aiohttp.WSMsgType.TEXT:
            self._on_text(time.perf_counter(), message.data)
        return message

    def __getattr__(self, name: str) -> Any:
        return getattr(self._ws, name)


class TimedCharger(SimulatedCharger):
    """A simulated charger that notes each SetChargingProfile as its frame arrives."""

    def __post_init__(self) -> None:
        """Set up the frame log."""
        super().__post_init__()
        # (perf_counter when the frame arrived, limit of its first period)
        self.frames: list[tuple[float, float]] = []
        self.frame_arrived: Callable[[], None] = lambda: None

    async def _connect(self) -> aiohttp.ClientWebSocketResponse:
        ws = await super()._connect()
        return cast("aiohttp.ClientWebSocketResponse", _TimedSocket(ws, self._on_text))

    def _on_text(self, at: float, text: str) -> None:
        if '"SetChargingProfile"' not in text:
            return
        frame = json.loads(text)
        if frame[0] != 2 or frame[2] != "SetChargingProfile":
            return
        schedule = frame[3]["csChargingProfiles"]["chargingSchedule"]
        self.frames.append((at, float(schedule["chargingSchedulePeriod"][0]["limit"])))
        self.frame_arrived()


@dataclass
class Results:
    """What one scenario measured (milliseconds)."""

    chargers: int
    each: list[float] = field(default_factory=list)
    first: list[float] = field(default_factory=list)
    all: list[float] = field(default_factory=list)
    raise_all: list[float] = field(default_factory=list)
    messages: int = 0
    missing: int = 0
    raise_missing: int = 0
    unexpected: int = 0
    ha_cpu_s: float = 0.0
    bench_cpu_s: float = 0.0


class Site:
    """One scenario's place: its chargers, its meter and the publisher."""

    def __init__(
        self, chargers: list[TimedCharger], meter: SimulatedMeter, client: Client
    ) -> None:
        """Chargers already charging; ``client`` connected to the broker."""
        self.chargers = chargers
        self.meter = meter
        self.client = client
        self.fuse = site_fuse(len(chargers))
        self.arrived = asyncio.Event()
        for charger in chargers:
            charger.frame_arrived = self.arrived.set

    def limits(self) -> list[float | None]:
        """The last limit each charger was sent."""
        return [c.frames[-1][1] if c.frames else None for c in self.chargers]

    def publish(self, share: float) -> float:
        """A list 2 whose house load leaves ``share`` A each; when it was sent."""
        house = self.fuse - MARGIN - len(self.chargers) * share
        self.meter.house_a = (house, house, house)
        text = self.meter.payload(2)
        sent = time.perf_counter()
        self.client.publish(self.meter.topic, text, qos=0)
        return sent

    async def wait_frames(
        self,
        starts: list[int],
        accept: Callable[[int, float], bool],
        timeout: float,  # noqa: ASYNC109 - a deadline, not a scope
    ) -> list[tuple[float, float] | None]:
        """Per charger, the first frame since ``starts`` that ``accept`` takes."""
        found: list[tuple[float, float] | None] = [None] * len(self.chargers)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            self.arrived.clear()
            for index, charger in enumerate(self.chargers):
                if found[index] is None:
                    found[index] = next(
                        (
                            f
                            for f in charger.frames[starts[index] :]
                            if accept(index, f[1])
                        ),
                        None,
                    )
            if all(f is not None for f in found) or loop.time() >= deadline:
                return found
            with suppress(TimeoutError):
                await asyncio.wait_for(self.arrived.wait(), deadline - loop.time())

    async def settle(self) -> None:
        """Until every simulator draws its last limit."""
        for _ in range(1000):  # at most 2 s
            if all(
                not c.frames or abs(c.current_a - c.frames[-1][1]) < 1e-6
                for c in self.chargers
            ):
                break
            await asyncio.sleep(0.002)

    async def step(
        self, share: float, *, down: bool
    ) -> tuple[float, list[tuple[float, float] | None]]:
        """Publish, wait for every charger's new limit; when sent and the frames."""
        before = self.limits()
        starts = [len(c.frames) for c in self.chargers]

        def accept(index: int, limit: float) -> bool:
            old = before[index]
            return old is None or (limit < old if down else limit > old)

        loop = asyncio.get_running_loop()
        began = loop.time()
        sent = self.publish(share)
        found = await self.wait_frames(starts, accept, CUT_TIMEOUT_S)
        await self.settle()
        await asyncio.sleep(max(0.0, began + STEP_S - loop.time()))
        return sent, found

    async def warm_up(self) -> None:
        """Until HA reads the meter and every charger has its fair share."""
        expected = round_down_amps(HIGH_SHARES[0])
        loop = asyncio.get_running_loop()
        deadline = loop.time() + WARMUP_S
        while True:
            starts = [len(c.frames) for c in self.chargers]
            self.publish(HIGH_SHARES[0])
            await self.wait_frames(starts, lambda _, limit: limit == expected, 1.0)
            if all(limit == expected for limit in self.limits()):
                break
            if loop.time() >= deadline:
                raise TimeoutError(
                    f"chargers not at {expected} A within {WARMUP_S} s: {self.limits()}"
                )
        await self.settle()
        await asyncio.sleep(1.0)  # HA reads the answers: its offers are current

    async def measure(self, messages: int, results: Results) -> None:
        """``messages`` overloads, each followed by a normal load."""
        for number in range(messages):
            low = LOW_SHARES[number % len(LOW_SHARES)]
            high = HIGH_SHARES[(number * 3) % len(HIGH_SHARES)]
            sent, found = await self.step(low, down=True)
            results.messages += 1
            got = [f for f in found if f is not None]
            results.missing += len(found) - len(got)
            expected = round_down_amps(low)
            if odd := [f[1] for f in got if abs(f[1] - expected) > 0.1 + 1e-9]:
                results.unexpected += len(odd)
                progress(
                    f"overload {number}: cut to {sorted(set(odd))} A, "
                    f"expected {expected} A"
                )
            latencies = [1000 * (f[0] - sent) for f in got]
            results.each.extend(latencies)
            if latencies:
                results.first.append(min(latencies))
            if len(got) == len(found):
                results.all.append(max(latencies))
            sent, found = await self.step(high, down=False)
            raised = [f for f in found if f is not None]
            results.raise_missing += len(found) - len(raised)
            if len(raised) == len(found):
                results.raise_all.append(max(1000 * (f[0] - sent) for f in raised))


def place_for(chargers: int) -> dict[str, Any]:
    """The scenario's place: 3-phase TN, balancing on its own meter topic."""
    return place_entry(
        entry_id=f"01BENCHBALANCE{chargers:04}0000000",
        name=f"Balance {chargers}",
        main_fuse=site_fuse(chargers),
        grid_type="3p_400_tn",
        options={
            "meter_source": "mqtt",
            "meter_topic": f"bench/ams{chargers}",
            "meter_format": "ams_json_classic",
            "load_balancing": True,
            "margin": MARGIN,
            "raise_after": 0.0,
            "raise_interval": 0.0,
            "safe_current": 6.0,
            "meter_timeout": 600.0,
            # The fuse alone: no grid tariff to plan around, no capacity step
            # for the guard to hold (it would cut below the fair share).
            "grid_day_price": 0.0,
            "capacity_tariff": False,
        },
        chargers=[
            {
                "charge_point_id": charger_id(chargers, number),
                "circuit_fuse": 32.0,
                "phases": 3,
            }
            for number in range(chargers)
        ],
    )


def charger_id(chargers: int, number: int) -> str:
    """The id of charger ``number`` of the scenario with ``chargers``."""
    return f"BAL{chargers:02}-{number:02}"


def progress(text: str) -> None:
    """A status line on stderr (the figures go to stdout)."""
    sys.stderr.write(f"{time.strftime('%H:%M:%S')} {text}\n")
    sys.stderr.flush()


async def run_scenario(
    count: int,
    *,
    ocpp_port: int,
    broker: Mosquitto,
    client: Client,
    process: HomeAssistantProcess,
    messages: int,
) -> Results:
    """Connect the chargers, charge, warm up, measure, disconnect."""
    chargers = [
        TimedCharger(
            url=f"ws://127.0.0.1:{ocpp_port}",
            charge_point_id=charger_id(count, number),
            meter_interval_s=3600.0,  # HA takes a silent charger at its offer
            reconnect_interval_s=1.0,
        )
        for number in range(count)
    ]
    meter = SimulatedMeter(
        broker.host,
        broker.port,
        topic=f"bench/ams{count}",
        grid="3p_400_tn",
        chargers=chargers,
        list1_s=None,
        list2_s=None,
        list3_s=None,
        publish_on_start=False,
    )
    results = Results(chargers=count)
    try:
        await asyncio.gather(*(c.start(timeout=60) for c in chargers))
        await asyncio.gather(*(c.start_transaction() for c in chargers))
        # The balancer alone: "charge full now", so that smart charging (whose
        # house forecast learns the bench's own overloads) pauses no car.
        smart = [
            entity_id
            for entity_id in await process.states()
            if entity_id.startswith("switch.") and entity_id.endswith("_smart_charging")
        ]
        await process.request(
            "POST", "/api/services/switch/turn_off", {"entity_id": smart}
        )
        site = Site(chargers, meter, client)
        progress(f"{count} chargers charging; warming up")
        await site.warm_up()
        progress(f"{count} chargers: measuring {messages} overloads")
        cpu, own_cpu = process.cpu_seconds(), time.process_time()
        await site.measure(messages, results)
        results.ha_cpu_s = process.cpu_seconds() - cpu
        results.bench_cpu_s = time.process_time() - own_cpu
    finally:
        await asyncio.gather(*(c.stop() for c in chargers), return_exceptions=True)
    return results


def print_e2e(results: Results) -> None:
    """The scenario's figures."""
    name = f"e2e_{results.chargers}_chargers"
    print(f"{name}_messages: {results.messages} count")
    for label, values in (
        ("", results.each),
        ("_first", results.first),
        ("_all", results.all),
        ("_raise_all", results.raise_all),
    ):
        if values:
            print(f"{name}{label}_p50: {statistics.median(values):.1f} ms")
            print(f"{name}{label}_p99: {percentile(values, 0.99):.1f} ms")
    if results.all:
        print(f"{name}_all_max: {max(results.all):.1f} ms")
    print(f"{name}_missing: {results.missing} count")
    print(f"{name}_raise_missing: {results.raise_missing} count")
    print(f"{name}_unexpected_limit: {results.unexpected} count")
    if results.messages:
        for who, seconds in (("ha", results.ha_cpu_s), ("bench", results.bench_cpu_s)):
            per_pair = 1000 * seconds / results.messages
            print(
                f"{who}_cpu_per_cut_and_raise_{results.chargers}_chargers: "
                f"{per_pair:.1f} ms"
            )


def print_decision(counts: Sequence[int], calls: int) -> None:
    """The decision function's figures."""
    for count in counts:
        for regime, label in (("any", ""), ("fit", "_all_fit"), ("pause", "_pausing")):
            times = decision_times(count, calls, mixed=False, seed=count, regime=regime)
            name = f"decision_{count}_chargers{label}"
            if not label:
                print(f"{name}_calls: {len(times)} count")
            print(f"{name}_p50: {statistics.median(times):.1f} us")
            print(f"{name}_p99: {percentile(times, 0.99):.1f} us")
    biggest = max(counts)
    times = decision_times(biggest, calls, mixed=True, seed=biggest + 1)
    print(
        f"decision_{biggest}_chargers_mixed_phases_p50: {statistics.median(times):.1f} us"
    )
    print(
        f"decision_{biggest}_chargers_mixed_phases_p99: {percentile(times, 0.99):.1f} us"
    )
    times = parse_times(calls)
    print(f"meter_parse_ams_json_classic_p50: {statistics.median(times):.1f} us")
    print(f"meter_parse_ams_json_classic_p99: {percentile(times, 0.99):.1f} us")


def connect_publisher(broker: Mosquitto) -> Client:
    """A paho client on the broker, its network loop in its own thread."""
    client = Client(CallbackAPIVersion.VERSION2, client_id="homecharge-bench-meter")
    client.connect(broker.host, broker.port, keepalive=60)
    client.loop_start()
    deadline = time.monotonic() + 10
    while not client.is_connected():
        if time.monotonic() > deadline:
            raise TimeoutError("the publisher did not connect to the broker")
        time.sleep(0.01)
    return client


async def main() -> None:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--messages", type=int, default=500, help="overloads each")
    parser.add_argument("--chargers", default="2,20", help="scenarios, e.g. 2,20")
    parser.add_argument("--decision-calls", type=int, default=10_000)
    parser.add_argument("--quick", action="store_true", help="50 messages (smoke)")
    parser.add_argument(
        "--keep", action="store_true", help="keep HA's config folder and log"
    )
    args = parser.parse_args()
    counts = sorted({int(part) for part in args.chargers.split(",") if part.strip()})
    messages = 50 if args.quick else args.messages
    if not counts or min(counts) < 1 or messages < 1:
        parser.error("need at least one charger and one message")

    print_decision(counts, max(args.decision_calls, 10_000))

    directory = Path(tempfile.mkdtemp(prefix="homecharge-bench-balancer-"))
    broker = Mosquitto()
    process: HomeAssistantProcess | None = None
    client: Client | None = None
    try:
        broker.start()
        ocpp_port, http_port = free_port(), free_port()
        write_config(
            directory,
            ocpp_port=ocpp_port,
            http_port=http_port,
            places=[place_for(count) for count in counts],
            mqtt=(broker.host, broker.port),
        )
        process = HomeAssistantProcess(
            directory, http_port=http_port, ocpp_port=ocpp_port
        )
        process.start()
        await process.wait_ready()
        client = connect_publisher(broker)
        for count in counts:
            results = await run_scenario(
                count,
                ocpp_port=ocpp_port,
                broker=broker,
                client=client,
                process=process,
                messages=messages,
            )
            print_e2e(results)
        print(f"reference_evcc_default_interval: {REFERENCE_EVCC_INTERVAL_MS} ms")
        for count in counts:
            print(
                f"reference_evcc_default_reaction_{count}_chargers: "
                f"{REFERENCE_EVCC_INTERVAL_MS * count} ms"
            )
    except BaseException:
        if process is not None:
            sys.stderr.write(process.log_tail(60) + "\n")
        raise
    finally:
        if client is not None:
            client.disconnect()
            client.loop_stop()
        if process is not None:
            await process.async_stop()
        broker.stop()
        if args.keep:
            progress(f"kept {directory} (Home Assistant's log: ha-process.log)")
        else:
            shutil.rmtree(directory, ignore_errors=True)


if __name__ == "__main__":
    asyncio.run(main())
