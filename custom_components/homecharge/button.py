"""Buttons of a charger: restart."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from homeassistant.components.button import (
    ButtonDeviceClass,
    ButtonEntity,
    ButtonEntityDescription,
)
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from . import HomeChargeConfigEntry
from .entity import ChargerEntity, add_charger_entities
from .runtime.charger import ChargerCoordinator

# One command at a time per charger is what vendors tolerate.
PARALLEL_UPDATES = 1


@dataclass(frozen=True, kw_only=True)
class ChargerButtonDescription(ButtonEntityDescription):
    """A command to a charger."""

    press_fn: Callable[[ChargerCoordinator], Awaitable[bool]]


BUTTONS: tuple[ChargerButtonDescription, ...] = (
    ChargerButtonDescription(
        key="restart",
        device_class=ButtonDeviceClass.RESTART,
        entity_category=EntityCategory.CONFIG,
        press_fn=lambda charger: charger.async_restart(hard=False),
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: HomeChargeConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add each charger's buttons."""
    add_charger_entities(entry, async_add_entities, BUTTONS, ChargerButton)


class ChargerButton(ChargerEntity, ButtonEntity):
    """A command to a charger."""

    entity_description: ChargerButtonDescription

    async def async_press(self) -> None:
        """Send the command."""
        await self.async_guest()
        await self.async_command(self.entity_description.press_fn(self.coordinator))
