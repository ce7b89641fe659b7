"""The README's automation and script examples are valid Home Assistant config.

Each YAML block of the section is read and checked as Home Assistant checks
an automation or a script when it is saved (its triggers, conditions and
actions), and every homecharge action it calls is one homecharge has, with
fields its schema accepts.
"""

from __future__ import annotations

from pathlib import Path
import re
from typing import Any

import pytest
import yaml

from homeassistant.components.automation.config import async_validate_config_item
from homeassistant.core import HomeAssistant
from homeassistant.helpers import config_validation as cv
from homeassistant.setup import async_setup_component

from .test_central import place_with_charger

README = (Path(__file__).parent.parent / "README.md").read_text()
SECTION = README.split("## Automation and script examples", 1)[1].split("\n## ", 1)[0]
# What a templated field of the examples renders to, for its schema.
TEMPLATED = {"time": "07:00"}
BLOCKS = [
    yaml.safe_load(block) for block in re.findall(r"```yaml\n(.*?)```", SECTION, re.S)
]


def _actions(config: Any) -> list[dict[str, Any]]:
    """Every action call in a block (a script's sequence, an automation's actions)."""
    if isinstance(config, dict):
        found = [config] if "action" in config else []
        return found + [a for value in config.values() for a in _actions(value)]
    if isinstance(config, list):
        return [a for item in config for a in _actions(item)]
    return []


def test_the_section_has_examples() -> None:
    assert len(BLOCKS) >= 5


@pytest.mark.parametrize("config", BLOCKS)
async def test_an_example_is_valid_config(hass: HomeAssistant, config: Any) -> None:
    """As the automation or script editor would save it."""
    entry = place_with_charger("CP-1")
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    assert await async_setup_component(hass, "homeassistant", {})
    if "triggers" in config:
        checked = await async_validate_config_item(hass, "example", config)
        assert checked is not None
        assert checked.validation_error is None, checked.validation_error
    elif "sequence" in config:
        cv.SCRIPT_SCHEMA(config["sequence"])
    else:
        cv.SCRIPT_SCHEMA([config])
    for call in _actions(config):
        domain, service = call["action"].split(".", 1)
        if domain != "homecharge":
            continue
        assert hass.services.has_service(domain, service), call["action"]
        schema = hass.services.async_services_for_domain(domain)[service].schema
        data = {
            # A template is rendered when the action runs: a value it gives.
            key: TEMPLATED[key] if isinstance(value, str) and "{{" in value else value
            for key, value in call.get("data", {}).items()
        }
        assert schema is not None
        schema(data)
