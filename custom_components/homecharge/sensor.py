"""Sensors of a charger (status, power, currents, energy) and of a place's meter.

Past 400 lines because HA wants every sensor of the integration in this one
platform module: three EntityDescription tables (charger, meter, plan) and
their thin entity classes.
"""

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
from .entity import (
    ChargerEntity,
    ChargerPlanEntity,
    LoadEntity,
    SchedulePlaceEntity,
    add_charger_entities,
)
from .logic.charger_status import ChargerStatus
from .logic.limited_by import LimitedBy
from .logic.planner.problem import ChargerPlan, PlanStatus
from .person_sensors import add_person_sensors
from .reimbursement_sensors import add_reimbursement_sensors
from .runtime.balancing import LoadState, PlaceBalancer
from .runtime.charger import ChargerCoordinator
from .runtime.scheduling import PlaceScheduler, Schedule
from .session_sensors import SESSION_SENSORS, SessionSensor

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
        # Its own name: HA's for the device class is "Kraft" in Norwegian.
        translation_key="power",
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


@dataclass(frozen=True, kw_only=True)
class LoadSensorDescription(SensorEntityDescription):
    """A value from a place's meter or its load balancer."""

    value_fn: Callable[[LoadState], StateType]
    # Readings go stale with a silent meter; tariff figures do not.
    live: bool = True
    # Norway's capacity tariff (kapasitetsledd): only for Norwegian places.
    norway_only: bool = False


def _meter_phase(index: int) -> Callable[[LoadState], StateType]:
    def value(load: LoadState) -> StateType:
        amps = load.currents[index]
        return None if amps is None else round(amps, 2)

    return value


def _headroom(index: int) -> Callable[[LoadState], StateType]:
    def value(load: LoadState) -> StateType:
        return None if load.headroom is None else round(load.headroom[index], 1)

    return value


def _kw(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


LOAD_SENSORS: tuple[LoadSensorDescription, ...] = (
    LoadSensorDescription(
        key="grid_import_power",
        translation_key="grid_import_power",
        device_class=SensorDeviceClass.POWER,
        state_class=SensorStateClass.MEASUREMENT,
        native_unit_of_measurement=UnitOfPower.WATT,
        value_fn=lambda load: load.import_w,
    ),
    LoadSensorDescription(
        key="grid_export_power",
        translation_key="grid_export_power",
        device_class=SensorDeviceClass.POWER,
        state_class=SensorStateClass.MEASUREMENT,
        native_unit_of_measurement=UnitOfPower.WATT,
        entity_registry_enabled_default=False,
        value_fn=lambda load: load.export_w,
    ),
    *(
        LoadSensorDescription(
            key=f"grid_current_l{index + 1}",
            translation_key=f"grid_current_l{index + 1}",
            device_class=SensorDeviceClass.CURRENT,
            state_class=SensorStateClass.MEASUREMENT,
            native_unit_of_measurement=UnitOfElectricCurrent.AMPERE,
            value_fn=_meter_phase(index),
        )
        for index in range(3)
    ),
    *(
        LoadSensorDescription(
            key=f"headroom_l{index + 1}",
            translation_key=f"headroom_l{index + 1}",
            device_class=SensorDeviceClass.CURRENT,
            state_class=SensorStateClass.MEASUREMENT,
            native_unit_of_measurement=UnitOfElectricCurrent.AMPERE,
            value_fn=_headroom(index),
        )
        for index in range(3)
    ),
    LoadSensorDescription(
        key="hour_energy",
        translation_key="hour_energy",
        device_class=SensorDeviceClass.ENERGY,
        state_class=SensorStateClass.TOTAL_INCREASING,
        native_unit_of_measurement=UnitOfEnergy.KILO_WATT_HOUR,
        value_fn=lambda load: _kw(load.hour_kwh),
        live=False,
    ),
    LoadSensorDescription(
        key="capacity_peak_average",
        norway_only=True,
        translation_key="capacity_peak_average",
        device_class=SensorDeviceClass.POWER,
        state_class=SensorStateClass.MEASUREMENT,
        native_unit_of_measurement=UnitOfPower.KILO_WATT,
        value_fn=lambda load: _kw(load.capacity.average_kw if load.capacity else None),
        live=False,
    ),
    LoadSensorDescription(
        key="capacity_step",
        norway_only=True,
        translation_key="capacity_step",
        device_class=SensorDeviceClass.POWER,
        native_unit_of_measurement=UnitOfPower.KILO_WATT,
        value_fn=lambda load: load.capacity.step.threshold_kw
        if load.capacity
        else None,
        live=False,
    ),
    LoadSensorDescription(
        key="capacity_next_threshold",
        norway_only=True,
        translation_key="capacity_next_threshold",
        device_class=SensorDeviceClass.POWER,
        native_unit_of_measurement=UnitOfPower.KILO_WATT,
        value_fn=lambda load: load.capacity.next_threshold_kw
        if load.capacity
        else None,
        live=False,
    ),
)


@dataclass(frozen=True, kw_only=True)
class PlanSensorDescription(SensorEntityDescription):
    """A figure of one charger's smart-charging plan."""

    value_fn: Callable[[ChargerPlan], StateType | datetime]
    # Shown only while the charger has a car with a plan.
    planned: bool = True


PLAN_SENSORS: tuple[PlanSensorDescription, ...] = (
    PlanSensorDescription(
        key="plan_status",
        translation_key="plan_status",
        device_class=SensorDeviceClass.ENUM,
        options=[status.value for status in PlanStatus],
        value_fn=lambda plan: plan.status.value,
        planned=False,
    ),
    PlanSensorDescription(
        key="planned_start",
        translation_key="planned_start",
        device_class=SensorDeviceClass.TIMESTAMP,
        value_fn=lambda plan: plan.start,
    ),
    PlanSensorDescription(
        key="planned_end",
        translation_key="planned_end",
        device_class=SensorDeviceClass.TIMESTAMP,
        value_fn=lambda plan: plan.end,
    ),
    PlanSensorDescription(
        key="planned_energy",
        translation_key="planned_energy",
        device_class=SensorDeviceClass.ENERGY,
        native_unit_of_measurement=UnitOfEnergy.KILO_WATT_HOUR,
        suggested_display_precision=1,
        value_fn=lambda plan: round(plan.energy_kwh, 3),
    ),
    PlanSensorDescription(
        key="energy_needed",
        translation_key="energy_needed",
        device_class=SensorDeviceClass.ENERGY,
        native_unit_of_measurement=UnitOfEnergy.KILO_WATT_HOUR,
        suggested_display_precision=1,
        value_fn=lambda plan: round(plan.need_kwh, 3),
    ),
    PlanSensorDescription(
        key="estimated_cost",
        translation_key="estimated_cost",
        device_class=SensorDeviceClass.MONETARY,
        suggested_display_precision=2,
        value_fn=lambda plan: round(plan.cost, 4),
    ),
)


@dataclass(frozen=True, kw_only=True)
class ScheduleSensorDescription(SensorEntityDescription):
    """A place-wide figure of smart charging."""

    value_fn: Callable[[Schedule], StateType]


SCHEDULE_SENSORS: tuple[ScheduleSensorDescription, ...] = (
    ScheduleSensorDescription(
        key="current_price",
        translation_key="current_price",
        suggested_display_precision=3,
        value_fn=lambda schedule: schedule.current_price,
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: HomeChargeConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add each charger's sensors, and the place's meter sensors."""
    balancer = entry.runtime_data.balancer
    if balancer.meter.configured:
        norway = balancer.place.country == "NO"
        async_add_entities(
            LoadSensor(balancer, description)
            for description in LOAD_SENSORS
            if norway or not description.norway_only
        )
    scheduler = entry.runtime_data.scheduler
    async_add_entities(
        ScheduleSensor(scheduler, description) for description in SCHEDULE_SENSORS
    )
    add_charger_entities(entry, async_add_entities, SENSORS, ChargerSensor)
    add_charger_entities(
        entry,
        async_add_entities,
        PLAN_SENSORS,
        lambda charger, description: PlanSensor(scheduler, charger, description),
    )
    add_charger_entities(
        entry,
        async_add_entities,
        SESSION_SENSORS,
        lambda charger, description: SessionSensor(
            charger, description, entry.runtime_data.sessions
        ),
    )
    add_charger_entities(
        entry,
        async_add_entities,
        (LIMITED_BY,),
        lambda charger, description: LimitedBySensor(charger, description, balancer),
    )
    add_person_sensors(entry, async_add_entities)
    add_reimbursement_sensors(entry, async_add_entities)


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


LIMITED_BY = SensorEntityDescription(
    key="limited_by",
    translation_key="limited_by",
    device_class=SensorDeviceClass.ENUM,
    options=[reason.value for reason in LimitedBy],
)


class LimitedBySensor(ChargerEntity, SensorEntity):
    """What holds the car at its current now: the charger's and the place's."""

    def __init__(
        self,
        coordinator: ChargerCoordinator,
        description: SensorEntityDescription,
        balancer: PlaceBalancer,
    ) -> None:
        """Read the charger, and the balancer's last decision about it."""
        super().__init__(coordinator, description)
        self._balancer = balancer

    async def async_added_to_hass(self) -> None:
        """Follow the balancer's decisions as well as the charger."""
        await super().async_added_to_hass()
        self.async_on_remove(
            self._balancer.async_add_listener(self._handle_coordinator_update)
        )

    @property
    def native_value(self) -> str:
        """The reason (no car while none is plugged in)."""
        return self._balancer.limited_by(self.coordinator).value


class LoadSensor(LoadEntity, SensorEntity):
    """A reading of a place's meter, or what the balancer makes of it."""

    entity_description: LoadSensorDescription

    @property
    def available(self) -> bool:
        """Live readings are unavailable while the meter is silent."""
        return super().available and (
            not self.entity_description.live or self.coordinator.data.online
        )

    @property
    def native_value(self) -> StateType:
        """The value now."""
        return self.entity_description.value_fn(self.coordinator.data)


class PlanSensor(ChargerPlanEntity, SensorEntity):
    """A figure of a charger's plan."""

    entity_description: PlanSensorDescription

    def __init__(
        self,
        coordinator: PlaceScheduler,
        charger: ChargerCoordinator,
        description: PlanSensorDescription,
    ) -> None:
        """Money is in the household's currency."""
        super().__init__(coordinator, charger, description)
        if description.device_class is SensorDeviceClass.MONETARY:
            self._attr_native_unit_of_measurement = coordinator.hass.config.currency

    @property
    def native_value(self) -> StateType | datetime:
        """The plan's value; none while there is no plan for a car."""
        plan = self.coordinator.data.chargers.get(self.charger.key)
        if plan is None:
            return None
        if self.entity_description.planned and plan.status in (
            PlanStatus.NO_CAR,
            PlanStatus.CHARGE_NOW,
        ):
            return None
        return self.entity_description.value_fn(plan)


class ScheduleSensor(SchedulePlaceEntity, SensorEntity):
    """A place-wide figure of smart charging."""

    entity_description: ScheduleSensorDescription

    def __init__(
        self, coordinator: PlaceScheduler, description: ScheduleSensorDescription
    ) -> None:
        """Prices are per kWh in the household's currency."""
        super().__init__(coordinator, description)
        self._attr_native_unit_of_measurement = (
            f"{coordinator.hass.config.currency}/kWh"
        )

    @property
    def native_value(self) -> StateType:
        """The value now."""
        return self.entity_description.value_fn(self.coordinator.data)
