"""Switches: charging, smart charging and availability; a place's new chargers and load balancing."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from homeassistant.components.switch import SwitchEntity, SwitchEntityDescription
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from . import HomeChargeConfigEntry
from .const import CONF_ACCEPT_NEW_CHARGERS
from .entity import ChargerEntity, LoadEntity, PlaceEntity, add_charger_entities
from .logic.access import Person, Right
from .logic.meter_settings import CONF_LOAD_BALANCING
from .runtime.charger import ChargerCoordinator
from .runtime.rights import async_guest

# One command at a time per charger is what vendors tolerate.
PARALLEL_UPDATES = 1


async def _immediately(result: bool) -> bool:
    return result


@dataclass(frozen=True, kw_only=True)
class ChargerSwitchDescription(SwitchEntityDescription):
    """A charger function that is on or off."""

    is_on_fn: Callable[[ChargerCoordinator], bool]
    # The person a guest's user is (None: anyone else) comes along.
    turn_fn: Callable[[ChargerCoordinator, bool, Person | None], Awaitable[bool]]
    right: Right = Right.SETTINGS


def _set_smart(
    charger: ChargerCoordinator, on: bool, _person: Person | None
) -> Awaitable[bool]:
    charger.set_smart_charging(on)
    return _immediately(True)


CHARGER_SWITCHES: tuple[ChargerSwitchDescription, ...] = (
    ChargerSwitchDescription(
        key="charging",
        translation_key="charging",
        is_on_fn=lambda charger: charger.data.transaction_id is not None,
        turn_fn=lambda charger, on, person: (
            charger.async_start_charging(person)
            if on
            else charger.async_stop_charging()
        ),
        right=Right.CHARGE,
    ),
    ChargerSwitchDescription(
        key="smart_charging",
        translation_key="smart_charging",
        is_on_fn=lambda charger: charger.data.smart_charging,
        turn_fn=_set_smart,
        right=Right.SMART_CHARGING,
    ),
    ChargerSwitchDescription(
        key="enabled",
        translation_key="enabled",
        entity_category=EntityCategory.CONFIG,
        is_on_fn=lambda charger: charger.data.enabled,
        turn_fn=lambda charger, on, _person: charger.async_set_enabled(on),
    ),
)

ACCEPT_NEW_CHARGERS = SwitchEntityDescription(
    key=CONF_ACCEPT_NEW_CHARGERS,
    translation_key=CONF_ACCEPT_NEW_CHARGERS,
    entity_category=EntityCategory.CONFIG,
)


LOAD_BALANCING = SwitchEntityDescription(
    key=CONF_LOAD_BALANCING,
    translation_key=CONF_LOAD_BALANCING,
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: HomeChargeConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the place's and each charger's switches."""
    async_add_entities(
        [AcceptNewChargersSwitch(entry.runtime_data.coordinator, ACCEPT_NEW_CHARGERS)]
    )
    balancer = entry.runtime_data.balancer
    if balancer.meter.configured:
        async_add_entities([LoadBalancingSwitch(balancer, LOAD_BALANCING)])
    add_charger_entities(entry, async_add_entities, CHARGER_SWITCHES, ChargerSwitch)


class ChargerSwitch(ChargerEntity, SwitchEntity):
    """A charger function that is on or off."""

    entity_description: ChargerSwitchDescription

    @property
    def is_on(self) -> bool:
        """Whether it is on now."""
        return self.entity_description.is_on_fn(self.coordinator)

    async def async_turn_on(self, **kwargs: Any) -> None:
        """Turn it on."""
        await self._async_turn(True)

    async def async_turn_off(self, **kwargs: Any) -> None:
        """Turn it off."""
        await self._async_turn(False)

    async def _async_turn(self, on: bool) -> None:
        description = self.entity_description
        person = await self.async_guest(description.right)
        await self.async_command(description.turn_fn(self.coordinator, on, person))


class AcceptNewChargersSwitch(PlaceEntity, SwitchEntity):
    """While on, an unknown charger that connects is offered as a discovery."""

    @property
    def is_on(self) -> bool:
        """Whether the place accepts new chargers."""
        return self.coordinator.data.accept_new_chargers

    async def async_turn_on(self, **kwargs: Any) -> None:
        """Accept new chargers."""
        await self.async_write_setting(True)

    async def async_turn_off(self, **kwargs: Any) -> None:
        """Refuse unknown chargers again."""
        await self.async_write_setting(False)


class LoadBalancingSwitch(LoadEntity, SwitchEntity):
    """Whether the meter steers the chargers (the fail-safe included)."""

    @property
    def is_on(self) -> bool:
        """Whether load balancing is on."""
        return self.coordinator.data.balancing

    async def async_turn_on(self, **kwargs: Any) -> None:
        """Balance the chargers under the main fuse."""
        await self._async_guest()
        self._write(True)

    async def async_turn_off(self, **kwargs: Any) -> None:
        """Leave the chargers to their other limits."""
        await self._async_guest()
        self._write(False)

    async def _async_guest(self) -> None:
        await async_guest(
            self.hass, self.coordinator.config_entry, self._context, Right.SETTINGS
        )

    def _write(self, on: bool) -> None:
        entry = self.coordinator.config_entry
        self.hass.config_entries.async_update_entry(
            entry, options={**entry.options, CONF_LOAD_BALANCING: on}
        )
