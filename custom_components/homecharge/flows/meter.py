"""
A place's meter and load balancing: what the flows' steps call.

MQTT: the user gives the reader's topic; we listen (through Home Assistant's
MQTT integration) until a message arrives, detect its format and show what it
said before anything is saved. Entities: the user picks sensors (total power,
per-phase current or power). Load balancing: margin, timing and fail-safe.
An AMS reader can also announce itself over MQTT (the config flow's discovery).

The steps live in the options flow (flows/options.py) and the config flow;
here are their schemas, checks and the options they save.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping
from typing import Any, Final

import voluptuous as vol

from homeassistant.components import mqtt
from homeassistant.components.sensor import SensorDeviceClass
from homeassistant.config_entries import ConfigEntry
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
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
    TextSelector,
)

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
    MeterSettings,
    MeterSource,
)
from ..logic.meter_state import entity_reading
from ..runtime.place import meter_of

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
SOURCE_SCHEMA: Final = vol.Schema(
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
MQTT_SCHEMA: Final = vol.Schema(
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


# What a meter step saves, in the options flow and from a discovery.


def meter_options(
    options: Mapping[str, Any], changes: Mapping[str, Any]
) -> dict[str, Any]:
    """A place's options with its meter changed; balancing on unless turned off."""
    changed = {**options, **changes}
    changed.setdefault(CONF_LOAD_BALANCING, True)
    return changed


def mqtt_meter(fmt: MeterFormat, topic: str) -> dict[str, str]:
    """The meter options of a reader heard, or discovered, on ``topic``."""
    return {
        CONF_METER_SOURCE: MeterSource.MQTT.value,
        CONF_METER_TOPIC: topic,
        CONF_METER_FORMAT: fmt.value,
    }


# MQTT: the topic the user gives, and what the reader said on it.


def mqtt_topic(user_input: Mapping[str, Any]) -> str:
    """The topic typed, without a trailing wildcard or slash."""
    return str(user_input[CONF_METER_TOPIC]).strip().rstrip("/#")


async def async_topic_errors(hass: HomeAssistant, topic: str) -> dict[str, str]:
    """A publish topic (no wildcards, not empty), and MQTT there to listen on it."""
    errors: dict[str, str] = {}
    try:
        mqtt.valid_publish_topic(topic)
    except vol.Invalid:
        errors[CONF_METER_TOPIC] = "invalid_topic"
    if not errors and not await mqtt.async_wait_for_mqtt_client(hass):
        errors["base"] = "mqtt_unavailable"
    return errors


def chosen_format(user_input: Mapping[str, Any]) -> MeterFormat | None:
    """The format the user chose; None to detect it from the first message."""
    chosen = user_input.get(CONF_METER_FORMAT, AUTO)
    return None if chosen == AUTO else MeterFormat(chosen)


def mqtt_values(meter: MeterSettings, topic: str) -> dict[str, Any]:
    """The MQTT form's values: the topic tried last, else the saved one."""
    return {
        CONF_METER_TOPIC: topic or meter.topic or "",
        CONF_METER_FORMAT: meter.format or AUTO,
    }


def listen_placeholders() -> dict[str, str]:
    """How long the MQTT step listens, for its description."""
    return {"seconds": f"{LISTEN_TIMEOUT_S:g}"}


def heard_placeholders(
    fmt: MeterFormat, topic: str, reading: MeterReading
) -> dict[str, str]:
    """What the confirm step shows: where the meter spoke, how, and what it said."""
    return {"topic": topic, "format": fmt.value, **describe(reading)}


# Entities: sensors that measure the place.


def chosen_entities(user_input: Mapping[str, Any]) -> dict[str, str]:
    """The sensors the user picked (the fields left empty dropped)."""
    return {key: value for key, value in user_input.items() if value}


def entity_errors(hass: HomeAssistant, chosen: Mapping[str, str]) -> dict[str, str]:
    """Each phase needs a sensor, and each sensor a current or power unit."""
    if not any(chosen.get(key) for key in CONF_METER_PHASES):
        # Balancing needs each phase; total power alone cannot say which.
        return {"base": "phases_required"}
    errors: dict[str, str] = {}
    for key, entity_id in chosen.items():
        state = hass.states.get(entity_id)
        unit = state.attributes.get(ATTR_UNIT_OF_MEASUREMENT) if state else None
        phase = None if key == CONF_METER_POWER else CONF_METER_PHASES.index(key)
        try:
            entity_reading(phase, "0", unit)
        except InvalidPayload:
            errors[key] = "wrong_unit"
    return errors


def entities_meter(chosen: Mapping[str, str]) -> dict[str, Any]:
    """The meter options of the chosen sensors; the others cleared."""
    return {
        CONF_METER_SOURCE: MeterSource.ENTITIES.value,
        CONF_METER_POWER: chosen.get(CONF_METER_POWER),
        **{key: chosen.get(key) for key in CONF_METER_PHASES},
    }


def entities_values(meter: MeterSettings) -> dict[str, Any]:
    """The entities form's values: the saved sensors."""
    return {
        CONF_METER_POWER: meter.power_entity,
        **dict(zip(CONF_METER_PHASES, meter.phase_entities, strict=True)),
    }


# Load balancing.


def balancing_options(user_input: Mapping[str, Any]) -> dict[str, float]:
    """The balancing options of a valid form (numbers as floats)."""
    return {key: float(user_input[key]) for key in RANGES}


def balancing_values(meter: MeterSettings) -> dict[str, float]:
    """The balancing form's values: the saved ones, else the defaults."""
    return {key: getattr(meter, key) for key in RANGES}


# Discovery: an AMS reader announced itself on Home Assistant's MQTT topic.


def meter_in_use(entries: Iterable[ConfigEntry], topic: str) -> bool:
    """Whether a place already reads the meter on ``topic``."""
    return any(meter_of(entry).topic == topic for entry in entries)
