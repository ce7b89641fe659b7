"""Availability: opening hours, the rule that joins them with enable and pause, and a charger closed and opened by it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import time, timedelta

from hypothesis import given, strategies as st
import pytest

from custom_components.homecharge.central.server import CENTRAL
from custom_components.homecharge.logic.availability import (
    is_open,
    operative,
    parse_time,
)
from homeassistant.const import ATTR_ENTITY_ID
from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util

from .simulators.charger import SimulatedCharger
from .test_central import PASSWORD, place_with_charger
from .test_charger_runtime import STATUS, _state, _until


@pytest.mark.parametrize(
    ("now", "opens", "closes", "open_"),
    [
        (time(12), time(8), time(17), True),
        (time(8), time(8), time(17), True),
        (time(17), time(8), time(17), False),
        (time(7, 59), time(8), time(17), False),
        (time(23), time(22), time(6), True),
        (time(5, 59), time(22), time(6), True),
        (time(6), time(22), time(6), False),
        (time(12), time(0), time(0), True),
    ],
)
def test_is_open(now: time, opens: time, closes: time, open_: bool) -> None:
    """Daytime hours, hours past midnight, and equal times (always open)."""
    assert is_open(now, opens, closes) is open_


@given(st.times(), st.times(), st.times())
def test_closing_time_is_closed_and_opening_time_open(
    now: time, opens: time, closes: time
) -> None:
    """Whatever the hours: open at opening, closed at closing (unless equal)."""
    assert is_open(opens, opens, closes)
    if opens != closes:
        assert not is_open(closes, opens, closes)
    assert isinstance(is_open(now, opens, closes), bool)


def test_parse_time() -> None:
    """Stored times, and midnight for garbage."""
    assert parse_time("07:30:00") == time(7, 30)
    assert parse_time(None) == time(0)
    assert parse_time("soon") == time(0)


@pytest.fixture
async def charger(hass: HomeAssistant) -> AsyncIterator[SimulatedCharger]:
    """Charger CP-1 of a place, connected."""
    entry = place_with_charger("CP-1")
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    simulated = SimulatedCharger(
        url=f"ws://127.0.0.1:{hass.data[CENTRAL].port}",
        charge_point_id="CP-1",
        password=PASSWORD,
        meter_interval_s=0.1,
    )
    await simulated.start()
    yield simulated
    await simulated.stop()


async def _set(hass: HomeAssistant, entity_id: str, value: time) -> None:
    await hass.services.async_call(
        "time",
        "set_value",
        {ATTR_ENTITY_ID: entity_id, "time": value.isoformat(timespec="seconds")},
        blocking=True,
    )


async def test_charger_closes_outside_its_hours(
    hass: HomeAssistant, charger: SimulatedCharger
) -> None:
    """Hours that do not include now make it unavailable; back inside, it opens."""
    await _until(hass, lambda: _state(hass, STATUS) == "ready")
    assert _state(hass, "time.garage_opens") == "00:00:00"
    now = dt_util.now()
    await _set(hass, "time.garage_opens", (now + timedelta(hours=2)).time())
    await _set(hass, "time.garage_closes", (now + timedelta(hours=3)).time())
    await _until(hass, lambda: charger.availability == "Inoperative")
    await _until(hass, lambda: _state(hass, STATUS) == "waiting")
    # The user's "enabled" is still on: it is the hours that closed it.
    assert _state(hass, "switch.garage_enabled") == "on"
    await _set(hass, "time.garage_opens", (now - timedelta(hours=1)).time())
    await _until(hass, lambda: charger.availability == "Operative")
    await _until(hass, lambda: _state(hass, STATUS) == "ready")


@pytest.mark.parametrize(
    ("enabled", "open_now", "paused", "expected"),
    [
        (True, True, False, True),
        (False, True, False, False),
        (True, False, False, False),
        (True, True, True, False),
        (False, False, True, False),
    ],
)
def test_operative_needs_all_three(
    enabled: bool, open_now: bool, paused: bool, expected: bool
) -> None:
    """Enabled, open and not paused: none of the three undoes another."""
    assert operative(enabled=enabled, open_now=open_now, paused=paused) is expected
