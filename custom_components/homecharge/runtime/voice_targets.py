"""Which charger a spoken request means, and acting on it as its entities do.

The voice intents' (``intents.py``) common part: the chargers of the loaded
places, found by what the user said (the charger's, its device's, its area's
or its place's name), by the speaker's area, or by the car plugged in; the
caller's rights checked as the entities and actions check them; an action
called with the caller's context; and the plan and the Limited by reason of
a charger.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Final

from homeassistant.config_entries import ConfigEntry, ConfigEntryState
from homeassistant.const import ATTR_DEVICE_ID
from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import (
    area_registry as ar,
    device_registry as dr,
    intent,
)

from ..const import DOMAIN
from ..logic.access import Right
from ..logic.limited_by import LimitedBy
from ..logic.planner.problem import ChargerPlan
from ..logic.voice import pick
from .balancing import PlaceBalancer
from .charger import ChargerCoordinator
from .rights import GuestRefusedError, async_guest
from .scheduling import PlaceScheduler

SLOT_CHARGER: Final = "charger"
SLOT_AREA: Final = "preferred_area_id"

NO_CHARGER: Final = "homecharge_no_charger"
WHICH_CHARGER: Final = "homecharge_which_charger"
REFUSED: Final = "homecharge_refused"
BAD_TIME: Final = "homecharge_bad_time"
UNREACHABLE: Final = "homecharge_unreachable"
REJECTED: Final = "homecharge_rejected"
# The actions' errors (their translation keys) as the sentence files' errors.
ACTION_ERRORS: Final = {
    "charger_unreachable": UNREACHABLE,
    "command_rejected": REJECTED,
}


@dataclass(frozen=True, slots=True)
class Target:
    """A charger (connector) a sentence may mean, and its place."""

    entry: ConfigEntry
    charger: ChargerCoordinator


@callback
def _targets(hass: HomeAssistant) -> Iterator[Target]:
    for entry in hass.config_entries.async_entries(DOMAIN):
        if entry.state is ConfigEntryState.LOADED:
            for charger in entry.runtime_data.chargers.values():
                yield Target(entry, charger)


def _names(hass: HomeAssistant, target: Target) -> list[str]:
    """What a charger may be called: its name, its device's, its area's, its place's."""
    names = [target.charger.display_name, target.entry.title]
    device = dr.async_get(hass).async_get_device(
        identifiers={(DOMAIN, target.charger.device_key)}
    )
    if device is not None:
        names += [n for n in (device.name_by_user, device.name) if n]
        if device.area_id and (
            area := ar.async_get(hass).async_get_area(device.area_id)
        ):
            names += [area.name, *area.aliases]
    return names


def _area_of(hass: HomeAssistant, target: Target) -> str | None:
    device = dr.async_get(hass).async_get_device(
        identifiers={(DOMAIN, target.charger.device_key)}
    )
    return device.area_id if device is not None else None


def slot_value(intent_obj: intent.Intent, name: str) -> Any:
    """What the user said for a slot (None: not said)."""
    slot = intent_obj.slots.get(name)
    return slot.get("value") if isinstance(slot, dict) else None


def chargers_named(intent_obj: intent.Intent) -> list[Target]:
    """The chargers the words name (all of them when none were said)."""
    hass = intent_obj.hass
    spoken = slot_value(intent_obj, SLOT_CHARGER)
    found = pick(
        ((t, _names(hass, t)) for t in _targets(hass)),
        str(spoken).strip() if spoken else None,
    )
    if not found:
        raise intent.IntentHandleError("No such charger", NO_CHARGER)
    return found


def one_charger(intent_obj: intent.Intent) -> Target:
    """
    The one charger meant.

    Named; else the one in the speaker's area; else the one a car is
    plugged in at.
    """
    found = chargers_named(intent_obj)
    if len(found) > 1 and (area := slot_value(intent_obj, SLOT_AREA)):
        here = [t for t in found if _area_of(intent_obj.hass, t) == area]
        found = here or found
    if len(found) > 1:
        plugged = [t for t in found if t.charger.data.plugged_in]
        found = plugged or found
    if len(found) > 1:
        raise intent.IntentHandleError("Several chargers match", WHICH_CHARGER)
    return found[0]


async def async_allowed(
    intent_obj: intent.Intent, target: Target, right: Right
) -> None:
    """The caller may do this at this charger (else the refusal's answer)."""
    try:
        await async_guest(
            intent_obj.hass,
            target.entry,
            intent_obj.context,
            right,
            target.charger.config.charge_point_id,
        )
    except GuestRefusedError as err:
        raise intent.IntentHandleError(str(err), REFUSED) from err


async def async_act(
    intent_obj: intent.Intent, target: Target, action: str, **data: Any
) -> None:
    """Run one of our actions on the charger's device, as its caller."""
    hass = intent_obj.hass
    device = dr.async_get(hass).async_get_device(
        identifiers={(DOMAIN, target.charger.device_key)}
    )
    if device is None:  # pragma: no cover - a loaded charger has its device
        raise intent.IntentHandleError("No device", NO_CHARGER)
    try:
        await hass.services.async_call(
            DOMAIN,
            action,
            {ATTR_DEVICE_ID: [device.id], **data},
            blocking=True,
            context=intent_obj.context,
        )
    except GuestRefusedError as err:
        raise intent.IntentHandleError(str(err), REFUSED) from err
    except HomeAssistantError as err:
        if (key := ACTION_ERRORS.get(err.translation_key or "")) is None:
            raise
        raise intent.IntentHandleError(str(err), key) from err


def speech(intent_obj: intent.Intent, **slots: Any) -> intent.IntentResponse:
    """The answer: the sentence file's response, filled with these slots."""
    response = intent_obj.create_response()
    response.async_set_speech_slots(slots)
    return response


async def async_plan(target: Target) -> ChargerPlan | None:
    """The charger's plan now (made now if there is none yet)."""
    scheduler: PlaceScheduler = target.entry.runtime_data.scheduler
    if scheduler.data.planned_at is None:
        await scheduler.async_replan()
    return scheduler.data.chargers.get(target.charger.key)


def limited_by(target: Target) -> LimitedBy:
    """What holds the car now, as the Limited by sensor says."""
    balancer: PlaceBalancer = target.entry.runtime_data.balancer
    return balancer.limited_by(target.charger)
