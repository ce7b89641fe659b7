"""Diagnostics of a place."""

from __future__ import annotations

from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from homeassistant.core import HomeAssistant

from .test_central import PASSWORD, place_with_charger


async def test_diagnostics_redact_the_name(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    place_entry: MockConfigEntry,
) -> None:
    """The place's name (often its address) never leaves the house."""
    place_entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(place_entry, title="Storgata 5")
    assert await hass.config_entries.async_setup(place_entry.entry_id)
    await hass.async_block_till_done()

    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, place_entry)

    assert "Storgata" not in str(diagnostics)
    assert "Home" not in str(diagnostics)
    assert diagnostics["entry"]["title"] == "**REDACTED**"
    assert diagnostics["entry"]["data"]["main_fuse"] == 63.0
    assert diagnostics["settings"]["price_area"] == "NO1"
    assert diagnostics["settings"]["name"] == "**REDACTED**"
    assert diagnostics["entry"]["subentries"] == []
    assert diagnostics["chargers"] == {}


async def test_diagnostics_redact_charger_passwords(
    hass: HomeAssistant, hass_client: ClientSessionGenerator
) -> None:
    """A charger's password never appears; its state does."""
    entry = place_with_charger("CP-1")
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, entry)
    assert PASSWORD not in str(diagnostics)
    redacted = diagnostics["entry"]["subentries"][0]["data"]["password"]
    assert redacted == "**REDACTED**"
    assert diagnostics["chargers"]["CP-1"]["status"] == "needs_internet"
    assert diagnostics["chargers"]["CP-1"]["limit_a"] == 32.0
