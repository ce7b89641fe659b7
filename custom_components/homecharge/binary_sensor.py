"""Binary sensors: a charger connected, plugged in, locked; a place's meter online."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from homeassistant.components.binary_sensor import (
    BinarySensorDeviceClass,
    BinarySensorEntity,
    BinarySensorEntityDescription,
)
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from . import HomeChargeConfigEntry
from .entity import ChargerEntity, LoadEntity, add_charger_entities
from .runtime.charger import ChargerCoordinator

# Push only: state comes with OCPP frames.
PARALLEL_UPDATES = 0


@dataclass(frozen=True, kw_only=True)
class ChargerBinarySensorDescription(BinarySensorEntityDescription):
    """A yes/no fact about a charger."""

    is_on_fn: Callable[[ChargerCoordinator], bool]


BINARY_SENSORS: tuple[ChargerBinarySensorDescription, ...] = (
    ChargerBinarySensorDescription(
        key="connected",
        device_class=BinarySensorDeviceClass.CONNECTIVITY,
        entity_category=EntityCategory.DIAGNOSTIC,
        is_on_fn=lambda charger: charger.online,
    ),
    ChargerBinarySensorDescription(
        key="plugged_in",
        translation_key="plugged_in",
        device_class=BinarySensorDeviceClass.PLUG,
        is_on_fn=lambda charger: charger.data.plugged_in,
    ),
    # Lock semantics: on is unlocked (a car plugged in now would charge).
    ChargerBinarySensorDescription(
        key="access_lock",
        translation_key="access_lock",
        device_class=BinarySensorDeviceClass.LOCK,
        is_on_fn=lambda charger: not charger.station.access.locked,
    ),
)


METER_ONLINE = BinarySensorEntityDescription(
    key="meter_online",
    translation_key="meter_online",
    device_class=BinarySensorDeviceClass.CONNECTIVITY,
    entity_category=EntityCategory.DIAGNOSTIC,
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: HomeChargeConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add each charger's binary sensors, and the place's meter connectivity."""
    balancer = entry.runtime_data.balancer
    if balancer.meter.configured:
        async_add_entities([MeterOnlineSensor(balancer, METER_ONLINE)])
    add_charger_entities(entry, async_add_entities, BINARY_SENSORS, ChargerBinarySensor)


class ChargerBinarySensor(ChargerEntity, BinarySensorEntity):
    """A yes/no fact about a charger."""

    entity_description: ChargerBinarySensorDescription

    @property
    def is_on(self) -> bool:
        """Whether it holds now."""
        return self.entity_description.is_on_fn(self.coordinator)


class MeterOnlineSensor(LoadEntity, BinarySensorEntity):
    """The place's meter sends valid readings (else the fail-safe is on)."""

    @property
    def is_on(self) -> bool:
        """A valid reading came within the meter timeout."""
        return self.coordinator.data.online
