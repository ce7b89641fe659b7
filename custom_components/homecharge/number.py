"""Number entities of a place: main fuse, fixed price."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from homeassistant.components.number import (
    NumberDeviceClass,
    NumberEntity,
    NumberEntityDescription,
    NumberMode,
)
from homeassistant.const import EntityCategory, UnitOfElectricCurrent, UnitOfEnergy
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from . import HomeChargeConfigEntry
from .const import CONF_FIXED_PRICE, CONF_MAIN_FUSE
from .entity import PlaceEntity
from .place import MAX_FIXED_PRICE, MAX_MAIN_FUSE, MIN_MAIN_FUSE, PlaceSettings

# Settings are written to the config entry; nothing here talks to a device.
PARALLEL_UPDATES = 0


@dataclass(frozen=True, kw_only=True)
class PlaceNumberDescription(NumberEntityDescription):
    """A place setting shown as a number."""

    value_fn: Callable[[PlaceSettings], float | None]
    price_per_kwh: bool = False


NUMBERS: tuple[PlaceNumberDescription, ...] = (
    PlaceNumberDescription(
        key=CONF_MAIN_FUSE,
        translation_key=CONF_MAIN_FUSE,
        device_class=NumberDeviceClass.CURRENT,
        entity_category=EntityCategory.CONFIG,
        native_unit_of_measurement=UnitOfElectricCurrent.AMPERE,
        native_min_value=MIN_MAIN_FUSE,
        native_max_value=MAX_MAIN_FUSE,
        native_step=1,
        mode=NumberMode.BOX,
        value_fn=lambda settings: settings.main_fuse,
    ),
    PlaceNumberDescription(
        key=CONF_FIXED_PRICE,
        translation_key=CONF_FIXED_PRICE,
        entity_category=EntityCategory.CONFIG,
        native_min_value=0,
        native_max_value=MAX_FIXED_PRICE,
        native_step=0.01,
        mode=NumberMode.BOX,
        price_per_kwh=True,
        value_fn=lambda settings: settings.fixed_price,
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: HomeChargeConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add a place's number entities."""
    coordinator = entry.runtime_data.coordinator
    async_add_entities(PlaceNumber(coordinator, description) for description in NUMBERS)


class PlaceNumber(PlaceEntity, NumberEntity):
    """A numeric place setting."""

    entity_description: PlaceNumberDescription

    @property
    def native_unit_of_measurement(self) -> str | None:
        """Amps for fuses; the home currency per kWh for prices."""
        if self.entity_description.price_per_kwh:
            return f"{self.hass.config.currency}/{UnitOfEnergy.KILO_WATT_HOUR}"
        return self.entity_description.native_unit_of_measurement

    @property
    def native_value(self) -> float | None:
        """The setting's current value."""
        return self.entity_description.value_fn(self.coordinator.data)

    async def async_set_native_value(self, value: float) -> None:
        """Store the new value in the place's config entry."""
        await self.async_write_setting(value)
