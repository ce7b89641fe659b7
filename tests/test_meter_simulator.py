"""The simulated meter reader against a real Mosquitto broker, and the broker helper."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
import contextlib
import json
import math
import os
from pathlib import Path
from typing import Any, Self

from paho.mqtt.client import Client, MQTTMessage
from paho.mqtt.enums import CallbackAPIVersion
import pytest

from tests import mosquitto as mosquitto_module
from tests.mosquitto import Mosquitto, MosquittoError
from tests.simulators.meter import SimulatedMeter, parse_amps
from tests.simulators.model import ChargerModel

mosquitto_broker = mosquitto_module.mosquitto_broker

TOPIC = "amsreader"
HEADER = {"id", "name", "up", "t", "vcc", "rssi", "temp", "data", "realtime"}
REALTIME = {"h", "d", "t", "x", "he", "de"}
LIST2 = {"lv", "meterId", "type", "P", "Q", "PO", "QO"} | {
    f"{q}{n}" for q in "IU" for n in (1, 2, 3)
}
LIST3 = LIST2 | {"tPI", "tPO", "tQI", "tQO", "rtc"}


class FakeCharger:
    """The two attributes the meter reads from a SimulatedCharger."""

    def __init__(self, current_a: float, phases: int) -> None:
        self.current_a = current_a
        self.phases = phases


class Subscriber:
    """A paho client in its own thread handing messages to the event loop."""

    def __init__(self, broker: Mosquitto, topic: str = TOPIC) -> None:
        self.broker = broker
        self.topic = topic
        self.messages: asyncio.Queue[tuple[str, str]] = asyncio.Queue()
        self._loop = asyncio.get_running_loop()
        self._subscribed = asyncio.Event()
        self.client = Client(CallbackAPIVersion.VERSION2, client_id="test-subscriber")
        self.client.on_connect = lambda client, *_: client.subscribe(self.topic)
        self.client.on_subscribe = self._on_subscribe
        self.client.on_message = self._on_message

    def _on_subscribe(self, *_: object) -> None:
        self._loop.call_soon_threadsafe(self._subscribed.set)

    def _on_message(self, client: Client, userdata: Any, message: MQTTMessage) -> None:
        item = (message.topic, message.payload.decode())
        self._loop.call_soon_threadsafe(self.messages.put_nowait, item)

    async def __aenter__(self) -> Self:
        self.client.connect_async(self.broker.host, self.broker.port)
        self.client.loop_start()
        await asyncio.wait_for(self._subscribed.wait(), 5)
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.client.disconnect()
        await asyncio.to_thread(self.client.loop_stop)

    async def next(self, timeout: float = 2.0) -> dict[str, Any]:  # noqa: ASYNC109
        _, text = await asyncio.wait_for(self.messages.get(), timeout)
        payload: dict[str, Any] = json.loads(text)
        return payload

    def drain(self) -> list[dict[str, Any]]:
        items = []
        while not self.messages.empty():
            items.append(json.loads(self.messages.get_nowait()[1]))
        return items

    def publish(self, topic: str, payload: str) -> None:
        self.client.publish(topic, payload)


@contextlib.asynccontextmanager
async def running(meter: SimulatedMeter) -> AsyncIterator[SimulatedMeter]:
    await meter.start()
    try:
        yield meter
    finally:
        await meter.stop()


def manual_meter(broker: Mosquitto, **kwargs: Any) -> SimulatedMeter:
    """A meter that publishes only when told to."""
    options: dict[str, Any] = {
        "list1_s": None,
        "list2_s": None,
        "list3_s": None,
        "publish_on_start": False,
    }
    options.update(kwargs)
    return SimulatedMeter(broker.host, broker.port, **options)


async def test_list2_currents_are_house_plus_chargers(
    mosquitto_broker: Mosquitto,
) -> None:
    three_phase = FakeCharger(16.0, 3)
    one_phase = FakeCharger(10.0, 1)
    meter = manual_meter(mosquitto_broker, house_a=(10.0, 5.0, 8.0))
    meter.add_charger(three_phase)
    meter.add_charger(one_phase, phase=2)  # on L3
    async with Subscriber(mosquitto_broker) as sub, running(meter):
        sent = meter.publish_now(2)
        message = await sub.next()
        assert sent is not None
        assert json.loads(sent) == message
        assert set(message) == HEADER
        assert set(message["realtime"]) == REALTIME
        assert isinstance(message["t"], int)
        data = message["data"]
        assert set(data) == LIST2
        assert (data["I1"], data["I2"], data["I3"]) == (26.0, 21.0, 34.0)
        assert (data["U1"], data["U2"], data["U3"]) == (230.0, 230.0, 230.0)
        assert data["P"] == round(81.0 * 230 / math.sqrt(3))
        assert data["PO"] == data["Q"] == data["QO"] == 0
        assert '"I1":26.00' in sent  # rendered like the firmware's printf

        three_phase.current_a = 6.0  # the chargers are read at every message
        meter.remove_charger(one_phase)
        meter.house_a = 2.0
        meter.publish_now(2)
        data = (await sub.next())["data"]
        assert (data["I1"], data["I2"], data["I3"]) == (8.0, 8.0, 8.0)


async def test_lists_1_and_3_and_grids(mosquitto_broker: Mosquitto) -> None:
    meter = manual_meter(
        mosquitto_broker, grid="3p_400_tn", house_a=(1.0, 2.0, 3.0), import_kwh=100.0
    )
    async with Subscriber(mosquitto_broker) as sub, running(meter):
        meter.publish_now(1)
        list1 = await sub.next()
        assert set(list1) == HEADER
        assert list1["data"] == {"P": round(6.0 * 230)}
        await asyncio.sleep(0.05)
        meter.publish_now(3)
        data = (await sub.next())["data"]
        assert set(data) == LIST3
        assert meter.import_kwh > 100.0  # integrated since the meter was made
        assert data["tPI"] == pytest.approx(meter.import_kwh, abs=0.001)
        assert data["rtc"] == pytest.approx(list1["t"], abs=2)

    meter = manual_meter(mosquitto_broker, grid="1p_230", house_a=12.5, it_i2_zero=True)
    meter.add_charger(FakeCharger(16.0, 3))  # a 1-phase supply: all on L1
    assert meter.currents() == (28.5, 0.0, 0.0)
    assert round(meter.net_power_w()) == round(28.5 * 230)
    data = json.loads(meter.payload(2))["data"]
    assert (data["I2"], data["U2"], data["U3"]) == (0.0, 0.0, 0.0)

    meter = manual_meter(mosquitto_broker, house_a=(-10.0, -10.0, -10.0))
    data = json.loads(meter.payload(2))["data"]  # solar export
    assert data["P"] == 0
    assert data["PO"] == round(30 * 230 / math.sqrt(3))

    meter = manual_meter(mosquitto_broker, house_a=(4.0, 3.0, 2.0), it_i2_zero=True)
    data = json.loads(meter.payload(2))["data"]
    assert (data["I1"], data["I2"], data["I3"]) == (4.0, 0.0, 2.0)
    assert data["P"] == round(9 * 230 / math.sqrt(3))  # true currents
    with pytest.raises(ValueError, match="3 value"):
        meter.house_a = (1.0, 2.0)


async def test_real_charger_model_draw(mosquitto_broker: Mosquitto) -> None:
    """A ChargerModel, no network: charging 16 A on one phase."""
    charger = ChargerModel(url="", charge_point_id="M-1", phases=1, max_current=16)
    connector = charger.connector(1)
    connector.plugged = True
    connector.transaction_id = 1
    charger._refresh()
    assert charger.current_a == 16.0
    meter = manual_meter(mosquitto_broker, house_a=(1.0, 1.0, 1.0), chargers=[charger])
    assert meter.currents() == (17.0, 1.0, 1.0)


async def test_periodic_lists_and_silent(mosquitto_broker: Mosquitto) -> None:
    meter = SimulatedMeter(
        mosquitto_broker.host,
        mosquitto_broker.port,
        house_a=(3.0, 3.0, 3.0),
        list1_s=0.05,
        list2_s=0.2,
        list3_s=None,
    )
    async with Subscriber(mosquitto_broker) as sub, running(meter):
        first = await sub.next()  # list 2 at once on start
        assert set(first["data"]) == LIST2
        await asyncio.sleep(0.45)
        seen = sub.drain()
        kinds = [len(message["data"]) for message in seen]
        assert kinds.count(1) >= 4  # list 1: P only
        assert kinds.count(len(LIST2)) >= 1

        meter.silent = True
        await asyncio.sleep(0.05)  # what was already on its way
        sub.drain()
        assert meter.publish_now(2) is None
        await asyncio.sleep(0.3)
        assert sub.drain() == []

        meter.silent = False
        assert set((await sub.next())["data"]) <= LIST2


async def test_set_topic_changes_house_load(mosquitto_broker: Mosquitto) -> None:
    events: list[str] = []
    meter = manual_meter(
        mosquitto_broker, house_a=(1.0, 1.0, 1.0), on_event=events.append
    )
    async with Subscriber(mosquitto_broker) as sub, running(meter):
        sub.publish(meter.set_topic, "20,20,20")
        for _ in range(200):
            if meter.house_a == (20.0, 20.0, 20.0):
                break
            await asyncio.sleep(0.01)
        assert meter.house_a == (20.0, 20.0, 20.0)
        meter.publish_now(2)
        data = (await sub.next())["data"]
        assert (data["I1"], data["I2"], data["I3"]) == (20.0, 20.0, 20.0)

        sub.publish(meter.set_topic, "lots")
        sub.publish(meter.set_topic, "7")  # one number: every line
        for _ in range(200):
            if meter.house_a == (7.0, 7.0, 7.0):
                break
            await asyncio.sleep(0.01)
        assert meter.house_a == (7.0, 7.0, 7.0)
    assert events[0].startswith("connected to")
    assert "house load 20/20/20 A (from amsreader/sim/house/set)" in events
    assert any(event.startswith("ignored") for event in events)
    assert events[-1] == "stopped"


def test_parse_amps() -> None:
    assert parse_amps("20,20,20") == (20.0, 20.0, 20.0)
    assert parse_amps(" [1.5, 2, 3] ", 3) == (1.5, 2.0, 3.0)
    assert parse_amps("4", 3) == (4.0, 4.0, 4.0)
    for bad in ("", "a,b,c", "1,2", "nan,1,1"):
        with pytest.raises(ValueError, match=r"amps|values"):
            parse_amps(bad, 3)


async def test_meter_reconnects_after_broker_restart(
    mosquitto_broker: Mosquitto,
) -> None:
    meter = manual_meter(mosquitto_broker)
    async with running(meter):
        await mosquitto_broker.async_restart()
        await meter.wait_connected(5)
        for _ in range(300):
            if meter.connected and meter.publish_now(1) is not None:
                break
            await asyncio.sleep(0.01)
        assert meter.connected


def test_broker_process_is_gone_after_stop(socket_enabled: None) -> None:
    with Mosquitto() as broker:
        pid = broker.pid
        assert pid is not None
        assert broker.running
        os.kill(pid, 0)  # alive
        port = broker.port
        broker.restart()
        assert broker.port == port
        assert broker.pid != pid
        with pytest.raises(ProcessLookupError):  # reaped, not a zombie
            os.kill(pid, 0)
        pid = broker.pid
        assert pid is not None
    assert broker.pid is None
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    assert "running" in broker.last_log


def test_missing_binary_says_run_setup(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr("shutil.which", lambda _name: None)
    monkeypatch.setattr(mosquitto_module, "SEARCH_DIRS", (str(tmp_path),))
    with pytest.raises(MosquittoError, match="scripts/setup"):
        Mosquitto().start()
