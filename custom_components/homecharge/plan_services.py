"""Smart-charging actions: show a place's plan, set when a car must be ready."""

from __future__ import annotations

from datetime import datetime, time, timedelta

import voluptuous as vol

from homeassistant.const import ATTR_DEVICE_ID
from homeassistant.core import HomeAssistant, ServiceCall, ServiceResponse
from homeassistant.helpers import config_validation as cv
from homeassistant.util import dt as dt_util
from homeassistant.util.json import JsonValueType

from .logic.plan_settings import CONF_READY_BY, CONF_READY_BY_DAYS, CONF_READY_BY_ONCE
from .logic.planner.problem import WEEKDAYS, ChargerPlan, explain
from .runtime.charger import ChargerCoordinator
from .runtime.place import loaded_place
from .runtime.scheduling import PlaceScheduler

ATTR_CONFIG_ENTRY = "config_entry_id"
ATTR_TIME = "time"
ATTR_WEEKDAYS = "weekdays"
ATTR_ONCE = "once"

PLAN_SCHEMA = vol.Schema({vol.Required(ATTR_CONFIG_ENTRY): cv.string})
READY_BY_SCHEMA = vol.Schema(
    {
        vol.Required(ATTR_DEVICE_ID): vol.All(cv.ensure_list, [cv.string]),
        vol.Required(ATTR_TIME): cv.time,
        vol.Exclusive(ATTR_WEEKDAYS, "when"): vol.All(
            cv.ensure_list, [vol.In(WEEKDAYS)]
        ),
        vol.Exclusive(ATTR_ONCE, "when"): cv.boolean,
    }
)


def _scheduler(hass: HomeAssistant, entry_id: str) -> PlaceScheduler:
    return loaded_place(hass, entry_id).scheduler


def _charger_plan(plan: ChargerPlan) -> dict[str, JsonValueType]:
    return {
        "status": plan.status.value,
        "planned_start": plan.start.isoformat() if plan.start else None,
        "planned_end": plan.end.isoformat() if plan.end else None,
        "planned_energy_kwh": round(plan.energy_kwh, 3),
        "energy_needed_kwh": round(plan.need_kwh, 3),
        "need_based_on": plan.need_source.value if plan.need_source else None,
        "estimated_cost": round(plan.cost, 4),
        "ready_by": plan.ready_by.isoformat() if plan.ready_by else None,
    }


async def async_plan_charging(call: ServiceCall) -> ServiceResponse:
    """Plan the place again now and return the plan, slot by slot."""
    scheduler = _scheduler(call.hass, call.data[ATTR_CONFIG_ENTRY])
    await scheduler.async_replan()
    schedule = scheduler.data
    names = {key: charger.display_name for key, charger in scheduler.chargers.items()}
    slots: list[JsonValueType] = []
    if schedule.problem is not None and schedule.plan is not None:
        slots = list(
            explain(schedule.problem, schedule.plan, schedule.prices, schedule.cars)
        )
    plan = schedule.plan
    return {
        "place": scheduler.place.name,
        "planned_at": schedule.planned_at.isoformat() if schedule.planned_at else None,
        "price_source": schedule.price_source,
        "capacity_step_cost": round(plan.step_cost, 2) if plan else 0.0,
        "total_cost": round(plan.cost, 4) if plan else 0.0,
        "optimal": plan.exact if plan else True,
        # No plan delivering as much costs less (None: nothing proven).
        "cost_lower_bound": round(plan.lower_bound, 4)
        if plan and plan.lower_bound is not None
        else None,
        "chargers": {
            names[key]: _charger_plan(value) for key, value in schedule.chargers.items()
        },
        "slots": slots,
    }


def _next_at(at: time) -> datetime:
    now = dt_util.now()
    moment = datetime.combine(now.date(), at, tzinfo=now.tzinfo)
    return moment if moment > now else moment + timedelta(days=1)


async def async_set_ready_by(
    call: ServiceCall, chargers: list[ChargerCoordinator]
) -> None:
    """Daily, for some weekdays, or once: when these chargers' cars must be ready."""
    at: time = call.data[ATTR_TIME]
    text = at.strftime("%H:%M")
    for charger in chargers:
        # A connector of several keeps its own (charger.setting_key).
        if call.data.get(ATTR_ONCE):
            changes: dict[str, object] = {CONF_READY_BY_ONCE: _next_at(at).isoformat()}
        elif weekdays := call.data.get(ATTR_WEEKDAYS):
            days = dict(charger.setting(CONF_READY_BY_DAYS) or {})
            days.update(dict.fromkeys(weekdays, text))
            changes = {CONF_READY_BY_DAYS: days}
        else:
            # A new daily time replaces a one-off that was still ahead.
            changes = {CONF_READY_BY: text, CONF_READY_BY_ONCE: None}
        charger.update_subentry(
            {charger.setting_key(key): value for key, value in changes.items()}
        )
