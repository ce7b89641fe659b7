"""The chargers' energy against the house meter: hours that cannot be, and who."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.homecharge.central.server import CENTRAL
from custom_components.homecharge.const import DOMAIN
from custom_components.homecharge.logic.sessions.cross_check import excess_hours
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
from homeassistant.util import dt as dt_util

from .simulators.raw import RawCharger
from .test_central import PASSWORD
from .test_load_balancer import balanced_place
from .test_sessions_runtime import _start, _stop

H = datetime(2026, 12, 7, 1, tzinfo=UTC)


def test_hours_where_the_chargers_count_more_than_the_house_imported() -> None:
    charged = {
        H: {"CP-1": 5.0},  # fits: 5 of 6 imported
        H + timedelta(hours=1): {"CP-1": 6.5},  # 6.5 > 6 × 1.05 + 0.1
        H + timedelta(hours=2): {"CP-1": 4.0, "CP-2": 4.0},  # several
        H + timedelta(hours=3): {"CP-1": 9.0},  # no meter hour: not judged
    }
    imported = {H: 6.0, H + timedelta(hours=1): 6.0, H + timedelta(hours=2): 7.0}
    found = excess_hours(charged, imported)
    assert [(e.hour, e.charger) for e in found] == [
        (H + timedelta(hours=1), "CP-1"),
        (H + timedelta(hours=2), None),
    ]
    assert found[0].chargers_kwh == 6.5
    assert found[0].import_kwh == 6.0


async def test_a_drifting_register_becomes_a_repair_issue(
    hass: HomeAssistant, mqtt_mock: Any
) -> None:
    """Two hours of CP-1 alone over the import: an issue; a fitting hour ends it."""
    entry: MockConfigEntry = balanced_place()
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    runtime = entry.runtime_data
    now = dt_util.utcnow()
    first = now.replace(minute=0, second=0, microsecond=0) - timedelta(hours=4)
    # The meter's register at each hour's start: 2, 2, 2 and 10 kWh imported.
    for offset, kwh in enumerate((100.0, 102.0, 104.0, 106.0, 116.0)):
        runtime.balancer.hourly.add_register(first + timedelta(hours=offset), kwh)
    raw = RawCharger(f"ws://127.0.0.1:{hass.data[CENTRAL].port}", "CP-1", PASSWORD)
    await raw.connect()
    try:
        await raw.boot()
        # CP-1 says 5 kWh in each of the first two hours: more than the house.
        tid = await _start(raw, first, 0)
        await _stop(raw, tid, first + timedelta(hours=2), 10_000)
    finally:
        await raw.close()
    await hass.async_block_till_done()
    check = runtime.register_check
    check.check(now)
    issues = ir.async_get(hass)
    issue = issues.async_get_issue(DOMAIN, check.issue_id("CP-1"))
    assert issue is not None
    assert issue.translation_key == "register_drift"
    assert issue.translation_placeholders is not None
    assert issue.translation_placeholders["charger"] == "Garage"
    assert issue.translation_placeholders["charger_kwh"] == "5.00"
    assert issue.translation_placeholders["import_kwh"] == "2.00"

    # Later: an hour where CP-1 fits what the house imported ends the issue.
    raw = RawCharger(f"ws://127.0.0.1:{hass.data[CENTRAL].port}", "CP-1", PASSWORD)
    await raw.connect()
    try:
        await raw.boot()
        tid = await _start(raw, first + timedelta(hours=4), 10_000)
        await _stop(raw, tid, first + timedelta(hours=4, minutes=30), 13_000)
    finally:
        await raw.close()
    await hass.async_block_till_done()
    # The next hour: 4 kWh imported, CP-1 counted 3.
    runtime.balancer.hourly.add_register(first + timedelta(hours=5), 120.0)
    check.check(now + timedelta(hours=1))
    assert issues.async_get_issue(DOMAIN, check.issue_id("CP-1")) is None
