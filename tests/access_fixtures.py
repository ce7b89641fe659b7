"""A place with charger CP-1 and a simulator connected to it (the access tests)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.homecharge.central.server import CENTRAL
from homeassistant.core import HomeAssistant

from .simulators.charger import SimulatedCharger
from .test_central import PASSWORD
from .test_charger_runtime import _until


@pytest.fixture
async def connect(
    hass: HomeAssistant,
) -> AsyncIterator[Callable[..., Any]]:
    """Set a place up and connect CP-1 to it (1.6J or 2.0.1)."""
    made: list[SimulatedCharger] = []

    async def make(
        entry: MockConfigEntry, version: str = "1.6", **quirks: Any
    ) -> SimulatedCharger:
        entry.add_to_hass(hass)
        assert await hass.config_entries.async_setup(entry.entry_id)
        await hass.async_block_till_done()
        charger = SimulatedCharger(
            url=f"ws://127.0.0.1:{hass.data[CENTRAL].port}",
            charge_point_id="CP-1",
            version=version,
            password=PASSWORD,
            meter_interval_s=0.1,
            reconnect_interval_s=0.2,
            **quirks,
        )
        made.append(charger)
        await charger.start()
        await _until(hass, lambda: charger.connected)
        return charger

    yield make
    for charger in made:
        await charger.stop()
