"""The price feeds: a price entity and Home Assistant's Nord Pool service.

HA's Nord Pool integration fetches from Nord Pool's API, which cannot be
reached here; its action is stood in for by one that answers what the real one
answers (``{area: [{start, end, price per MWh}]}``, UTC ISO strings) from the
project's ENTSO-E fixture day, or raises as it does for a day it lacks.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.homecharge.feeds.prices import (
    NORDPOOL,
    async_nordpool_prices,
    read_price_entity,
)
from custom_components.homecharge.logic.prices import InvalidPrices
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant, ServiceCall, SupportsResponse
from homeassistant.exceptions import ServiceValidationError

from .test_price_sources import ROWS, nordpool_response

DAY = ROWS[0].start.date()


def test_read_price_entity(hass: HomeAssistant) -> None:
    """No state or unavailable: nothing; a generic price list: its slots."""
    assert read_price_entity(hass, "sensor.spot") is None
    hass.states.async_set("sensor.spot", "unavailable")
    assert read_price_entity(hass, "sensor.spot") is None
    start = datetime.fromisoformat("2026-12-07T00:00:00+00:00")
    prices = [
        {"start": (start + timedelta(hours=h)).isoformat(), "price": 1.0 + h}
        for h in range(3)
    ]
    hass.states.async_set("sensor.spot", "1.0", {"prices": prices})
    slots = read_price_entity(hass, "sensor.spot")
    assert slots is not None
    # Hourly prices become four 15-minute slots each.
    assert [slot.price for slot in slots[3:5]] == [1.0, 2.0]
    assert len(slots) == 12


def test_read_price_entity_refuses_garbage(hass: HomeAssistant) -> None:
    """Attributes without prices we can read are refused with a reason."""
    hass.states.async_set("sensor.spot", "1.0", {"prices": "tomorrow, maybe"})
    with pytest.raises(InvalidPrices):
        read_price_entity(hass, "sensor.spot")


@pytest.fixture
def nordpool(hass: HomeAssistant) -> Iterator[list[dict[str, Any]]]:
    """A loaded Nord Pool entry for FI whose action knows one day's prices."""
    entry = MockConfigEntry(domain=NORDPOOL, data={"areas": ["FI"]})
    entry.add_to_hass(hass)
    entry.mock_state(hass, ConfigEntryState.LOADED)
    calls: list[dict[str, Any]] = []

    async def get_prices_for_date(call: ServiceCall) -> dict[str, Any]:
        calls.append(dict(call.data))
        day = date.fromisoformat(call.data["date"])
        if day == DAY:
            return nordpool_response(ROWS)
        if day == DAY + timedelta(days=1):
            return {"FI": [{"start": "garbage", "end": None, "price": "x"}]}
        raise ServiceValidationError("no prices for that day")

    hass.services.async_register(
        NORDPOOL,
        "get_prices_for_date",
        get_prices_for_date,
        supports_response=SupportsResponse.ONLY,
    )
    yield calls
    # Unloading would import the real integration, which needs pynordpool.
    entry.mock_state(hass, ConfigEntryState.NOT_LOADED)


async def test_nordpool_prices(
    hass: HomeAssistant, nordpool: list[dict[str, Any]]
) -> None:
    """The area's day in 15-minute slots; a day it cannot give is left out."""
    slots = await async_nordpool_prices(
        hass, "FI", (DAY, DAY + timedelta(days=1), DAY + timedelta(days=2))
    )
    assert [call["date"] for call in nordpool] == [
        (DAY + timedelta(days=n)).isoformat() for n in range(3)
    ]
    assert nordpool[0]["areas"] == ["FI"]
    assert slots[0].start == ROWS[0].start
    assert slots[-1].end == ROWS[-1].end
    assert all(slot.end - slot.start == timedelta(minutes=15) for slot in slots)
    assert slots[0].price == pytest.approx(ROWS[0].kwh)


async def test_nordpool_without_the_area(
    hass: HomeAssistant, nordpool: list[dict[str, Any]]
) -> None:
    """No loaded Nord Pool entry for the area: no prices, and no call."""
    assert await async_nordpool_prices(hass, "SE3", (DAY,)) == []
    assert nordpool == []
