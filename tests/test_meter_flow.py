"""The meter and load-balancing options, and an AMS reader found over MQTT."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_mqtt_message,
)

from custom_components.homecharge.const import DOMAIN
from custom_components.homecharge.flows import meter as meter_flow
from homeassistant.config_entries import SOURCE_MQTT, ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers.service_info.mqtt import MqttServiceInfo

from .test_config_flow import assert_form_translated
from .test_load_balancer import list2

FIXTURES = Path(__file__).parent / "fixtures" / "ams"


async def _options(hass: HomeAssistant, entry: MockConfigEntry, step: str) -> Any:
    entry.add_to_hass(hass)
    if entry.state is not ConfigEntryState.LOADED:
        assert await hass.config_entries.async_setup(entry.entry_id)
        await hass.async_block_till_done()
    result = await hass.config_entries.options.async_init(entry.entry_id)
    return await hass.config_entries.options.async_configure(
        result["flow_id"], {"next_step_id": step}
    )


async def _choose(hass: HomeAssistant, flow_id: str, source: str) -> Any:
    return await hass.config_entries.options.async_configure(
        flow_id, {"meter_source": source}
    )


async def test_mqtt_meter_is_heard_shown_and_saved(
    hass: HomeAssistant, mqtt_mock: Any, place_entry: MockConfigEntry
) -> None:
    """Topic in, format detected from a real message, what it said shown, saved."""
    result = await _options(hass, place_entry, "meter")
    assert_form_translated(result, "options")
    result = await _choose(hass, result["flow_id"], "mqtt")
    assert_form_translated(result, "options")
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"meter_topic": "ams/", "meter_format": "auto"}
    )
    assert result["type"] is FlowResultType.SHOW_PROGRESS
    assert result["progress_action"] == "meter_listen"
    # Status messages on the topic are not readings; list 2 is.
    async_fire_mqtt_message(hass, "ams", '{"id": "x", "status": "up"}')
    async_fire_mqtt_message(
        hass,
        "ams",
        (FIXTURES / "kamstrup_list2_json_classic_issue1039.json").read_text(),
    )
    await hass.async_block_till_done()
    result = await hass.config_entries.options.async_configure(result["flow_id"])
    assert result["step_id"] == "meter_confirm"
    assert result["description_placeholders"] == {
        "topic": "ams",
        "format": "ams_json_classic",
        "power": "5314 W",
        "l1": "10.2 A",
        "l2": "10.27 A",
        "l3": "2.75 A",
    }
    result = await hass.config_entries.options.async_configure(result["flow_id"], {})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert place_entry.options == {
        "meter_source": "mqtt",
        "meter_topic": "ams",
        "meter_format": "ams_json_classic",
        "load_balancing": True,
    }
    # Another feed: the place reloads and shows its meter.
    await hass.async_block_till_done()
    async_fire_mqtt_message(hass, "ams", list2((10.0, 11.0, 12.0)))
    await hass.async_block_till_done()
    state = hass.states.get("sensor.home_grid_current_l3")
    assert state is not None
    assert state.state == "12.0"


async def test_a_chosen_format_is_listened_for_on_its_topics(
    hass: HomeAssistant, mqtt_mock: Any, place_entry: MockConfigEntry
) -> None:
    """dsmr-reader's split topics: its own subscriptions, kW read as W.

    Not under dsmr/: Home Assistant's dsmr_reader integration discovers
    itself there, and its flow would still be loading when the test ends.
    """
    result = await _options(hass, place_entry, "meter")
    result = await _choose(hass, result["flow_id"], "mqtt")
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"meter_topic": "p1/reading", "meter_format": "dsmr_split"}
    )
    # Not a number, and a topic without meter values: neither is the meter.
    async_fire_mqtt_message(hass, "p1/reading/electricity_currently_delivered", "lots")
    async_fire_mqtt_message(hass, "p1/reading/timestamp", "2026-11-21T10:00:00Z")
    async_fire_mqtt_message(hass, "p1/reading/electricity_currently_delivered", "1.5")
    await hass.async_block_till_done()
    result = await hass.config_entries.options.async_configure(result["flow_id"])
    assert result["description_placeholders"]["power"] == "1500 W"
    assert result["description_placeholders"]["l1"] == "–"


@pytest.mark.parametrize("topic", ["a/+/b", "  ", "a/#/b"])
async def test_topic_must_be_a_plain_topic(
    hass: HomeAssistant, mqtt_mock: Any, place_entry: MockConfigEntry, topic: str
) -> None:
    """Wildcards and empty topics are refused with a translated error."""
    result = await _options(hass, place_entry, "meter")
    result = await _choose(hass, result["flow_id"], "mqtt")
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"meter_topic": topic, "meter_format": "auto"}
    )
    assert result["errors"] == {"meter_topic": "invalid_topic"}
    assert_form_translated(result, "options")


async def test_a_silent_topic_says_so(
    hass: HomeAssistant,
    mqtt_mock: Any,
    place_entry: MockConfigEntry,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Nothing readable within the wait: back to the topic, with the reason."""
    monkeypatch.setattr(meter_flow, "LISTEN_TIMEOUT_S", 0.05)
    result = await _options(hass, place_entry, "meter")
    result = await _choose(hass, result["flow_id"], "mqtt")
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"meter_topic": "quiet", "meter_format": "auto"}
    )
    async_fire_mqtt_message(hass, "quiet", "garbage")
    async_fire_mqtt_message(hass, "quiet/list2", '{"data": {"P": NaN}}')
    await hass.async_block_till_done()
    result = await hass.config_entries.options.async_configure(result["flow_id"])
    assert result["step_id"] == "meter_mqtt"
    assert result["errors"] == {"base": "meter_not_heard"}
    assert_form_translated(result, "options")


async def test_mqtt_not_set_up(
    hass: HomeAssistant, place_entry: MockConfigEntry
) -> None:
    """Without Home Assistant's MQTT integration the step says what is missing."""
    result = await _options(hass, place_entry, "meter")
    result = await _choose(hass, result["flow_id"], "mqtt")
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"meter_topic": "ams", "meter_format": "auto"}
    )
    assert result["errors"] == {"base": "mqtt_unavailable"}
    assert_form_translated(result, "options")


async def test_no_meter(hass: HomeAssistant, place_entry: MockConfigEntry) -> None:
    """Choosing no meter turns the feed (and so load balancing) off."""
    place_entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(
        place_entry, options={"meter_source": "entities", "meter_l1": "sensor.x"}
    )
    result = await _options(hass, place_entry, "meter")
    result = await _choose(hass, result["flow_id"], "none")
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert place_entry.options["meter_source"] == "none"


async def test_sensors_as_the_meter(
    hass: HomeAssistant, place_entry: MockConfigEntry
) -> None:
    """Each phase needs a sensor; units must be a current or a power."""
    hass.states.async_set("sensor.l1", "5", {"unit_of_measurement": "A"})
    hass.states.async_set("sensor.l2", "5", {"unit_of_measurement": "A"})
    hass.states.async_set("sensor.l3", "1.2", {"unit_of_measurement": "kW"})
    hass.states.async_set("sensor.temp", "20", {"unit_of_measurement": "°C"})
    hass.states.async_set("sensor.grid", "900", {"unit_of_measurement": "W"})
    result = await _options(hass, place_entry, "meter")
    result = await _choose(hass, result["flow_id"], "entities")
    assert_form_translated(result, "options")
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"meter_power": "sensor.grid"}
    )
    assert result["errors"] == {"base": "phases_required"}
    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {"meter_l1": "sensor.l1", "meter_l2": "sensor.temp", "meter_l3": "sensor.l3"},
    )
    assert result["errors"] == {"meter_l2": "wrong_unit"}
    assert_form_translated(result, "options")
    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {
            "meter_power": "sensor.grid",
            "meter_l1": "sensor.l1",
            "meter_l2": "sensor.l2",
            "meter_l3": "sensor.l3",
        },
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert place_entry.options["meter_l3"] == "sensor.l3"
    await hass.async_block_till_done()
    state = hass.states.get("sensor.home_grid_import_power")
    assert state is not None
    assert state.state == "900.0"


@pytest.mark.parametrize(
    ("changes", "errors"),
    [
        ({"margin": 25}, {"margin": "margin_out_of_range"}),
        ({"meter_timeout": 1}, {"meter_timeout": "meter_timeout_out_of_range"}),
        ({"safe_current": 3}, {"safe_current": "safe_current_invalid"}),
        ({"safe_current": 70}, {"safe_current": "safe_current_invalid"}),
    ],
)
async def test_balancing_settings_are_checked(
    hass: HomeAssistant,
    place_entry: MockConfigEntry,
    changes: dict[str, float],
    errors: dict[str, str],
) -> None:
    """Out of range, or a safe current no car can use or the fuse cannot carry."""
    result = await _options(hass, place_entry, "load_balancing")
    assert_form_translated(result, "options")
    assert result["description_placeholders"] == {"main_fuse": "63"}
    valid = {
        "margin": 1,
        "raise_after": 60,
        "raise_interval": 10,
        "safe_current": 6,
        "meter_timeout": 30,
    }
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {**valid, **changes}
    )
    assert result["errors"] == errors
    assert_form_translated(result, "options")
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {**valid, "safe_current": 0, "margin": 2.5}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert place_entry.options["margin"] == 2.5
    assert place_entry.options["safe_current"] == 0.0
    # Applied live: no reload for a new margin.
    assert place_entry.runtime_data.balancer.meter.margin == 2.5


def _discovery(topic: str, payload: str) -> MqttServiceInfo:
    return MqttServiceInfo(
        topic=topic,
        payload=payload,
        qos=0,
        retain=True,
        subscribed_topic="homeassistant/sensor/+/config",
        timestamp=0,
    )


def _ams_discovery() -> MqttServiceInfo:
    topic, payload = json.loads(
        (FIXTURES / "ams_homeassistant_messages.json").read_text()
    )[0]
    return _discovery(topic, payload)


async def test_discovered_meter_is_offered_to_a_place(
    hass: HomeAssistant, mqtt_mock: Any, place_entry: MockConfigEntry
) -> None:
    """ "AMS meter found — use it for place X?": yes, and the place reads it."""
    place_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(place_entry.entry_id)
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_MQTT}, data=_ams_discovery()
    )
    assert result["step_id"] == "meter_discovered"
    assert result["description_placeholders"] == {"topic": "ams"}
    assert_form_translated(result)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"place": place_entry.entry_id}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "meter_added"
    assert place_entry.options["meter_format"] == "ams_homeassistant"
    assert place_entry.options["meter_topic"] == "ams"
    # The same meter again is known.
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_MQTT}, data=_ams_discovery()
    )
    assert result["reason"] == "meter_in_use"


async def test_discovered_meter_for_an_unknown_place(
    hass: HomeAssistant, mqtt_mock: Any, place_entry: MockConfigEntry
) -> None:
    """A place that is not (any more) offered is refused on the field."""
    place_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(place_entry.entry_id)
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_MQTT}, data=_ams_discovery()
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"place": "nowhere"}
    )
    assert result["step_id"] == "meter_discovered"
    assert result["errors"] == {"place": "unknown_place"}
    assert_form_translated(result)
    assert "meter_topic" not in place_entry.options


async def test_other_devices_discovery_is_ignored(hass: HomeAssistant) -> None:
    """Every device's discovery shares the topic: anything else aborts quietly."""
    payload = json.dumps({"name": "Kitchen temperature", "stat_t": "zigbee/kitchen"})
    result = await hass.config_entries.flow.async_init(
        DOMAIN,
        context={"source": SOURCE_MQTT},
        data=_discovery("homeassistant/sensor/kitchen/config", payload),
    )
    assert result["reason"] == "not_a_meter"


async def test_discovered_meter_without_a_place(hass: HomeAssistant) -> None:
    """No place yet: the user is told to add one first."""
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_MQTT}, data=_ams_discovery()
    )
    assert result["reason"] == "no_places"
