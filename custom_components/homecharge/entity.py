"""Base entity for a place's entities."""

from __future__ import annotations

from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.entity import EntityDescription
from homeassistant.helpers.update_coordinator import CoordinatorEntity

from . import async_update_place
from .const import DOMAIN
from .coordinator import PlaceCoordinator


class PlaceEntity(CoordinatorEntity[PlaceCoordinator]):
    """An entity on a place's device."""

    _attr_has_entity_name = True

    def __init__(
        self, coordinator: PlaceCoordinator, description: EntityDescription
    ) -> None:
        """Attach the entity to its place's device."""
        super().__init__(coordinator)
        self.entity_description = description
        entry_id = coordinator.config_entry.entry_id
        self._attr_unique_id = f"{entry_id}_{description.key}"
        self._attr_device_info = DeviceInfo(identifiers={(DOMAIN, entry_id)})

    async def async_write_setting(self, value: object) -> None:
        """Store a new value of this entity's setting in the place's config."""
        await async_update_place(
            self.hass,
            self.coordinator.config_entry,
            {self.entity_description.key: value},
        )
