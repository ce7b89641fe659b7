"""
The meter and load-balancing steps of a place's options.

MQTT: the user gives the reader's topic; we listen (through Home Assistant's
MQTT integration) until a message arrives, detect its format and show what it
said before anything is saved. Entities: the user picks sensors (total power,
per-phase current or power). Load balancing: margin, timing and fail-safe.
"""

from __future__ import annotations

import asyncio
from typing import Any, Final

import voluptuous as vol

from homeassistant.components import mqtt
from homeassistant.components.sensor import SensorDeviceClass
from homeassistant.config_entries import (
    ConfigEntryState,
    ConfigFlow,
    ConfigFlowResult,
    OptionsFlow,
)
from homeassistant.const import (
    ATTR_UNIT_OF_MEASUREMENT,
    UnitOfElectricCurrent,
    UnitOfTime,
)
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.selector import (
    EntitySelector,
    EntitySelectorConfig,
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
    SelectOptionDict,
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
    TextSelector,
)
from homeassistant.helpers.service_info.mqtt import MqttServiceInfo

from .. import meter_of, settings_of
from ..const import CONF_PLACE
from ..logic.meter_formats import (
    InvalidPayload,
    MeterFormat,
    MeterReading,
    detect_format,
    parse_message,
    subscription_topics,
)
from ..logic.meter_settings import (
    CONF_LOAD_BALANCING,
    CONF_MARGIN,
    CONF_METER_FORMAT,
    CONF_METER_PHASES,
    CONF_METER_POWER,
    CONF_METER_SOURCE,
    CONF_METER_TIMEOUT,
    CONF_METER_TOPIC,
    CONF_RAISE_AFTER,
    CONF_RAISE_INTERVAL,
    CONF_SAFE_CURRENT,
    RANGES,
    MeterSource,
    validate_balancing,
)
from ..logic.meter_state import entity_reading

# Long enough for the slowest feeds (10 s phase lists) to speak twice.
LISTEN_TIMEOUT_S: Final = 25.0
AUTO: Final = "auto"
_NO_VALUE: Final = "–"

_UNITS: Final[dict[str, str]] = {
    CONF_MARGIN: UnitOfElectricCurrent.AMPERE,
    CONF_SAFE_CURRENT: UnitOfElectricCurrent.AMPERE,
    CONF_RAISE_AFTER: UnitOfTime.SECONDS,
    CONF_RAISE_INTERVAL: UnitOfTime.SECONDS,
    CONF_METER_TIMEOUT: UnitOfTime.SECONDS,
}
BALANCING_SCHEMA: Final = vol.Schema(
    {
        # No min/max here: out of range gets our translated error, not
        # voluptuous's English one.
        vol.Required(key): NumberSelector(
            NumberSelectorConfig(
                step=0.1 if _UNITS[key] == UnitOfElectricCurrent.AMPERE else 1,
                mode=NumberSelectorMode.BOX,
                unit_of_measurement=_UNITS[key],
            )
        )
        for key in RANGES
    }
)
_PHASE_SENSOR: Final = EntitySelector(
    EntitySelectorConfig(
        domain="sensor",
        device_class=[SensorDeviceClass.CURRENT, SensorDeviceClass.POWER],
    )
)
ENTITIES_SCHEMA: Final = vol.Schema(
    {
        vol.Optional(CONF_METER_POWER): EntitySelector(
            EntitySelectorConfig(domain="sensor", device_class=SensorDeviceClass.POWER)
        ),
        **{vol.Optional(key): _PHASE_SENSOR for key in CONF_METER_PHASES},
    }
)


def describe(reading: MeterReading) -> dict[str, str]:
    """What a reading said, as placeholders for the confirm step."""

    def text(value: float | None, unit: str) -> str:
        return _NO_VALUE if value is None else f"{value:g} {unit}"

    return {
        "power": text(reading.import_w, "W"),
        "l1": text(reading.current_a[0], "A"),
        "l2": text(reading.current_a[1], "A"),
        "l3": text(reading.current_a[2], "A"),
    }


async def async_listen(
    hass: HomeAssistant, topic: str, fmt: MeterFormat | None
) -> tuple[MeterFormat, str, MeterReading] | None:
    """The first message on ``topic`` we can read: format, base topic, reading."""
    found: asyncio.Future[tuple[MeterFormat, str, MeterReading]] = (
        hass.loop.create_future()
    )

    @callback
    def message(msg: mqtt.ReceiveMessage) -> None:
        if found.done():
            return
        detected = (
            (fmt, topic) if fmt is not None else detect_format(msg.topic, msg.payload)
        )
        if detected is None:
            return
        try:
            reading = parse_message(detected[0], detected[1], msg.topic, msg.payload)
        except InvalidPayload:
            return
        if reading is not None and not reading.empty:
            found.set_result((detected[0], detected[1], reading))

    filters = subscription_topics(fmt, topic) if fmt else (topic, f"{topic}/#")
    unsubscribes = [
        await mqtt.async_subscribe(hass, topic_filter, message, encoding=None)
        for topic_filter in filters
    ]
    try:
        async with asyncio.timeout(LISTEN_TIMEOUT_S):
            return await found
    except TimeoutError:
        return None
    finally:
        for unsubscribe in unsubscribes:
            unsubscribe()


class MeterOptionsFlow(OptionsFlow):
    """Options steps for a place's meter and its load balancing."""

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
            return self._save({CONF_METER_SOURCE: MeterSource.NONE.value})
        schema = vol.Schema(
            {
                vol.Required(CONF_METER_SOURCE): SelectSelector(
                    SelectSelectorConfig(
                        options=[source.value for source in MeterSource],
                        translation_key=CONF_METER_SOURCE,
                        mode=SelectSelectorMode.LIST,
                    )
                )
            }
        )
        current = {CONF_METER_SOURCE: meter_of(self.config_entry).source.value}
        return self.async_show_form(
            step_id="meter",
            data_schema=self.add_suggested_values_to_schema(schema, current),
        )

    async def async_step_meter_mqtt(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """The reader's MQTT topic, and its format when detection is not wanted."""
        errors: dict[str, str] = {}
        if user_input is not None:
            topic = str(user_input[CONF_METER_TOPIC]).strip().rstrip("/#")
            try:
                # A publish topic: no wildcards, not empty.
                mqtt.valid_publish_topic(topic)
            except vol.Invalid:
                errors[CONF_METER_TOPIC] = "invalid_topic"
            if not errors and not await mqtt.async_wait_for_mqtt_client(self.hass):
                errors["base"] = "mqtt_unavailable"
            if not errors:
                self._topic = topic
                chosen = user_input.get(CONF_METER_FORMAT, AUTO)
                self._format = None if chosen == AUTO else MeterFormat(chosen)
                return await self.async_step_meter_listen()
        elif self._listen_error:
            errors["base"], self._listen_error = self._listen_error, None
        meter = meter_of(self.config_entry)
        schema = vol.Schema(
            {
                vol.Required(CONF_METER_TOPIC): TextSelector(),
                vol.Required(CONF_METER_FORMAT, default=AUTO): SelectSelector(
                    SelectSelectorConfig(
                        options=[AUTO, *(fmt.value for fmt in MeterFormat)],
                        translation_key=CONF_METER_FORMAT,
                        mode=SelectSelectorMode.DROPDOWN,
                    )
                ),
            }
        )
        suggested = user_input or {
            CONF_METER_TOPIC: self._topic or meter.topic or "",
            CONF_METER_FORMAT: (meter.format or AUTO),
        }
        return self.async_show_form(
            step_id="meter_mqtt",
            data_schema=self.add_suggested_values_to_schema(schema, suggested),
            errors=errors,
            description_placeholders={"seconds": f"{LISTEN_TIMEOUT_S:g}"},
        )

    async def async_step_meter_listen(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Listen for the meter until it speaks (or does not)."""
        if self._listen is None:
            self._listen = self.hass.async_create_task(self._async_hear())
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

    async def _async_hear(self) -> tuple[MeterFormat, str, MeterReading] | None:
        return await async_listen(self.hass, self._topic, self._format)

    async def async_step_meter_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Show what the meter said; save it as the place's meter."""
        fmt, topic, reading = self._heard
        if user_input is not None:
            return self._save(
                {
                    CONF_METER_SOURCE: MeterSource.MQTT.value,
                    CONF_METER_TOPIC: topic,
                    CONF_METER_FORMAT: fmt.value,
                }
            )
        return self.async_show_form(
            step_id="meter_confirm",
            data_schema=vol.Schema({}),
            description_placeholders={
                "topic": topic,
                "format": fmt.value,
                **describe(reading),
            },
        )

    async def async_step_meter_entities(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Sensors that measure the place: total power and/or each phase."""
        errors: dict[str, str] = {}
        if user_input is not None:
            chosen = {key: value for key, value in user_input.items() if value}
            errors = self._entity_errors(chosen)
            if not errors:
                return self._save(
                    {
                        CONF_METER_SOURCE: MeterSource.ENTITIES.value,
                        CONF_METER_POWER: chosen.get(CONF_METER_POWER),
                        **{key: chosen.get(key) for key in CONF_METER_PHASES},
                    }
                )
        meter = meter_of(self.config_entry)
        suggested = user_input or {
            CONF_METER_POWER: meter.power_entity,
            **dict(zip(CONF_METER_PHASES, meter.phase_entities, strict=True)),
        }
        return self.async_show_form(
            step_id="meter_entities",
            data_schema=self.add_suggested_values_to_schema(ENTITIES_SCHEMA, suggested),
            errors=errors,
        )

    def _entity_errors(self, chosen: dict[str, str]) -> dict[str, str]:
        if not any(chosen.get(key) for key in CONF_METER_PHASES):
            # Balancing needs each phase; total power alone cannot say which.
            return {"base": "phases_required"}
        errors: dict[str, str] = {}
        for key, entity_id in chosen.items():
            state = self.hass.states.get(entity_id)
            unit = state.attributes.get(ATTR_UNIT_OF_MEASUREMENT) if state else None
            phase = None if key == CONF_METER_POWER else CONF_METER_PHASES.index(key)
            try:
                entity_reading(phase, "0", unit)
            except InvalidPayload:
                errors[key] = "wrong_unit"
        return errors

    async def async_step_load_balancing(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """How the balancer keeps the place under its main fuse."""
        main_fuse = settings_of(self.config_entry).main_fuse
        errors: dict[str, str] = {}
        if user_input is not None:
            errors = validate_balancing(user_input, main_fuse)
            if not errors:
                return self._save({key: float(user_input[key]) for key in RANGES})
        meter = meter_of(self.config_entry)
        current = {key: getattr(meter, key) for key in RANGES}
        return self.async_show_form(
            step_id="load_balancing",
            data_schema=self.add_suggested_values_to_schema(
                BALANCING_SCHEMA, user_input or current
            ),
            errors=errors,
            description_placeholders={"main_fuse": f"{main_fuse:g}"},
        )

    def _save(self, changes: dict[str, Any]) -> ConfigFlowResult:
        options = {**self.config_entry.options, **changes}
        options.setdefault(CONF_LOAD_BALANCING, True)
        return self.async_create_entry(data=options)


class MeterDiscoveryFlow(ConfigFlow):
    """An AMS reader announced itself over MQTT: offer it to a place."""

    _meter: tuple[MeterFormat, str]

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
        if any(
            meter_of(entry).topic == topic
            for entry in self._async_current_entries(include_ignore=False)
        ):
            return self.async_abort(reason="meter_in_use")
        self._meter = (fmt, topic)
        self.context["title_placeholders"] = {"name": topic}
        return await self.async_step_meter_discovered()

    async def async_step_meter_discovered(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Choose the place the meter measures."""
        places = {
            entry.entry_id: entry
            for entry in self._async_current_entries(include_ignore=False)
            if entry.state is ConfigEntryState.LOADED
        }
        if not places:
            return self.async_abort(reason="no_places")
        fmt, topic = self._meter
        if user_input is not None and user_input[CONF_PLACE] in places:
            entry = places[user_input[CONF_PLACE]]
            self.hass.config_entries.async_update_entry(
                entry,
                options={
                    **entry.options,
                    CONF_METER_SOURCE: MeterSource.MQTT.value,
                    CONF_METER_TOPIC: topic,
                    CONF_METER_FORMAT: fmt.value,
                    CONF_LOAD_BALANCING: entry.options.get(CONF_LOAD_BALANCING, True),
                },
            )
            return self.async_abort(
                reason="meter_added",
                description_placeholders={"topic": topic, "place": entry.title},
            )
        schema = vol.Schema(
            {
                vol.Required(CONF_PLACE): SelectSelector(
                    SelectSelectorConfig(
                        options=[
                            SelectOptionDict(value=entry_id, label=entry.title)
                            for entry_id, entry in places.items()
                        ],
                        mode=SelectSelectorMode.DROPDOWN,
                    )
                )
            }
        )
        return self.async_show_form(
            step_id="meter_discovered",
            data_schema=self.add_suggested_values_to_schema(
                schema, {CONF_PLACE: next(iter(places))}
            ),
            description_placeholders={"topic": topic},
        )
