"""Time entities of a charger: its opening hours and when the car must be ready."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time

from homeassistant.components.time import TimeEntity, TimeEntityDescription
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from . import HomeChargeConfigEntry
from .const import CONF_CLOSES, CONF_OPENS
from .entity import ChargerEntity, add_charger_entities
from .logic.availability import parse_time
from .logic.plan_settings import CONF_READY_BY, DEFAULT_READY_BY

# Settings are written to the charger's subentry; nothing here talks to it.
PARALLEL_UPDATES = 0


@dataclass(frozen=True, kw_only=True)
class ChargerTimeDescription(TimeEntityDescription):
    """A time of day a charger setting holds."""

    default: str | None = None


TIMES: tuple[ChargerTimeDescription, ...] = (
    *(
        ChargerTimeDescription(
            key=key, translation_key=key, entity_category=EntityCategory.CONFIG
        )
        for key in (CONF_OPENS, CONF_CLOSES)
    ),
    # The daily ready-by time: a setting users change often, so not CONFIG.
    ChargerTimeDescription(
        key=CONF_READY_BY, translation_key=CONF_READY_BY, default=DEFAULT_READY_BY
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: HomeChargeConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add each charger's opening hours."""
    add_charger_entities(entry, async_add_entities, TIMES, ChargerTime)


class ChargerTime(ChargerEntity, TimeEntity):
    """When the charger opens or closes each day."""

    entity_description: ChargerTimeDescription

    @property
    def native_value(self) -> time:
        """The time now set."""
        value = self.coordinator.setting(self.entity_description.key)
        return parse_time(value or self.entity_description.default)

    async def async_set_value(self, value: time) -> None:
        """Store it in the charger's subentry (the connector's); it applies at once."""
        await self.async_guest()
        self.coordinator.update_subentry(
            {
                self.coordinator.setting_key(
                    self.entity_description.key
                ): value.isoformat()
            }
        )
