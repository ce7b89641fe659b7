"""A place's dashboard saved as a storage-mode dashboard (``create_dashboard``).

``logic/dashboard.py`` says what is on it; this finds the place's entities
in the entity registry, translates the labels into Home Assistant's
language and creates or updates the dashboard ``homecharge-<place>``
(Settings → Dashboards: the user may edit it afterwards; the action then
overwrites it again).

Home Assistant keeps storage dashboards in one collection that only its
websocket commands reach; it is taken from the ``lovelace/dashboards/create``
command, so a dashboard made here is the same as one made in the UI (listed,
editable, kept across restarts). If a Home Assistant version hides it, the
action says so (``dashboard_unavailable``), and the README's YAML remains.
"""

from __future__ import annotations

import inspect
from typing import TYPE_CHECKING, Any, Final

from homeassistant.components.lovelace.const import LOVELACE_DATA
from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import (
    device_registry as dr,
    entity_registry as er,
)
from homeassistant.helpers.translation import async_get_translations
from homeassistant.util import slugify

from ..const import DOMAIN
from ..logic.dashboard import LABELS, ChargerCards, PlaceCards, dashboard_config
from .session_statistics import statistic_id

if TYPE_CHECKING:
    from homeassistant.components.lovelace.dashboard import DashboardsCollection

_CREATE_COMMAND: Final = "lovelace/dashboards/create"
_ICON: Final = "mdi:ev-station"


def dashboard_path(entry: ConfigEntry) -> str:
    """The dashboard's URL path (a hyphen, as storage dashboards need)."""
    return f"{DOMAIN}-{slugify(entry.title, separator='-') or entry.entry_id.lower()}"


def _collection(hass: HomeAssistant) -> DashboardsCollection:
    """Home Assistant's own collection of storage dashboards."""
    handlers: dict[str, Any] = hass.data.get("websocket_api") or {}
    handler = handlers.get(_CREATE_COMMAND, (None,))[0]
    owner = getattr(inspect.unwrap(handler), "__self__", None) if handler else None
    found = getattr(owner, "storage_collection", None)
    if found is None or LOVELACE_DATA not in hass.data:
        raise HomeAssistantError(
            translation_domain=DOMAIN, translation_key="dashboard_unavailable"
        )
    collection: DashboardsCollection = found
    return collection


def place_cards(hass: HomeAssistant, entry: ConfigEntry) -> PlaceCards:
    """The place's entities, by device and translation key."""
    entities = er.async_get(hass)
    devices = dr.async_get(hass)
    by_device: dict[str | None, dict[tuple[str, str], str]] = {}
    for item in er.async_entries_for_config_entry(entities, entry.entry_id):
        if item.translation_key is None or item.disabled:
            continue
        by_device.setdefault(item.device_id, {})[
            (item.domain, item.translation_key)
        ] = item.entity_id
    place_device = devices.async_get_device(identifiers={(DOMAIN, entry.entry_id)})
    place_id = None if place_device is None else place_device.id
    chargers = []
    for device_id, found in by_device.items():
        device = devices.async_get(device_id) if device_id else None
        if (
            device_id == place_id
            or device is None
            or ("switch", "charging") not in found
        ):
            continue
        chargers.append(
            ChargerCards(name=device.name_by_user or device.name or "", entities=found)
        )
    place = by_device.get(place_id, {})
    names = {}
    for device_id, found in by_device.items():
        device = devices.async_get(device_id) if device_id else None
        prefix = f"{device.name_by_user or device.name} " if device else ""
        for entity_id in found.values():
            state = hass.states.get(entity_id)
            full = str(state.attributes.get("friendly_name", "")) if state else ""
            if prefix and full.startswith(prefix):
                names[entity_id] = full.removeprefix(prefix)
    fuse = None
    if (fuse_entity := place.get(("number", "main_fuse"))) is not None and (
        state := hass.states.get(fuse_entity)
    ) is not None:
        try:
            fuse = float(state.state)
        except ValueError:
            fuse = None
    return PlaceCards(
        name=entry.title,
        entities=place,
        chargers=tuple(sorted(chargers, key=lambda charger: charger.name)),
        main_fuse_a=fuse,
        energy_statistic=statistic_id(entry.entry_id, None, "energy"),
        cost_statistic=statistic_id(entry.entry_id, None, "cost"),
        names=names,
    )


async def _labels(hass: HomeAssistant) -> dict[str, str]:
    """The dashboard's words in Home Assistant's language (English for a gap)."""
    prefix = f"component.{DOMAIN}.dashboard."
    strings = await async_get_translations(
        hass, hass.config.language, "dashboard", [DOMAIN]
    )
    return {label: strings.get(f"{prefix}{label}") or label for label in LABELS}


async def async_save_dashboard(
    hass: HomeAssistant, entry: ConfigEntry
) -> dict[str, Any]:
    """Create or update the place's dashboard; where it is and if it is new."""
    collection = _collection(hass)
    labels = await _labels(hass)
    config = dashboard_config(place_cards(hass, entry), labels)
    url_path = dashboard_path(entry)
    meta = {"title": config["title"], "icon": _ICON, "show_in_sidebar": True}
    existing = next(
        (
            (item_id, item)
            for item_id, item in collection.data.items()
            if item.get("url_path") == url_path
        ),
        None,
    )
    if existing is None:
        await collection.async_create_item(
            {"url_path": url_path, "require_admin": False, **meta}
        )
    elif any(existing[1].get(key) != value for key, value in meta.items()):
        await collection.async_update_item(existing[0], meta)
    await hass.data[LOVELACE_DATA].dashboards[url_path].async_save(config)
    return {"url_path": url_path, "created": existing is None}
