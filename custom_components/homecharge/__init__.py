"""homecharge: local EV charging for Home Assistant."""

from __future__ import annotations

from dataclasses import dataclass

from homeassistant.config_entries import ConfigEntry
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.storage import Store

from .const import DOMAIN, STORAGE_VERSION
from .coordinator import PlaceCoordinator
from .place import PlaceSettings, validate_place

PLATFORMS: list[Platform] = [Platform.NUMBER, Platform.SELECT]


@dataclass(slots=True)
class PlaceRuntime:
    """Everything a loaded place holds while it runs."""

    coordinator: PlaceCoordinator
    subentry_ids: frozenset[str]


type HomeChargeConfigEntry = ConfigEntry[PlaceRuntime]


def place_store(hass: HomeAssistant, entry_id: str) -> Store[dict[str, object]]:
    """The place's persistent storage (chargers, sessions, learned data)."""
    return Store(hass, STORAGE_VERSION, f"{DOMAIN}.{entry_id}", private=True)


def settings_of(entry: ConfigEntry) -> PlaceSettings:
    """The place's settings as its config entry holds them now."""
    return PlaceSettings.from_config(dict(entry.data), dict(entry.options))


async def async_setup_entry(hass: HomeAssistant, entry: HomeChargeConfigEntry) -> bool:
    """Set up a place."""
    settings = settings_of(entry)
    entry.runtime_data = PlaceRuntime(
        coordinator=PlaceCoordinator(hass, entry, settings),
        subentry_ids=frozenset(entry.subentries),
    )
    dr.async_get(hass).async_get_or_create(
        config_entry_id=entry.entry_id,
        identifiers={(DOMAIN, entry.entry_id)},
        name=settings.name,
        manufacturer="homecharge",
        entry_type=dr.DeviceEntryType.SERVICE,
    )
    entry.async_on_unload(entry.add_update_listener(_async_entry_updated))
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    return True


async def _async_entry_updated(
    hass: HomeAssistant, entry: HomeChargeConfigEntry
) -> None:
    """Apply changed settings live; reload when subentries came or went."""
    runtime = entry.runtime_data
    if frozenset(entry.subentries) != runtime.subentry_ids:
        hass.config_entries.async_schedule_reload(entry.entry_id)
        return
    settings = settings_of(entry)
    if settings.name != runtime.coordinator.data.name:
        registry = dr.async_get(hass)
        if device := registry.async_get_device(identifiers={(DOMAIN, entry.entry_id)}):
            registry.async_update_device(device.id, name=settings.name)
    runtime.coordinator.async_set_updated_data(settings)


async def async_update_place(
    hass: HomeAssistant, entry: ConfigEntry, changes: dict[str, object]
) -> None:
    """Change place settings from an entity; refused when the result is invalid."""
    data = {**entry.data, **changes}
    if errors := validate_place(data, complete=True):
        raise ServiceValidationError(
            translation_domain=DOMAIN, translation_key=next(iter(errors.values()))
        )
    hass.config_entries.async_update_entry(entry, data=data)


async def async_unload_entry(hass: HomeAssistant, entry: HomeChargeConfigEntry) -> bool:
    """Unload a place."""
    return await hass.config_entries.async_unload_platforms(entry, PLATFORMS)


async def async_remove_entry(hass: HomeAssistant, entry: HomeChargeConfigEntry) -> None:
    """
    Forget everything stored for a removed place.

    Home Assistant removes the devices and entities itself; our own storage
    (chargers registered to this place, sessions) goes with it, so a removed
    charger that reconnects is an unknown charger and is refused.
    """
    await place_store(hass, entry.entry_id).async_remove()
