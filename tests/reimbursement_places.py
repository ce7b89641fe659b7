"""A spot-priced place whose charger CP-1 a reimbursement covers, and CP-1 itself.

Shared by the reimbursement's runtime tests (select and phone, statements,
OCPI sync): each gives the reimbursement's own data. The driver's phone is
``conftest.py``'s ``phone`` fixture (``PHONE`` its notify service).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.homecharge.central.server import CENTRAL
from custom_components.homecharge.const import SUBENTRY_REIMBURSEMENT
from homeassistant.config_entries import ConfigSubentry
from homeassistant.core import HomeAssistant

from .simulators.raw import RawCharger
from .test_central import PASSWORD
from .test_sessions_runtime import GRID, _flat_prices
from .test_smart_charging import set_prices, smart_place


async def covered_place(
    hass: HomeAssistant,
    data: dict[str, Any] | None,
    *,
    title: str = "Kari Nordmann",
    charged: bool = True,
) -> MockConfigEntry:
    """
    The place, set up; with a reimbursement of ``data`` unless None.

    ``charged``: the reimbursement covers CP-1 (its ``chargers``).
    """
    set_prices(hass, _flat_prices())
    entry = smart_place(grid_day_price=GRID, grid_night_price=GRID)
    entry.add_to_hass(hass)
    if data is not None:
        charger = next(
            sub.subentry_id
            for sub in entry.subentries.values()
            if sub.subentry_type == "charger"
        )
        hass.config_entries.async_add_subentry(
            entry,
            ConfigSubentry(
                data={"chargers": [charger] if charged else [], **data},
                subentry_type=SUBENTRY_REIMBURSEMENT,
                title=title,
                unique_id=None,
            ),
        )
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    return entry


@asynccontextmanager
async def booted_charger(hass: HomeAssistant) -> AsyncIterator[RawCharger]:
    """CP-1 connected and booted (closed after)."""
    raw = RawCharger(f"ws://127.0.0.1:{hass.data[CENTRAL].port}", "CP-1", PASSWORD)
    await raw.connect()
    await raw.boot()
    try:
        yield raw
    finally:
        await raw.close()


PHONE = "mobile_app_karis_phone"
