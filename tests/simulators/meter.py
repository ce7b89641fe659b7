"""
A simulated AMS/HAN meter reader (amsreader firmware) publishing over MQTT.

    meter = SimulatedMeter("127.0.0.1", broker.port, house_a=(10.0, 5.0, 8.0),
                           chargers=[charger], list1_s=0.1, list2_s=0.4)
    await meter.start()           # connects, publishes list 2 at once, then loops
    meter.house_a = (20.0, 20.0, 20.0)
    meter.silent = True           # the reader goes quiet (fail-safe tests)
    meter.publish_now(2)          # one message now, whatever the loops do
    await meter.stop()

or from the repository root (until Ctrl-C / SIGTERM):

    python -m tests.simulators.meter --port 1883 --house 8,4,6 --high 30,25,28 --cycle 60
    python -m tests.simulators.meter --port 1883 --set-house 35,35,35  # the running one

Payloads are the firmware's "JSON (classic)" format (payloadFormat 0), on one
topic (default ``amsreader``), QoS 0, not retained, rendered like the firmware
renders them (``"I1":4.80``, ``"P":1028``)::

    {"id": <reader MAC>, "name": <MQTT client id>, "up": <uptime s>,
     "t": <unix s>, "vcc": 3.300, "rssi": -60, "temp": -127.00,
     "data": {...}, "realtime": {"h", "d", "t", "x", "he", "de"}}

- list 1 (every ``list1_s``, 2.5 s like Aidon): ``data`` holds only ``P``;
- list 2 (every ``list2_s``, 10 s): ``lv``, ``meterId``, ``type``, ``P``, ``Q``,
  ``PO``, ``QO``, ``I1``–``I3``, ``U1``–``U3``;
- list 3 (every ``list3_s``, hourly): list 2 plus the registers ``tPI``,
  ``tPO``, ``tQI``, ``tQO`` (kWh / kvarh) and the meter clock ``rtc``.

``realtime`` is the reader's own accounting: ``h``/``d`` imported kWh this hour
/ today, ``he``/``de`` exported, ``x`` the month's capacity-tariff figure (mean of
the three highest daily peak hours, today's running hour included), ``t`` the
threshold step (kW) above it. Note the clash: top-level ``t`` is a time stamp.

Physics. The current on each line is the house load (``house_a``, settable at
any time) plus what the chargers draw: a charger with n phases draws its
``current_a`` on n lines starting at its line (``charger_phase``, default L1:
a 1-phase charger on line 0 loads L1 only; a 3-phase one loads all three). On a
1-phase grid every charger draws on L1. A multi-connector charger (a
``SimulatedCharger`` with ``connectors`` > 1) draws the sum of its connectors.
Negative house currents mean export (solar).

Power is consistent with the currents, per grid:

- ``3p_230_it`` (default; Norway's IT grid, Aidon 6525): U1–U3 are the 230 V
  line-to-line voltages, and P = 230/√3 · (I1 + I2 + I3), i.e. √3·230·I_avg,
  exact for a balanced resistive load. With ``it_i2_zero`` the meter reports
  I2 = 0 like real two-element (Aron) IT meters do; P keeps the true currents.
- ``3p_400_tn``: U1–U3 are 230 V line-to-neutral, P = 230 · (I1 + I2 + I3).
- ``1p_230``: U1 = 230 V, P = 230 · I1; I2, I3, U2, U3 are 0.

Cos φ is 1: Q and QO are 0. The net power is P when positive, else PO.
Energy registers integrate the net power between messages (the power of the
previous message held until the next: piecewise constant).

The meter also listens on ``<topic>/sim/house/set``: a payload like
``20,20,20`` (or one number for every line) sets the house load live
(``--set-house`` publishes one, as does ``mosquitto_pub``).

Publishing never waits for the network: paho-mqtt runs its own thread
(``loop_start``); ``client.publish`` only queues. Messages published while the
broker is away are dropped (QoS 0), and paho reconnects on its own.
"""

from __future__ import annotations

import argparse
import asyncio
from collections import deque
from collections.abc import Callable, Iterable, Sequence
import contextlib
from dataclasses import dataclass
import json
import logging
import math
import signal
import sys
import time
from typing import Any, Final, Literal, Protocol

from paho.mqtt import publish
from paho.mqtt.client import Client, ConnectFlags, DisconnectFlags, MQTTMessage
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

_LOGGER = logging.getLogger(__name__)

type GridType = Literal["3p_230_it", "3p_400_tn", "1p_230"]
type ListNumber = Literal[1, 2, 3]

SET_SUFFIX: Final = "/sim/house/set"
DEFAULT_THRESHOLDS: Final = (5, 10, 15, 20, 25, 50, 75, 100, 150)
_RECORD_LIMIT: Final = 1000


@dataclass(frozen=True, slots=True)
class Grid:
    """How a grid type wires the meter: lines, nominal voltage, IT or not."""

    lines: int
    voltage: float
    it: bool


GRIDS: Final[dict[str, Grid]] = {
    "3p_230_it": Grid(lines=3, voltage=230.0, it=True),
    "3p_400_tn": Grid(lines=3, voltage=230.0, it=False),
    "1p_230": Grid(lines=1, voltage=230.0, it=False),
}


class ChargerLike(Protocol):
    """What the meter reads from a charger: ``SimulatedCharger`` has both."""

    @property
    def current_a(self) -> float:
        """Amps drawn per phase now."""

    @property
    def phases(self) -> int:
        """Phases the charger draws on."""


def charger_draw(charger: ChargerLike) -> float:
    """Amps per phase a charger draws: all its connectors for a SimulatedCharger."""
    count = getattr(charger, "connectors", None)
    connector = getattr(charger, "connector", None)
    if isinstance(count, int) and count > 1 and callable(connector):
        return sum(float(connector(n).current_a) for n in range(1, count + 1))
    return float(charger.current_a)


def parse_amps(text: str, lines: int | None = None) -> tuple[float, ...]:
    """``"20,20,20"`` (or ``"[20, 20, 20]"``, ``"20 20 20"``) → amps per line.

    One number stands for every line when ``lines`` is given. ValueError when
    the text is not numbers, a number is not finite, or the count is wrong.
    """
    tokens = text.strip().strip("[]()").replace(",", " ").split()
    try:
        values = tuple(float(token) for token in tokens)
    except ValueError:
        raise ValueError(f"not amps: {text!r}") from None
    if not values or not all(math.isfinite(value) for value in values):
        raise ValueError(f"not amps: {text!r}")
    if lines is not None:
        if len(values) == 1:
            values *= lines
        if len(values) != lines:
            raise ValueError(f"{text!r}: expected {lines} values, got {len(values)}")
    return values


def _num(value: float, decimals: int) -> str:
    """A number as the firmware's printf renders it (no "-0.00")."""
    text = f"{value:.{decimals}f}"
    return text[1:] if text.startswith("-") and float(text) == 0 else text


def _obj(fields: Iterable[tuple[str, str]]) -> str:
    return "{" + ",".join(f"{json.dumps(key)}:{value}" for key, value in fields) + "}"


class SimulatedMeter:
    """An amsreader on MQTT: configure with the arguments, drive with the methods."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 1883,
        *,
        topic: str = "amsreader",
        grid: GridType = "3p_230_it",
        house_a: float | Sequence[float] = 0.0,
        chargers: Iterable[ChargerLike] = (),
        charger_phase: int = 0,
        list1_s: float | None = 2.5,
        list2_s: float | None = 10.0,
        list3_s: float | None = 3600.0,
        publish_on_start: bool = True,
        voltage: float | None = None,
        it_i2_zero: bool = False,
        import_kwh: float = 0.0,
        export_kwh: float = 0.0,
        thresholds: Sequence[int] = DEFAULT_THRESHOLDS,
        reader_id: str = "5C:CF:7F:00:AB:CD",
        name: str = "ams-sim",
        meter_id: str = "7359992890000001",
        meter_type: str = "6525",
        list_version: str = "AIDON_V0001",
        client_id: str | None = None,
        reconnect_delay_s: int = 1,
        on_event: Callable[[str], None] | None = None,
    ) -> None:
        """Set the meter up (nothing runs until ``start``).

        ``list1_s``/``list2_s``/``list3_s`` None turns that list off;
        ``publish_on_start`` sends one list 2 as soon as ``start`` connected.
        ``on_event`` gets one human-readable line per state change (connected,
        disconnected, house load changed), in the event loop's thread.
        """
        if grid not in GRIDS:
            raise ValueError(f"grid must be one of {sorted(GRIDS)}, not {grid!r}")
        self.host = host
        self.port = port
        self.topic = topic
        self.set_topic = topic + SET_SUFFIX
        self.grid: GridType = grid
        self.lines = GRIDS[grid].lines
        self.voltage = GRIDS[grid].voltage if voltage is None else voltage
        self.list1_s = list1_s
        self.list2_s = list2_s
        self.list3_s = list3_s
        self.publish_on_start = publish_on_start
        self.it_i2_zero = it_i2_zero
        self.thresholds = tuple(thresholds)
        self.reader_id = reader_id
        self.name = name
        self.meter_id = meter_id
        self.meter_type = meter_type
        self.list_version = list_version
        self.client_id = client_id or f"{name}-{id(self):x}"
        self.reconnect_delay_s = reconnect_delay_s
        self.on_event = on_event
        self.silent = False
        self.vcc = 3.3
        self.rssi = -60
        self.temp = -127.0  # what readers without a sensor send
        self.published: deque[tuple[int, str]] = deque(maxlen=_RECORD_LIMIT)
        self.published_count = 0
        self._chargers: list[tuple[ChargerLike, int]] = []
        for charger in chargers:
            self.add_charger(charger, phase=charger_phase)
        self._house: tuple[float, ...] = self._normalise(house_a)
        self._client: Client | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._is_connected = False
        self._tasks: list[asyncio.Task[None]] = []
        self._booted = time.monotonic()
        # Energy accounting.
        self._import_kwh = import_kwh
        self._export_kwh = export_kwh
        self._last_mono = time.monotonic()
        self._period = self._period_keys(time.time())
        self._hour = [0.0, 0.0]  # imported, exported kWh this hour
        self._day = [0.0, 0.0]
        self._day_peaks: dict[tuple[int, int, int], float] = {}
        self._last_w = self.net_power_w()

    # Load ---------------------------------------------------------------------

    @property
    def house_a(self) -> tuple[float, ...]:
        """The house load per line in amps (3 values, or 1 on a 1-phase grid)."""
        return self._house

    @house_a.setter
    def house_a(self, value: float | Sequence[float]) -> None:
        """Set the house load: one number for every line, or one per line."""
        self.set_house(value)

    def set_house(self, value: float | Sequence[float], why: str = "") -> None:
        """Set the house load; ``why`` ends the line ``on_event`` gets."""
        house = self._normalise(value)
        if house != self._house:
            self._advance()
            self._house = house
            self._last_w = self.net_power_w()
            self._event(
                f"house load {self._amps(house)}" + (f" ({why})" if why else "")
            )

    def add_charger(self, charger: ChargerLike, *, phase: int = 0) -> None:
        """Count ``charger``'s draw, starting at line ``phase`` (0 = L1)."""
        if not 0 <= phase < 3:
            raise ValueError(f"phase index must be 0, 1 or 2, not {phase}")
        self._chargers.append((charger, phase))

    def remove_charger(self, charger: ChargerLike) -> None:
        """Stop counting ``charger``."""
        self._chargers = [(c, p) for c, p in self._chargers if c is not charger]

    @property
    def chargers(self) -> list[ChargerLike]:
        """The chargers the meter counts."""
        return [charger for charger, _ in self._chargers]

    def currents(self) -> tuple[float, float, float]:
        """I1, I2, I3 now (true values: ``it_i2_zero`` only changes the payload)."""
        amps = [*self._house, 0.0, 0.0][:3] if self.lines == 1 else list(self._house)
        for charger, first in self._chargers:
            draw = charger_draw(charger)
            if self.lines == 1:
                amps[0] += draw
                continue
            for step in range(min(max(int(charger.phases), 1), 3)):
                amps[(first + step) % 3] += draw
        return amps[0], amps[1], amps[2]

    def voltages(self) -> tuple[float, float, float]:
        """U1, U2, U3 as reported (0 on the lines a 1-phase meter lacks)."""
        if self.lines == 1:
            return self.voltage, 0.0, 0.0
        return self.voltage, self.voltage, self.voltage

    def net_power_w(self) -> float:
        """Import minus export, in W, from the currents (see the module docstring)."""
        total = sum(self.currents()[: self.lines])
        per_amp = self.voltage / math.sqrt(3) if GRIDS[self.grid].it else self.voltage
        return total * per_amp

    @property
    def import_kwh(self) -> float:
        """The active import register (tPI) up to now."""
        self._advance()
        return self._import_kwh

    @property
    def export_kwh(self) -> float:
        """The active export register (tPO) up to now."""
        self._advance()
        return self._export_kwh

    # Payloads -----------------------------------------------------------------

    def payload(self, list_: ListNumber = 2) -> str:
        """The JSON text of a list 1, 2 or 3 message for this moment."""
        if list_ not in (1, 2, 3):
            raise ValueError(f"list must be 1, 2 or 3, not {list_!r}")
        self._advance()
        now = time.time()
        net = self.net_power_w()
        self._last_w = net
        p_in, p_out = max(net, 0.0), max(-net, 0.0)
        data: list[tuple[str, str]] = [("P", str(round(p_in)))]
        if list_ >= 2:
            i1, i2, i3 = self.currents()
            if self.it_i2_zero and GRIDS[self.grid].it:
                i2 = 0.0
            if self.lines == 1:
                i2 = i3 = 0.0
            u1, u2, u3 = self.voltages()
            data = [
                ("lv", json.dumps(self.list_version)),
                ("meterId", json.dumps(self.meter_id)),
                ("type", json.dumps(self.meter_type)),
                ("P", str(round(p_in))),
                ("Q", "0"),
                ("PO", str(round(p_out))),
                ("QO", "0"),
                ("I1", _num(i1, 2)),
                ("I2", _num(i2, 2)),
                ("I3", _num(i3, 2)),
                ("U1", _num(u1, 2)),
                ("U2", _num(u2, 2)),
                ("U3", _num(u3, 2)),
            ]
        if list_ == 3:
            data += [
                ("tPI", _num(self._import_kwh, 3)),
                ("tPO", _num(self._export_kwh, 3)),
                ("tQI", _num(0.0, 3)),
                ("tQO", _num(0.0, 3)),
                ("rtc", str(int(now))),
            ]
        peak = self._month_figure()
        realtime = [
            ("h", _num(self._hour[0], 2)),
            ("d", _num(self._day[0], 1)),
            ("t", str(self._threshold(peak))),
            ("x", _num(peak, 2)),
            ("he", _num(self._hour[1], 2)),
            ("de", _num(self._day[1], 1)),
        ]
        return _obj(
            [
                ("id", json.dumps(self.reader_id)),
                ("name", json.dumps(self.name)),
                ("up", str(int(time.monotonic() - self._booted))),
                ("t", str(int(now))),
                ("vcc", _num(self.vcc, 3)),
                ("rssi", str(int(self.rssi))),
                ("temp", _num(self.temp, 2)),
                ("data", _obj(data)),
                ("realtime", _obj(realtime)),
            ]
        )

    def publish_now(self, list_: ListNumber = 2) -> str | None:
        """Publish one message now; its text, or None while silent or offline.

        Offline means not connected to the broker: QoS 0 messages are dropped.
        """
        if self.silent or self._client is None or not self._is_connected:
            return None
        text = self.payload(list_)
        self._client.publish(self.topic, text, qos=0, retain=False)
        self.published.append((list_, text))
        self.published_count += 1
        return text

    # Life cycle ---------------------------------------------------------------

    @property
    def connected(self) -> bool:
        """True while the MQTT connection is up."""
        return self._is_connected

    @property
    def running(self) -> bool:
        """True between ``start`` and ``stop``."""
        return self._client is not None

    async def start(
        self,
        *,
        wait: bool = True,
        timeout: float = 10.0,  # noqa: ASYNC109 - a test helper's deadline
    ) -> None:
        """Connect and run the publishing loops; with ``wait``, until connected."""
        if self._client is not None:
            return
        self._loop = asyncio.get_running_loop()
        self._booted = time.monotonic()
        client = Client(
            CallbackAPIVersion.VERSION2, client_id=self.client_id, clean_session=True
        )
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        client.reconnect_delay_set(
            self.reconnect_delay_s, max(self.reconnect_delay_s, 5)
        )
        client.connect_async(self.host, self.port, keepalive=30)
        self._client = client
        client.loop_start()
        self._tasks = [asyncio.create_task(self._run(), name=f"{self.name} loops")]
        if wait:
            try:
                await self.wait_connected(timeout)
            except TimeoutError:
                await self.stop()
                raise

    async def wait_connected(
        self,
        timeout: float = 10.0,  # noqa: ASYNC109 - a test helper's deadline
    ) -> None:
        """Return once connected; TimeoutError after ``timeout`` s."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not self._is_connected:
            if loop.time() >= deadline:
                raise TimeoutError(
                    f"{self.name}: no MQTT connection to {self.host}:{self.port} "
                    f"within {timeout} s"
                )
            await asyncio.sleep(0.01)

    async def stop(self) -> None:
        """Stop the loops and disconnect; idempotent."""
        tasks, self._tasks = self._tasks, []
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        client, self._client = self._client, None
        if client is not None:
            self._is_connected = False
            self._event("stopped")
            client.disconnect()
            await asyncio.to_thread(client.loop_stop)

    # Internals ----------------------------------------------------------------

    async def _run(self) -> None:
        """Wait for the first connection, then run one loop per list."""
        await self.wait_connected(math.inf)
        if self.publish_on_start and self.list2_s is not None:
            self.publish_now(2)
        lists: tuple[tuple[float | None, ListNumber], ...] = (
            (self.list1_s, 1),
            (self.list2_s, 2),
            (self.list3_s, 3),
        )
        loops = [
            self._every(period, number)
            for period, number in lists
            if period is not None
        ]
        await asyncio.gather(*loops)

    async def _every(self, period: float, list_: ListNumber) -> None:
        loop = asyncio.get_running_loop()
        due = loop.time()
        while True:
            due += period
            await asyncio.sleep(max(0.0, due - loop.time()))
            try:
                self.publish_now(list_)
            except Exception:  # a loop that dies silently is worse
                _LOGGER.exception("%s: list %s not published", self.name, list_)
            if due < loop.time() - period:  # fell far behind: do not burst
                due = loop.time()

    def _normalise(self, value: float | Sequence[float]) -> tuple[float, ...]:
        values = (
            (float(value),) * self.lines
            if isinstance(value, int | float)
            else tuple(float(v) for v in value)
        )
        if len(values) != self.lines:
            raise ValueError(
                f"house load needs {self.lines} value(s) on {self.grid}, got {values}"
            )
        if not all(math.isfinite(v) for v in values):
            raise ValueError(f"house load must be finite, not {values}")
        return values

    @staticmethod
    def _amps(values: Sequence[float]) -> str:
        return "/".join(f"{v:g}" for v in values) + " A"

    def _event(self, text: str) -> None:
        _LOGGER.info("%s: %s", self.name, text)
        if self.on_event is not None:
            self.on_event(text)

    def _from_thread(self, callback: Callable[..., None], *args: Any) -> None:
        """Run ``callback`` in the event loop's thread (paho calls from its own)."""
        if self._loop is not None:
            with contextlib.suppress(RuntimeError):  # the loop is closed
                self._loop.call_soon_threadsafe(callback, *args)

    def _on_connect(
        self,
        client: Client,
        userdata: Any,
        flags: ConnectFlags,
        reason_code: ReasonCode,
        properties: Properties | None,
    ) -> None:
        if reason_code.is_failure:
            return
        client.subscribe(self.set_topic, qos=0)
        self._from_thread(self._set_connected, True)

    def _on_disconnect(
        self,
        client: Client,
        userdata: Any,
        flags: DisconnectFlags,
        reason_code: ReasonCode,
        properties: Properties | None,
    ) -> None:
        self._from_thread(self._set_connected, False)

    def _on_message(self, client: Client, userdata: Any, message: MQTTMessage) -> None:
        if message.topic == self.set_topic:
            text = message.payload.decode(errors="replace")
            self._from_thread(self._set_house_text, text)

    def _set_connected(self, connected: bool) -> None:
        if connected == self._is_connected or (connected and self._client is None):
            return
        self._is_connected = connected
        where = f"{self.host}:{self.port}"
        self._event(
            f"connected to {where}, publishing on {self.topic}"
            if connected
            else f"disconnected from {where}"
        )

    def _set_house_text(self, text: str) -> None:
        try:
            house = parse_amps(text, self.lines)
        except ValueError as err:
            self._event(f"ignored {self.set_topic} {text!r}: {err}")
            return
        self.set_house(house, f"from {self.set_topic}")

    # Energy accounting --------------------------------------------------------

    @staticmethod
    def _period_keys(now: float) -> tuple[tuple[int, ...], tuple[int, int, int]]:
        moment = time.localtime(now)
        day = (moment.tm_year, moment.tm_mon, moment.tm_mday)
        return (*day, moment.tm_hour), day

    def _advance(self) -> None:
        """Integrate the power held since the last call into the registers."""
        mono = time.monotonic()
        hours = max(0.0, mono - self._last_mono) / 3600
        self._last_mono = mono
        imported = max(self._last_w, 0.0) * hours / 1000
        exported = max(-self._last_w, 0.0) * hours / 1000
        self._import_kwh += imported
        self._export_kwh += exported
        self._hour[0] += imported
        self._hour[1] += exported
        self._day[0] += imported
        self._day[1] += exported
        hour_key, day_key = self._period_keys(time.time())
        old_hour, old_day = self._period
        if hour_key != old_hour:
            self._note_peak(old_day, self._hour[0])
            self._hour = [0.0, 0.0]
        if day_key != old_day:
            self._day = [0.0, 0.0]
        if day_key[:2] != old_day[:2]:
            self._day_peaks.clear()
        self._period = (hour_key, day_key)

    def _note_peak(self, day: tuple[int, int, int], kwh: float) -> None:
        self._day_peaks[day] = max(self._day_peaks.get(day, 0.0), kwh)

    def _month_figure(self) -> float:
        peaks = dict(self._day_peaks)
        today = self._period[1]
        peaks[today] = max(peaks.get(today, 0.0), self._hour[0])
        top = sorted(peaks.values(), reverse=True)[:3]
        return sum(top) / len(top)

    def _threshold(self, peak: float) -> int:
        return next((t for t in self.thresholds if t > peak), self.thresholds[-1])


# Command line ---------------------------------------------------------------


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m tests.simulators.meter",
        description=(
            "A simulated amsreader (AMS/HAN meter reader) publishing JSON classic "
            "payloads; runs until Ctrl-C / SIGTERM. Publish e.g. '20,20,20' to "
            "<topic>/sim/house/set to change the house load live."
        ),
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=1883)
    parser.add_argument("--topic", default="amsreader")
    parser.add_argument("--grid", choices=sorted(GRIDS), default="3p_230_it")
    parser.add_argument(
        "--house", default="2,2,2", metavar="A1,A2,A3", help="base house load"
    )
    parser.add_argument(
        "--high", metavar="A1,A2,A3", help="the load --cycle alternates with"
    )
    parser.add_argument(
        "--cycle",
        type=float,
        metavar="SECONDS",
        help="alternate the house load between --house and --high",
    )
    parser.add_argument("--list1", type=float, default=2.5, metavar="SECONDS")
    parser.add_argument("--list2", type=float, default=10.0, metavar="SECONDS")
    parser.add_argument("--list3", type=float, default=3600.0, metavar="SECONDS")
    parser.add_argument("--it-i2-zero", action="store_true", help="report I2 = 0")
    parser.add_argument("--name", default="ams-sim", help="MQTT client id / name")
    parser.add_argument(
        "-v", "--verbose", action="store_true", help="print every payload"
    )
    parser.add_argument(
        "--set-house",
        metavar="A1,A2,A3",
        help=(
            "do not simulate: tell the meter already running on --host/--port/"
            "--topic its new house load, then exit"
        ),
    )
    return parser


def _say(text: str) -> None:
    sys.stdout.write(f"{time.strftime('%H:%M:%S')} {text}\n")
    sys.stdout.flush()


async def _cycle(
    meter: SimulatedMeter, base: tuple[float, ...], high: tuple[float, ...], s: float
) -> None:
    loads = ((high, "high"), (base, "base"))
    step = 0
    while True:
        await asyncio.sleep(s)
        load, why = loads[step % 2]
        meter.set_house(load, why)
        step += 1


def house_loads(
    args: argparse.Namespace, parser: argparse.ArgumentParser
) -> tuple[tuple[float, ...], tuple[float, ...] | None]:
    """The command line's base and high house loads (exits on bad ones)."""
    lines = GRIDS[args.grid].lines
    try:
        base = parse_amps(args.house, lines)
        high = parse_amps(args.high, lines) if args.high else None
    except ValueError as err:
        parser.error(str(err))
    if args.cycle is not None and (high is None or args.cycle <= 0):
        parser.error("--cycle needs --high and a positive number of seconds")
    return base, high


def meter_from_args(
    args: argparse.Namespace,
    house: Sequence[float],
    chargers: Iterable[ChargerLike] = (),
) -> SimulatedMeter:
    """The meter the command line describes, counting ``chargers``' draw."""
    return SimulatedMeter(
        args.host,
        args.port,
        topic=args.topic,
        grid=args.grid,
        house_a=house,
        chargers=chargers,
        list1_s=args.list1 or None,
        list2_s=args.list2 or None,
        list3_s=args.list3 or None,
        it_i2_zero=args.it_i2_zero,
        name=args.name,
        on_event=_say,
    )


def set_house_remotely(host: str, port: int, topic: str, text: str) -> None:
    """Publish ``text`` to a running meter's ``<topic>/sim/house/set``."""
    publish.single(topic + SET_SUFFIX, text, hostname=host, port=port)


async def _run_cli(args: argparse.Namespace, parser: argparse.ArgumentParser) -> None:
    base, high = house_loads(args, parser)
    meter = meter_from_args(args, base)
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stopping.set)
    _say(
        f"{args.grid}, house load {SimulatedMeter._amps(base)}; "
        f"waiting for the broker at {args.host}:{args.port}"
    )
    await meter.start(wait=False)
    tasks: list[asyncio.Task[None]] = []
    if args.cycle is not None and high is not None:
        tasks.append(asyncio.create_task(_cycle(meter, base, high, args.cycle)))
    if args.verbose:
        tasks.append(asyncio.create_task(_echo(meter)))
    try:
        await stopping.wait()
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await meter.stop()


async def _echo(meter: SimulatedMeter) -> None:
    seen = 0
    while True:
        await asyncio.sleep(0.1)
        new = meter.published_count - seen
        seen = meter.published_count
        for number, text in list(meter.published)[-new:] if new > 0 else []:
            _say(f"list {number}: {text}")


def main(argv: Sequence[str] | None = None) -> int:
    """Run a simulated meter reader from the command line."""
    parser = _parser()
    args = parser.parse_args(argv)
    if args.set_house is not None:
        return _set_house_cli(args, parser)
    logging.basicConfig(
        level=logging.WARNING,
        format="%(asctime)s %(levelname)s %(message)s",
        stream=sys.stderr,
    )
    asyncio.run(_run_cli(args, parser))
    return 0


def _set_house_cli(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    try:
        parse_amps(args.set_house, GRIDS[args.grid].lines)
    except ValueError as err:
        parser.error(str(err))
    try:
        set_house_remotely(args.host, args.port, args.topic, args.set_house)
    except OSError as err:
        parser.exit(1, f"no broker at {args.host}:{args.port}: {err}\n")
    _say(f"published {args.set_house!r} to {args.topic}{SET_SUFFIX}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
