"""A place at runtime: what a loaded config entry holds, and how it is read.

``PlaceRuntime`` is the config entry's runtime data (the place's controller:
its settings coordinator, chargers, balancer and scheduler); the readers turn
the entry's data and options into the pure settings the logic takes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
import logging
from typing import Any

from homeassistant.config_entries import ConfigEntry, ConfigEntryState
from homeassistant.core import CALLBACK_TYPE, HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.storage import Store
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator

from ..central.server import CentralSystem
from ..const import (
    CONF_CHARGE_POINT_ID,
    DOMAIN,
    STORAGE_VERSION,
    SUBENTRY_CHARGER,
    SUBENTRY_VEHICLE,
)
from ..logic.meter_settings import MeterSettings
from ..logic.place import MAX_MAIN_FUSE, MIN_MAIN_FUSE, PlaceSettings, validate_place
from ..logic.plan_settings import PlanSettings
from ..logic.vehicles import Vehicle
from .balancing import PlaceBalancer
from .charger import ChargerCoordinator
from .charger_state import ChargerState
from .phones import PlacePhones
from .receivers import ReceiverSync
from .saving import ThrottledSave
from .scheduling import PlaceScheduler
from .session_check import RegisterCheck
from .session_statistics import SessionStatistics
from .sessions import PlaceSessions
from .statements import StatementBook

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


@dataclass(slots=True)
class PlaceRuntime:
    """Everything a loaded place holds while it runs."""

    coordinator: PlaceCoordinator
    subentry_ids: frozenset[str]
    central: CentralSystem
    # Every connector of every charger, by key (the subentry id for a
    # charger's first connector: ChargerCoordinator.key).
    chargers: dict[str, ChargerCoordinator]
    store: Store[dict[str, object]]
    saver: ThrottledSave
    balancer: PlaceBalancer
    scheduler: PlaceScheduler
    sessions: PlaceSessions
    statistics: SessionStatistics
    register_check: RegisterCheck
    phones: PlacePhones
    statements: StatementBook
    # One per reimbursement with an OCPI receiver.
    syncs: list[ReceiverSync] = field(default_factory=list)
    # Charger subentries a reimbursement covers (their Last session select).
    covered: frozenset[str] = frozenset()
    # Who receives each reimbursement's sessions, and how (another: reload).
    receivers: dict[str, tuple[Any, ...]] = field(default_factory=dict)

    def stored(self) -> dict[str, object]:
        """What the place keeps across restarts."""
        return {
            "chargers": {
                charger.device_key: charger.data.stored()
                for charger in self.chargers.values()
            },
            "hourly_energy": self.balancer.hourly.stored(),
            "house_profile": self.balancer.house.stored(),
        }


def place_store(hass: HomeAssistant, entry_id: str) -> Store[dict[str, object]]:
    """The place's persistent storage (chargers, sessions, learned data)."""
    return Store(hass, STORAGE_VERSION, f"{DOMAIN}.{entry_id}", private=True)


def settings_of(entry: ConfigEntry) -> PlaceSettings:
    """The place's settings as its config entry holds them now."""
    return PlaceSettings.from_config(dict(entry.data), dict(entry.options))


def meter_of(entry: ConfigEntry) -> MeterSettings:
    """The place's meter and balancing settings as its options hold them now."""
    return MeterSettings.from_options(dict(entry.options))


def plan_settings_of(entry: ConfigEntry) -> PlanSettings:
    """The place's smart-charging options as they are now."""
    return PlanSettings.from_options(dict(entry.options), entry.data["country"])


def charger_ids(entry: ConfigEntry) -> dict[str, str]:
    """Charge point id of every charger subentry, by subentry id."""
    return {
        subentry_id: subentry.data[CONF_CHARGE_POINT_ID]
        for subentry_id, subentry in entry.subentries.items()
        if subentry.subentry_type == SUBENTRY_CHARGER
    }


def build_chargers(
    hass: HomeAssistant,
    entry: ConfigEntry,
    moving: dict[str, dict[str, Any]],
    restored: dict[str, Any],
    save: CALLBACK_TYPE,
) -> dict[str, ChargerCoordinator]:
    """Every connector of every charger of a place, with its saved state.

    A charger moved here from another place (``moving``) brings its state.
    """
    chargers: dict[str, ChargerCoordinator] = {}
    for subentry_id, charge_point_id in charger_ids(entry).items():
        moved = moving.pop(charge_point_id, None) or {}
        subentry = entry.subentries[subentry_id]
        station = ChargerCoordinator(
            hass,
            entry,
            subentry,
            ChargerState.restored(
                moved.get(charge_point_id) or restored.get(charge_point_id) or {}
            ),
            save,
        )
        chargers[station.key] = station
        for connector_id in range(2, station.config.connectors + 1):
            outlet = ChargerCoordinator(
                hass,
                entry,
                subentry,
                ChargerState(),
                save,
                connector_id=connector_id,
                station=station,
            )
            outlet.data = ChargerState.restored(
                moved.get(outlet.device_key) or restored.get(outlet.device_key) or {}
            )
            station.connectors[connector_id] = outlet
            chargers[outlet.key] = outlet
    return chargers


def loaded_place(hass: HomeAssistant, entry_id: str) -> PlaceRuntime:
    """A loaded place's runtime, for an action naming it; else a clear error."""
    runtime: PlaceRuntime = loaded_place_entry(hass, entry_id).runtime_data
    return runtime


def loaded_place_entry(hass: HomeAssistant, entry_id: str) -> ConfigEntry:
    """A loaded place's config entry, for an action naming it; else a clear error."""
    entry = hass.config_entries.async_get_entry(entry_id)
    if (
        entry is None
        or entry.domain != DOMAIN
        or entry.state is not ConfigEntryState.LOADED
    ):
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="not_a_place",
            translation_placeholders={"config_entry_id": entry_id},
        )
    return entry


def vehicles_of(entry: ConfigEntry) -> list[Vehicle]:
    """The place's vehicle subentries."""
    return [
        Vehicle.from_data(subentry_id, subentry.title, subentry.data)
        for subentry_id, subentry in entry.subentries.items()
        if subentry.subentry_type == SUBENTRY_VEHICLE
    ]


async def async_update_place(
    hass: HomeAssistant, entry: ConfigEntry, changes: dict[str, object]
) -> None:
    """Change place settings from an entity; refused when the result is invalid."""
    data = {**entry.data, **changes}
    if errors := validate_place(data, complete=True):
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key=next(iter(errors.values())),
            translation_placeholders={
                "min_fuse": str(MIN_MAIN_FUSE),
                "max_fuse": str(MAX_MAIN_FUSE),
            },
        )
    hass.config_entries.async_update_entry(entry, data=data)


def chargers_of_devices(
    hass: HomeAssistant, device_ids: list[str]
) -> list[ChargerCoordinator]:
    """The loaded chargers (or connectors) behind device ids; else a clear error."""
    registry = dr.async_get(hass)
    by_id = {
        charger.device_key: charger
        for entry in hass.config_entries.async_entries(DOMAIN)
        if entry.state is ConfigEntryState.LOADED
        for charger in entry.runtime_data.chargers.values()
    }
    found = []
    for device_id in device_ids:
        device = registry.async_get(device_id)
        charger = next(
            (
                by_id[identifier]
                for domain, identifier in (device.identifiers if device else ())
                if domain == DOMAIN and identifier in by_id
            ),
            None,
        )
        if charger is None:
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="not_a_charger",
                translation_placeholders={"device_id": device_id},
            )
        found.append(charger)
    return found
