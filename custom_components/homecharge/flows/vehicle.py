"""The vehicle subentry flow: a car of the place, and the id tags it starts with."""

from __future__ import annotations

from typing import Any

import voluptuous as vol

from homeassistant.components.sensor import SensorDeviceClass
from homeassistant.const import CONF_NAME, UnitOfEnergy
from homeassistant.helpers.selector import (
    EntitySelector,
    EntitySelectorConfig,
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
    TextSelector,
    TextSelectorConfig,
)

from ..const import SUBENTRY_VEHICLE
from ..logic.plan_settings import CONF_BATTERY, CONF_SOC_ENTITY, validate_plan_options
from ..logic.vehicles import (
    CONF_ID_TAGS,
    CONF_MAKE,
    CONF_ODOMETER_ENTITY,
    CONF_REGISTRATION,
    CONF_VEHICLE_MODEL,
    MAX_ID_TAG,
    Vehicle,
    parse_id_tags,
    tags_in_use,
)
from .named_subentry import NamedSubentryFlow

VEHICLE_SCHEMA = vol.Schema(
    {
        vol.Required(CONF_NAME): TextSelector(),
        vol.Optional(CONF_MAKE): TextSelector(),
        vol.Optional(CONF_VEHICLE_MODEL): TextSelector(),
        vol.Optional(CONF_REGISTRATION): TextSelector(),
        # No min/max: out of range gets our translated error.
        vol.Optional(CONF_BATTERY): NumberSelector(
            NumberSelectorConfig(
                mode=NumberSelectorMode.BOX,
                step=0.1,
                unit_of_measurement=UnitOfEnergy.KILO_WATT_HOUR,
            )
        ),
        vol.Optional(CONF_SOC_ENTITY): EntitySelector(
            EntitySelectorConfig(
                domain="sensor", device_class=SensorDeviceClass.BATTERY
            )
        ),
        vol.Optional(CONF_ODOMETER_ENTITY): EntitySelector(
            EntitySelectorConfig(
                domain="sensor", device_class=SensorDeviceClass.DISTANCE
            )
        ),
        vol.Optional(CONF_ID_TAGS): TextSelector(TextSelectorConfig(multiple=True)),
    }
)


class VehicleSubentryFlow(NamedSubentryFlow):
    """Add a vehicle to a place, or change one."""

    def schema(self) -> vol.Schema:
        """The vehicle's fields."""
        return VEHICLE_SCHEMA

    def data(self, user_input: dict[str, Any]) -> dict[str, Any]:
        """The vehicle's data."""
        return vehicle_data(user_input)

    def errors(self, user_input: dict[str, Any], key: str | None) -> dict[str, str]:
        """Each bad field with its translated error."""
        errors: dict[str, str] = {}
        if not str(user_input.get(CONF_NAME, "")).strip():
            errors[CONF_NAME] = "name_empty"
        if validate_plan_options({CONF_BATTERY: user_input.get(CONF_BATTERY)}):
            errors[CONF_BATTERY] = "battery_kwh_out_of_range"
        tags = parse_id_tags(user_input.get(CONF_ID_TAGS, ()))
        others = [
            Vehicle.from_data(sub.subentry_id, sub.title, sub.data)
            for sub in self._get_entry().subentries.values()
            if sub.subentry_type == SUBENTRY_VEHICLE
        ]
        if any(len(tag) > MAX_ID_TAG for tag in tags):
            errors[CONF_ID_TAGS] = "id_tag_too_long"
        elif tags_in_use(others, tags, besides=key):
            errors[CONF_ID_TAGS] = "id_tag_taken"
        return errors


def vehicle_data(user_input: dict[str, Any]) -> dict[str, Any]:
    """Subentry data of a vehicle from the form; what was left empty is None."""
    battery = user_input.get(CONF_BATTERY)
    size = None if battery is None or battery == "" else float(battery)
    return {
        CONF_MAKE: str(user_input.get(CONF_MAKE) or "").strip() or None,
        CONF_VEHICLE_MODEL: str(user_input.get(CONF_VEHICLE_MODEL) or "").strip()
        or None,
        CONF_REGISTRATION: str(user_input.get(CONF_REGISTRATION) or "").strip() or None,
        CONF_BATTERY: size,
        CONF_SOC_ENTITY: user_input.get(CONF_SOC_ENTITY) or None,
        CONF_ODOMETER_ENTITY: user_input.get(CONF_ODOMETER_ENTITY) or None,
        CONF_ID_TAGS: list(parse_id_tags(user_input.get(CONF_ID_TAGS, ()))),
    }
