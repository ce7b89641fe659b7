"""Setting up, changing, unloading and removing a place."""

from __future__ import annotations

from types import MappingProxyType

from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.homecharge import place_store
from custom_components.homecharge.const import DOMAIN
from homeassistant.config_entries import ConfigEntryState, ConfigSubentry
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr, entity_registry as er

MAIN_FUSE = "number.home_main_fuse"
COST_BASIS = "select.home_basis_for_electricity_costs"


async def _setup(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()


async def test_place_device_and_entities(
    hass: HomeAssistant, place_entry: MockConfigEntry
) -> None:
    """A loaded place is one device with its settings as entities."""
    await _setup(hass, place_entry)
    assert place_entry.state is ConfigEntryState.LOADED
    device = dr.async_get(hass).async_get_device(
        identifiers={(DOMAIN, place_entry.entry_id)}
    )
    assert device is not None
    assert device.name == "Home"
    assert device.entry_type is dr.DeviceEntryType.SERVICE
    entities = er.async_entries_for_config_entry(
        er.async_get(hass), place_entry.entry_id
    )
    assert {entity.entity_id for entity in entities} == {
        MAIN_FUSE,
        COST_BASIS,
        "number.home_fixed_price",
        "switch.home_accept_new_chargers",
        # Smart charging: the price now and the plan as a calendar.
        "sensor.home_current_price",
        "calendar.home_charging_plan",
        "calendar.home_charging_sessions",
    }
    assert all(entity.device_id == device.id for entity in entities)
    assert hass.states.get(MAIN_FUSE).state == "63.0"


async def test_unload_and_reload_leave_nothing_behind(
    hass: HomeAssistant, place_entry: MockConfigEntry
) -> None:
    """Unload makes the entities unavailable; reload brings them back, once."""
    await _setup(hass, place_entry)
    assert await hass.config_entries.async_unload(place_entry.entry_id)
    await hass.async_block_till_done()
    assert place_entry.state is ConfigEntryState.NOT_LOADED
    assert hass.states.get(MAIN_FUSE).state == "unavailable"

    assert await hass.config_entries.async_setup(place_entry.entry_id)
    await hass.async_block_till_done()
    assert hass.states.get(MAIN_FUSE).state == "63.0"
    assert len(hass.states.async_entity_ids("number")) == 2


async def test_setting_changes_apply_without_reload(
    hass: HomeAssistant, place_entry: MockConfigEntry
) -> None:
    """Renaming the place renames its device; the runtime is kept."""
    await _setup(hass, place_entry)
    runtime = place_entry.runtime_data
    hass.config_entries.async_update_entry(
        place_entry, data={**place_entry.data, "name": "Hytta", "main_fuse": 40.0}
    )
    await hass.async_block_till_done()
    assert place_entry.runtime_data is runtime
    assert hass.states.get(MAIN_FUSE).state == "40.0"
    device = dr.async_get(hass).async_get_device(
        identifiers={(DOMAIN, place_entry.entry_id)}
    )
    assert device is not None
    assert device.name == "Hytta"


async def test_new_subentry_reloads_the_place(
    hass: HomeAssistant, place_entry: MockConfigEntry
) -> None:
    """A charger, guest or vehicle added to the place reloads it."""
    await _setup(hass, place_entry)
    runtime = place_entry.runtime_data
    hass.config_entries.async_add_subentry(
        place_entry,
        ConfigSubentry(
            data=MappingProxyType({}),
            subentry_type="vehicle",
            title="Car",
            unique_id="car",
        ),
    )
    await hass.async_block_till_done()
    assert place_entry.state is ConfigEntryState.LOADED
    assert place_entry.runtime_data is not runtime
    assert len(place_entry.runtime_data.subentry_ids) == 1


async def test_remove_place_removes_everything(
    hass: HomeAssistant, place_entry: MockConfigEntry, hass_storage: dict[str, object]
) -> None:
    """Removing a place removes its device, entities and stored data."""
    await _setup(hass, place_entry)
    store = place_store(hass, place_entry.entry_id)
    await store.async_save({"chargers": {"CP-1": {"password": "secret"}}})
    assert store.key in hass_storage

    await hass.config_entries.async_remove(place_entry.entry_id)
    await hass.async_block_till_done()

    assert store.key not in hass_storage
    assert await place_store(hass, place_entry.entry_id).async_load() is None
    assert not dr.async_entries_for_config_entry(
        dr.async_get(hass), place_entry.entry_id
    )
    assert not er.async_entries_for_config_entry(
        er.async_get(hass), place_entry.entry_id
    )
    assert hass.states.get(MAIN_FUSE) is None
