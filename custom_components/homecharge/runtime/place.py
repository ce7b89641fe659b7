"""The place's live state, pushed to its entities."""

from __future__ import annotations

import logging

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator

from ..const import DOMAIN
from ..logic.place import PlaceSettings

_LOGGER = logging.getLogger(__name__)


class PlaceCoordinator(DataUpdateCoordinator[PlaceSettings]):
    """
    Holds a place's settings; push only, it never polls.

    Settings change from the config entry (reconfigure, options, entities); the
    update listener hands the new settings here and every entity refreshes.
    """

    config_entry: ConfigEntry

    def __init__(
        self, hass: HomeAssistant, entry: ConfigEntry, settings: PlaceSettings
    ) -> None:
        """Start with the settings the entry holds now."""
        super().__init__(
            hass, _LOGGER, config_entry=entry, name=f"{DOMAIN} {settings.name}"
        )
        self.data = settings
