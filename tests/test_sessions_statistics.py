"""Sessions in the recorder's long-term statistics, read back through its API."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.recorder.common import (
    async_wait_recording_done,
)

from custom_components.homecharge.central.server import CENTRAL
from custom_components.homecharge.runtime.session_statistics import statistic_id
from homeassistant.components.recorder import Recorder, get_instance
from homeassistant.components.recorder.statistics import (
    list_statistic_ids,
    statistics_during_period,
)
from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util

from .simulators.raw import RawCharger
from .test_central import PASSWORD
from .test_sessions_runtime import GRID, SPOT, _flat_prices, _start, _stop
from .test_smart_charging import set_prices, smart_place


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(
    recorder_mock: Recorder, enable_custom_integrations: None
) -> None:
    """The recorder before Home Assistant (conftest's fixture enables ours late)."""


async def _read(
    hass: HomeAssistant, ids: set[str], start: datetime
) -> dict[str, list[Any]]:
    await async_wait_recording_done(hass)
    rows: dict[str, list[Any]] = await get_instance(hass).async_add_executor_job(
        statistics_during_period,
        hass,
        start,
        None,
        ids,
        "hour",
        None,
        {"state", "sum"},
    )
    return rows


async def test_sessions_become_hourly_statistics(hass: HomeAssistant) -> None:
    """Per connector and per place: kWh and cost per hour, sums running on."""
    set_prices(hass, _flat_prices())
    entry: MockConfigEntry = smart_place(grid_day_price=GRID, grid_night_price=GRID)
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    statistics = entry.runtime_data.statistics
    await statistics.async_update()

    raw = RawCharger(f"ws://127.0.0.1:{hass.data[CENTRAL].port}", "CP-1", PASSWORD)
    await raw.connect()
    try:
        await raw.boot()
        hour = dt_util.utcnow().replace(minute=0, second=0, microsecond=0)
        first_hour = hour - timedelta(hours=5)
        # 1 kWh in one hour, 3 kWh over the next two (1.5 each).
        tid = await _start(raw, first_hour + timedelta(minutes=30), 0)
        await _stop(raw, tid, first_hour + timedelta(minutes=45), 1_000)
        tid = await _start(raw, first_hour + timedelta(hours=2), 1_000)
        await _stop(raw, tid, first_hour + timedelta(hours=4), 4_000)
    finally:
        await raw.close()
    await hass.async_block_till_done()
    # The hours were imported before the sessions came: rewritten from there.
    await statistics.async_update()

    place_energy = statistic_id(entry.entry_id, None, "energy")
    charger_energy = statistic_id(entry.entry_id, ("CP-1", 1), "energy")
    place_cost = statistic_id(entry.entry_id, None, "cost")
    rows = await _read(
        hass,
        {place_energy, charger_energy, place_cost},
        first_hour - timedelta(hours=1),
    )
    energy = {
        dt_util.utc_from_timestamp(row["start"]): (row["state"], row["sum"])
        for row in rows[place_energy]
    }
    assert energy[first_hour] == pytest.approx((1.0, 1.0))
    assert energy[first_hour + timedelta(hours=1)] == pytest.approx((0.0, 1.0))
    assert energy[first_hour + timedelta(hours=2)] == pytest.approx((1.5, 2.5))
    assert energy[first_hour + timedelta(hours=3)] == pytest.approx((1.5, 4.0))
    assert [r["sum"] for r in rows[charger_energy]][-1] == pytest.approx(4.0)
    assert rows[place_cost][-1]["sum"] == pytest.approx(4.0 * (SPOT + GRID))

    ids = await get_instance(hass).async_add_executor_job(
        list_statistic_ids, hass, {place_energy, place_cost}
    )
    units = {
        item["statistic_id"]: item["statistics_unit_of_measurement"] for item in ids
    }
    assert units == {place_energy: "kWh", place_cost: hass.config.currency}
    names = {item["statistic_id"]: item["name"] for item in ids}
    assert names[place_energy] == "Home charging energy"


async def test_each_new_hour_runs_on_from_the_sums_kept(hass: HomeAssistant) -> None:
    """The hours since the last import are added, sums from those kept."""
    set_prices(hass, _flat_prices())
    entry: MockConfigEntry = smart_place(grid_day_price=GRID, grid_night_price=GRID)
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    statistics = entry.runtime_data.statistics
    await statistics.async_update()
    hour = dt_util.utcnow().replace(minute=0, second=0, microsecond=0)
    # As if the last import was three hours ago, with 10 kWh / 5.0 so far.
    archive = entry.runtime_data.sessions.archive
    archive.statistics["through"] = (hour - timedelta(hours=3)).isoformat()
    archive.statistics["sums"] = {"place": [10.0, 5.0]}

    raw = RawCharger(f"ws://127.0.0.1:{hass.data[CENTRAL].port}", "CP-1", PASSWORD)
    await raw.connect()
    try:
        await raw.boot()
        tid = await _start(raw, hour - timedelta(hours=2), 0)
        await _stop(raw, tid, hour - timedelta(hours=1, minutes=30), 2_000)
    finally:
        await raw.close()
    await hass.async_block_till_done()
    entry.runtime_data.sessions.stale_from = None
    await statistics.async_update()

    place_energy = statistic_id(entry.entry_id, None, "energy")
    rows = await _read(hass, {place_energy}, hour - timedelta(hours=4))
    energy = {
        dt_util.utc_from_timestamp(row["start"]): (row["state"], row["sum"])
        for row in rows[place_energy]
    }
    assert energy == pytest.approx(
        {
            hour - timedelta(hours=3): (0.0, 10.0),
            hour - timedelta(hours=2): (2.0, 12.0),
            hour - timedelta(hours=1): (0.0, 12.0),
        }
    )
    assert archive.statistics["through"] == hour.isoformat()
    assert archive.statistics["sums"]["place"] == pytest.approx(
        [12.0, 5.0 + 2.0 * (SPOT + GRID)]
    )
