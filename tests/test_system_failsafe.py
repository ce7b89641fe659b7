"""System test: Home Assistant dies, the charger falls to the safe current by itself.

A real Home Assistant process and a simulated charger on a real websocket. The
charger holds our expiring limit and, one stack level beneath it, the lasting
safe-current profile. Home Assistant is killed (SIGKILL: nothing is sent on
the way out); the charger's clock runs past the limit's end, and the charger
offers the place's safe current — not its own maximum.
"""

from __future__ import annotations

from datetime import timedelta
import os
from pathlib import Path
import signal

import pytest

from custom_components.homecharge.central.profile import FALLBACK_PROFILE_ID, PROFILE_ID

from .ha_process import (
    HomeAssistantProcess,
    free_port,
    place_entry,
    until,
    write_config,
)
from .simulators import model as simulator_model
from .simulators.base import utcnow
from .simulators.charger import SimulatedCharger

SAFE = 8.0


@pytest.mark.usefixtures("socket_enabled")
async def test_a_killed_home_assistant_leaves_the_safe_current(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SIGKILL, then the limit expires: the charger offers the safe current."""
    ocpp_port, http_port = free_port(), free_port()
    directory = tmp_path / "config"
    write_config(
        directory,
        ocpp_port=ocpp_port,
        http_port=http_port,
        places=[
            place_entry(
                entry_id="01FAILSAFETESTPLACE0000000",
                name="Home",
                main_fuse=40.0,
                grid_type="3p_400_tn",
                options={"safe_current": SAFE},
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
        max_stack_level=8,
    )
    hass.start()
    try:
        await hass.wait_ready()
        await charger.start()

        def ids() -> set[int]:
            return {profile.id for profile in charger.profiles}

        await until(
            lambda: {PROFILE_ID, FALLBACK_PROFILE_ID} <= ids(), 60, "both profiles"
        )
        assert charger.current_limit_a == 32.0
        lasting = next(p for p in charger.profiles if p.id == FALLBACK_PROFILE_ID)
        assert lasting.stack_level == 7
        assert lasting.valid_to is None

        os.kill(hass.pid, signal.SIGKILL)
        await until(lambda: not hass.running, 30, "Home Assistant gone")
        # Nobody renews our limit any more; the charger's clock passes its end.
        later = utcnow() + timedelta(minutes=4)
        monkeypatch.setattr(simulator_model, "utcnow", lambda: later)
        assert charger.current_limit_a == SAFE
    finally:
        await charger.stop()
        hass.stop()
