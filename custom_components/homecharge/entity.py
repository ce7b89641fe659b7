"""Base entities: on a place's device, and on a charger's device below it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from typing import TYPE_CHECKING, Final

from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.entity import Entity, EntityDescription
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.update_coordinator import CoordinatorEntity

from .central.session import SessionError
from .const import DOMAIN
from .logic.access import Person, Right
from .runtime.balancing import PlaceBalancer
from .runtime.charger import ChargerCoordinator
from .runtime.place import PlaceCoordinator, async_update_place
from .runtime.rights import async_guest
from .runtime.scheduling import PlaceScheduler
from .runtime.sessions import PlaceSessions

if TYPE_CHECKING:
    from . import HomeChargeConfigEntry as ConfigEntry


def _attach_to_place(
    entity: Entity, entry_id: str, description: EntityDescription
) -> None:
    """Describe a place entity and put it on the place's device."""
    entity.entity_description = description
    entity._attr_unique_id = f"{entry_id}_{description.key}"  # noqa: SLF001
    entity._attr_device_info = DeviceInfo(identifiers={(DOMAIN, entry_id)})  # noqa: SLF001


class PlaceEntity(CoordinatorEntity[PlaceCoordinator]):
    """An entity on a place's device."""

    _attr_has_entity_name = True

    def __init__(
        self, coordinator: PlaceCoordinator, description: EntityDescription
    ) -> None:
        """Attach the entity to its place's device."""
        super().__init__(coordinator)
        _attach_to_place(self, coordinator.config_entry.entry_id, description)

    async def async_write_setting(self, value: object) -> None:
        """Store a new value of this entity's setting in the place's config."""
        await async_guest(
            self.hass, self.coordinator.config_entry, self._context, Right.SETTINGS
        )
        await async_update_place(
            self.hass,
            self.coordinator.config_entry,
            {self.entity_description.key: value},
        )


class LoadEntity(CoordinatorEntity[PlaceBalancer]):
    """A meter or load-balancing entity on a place's device."""

    _attr_has_entity_name = True

    def __init__(
        self, coordinator: PlaceBalancer, description: EntityDescription
    ) -> None:
        """Attach the entity to its place's device."""
        super().__init__(coordinator)
        _attach_to_place(self, coordinator.config_entry.entry_id, description)


# Entities of the charger as a whole: on its own device only, not repeated
# on the device of each further connector.
CHARGER_WIDE: Final = frozenset(
    {
        "connected",
        "access_lock",
        "restart",
        "enabled",
        "last_heartbeat",
        "circuit_fuse",
        "max_current",
        "opens",
        "closes",
    }
)


def add_charger_entities[D: EntityDescription](
    entry: ConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
    descriptions: Iterable[D],
    build: Callable[[ChargerCoordinator, D], Entity],
) -> None:
    """Each charger's entities, and each further connector's own ones."""
    descriptions = tuple(descriptions)
    for charger in entry.runtime_data.chargers.values():
        async_add_entities(
            (
                build(charger, description)
                for description in descriptions
                if charger.is_station or description.key not in CHARGER_WIDE
            ),
            config_subentry_id=charger.subentry_id,
        )


def charger_device(coordinator: ChargerCoordinator) -> DeviceInfo:
    """A charger's device below its place; a further connector's below it."""
    config = coordinator.config
    if not coordinator.is_station:
        return DeviceInfo(
            identifiers={(DOMAIN, coordinator.device_key)},
            translation_key="connector",
            translation_placeholders={
                "charger": config.name,
                "connector": str(coordinator.connector_id),
            },
            via_device=(DOMAIN, config.charge_point_id),
        )
    boot = coordinator.data.boot
    return DeviceInfo(
        identifiers={(DOMAIN, config.charge_point_id)},
        name=config.name,
        manufacturer=config.manufacturer or (boot.vendor if boot else None),
        model=config.model or (boot.model if boot else None),
        serial_number=config.serial or (boot.serial if boot else None),
        sw_version=boot.firmware if boot else None,
        via_device=(DOMAIN, coordinator.config_entry.entry_id),
    )


class ChargerEntity(CoordinatorEntity[ChargerCoordinator]):
    """An entity on a charger's (or a further connector's) device."""

    _attr_has_entity_name = True

    def __init__(
        self, coordinator: ChargerCoordinator, description: EntityDescription
    ) -> None:
        """Attach the entity to its charger's device."""
        super().__init__(coordinator)
        self.entity_description = description
        self._attr_unique_id = f"{coordinator.device_key}_{description.key}"
        self._attr_device_info = charger_device(coordinator)

    async def async_guest(self, right: Right = Right.SETTINGS) -> Person | None:
        """The person the caller is, if he may do this here (runtime/rights.py)."""
        coordinator = self.coordinator
        return await async_guest(
            self.hass,
            coordinator.config_entry,
            self._context,
            right,
            coordinator.config.charge_point_id,
        )

    async def async_command(self, command: Awaitable[bool]) -> None:
        """Run a charger command; offline or refused becomes a clear error."""
        try:
            accepted = await command
        except SessionError as err:
            raise HomeAssistantError(
                translation_domain=DOMAIN,
                translation_key="charger_unreachable",
                translation_placeholders={"charger": self.coordinator.display_name},
            ) from err
        if not accepted:
            raise HomeAssistantError(
                translation_domain=DOMAIN,
                translation_key="command_rejected",
                translation_placeholders={"charger": self.coordinator.display_name},
            )


class ChargerPlanEntity(CoordinatorEntity[PlaceScheduler]):
    """A charger's smart-charging plan, on the charger's device."""

    _attr_has_entity_name = True

    def __init__(
        self,
        coordinator: PlaceScheduler,
        charger: ChargerCoordinator,
        description: EntityDescription,
    ) -> None:
        """Attach the entity to the charger's device (made by its other entities)."""
        super().__init__(coordinator)
        self.entity_description = description
        self.charger = charger
        self._attr_unique_id = f"{charger.device_key}_{description.key}"
        self._attr_device_info = DeviceInfo(identifiers={(DOMAIN, charger.device_key)})


class SchedulePlaceEntity(CoordinatorEntity[PlaceScheduler]):
    """A place-wide view of the smart-charging plan, on the place's device."""

    _attr_has_entity_name = True

    def __init__(
        self, coordinator: PlaceScheduler, description: EntityDescription
    ) -> None:
        """Attach the entity to its place's device."""
        super().__init__(coordinator)
        _attach_to_place(self, coordinator.config_entry.entry_id, description)


class SessionsPlaceEntity(Entity):
    """A view of the place's charging sessions, on the place's device."""

    _attr_has_entity_name = True
    _attr_should_poll = False

    def __init__(
        self, sessions: PlaceSessions, entry_id: str, description: EntityDescription
    ) -> None:
        """Attach the entity to its place's device."""
        self.sessions = sessions
        _attach_to_place(self, entry_id, description)

    async def async_added_to_hass(self) -> None:
        """Follow the ledger."""
        self.async_on_remove(
            self.sessions.async_add_listener(self.async_write_ha_state)
        )
