"""
The place config flow: add a place, reconfigure it, and take in what was found.

Every step of HomeChargeConfigFlow is here; their schemas and checks are in
flows/. A place: place → price area → fixed price (only for a fixed cost
basis). A discovered charger or AMS meter: its confirm step asks which place
gets it (flows/place_choice.py). The place's options are flows/options.py, a
charger's own flow flows/charger.py.
"""

from __future__ import annotations

from typing import Any

from homeassistant.config_entries import (
    SOURCE_RECONFIGURE,
    ConfigEntry,
    ConfigFlow,
    ConfigFlowResult,
    ConfigSubentryFlow,
)
from homeassistant.const import CONF_NAME
from homeassistant.core import callback
from homeassistant.helpers.service_info.mqtt import MqttServiceInfo

from .const import (
    CONF_CHARGE_POINT_ID,
    CONF_COST_BASIS,
    CONF_COUNTRY,
    CONF_FIXED_PRICE,
    CONF_GRID_TYPE,
    CONF_MAIN_FUSE,
    CONF_PRICE_AREA,
    DOMAIN,
    SUBENTRY_CHARGER,
    SUBENTRY_PERSON,
    SUBENTRY_REIMBURSEMENT,
    SUBENTRY_VEHICLE,
)
from .flows.charger import (
    CHARGER_FIELDS,
    ChargerSubentryFlow,
    charger_errors,
    charger_in_use,
    discovered_charger,
    discovery_placeholders,
    discovery_suggestion,
    discovery_title,
)
from .flows.meter import meter_in_use, meter_options, mqtt_meter
from .flows.options import PlaceOptionsFlow
from .flows.person import PersonSubentryFlow
from .flows.place import PLACE_SCHEMA, as_text, price_area_schema, price_schema
from .flows.place_choice import PlaceChoice
from .flows.reimbursement import ReimbursementSubentryFlow
from .flows.vehicle import VehicleSubentryFlow
from .logic.meter_formats import MeterFormat, detect_format
from .logic.place import (
    MAX_MAIN_FUSE,
    MIN_MAIN_FUSE,
    CostBasis,
    GridType,
    parse_price,
    price_areas,
    suggest_country,
    suggest_price_area,
    validate_place,
)
from .runtime.place import settings_of


class HomeChargeConfigFlow(ConfigFlow, domain=DOMAIN):
    """
    Add a place, or reconfigure one; add a discovered charger or meter to one.

    Adding and reconfiguring share the steps: place → price area → fixed price
    (only for a fixed cost basis); the last step creates the entry or updates
    it. A discovery's confirm step adds the device to the chosen place itself
    and aborts with what it did.
    """

    VERSION = 1

    def __init__(self) -> None:
        """Start with nothing collected."""
        self._data: dict[str, Any] = {}
        self._discovery: dict[str, Any] = {}
        self._meter: tuple[MeterFormat, str] = (MeterFormat.AMS_HOMEASSISTANT, "")

    @staticmethod
    @callback
    def async_get_options_flow(config_entry: ConfigEntry) -> PlaceOptionsFlow:
        """Options: prices, smart charging, meter, balancing, the OCPP server."""
        return PlaceOptionsFlow()

    @classmethod
    @callback
    def async_get_supported_subentry_types(
        cls, config_entry: ConfigEntry
    ) -> dict[str, type[ConfigSubentryFlow]]:
        """What can be added to a place."""
        return {
            SUBENTRY_CHARGER: ChargerSubentryFlow,
            SUBENTRY_VEHICLE: VehicleSubentryFlow,
            SUBENTRY_PERSON: PersonSubentryFlow,
            SUBENTRY_REIMBURSEMENT: ReimbursementSubentryFlow,
        }

    async def async_step_user(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask for the place."""
        suggested = {
            CONF_NAME: self.hass.config.location_name,
            CONF_COUNTRY: suggest_country(self.hass.config.country),
            CONF_COST_BASIS: CostBasis.SPOT,
            CONF_GRID_TYPE: GridType.THREE_PHASE_400_TN,
        }
        return await self._async_step_place("user", user_input, suggested)

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Change any field of an existing place."""
        entry = self._get_reconfigure_entry()
        if not self._data:
            self._data = dict(entry.data)
        return await self._async_step_place("reconfigure", user_input, self._data)

    async def _async_step_place(
        self, step_id: str, user_input: dict[str, Any] | None, suggested: dict[str, Any]
    ) -> ConfigFlowResult:
        errors: dict[str, str] = {}
        if user_input is not None:
            user_input[CONF_NAME] = user_input[CONF_NAME].strip()
            errors = validate_place(user_input)
            if not errors and self._name_taken(user_input[CONF_NAME]):
                errors[CONF_NAME] = "name_exists"
            if not errors:
                if user_input[CONF_COUNTRY] != self._data.get(CONF_COUNTRY):
                    self._data.pop(CONF_PRICE_AREA, None)
                self._data.update(user_input)
                return await self.async_step_price_area()
        return self.async_show_form(
            step_id=step_id,
            data_schema=self.add_suggested_values_to_schema(
                PLACE_SCHEMA, user_input or suggested
            ),
            errors=errors,
            description_placeholders={
                "min_fuse": str(MIN_MAIN_FUSE),
                "max_fuse": str(MAX_MAIN_FUSE),
            },
        )

    def _name_taken(self, name: str) -> bool:
        """Whether another place already has this name (case-insensitive)."""
        own = (
            self._get_reconfigure_entry().entry_id
            if self.source == SOURCE_RECONFIGURE
            else None
        )
        return any(
            entry.title.casefold() == name.casefold()
            for entry in self._async_current_entries(include_ignore=False)
            if entry.entry_id != own
        )

    async def async_step_price_area(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask for the price area; skipped when the country has only one."""
        country = self._data[CONF_COUNTRY]
        areas = price_areas(country)
        if user_input is None and len(areas) == 1:
            user_input = {CONF_PRICE_AREA: areas[0]}
        errors: dict[str, str] = {}
        if user_input is not None:
            errors = validate_place({CONF_COUNTRY: country, **user_input})
            if not errors:
                self._data.update(user_input)
                if self._data[CONF_COST_BASIS] == CostBasis.FIXED:
                    return await self.async_step_fixed_price()
                return self._async_finish()
        suggested = self._data.get(CONF_PRICE_AREA) or suggest_price_area(
            country, self.hass.config.latitude, self.hass.config.longitude
        )
        return self.async_show_form(
            step_id="price_area",
            data_schema=self.add_suggested_values_to_schema(
                price_area_schema(country), {CONF_PRICE_AREA: suggested}
            ),
            errors=errors,
        )

    async def async_step_fixed_price(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask for the fixed price per kWh."""
        errors: dict[str, str] = {}
        if user_input is not None:
            price = parse_price(user_input[CONF_FIXED_PRICE])
            if price is None:
                errors[CONF_FIXED_PRICE] = "invalid_price"
            else:
                self._data[CONF_FIXED_PRICE] = price
                return self._async_finish()
        suggested = user_input or {
            CONF_FIXED_PRICE: as_text(self._data.get(CONF_FIXED_PRICE))
        }
        return self.async_show_form(
            step_id="fixed_price",
            data_schema=self.add_suggested_values_to_schema(
                price_schema(self.hass.config.currency, CONF_FIXED_PRICE), suggested
            ),
            errors=errors,
            description_placeholders={"currency": self.hass.config.currency},
        )

    @callback
    def _async_finish(self) -> ConfigFlowResult:
        data = {**self._data, CONF_MAIN_FUSE: float(self._data[CONF_MAIN_FUSE])}
        if self.source == SOURCE_RECONFIGURE:
            return self.async_update_reload_and_abort(
                self._get_reconfigure_entry(), title=data[CONF_NAME], data=data
            )
        return self.async_create_entry(title=data[CONF_NAME], data=data)

    async def async_step_integration_discovery(
        self, discovery_info: dict[str, Any]
    ) -> ConfigFlowResult:
        """An unknown charger connected while a place accepts new chargers."""
        charge_point_id = discovery_info[CONF_CHARGE_POINT_ID]
        await self.async_set_unique_id(f"{SUBENTRY_CHARGER}:{charge_point_id}")
        if charger_in_use(self.hass, charge_point_id):
            return self.async_abort(reason="charger_exists")
        self._discovery = discovery_info
        self.context["title_placeholders"] = {"name": discovery_title(discovery_info)}
        return await self.async_step_discovery_confirm()

    async def async_step_discovery_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Add the discovered charger to a place that accepts new chargers."""
        choice = PlaceChoice.of(
            self._async_current_entries(include_ignore=False),
            lambda entry: settings_of(entry).accept_new_chargers,
        )
        if not choice:
            return self.async_abort(reason="not_accepting")
        errors: dict[str, str] = {}
        if user_input is not None:
            errors = charger_errors(user_input) | choice.errors(user_input)
            if not errors:
                place = choice.chosen(user_input)
                charger = discovered_charger(self._discovery, user_input)
                self.hass.config_entries.async_add_subentry(place, charger)
                return self.async_abort(
                    reason="charger_added",
                    description_placeholders={
                        "name": charger.title,
                        "place": place.title,
                    },
                )
        schema = choice.schema.extend(CHARGER_FIELDS.schema)
        suggested = user_input or {
            **choice.suggested,
            **discovery_suggestion(self._discovery),
        }
        return self.async_show_form(
            step_id="discovery_confirm",
            data_schema=self.add_suggested_values_to_schema(schema, suggested),
            errors=errors,
            description_placeholders=discovery_placeholders(self._discovery),
        )

    async def async_step_mqtt(
        self, discovery_info: MqttServiceInfo
    ) -> ConfigFlowResult:
        """A discovery message on amsreader's Home Assistant topic."""
        detected = detect_format(discovery_info.topic, discovery_info.payload)
        if detected is None:
            # The topic is shared with every other device's discovery.
            return self.async_abort(reason="not_a_meter")
        fmt, topic = detected
        await self.async_set_unique_id(f"meter:{topic}")
        self._abort_if_unique_id_configured()
        if meter_in_use(self._async_current_entries(include_ignore=False), topic):
            return self.async_abort(reason="meter_in_use")
        self._meter = (fmt, topic)
        self.context["title_placeholders"] = {"name": topic}
        return await self.async_step_meter_discovered()

    async def async_step_meter_discovered(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Choose the place the meter measures."""
        choice = PlaceChoice.of(self._async_current_entries(include_ignore=False))
        if not choice:
            return self.async_abort(reason="no_places")
        fmt, topic = self._meter
        errors: dict[str, str] = {}
        if user_input is not None:
            errors = choice.errors(user_input)
            if not errors:
                place = choice.chosen(user_input)
                self.hass.config_entries.async_update_entry(
                    place, options=meter_options(place.options, mqtt_meter(fmt, topic))
                )
                return self.async_abort(
                    reason="meter_added",
                    description_placeholders={"topic": topic, "place": place.title},
                )
        return self.async_show_form(
            step_id="meter_discovered",
            data_schema=self.add_suggested_values_to_schema(
                choice.schema, user_input or choice.suggested
            ),
            errors=errors,
            description_placeholders={"topic": topic},
        )
