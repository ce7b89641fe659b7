"""
A place's options: every step of PlaceOptionsFlow, in the order the menu offers.

Prices → smart charging → meter (MQTT: topic, listen, confirm; or sensors) →
load balancing → the shared OCPP server. The schemas and checks of the meter
and smart-charging steps are in flows/meter.py and flows/plan.py; the prices
and server ones, used by no other flow, are here.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import asdict
from typing import Any, Final

import voluptuous as vol

from homeassistant.config_entries import ConfigFlowResult, OptionsFlow
from homeassistant.const import CONF_HOST, CONF_PORT
from homeassistant.helpers.selector import (
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
    TextSelector,
)

from ..central.server import CENTRAL
from ..central.server_settings import (
    ServerSettings,
    async_load_settings,
    async_save_settings,
    settings_errors,
    tls_file_errors,
)
from ..const import (
    CONF_CERTIFICATE,
    CONF_PRIVATE_KEY,
    CONF_SPOT_MARKUP,
    CONF_VAT_PERCENT,
)
from ..logic.meter_formats import MeterFormat, MeterReading
from ..logic.meter_settings import (
    CONF_METER_SOURCE,
    MeterSource,
    validate_balancing,
)
from ..logic.place import default_vat_percent, parse_decimal
from ..logic.plan_settings import CONF_PRICE_ENTITY
from ..runtime.place import meter_of, settings_of
from .meter import (
    BALANCING_SCHEMA,
    ENTITIES_SCHEMA,
    MQTT_SCHEMA,
    SOURCE_SCHEMA,
    async_listen,
    async_topic_errors,
    balancing_options,
    balancing_values,
    chosen_entities,
    chosen_format,
    entities_meter,
    entities_values,
    entity_errors,
    heard_placeholders,
    listen_placeholders,
    meter_options,
    mqtt_meter,
    mqtt_topic,
    mqtt_values,
)
from .place import as_text, price_schema
from .plan import (
    current_values,
    is_price_sensor,
    smart_charging_errors,
    smart_charging_options,
    smart_charging_schema,
)

SERVER_SCHEMA: Final = vol.Schema(
    {
        vol.Required(CONF_HOST): TextSelector(),
        vol.Required(CONF_PORT): NumberSelector(
            NumberSelectorConfig(mode=NumberSelectorMode.BOX, step=1)
        ),
        vol.Optional(CONF_CERTIFICATE): TextSelector(),
        vol.Optional(CONF_PRIVATE_KEY): TextSelector(),
    }
)


def prices_schema(currency: str) -> vol.Schema:
    """The supplier's markup per kWh and the VAT, typed as text."""
    return price_schema(currency, CONF_SPOT_MARKUP).extend(
        {vol.Required(CONF_VAT_PERCENT): TextSelector({"suffix": "%"})}
    )


def prices_errors(user_input: Mapping[str, Any]) -> dict[str, str]:
    """A markup of at most 100 either way, and a VAT of 0 to 100 %."""
    errors: dict[str, str] = {}
    markup = parse_decimal(user_input[CONF_SPOT_MARKUP])
    vat = parse_decimal(user_input[CONF_VAT_PERCENT])
    if markup is None or abs(markup) > 100:
        errors[CONF_SPOT_MARKUP] = "invalid_price"
    if vat is None or not 0 <= vat <= 100:
        errors[CONF_VAT_PERCENT] = "invalid_vat"
    return errors


def prices_options(user_input: Mapping[str, Any]) -> dict[str, float | None]:
    """The price options of a valid form (numbers as numbers)."""
    return {
        CONF_SPOT_MARKUP: parse_decimal(user_input[CONF_SPOT_MARKUP]),
        CONF_VAT_PERCENT: parse_decimal(user_input[CONF_VAT_PERCENT]),
    }


def server_settings(user_input: Mapping[str, Any]) -> ServerSettings:
    """The server settings typed; an empty certificate or key is none."""
    return ServerSettings(
        host=str(user_input[CONF_HOST]).strip(),
        port=int(user_input[CONF_PORT]),
        certificate=str(user_input.get(CONF_CERTIFICATE) or "").strip() or None,
        private_key=str(user_input.get(CONF_PRIVATE_KEY) or "").strip() or None,
    )


class PlaceOptionsFlow(OptionsFlow):
    """Prices, smart charging, meter and load balancing; the shared OCPP server."""

    def __init__(self) -> None:
        """Start with nothing heard."""
        self._topic = ""
        self._format: MeterFormat | None = None
        self._listen: (
            asyncio.Task[tuple[MeterFormat, str, MeterReading] | None] | None
        ) = None
        # What the meter said, once it has (shown by the confirm step).
        self._heard: tuple[MeterFormat, str, MeterReading] = (
            MeterFormat.AMS_JSON_CLASSIC,
            "",
            MeterReading(),
        )
        self._listen_error: str | None = None

    async def async_step_init(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Choose what to change."""
        return self.async_show_menu(
            step_id="init",
            menu_options=[
                "prices",
                "smart_charging",
                "meter",
                "load_balancing",
                "ocpp_server",
            ],
        )

    async def async_step_prices(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """What a spot-priced kWh costs: the supplier's markup and VAT."""
        settings = settings_of(self.config_entry)
        errors: dict[str, str] = {}
        if user_input is not None:
            errors = prices_errors(user_input)
            if not errors:
                return self.async_create_entry(
                    data={**self.config_entry.options, **prices_options(user_input)}
                )
        currency = self.hass.config.currency
        default_vat = default_vat_percent(settings.country, settings.price_area)
        suggested = user_input or {
            CONF_SPOT_MARKUP: as_text(settings.spot_markup),
            CONF_VAT_PERCENT: as_text(settings.vat_percent),
        }
        return self.async_show_form(
            step_id="prices",
            data_schema=self.add_suggested_values_to_schema(
                prices_schema(currency), suggested
            ),
            errors=errors,
            description_placeholders={
                "currency": currency,
                "default_vat": as_text(default_vat) or "0",
            },
        )

    async def async_step_smart_charging(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Prices, grid tariff, capacity tariff and plan rules, on one form."""
        settings = settings_of(self.config_entry)
        errors: dict[str, str] = {}
        if user_input is not None:
            errors = smart_charging_errors(user_input)
            entity_id = user_input.get(CONF_PRICE_ENTITY)
            if entity_id and not is_price_sensor(self.hass, entity_id):
                errors[CONF_PRICE_ENTITY] = "unknown_price_entity"
            if not errors:
                return self.async_create_entry(
                    data={
                        **self.config_entry.options,
                        **smart_charging_options(user_input),
                    }
                )
        currency = self.hass.config.currency
        suggested = user_input or current_values(
            self.config_entry.options, settings.country
        )
        return self.async_show_form(
            step_id="smart_charging",
            data_schema=self.add_suggested_values_to_schema(
                smart_charging_schema(currency), suggested
            ),
            errors=errors,
            description_placeholders={
                "currency": currency,
                "price_area": settings.price_area,
            },
        )

    async def async_step_meter(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Where the meter's readings come from."""
        if user_input is not None:
            source = MeterSource(user_input[CONF_METER_SOURCE])
            if source is MeterSource.MQTT:
                return await self.async_step_meter_mqtt()
            if source is MeterSource.ENTITIES:
                return await self.async_step_meter_entities()
            return self._save_meter({CONF_METER_SOURCE: MeterSource.NONE.value})
        current = {CONF_METER_SOURCE: meter_of(self.config_entry).source.value}
        return self.async_show_form(
            step_id="meter",
            data_schema=self.add_suggested_values_to_schema(SOURCE_SCHEMA, current),
        )

    async def async_step_meter_mqtt(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """The reader's MQTT topic, and its format when detection is not wanted."""
        errors: dict[str, str] = {}
        if user_input is not None:
            topic = mqtt_topic(user_input)
            errors = await async_topic_errors(self.hass, topic)
            if not errors:
                self._topic = topic
                self._format = chosen_format(user_input)
                return await self.async_step_meter_listen()
        elif self._listen_error:
            errors["base"], self._listen_error = self._listen_error, None
        suggested = user_input or mqtt_values(meter_of(self.config_entry), self._topic)
        return self.async_show_form(
            step_id="meter_mqtt",
            data_schema=self.add_suggested_values_to_schema(MQTT_SCHEMA, suggested),
            errors=errors,
            description_placeholders=listen_placeholders(),
        )

    async def async_step_meter_listen(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Listen for the meter until it speaks (or does not)."""
        if self._listen is None:
            self._listen = self.hass.async_create_task(
                async_listen(self.hass, self._topic, self._format)
            )
        if not self._listen.done():
            return self.async_show_progress(
                step_id="meter_listen",
                progress_action="meter_listen",
                progress_task=self._listen,
                description_placeholders={"topic": self._topic},
            )
        heard, self._listen = self._listen.result(), None
        if heard is None:
            self._listen_error = "meter_not_heard"
            return self.async_show_progress_done(next_step_id="meter_mqtt")
        self._heard = heard
        return self.async_show_progress_done(next_step_id="meter_confirm")

    async def async_step_meter_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Show what the meter said; save it as the place's meter."""
        fmt, topic, reading = self._heard
        if user_input is not None:
            return self._save_meter(mqtt_meter(fmt, topic))
        return self.async_show_form(
            step_id="meter_confirm",
            data_schema=vol.Schema({}),
            description_placeholders=heard_placeholders(fmt, topic, reading),
        )

    async def async_step_meter_entities(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Sensors that measure the place: total power and/or each phase."""
        errors: dict[str, str] = {}
        if user_input is not None:
            chosen = chosen_entities(user_input)
            errors = entity_errors(self.hass, chosen)
            if not errors:
                return self._save_meter(entities_meter(chosen))
        suggested = user_input or entities_values(meter_of(self.config_entry))
        return self.async_show_form(
            step_id="meter_entities",
            data_schema=self.add_suggested_values_to_schema(ENTITIES_SCHEMA, suggested),
            errors=errors,
        )

    async def async_step_load_balancing(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """How the balancer keeps the place under its main fuse."""
        main_fuse = settings_of(self.config_entry).main_fuse
        errors: dict[str, str] = {}
        if user_input is not None:
            errors = validate_balancing(user_input, main_fuse)
            if not errors:
                return self._save_meter(balancing_options(user_input))
        suggested = user_input or balancing_values(meter_of(self.config_entry))
        return self.async_show_form(
            step_id="load_balancing",
            data_schema=self.add_suggested_values_to_schema(
                BALANCING_SCHEMA, suggested
            ),
            errors=errors,
            description_placeholders={"main_fuse": f"{main_fuse:g}"},
        )

    async def async_step_ocpp_server(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Where the OCPP server listens, and its TLS certificate (profile 2)."""
        errors: dict[str, str] = {}
        placeholders = {"error": ""}
        if user_input is not None:
            settings = server_settings(user_input)
            errors = settings_errors(
                settings
            ) or await self.hass.async_add_executor_job(tls_file_errors, settings)
            if not errors:
                try:
                    if (central := self.hass.data.get(CENTRAL)) is not None:
                        await central.async_restart(settings)
                except OSError as err:
                    errors["base"] = "server_failed"
                    placeholders["error"] = f" ({err})"
                else:
                    await async_save_settings(self.hass, settings)
                    return self.async_create_entry(data=dict(self.config_entry.options))
        current = asdict(await async_load_settings(self.hass))
        return self.async_show_form(
            step_id="ocpp_server",
            data_schema=self.add_suggested_values_to_schema(
                SERVER_SCHEMA, user_input or current
            ),
            errors=errors,
            description_placeholders=placeholders,
        )

    def _save_meter(self, changes: Mapping[str, Any]) -> ConfigFlowResult:
        """Save a change to the meter or its balancing."""
        return self.async_create_entry(
            data=meter_options(self.config_entry.options, changes)
        )
