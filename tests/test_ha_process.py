"""tests/ha_process.py runs a real Home Assistant with homecharge, and stops it."""

from __future__ import annotations

from pathlib import Path

import pytest

from .ha_process import HomeAssistantProcess, free_port, place_entry, write_config


@pytest.mark.usefixtures("socket_enabled")
async def test_home_assistant_process(tmp_path: Path) -> None:
    """One place, no charger: ready, logged in, its switch; restarted; stopped."""
    directory = tmp_path / "config"
    http_port, ocpp_port = free_port(), free_port()
    write_config(
        directory,
        ocpp_port=ocpp_port,
        http_port=http_port,
        places=[
            place_entry(
                entry_id="01HAPROCESSTESTPLACE000000",
                name="Home",
                main_fuse=63,
                grid_type="3p_230_it",
                chargers=[],
                data={"accept_new_chargers": True},
            )
        ],
    )
    hass = HomeAssistantProcess(directory, http_port=http_port, ocpp_port=ocpp_port)
    try:
        async with hass:
            assert hass.cpu_seconds() > 0  # it runs
            assert hass.rss_mib() > 0
            states = await hass.states()
            assert "switch.home_accept_new_chargers" in states, hass.log_tail()
            assert states["switch.home_accept_new_chargers"]["state"] == "on"

            first = hass.pid
            await hass.async_restart()
            assert hass.pid != first
            assert not Path(f"/proc/{first}").exists()
            assert "switch.home_accept_new_chargers" in await hass.states()
            pid = hass.pid
        assert not hass.running
        assert not Path(f"/proc/{pid}").exists()
    except BaseException:
        print(hass.log_tail())  # noqa: T201
        raise
