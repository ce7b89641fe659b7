"""Numbers: a place's main fuse and fixed price; a charger's fuse and max current."""

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
from .const import CONF_CIRCUIT_FUSE, CONF_FIXED_PRICE, CONF_MAIN_FUSE, CONF_MAX_CURRENT
from .entity import ChargerEntity, PlaceEntity, add_charger_entities
from .logic.grid import IEC_MIN_AMPS
from .logic.place import MAX_FIXED_PRICE, MAX_MAIN_FUSE, MIN_MAIN_FUSE, PlaceSettings
from .runtime.charger_state import MAX_CIRCUIT_FUSE, ChargerConfig

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


@dataclass(frozen=True, kw_only=True)
class ChargerNumberDescription(NumberEntityDescription):
    """A charger setting shown as a number, stored in its subentry."""

    value_fn: Callable[[ChargerConfig], float | None]
    max_fn: Callable[[ChargerConfig], float]


CHARGER_NUMBERS: tuple[ChargerNumberDescription, ...] = (
    ChargerNumberDescription(
        key=CONF_CIRCUIT_FUSE,
        translation_key=CONF_CIRCUIT_FUSE,
        device_class=NumberDeviceClass.CURRENT,
        entity_category=EntityCategory.CONFIG,
        native_unit_of_measurement=UnitOfElectricCurrent.AMPERE,
        native_min_value=IEC_MIN_AMPS,
        native_step=1,
        mode=NumberMode.BOX,
        value_fn=lambda config: config.circuit_fuse,
        max_fn=lambda _config: MAX_CIRCUIT_FUSE,
    ),
    ChargerNumberDescription(
        key=CONF_MAX_CURRENT,
        translation_key=CONF_MAX_CURRENT,
        device_class=NumberDeviceClass.CURRENT,
        native_unit_of_measurement=UnitOfElectricCurrent.AMPERE,
        native_min_value=IEC_MIN_AMPS,
        native_step=1,
        mode=NumberMode.SLIDER,
        value_fn=lambda config: config.max_current or config.circuit_fuse,
        max_fn=lambda config: config.circuit_fuse,
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: HomeChargeConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the place's and each charger's number entities."""
    coordinator = entry.runtime_data.coordinator
    async_add_entities(PlaceNumber(coordinator, description) for description in NUMBERS)
    add_charger_entities(entry, async_add_entities, CHARGER_NUMBERS, ChargerNumber)


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


class ChargerNumber(ChargerEntity, NumberEntity):
    """A charger setting: it limits the current the charger may draw."""

    entity_description: ChargerNumberDescription

    @property
    def native_value(self) -> float | None:
        """The setting's current value."""
        return self.entity_description.value_fn(self.coordinator.config)

    @property
    def native_max_value(self) -> float:
        """Max current cannot exceed the circuit fuse."""
        return self.entity_description.max_fn(self.coordinator.config)

    async def async_set_native_value(self, value: float) -> None:
        """Store it in the charger's subentry; the new limit is sent at once."""
        await self.async_guest()
        entry = self.coordinator.config_entry
        subentry = entry.subentries[self.coordinator.subentry_id]
        self.hass.config_entries.async_update_subentry(
            entry, subentry, data={**subentry.data, self.entity_description.key: value}
        )
