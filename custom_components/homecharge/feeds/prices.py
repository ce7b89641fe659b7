"""
The price feeds: spot prices from a Home Assistant entity or the Nord Pool service.

Adapters only: they read what Home Assistant has and hand it to the pure
parsers (logic/prices.py), which normalize every source to 15-minute slots
per kWh. They never decide what a slot costs the user (logic/slot_prices.py).
"""

from __future__ import annotations

from datetime import date
import logging
from typing import Final

from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import STATE_UNAVAILABLE, STATE_UNKNOWN
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError

from ..logic.prices import (
    InvalidPrices,
    PriceSlot,
    parse_nordpool,
    slots_from_attributes,
    to_quarter_slots,
)

_LOGGER = logging.getLogger(__name__)

NORDPOOL: Final = "nordpool"


def read_price_entity(hass: HomeAssistant, entity_id: str) -> list[PriceSlot] | None:
    """
    The slots a price entity's attributes hold; None while it has no state.

    Raises ``InvalidPrices`` when the attributes hold no prices we can read.
    """
    state = hass.states.get(entity_id)
    if state is None or state.state in (STATE_UNAVAILABLE, STATE_UNKNOWN):
        return None
    return slots_from_attributes(state.attributes)


async def async_nordpool_prices(
    hass: HomeAssistant, area: str, days: tuple[date, ...]
) -> list[PriceSlot]:
    """
    The days' prices from Home Assistant's Nord Pool integration, if it has the area.

    A day Nord Pool has not published yet (or cannot give) is left out.
    """
    entry = next(
        (
            entry
            for entry in hass.config_entries.async_entries(NORDPOOL)
            if entry.state is ConfigEntryState.LOADED
            and area in entry.data.get("areas", ())
        ),
        None,
    )
    if entry is None:
        return []
    slots: list[PriceSlot] = []
    for day in days:
        try:
            response = await hass.services.async_call(
                NORDPOOL,
                "get_prices_for_date",
                {
                    "config_entry": entry.entry_id,
                    "date": day.isoformat(),
                    "areas": [area],
                },
                blocking=True,
                return_response=True,
            )
            slots += parse_nordpool(response or {}, area)
        except (HomeAssistantError, InvalidPrices) as err:
            _LOGGER.debug("No Nord Pool prices for %s in %s: %s", day, area, err)
    return to_quarter_slots(slots)
