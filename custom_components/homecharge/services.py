"""Actions: on chargers (restart, start, stop, limit, unlock, configure), plans, sessions."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta

import voluptuous as vol

from homeassistant.config_entries import ConfigEntry
from homeassistant.const import ATTR_DEVICE_ID
from homeassistant.core import (
    HomeAssistant,
    ServiceCall,
    ServiceResponse,
    SupportsResponse,
    callback,
)
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers.service import async_register_admin_service
from homeassistant.util.json import JsonValueType

from .central.session import SessionError
from .const import DOMAIN, MAX_CONNECTORS
from .guest_services import (
    INVITE_SCHEMA,
    REPORT_SCHEMA,
    REVOKE_SCHEMA,
    async_guest_report,
    async_invite_guest,
    async_revoke_guest,
)
from .logic.access import Person, Right
from .logic.grid import IEC_MIN_AMPS
from .logic.limits import LimitSource
from .logic.sessions.reports import Outlet
from .plan_services import (
    PLAN_SCHEMA,
    READY_BY_SCHEMA,
    async_plan_charging,
    async_set_ready_by,
)
from .runtime.charger import ChargerCoordinator
from .runtime.charger_state import MAX_CIRCUIT_FUSE
from .runtime.dashboard import async_save_dashboard
from .runtime.place import chargers_of_devices, loaded_place_entry
from .runtime.rights import async_caller_person, async_guest
from .session_services import (
    ATTR_CONFIG_ENTRY,
    CLASSIFY_SESSION_SCHEMA,
    CLASSIFY_SESSIONS_SCHEMA,
    EXPORT_SESSIONS_SCHEMA,
    GET_SESSIONS_SCHEMA,
    UPDATE_SESSION_SCHEMA,
    async_export_sessions,
    async_get_sessions,
    classify_sessions,
    update_session,
)
from .statement_services import (
    MAKE_STATEMENT_SCHEMA,
    SET_STATEMENT_STATE_SCHEMA,
    make_statements,
    set_statement_state,
)

ATTR_HARD = "hard"
ATTR_CURRENT = "current"
ATTR_DURATION = "duration"
ATTR_CONNECTOR = "connector"
ATTR_KEYS = "keys"
ATTR_KEY = "key"
ATTR_VALUE = "value"

DEVICES = vol.All(cv.ensure_list, [cv.string])
RESTART_SCHEMA = vol.Schema(
    {
        vol.Required(ATTR_DEVICE_ID): DEVICES,
        vol.Optional(ATTR_HARD, default=False): cv.boolean,
    }
)
CHARGERS_SCHEMA = vol.Schema({vol.Required(ATTR_DEVICE_ID): DEVICES})
LIMIT_SCHEMA = vol.Schema(
    {
        vol.Required(ATTR_DEVICE_ID): DEVICES,
        vol.Required(ATTR_CURRENT): vol.All(
            vol.Coerce(float), vol.Range(min=0, max=MAX_CIRCUIT_FUSE)
        ),
        vol.Optional(ATTR_DURATION): cv.positive_time_period,
    }
)
UNLOCK_SCHEMA = vol.Schema(
    {
        vol.Required(ATTR_DEVICE_ID): DEVICES,
        vol.Optional(ATTR_CONNECTOR): vol.All(
            vol.Coerce(int), vol.Range(1, MAX_CONNECTORS)
        ),
    }
)
GET_CONFIGURATION_SCHEMA = vol.Schema(
    {
        vol.Required(ATTR_DEVICE_ID): cv.string,
        vol.Optional(ATTR_KEYS): vol.All(cv.ensure_list, [cv.string]),
    }
)
CHANGE_CONFIGURATION_SCHEMA = vol.Schema(
    {
        vol.Required(ATTR_DEVICE_ID): cv.string,
        vol.Required(ATTR_KEY): cv.string,
        vol.Required(ATTR_VALUE): cv.string,
    }
)


async def _guest(
    call: ServiceCall, chargers: list[ChargerCoordinator], right: Right
) -> Person | None:
    """The person the caller is, once he may do this on every charger named."""
    person = None
    for charger in chargers:
        person = await async_guest(
            call.hass,
            charger.config_entry,
            call.context,
            right,
            charger.config.charge_point_id,
        )
    return person


async def _each(
    chargers: list[ChargerCoordinator],
    command: Callable[[ChargerCoordinator], Awaitable[bool]],
) -> None:
    """Run a command on every charger; the first failure is reported."""
    for charger in chargers:
        accepted = await _reached(charger, command(charger))
        if not accepted:
            raise HomeAssistantError(
                translation_domain=DOMAIN,
                translation_key="command_rejected",
                translation_placeholders={"charger": charger.display_name},
            )


async def _async_restart(call: ServiceCall) -> ServiceResponse:
    """Restart many chargers; offline and refusing ones are reported, not touched."""
    restarted: list[JsonValueType] = []
    offline: list[JsonValueType] = []
    refused: list[JsonValueType] = []
    for charger in chargers_of_devices(call.hass, call.data[ATTR_DEVICE_ID]):
        name = charger.display_name
        if charger.session is None:
            offline.append(name)
            continue
        try:
            accepted = await charger.async_restart(hard=call.data[ATTR_HARD])
        except SessionError:
            offline.append(name)
            continue
        (restarted if accepted else refused).append(name)
    return {"restarted": restarted, "offline": offline, "refused": refused}


async def _async_start(call: ServiceCall) -> None:
    chargers = chargers_of_devices(call.hass, call.data[ATTR_DEVICE_ID])
    person = await _guest(call, chargers, Right.CHARGE)
    await _each(chargers, lambda charger: charger.async_start_charging(person))


async def _async_stop(call: ServiceCall) -> None:
    chargers = chargers_of_devices(call.hass, call.data[ATTR_DEVICE_ID])
    await _guest(call, chargers, Right.CHARGE)
    await _each(chargers, ChargerCoordinator.async_stop_charging)


async def _async_set_current_limit(call: ServiceCall) -> None:
    """Limit chargers' current, for a while or until changed; 0 pauses."""
    amps: float = call.data[ATTR_CURRENT]
    if 0 < amps < IEC_MIN_AMPS:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="current_below_minimum",
            translation_placeholders={"minimum": f"{IEC_MIN_AMPS:g}"},
        )
    duration: timedelta | None = call.data.get(ATTR_DURATION)
    chargers = chargers_of_devices(call.hass, call.data[ATTR_DEVICE_ID])
    await _guest(call, chargers, Right.SETTINGS)
    for charger in chargers:
        charger.set_limit(LimitSource.ACTION, amps)
        if duration is not None:
            charger.limit_path.expire(LimitSource.ACTION, duration)


async def _async_unlock(call: ServiceCall) -> None:
    """A connector's device unlocks itself; a charger's, the connector named."""
    connector: int | None = call.data.get(ATTR_CONNECTOR)
    chargers = chargers_of_devices(call.hass, call.data[ATTR_DEVICE_ID])
    await _guest(call, chargers, Right.SETTINGS)
    await _each(
        chargers,
        lambda charger: charger.async_unlock(connector if charger.is_station else None),
    )


async def _reached[T](charger: ChargerCoordinator, command: Awaitable[T]) -> T:
    """A command's answer; an unreachable charger is a clear error."""
    try:
        return await command
    except SessionError as err:
        raise HomeAssistantError(
            translation_domain=DOMAIN,
            translation_key="charger_unreachable",
            translation_placeholders={"charger": charger.display_name},
        ) from err


async def _async_get_configuration(call: ServiceCall) -> ServiceResponse:
    (charger,) = chargers_of_devices(call.hass, [call.data[ATTR_DEVICE_ID]])
    await _guest(call, [charger], Right.SETTINGS)
    values = await _reached(
        charger, charger.async_get_configuration(call.data.get(ATTR_KEYS))
    )
    return {"configuration": values}


async def _async_change_configuration(call: ServiceCall) -> ServiceResponse:
    (charger,) = chargers_of_devices(call.hass, [call.data[ATTR_DEVICE_ID]])
    status = await _reached(
        charger,
        charger.async_change_configuration(call.data[ATTR_KEY], call.data[ATTR_VALUE]),
    )
    return {"status": status}


async def _async_set_ready_by(call: ServiceCall) -> None:
    chargers = chargers_of_devices(call.hass, call.data[ATTR_DEVICE_ID])
    await _guest(call, chargers, Right.SETTINGS)
    await async_set_ready_by(call, chargers)


def _outlets(call: ServiceCall) -> frozenset[Outlet] | None:
    """The chargers named, if any were: a connector's device, that connector.

    A charger's own device is the whole charger (its first connector's
    entities are on it, but its sessions are all of its connectors').
    """
    if ATTR_DEVICE_ID not in call.data:
        return None
    return frozenset(
        Outlet(
            charger.config.charge_point_id,
            None if charger.is_station else charger.connector_id,
        )
        for charger in chargers_of_devices(call.hass, call.data[ATTR_DEVICE_ID])
    )


async def _async_get_sessions(call: ServiceCall) -> ServiceResponse:
    # A guest sees his own sessions only.
    person = await async_caller_person(call.hass, _entry(call), call.context)
    return await async_get_sessions(
        call, _outlets(call), person.name if person is not None else None
    )


def _entry(call: ServiceCall) -> ConfigEntry:
    """The loaded place an action names (else the clear error)."""
    return loaded_place_entry(call.hass, call.data[ATTR_CONFIG_ENTRY])


async def _async_export_sessions(call: ServiceCall) -> ServiceResponse:
    # A file in the config folder: not a guest's to write.
    await async_guest(call.hass, _entry(call), call.context, Right.SETTINGS)
    return await async_export_sessions(call, _outlets(call))


async def _async_update_session(call: ServiceCall) -> ServiceResponse:
    (charger,) = chargers_of_devices(call.hass, [call.data[ATTR_DEVICE_ID]])
    await _guest(call, [charger], Right.SETTINGS)
    sessions = charger.sessions
    if sessions is None:  # pragma: no cover - every loaded charger has one
        raise HomeAssistantError("no sessions")
    return update_session(call, sessions, charger.config.charge_point_id)


async def _async_classify_sessions(call: ServiceCall) -> ServiceResponse:
    # Every session of a place at once: the place's settings right.
    entry = _entry(call)
    await async_guest(call.hass, entry, call.context, Right.SETTINGS)
    return classify_sessions(call, entry.runtime_data.sessions, _outlets(call))


async def _async_make_statement(call: ServiceCall) -> ServiceResponse:
    # Files in the config folder for the employer: not a guest's to make.
    entry = _entry(call)
    await async_guest(call.hass, entry, call.context, Right.SETTINGS)
    return await make_statements(call, entry.runtime_data.statements)


async def _async_create_dashboard(call: ServiceCall) -> ServiceResponse:
    # A dashboard for every user of this Home Assistant: the place's settings.
    entry = _entry(call)
    await async_guest(call.hass, entry, call.context, Right.SETTINGS)
    return await async_save_dashboard(call.hass, entry)


async def _async_set_statement_state(call: ServiceCall) -> None:
    entry = _entry(call)
    await async_guest(call.hass, entry, call.context, Right.SETTINGS)
    await set_statement_state(call, entry.runtime_data.statements)


@callback
def async_setup_services(hass: HomeAssistant) -> None:
    """Register the actions (once, for every place)."""
    hass.services.async_register(
        DOMAIN,
        "plan_charging",
        async_plan_charging,
        PLAN_SCHEMA,
        supports_response=SupportsResponse.ONLY,
    )
    hass.services.async_register(
        DOMAIN, "set_ready_by", _async_set_ready_by, READY_BY_SCHEMA
    )
    hass.services.async_register(
        DOMAIN,
        "get_sessions",
        _async_get_sessions,
        GET_SESSIONS_SCHEMA,
        supports_response=SupportsResponse.ONLY,
    )
    hass.services.async_register(
        DOMAIN,
        "export_sessions",
        _async_export_sessions,
        EXPORT_SESSIONS_SCHEMA,
        supports_response=SupportsResponse.OPTIONAL,
    )
    hass.services.async_register(
        DOMAIN,
        "update_session",
        _async_update_session,
        UPDATE_SESSION_SCHEMA,
        supports_response=SupportsResponse.OPTIONAL,
    )
    # update_session narrowed to what multi EV mode's automations need.
    hass.services.async_register(
        DOMAIN,
        "classify_session",
        _async_update_session,
        CLASSIFY_SESSION_SCHEMA,
        supports_response=SupportsResponse.OPTIONAL,
    )
    hass.services.async_register(
        DOMAIN,
        "make_statement",
        _async_make_statement,
        MAKE_STATEMENT_SCHEMA,
        supports_response=SupportsResponse.OPTIONAL,
    )
    hass.services.async_register(
        DOMAIN,
        "create_dashboard",
        _async_create_dashboard,
        vol.Schema({vol.Required(ATTR_CONFIG_ENTRY): cv.string}),
        supports_response=SupportsResponse.OPTIONAL,
    )
    hass.services.async_register(
        DOMAIN,
        "set_statement_state",
        _async_set_statement_state,
        SET_STATEMENT_STATE_SCHEMA,
    )
    hass.services.async_register(
        DOMAIN,
        "classify_sessions",
        _async_classify_sessions,
        CLASSIFY_SESSIONS_SCHEMA,
        supports_response=SupportsResponse.OPTIONAL,
    )
    for name, handler, schema in (
        ("invite_guest", async_invite_guest, INVITE_SCHEMA),
        ("revoke_guest", async_revoke_guest, REVOKE_SCHEMA),
    ):
        async_register_admin_service(
            hass,
            DOMAIN,
            name,
            handler,
            schema,
            supports_response=SupportsResponse.OPTIONAL,
        )
    hass.services.async_register(
        DOMAIN,
        "guest_report",
        async_guest_report,
        REPORT_SCHEMA,
        supports_response=SupportsResponse.ONLY,
    )
    async_register_admin_service(
        hass,
        DOMAIN,
        "restart",
        _async_restart,
        RESTART_SCHEMA,
        supports_response=SupportsResponse.OPTIONAL,
    )
    async_register_admin_service(
        hass,
        DOMAIN,
        "change_configuration",
        _async_change_configuration,
        CHANGE_CONFIGURATION_SCHEMA,
        supports_response=SupportsResponse.OPTIONAL,
    )
    hass.services.async_register(
        DOMAIN, "start_charging", _async_start, CHARGERS_SCHEMA
    )
    hass.services.async_register(DOMAIN, "stop_charging", _async_stop, CHARGERS_SCHEMA)
    hass.services.async_register(
        DOMAIN, "set_current_limit", _async_set_current_limit, LIMIT_SCHEMA
    )
    hass.services.async_register(
        DOMAIN, "unlock_connector", _async_unlock, UNLOCK_SCHEMA
    )
    hass.services.async_register(
        DOMAIN,
        "get_configuration",
        _async_get_configuration,
        GET_CONFIGURATION_SCHEMA,
        supports_response=SupportsResponse.ONLY,
    )
