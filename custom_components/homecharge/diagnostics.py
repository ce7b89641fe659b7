"""Diagnostics for a place, with personal data redacted."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from homeassistant.components.diagnostics import async_redact_data
from homeassistant.const import CONF_NAME
from homeassistant.core import HomeAssistant

from . import HomeChargeConfigEntry

# A place's name is often its street address.
TO_REDACT = {CONF_NAME, "title"}


async def async_get_config_entry_diagnostics(
    hass: HomeAssistant, entry: HomeChargeConfigEntry
) -> dict[str, Any]:
    """Return what a support request needs about a place."""
    return async_redact_data(
        {
            "entry": {
                "title": entry.title,
                "data": dict(entry.data),
                "options": dict(entry.options),
                "subentries": len(entry.subentries),
            },
            "settings": asdict(entry.runtime_data.coordinator.data),
        },
        TO_REDACT,
    )
