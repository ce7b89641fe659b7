"""Diagnostics for a place and its chargers, with personal data redacted."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from homeassistant.components.diagnostics import async_redact_data
from homeassistant.const import CONF_NAME
from homeassistant.core import HomeAssistant

from . import HomeChargeConfigEntry
from .const import CONF_PASSWORD
from .logic.reimbursement.settings import PRIVATE_KEYS
from .logic.sessions.chain import broken_links
from .runtime.place import PlaceRuntime
from .runtime.reimbursement_sync import CONF_REGISTRATION, CONF_TOKEN_B

# A place's name is often its street address; a charger's password is a secret.
# Who and which car: a vehicle's number plate and its cards are personal.
# A person: how to reach him, his cards, his phone's Bluetooth identity (an
# IRK is a key) and the scanner that places him at home.
TO_REDACT = {
    CONF_NAME,
    "title",
    CONF_PASSWORD,
    "registration",
    "id_tags",
    "mobile",
    "email",
    "cards",
    "phone",
    "bluetooth_scanner",
    # A reimbursement: the home, the bill, the bank and the receiver's token;
    # our token B and the registration with the receiver's token C.
    *PRIVATE_KEYS,
    CONF_TOKEN_B,
    CONF_REGISTRATION,
}


def _sessions(runtime: PlaceRuntime) -> dict[str, Any]:
    """The ledger's shape (no id tags, no notes): months, chain, flags."""
    ledger = runtime.sessions.ledger
    flags: dict[str, int] = {}
    for session in ledger:
        for flag in session.flags:
            flags[flag.value] = flags.get(flag.value, 0) + 1
    return {
        "months_on_disk": sorted(runtime.sessions.archive.months),
        "held": len(ledger),
        "running": [
            {"charger": s.charger, "connector": s.connector, "started": s.started}
            for s in ledger
            if not s.finished
        ],
        "chain_length": ledger.seq,
        "broken_links": len(broken_links(ledger)),
        "flags": flags,
        "statistics": runtime.sessions.archive.statistics.get("through"),
    }


def _smart_charging(runtime: PlaceRuntime) -> dict[str, Any]:
    """What the last plan was made from and what it said."""
    schedule = runtime.scheduler.data
    plan = schedule.plan
    return {
        "planned_at": schedule.planned_at,
        "price_source": schedule.price_source,
        "slots": len(schedule.prices),
        "forecast_slots": sum(price.forecast for price in schedule.prices),
        "house_slots_learned": runtime.balancer.house.learned_slots,
        "cars": [asdict(car) | {"lines": sorted(car.lines)} for car in schedule.cars],
        "plan": None
        if plan is None
        else {
            "step": plan.step,
            "step_cost": plan.step_cost,
            "energy_cost": plan.energy_cost,
            "optimal": plan.exact,
            "currents": plan.currents,
        },
        "chargers": {key: asdict(value) for key, value in schedule.chargers.items()},
    }


async def async_get_config_entry_diagnostics(
    hass: HomeAssistant, entry: HomeChargeConfigEntry
) -> dict[str, Any]:
    """Return what a support request needs about a place."""
    runtime = entry.runtime_data
    return async_redact_data(
        {
            "entry": {
                "title": entry.title,
                "data": dict(entry.data),
                "options": dict(entry.options),
                "subentries": [
                    {"type": sub.subentry_type, "data": dict(sub.data)}
                    for sub in entry.subentries.values()
                ],
            },
            "settings": asdict(runtime.coordinator.data),
            "server": {"settings": asdict(runtime.central.settings)},
            "chargers": {
                charger.device_key: {
                    "status": charger.status,
                    "online": charger.online,
                    "limit_a": charger.limit_a,
                    # What it falls to by itself if Home Assistant dies.
                    "fallback": charger.data.fallback,
                    "fallback_a": charger.data.fallback_a,
                    # Whether it keeps our cards while Home Assistant is down.
                    "local_list": {
                        "status": charger.data.local_list_status,
                        "version": charger.data.local_list_version,
                    },
                    "state": {
                        **charger.data.stored(),
                        "limits": charger.data.limits,
                        "offered_a": charger.data.offered_a,
                        "boot": asdict(charger.data.boot)
                        if charger.data.boot
                        else None,
                        "capabilities": str(charger.data.capabilities),
                    },
                }
                for charger in runtime.chargers.values()
            },
            "load_balancing": {
                "meter": asdict(runtime.balancer.meter),
                "online": runtime.balancer.data.online,
                "failsafe": runtime.balancer.data.failsafe,
                "refused_payloads": runtime.balancer.data.refused,
                "last_decision": runtime.balancer.data.decision,
            },
            "smart_charging": _smart_charging(runtime),
            "sessions": _sessions(runtime),
        },
        TO_REDACT,
    )
