"""Every field of every step of every flow has a label and a description.

The steps are not read from en.json (that would only find the fields someone
remembered to translate) but shown: each flow is driven through Home
Assistant's own flow managers far enough to show every one of its steps, and
each field of each form's schema is looked up in every language. A step the
walks do not show fails the test too, so a new step needs a walk.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
import json
from pathlib import Path
from typing import Any

import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_mqtt_message,
)

from custom_components.homecharge.config_flow import HomeChargeConfigFlow
from custom_components.homecharge.const import (
    DOMAIN,
    SUBENTRY_CHARGER,
    SUBENTRY_PERSON,
    SUBENTRY_REIMBURSEMENT,
    SUBENTRY_VEHICLE,
)
from custom_components.homecharge.flows.charger import ChargerSubentryFlow
from custom_components.homecharge.flows.options import PlaceOptionsFlow
from custom_components.homecharge.flows.person import PersonSubentryFlow
from custom_components.homecharge.flows.reimbursement import (
    ReimbursementSubentryFlow,
)
from custom_components.homecharge.flows.vehicle import VehicleSubentryFlow
from homeassistant.config_entries import (
    SOURCE_INTEGRATION_DISCOVERY,
    SOURCE_MQTT,
    SOURCE_USER,
)
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResult, FlowResultType, section
from homeassistant.helpers.service_info.mqtt import MqttServiceInfo

from .conftest import PLACE_DATA
from .test_central import place_with_charger
from .test_charger_flow import CHARGER_FORM, DISCOVERY
from .test_config_flow import PLACE_FORM
from .test_reimbursement_flow import (
    DRIVER as REIMBURSEMENT_DRIVER,
    TARIFF as REIMBURSEMENT_TARIFF,
)

SOURCE = Path(__file__).parents[1] / "translations"
LANGUAGES = ("en", "nb", "da", "nl", "sv")
AMS = Path(__file__).parent / "fixtures" / "ams"
# Discovery entry points: they show the confirm step, not a form of their own.
NOT_SHOWN = {"integration_discovery", "mqtt"}
# Steps of one flow that show the next step's form, none of their own.
PASSED_THROUGH = {"config_subentries.reimbursement": {"reconfigure"}}


class Shown:
    """The steps a walk showed, and the fields of each form."""

    def __init__(self) -> None:
        """Nothing shown yet."""
        self.fields: dict[str, set[str]] = {}

    def __call__(self, result: FlowResult[Any, Any]) -> FlowResult[Any, Any]:
        """Note a shown step (a form, a menu, a progress) and pass it on."""
        shown = (FlowResultType.FORM, FlowResultType.MENU, FlowResultType.SHOW_PROGRESS)
        assert result["type"] in shown, result
        step = self.fields.setdefault(result["step_id"], set())
        if result["type"] is FlowResultType.FORM:
            schema = result["data_schema"]
            assert schema is not None, result["step_id"]
            for key, value in schema.schema.items():
                if isinstance(value, section):
                    # A section's fields: sections.<name>.data and data_description.
                    step |= {f"sections.{key}.{field}" for field in value.schema.schema}
                    step.add(f"sections.{key}")
                else:
                    step.add(str(key))
        return result


async def _loaded(hass: HomeAssistant, entry: MockConfigEntry) -> MockConfigEntry:
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    return entry


def _ams_discovery() -> MqttServiceInfo:
    topic, payload = json.loads((AMS / "ams_homeassistant_messages.json").read_text())[
        0
    ]
    return MqttServiceInfo(
        topic=topic,
        payload=payload,
        qos=0,
        retain=True,
        subscribed_topic="homeassistant/sensor/+/config",
        timestamp=0,
    )


async def _walk_config(hass: HomeAssistant, shown: Shown) -> None:
    """A new place (fixed price), reconfiguring one, both discoveries."""
    place = await _loaded(
        hass,
        MockConfigEntry(
            domain=DOMAIN,
            title="Home",
            data={**PLACE_DATA, "accept_new_chargers": True},
        ),
    )
    flow = hass.config_entries.flow
    result = shown(await flow.async_init(DOMAIN, context={"source": SOURCE_USER}))
    result = shown(
        await flow.async_configure(
            result["flow_id"], {**PLACE_FORM, "name": "Cabin", "cost_basis": "fixed"}
        )
    )
    assert result["step_id"] == "price_area"
    result = shown(await flow.async_configure(result["flow_id"], {"price_area": "NO1"}))
    assert result["step_id"] == "fixed_price"

    shown(await place.start_reconfigure_flow(hass))
    # Whatever the charger reports, the confirm form has the same fields.
    result = shown(
        await flow.async_init(
            DOMAIN, context={"source": SOURCE_INTEGRATION_DISCOVERY}, data=DISCOVERY
        )
    )
    assert result["step_id"] == "discovery_confirm"
    result = shown(
        await flow.async_init(
            DOMAIN, context={"source": SOURCE_MQTT}, data=_ams_discovery()
        )
    )
    assert result["step_id"] == "meter_discovered"


async def _walk_options(hass: HomeAssistant, shown: Shown) -> None:
    """Every menu choice; the meter both ways, MQTT until the meter is heard."""
    place = await _loaded(
        hass, MockConfigEntry(domain=DOMAIN, title="Home", data=PLACE_DATA)
    )
    options = hass.config_entries.options

    async def choose(step: str) -> Any:
        result = shown(await options.async_init(place.entry_id))
        assert step in result["menu_options"]
        return shown(
            await options.async_configure(result["flow_id"], {"next_step_id": step})
        )

    for step in ("prices", "smart_charging", "load_balancing", "ocpp_server"):
        await choose(step)
    result = await choose("meter")
    shown(
        await options.async_configure(result["flow_id"], {"meter_source": "entities"})
    )
    result = await choose("meter")
    result = shown(
        await options.async_configure(result["flow_id"], {"meter_source": "mqtt"})
    )
    result = shown(
        await options.async_configure(
            result["flow_id"], {"meter_topic": "ams", "meter_format": "auto"}
        )
    )
    assert result["step_id"] == "meter_listen"
    reading = AMS / "kamstrup_list2_json_classic_issue1039.json"
    async_fire_mqtt_message(hass, "ams", reading.read_text())
    await hass.async_block_till_done()
    result = shown(await options.async_configure(result["flow_id"]))
    assert result["step_id"] == "meter_confirm"


async def _walk_charger(hass: HomeAssistant, shown: Shown) -> None:
    """A charger added by hand, and one changed."""
    place = await _loaded(hass, place_with_charger("CP-1"))
    subentries = hass.config_entries.subentries
    result = shown(
        await subentries.async_init(
            (place.entry_id, SUBENTRY_CHARGER), context={"source": SOURCE_USER}
        )
    )
    result = shown(await subentries.async_configure(result["flow_id"], CHARGER_FORM))
    assert result["step_id"] == "connect"
    subentry_id = next(
        subentry.subentry_id
        for subentry in place.subentries.values()
        if subentry.unique_id == "CP-1"
    )
    shown(await place.start_subentry_reconfigure_flow(hass, subentry_id))


async def _walk_vehicle(hass: HomeAssistant, shown: Shown) -> None:
    """A vehicle added, and changed."""
    place = await _loaded(hass, place_with_charger("CP-1"))
    subentries = hass.config_entries.subentries
    result = shown(
        await subentries.async_init(
            (place.entry_id, SUBENTRY_VEHICLE), context={"source": SOURCE_USER}
        )
    )
    result = await subentries.async_configure(
        result["flow_id"], {"name": "Car", "id_tags": ["CARD-1"]}
    )
    await hass.async_block_till_done()
    subentry_id = next(
        subentry.subentry_id
        for subentry in place.subentries.values()
        if subentry.subentry_type == SUBENTRY_VEHICLE
    )
    shown(await place.start_subentry_reconfigure_flow(hass, subentry_id))


async def _walk_person(hass: HomeAssistant, shown: Shown) -> None:
    """A person added, and changed."""
    place = await _loaded(hass, place_with_charger("CP-1"))
    subentries = hass.config_entries.subentries
    result = shown(
        await subentries.async_init(
            (place.entry_id, SUBENTRY_PERSON), context={"source": SOURCE_USER}
        )
    )
    result = await subentries.async_configure(
        result["flow_id"],
        {"name": "Kari", "mobile": "+4791234567", "chargers": ["CP-1"]},
    )
    await hass.async_block_till_done()
    subentry_id = next(
        subentry.subentry_id
        for subentry in place.subentries.values()
        if subentry.subentry_type == SUBENTRY_PERSON
    )
    shown(await place.start_subentry_reconfigure_flow(hass, subentry_id))


async def _walk_reimbursement(hass: HomeAssistant, shown: Shown) -> None:
    """A reimbursement added (fixed tariff: the bill too), and changed."""
    place = await _loaded(hass, place_with_charger("CP-1"))
    subentries = hass.config_entries.subentries
    result = shown(
        await subentries.async_init(
            (place.entry_id, SUBENTRY_REIMBURSEMENT), context={"source": SOURCE_USER}
        )
    )
    charger = next(
        sub.subentry_id
        for sub in place.subentries.values()
        if sub.subentry_type == SUBENTRY_CHARGER
    )
    for values in (
        {"consent": True},
        REIMBURSEMENT_DRIVER,
        {"vehicle": "typed", "vehicle_registration": "EV1"},
        {"chargers": [charger]},
        {},  # no rules
        {**REIMBURSEMENT_TARIFF, "basis": "slot_costs"},
        {"payout": "supplier"},
    ):
        result = shown(await subentries.async_configure(result["flow_id"], values))
    await subentries.async_configure(result["flow_id"], {"receiver": "none"})
    subentry_id = next(
        sub.subentry_id
        for sub in place.subentries.values()
        if sub.subentry_type == SUBENTRY_REIMBURSEMENT
    )
    result = shown(await place.start_subentry_reconfigure_flow(hass, subentry_id))
    for values in (
        REIMBURSEMENT_DRIVER,
        {"vehicle": "typed", "vehicle_registration": "EV1"},
        {"chargers": [charger]},
        {},  # no rules
    ):
        result = shown(await subentries.async_configure(result["flow_id"], values))
    # The bill step of a fixed tariff.
    shown(await subentries.async_configure(result["flow_id"], REIMBURSEMENT_TARIFF))


Walk = Callable[[HomeAssistant, Shown], Awaitable[None]]
FLOWS: dict[str, tuple[type, Walk]] = {
    "config": (HomeChargeConfigFlow, _walk_config),
    "options": (PlaceOptionsFlow, _walk_options),
    f"config_subentries.{SUBENTRY_CHARGER}": (ChargerSubentryFlow, _walk_charger),
    f"config_subentries.{SUBENTRY_VEHICLE}": (VehicleSubentryFlow, _walk_vehicle),
    f"config_subentries.{SUBENTRY_PERSON}": (PersonSubentryFlow, _walk_person),
    f"config_subentries.{SUBENTRY_REIMBURSEMENT}": (
        ReimbursementSubentryFlow,
        _walk_reimbursement,
    ),
}


def _steps(flow: type) -> set[str]:
    """The steps a flow class and our bases define (not those of HA's base class)."""
    return {
        name.removeprefix("async_step_")
        for cls in flow.__mro__
        if cls.__module__.startswith("custom_components.")
        for name in vars(cls)
        if name.startswith("async_step_")
    }


async def test_every_subentry_flow_is_walked(place_entry: MockConfigEntry) -> None:
    """A new kind of subentry (a vehicle, say) needs a walk of its own."""
    supported = HomeChargeConfigFlow.async_get_supported_subentry_types(place_entry)
    for kind, flow in supported.items():
        assert FLOWS[f"config_subentries.{kind}"][0] is flow


@pytest.mark.parametrize("section", list(FLOWS))
async def test_every_field_is_labelled_and_described(
    hass: HomeAssistant, mqtt_mock: Any, section: str
) -> None:
    """Each field of each step shown has data and data_description everywhere."""
    flow, walk = FLOWS[section]
    shown = Shown()
    await walk(hass, shown)
    passed = PASSED_THROUGH.get(section, set())
    assert _steps(flow) - NOT_SHOWN - passed - set(shown.fields) == set(), (
        "steps not walked"
    )
    missing: list[str] = []
    for lang in LANGUAGES:
        tree: dict[str, Any] = json.loads(
            (SOURCE / f"{lang}.json").read_text(encoding="utf-8")
        )
        for part in section.split("."):
            tree = tree.get(part, {})
        for step, fields in sorted(shown.fields.items()):
            strings = tree.get("step", {}).get(step, {})
            for field in sorted(fields):
                labels, name, kinds = strings, field, ("data", "data_description")
                if field.startswith("sections."):
                    _, key, *inner = field.split(".")
                    labels = strings.get("sections", {}).get(key, {})
                    if not inner:
                        labels, name, kinds = {"name": labels}, "name", ("name",)
                    else:
                        name = inner[0]
                missing += [
                    f"{lang}: {section}.step.{step}.{kind}.{field}"
                    for kind in kinds
                    if not str(labels.get(kind, {}).get(name, "")).strip()
                ]
    assert not missing, "no label or description:\n" + "\n".join(missing)
