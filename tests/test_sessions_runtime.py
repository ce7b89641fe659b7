"""The sessions ledger in Home Assistant: a raw 1.6 charger's frames, priced, saved."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
import csv
from datetime import UTC, datetime, timedelta
import json
from pathlib import Path
from typing import Any

import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_capture_events,
)
import voluptuous as vol

from custom_components.homecharge.central.server import CENTRAL
from custom_components.homecharge.const import DOMAIN
from custom_components.homecharge.logic.sessions.chain import broken_links
from custom_components.homecharge.logic.sessions.model import Flag, Session
from custom_components.homecharge.logic.sessions.reports import COLUMNS
from custom_components.homecharge.runtime.sessions import (
    EVENT_SESSION_STOPPED,
    PlaceSessions,
)
from custom_components.homecharge.session_services import _bound, _moment
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import device_registry as dr
from homeassistant.util import dt as dt_util

from .simulators.raw import RawCharger
from .test_central import PASSWORD
from .test_smart_charging import set_prices, smart_place

SPOT = 0.80
GRID = 0.25


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _quarter(moment: datetime) -> datetime:
    return moment.replace(
        minute=moment.minute - moment.minute % 15, second=0, microsecond=0
    )


async def _until(hass: HomeAssistant, check: Callable[[], bool]) -> None:
    for _ in range(250):
        await hass.async_block_till_done()
        if check():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("condition not reached")


def _flat_prices(hours: int = 72) -> list[dict[str, Any]]:
    """SPOT NOK/kWh every hour from two days ago."""
    first = dt_util.utcnow().replace(minute=0, second=0, microsecond=0)
    first -= timedelta(hours=48)
    return [
        {
            "start": (first + timedelta(hours=h)).isoformat(),
            "end": (first + timedelta(hours=h + 1)).isoformat(),
            "price": SPOT,
        }
        for h in range(hours)
    ]


@pytest.fixture
async def place(hass: HomeAssistant) -> MockConfigEntry:
    """A spot-priced place (no markup, no VAT, a flat grid tariff) with CP-1."""
    set_prices(hass, _flat_prices())
    entry = smart_place(grid_day_price=GRID, grid_night_price=GRID)
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    return entry


@pytest.fixture
async def raw(hass: HomeAssistant, place: MockConfigEntry) -> AsyncIterator[RawCharger]:
    charger = RawCharger(f"ws://127.0.0.1:{hass.data[CENTRAL].port}", "CP-1", PASSWORD)
    await charger.connect()
    await charger.boot()
    yield charger
    await charger.close()


def _sessions(place: MockConfigEntry) -> PlaceSessions:
    sessions: PlaceSessions = place.runtime_data.sessions
    return sessions


def _session(place: MockConfigEntry, tid: str) -> Session:
    session = _sessions(place).ledger.get(("CP-1", tid))
    assert session is not None
    return session


async def _start(raw: RawCharger, at: datetime, meter: int = 0) -> str:
    answer = await raw.call(
        "StartTransaction",
        {
            "connectorId": 1,
            "idTag": "TAG-1",
            "meterStart": meter,
            "timestamp": _iso(at),
        },
    )
    assert answer is not None
    return str(answer[2]["transactionId"])


async def _meter(
    raw: RawCharger, tid: str, at: datetime, wh: int, watts: int | None = None
) -> None:
    """MeterValues: the energy register (and the power drawn, if given)."""
    sampled: list[dict[str, str]] = [
        {"value": str(wh), "measurand": "Energy.Active.Import.Register", "unit": "Wh"}
    ]
    if watts is not None:
        sampled.append(
            {"value": str(watts), "measurand": "Power.Active.Import", "unit": "W"}
        )
    await raw.call(
        "MeterValues",
        {
            "connectorId": 1,
            "transactionId": int(tid),
            "meterValue": [{"timestamp": _iso(at), "sampledValue": sampled}],
        },
    )


async def _stop(
    raw: RawCharger, tid: str, at: datetime, meter: int, reason: str = "Local"
) -> None:
    await raw.call(
        "StopTransaction",
        {
            "transactionId": int(tid),
            "meterStop": meter,
            "timestamp": _iso(at),
            "reason": reason,
        },
    )


async def _status(raw: RawCharger, status: str) -> None:
    await raw.call(
        "StatusNotification",
        {"connectorId": 1, "errorCode": "NoError", "status": status},
    )


async def test_an_offline_queue_lands_each_session_where_it_belongs(
    hass: HomeAssistant, place: MockConfigEntry, raw: RawCharger
) -> None:
    """Session 1 ended offline; its stop comes after session 2 began."""
    now = dt_util.utcnow()
    begin = _quarter(now) - timedelta(hours=3)
    first = await _start(raw, begin, 10_000)
    await _meter(raw, first, begin + timedelta(minutes=15), 12_000)
    second = await _start(raw, begin + timedelta(hours=2), 20_000)
    await _meter(raw, second, begin + timedelta(hours=2, minutes=15), 21_000)
    # The late stop of the first: its own energy, not against the second's start.
    await _stop(raw, first, begin + timedelta(minutes=30), 14_000)
    await hass.async_block_till_done()

    one, two = _session(place, first), _session(place, second)
    assert one.energy_wh == 4_000
    assert list(one.slots.values()) == [2_000, 2_000]
    assert Flag.STOP_INFERRED not in one.flags
    assert not two.finished
    assert two.energy_wh == 1_000
    charger = next(iter(place.runtime_data.chargers.values()))
    assert charger.data.transaction_id == second
    assert charger.data.session_energy_kwh == pytest.approx(1.0)

    # Priced per slot: spot (no markup, no VAT) plus the grid's energy part.
    assert one.cost == pytest.approx(4.0 * (SPOT + GRID))
    (slot_cost, *_) = one.costs.values()
    assert slot_cost.spot == pytest.approx(SPOT)
    assert slot_cost.grid == pytest.approx(GRID)
    assert one.cost_complete
    assert broken_links(_sessions(place).ledger) == []


async def test_a_start_sent_again_gets_the_same_transaction(
    hass: HomeAssistant, place: MockConfigEntry, raw: RawCharger
) -> None:
    """The charger missed our answer and sent its StartTransaction again."""
    at = dt_util.utcnow() - timedelta(minutes=5)
    first = await _start(raw, at, 500)
    again = await _start(raw, at, 500)
    assert again == first
    assert len(_sessions(place).ledger) == 1
    # A new transaction later gets a new number.
    assert await _start(raw, at + timedelta(minutes=1), 600) != first


async def test_a_price_that_comes_late_fills_in_the_cost(
    hass: HomeAssistant, place: MockConfigEntry, raw: RawCharger
) -> None:
    """A slot without a price is marked, never a silent zero, and filled later."""
    set_prices(hass, [])
    await hass.async_block_till_done()
    at = _quarter(dt_util.utcnow()) - timedelta(days=3)
    tid = await _start(raw, at, 0)
    await _stop(raw, tid, at + timedelta(minutes=10), 1_000)
    await hass.async_block_till_done()
    session = _session(place, tid)
    assert Flag.PRICE_MISSING in session.flags
    assert not session.cost_complete
    prices = [
        {
            "start": at.isoformat(),
            "end": (at + timedelta(hours=1)).isoformat(),
            "price": 2.0,
        },
        *_flat_prices(),
    ]
    set_prices(hass, prices)
    await _until(hass, lambda: Flag.PRICE_MISSING not in session.flags)
    assert session.cost == pytest.approx(1.0 * (2.0 + GRID))


async def test_sessions_survive_a_reload_and_a_boot_closes_what_was_left(
    hass: HomeAssistant,
    place: MockConfigEntry,
    raw: RawCharger,
    hass_storage: dict[str, Any],
) -> None:
    """Saved by month; a charger that reboots closes its unfinished session."""
    at = _quarter(dt_util.utcnow()) - timedelta(hours=1)
    done = await _start(raw, at, 1_000)
    await _stop(raw, done, at + timedelta(minutes=20), 3_000)
    left = await _start(raw, at + timedelta(minutes=30), 3_000)
    await _meter(raw, left, at + timedelta(minutes=40), 3_500)
    await raw.close()
    assert await hass.config_entries.async_reload(place.entry_id)
    await hass.async_block_till_done()
    key = f"{DOMAIN}.{place.entry_id}.sessions"
    assert hass_storage[key]["data"]["seq"] == 1
    month = dt_util.as_local(at).strftime("%Y-%m")
    stored = hass_storage[f"{key}.{month}"]["data"]["sessions"]
    assert [item["t"] for item in stored] == [done, left]

    restored = _session(place, done)
    assert restored.energy_wh == 2_000
    assert restored.cost == pytest.approx(2.0 * (SPOT + GRID))
    running = _session(place, left)
    assert not running.finished

    ended = async_capture_events(hass, EVENT_SESSION_STOPPED)
    again = RawCharger(f"ws://127.0.0.1:{hass.data[CENTRAL].port}", "CP-1", PASSWORD)
    await again.connect()
    try:
        await again.boot()
        # A charger that only reconnected says so: still charging, still open.
        await _status(again, "Charging")
        await hass.async_block_till_done()
        assert not running.finished
        await again.boot()
        # Booted again, and the connector is idle: the session it left open ends.
        await _status(again, "Available")
        await _until(hass, lambda: running.finished)
        assert Flag.STOP_INFERRED in running.flags
        assert running.meter_stop_wh == 3_500
        assert running.energy_wh == 500
        assert broken_links(_sessions(place).ledger) == []
        # Ended all the same: told as any stop is (event, rules, the phone).
        await hass.async_block_till_done()
        assert [(e.data["transaction_id"], e.data["energy_kwh"]) for e in ended] == [
            (left, 0.5)
        ]
    finally:
        await again.close()


async def test_the_chargers_session_sensors(
    hass: HomeAssistant, place: MockConfigEntry, raw: RawCharger
) -> None:
    """Last session, today and this month, in kWh and in the home currency."""
    now = dt_util.utcnow()
    begin = now - timedelta(minutes=20)
    tid = await _start(raw, begin, 5_000)
    await _meter(raw, tid, now - timedelta(minutes=10), 6_000)
    running = hass.states.get("sensor.garage_session_cost")
    assert running is not None
    assert float(running.state) == pytest.approx(1.0 * (SPOT + GRID), abs=0.01)
    await _stop(raw, tid, now - timedelta(minutes=1), 7_000)
    await hass.async_block_till_done()

    def value(key: str) -> float:
        state = hass.states.get(f"sensor.garage_{key}")
        assert state is not None, key
        return float(state.state)

    assert value("last_session_energy") == pytest.approx(2.0)
    assert value("last_session_cost") == pytest.approx(2.0 * (SPOT + GRID), abs=0.01)
    assert value("last_session_duration") == pytest.approx(19.0)
    assert value("last_session_average_price") == pytest.approx(SPOT + GRID)
    state = hass.states.get("sensor.garage_last_session_cost")
    assert state is not None
    assert state.attributes["unit_of_measurement"] == hass.config.currency
    # Counted by slot: only what fell after local midnight is today's.
    midnight = dt_util.as_utc(dt_util.start_of_local_day())
    if begin >= midnight:
        assert value("energy_today") == pytest.approx(2.0)
        assert value("cost_today") == pytest.approx(2.0 * (SPOT + GRID), abs=0.01)
    month = dt_util.as_utc(dt_util.start_of_local_day().replace(day=1))
    if begin >= month:
        assert value("energy_this_month") == pytest.approx(2.0)
        assert value("energy_last_month") == 0.0
    today = hass.states.get("sensor.garage_cost_today")
    assert today is not None
    assert today.attributes["state_class"] == "total"
    assert dt_util.parse_datetime(today.attributes["last_reset"]) == midnight


async def _two_sessions(raw: RawCharger) -> tuple[str, str, datetime]:
    """Yesterday's (2 kWh, tag A) and today's (1 kWh, tag B), both finished."""
    today = dt_util.start_of_local_day()
    first_at = dt_util.as_utc(today - timedelta(hours=12))
    first = await _start(raw, first_at, 0)
    await _stop(raw, first, first_at + timedelta(minutes=30), 2_000)
    second_at = max(dt_util.utcnow() - timedelta(minutes=30), dt_util.as_utc(today))
    answer = await raw.call(
        "StartTransaction",
        {
            "connectorId": 1,
            "idTag": "TAG-B",
            "meterStart": 2_000,
            "timestamp": _iso(second_at),
        },
    )
    assert answer is not None
    second = str(answer[2]["transactionId"])
    await _stop(raw, second, second_at + timedelta(minutes=1), 3_000)
    return first, second, dt_util.as_utc(today)


async def test_get_sessions_filters_groups_and_totals(
    hass: HomeAssistant, place: MockConfigEntry, raw: RawCharger
) -> None:
    first, second, _today = await _two_sessions(raw)
    response = await hass.services.async_call(
        DOMAIN,
        "get_sessions",
        {"config_entry_id": place.entry_id, "group_by": "day"},
        blocking=True,
        return_response=True,
    )
    assert response is not None
    assert response["totals"] == {
        "sessions": 2,
        "energy_kwh": 3.0,
        "cost": round(3.0 * (SPOT + GRID), 2),
        "cost_complete": True,
    }
    assert [day["energy_kwh"] for day in response["groups"].values()] == [2.0, 1.0]
    rows = response["sessions"]
    assert [r["transaction_id"] for r in rows] == [first, second]
    assert rows[0]["id_tag"] == "TAG-1"
    assert rows[0]["energy_kwh"] == 2.0
    assert rows[0]["grid_cost"] == pytest.approx(2.0 * GRID)
    assert rows[0]["seal"]

    today = dt_util.now().date().isoformat()
    only_b = await hass.services.async_call(
        DOMAIN,
        "get_sessions",
        {
            "config_entry_id": place.entry_id,
            "start": today,
            "end": today,
            "id_tag": "TAG-B",
            "include_sessions": False,
        },
        blocking=True,
        return_response=True,
    )
    assert only_b is not None
    assert only_b["totals"]["sessions"] == 1
    assert "sessions" not in only_b


async def test_export_sessions_writes_csv_and_json(
    hass: HomeAssistant, place: MockConfigEntry, raw: RawCharger, tmp_path: Any
) -> None:
    await _two_sessions(raw)
    hass.config.config_dir = str(tmp_path)
    response = await hass.services.async_call(
        DOMAIN,
        "export_sessions",
        {"config_entry_id": place.entry_id},
        blocking=True,
        return_response=True,
    )
    assert response is not None
    path = Path(str(response["path"]))
    assert path.parent == tmp_path / "homecharge" / "exports"
    assert response["sessions"] == 2
    text = await hass.async_add_executor_job(path.read_text, "utf-8")
    rows = list(csv.DictReader(text.splitlines()))
    assert list(rows[0]) == list(COLUMNS)
    assert [float(r["energy_kwh"]) for r in rows] == [2.0, 1.0]

    as_json = await hass.services.async_call(
        DOMAIN,
        "export_sessions",
        {
            "config_entry_id": place.entry_id,
            "format": "json",
            "classification": "business",
        },
        blocking=True,
        return_response=True,
    )
    assert as_json is not None
    assert (
        json.loads(
            await hass.async_add_executor_job(Path(str(as_json["path"])).read_text)
        )
        == []
    )


async def test_update_session_keeps_who_changed_what(
    hass: HomeAssistant, place: MockConfigEntry, raw: RawCharger
) -> None:
    first, _second, _today = await _two_sessions(raw)
    device = dr.async_get(hass).async_get_device(identifiers={(DOMAIN, "CP-1")})
    assert device is not None
    updated = await hass.services.async_call(
        DOMAIN,
        "update_session",
        {
            "device_id": device.id,
            "transaction_id": first,
            "classification": "business",
            "note": "Client in Drammen",
        },
        blocking=True,
        return_response=True,
    )
    assert updated is not None
    assert updated["classification"] == "business"
    session = _session(place, first)
    assert [(c.field, c.new) for c in session.changes] == [
        ("classification", "business"),
        ("note", "Client in Drammen"),
    ]
    assert broken_links(_sessions(place).ledger) == []
    business = await hass.services.async_call(
        DOMAIN,
        "get_sessions",
        {"config_entry_id": place.entry_id, "classification": "business"},
        blocking=True,
        return_response=True,
    )
    assert business is not None
    assert business["totals"]["energy_kwh"] == 2.0
    with pytest.raises(ServiceValidationError) as err:
        await hass.services.async_call(
            DOMAIN,
            "update_session",
            {"device_id": device.id, "transaction_id": "999", "note": "x"},
            blocking=True,
            return_response=True,
        )
    assert err.value.translation_key == "unknown_session"
    with pytest.raises(ServiceValidationError) as reversed_period:
        await hass.services.async_call(
            DOMAIN,
            "get_sessions",
            {
                "config_entry_id": place.entry_id,
                "start": "2026-12-05",
                "end": "2026-12-01",
            },
            blocking=True,
            return_response=True,
        )
    assert reversed_period.value.translation_key == "period_reversed"


async def test_the_sessions_calendar(
    hass: HomeAssistant, place: MockConfigEntry, raw: RawCharger
) -> None:
    """Each session an event: charger, kWh, cost, who; on while one runs."""
    first, _second, _today = await _two_sessions(raw)
    entity = "calendar.home_charging_sessions"
    state = hass.states.get(entity)
    assert state is not None
    assert state.state == "off"
    now = dt_util.utcnow()
    response = await hass.services.async_call(
        "calendar",
        "get_events",
        {
            "entity_id": entity,
            "start_date_time": now - timedelta(days=2),
            "end_date_time": now + timedelta(hours=1),
        },
        blocking=True,
        return_response=True,
    )
    assert response is not None
    events = response[entity]["events"]  # type: ignore[index]
    assert [e["summary"] for e in events] == ["Garage: 2.0 kWh", "Garage: 1.0 kWh"]
    assert events[0]["description"] == (
        f"2.00 kWh · {2.0 * (SPOT + GRID):.2f} · TAG-1 · #{first}"
    )
    running = await _start(raw, dt_util.utcnow() - timedelta(minutes=2), 3_000)
    await _until(hass, lambda: hass.states.get(entity).state == "on")  # type: ignore[union-attr]
    assert hass.states.get(entity).attributes["message"] == "Garage: 0.0 kWh"  # type: ignore[union-attr]
    assert running


def _seed_v1(
    hass_storage: dict[str, Any], key: str, month: str, sessions: list[Any]
) -> None:
    """A place's sessions storage as version 1 wrote it: an index and a month."""
    hass_storage[key] = {
        "version": 1,
        "minor_version": 1,
        "key": key,
        "data": {
            "months": [month],
            "running": [],
            "seq": 1,
            "last_hash": "0" * 64,
            "statistics": {},
        },
    }
    hass_storage[f"{key}.{month}"] = {
        "version": 1,
        "minor_version": 1,
        "key": f"{key}.{month}",
        "data": {"sessions": sessions},
    }


async def test_an_unreadable_stored_session_is_kept_as_it_is(
    hass: HomeAssistant, hass_storage: dict[str, Any]
) -> None:
    """A broken item in a month's file is logged and written back untouched."""
    set_prices(hass, _flat_prices())
    entry = smart_place(grid_day_price=GRID, grid_night_price=GRID)
    key = f"{DOMAIN}.{entry.entry_id}.sessions"
    month = dt_util.now().strftime("%Y-%m")
    broken = {"c": "CP-1", "n": "not a number", "t": "1"}
    _seed_v1(hass_storage, key, month, [broken])
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    raw = RawCharger(f"ws://127.0.0.1:{hass.data[CENTRAL].port}", "CP-1", PASSWORD)
    await raw.connect()
    try:
        await raw.boot()
        tid = await _start(raw, dt_util.utcnow() - timedelta(minutes=5), 0)
        await _stop(raw, tid, dt_util.utcnow(), 500)
    finally:
        await raw.close()
    assert await hass.config_entries.async_unload(entry.entry_id)
    stored = hass_storage[f"{key}.{month}"]["data"]["sessions"]
    assert broken in stored
    assert [item.get("me") for item in stored if item != broken] == [500]


async def test_report_periods_and_places(
    hass: HomeAssistant, place: MockConfigEntry
) -> None:
    """Dates are whole local days, times as given; an unknown place is refused."""
    day = _moment("2026-12-01")
    assert _bound(day, end=False) == dt_util.as_utc(
        dt_util.start_of_local_day(dt_util.parse_datetime("2026-12-01T12:00:00"))
    )
    assert _bound(day, end=True) - _bound(day, end=False) in (
        timedelta(hours=23),
        timedelta(hours=24),
        timedelta(hours=25),
    )
    moment = _moment("2026-12-01T10:30:00+01:00")
    assert _bound(moment, end=False) == datetime(2026, 12, 1, 9, 30, tzinfo=UTC)
    naive = datetime(2026, 12, 1, 10, 30)  # noqa: DTZ001 - as a form gives it
    assert _moment(naive) is naive
    assert _bound(naive, end=False) == dt_util.as_utc(
        naive.replace(tzinfo=dt_util.get_default_time_zone())
    )
    with pytest.raises(vol.Invalid):
        _moment("yesterday")
    with pytest.raises(ServiceValidationError) as err:
        await hass.services.async_call(
            DOMAIN,
            "get_sessions",
            {"config_entry_id": "nope"},
            blocking=True,
            return_response=True,
        )
    assert err.value.translation_key == "not_a_place"


async def test_a_version_1_file_is_migrated(
    hass: HomeAssistant, hass_storage: dict[str, Any]
) -> None:
    """The first layout (prices and readings as rows) reads and saves as now."""
    set_prices(hass, _flat_prices())
    entry = smart_place(grid_day_price=GRID, grid_night_price=GRID)
    key = f"{DOMAIN}.{entry.entry_id}.sessions"
    start = _quarter(dt_util.utcnow()) - timedelta(hours=2)
    month = dt_util.as_local(start).strftime("%Y-%m")
    at = int(start.timestamp())
    old = {
        "c": "CP-1",
        "n": 1,
        "t": "7",
        "s": at,
        "ms": 1000,
        "e": at + 1800,
        "me": 3000,
        "q": 1,
        "p": "0" * 64,
        "h": "x",
        "sl": [at, [1000, 1000], None],
        "co": [[at, 0.8, 0.0, 0.0, 0.8, GRID], [at + 900, 0.8, 0.0, 0.0, 0.8, GRID]],
        "rd": [[at + 900, 2000]],
    }
    _seed_v1(hass_storage, key, month, [old])
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    session = entry.runtime_data.sessions.ledger.get(("CP-1", "7"))
    assert session is not None
    assert session.energy_wh == 2_000
    assert session.cost == pytest.approx(2.0 * (SPOT + GRID))
    assert [r.wh for pair in session.readings.values() for r in pair] == [2000, 2000]
    entry.runtime_data.sessions.amend(("CP-1", "7"), by=None, note="moved")
    assert await hass.config_entries.async_unload(entry.entry_id)
    saved = hass_storage[f"{key}.{month}"]
    assert saved["version"] == 2
    (item,) = saved["data"]["sessions"]
    assert isinstance(item["co"], dict)
    assert item["rd"][0] == at + 900
