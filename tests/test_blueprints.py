"""The automation blueprints, loaded into a test Home Assistant and run against homecharge.

Each blueprint is copied into the test instance's ``blueprints/automation/
homecharge/``, checked with Home Assistant's own blueprint schema, made into
an automation with ``use_blueprint``, and triggered for real: a charger (a
raw OCPP 1.6 charger on a real websocket) charges, prices change, a calendar
event begins, the clock reaches the report's time.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path
import shutil
from typing import Any

import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    MockModule,
    MockPlatform,
    async_fire_time_changed,
    mock_integration,
    mock_platform,
)

from custom_components.homecharge.central.server import CENTRAL
from custom_components.homecharge.const import DOMAIN
from custom_components.homecharge.logic.limits import LimitSource
from homeassistant.components.automation.helpers import async_get_blueprints
from homeassistant.components.blueprint.importer import _get_github_import_url
from homeassistant.components.calendar import CalendarEntity, CalendarEvent
from homeassistant.core import HomeAssistant, ServiceCall, callback
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.entity_platform import AddEntitiesCallback
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
from homeassistant.util.yaml import load_yaml_dict

from .reimbursement_places import booted_charger, covered_place
from .simulators.raw import RawCharger
from .test_access_runtime import _person, _place as _access_place
from .test_central import PASSWORD
from .test_charger_runtime import _state, _until
from .test_sessions_runtime import _meter, _start, _status, _stop
from .test_smart_charging import price_list, set_prices, smart_place

SOURCE = Path(__file__).parent.parent / "blueprints" / "automation" / "homecharge"
REPOSITORY = "https://github.com/homecharge/homecharge"
NAMES = (
    "notify_charged.yaml",
    "price_threshold_charging.yaml",
    "capacity_step_pause.yaml",
    "personal_or_work.yaml",
    "calendar_guest_access.yaml",
    "weekly_report.yaml",
)
PHONE = "notify.test_phone"


# Shared helpers ---------------------------------------------------------------


@pytest.fixture
def blueprints(hass: HomeAssistant, tmp_path: Path) -> Path:
    """A config folder of its own, with homecharge's blueprints where HA looks."""
    hass.config.config_dir = str(tmp_path)
    folder = Path(hass.config.path("blueprints", "automation", "homecharge"))
    folder.mkdir(parents=True)
    for path in SOURCE.glob("*.yaml"):
        shutil.copy(path, folder / path.name)
    return folder


@pytest.fixture
def sent(hass: HomeAssistant) -> list[dict[str, Any]]:
    """A phone's notify action: what it was sent."""
    calls: list[dict[str, Any]] = []

    @callback
    def record(call: ServiceCall) -> None:
        calls.append(dict(call.data))

    hass.services.async_register("notify", PHONE.removeprefix("notify."), record)
    return calls


async def _automation(
    hass: HomeAssistant, name: str, inputs: dict[str, Any], alias: str = "test"
) -> None:
    """An automation made from one blueprint; it must be valid and on."""
    assert await async_setup_component(
        hass,
        "automation",
        {
            "automation": [
                {
                    "alias": alias,
                    "use_blueprint": {"path": f"homecharge/{name}", "input": inputs},
                }
            ]
        },
    )
    await hass.async_block_till_done()
    assert _state(hass, f"automation.{alias}") == "on"


async def _connect(hass: HomeAssistant) -> RawCharger:
    raw = RawCharger(f"ws://127.0.0.1:{hass.data[CENTRAL].port}", "CP-1", PASSWORD)
    await raw.connect()
    await raw.boot()
    return raw


def _charger_device(hass: HomeAssistant) -> str:
    device = dr.async_get(hass).async_get_device(identifiers={(DOMAIN, "CP-1")})
    assert device is not None
    return device.id


def _place(
    ready_in: timedelta = timedelta(hours=10), **options: Any
) -> MockConfigEntry:
    """The smart-charging place of test_smart_charging, ready by a daily time."""
    base = smart_place(**options)
    charger = next(iter(base.subentries.values()))
    ready = (dt_util.now() + ready_in).strftime("%H:%M")
    return MockConfigEntry(
        domain=DOMAIN,
        title="Home",
        data=dict(base.data),
        options=dict(base.options),
        subentries_data=[
            {
                "data": {**charger.data, "ready_by_once": None, "ready_by": ready},
                "subentry_type": "charger",
                "title": "Garage",
                "unique_id": "CP-1",
            }
        ],
    )


async def _setup(hass: HomeAssistant, entry: MockConfigEntry) -> MockConfigEntry:
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    return entry


@pytest.fixture
async def raw(hass: HomeAssistant) -> AsyncIterator[list[RawCharger]]:
    """The raw chargers a test connects; closed after it."""
    made: list[RawCharger] = []
    yield made
    for charger in made:
        await charger.close()


# Every blueprint --------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
async def test_blueprint_is_valid_and_importable(
    hass: HomeAssistant, blueprints: Path, name: str
) -> None:
    """HA's blueprint schema takes it; its source URL is this repository's file."""
    blueprint = await async_get_blueprints(hass).async_get_blueprint(
        f"homecharge/{name}"
    )
    assert blueprint.domain == "automation"
    assert blueprint.validate() is None
    metadata = blueprint.metadata
    assert metadata["description"]
    assert metadata["name"].startswith("homecharge: ")
    url = f"{REPOSITORY}/blob/main/blueprints/automation/homecharge/{name}"
    assert metadata["source_url"] == url
    # What HA's importer fetches from that URL: the raw file in the repository.
    assert _get_github_import_url(url) == (
        "https://raw.githubusercontent.com/homecharge/homecharge/main/"
        f"blueprints/automation/homecharge/{name}"
    )
    # Every input has a name (the UI shows it) and every !input is defined.
    for key, value in blueprint.inputs.items():
        assert value, key
        assert value.get("name"), key
    raw_yaml = load_yaml_dict(str(blueprints / name))
    assert raw_yaml["blueprint"]["source_url"] == url


def test_every_blueprint_is_tested() -> None:
    """No blueprint in the folder escapes the tests below."""
    assert sorted(path.name for path in SOURCE.glob("*.yaml")) == sorted(NAMES)


# 1. Charged, or not ready in time ----------------------------------------------


async def test_notify_charged_and_cannot_be_ready_in_time(
    hass: HomeAssistant,
    blueprints: Path,
    sent: list[dict[str, Any]],
    raw: list[RawCharger],
) -> None:
    """A car that needs 200 kWh in 10 h is told how much it will have; then charged."""
    set_prices(hass, price_list())
    await _setup(hass, _place(default_energy_kwh=200.0))
    await _automation(
        hass,
        "notify_charged.yaml",
        {
            "charger_status": "sensor.garage_status",
            "smart_charging": "sensor.garage_smart_charging",
            "planned_energy": "sensor.garage_planned_energy",
            "energy_needed": "sensor.garage_energy_needed",
            "session_energy": "sensor.garage_session_energy",
            "ready_by": "time.garage_ready_by",
            "notify_action": PHONE,
        },
    )
    charger = await _connect(hass)
    raw.append(charger)
    await _status(charger, "Preparing")
    now = dt_util.utcnow()
    tid = await _start(charger, now)
    await _status(charger, "Charging")
    await _until(
        hass, lambda: _state(hass, "sensor.garage_smart_charging") == "cannot_finish"
    )
    await _until(hass, lambda: len(sent) == 1)
    planned = float(_state(hass, "sensor.garage_planned_energy"))
    # A 32 A, 3-phase IT circuit gives far less than 200 kWh in 10 hours.
    assert 0 < planned < 200
    ready = _state(hass, "time.garage_ready_by")[:5]
    assert sent[0] == {
        "title": "Garage",
        "message": f"The car cannot be ready by {ready}: it will have "
        f"{round(planned, 1)} of the 200.0 kWh it needs.",
    }

    # The car is full: the charger ends the session, the cable still in.
    await _meter(charger, tid, now + timedelta(seconds=1), 12_340)
    await _stop(charger, tid, now + timedelta(seconds=2), 12_340, reason="Other")
    await _status(charger, "Finishing")
    await _until(hass, lambda: _state(hass, "sensor.garage_status") == "complete")
    await _until(hass, lambda: len(sent) == 2)
    assert sent[1] == {
        "title": "Garage",
        "message": "The car is charged: 12.3 kWh this session.",
    }
    await hass.async_block_till_done()
    assert len(sent) == 2


# 2. Charge below a price, stop above another -----------------------------------


async def test_charge_below_a_price_and_stop_above_another(
    hass: HomeAssistant, blueprints: Path, raw: list[RawCharger]
) -> None:
    """homecharge's all-in price steers the Charging switch; no car, no start."""
    set_prices(hass, price_list())
    await _setup(hass, _place())
    charger = await _connect(hass)
    raw.append(charger)
    await _status(charger, "Available")
    await _until(hass, lambda: _state(hass, "sensor.home_current_price") == "1.0")
    await _automation(
        hass,
        "price_threshold_charging.yaml",
        {
            "price_sensor": "sensor.home_current_price",
            "charging_switches": ["switch.garage_charging"],
            "smart_charging_switches": ["switch.garage_smart_charging"],
            "plugged_in": ["binary_sensor.garage_plugged_in"],
            "cheap_below": 0.5,
            "expensive_above": 0.8,
        },
    )

    # Cheap now, but no car: nothing is started.
    set_prices(hass, price_list(cheap_from_h=-1))
    await _until(hass, lambda: _state(hass, "sensor.home_current_price") == "0.1")
    await hass.async_block_till_done()
    assert charger.calls_of("RemoteStartTransaction") == []
    assert _state(hass, "switch.garage_smart_charging") == "on"

    # A car plugged in while it is cheap: charge full now, started at once.
    await _status(charger, "Preparing")
    await _until(hass, lambda: bool(charger.calls_of("RemoteStartTransaction")))
    assert _state(hass, "switch.garage_smart_charging") == "off"
    (start,) = charger.calls_of("RemoteStartTransaction")
    assert start[1]["connectorId"] == 1
    tid = await _start(charger, dt_util.utcnow())
    await _status(charger, "Charging")
    await _until(hass, lambda: _state(hass, "switch.garage_charging") == "on")

    # Between the thresholds nothing changes; above the upper one it stops.
    set_prices(hass, [{**slot, "price": 0.6} for slot in price_list()])
    await _until(hass, lambda: _state(hass, "sensor.home_current_price") == "0.6")
    await hass.async_block_till_done()
    assert charger.calls_of("RemoteStopTransaction") == []
    set_prices(hass, price_list())
    await _until(hass, lambda: bool(charger.calls_of("RemoteStopTransaction")))
    (stop,) = charger.calls_of("RemoteStopTransaction")
    assert str(stop[1]["transactionId"]) == tid
    assert len(charger.calls_of("RemoteStartTransaction")) == 1


# 3. Pause for the rest of the hour ---------------------------------------------


def _last_limit(charger: RawCharger) -> float | None:
    """The limit of the last charging profile the charger was sent."""
    profiles = charger.calls_of("SetChargingProfile")
    if not profiles:
        return None
    profile = profiles[-1][1]["csChargingProfiles"]
    return float(profile["chargingSchedule"]["chargingSchedulePeriod"][0]["limit"])


def _house(hass: HomeAssistant, kwh: float, watts: float) -> None:
    hass.states.async_set(
        "sensor.house_energy_this_hour",
        str(kwh),
        {"device_class": "energy", "unit_of_measurement": "kWh"},
    )
    hass.states.async_set(
        "sensor.house_power",
        str(watts),
        {"device_class": "power", "unit_of_measurement": "W"},
    )


async def test_pause_for_the_rest_of_the_hour_before_the_step_rises(
    hass: HomeAssistant, blueprints: Path, raw: list[RawCharger]
) -> None:
    """This hour's energy plus the power until its end passes 4.8 kWh: 0 A until then."""
    set_prices(hass, price_list())
    entry = await _setup(hass, _place())
    charger = await _connect(hass)
    raw.append(charger)
    coordinator = next(iter(entry.runtime_data.chargers.values()))
    _house(hass, 1.0, 0.0)
    await _automation(
        hass,
        "capacity_step_pause.yaml",
        {
            "hour_energy": "sensor.house_energy_this_hour",
            "house_power": "sensor.house_power",
            "threshold": 4.8,
            "chargers": [_charger_device(hass)],
        },
    )
    now = dt_util.now()
    left = 1 - (now.minute * 60 + now.second + 1) / 3600
    # The rest of the hour at this power ends at 2.9 kWh: under the step.
    _house(hass, 1.0, 1.9 / left * 1000)
    await hass.async_block_till_done()
    assert LimitSource.ACTION not in coordinator.data.limits
    # No car: the charger has its circuit's 32 A.
    await _until(hass, lambda: _last_limit(charger) == 32.0)

    # At twice the power the hour would end at 8.6 kWh: paused.
    _house(hass, 1.0, 7.6 / left * 1000)
    await _until(hass, lambda: LimitSource.ACTION in coordinator.data.limits)
    assert coordinator.data.limits[LimitSource.ACTION] == 0.0
    # The charger is told 0 A.
    await _until(hass, lambda: _last_limit(charger) == 0)

    # Until the hour ends, not longer.
    next_hour = (dt_util.utcnow() + timedelta(hours=1)).replace(
        minute=0, second=0, microsecond=0
    )
    async_fire_time_changed(hass, next_hour - timedelta(seconds=3))
    await hass.async_block_till_done()
    assert coordinator.data.limits[LimitSource.ACTION] == 0.0
    async_fire_time_changed(hass, next_hour + timedelta(seconds=1))
    await _until(hass, lambda: LimitSource.ACTION not in coordinator.data.limits)


# 4. Personal or work? ------------------------------------------------------------


async def test_ask_personal_or_work_and_file_the_answer(
    hass: HomeAssistant, blueprints: Path, sent: list[dict[str, Any]]
) -> None:
    """A session ends: the phone is asked; its Work button makes it business."""
    entry = await covered_place(
        hass, {"tariffs": [], "notify_service": None}, title="Kari"
    )
    device = _charger_device(hass)
    await _automation(
        hass,
        "personal_or_work.yaml",
        {"charging_switch": "switch.garage_charging", "notify_action": PHONE},
    )
    now = dt_util.utcnow()
    begin = now - timedelta(hours=2)
    async with booted_charger(hass) as charger:
        tid = await _start(charger, begin, 1_000)
        await _until(hass, lambda: _state(hass, "switch.garage_charging") == "on")
        await _meter(charger, tid, begin + timedelta(hours=1), 9_000)
        await _stop(charger, tid, now - timedelta(minutes=1), 13_340, "EVDisconnected")
        await _until(hass, lambda: _state(hass, "switch.garage_charging") == "off")
        await _until(hass, lambda: len(sent) == 1)

        # A short one (0.2 kWh, under the minimum) is not asked about.
        short = await _start(charger, now, 20_000)
        await _until(hass, lambda: _state(hass, "switch.garage_charging") == "on")
        await _stop(charger, short, now + timedelta(seconds=30), 20_200)
        await _until(hass, lambda: _state(hass, "switch.garage_charging") == "off")
        await hass.async_block_till_done()
    assert len(sent) == 1
    started = dt_util.as_local(begin).strftime("%H:%M")
    key = f"HOMECHARGE_BLUEPRINT|{{}}|{device}|{tid}"
    assert sent[0] == {
        "title": "Garage",
        "message": f"12.3 kWh charged since {started}. Personal or work?",
        "data": {
            "tag": f"HOMECHARGE_BLUEPRINT|{device}|{tid}",
            "actions": [
                {"action": key.format("personal"), "title": "Personal"},
                {"action": key.format("business"), "title": "Work"},
            ],
        },
    }
    session = entry.runtime_data.sessions.ledger.get(("CP-1", tid))
    assert session is not None
    assert session.classification.value == "personal"

    # Another charger's answer (or homecharge's own) is not this one's.
    for action in (
        f"HOMECHARGE_BLUEPRINT|business|other-device|{tid}",
        f"HOMECHARGE|business|{entry.entry_id}|CP-1|{tid}x",
    ):
        hass.bus.async_fire("mobile_app_notification_action", {"action": action})
        await hass.async_block_till_done()
    session = entry.runtime_data.sessions.ledger.get(("CP-1", tid))
    assert session is not None
    assert session.classification.value == "personal"

    # The Work button.
    hass.bus.async_fire(
        "mobile_app_notification_action", {"action": key.format("business")}
    )
    await _until(
        hass,
        lambda: entry.runtime_data.sessions.ledger.get(
            ("CP-1", tid)
        ).classification.value
        == "business",
    )
    session = entry.runtime_data.sessions.ledger.get(("CP-1", tid))
    assert [(c.field, c.old, c.new) for c in session.changes] == [
        ("classification", "personal", "business")
    ]
    # The short session stays as it was.
    other = entry.runtime_data.sessions.ledger.get(("CP-1", short))
    assert other is not None
    assert other.classification.value == "personal"


# 5. A guest for a calendar event's time ------------------------------------------


class _Bookings(CalendarEntity):
    """A rental calendar: the events it was given."""

    _attr_name = "Cabin rentals"

    def __init__(self, events: list[CalendarEvent]) -> None:
        self._events = events

    @property
    def event(self) -> CalendarEvent | None:
        return None

    async def async_get_events(
        self, hass: HomeAssistant, start_date: datetime, end_date: datetime
    ) -> list[CalendarEvent]:
        return [
            event
            for event in self._events
            if event.start_datetime_local < end_date
            and event.end_datetime_local > start_date
        ]


async def _calendar(hass: HomeAssistant, events: list[CalendarEvent]) -> str:
    """A calendar entity of a test integration, holding ``events``."""

    async def setup(
        _hass: HomeAssistant,
        _config: Any,
        add: AddEntitiesCallback,
        _discovery: Any = None,
    ) -> None:
        add([_Bookings(events)])

    mock_integration(hass, MockModule("test_bookings"))
    mock_platform(
        hass, "test_bookings.calendar", MockPlatform(async_setup_platform=setup)
    )
    assert await async_setup_component(
        hass, "calendar", {"calendar": {"platform": "test_bookings"}}
    )
    await hass.async_block_till_done()
    return "calendar.cabin_rentals"


def _local(moment: datetime) -> str:
    return dt_util.as_local(moment).strftime("%Y-%m-%d %H:%M:%S")


def _renter(entry: MockConfigEntry) -> dict[str, Any]:
    (person,) = [s for s in entry.subentries.values() if s.subentry_type == "person"]
    return dict(person.data)


async def test_a_booking_gives_the_renter_the_charger_for_its_time(
    hass: HomeAssistant, blueprints: Path, sent: list[dict[str, Any]]
) -> None:
    """Invited at the booking's start for its window, told in Norwegian; revoked at its end."""
    now = dt_util.now().replace(microsecond=0)
    begin, end = now + timedelta(minutes=5), now + timedelta(minutes=10)
    calendar = await _calendar(
        hass,
        [
            CalendarEvent(start=begin, end=end, summary="Booking: Hansen"),
            CalendarEvent(
                start=begin + timedelta(minutes=1),
                end=begin + timedelta(minutes=2),
                summary="Cleaning",
            ),
        ],
    )
    entry = await _setup(
        hass, _access_place("restricted", _person("Cabin renter", chargers=[]))
    )
    await _automation(
        hass,
        "calendar_guest_access.yaml",
        {
            "calendar": calendar,
            "place": entry.entry_id,
            "person": "Cabin renter",
            "chargers": [_charger_device(hass)],
            "title_contains": "booking",
            "notify": [PHONE],
            "language": "nb",
            "revoke_at_end": True,
        },
    )
    assert _renter(entry)["chargers"] == []

    async_fire_time_changed(hass, begin)
    await _until(hass, lambda: _renter(entry)["chargers"] == ["CP-1"])
    renter = _renter(entry)
    assert (renter["window_start"], renter["window_end"]) == (
        _local(begin),
        _local(end),
    )
    (invite,) = sent
    assert invite["title"] == "Lading på Home"
    assert "Garage" in invite["message"]

    # The cleaning is no booking: nothing changes.
    async_fire_time_changed(hass, begin + timedelta(minutes=2))
    await hass.async_block_till_done()
    assert len(sent) == 1
    assert _renter(entry) == renter

    # The booking's end: his access ends now, and he is told.
    async_fire_time_changed(hass, end)
    await _until(hass, lambda: len(sent) == 2)
    renter = _renter(entry)
    assert renter["window_start"] is None
    assert renter["window_end"] <= _local(dt_util.now())


async def test_an_all_day_booking_runs_from_check_in_to_check_out(
    hass: HomeAssistant, blueprints: Path, sent: list[dict[str, Any]]
) -> None:
    """Booking sites' all-day events: first day 15:00 to the day after the last, 11:00."""
    today = dt_util.now().date()
    first, after_last = today + timedelta(days=1), today + timedelta(days=8)
    calendar = await _calendar(
        hass, [CalendarEvent(start=first, end=after_last, summary="Hansen")]
    )
    entry = await _setup(hass, _access_place("restricted", _person("Cabin renter")))
    # Invited (offset from the first day's midnight) a few minutes from now.
    midnight = dt_util.start_of_local_day(first)
    when = dt_util.now().replace(microsecond=0) + timedelta(minutes=5)
    seconds = int((midnight - when).total_seconds())
    offset = f"-{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"
    await _automation(
        hass,
        "calendar_guest_access.yaml",
        {
            "calendar": calendar,
            "place": entry.entry_id,
            "person": "cabin renter",
            "invite_at": offset,
            "revoke_at_end": True,
        },
    )
    async_fire_time_changed(hass, when)
    await _until(hass, lambda: _renter(entry)["window_end"] is not None)
    renter = _renter(entry)
    assert renter["window_start"] == f"{first.isoformat()} 15:00:00"
    assert renter["window_end"] == f"{after_last.isoformat()} 11:00:00"
    # No chargers given: his own kept; no notify target: nothing sent.
    assert renter["chargers"] == ["CP-1"]
    assert sent == []


# 6. A weekly report ------------------------------------------------------------------

SPOT, GRID = 0.80, 0.25
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _prices_since(days: int) -> list[dict[str, Any]]:
    """SPOT per kWh every hour from ``days`` ago until tomorrow."""
    first = dt_util.utcnow().replace(minute=0, second=0, microsecond=0)
    first -= timedelta(days=days)
    return [
        {
            "start": (first + timedelta(hours=h)).isoformat(),
            "end": (first + timedelta(hours=h + 1)).isoformat(),
            "price": SPOT,
        }
        for h in range((days + 1) * 24)
    ]


async def _session(raw: RawCharger, start: datetime, wh: int) -> None:
    tid = await _start(raw, start, 100_000)
    await _meter(raw, tid, start + timedelta(minutes=20), 100_000 + wh // 2)
    await _stop(raw, tid, start + timedelta(minutes=40), 100_000 + wh)


async def test_a_weekly_report_of_the_seven_days_before(
    hass: HomeAssistant,
    blueprints: Path,
    sent: list[dict[str, Any]],
    raw: list[RawCharger],
) -> None:
    """On its day and time: the last seven days' sessions, kWh and cost, by notify."""
    set_prices(hass, _prices_since(10))
    entry = await _setup(hass, _place(grid_day_price=GRID, grid_night_price=GRID))
    charger = await _connect(hass)
    raw.append(charger)
    today = dt_util.start_of_local_day()
    now = dt_util.now()
    # In the week: 3 days ago and 6 days ago. Not: 8 days ago, and today.
    await _session(charger, today - timedelta(days=3) + timedelta(hours=10), 4_000)
    await _session(charger, today - timedelta(days=6) + timedelta(hours=20), 2_400)
    await _session(charger, today - timedelta(days=8) + timedelta(hours=12), 1_000)
    await _session(charger, max(today, now - timedelta(minutes=2)), 700)
    await hass.async_block_till_done()

    at = (now + timedelta(minutes=2)).replace(microsecond=0)
    weekday = WEEKDAYS[now.weekday()]
    other_day = WEEKDAYS[(now.weekday() + 1) % 7]
    assert await async_setup_component(
        hass,
        "automation",
        {
            "automation": [
                {
                    "alias": alias,
                    "use_blueprint": {
                        "path": "homecharge/weekly_report.yaml",
                        "input": {
                            "place": entry.entry_id,
                            "weekday": day,
                            "at": at.strftime("%H:%M:%S"),
                            "notify_action": PHONE,
                        },
                    },
                }
                for alias, day in (("today", weekday), ("tomorrow", other_day))
            ]
        },
    )
    await hass.async_block_till_done()
    assert _state(hass, "automation.today") == "on"
    assert _state(hass, "automation.tomorrow") == "on"
    async_fire_time_changed(hass, at)
    await _until(hass, lambda: len(sent) == 1)
    await hass.async_block_till_done()

    # What homecharge itself says of that week ...
    first = (now - timedelta(days=7)).date()
    last = (now - timedelta(days=1)).date()
    totals = (
        await hass.services.async_call(
            DOMAIN,
            "get_sessions",
            {
                "config_entry_id": entry.entry_id,
                "start": first.isoformat(),
                "end": last.isoformat(),
            },
            blocking=True,
            return_response=True,
        )
    )["totals"]
    assert totals == {
        "sessions": 2,
        "energy_kwh": 6.4,
        "cost": round(6.4 * (SPOT + GRID), 2),
        "cost_complete": True,
    }
    # ... is what the report says, once (not on another weekday).
    assert sent == [
        {
            "title": f"Charging {first.isoformat()} – {last.isoformat()}",
            "message": f"2 sessions, 6.4 kWh, {6.4 * (SPOT + GRID):.2f} "
            f"{hass.config.currency}.",
        }
    ]


async def test_notify_charged_once_when_the_plan_is_done(
    hass: HomeAssistant,
    blueprints: Path,
    sent: list[dict[str, Any]],
    raw: list[RawCharger],
) -> None:
    """Smart charging delivered what the car needs: told once, not again at the stop."""
    set_prices(hass, price_list(cheap_from_h=-1))
    await _setup(hass, _place(default_energy_kwh=5.0))
    await _automation(
        hass,
        "notify_charged.yaml",
        {
            "charger_status": "sensor.garage_status",
            "smart_charging": "sensor.garage_smart_charging",
            "planned_energy": "sensor.garage_planned_energy",
            "energy_needed": "sensor.garage_energy_needed",
            "session_energy": "sensor.garage_session_energy",
            "notify_action": PHONE,
            "charged_title": "Car",
            "charged_message": "{{ charger }} has {{ energy }} kWh.",
        },
    )
    charger = await _connect(hass)
    raw.append(charger)
    await _status(charger, "Preparing")
    now = dt_util.utcnow()
    tid = await _start(charger, now)
    await _status(charger, "Charging")
    await _until(
        hass, lambda: _state(hass, "sensor.garage_smart_charging") == "charging"
    )
    await _meter(charger, tid, now + timedelta(seconds=1), 5_000)
    # The plan is made again at the next quarter: the need is met.
    quarter = now.replace(
        minute=now.minute - now.minute % 15, second=0, microsecond=0
    ) + timedelta(minutes=15)
    async_fire_time_changed(hass, quarter + timedelta(seconds=1))
    await _until(hass, lambda: _state(hass, "sensor.garage_smart_charging") == "done")
    await _until(hass, lambda: len(sent) == 1)
    assert sent == [{"title": "Car", "message": "Garage has 5.0 kWh."}]

    # The car then ends the session: complete, but already told.
    await _stop(charger, tid, now + timedelta(seconds=2), 5_000, reason="Other")
    await _status(charger, "Finishing")
    await _until(hass, lambda: _state(hass, "sensor.garage_status") == "complete")
    await hass.async_block_till_done()
    assert len(sent) == 1
