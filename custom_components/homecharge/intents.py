"""Voice: homecharge's intents for Assist and for LLM conversation agents.

Registered once (``async_setup``), for every place. Home Assistant's own
agent needs sentences for them (``sentences/<lang>/homecharge.yaml``, copied
into the config with the user's consent: ``runtime/sentences.py``); an LLM
agent gets them as tools with their slot schemas, no sentences needed.

Each handler acts through what the entities and actions use — the
``set_ready_by``, ``start_charging`` and ``stop_charging`` actions (what the
charger's Charging switch does), the smart-charging switch, the plan, the
Limited by reason, the session ledger — with the caller's rights checked as
there. Answers are the sentence files' response templates, filled from the
speech slots set here; errors name a response of those files
(``homecharge_…``).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, Final

import voluptuous as vol

from homeassistant.core import HomeAssistant
from homeassistant.helpers import (
    config_validation as cv,
    intent,
)
from homeassistant.util import dt as dt_util

from .logic.access import Right
from .logic.charger_status import ChargerStatus
from .logic.sessions.reports import Totals, period_totals
from .logic.voice import (
    SlotError,
    charging_answer,
    clock,
    decimal,
    readiness,
    spoken_time,
    start_answer,
)
from .plan_services import ATTR_ONCE, ATTR_TIME
from .runtime.rights import async_caller_person
from .runtime.voice_targets import (
    BAD_TIME,
    SLOT_AREA,
    SLOT_CHARGER,
    Target,
    async_act,
    async_allowed,
    async_plan,
    chargers_named,
    limited_by,
    one_charger,
    slot_value,
    speech,
)

INTENT_CHARGE_BY: Final = "HomechargeChargeBy"
INTENT_CHARGE_FULL_NOW: Final = "HomechargeChargeFullNow"
INTENT_WHEN_READY: Final = "HomechargeWhenReady"
INTENT_COST_THIS_MONTH: Final = "HomechargeCostThisMonth"
INTENT_START_CHARGING: Final = "HomechargeStartCharging"
INTENT_STOP_CHARGING: Final = "HomechargeStopCharging"
INTENT_IS_CHARGING: Final = "HomechargeIsCharging"

CHARGER_SLOT: Final = {
    vol.Optional(
        SLOT_CHARGER,
        description="The charger, its place or its area, as the user said it; "
        "leave out when there is one charger or the car is plugged in at one",
    ): cv.string,
    vol.Optional(SLOT_AREA): cv.string,
}
TIME_SLOTS: Final = {
    vol.Optional("time", description="The clock time, HH:MM (24 h)"): cv.string,
    vol.Optional("hour"): vol.Coerce(float),
    vol.Optional("minute"): vol.Coerce(float),
    vol.Optional("offset"): vol.Coerce(float),
    vol.Optional("period"): vol.In(["am", "pm"]),
    vol.Optional(
        "daily",
        description="'daily' to change the daily ready-by time; "
        "leave out for the next time only",
    ): vol.In(["daily"]),
}


def async_setup_intents(hass: HomeAssistant) -> None:
    """Register the intents (once, for every place)."""
    for handler in (
        ChargeByIntent(),
        ChargeFullNowIntent(),
        WhenReadyIntent(),
        CostThisMonthIntent(),
        StartChargingIntent(),
        StopChargingIntent(),
        IsChargingIntent(),
    ):
        intent.async_register(hass, handler)


class ChargerIntent(intent.IntentHandler):
    """An intent about one charger (its slots: the charger, the area)."""

    @property
    def slot_schema(self) -> dict[Any, Any]:
        """A charger."""
        return dict(CHARGER_SLOT)

    async def _target(
        self, intent_obj: intent.Intent, right: Right | None = None
    ) -> Target:
        """The charger meant, the caller allowed ``right`` there if given."""
        self.async_validate_slots(intent_obj.slots)
        target = one_charger(intent_obj)
        if right is not None:
            await async_allowed(intent_obj, target, right)
        return target


class ChargeByIntent(intent.IntentHandler):
    """Charge the car by a time: once (the next time it comes) or daily."""

    intent_type = INTENT_CHARGE_BY
    description = (
        "Sets when the car at a homecharge EV charger must be charged and ready"
    )

    @property
    def slot_schema(self) -> dict[Any, Any]:
        """A charger, and a time."""
        return {**CHARGER_SLOT, **TIME_SLOTS}

    async def async_handle(self, intent_obj: intent.Intent) -> intent.IntentResponse:
        """Set the charger's ready-by time through the set_ready_by action."""
        slots = self.async_validate_slots(intent_obj.slots)
        values = {key: slot.get("value") for key, slot in slots.items()}
        try:
            at = spoken_time(values)
        except SlotError as err:
            raise intent.IntentHandleError(str(err), BAD_TIME) from err
        target = one_charger(intent_obj)
        daily = values.get("daily") == "daily"
        data: dict[str, Any] = {ATTR_TIME: at}
        if not daily:
            data[ATTR_ONCE] = True
        await async_act(intent_obj, target, "set_ready_by", **data)
        return speech(
            intent_obj,
            charger=target.charger.display_name,
            time=clock(at),
            daily=daily,
        )


class ChargeFullNowIntent(ChargerIntent):
    """Charge full now: the charger's smart charging off until the car leaves."""

    intent_type = INTENT_CHARGE_FULL_NOW
    description = (
        "Charges the car at a homecharge EV charger at full power now, "
        "ignoring the smart-charging plan until it is unplugged"
    )

    async def async_handle(self, intent_obj: intent.Intent) -> intent.IntentResponse:
        """Switch smart charging off, as the switch does."""
        target = await self._target(intent_obj, Right.SMART_CHARGING)
        target.charger.set_smart_charging(False)
        return speech(intent_obj, charger=target.charger.display_name)


class WhenReadyIntent(ChargerIntent):
    """When the car will be ready: from the place's charging plan."""

    intent_type = INTENT_WHEN_READY
    description = "Tells when the car at a homecharge EV charger will be charged"

    async def async_handle(self, intent_obj: intent.Intent) -> intent.IntentResponse:
        """Read the plan (made now if there is none yet)."""
        target = await self._target(intent_obj)
        charger = target.charger
        answer = readiness(
            await async_plan(target),
            plugged_in=charger.data.plugged_in,
            now=dt_util.now(),
            language=intent_obj.language,
        )
        response = speech(intent_obj, charger=charger.display_name, **answer)
        response.response_type = intent.IntentResponseType.QUERY_ANSWER
        return response


class CostThisMonthIntent(intent.IntentHandler):
    """What charging has cost this month: a charger, a place, or everything."""

    intent_type = INTENT_COST_THIS_MONTH
    description = (
        "Tells what charging at the homecharge EV chargers has cost this month"
    )

    @property
    def slot_schema(self) -> dict[Any, Any]:
        """A charger or a place (all of them when left out)."""
        return {
            vol.Optional(
                SLOT_CHARGER,
                description="A charger or place; leave out for all of them",
            ): cv.string
        }

    async def async_handle(self, intent_obj: intent.Intent) -> intent.IntentResponse:
        """Add up the month's slots of the sessions, as the cost sensors do."""
        self.async_validate_slots(intent_obj.slots)
        hass = intent_obj.hass
        found = chargers_named(intent_obj)
        today = dt_util.start_of_local_day()
        month = today.replace(day=1)
        start = dt_util.as_utc(month)
        end = dt_util.as_utc(
            dt_util.start_of_local_day((month + timedelta(days=32)).replace(day=1))
        )
        total = Totals()
        for target in found:
            # A guest hears of his own sessions only (as get_sessions shows).
            person = await async_caller_person(hass, target.entry, intent_obj.context)
            cp, connector = (
                target.charger.config.charge_point_id,
                target.charger.connector_id,
            )
            total += period_totals(
                (
                    s
                    for s in target.entry.runtime_data.sessions.ledger
                    if s.charger == cp
                    and s.connector == connector
                    and (person is None or s.person == person.name)
                ),
                start,
                end,
            )
        named = slot_value(intent_obj, SLOT_CHARGER)
        language = intent_obj.language
        response = speech(
            intent_obj,
            charger=(found[0].charger.display_name if len(found) == 1 else named)
            if named
            else None,
            cost=decimal(total.cost, language, 2),
            cost_value=round(total.cost, 2),
            currency=hass.config.currency,
            energy=decimal(total.wh / 1000, language, 1),
            energy_kwh=round(total.wh / 1000, 3),
            sessions=total.sessions,
            complete=total.complete,
        )
        response.response_type = intent.IntentResponseType.QUERY_ANSWER
        return response


class StartChargingIntent(ChargerIntent):
    """Start charging: what the charger's Charging switch does when turned on."""

    intent_type = INTENT_START_CHARGING
    description = (
        "Starts a charging session for the car plugged in at a homecharge "
        "EV charger (smart charging, if on, still picks the hours)"
    )

    async def async_handle(self, intent_obj: intent.Intent) -> intent.IntentResponse:
        """Start a session through the start_charging action, if there is a car."""
        target = await self._target(intent_obj, Right.CHARGE)
        charger = target.charger
        answer = start_answer(
            await async_plan(target),
            plugged_in=charger.data.plugged_in,
            session=charger.data.transaction_id is not None,
            limited=limited_by(target),
            now=dt_util.now(),
        )
        if answer["status"] == "start":
            await async_act(intent_obj, target, "start_charging")
            answer["status"] = "started"
        return speech(intent_obj, charger=charger.display_name, **answer)


class StopChargingIntent(ChargerIntent):
    """Stop charging: what the charger's Charging switch does when turned off."""

    intent_type = INTENT_STOP_CHARGING
    description = "Stops the charging session at a homecharge EV charger"

    async def async_handle(self, intent_obj: intent.Intent) -> intent.IntentResponse:
        """Stop the session through the stop_charging action, if one runs."""
        target = await self._target(intent_obj, Right.CHARGE)
        status = "no_session"
        if target.charger.data.transaction_id is not None:
            await async_act(intent_obj, target, "stop_charging")
            status = "stopped"
        return speech(intent_obj, charger=target.charger.display_name, status=status)


class IsChargingIntent(ChargerIntent):
    """Whether the car charges now: how fast and how much, or why not."""

    intent_type = INTENT_IS_CHARGING
    description = (
        "Tells whether the car at a homecharge EV charger is charging now, "
        "at what power and how much so far, or why not"
    )

    async def async_handle(self, intent_obj: intent.Intent) -> intent.IntentResponse:
        """Read the charger's state, its plan and what limits it."""
        target = await self._target(intent_obj)
        charger = target.charger
        data = charger.data
        answer = charging_answer(
            await async_plan(target),
            online=charger.online,
            plugged_in=data.plugged_in,
            session=data.transaction_id is not None,
            charging_status=charger.status is ChargerStatus.CHARGING,
            power_w=data.power_w,
            energy_kwh=data.session_energy_kwh,
            limited=limited_by(target),
            now=dt_util.now(),
            language=intent_obj.language,
        )
        response = speech(intent_obj, charger=charger.display_name, **answer)
        response.response_type = intent.IntentResponseType.QUERY_ANSWER
        return response
