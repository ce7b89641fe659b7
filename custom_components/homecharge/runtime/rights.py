"""What the Home Assistant user behind a call may do here (``logic/access.py``).

Home Assistant has no per-entity permissions for non-admin users, so the
check is ours, in each entity's and action's handler. An administrator, an
automation (no user) and a user who is nobody's person keep what Home
Assistant gives them. A user linked to a person (a guest) may start and
stop charging and switch smart charging — on that person's chargers,
inside the window — and nothing else; a refusal is a translated error.
"""

from __future__ import annotations

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import Context, HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.util import dt as dt_util

from ..const import DOMAIN
from ..logic.access import Person, Right, person_of_user, refusal
from .charger_access import people_of


class GuestRefusedError(HomeAssistantError):
    """A guest's user asked for what his access does not give."""


async def async_guest(
    hass: HomeAssistant,
    entry: ConfigEntry,
    context: Context | None,
    right: Right,
    charger: str | None = None,
) -> Person | None:
    """
    The person the calling user is, once the right is checked.

    None for an administrator, an automation, or a user who is nobody's
    person. Raises ``GuestRefusedError`` when a person's user may not.
    """
    person = await async_caller_person(hass, entry, context)
    if person is None:
        return None
    if (
        reason := refusal(person, right, charger=charger, now=dt_util.utcnow())
    ) is not None:
        raise GuestRefusedError(
            translation_domain=DOMAIN,
            translation_key=reason,
            translation_placeholders={"person": person.name},
        )
    return person


async def async_caller_person(
    hass: HomeAssistant, entry: ConfigEntry, context: Context | None
) -> Person | None:
    """The place's person the calling (non-admin) user is, if any."""
    user_id = context.user_id if context is not None else None
    if user_id is None:
        return None
    user = await hass.auth.async_get_user(user_id)
    if user is None or user.is_admin:
        return None
    return person_of_user(people_of(entry), user_id)
