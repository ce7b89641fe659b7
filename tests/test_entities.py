"""The place's setting entities: main fuse, fixed price, cost basis."""

from __future__ import annotations

import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from homeassistant.components.number import (
    ATTR_VALUE,
    DOMAIN as NUMBER_DOMAIN,
    SERVICE_SET_VALUE,
)
from homeassistant.components.select import (
    ATTR_OPTION,
    DOMAIN as SELECT_DOMAIN,
    SERVICE_SELECT_OPTION,
)
from homeassistant.const import ATTR_ENTITY_ID, ATTR_UNIT_OF_MEASUREMENT
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import entity_registry as er

MAIN_FUSE = "number.home_main_fuse"
FIXED_PRICE = "number.home_fixed_price"
COST_BASIS = "select.home_basis_for_electricity_costs"


@pytest.fixture(autouse=True)
async def loaded(hass: HomeAssistant, place_entry: MockConfigEntry) -> None:
    """A loaded spot-priced place in Norway."""
    hass.config.currency = "NOK"
    place_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(place_entry.entry_id)
    await hass.async_block_till_done()


async def _set(hass: HomeAssistant, entity_id: str, value: float) -> None:
    await hass.services.async_call(
        NUMBER_DOMAIN,
        SERVICE_SET_VALUE,
        {ATTR_ENTITY_ID: entity_id, ATTR_VALUE: value},
        blocking=True,
    )


async def _select(hass: HomeAssistant, option: str) -> None:
    await hass.services.async_call(
        SELECT_DOMAIN,
        SERVICE_SELECT_OPTION,
        {ATTR_ENTITY_ID: COST_BASIS, ATTR_OPTION: option},
        blocking=True,
    )


async def test_entity_metadata(hass: HomeAssistant) -> None:
    """Settings are config entities with units and translated names."""
    registry = er.async_get(hass)
    for entity_id in (MAIN_FUSE, FIXED_PRICE, COST_BASIS):
        entry = registry.async_get(entity_id)
        assert entry is not None
        assert entry.entity_category == "config"
        assert entry.translation_key is not None
    fuse = hass.states.get(MAIN_FUSE)
    assert fuse.attributes[ATTR_UNIT_OF_MEASUREMENT] == "A"
    assert fuse.attributes["device_class"] == "current"
    assert fuse.attributes["friendly_name"] == "Home Main fuse"
    price = hass.states.get(FIXED_PRICE)
    assert price.state == "unknown"
    assert price.attributes[ATTR_UNIT_OF_MEASUREMENT] == "NOK/kWh"
    basis = hass.states.get(COST_BASIS)
    assert basis.state == "spot"
    assert basis.attributes["options"] == ["spot", "fixed"]


async def test_set_main_fuse(hass: HomeAssistant, place_entry: MockConfigEntry) -> None:
    """The main fuse entity writes the place's config."""
    await _set(hass, MAIN_FUSE, 50)
    await hass.async_block_till_done()
    assert place_entry.data["main_fuse"] == 50
    assert hass.states.get(MAIN_FUSE).state == "50.0"


@pytest.mark.parametrize("value", [0, 401])
async def test_main_fuse_out_of_range(
    hass: HomeAssistant, place_entry: MockConfigEntry, value: float
) -> None:
    """A fuse outside 1–400 A is refused; the place keeps its fuse."""
    with pytest.raises(ServiceValidationError):
        await _set(hass, MAIN_FUSE, value)
    assert place_entry.data["main_fuse"] == 63.0


async def test_fixed_basis_needs_a_price(
    hass: HomeAssistant, place_entry: MockConfigEntry
) -> None:
    """Choosing the fixed price without a price is refused with our message."""
    with pytest.raises(ServiceValidationError) as err:
        await _select(hass, "fixed")
    assert err.value.translation_domain == "homecharge"
    assert err.value.translation_key == "invalid_price"
    assert place_entry.data["cost_basis"] == "spot"
    assert hass.states.get(COST_BASIS).state == "spot"

    await _set(hass, FIXED_PRICE, 1.5)
    await _select(hass, "fixed")
    await hass.async_block_till_done()
    assert place_entry.data["cost_basis"] == "fixed"
    assert place_entry.data["fixed_price"] == 1.5
    assert hass.states.get(COST_BASIS).state == "fixed"
    assert hass.states.get(FIXED_PRICE).state == "1.5"
