"""homecharge: local EV charging for Home Assistant."""

from __future__ import annotations

from functools import partial
import logging
from typing import Any

from homeassistant.config_entries import SOURCE_INTEGRATION_DISCOVERY, ConfigEntry
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import ConfigEntryNotReady
from homeassistant.helpers import (
    config_validation as cv,
    device_registry as dr,
    discovery_flow,
    issue_registry as ir,
)
from homeassistant.helpers.start import async_at_started
from homeassistant.helpers.typing import ConfigType
from homeassistant.util import dt as dt_util

from .central.charger_facts import ChargerFacts
from .central.server import CENTRAL, async_acquire, async_release
from .central.session import BootInfo
from .const import (
    CONF_CHARGE_POINT_ID,
    CONF_CONNECTORS,
    CONF_MANUFACTURER,
    CONF_MODEL,
    CONF_PHASES,
    CONF_SERIAL,
    DOMAIN,
)
from .intents import async_setup_intents
from .logic.capacity_tariff import HourlyEnergy
from .logic.house_profile import HouseProfile
from .runtime.balancing import PlaceBalancer
from .runtime.bills import async_prune_bills
from .runtime.charger import ChargerCoordinator
from .runtime.charger_access import people_of
from .runtime.charger_state import ChargerConfig
from .runtime.phones import PlacePhones
from .runtime.place import (
    PlaceCoordinator,
    PlaceRuntime,
    build_chargers,
    charger_ids,
    meter_of,
    place_store,
    plan_settings_of,
    settings_of,
    vehicles_of,
)
from .runtime.receivers import ReceiverSync, receivers_of
from .runtime.reimbursement import async_ask_after_sessions, covered_chargers
from .runtime.reimbursement_sync import async_start_syncs
from .runtime.saving import ThrottledSave
from .runtime.scheduling import PlaceScheduler
from .runtime.sentences import async_check as async_check_sentences
from .runtime.session_check import RegisterCheck
from .runtime.session_statistics import SessionStatistics
from .runtime.session_store import SessionArchive
from .runtime.sessions import PlaceSessions, async_fire_when_stopped
from .runtime.statements import StatementBook
from .services import async_setup_services

_LOGGER = logging.getLogger(__name__)

PLATFORMS: list[Platform] = [
    Platform.BINARY_SENSOR,
    Platform.BUTTON,
    Platform.CALENDAR,
    Platform.NUMBER,
    Platform.SELECT,
    Platform.SENSOR,
    Platform.SWITCH,
    Platform.TIME,
]
SAVE_DELAY_S = 10


type HomeChargeConfigEntry = ConfigEntry[PlaceRuntime]


CONFIG_SCHEMA = cv.config_entry_only_config_schema(DOMAIN)


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:
    """Register the actions and voice intents, for every place."""
    async_setup_services(hass)
    async_setup_intents(hass)
    # Assist's sentences: offered once Home Assistant runs (runtime/sentences.py).
    async_at_started(hass, async_check_sentences)
    return True


# Pending "new charger" discoveries at once; more are not offered (a flood of
# made-up ids while a place accepts new chargers stays out of the UI).
MAX_PENDING_DISCOVERIES = 10


@callback
def _async_offer_charger(
    hass: HomeAssistant,
    charge_point_id: str,
    boot: BootInfo,
    version: str,
    facts: ChargerFacts,
) -> None:
    """Show an unknown charger as a discovery ("New charger … — add it?")."""
    pending = hass.config_entries.flow.async_progress_by_handler(
        DOMAIN, match_context={"source": SOURCE_INTEGRATION_DISCOVERY}
    )
    if len(pending) >= MAX_PENDING_DISCOVERIES:
        _LOGGER.warning(
            "Charger %s not offered: %d new chargers wait to be added already",
            charge_point_id,
            len(pending),
        )
        return
    discovery_flow.async_create_flow(
        hass,
        DOMAIN,
        context={"source": SOURCE_INTEGRATION_DISCOVERY},
        data={
            CONF_CHARGE_POINT_ID: charge_point_id,
            CONF_MANUFACTURER: boot.vendor or None,
            CONF_MODEL: boot.model or None,
            CONF_SERIAL: boot.serial,
            "version": version,
            # What the charger said of itself: the form's suggestion.
            CONF_PHASES: facts.phases,
            CONF_CONNECTORS: facts.connectors,
        },
    )


@callback
def _async_report_guessing(
    hass: HomeAssistant, address: str, charge_point_id: str, failures: int
) -> None:
    """Wrong passwords keep coming from an address: tell the user (0: over)."""
    issue_id = f"password_guessing_{address}"
    if not failures:
        ir.async_delete_issue(hass, DOMAIN, issue_id)
        return
    ir.async_create_issue(
        hass,
        DOMAIN,
        issue_id,
        is_fixable=False,
        severity=ir.IssueSeverity.WARNING,
        translation_key="password_guessing",
        translation_placeholders={
            "address": address,
            "charger": charge_point_id,
            "count": str(failures),
        },
    )


async def async_setup_entry(hass: HomeAssistant, entry: HomeChargeConfigEntry) -> bool:
    """Set up a place."""
    settings = settings_of(entry)
    try:
        central = await async_acquire(hass, entry.entry_id)
    except OSError as err:
        raise ConfigEntryNotReady(
            translation_domain=DOMAIN,
            translation_key="server_failed",
            translation_placeholders={"error": str(err)},
        ) from err
    central.on_discovery = partial(_async_offer_charger, hass)
    central.on_guessing = partial(_async_report_guessing, hass)
    store = place_store(hass, entry.entry_id)
    stored = await store.async_load() or {}
    saved_chargers = stored.get("chargers")
    restored = saved_chargers if isinstance(saved_chargers, dict) else {}

    saver = ThrottledSave(
        hass, store, lambda: entry.runtime_data.stored(), SAVE_DELAY_S
    )

    @callback
    def save() -> None:
        saver.changed()

    dr.async_get(hass).async_get_or_create(
        config_entry_id=entry.entry_id,
        identifiers={(DOMAIN, entry.entry_id)},
        name=settings.name,
        manufacturer="homecharge",
        entry_type=dr.DeviceEntryType.SERVICE,
    )
    chargers = build_chargers(hass, entry, central.moving, restored, save)
    _remove_stale_connectors(hass, entry, chargers)
    sessions = await PlaceSessions.async_load(hass, entry.entry_id)
    sessions.vehicles = vehicles_of(entry)
    sessions.people = people_of(entry)
    for charger in chargers.values():
        charger.sessions = sessions
        sessions.adopt(
            charger.config.charge_point_id, charger.connector_id, charger.data
        )
    saved_hours = stored.get("hourly_energy")
    balancer = PlaceBalancer(
        hass,
        entry,
        settings,
        meter_of(entry),
        chargers,
        HourlyEnergy.restored(saved_hours, tz=dt_util.get_default_time_zone()),
        HouseProfile.restored(stored.get("house_profile")),
    )
    scheduler = PlaceScheduler(
        hass, entry, settings, plan_settings_of(entry), chargers, balancer
    )
    statistics = SessionStatistics.of_place(
        hass, entry.entry_id, settings.name, sessions, chargers
    )
    check = RegisterCheck.of_place(hass, entry.entry_id, sessions, balancer, chargers)
    phones = PlacePhones(hass, entry, chargers.values())
    receivers = receivers_of(entry)
    statements, syncs = await _async_reimbursements(hass, entry, sessions, receivers)
    # After the reimbursements' rules: the event carries their classification.
    entry.async_on_unload(async_fire_when_stopped(hass, entry, sessions))
    for charger in chargers.values():
        charger.phones = phones
    entry.runtime_data = PlaceRuntime(
        coordinator=PlaceCoordinator(hass, entry, settings),
        subentry_ids=frozenset(entry.subentries),
        central=central,
        chargers=chargers,
        store=store,
        saver=saver,
        balancer=balancer,
        scheduler=scheduler,
        sessions=sessions,
        statistics=statistics,
        register_check=check,
        phones=phones,
        statements=statements,
        syncs=syncs,
        covered=covered_chargers(entry),
        receivers=receivers,
    )
    entry.async_on_unload(sessions.follow(scheduler))
    entry.async_on_unload(entry.add_update_listener(_async_entry_updated))
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    for charger in chargers.values():
        charger.async_start()
        if charger.is_station:
            entry.async_on_unload(
                central.register(charger.config.charge_point_id, charger)
            )
    central.set_accepting(entry.entry_id, settings.accept_new_chargers)
    await balancer.async_start()
    entry.async_on_unload(balancer.async_stop)
    await scheduler.async_start()
    entry.async_on_unload(scheduler.async_stop)
    if (stop_statistics := statistics.async_start()) is not None:
        entry.async_on_unload(stop_statistics)
    entry.async_on_unload(check.async_start())
    entry.async_on_unload(phones.async_start())
    return True


async def _async_reimbursements(
    hass: HomeAssistant,
    entry: HomeChargeConfigEntry,
    sessions: PlaceSessions,
    receivers: dict[str, tuple[Any, ...]],
) -> tuple[StatementBook, list[ReceiverSync]]:
    """The reimbursements' bills, questions, statements and receivers."""
    # A removed reimbursement's bill goes with it (after any reload).
    await async_prune_bills(hass)
    statements = StatementBook(hass, entry, sessions)
    await statements.async_load()
    entry.async_on_unload(async_ask_after_sessions(hass, entry, sessions))
    entry.async_on_unload(statements.async_start())
    syncs = await async_start_syncs(hass, entry, sessions, receivers, statements)
    return statements, syncs


def _remove_stale_connectors(
    hass: HomeAssistant, entry: ConfigEntry, chargers: dict[str, ChargerCoordinator]
) -> None:
    """Devices of connectors a charger no longer has (fewer configured) go."""
    registry = dr.async_get(hass)
    current = {(DOMAIN, charger.device_key) for charger in chargers.values()}
    stations = {c.config.charge_point_id for c in chargers.values() if c.is_station}
    for device in dr.async_entries_for_config_entry(registry, entry.entry_id):
        for domain, identifier in device.identifiers:
            station, slash, _number = identifier.partition("/")
            if (
                domain == DOMAIN
                and slash
                and station in stations
                and (domain, identifier) not in current
            ):
                registry.async_update_device(
                    device.id, remove_config_entry_id=entry.entry_id
                )


async def _async_entry_updated(
    hass: HomeAssistant, entry: HomeChargeConfigEntry
) -> None:
    """Apply changed settings live; reload when subentries came or went."""
    runtime = entry.runtime_data
    if (
        frozenset(entry.subentries) != runtime.subentry_ids
        or covered_chargers(entry) != runtime.covered
        or receivers_of(entry) != runtime.receivers
    ):
        # A removed charger stops charging, loses our profiles and is refused
        # from now on (central/server.py async_forget).
        removed = [
            (charger, charger.config.charge_point_id in runtime.central.moving)
            for charger in runtime.chargers.values()
            if charger.is_station and charger.subentry_id not in entry.subentries
        ]
        for charger, moving in removed:
            running = [
                outlet.data.transaction_id
                for outlet in charger.outlets
                if outlet.data.transaction_id is not None
            ]
            for outlet in charger.outlets:
                await outlet.async_shutdown()
            if not moving:
                # A moved charger is taken over by its new place as it is.
                await runtime.central.async_forget(
                    charger.config.charge_point_id,
                    running,
                    connectors=charger.config.connectors,
                    owner=charger,
                )
        hass.config_entries.async_schedule_reload(entry.entry_id)
        return
    settings = settings_of(entry)
    meter = meter_of(entry)
    balancer = runtime.balancer
    plans = plan_settings_of(entry)
    if (
        meter.feed != balancer.meter.feed
        or settings.grid_type is not balancer.place.grid_type
        or plans.price_entity != runtime.scheduler.settings.price_entity
    ):
        # Another meter (or grid) is read from scratch.
        hass.config_entries.async_schedule_reload(entry.entry_id)
        return
    if settings.name != runtime.coordinator.data.name:
        registry = dr.async_get(hass)
        if device := registry.async_get_device(identifiers={(DOMAIN, entry.entry_id)}):
            registry.async_update_device(device.id, name=settings.name)
    runtime.central.set_accepting(entry.entry_id, settings.accept_new_chargers)
    runtime.sessions.vehicles = vehicles_of(entry)
    runtime.sessions.people = people_of(entry)
    runtime.coordinator.async_set_updated_data(settings)
    configs = {
        charger.key: ChargerConfig.from_subentry(entry.subentries[charger.subentry_id])
        for charger in runtime.chargers.values()
    }
    if any(
        config.connectors != runtime.chargers[key].config.connectors
        for key, config in configs.items()
    ):
        # Connectors came or went: their devices with them (chargers stay
        # connected over a reload).
        hass.config_entries.async_schedule_reload(entry.entry_id)
        return
    for key, config in configs.items():
        runtime.chargers[key].update_config(config)
    balancer.apply_settings(settings, meter)
    runtime.scheduler.apply_settings(settings, plans)
    # A person or a charger's access changed: phones and local lists follow.
    runtime.phones.async_refresh()
    for charger in runtime.chargers.values():
        if charger.is_station:
            charger.run(charger.access.async_sync_list())


async def async_unload_entry(hass: HomeAssistant, entry: HomeChargeConfigEntry) -> bool:
    """Unload a place; its chargers stay connected to the central system."""
    if not await hass.config_entries.async_unload_platforms(entry, PLATFORMS):
        return False
    runtime = entry.runtime_data
    ir.async_delete_issue(hass, DOMAIN, runtime.balancer.issue_id)
    for charger in runtime.chargers.values():
        await charger.async_shutdown()
    # Now, not in 10 s: a reload reads it back at once.
    runtime.saver.cancel()
    await runtime.store.async_save(runtime.stored())
    await runtime.sessions.async_flush()
    await runtime.statements.async_flush()
    await async_release(hass, entry.entry_id)
    return True


async def async_remove_entry(hass: HomeAssistant, entry: HomeChargeConfigEntry) -> None:
    """Forget everything stored for a removed place.

    Home Assistant removes the devices and entities itself; our own storage
    (chargers registered to this place, sessions) goes with it. Its chargers
    stop charging, lose our profiles and are disconnected, so one that
    reconnects is unknown and refused.
    """
    store = place_store(hass, entry.entry_id)
    if (central := hass.data.get(CENTRAL)) is not None:
        stored = await store.async_load() or {}
        saved = stored.get("chargers")
        chargers = saved if isinstance(saved, dict) else {}
        for subentry_id, charge_point_id in charger_ids(entry).items():
            connectors = ChargerConfig.from_subentry(
                entry.subentries[subentry_id]
            ).connectors
            running = [
                str(transaction_id)
                for key, state in chargers.items()
                if key == charge_point_id or key.startswith(f"{charge_point_id}/")
                if isinstance(state, dict)
                and (transaction_id := state.get("transaction_id")) is not None
            ]
            await central.async_forget(charge_point_id, running, connectors=connectors)
    await store.async_remove()
    await SessionArchive(
        hass, entry.entry_id, dt_util.get_default_time_zone()
    ).async_remove()
