"""A figure on a subentry's own device below the place (a person, a driver).

Shared by the people's usage sensors (``person_sensors.py``) and the
reimbursements' (``reimbursement_sensors.py``): the device, money in the
household's currency, and a new state at each change of the ledger and at
midnight (a new day or month starts its figures afresh).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from homeassistant.components.sensor import SensorEntity, SensorEntityDescription
from homeassistant.config_entries import ConfigEntry
from homeassistant.core import callback
from homeassistant.helpers.device_registry import DeviceEntryType, DeviceInfo
from homeassistant.helpers.event import async_track_time_change

from .const import DOMAIN


@dataclass(frozen=True, kw_only=True)
class SubentrySensorDescription(SensorEntityDescription):
    """A figure; ``money``: in the household's currency."""

    money: bool = False


class SubentrySensor(SensorEntity):
    """A figure of a subentry, on its device, following the ledger."""

    _attr_has_entity_name = True
    _attr_should_poll = False
    entity_description: SubentrySensorDescription

    def __init__(
        self,
        entry: ConfigEntry,
        subentry_id: str,
        description: SubentrySensorDescription,
    ) -> None:
        """On the subentry's own device, below the place."""
        self.entity_description = description
        self._entry = entry
        self._attr_unique_id = f"{subentry_id}_{description.key}"
        self._attr_device_info = DeviceInfo(
            identifiers={(DOMAIN, subentry_id)},
            name=entry.subentries[subentry_id].title,
            entry_type=DeviceEntryType.SERVICE,
            via_device=(DOMAIN, entry.entry_id),
        )

    async def async_added_to_hass(self) -> None:
        """Follow the ledger and the day's (and month's) start."""
        await super().async_added_to_hass()
        if self.entity_description.money:
            self._attr_native_unit_of_measurement = self.hass.config.currency
        sessions = self._entry.runtime_data.sessions
        self.async_on_remove(sessions.async_add_listener(self._changed))
        self.async_on_remove(
            async_track_time_change(self.hass, self._tick, hour=0, minute=0, second=0)
        )

    @callback
    def _changed(self) -> None:
        self.async_write_ha_state()

    @callback
    def _tick(self, _now: datetime) -> None:
        self.async_write_ha_state()
