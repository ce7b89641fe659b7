"""Select entities of a place: cost basis."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from homeassistant.components.select import SelectEntity, SelectEntityDescription
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from . import HomeChargeConfigEntry
from .const import CONF_COST_BASIS
from .entity import PlaceEntity
from .logic.place import CostBasis, PlaceSettings

# Settings are written to the config entry; nothing here talks to a device.
PARALLEL_UPDATES = 0


@dataclass(frozen=True, kw_only=True)
class PlaceSelectDescription(SelectEntityDescription):
    """A place setting shown as a select."""

    value_fn: Callable[[PlaceSettings], str]


SELECTS: tuple[PlaceSelectDescription, ...] = (
    PlaceSelectDescription(
        key=CONF_COST_BASIS,
        translation_key=CONF_COST_BASIS,
        entity_category=EntityCategory.CONFIG,
        options=[basis.value for basis in CostBasis],
        value_fn=lambda settings: settings.cost_basis.value,
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: HomeChargeConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add a place's select entities."""
    coordinator = entry.runtime_data.coordinator
    async_add_entities(PlaceSelect(coordinator, description) for description in SELECTS)


class PlaceSelect(PlaceEntity, SelectEntity):
    """A place setting with a fixed set of choices."""

    entity_description: PlaceSelectDescription

    @property
    def current_option(self) -> str:
        """The chosen option."""
        return self.entity_description.value_fn(self.coordinator.data)

    async def async_select_option(self, option: str) -> None:
        """Store the choice in the place's config entry."""
        await self.async_write_setting(option)
