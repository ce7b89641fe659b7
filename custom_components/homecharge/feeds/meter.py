"""
The meter feed: readings from Home Assistant's MQTT integration or entities.

An adapter only: it subscribes, hands every payload to the pure parsers and
passes readings (or the reason a payload was refused) on. It never opens an
MQTT connection of its own.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import suppress
import logging

from homeassistant.components import mqtt
from homeassistant.const import ATTR_UNIT_OF_MEASUREMENT
from homeassistant.core import (
    CALLBACK_TYPE,
    Event,
    EventStateChangedData,
    HomeAssistant,
    callback,
)
from homeassistant.helpers.event import async_track_state_change_event

from ..logic.meter_formats import (
    InvalidPayload,
    MeterFormat,
    MeterReading,
    parse_message,
    subscription_topics,
)
from ..logic.meter_settings import MeterSettings, MeterSource
from ..logic.meter_state import entity_reading

_LOGGER = logging.getLogger(__name__)

type ReadingCallback = Callable[[MeterReading], None]
type InvalidCallback = Callable[[str], None]


async def async_start_feed(
    hass: HomeAssistant,
    settings: MeterSettings,
    on_reading: ReadingCallback,
    on_invalid: InvalidCallback,
) -> CALLBACK_TYPE | None:
    """Start the feed the settings describe; None when there is none to start."""
    if settings.source is MeterSource.MQTT and settings.topic and settings.format:
        return await _async_start_mqtt(
            hass, settings.topic, settings.format, on_reading, on_invalid
        )
    if settings.source is MeterSource.ENTITIES:
        return _start_entities(hass, settings, on_reading, on_invalid)
    return None


async def _async_start_mqtt(
    hass: HomeAssistant,
    topic: str,
    fmt: MeterFormat,
    on_reading: ReadingCallback,
    on_invalid: InvalidCallback,
) -> CALLBACK_TYPE | None:
    if not await mqtt.async_wait_for_mqtt_client(hass):
        # The watchdog turns the silence into the fail-safe and a repair.
        _LOGGER.warning("MQTT is not available; the meter on %s is not read", topic)
        return None

    @callback
    def message(msg: mqtt.ReceiveMessage) -> None:
        try:
            reading = parse_message(fmt, topic, msg.topic, msg.payload)
        except InvalidPayload as err:
            on_invalid(err.reason)
            return
        if reading is not None and not reading.empty:
            on_reading(reading)

    unsubscribes = [
        await mqtt.async_subscribe(hass, topic_filter, message, qos=0, encoding=None)
        for topic_filter in subscription_topics(fmt, topic)
    ]

    @callback
    def stop() -> None:
        for unsubscribe in unsubscribes:
            unsubscribe()

    return stop


def _start_entities(
    hass: HomeAssistant,
    settings: MeterSettings,
    on_reading: ReadingCallback,
    on_invalid: InvalidCallback,
) -> CALLBACK_TYPE:
    # Which phase each entity reports (None: the total power).
    phase_of: dict[str, int | None] = {
        entity_id: phase
        for phase, entity_id in enumerate(settings.phase_entities)
        if entity_id
    }
    if settings.power_entity:
        phase_of[settings.power_entity] = None

    @callback
    def changed(event: Event[EventStateChangedData]) -> None:
        state = event.data["new_state"]
        if state is None:
            return
        try:
            reading = entity_reading(
                phase_of[event.data["entity_id"]],
                state.state,
                state.attributes.get(ATTR_UNIT_OF_MEASUREMENT),
            )
        except InvalidPayload as err:
            on_invalid(err.reason)
            return
        on_reading(reading)

    unsubscribe = async_track_state_change_event(hass, list(phase_of), changed)
    # What the sensors say now counts as the first reading (after a restart
    # they may not change for a while).
    for entity_id, phase in phase_of.items():
        if (state := hass.states.get(entity_id)) is not None:
            with suppress(InvalidPayload):
                on_reading(
                    entity_reading(
                        phase,
                        state.state,
                        state.attributes.get(ATTR_UNIT_OF_MEASUREMENT),
                    )
                )
    return unsubscribe
