"""Sensors of a charger: status, power, currents, energy."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.const import (
    EntityCategory,
    UnitOfElectricCurrent,
    UnitOfElectricPotential,
    UnitOfEnergy,
    UnitOfPower,
)
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.typing import StateType

from . import HomeChargeConfigEntry
from .charger import ChargerCoordinator
from .charger_status import ChargerStatus
from .entity import ChargerEntity

# Push only: state comes with OCPP frames.
PARALLEL_UPDATES = 0


@dataclass(frozen=True, kw_only=True)
class ChargerSensorDescription(SensorEntityDescription):
    """A value read from a charger."""

    value_fn: Callable[[ChargerCoordinator], StateType | datetime]
    # Live readings mean nothing while the charger is away.
    live: bool = True


def _phase(index: int) -> Callable[[ChargerCoordinator], StateType]:
    return lambda charger: charger.data.current_a[index]


def _kwh(wh: float | None) -> float | None:
    return None if wh is None else round(wh / 1000, 3)


SENSORS: tuple[ChargerSensorDescription, ...] = (
    ChargerSensorDescription(
        key="status",
        translation_key="status",
        device_class=SensorDeviceClass.ENUM,
        options=[status.value for status in ChargerStatus],
        value_fn=lambda charger: charger.status.value,
        live=False,
    ),
    ChargerSensorDescription(
        key="error_code",
        translation_key="error_code",
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda charger: charger.error,
        live=False,
    ),
    ChargerSensorDescription(
        key="power",
        device_class=SensorDeviceClass.POWER,
        state_class=SensorStateClass.MEASUREMENT,
        native_unit_of_measurement=UnitOfPower.WATT,
        suggested_display_precision=0,
        value_fn=lambda charger: charger.data.power_w,
    ),
    *(
        ChargerSensorDescription(
            key=f"current_l{index + 1}",
            translation_key=f"current_l{index + 1}",
            device_class=SensorDeviceClass.CURRENT,
            state_class=SensorStateClass.MEASUREMENT,
            native_unit_of_measurement=UnitOfElectricCurrent.AMPERE,
            suggested_display_precision=1,
            entity_registry_enabled_default=False,
            value_fn=_phase(index),
        )
        for index in range(3)
    ),
    ChargerSensorDescription(
        key="voltage",
        device_class=SensorDeviceClass.VOLTAGE,
        state_class=SensorStateClass.MEASUREMENT,
        native_unit_of_measurement=UnitOfElectricPotential.VOLT,
        entity_category=EntityCategory.DIAGNOSTIC,
        suggested_display_precision=0,
        value_fn=lambda charger: charger.data.voltage_v[0],
    ),
    ChargerSensorDescription(
        key="offered_current",
        translation_key="offered_current",
        device_class=SensorDeviceClass.CURRENT,
        state_class=SensorStateClass.MEASUREMENT,
        native_unit_of_measurement=UnitOfElectricCurrent.AMPERE,
        suggested_display_precision=1,
        value_fn=lambda charger: charger.data.offered_a,
    ),
    ChargerSensorDescription(
        key="session_energy",
        translation_key="session_energy",
        device_class=SensorDeviceClass.ENERGY,
        state_class=SensorStateClass.TOTAL_INCREASING,
        native_unit_of_measurement=UnitOfEnergy.KILO_WATT_HOUR,
        suggested_display_precision=2,
        value_fn=lambda charger: charger.data.session_energy_kwh,
        live=False,
    ),
    ChargerSensorDescription(
        key="energy_total",
        translation_key="energy_total",
        device_class=SensorDeviceClass.ENERGY,
        state_class=SensorStateClass.TOTAL_INCREASING,
        native_unit_of_measurement=UnitOfEnergy.KILO_WATT_HOUR,
        suggested_display_precision=2,
        value_fn=lambda charger: _kwh(charger.data.energy_wh),
        live=False,
    ),
    ChargerSensorDescription(
        key="last_heartbeat",
        translation_key="last_heartbeat",
        device_class=SensorDeviceClass.TIMESTAMP,
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda charger: charger.data.last_heartbeat,
        live=False,
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: HomeChargeConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add each charger's sensors."""
    for subentry_id, charger in entry.runtime_data.chargers.items():
        async_add_entities(
            (ChargerSensor(charger, description) for description in SENSORS),
            config_subentry_id=subentry_id,
        )


class ChargerSensor(ChargerEntity, SensorEntity):
    """A reading or state of a charger."""

    entity_description: ChargerSensorDescription

    @property
    def available(self) -> bool:
        """Live readings are unavailable while the charger is offline."""
        return super().available and (
            not self.entity_description.live or self.coordinator.online
        )

    @property
    def native_value(self) -> StateType | datetime:
        """The value now."""
        return self.entity_description.value_fn(self.coordinator)
