"""System test: Home Assistant killed mid-session loses nothing of the session.

A real Home Assistant process and a simulated charger on a real websocket.
The charger charges; Home Assistant is killed with SIGKILL (no shutdown, no
last save) and started again; the charger reconnects (booting, as many do)
and charges on, then stops. The ledger has one session whose energy is the
charger's register difference, whole to the watt-hour, its slots summing to
it exactly, never flagged as a stop we had to infer.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
import signal

import pytest

from .ha_process import (
    HomeAssistantProcess,
    free_port,
    place_entry,
    until,
    write_config,
)
from .simulators.charger import SimulatedCharger


async def _sessions(hass: HomeAssistantProcess) -> list[dict[str, object]]:
    response = await hass.request(
        "POST",
        "/api/services/homecharge/get_sessions?return_response",
        {"config_entry_id": "01SESSIONSTESTPLACE0000000"},
    )
    rows: list[dict[str, object]] = response["service_response"]["sessions"]
    return rows


@pytest.mark.usefixtures("socket_enabled")
async def test_a_session_survives_sigkill_of_home_assistant(tmp_path: Path) -> None:
    ocpp_port, http_port = free_port(), free_port()
    directory = tmp_path / "config"
    write_config(
        directory,
        ocpp_port=ocpp_port,
        http_port=http_port,
        places=[
            place_entry(
                entry_id="01SESSIONSTESTPLACE0000000",
                name="Home",
                main_fuse=63.0,
                grid_type="3p_400_tn",
                chargers=[
                    {"charge_point_id": "CP-1", "circuit_fuse": 32.0, "phases": 3}
                ],
            )
        ],
    )
    hass = HomeAssistantProcess(directory, http_port=http_port, ocpp_port=ocpp_port)
    charger = SimulatedCharger(
        url=f"ws://127.0.0.1:{ocpp_port}",
        charge_point_id="CP-1",
        meter_interval_s=1.0,
        reconnect_interval_s=1.0,
        max_current=32.0,
        initial_energy_wh=1_234_567.0,
    )
    hass.start()
    try:
        await hass.wait_ready()
        await charger.start()
        await charger.start_transaction("TAG-1")
        start_wh = 1_234_567
        # Running, and saved at least once (within a slot: 15 s here).
        await until(lambda: charger.energy_wh > start_wh + 50, 60, "charging")
        saved = directory / ".storage"
        await until(
            lambda: any(
                p.name.startswith("homecharge.01SESSIONSTESTPLACE0000000.sessions.")
                for p in saved.iterdir()
            ),
            60,
            "the running session saved",
        )
        os.killpg(hass.pid, signal.SIGKILL)
        await until(lambda: not hass.running, 30, "Home Assistant gone")
        hass.start()
        await hass.wait_ready()
        await until(lambda: charger.connected, 60, "the charger back")
        rows = await _sessions(hass)
        assert len(rows) == 1
        assert rows[0]["stopped"] is None
        # It charges on after the restart; then the car is done.
        before = charger.energy_wh
        await until(lambda: charger.energy_wh > before + 50, 60, "charging again")
        await charger.stop_transaction("EVDisconnected")
        stop_wh = round(charger.energy_wh)

        last: list[dict[str, object]] = []
        for _ in range(60):
            last = await _sessions(hass)
            if last and last[0]["stopped"] is not None:
                break
            await asyncio.sleep(1)
        assert last, hass.log_tail()
        assert last[0]["stopped"] is not None, hass.log_tail()
        (session,) = last
        assert session["meter_start_kwh"] == start_wh / 1000
        expected = (stop_wh - start_wh) / 1000
        assert session["energy_kwh"] == pytest.approx(expected, abs=0.002)
        # Nothing inferred, nothing implausible; this HA has no spot prices,
        # so the cost is marked missing (never a silent zero).
        assert session["flags"] == "price_missing"
        assert session["cost_complete"] is False
        assert session["id_tag"] == "TAG-1"
        assert session["stop_reason"] == "EVDisconnected"
    finally:
        await charger.stop()
        await hass.async_stop()
