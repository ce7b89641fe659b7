"""scripts/develop serves Home Assistant with the demo place, and stops cleanly.

Runs the real command a newcomer runs, on free ports in a scratch folder: logs
in with the credentials it prints, reads /api/states, raises the simulated
house load over the private MQTT broker, then presses Ctrl-C.
"""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path
import re
import signal
import socket
import subprocess
import threading
import time
from typing import IO, Any
import urllib.error
from urllib.parse import urlencode
import urllib.request

import aiohttp
from paho.mqtt import publish
import pytest

ROOT = Path(__file__).parents[1]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _request(
    url: str, data: Any = None, token: str | None = None, form: bool = False
) -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    body = None
    if data is not None:
        if form:
            body = urlencode(data).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        else:
            body = json.dumps(data).encode()
            headers["Content-Type"] = "application/json"
    request = urllib.request.Request(url, data=body, headers=headers)  # noqa: S310
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        return json.loads(response.read())


def _login(base: str, username: str, password: str) -> str:
    """Log in the way the frontend does: login flow, then the token endpoint."""
    client_id = f"{base}/"
    flow = _request(
        f"{base}/auth/login_flow",
        {
            "client_id": client_id,
            "handler": ["homeassistant", None],
            "redirect_uri": client_id,
        },
    )
    result = _request(
        f"{base}/auth/login_flow/{flow['flow_id']}",
        {"client_id": client_id, "username": username, "password": password},
    )
    assert result["type"] == "create_entry", result
    tokens = _request(
        f"{base}/auth/token",
        {
            "grant_type": "authorization_code",
            "code": result["result"],
            "client_id": client_id,
        },
        form=True,
    )
    token: str = tokens["access_token"]
    return token


def _processes_with(text: str) -> list[int]:
    """Processes whose command line contains ``text``."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            except OSError:
                continue
            if text in cmdline:
                found.append(int(entry.name))
    return found


async def _websocket(base: str, token: str, command: dict[str, Any]) -> Any:
    """One command over HA's websocket API, as the frontend sends it."""
    async with (
        aiohttp.ClientSession() as client,
        client.ws_connect(
            f"{base.replace('http', 'ws', 1)}/api/websocket"
        ) as websocket,
    ):
        await websocket.receive_json()  # auth_required
        await websocket.send_json({"type": "auth", "access_token": token})
        assert (await websocket.receive_json())["type"] == "auth_ok"
        await websocket.send_json({"id": 1, **command})
        return (await websocket.receive_json())["result"]


def _number(state: dict[str, Any]) -> float:
    try:
        return float(state["state"])
    except ValueError:
        return 0.0


def _drain(stream: IO[str], lines: list[str]) -> None:
    """Read ``stream`` to its end, a line at a time (``lines`` grows as it goes)."""
    lines.extend(stream)


def _wait_for(check: Any, seconds: float = 120) -> Any:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if result := check():
                return result
        except OSError:
            pass
        time.sleep(0.5)
    raise AssertionError("timed out")


@pytest.mark.usefixtures("socket_enabled")
def test_develop_serves_the_demo(tmp_path: Path) -> None:
    """Demo place, its meter and load balancing, chargers; Ctrl-C stops all."""
    port, ocpp_port, mqtt_port = _free_port(), _free_port(), _free_port()
    simulators = f"--url ws://127.0.0.1:{ocpp_port} "
    broker = str(tmp_path / "config" / "mosquitto.conf")
    env = {
        **os.environ,
        "HOMECHARGE_DEV_PORT": str(port),
        "HOMECHARGE_DEV_OCPP_PORT": str(ocpp_port),
        "HOMECHARGE_DEV_MQTT_PORT": str(mqtt_port),
        "HOMECHARGE_DEV_DIR": str(tmp_path / "config"),
    }
    process = subprocess.Popen(
        [str(ROOT / "scripts" / "develop")],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    output: list[str] = []
    try:
        assert process.stdout is not None
        login = None
        for line in process.stdout:
            output.append(line)
            if match := re.search(r"Login:\s+(\S+) / (\S+)", line):
                login = match.groups()
                break
        assert login, "".join(output)
        assert f"http://127.0.0.1:{port}" in "".join(output)
        # Keep reading, or a full pipe would block Home Assistant's logging.
        threading.Thread(
            target=_drain, args=(process.stdout, output), daemon=True
        ).start()
        base = f"http://127.0.0.1:{port}"
        token = _wait_for(lambda: _login(base, *login))

        def states() -> dict[str, Any]:
            return {
                s["entity_id"]: s for s in _request(f"{base}/api/states", token=token)
            }

        # The demo place, and its charger SIM-1 charging.
        _wait_for(
            lambda: states().get("sensor.driveway_status", {}).get("state")
            == "charging"
        )
        now = states()
        assert now["number.demo_home_main_fuse"]["state"] == "40.0"
        assert now["switch.demo_home_accept_new_chargers"]["state"] == "on"
        _wait_for(lambda: _number(states()["sensor.driveway_power"]) > 0)
        # The meter and both chargers run in one site process, the broker too.
        assert len(_processes_with(simulators)) == 1
        assert len(_processes_with(broker)) == 1

        # SIM-2 is new: a discovery, confirmed the way the frontend does it.
        flow = _wait_for(
            lambda: next(
                (
                    f
                    for f in asyncio.run(
                        _websocket(
                            base, token, {"type": "config_entries/flow/progress"}
                        )
                    )
                    if f["handler"] == "homecharge"
                ),
                None,
            )
        )
        assert (
            flow["context"]["title_placeholders"]["name"]
            == "Homecharge Sim SIM-11 SIM-0002"
        )
        entry_id = next(
            entry["entry_id"]
            for entry in _request(
                f"{base}/api/config/config_entries/entry", token=token
            )
            if entry["domain"] == "homecharge"
        )
        result = _request(
            f"{base}/api/config/config_entries/flow/{flow['flow_id']}",
            {
                "place": entry_id,
                "name": "Carport",
                "circuit_fuse": 16,
                "phases": "1",
                "connectors": 1,
            },
            token=token,
        )
        assert result["reason"] == "charger_added"
        _wait_for(
            lambda: states().get("sensor.carport_status", {}).get("state") == "charging"
        )
        _wait_for(
            lambda: float(states()["sensor.carport_session_energy"]["state"] or 0) > 0
        )

        # The demo meter, on the private broker: online, with phase currents.
        _wait_for(lambda: states()["binary_sensor.demo_home_meter"]["state"] == "on")
        _wait_for(lambda: _number(states()["sensor.demo_home_grid_current_l1"]) > 0, 20)
        # Load balancing: a higher house load takes the Driveway's current down
        # with the next meter message (38 A of 40 leaves no room: paused).
        before = _wait_for(
            lambda: _number(states()["sensor.driveway_offered_current"]), 40
        )
        publish.single(
            "amsreader/sim/house/set", "38,38,38", hostname="127.0.0.1", port=mqtt_port
        )
        assert before > 0
        _wait_for(
            lambda: states()["sensor.driveway_offered_current"]["state"] == "0.0", 15
        )
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=60)
    assert _processes_with(simulators) == []
    assert _processes_with(broker) == []
    with pytest.raises(urllib.error.URLError, match="Connection refused"):
        _request(f"http://127.0.0.1:{port}/api/")
    with pytest.raises(OSError, match="refused"):
        socket.create_connection(("127.0.0.1", mqtt_port), timeout=5).close()
