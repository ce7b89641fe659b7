"""A place's reimbursements at run time: the chargers they cover, and the asks.

After a session on a covered charger: the driver's rules first (a session
they make business is filed so), then "personal or work?" on his phone.

The seed app's multi EV mode asks after each session. Home Assistant's
Companion app shows a notification's ``actions`` as buttons and fires
``mobile_app_notification_action`` with the one tapped; the action names
the place, the session and the answer, so a tap after a restart still
finds it. Only a finished personal session with energy is asked about
(a session classified already, by a rule or by hand, is not).
"""

from __future__ import annotations

from datetime import timedelta
import logging
from typing import Any, Final

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import CALLBACK_TYPE, Event, HomeAssistant, callback
from homeassistant.helpers.translation import async_get_translations
from homeassistant.util import dt as dt_util

from ..const import (
    CONF_CHARGE_POINT_ID,
    DOMAIN,
    SUBENTRY_REIMBURSEMENT,
    SUBENTRY_VEHICLE,
)
from ..logic.reimbursement.rules import Rule, classify
from ..logic.reimbursement.settings import (
    CONF_COVERED_CHARGERS,
    CONF_NOTIFY,
    rules_of,
)
from ..logic.sessions.model import Classification, Session
from .sessions import PlaceSessions

_LOGGER = logging.getLogger(__name__)

ACTION_EVENT: Final = "mobile_app_notification_action"
_PREFIX: Final = "HOMECHARGE"
# A stop replayed from a charger's offline queue later than this is not asked
# about (the driver has long forgotten the trip).
_ASK_WITHIN: Final = timedelta(hours=24)


def action_of(entry_id: str, session: Session, answer: Classification) -> str:
    """The notification action naming the place, the session and the answer."""
    charger, transaction = session.charger, session.transaction_id
    return f"{_PREFIX}|{answer.value}|{entry_id}|{charger}|{transaction}"


def parse_action(action: str) -> tuple[Classification, str, str, str] | None:
    """(answer, place, charger, transaction) of one of our actions, else None."""
    parts = action.split("|", 4)
    if len(parts) != 5 or parts[0] != _PREFIX:
        return None
    try:
        answer = Classification(parts[1])
    except ValueError:
        return None
    return answer, parts[2], parts[3], parts[4]


def covered_chargers(entry: ConfigEntry) -> frozenset[str]:
    """The charger subentries some reimbursement of the place covers."""
    return frozenset(
        charger
        for sub in entry.subentries.values()
        if sub.subentry_type == SUBENTRY_REIMBURSEMENT
        for charger in sub.data.get(CONF_COVERED_CHARGERS, ())
    )


def _notify_targets(entry: ConfigEntry) -> dict[str, list[str]]:
    """Per charge point id, the notify services of the drivers covering it."""
    charge_points = {
        sub.subentry_id: str(sub.data.get(CONF_CHARGE_POINT_ID))
        for sub in entry.subentries.values()
    }
    targets: dict[str, list[str]] = {}
    for sub in entry.subentries.values():
        notify = sub.data.get(CONF_NOTIFY)
        if sub.subentry_type != SUBENTRY_REIMBURSEMENT or not notify:
            continue
        for charger in sub.data.get(CONF_COVERED_CHARGERS, ()):
            if charger in charge_points:
                targets.setdefault(charge_points[charger], []).append(str(notify))
    return targets


def _rules_by_charger(entry: ConfigEntry) -> dict[str, list[Rule]]:
    """Per charge point id, the rules of the reimbursements covering it."""
    charge_points = {
        sub.subentry_id: str(sub.data.get(CONF_CHARGE_POINT_ID))
        for sub in entry.subentries.values()
    }
    vehicles = {
        sub.subentry_id: sub.title
        for sub in entry.subentries.values()
        if sub.subentry_type == SUBENTRY_VEHICLE
    }
    found: dict[str, list[Rule]] = {}
    for sub in entry.subentries.values():
        if sub.subentry_type != SUBENTRY_REIMBURSEMENT:
            continue
        rules = rules_of(sub.data, vehicles)
        for charger in sub.data.get(CONF_COVERED_CHARGERS, ()):
            if charger in charge_points and rules:
                found.setdefault(charge_points[charger], []).extend(rules)
    return found


@callback
def async_ask_after_sessions(
    hass: HomeAssistant, entry: ConfigEntry, sessions: PlaceSessions
) -> CALLBACK_TYPE:
    """Ask after each covered session, and file the answers; the undo."""

    def stopped(session: Session) -> None:
        # Read now: a reconfigured reimbursement needs no reload.
        rules = _rules_by_charger(entry).get(session.charger)
        if (
            rules
            and session.classification is Classification.PERSONAL
            and classify(session, rules, dt_util.get_default_time_zone())
            is Classification.BUSINESS
        ):
            # The driver's rule answered for him: nothing to ask.
            sessions.amend(session.key, by=None, classification=Classification.BUSINESS)
            return
        wanted = _notify_targets(entry).get(session.charger)
        if (
            not wanted
            or session.classification is not Classification.PERSONAL
            or not session.energy_wh
            or session.stopped is None
            or dt_util.utcnow() - session.stopped > _ASK_WITHIN
        ):
            return
        hass.async_create_task(_async_ask(hass, entry, session, wanted))

    @callback
    def answered(event: Event[dict[str, Any]]) -> None:
        parsed = parse_action(str(event.data.get("action", "")))
        if parsed is None or parsed[1] != entry.entry_id:
            return
        answer, _, charger, transaction = parsed
        if sessions.ledger.get((charger, transaction)) is None:
            # Archived (the month closed) or never ours: nothing to file.
            _LOGGER.info("No session %s on %s to classify", transaction, charger)
            return
        sessions.amend(
            (charger, transaction), by=event.context.user_id, classification=answer
        )

    sessions.on_stopped.append(stopped)
    unlisten = hass.bus.async_listen(ACTION_EVENT, answered)

    def undo() -> None:
        sessions.on_stopped.remove(stopped)
        unlisten()

    return undo


async def _async_ask(
    hass: HomeAssistant, entry: ConfigEntry, session: Session, services: list[str]
) -> None:
    """Send the question with its two buttons to each driver's phone."""
    strings = await async_get_translations(
        hass, hass.config.language, "notifications", [DOMAIN]
    )
    prefix = f"component.{DOMAIN}.notifications"

    def text(key: str, fallback: str) -> str:
        return strings.get(f"{prefix}.{key}", fallback)

    charger = next(
        (
            sub.title
            for sub in entry.subentries.values()
            if str(sub.data.get(CONF_CHARGE_POINT_ID)) == session.charger
        ),
        session.charger,
    )
    placeholders = {
        "charger": charger,
        "place": entry.title,
        "energy": f"{session.energy_wh / 1000:.1f}",
    }
    data = {
        "title": text("classify.title", "{charger}").format(**placeholders),
        "message": text("classify.message", "{energy} kWh").format(**placeholders),
        "data": {
            "tag": f"{_PREFIX}|{entry.entry_id}|{session.charger}|"
            f"{session.transaction_id}",
            "actions": [
                {
                    "action": action_of(entry.entry_id, session, answer),
                    "title": text(f"classify_{answer.value}.message", answer.value),
                }
                for answer in (Classification.PERSONAL, Classification.BUSINESS)
            ],
        },
    }
    for service in services:
        name = service.removeprefix("notify.")
        if not hass.services.has_service("notify", name):
            _LOGGER.warning("No notify service %s to ask about a session", service)
            continue
        await hass.services.async_call("notify", name, data, blocking=True)
