"""Select entities: a place's cost basis; a charger's last session, personal or work.

The last session's select is the per-session half of multi EV mode (the
seed app's *privat/arbejde* toggle): on chargers a reimbursement covers, it
shows the running or last session's classification and changes it in the
ledger (listed with who changed it, as ``homecharge.update_session`` does).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from homeassistant.components.select import SelectEntity, SelectEntityDescription
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from . import HomeChargeConfigEntry
from .const import CONF_COST_BASIS, DOMAIN
from .entity import ChargerEntity, PlaceEntity
from .logic.place import CostBasis, PlaceSettings
from .logic.sessions.model import Classification, Session
from .runtime.charger import ChargerCoordinator
from .runtime.reimbursement import covered_chargers
from .runtime.sessions import PlaceSessions

# Settings are written to the config entry; nothing here talks to a device.
PARALLEL_UPDATES = 0


@dataclass(frozen=True, kw_only=True)
class PlaceSelectDescription(SelectEntityDescription):
    """A place setting shown as a select."""

    value_fn: Callable[[PlaceSettings], str]


SELECTS: tuple[PlaceSelectDescription, ...] = (
    PlaceSelectDescription(
        key=CONF_COST_BASIS,
        translation_key=CONF_COST_BASIS,
        entity_category=EntityCategory.CONFIG,
        options=[basis.value for basis in CostBasis],
        value_fn=lambda settings: settings.cost_basis.value,
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: HomeChargeConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add a place's select entities."""
    coordinator = entry.runtime_data.coordinator
    async_add_entities(PlaceSelect(coordinator, description) for description in SELECTS)
    covered = covered_chargers(entry)
    sessions = entry.runtime_data.sessions
    registry = er.async_get(hass)
    for charger in entry.runtime_data.chargers.values():
        if charger.subentry_id in covered:
            async_add_entities(
                [LastSessionSelect(charger, LAST_SESSION, sessions)],
                config_subentry_id=charger.subentry_id,
            )
        elif entity_id := registry.async_get_entity_id(
            "select", DOMAIN, f"{charger.device_key}_{LAST_SESSION.key}"
        ):
            # No longer covered: its select goes (not left unavailable).
            registry.async_remove(entity_id)


class PlaceSelect(PlaceEntity, SelectEntity):
    """A place setting with a fixed set of choices."""

    entity_description: PlaceSelectDescription

    @property
    def current_option(self) -> str:
        """The chosen option."""
        return self.entity_description.value_fn(self.coordinator.data)

    async def async_select_option(self, option: str) -> None:
        """Store the choice in the place's config entry."""
        await self.async_write_setting(option)


LAST_SESSION = SelectEntityDescription(
    key="last_session_classification",
    translation_key="last_session_classification",
    options=[classification.value for classification in Classification],
)


class LastSessionSelect(ChargerEntity, SelectEntity):
    """The running or last session of a connector: personal or work."""

    def __init__(
        self,
        coordinator: ChargerCoordinator,
        description: SelectEntityDescription,
        sessions: PlaceSessions,
    ) -> None:
        """Read and change the place's ledger."""
        super().__init__(coordinator, description)
        self._sessions = sessions

    async def async_added_to_hass(self) -> None:
        """Follow the ledger (a session starts, ends or is classified)."""
        await super().async_added_to_hass()
        self.async_on_remove(
            self._sessions.async_add_listener(self._handle_coordinator_update)
        )

    def _session(self) -> Session | None:
        key = (self.coordinator.config.charge_point_id, self.coordinator.connector_id)
        return self._sessions.running(*key) or self._sessions.last_finished(*key)

    @property
    def available(self) -> bool:
        """Unavailable until the connector has a session."""
        return super().available and self._session() is not None

    @property
    def current_option(self) -> str | None:
        """The session's classification."""
        session = self._session()
        return None if session is None else session.classification.value

    async def async_select_option(self, option: str) -> None:
        """Classify the session (listed with who did it)."""
        session = self._session()
        if session is None:
            raise ServiceValidationError(
                translation_domain=DOMAIN, translation_key="no_session"
            )
        self._sessions.amend(
            session.key,
            by=self._context.user_id if self._context else None,
            classification=option,
        )
