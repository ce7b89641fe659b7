"""Guests' actions: invite (chargers, window, a message), revoke, and a usage report.

An invite changes the person's subentry (the local lists and phones follow
as for any change) and sends a translated message through Home Assistant's
notify entities or services (e-mail via SMTP, the Companion app): what the
guest may use, when, and how. Revoking ends the window now, which ends all
of the person's access at once. The report is the person's sessions in a
period, to bill a renter.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final

import voluptuous as vol

from homeassistant.config_entries import ConfigEntry, ConfigSubentry
from homeassistant.const import ATTR_DEVICE_ID
from homeassistant.core import ServiceCall, ServiceResponse
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers.translation import async_get_translations
from homeassistant.util import dt as dt_util

from .const import CONF_CHARGE_POINT_ID, DOMAIN, SUBENTRY_CHARGER, SUBENTRY_PERSON
from .logic.access import (
    CONF_CARDS,
    CONF_CHARGERS,
    CONF_USER,
    CONF_WINDOW_END,
    CONF_WINDOW_START,
    LOCAL_FORMAT,
    person_errors,
    revoked,
)
from .logic.proximity import CONF_PHONE, CONF_PHONE_ENTITY
from .runtime.charger_access import people_of
from .runtime.place import chargers_of_devices, loaded_place_entry
from .runtime.rights import async_caller_person
from .session_services import (
    ATTR_CONFIG_ENTRY,
    ATTR_END,
    ATTR_PERSON,
    ATTR_START,
    async_get_sessions,
)

ATTR_NOTIFY: Final = "notify"
ATTR_LANGUAGE: Final = "language"

INVITE_SCHEMA: Final = vol.Schema(
    {
        vol.Required(ATTR_CONFIG_ENTRY): cv.string,
        vol.Required(ATTR_PERSON): cv.string,
        vol.Optional(ATTR_DEVICE_ID): vol.All(cv.ensure_list, [cv.string]),
        vol.Optional(ATTR_START): cv.datetime,
        vol.Optional(ATTR_END): cv.datetime,
        vol.Optional(ATTR_NOTIFY, default=[]): vol.All(cv.ensure_list, [cv.string]),
        vol.Optional(ATTR_LANGUAGE): cv.string,
    }
)
REVOKE_SCHEMA: Final = vol.Schema(
    {
        vol.Required(ATTR_CONFIG_ENTRY): cv.string,
        vol.Required(ATTR_PERSON): cv.string,
        vol.Optional(ATTR_NOTIFY, default=[]): vol.All(cv.ensure_list, [cv.string]),
        vol.Optional(ATTR_LANGUAGE): cv.string,
    }
)
REPORT_SCHEMA: Final = vol.Schema(
    {
        vol.Required(ATTR_CONFIG_ENTRY): cv.string,
        vol.Required(ATTR_PERSON): cv.string,
        vol.Optional(ATTR_START): vol.Any(cv.datetime, cv.date),
        vol.Optional(ATTR_END): vol.Any(cv.datetime, cv.date),
        vol.Optional("include_sessions", default=True): cv.boolean,
    }
)


def _person(entry: ConfigEntry, wanted: str) -> ConfigSubentry:
    """A person of the place, by subentry id or by name."""
    for subentry in entry.subentries.values():
        if subentry.subentry_type == SUBENTRY_PERSON and (
            subentry.subentry_id == wanted
            or subentry.title.casefold() == wanted.strip().casefold()
        ):
            return subentry
    raise ServiceValidationError(
        translation_domain=DOMAIN,
        translation_key="person_not_found",
        translation_placeholders={"person": wanted},
    )


def _charge_points(call: ServiceCall, entry: ConfigEntry) -> list[str] | None:
    """The place's chargers named by device, as charge point ids."""
    if ATTR_DEVICE_ID not in call.data:
        return None
    found: list[str] = []
    for device_id, charger in zip(
        call.data[ATTR_DEVICE_ID],
        chargers_of_devices(call.hass, call.data[ATTR_DEVICE_ID]),
        strict=True,
    ):
        if charger.config_entry.entry_id != entry.entry_id:
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="not_a_charger",
                translation_placeholders={"device_id": device_id},
            )
        found.append(charger.config.charge_point_id)
    return list(dict.fromkeys(found))


def _local(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    aware = (
        moment
        if moment.tzinfo
        else moment.replace(tzinfo=dt_util.get_default_time_zone())
    )
    return dt_util.as_local(aware).strftime(LOCAL_FORMAT)


def _update(
    call: ServiceCall,
    entry: ConfigEntry,
    subentry: ConfigSubentry,
    data: dict[str, Any],
) -> None:
    """Store a person's new access, checked as the form checks it."""
    errors = person_errors(
        {"name": subentry.title, **data},
        others=people_of(entry),
        key=subentry.subentry_id,
        zone=dt_util.get_default_time_zone(),
        now=dt_util.utcnow(),
    )
    if errors:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key=next(iter(errors.values())),
            translation_placeholders={"person": subentry.title},
        )
    call.hass.config_entries.async_update_subentry(entry, subentry, data=data)


async def _async_strings(call: ServiceCall) -> dict[str, str]:
    """The messages in the language asked for (English where it has none)."""
    hass = call.hass
    language = call.data.get(ATTR_LANGUAGE) or hass.config.language
    strings = await async_get_translations(hass, language, "notifications", [DOMAIN])
    return strings or await async_get_translations(
        hass, "en", "notifications", [DOMAIN]
    )


def _targets(call: ServiceCall) -> list[tuple[str, str, bool]]:
    """Each notify target as (target, service, is an entity).

    All are checked before anything is sent or stored: a bad one changes nothing.
    """
    hass = call.hass
    targets = []
    for target in call.data[ATTR_NOTIFY]:
        domain, _, name = target.partition(".")
        entity = domain == "notify" and hass.states.get(target) is not None
        if not entity and not (
            domain == "notify" and name and hass.services.has_service("notify", name)
        ):
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="not_a_notify_target",
                translation_placeholders={"target": target},
            )
        # A notify entity takes send_message; a legacy notifier is its own service.
        targets.append((target, "send_message" if entity else name, entity))
    return targets


async def _async_send(
    call: ServiceCall,
    strings: dict[str, str],
    key: str,
    placeholders: dict[str, str],
) -> list[str]:
    """Send a translated message to each notify target; the targets reached."""
    targets = _targets(call)
    prefix = f"component.{DOMAIN}.notifications.{key}"
    title = strings[f"{prefix}.title"].format(**placeholders)
    message = strings[f"{prefix}.message"].format(**placeholders)
    for target, service, entity in targets:
        await call.hass.services.async_call(
            "notify",
            service,
            {"title": title, "message": message}
            | ({"entity_id": target} if entity else {}),
            blocking=True,
            context=call.context,
        )
    return [target for target, _, _ in targets]


async def async_invite_guest(call: ServiceCall) -> ServiceResponse:
    """Give a person chargers and a window, and tell him how to charge."""
    entry = loaded_place_entry(call.hass, call.data[ATTR_CONFIG_ENTRY])
    subentry = _person(entry, call.data[ATTR_PERSON])
    _targets(call)  # a bad target changes nothing
    data = dict(subentry.data)
    if (chargers := _charge_points(call, entry)) is not None:
        data[CONF_CHARGERS] = chargers
    if ATTR_START in call.data:
        data[CONF_WINDOW_START] = _local(call.data[ATTR_START])
    if ATTR_END in call.data:
        data[CONF_WINDOW_END] = _local(call.data[ATTR_END])
    _update(call, entry, subentry, data)
    names = {
        str(sub.data[CONF_CHARGE_POINT_ID]): sub.title
        for sub in entry.subentries.values()
        if sub.subentry_type == SUBENTRY_CHARGER
    }
    how = [
        kind
        for kind, present in (
            ("card", bool(data.get(CONF_CARDS))),
            ("phone", bool(data.get(CONF_PHONE) or data.get(CONF_PHONE_ENTITY))),
            ("login", bool(data.get(CONF_USER))),
        )
        if present
    ]
    strings = await _async_strings(call)
    prefix = f"component.{DOMAIN}.notifications"
    ways = [strings.get(f"{prefix}.way_{kind}.message", kind) for kind in how]
    forever = strings.get(f"{prefix}.forever.message", "-")
    placeholders = {
        "person": subentry.title,
        "place": entry.title,
        "chargers": ", ".join(names.get(cp, cp) for cp in data.get(CONF_CHARGERS, [])),
        "start": data.get(CONF_WINDOW_START) or "-",
        "end": data.get(CONF_WINDOW_END) or forever,
        "how": " ".join(ways) or "-",
    }
    sent = await _async_send(call, strings, "invite", placeholders)
    return {
        "person": subentry.title,
        "chargers": list(data.get(CONF_CHARGERS, [])),
        "start": data.get(CONF_WINDOW_START),
        "end": data.get(CONF_WINDOW_END),
        "notified": list(sent),
    }


async def async_revoke_guest(call: ServiceCall) -> ServiceResponse:
    """End all of a person's access now (his history stays)."""
    entry = loaded_place_entry(call.hass, call.data[ATTR_CONFIG_ENTRY])
    subentry = _person(entry, call.data[ATTR_PERSON])
    _targets(call)
    data = revoked(subentry.data, dt_util.now())
    # Stored as is: an ended window is what the form would refuse.
    call.hass.config_entries.async_update_subentry(entry, subentry, data=data)
    sent = await _async_send(
        call,
        await _async_strings(call),
        "revoke",
        {"person": subentry.title, "place": entry.title},
    )
    return {"person": subentry.title, "ended": data[CONF_WINDOW_END], "notified": sent}


async def async_guest_report(call: ServiceCall) -> ServiceResponse:
    """A person's sessions, energy and cost in a period (to bill a renter)."""
    entry = loaded_place_entry(call.hass, call.data[ATTR_CONFIG_ENTRY])
    subentry = _person(entry, call.data[ATTR_PERSON])
    caller = await async_caller_person(call.hass, entry, call.context)
    if caller is not None and caller.key != subentry.subentry_id:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="guest_not_allowed",
            translation_placeholders={"person": caller.name},
        )
    report = await async_get_sessions(call, None, subentry.title)
    return {"person": subentry.title, **(report or {})}
