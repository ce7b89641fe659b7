"""Multi EV mode per session: the select, the actions, and the phone's question.

A real 1.6 charger's frames make the sessions; the select, the actions and
the Companion app's answer change the ledger's classification (listed with
who did it). The phone is the one part mocked: a notify service that keeps
what it was sent, and the event the app fires when a button is tapped.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_capture_events,
)
import voluptuous as vol

from custom_components.homecharge.const import DOMAIN
from custom_components.homecharge.logic.reimbursement.month import Month
from custom_components.homecharge.logic.sessions.model import Classification
from custom_components.homecharge.runtime.reimbursement import ACTION_EVENT
from custom_components.homecharge.runtime.sessions import (
    EVENT_SESSION_STOPPED,
    PlaceSessions,
)
from homeassistant.core import Context, HomeAssistant, ServiceCall
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import device_registry as dr, entity_registry as er
from homeassistant.util import dt as dt_util

from .reimbursement_places import (
    PHONE,
    booted_charger,
    covered_place,
)
from .simulators.raw import RawCharger
from .test_sessions_runtime import _sessions, _two_sessions

SELECT = "select.garage_last_session"


def _started(sessions: PlaceSessions, transaction: str) -> Any:
    session = sessions.ledger.get(("CP-1", transaction))
    assert session is not None
    return session.started


async def _place(
    hass: HomeAssistant, *, covered: bool, notify: str | None = None
) -> MockConfigEntry:
    data = {"tariffs": [], "notify_service": notify}
    return await covered_place(hass, data if covered else None, title="Kari")


@pytest.fixture
async def covered(hass: HomeAssistant) -> MockConfigEntry:
    """A place whose charger CP-1 a reimbursement covers."""
    return await _place(hass, covered=True)


@pytest.fixture
async def charger(
    hass: HomeAssistant, covered: MockConfigEntry
) -> AsyncIterator[RawCharger]:
    """CP-1 connected and booted."""
    async with booted_charger(hass) as raw:
        yield raw


async def test_the_last_session_is_classified_from_its_select(
    hass: HomeAssistant, covered: MockConfigEntry, charger: RawCharger
) -> None:
    """Personal by default; Work from the select, with who changed it."""
    state = hass.states.get(SELECT)
    assert state is not None
    assert state.state == "unavailable"  # no session yet
    _first, second, _today = await _two_sessions(charger)
    await hass.async_block_till_done()
    state = hass.states.get(SELECT)
    assert state is not None
    assert state.state == Classification.PERSONAL
    assert state.attributes["options"] == ["personal", "business"]
    user = await hass.auth.async_create_user("Kari")
    await hass.services.async_call(
        "select",
        "select_option",
        {"entity_id": SELECT, "option": "business"},
        blocking=True,
        context=Context(user_id=user.id),
    )
    await hass.async_block_till_done()
    session = _sessions(covered).ledger.get(("CP-1", second))
    assert session is not None
    assert session.classification is Classification.BUSINESS
    assert [(c.field, c.new, c.by) for c in session.changes] == [
        ("classification", "business", user.id)
    ]
    state = hass.states.get(SELECT)
    assert state is not None
    assert state.state == Classification.BUSINESS


async def test_no_session_yet_is_a_clear_error(
    hass: HomeAssistant, covered: MockConfigEntry
) -> None:
    """Selecting before any session says so (translated)."""
    entity = hass.data["entity_components"]["select"].get_entity(SELECT)
    assert entity is not None
    with pytest.raises(ServiceValidationError) as err:
        await entity.async_select_option("business")
    assert err.value.translation_key == "no_session"
    assert err.value.translation_domain == DOMAIN


async def test_uncovered_chargers_have_no_such_select(hass: HomeAssistant) -> None:
    """Without a reimbursement, no session is paid back: no select."""
    entry = await _place(hass, covered=False)
    selects = [
        entity.entity_id
        for entity in er.async_entries_for_config_entry(
            er.async_get(hass), entry.entry_id
        )
        if entity.domain == "select"
    ]
    assert selects == ["select.home_basis_for_electricity_costs"]
    assert hass.states.get(SELECT) is None


async def test_a_months_sessions_are_classified_at_once(
    hass: HomeAssistant, covered: MockConfigEntry, charger: RawCharger
) -> None:
    """classify_sessions: by month and card; the same twice changes nothing."""
    first, second, _today = await _two_sessions(charger)
    await hass.async_block_till_done()
    sessions = _sessions(covered)
    month = str(Month.of(dt_util.utcnow(), dt_util.get_default_time_zone()))

    async def classify(**data: object) -> dict[str, object]:
        response = await hass.services.async_call(
            DOMAIN,
            "classify_sessions",
            {"config_entry_id": covered.entry_id, **data},
            blocking=True,
            return_response=True,
        )
        assert response is not None
        return dict(response)

    tagged = await classify(classification="business", id_tag=["tag-b"])
    assert tagged["changed"] == [second]
    everything = await classify(classification="business", month=month)
    # Yesterday's may have been last month (the 1st): it is its own month.
    zone = dt_util.get_default_time_zone()
    first_month = str(Month.of(_started(sessions, first), zone))
    expected = [first] if first_month == month else []
    assert everything["changed"] == expected
    assert (await classify(classification="business", month=month))["changed"] == []
    personal = await classify(classification="personal", month=month)
    assert sorted(personal["changed"]) == sorted([second, *expected])
    for key in personal["changed"]:
        session = sessions.ledger.get(("CP-1", str(key)))
        assert session is not None
        assert session.classification is Classification.PERSONAL
    with pytest.raises(ServiceValidationError) as archived:
        await classify(classification="business", month="2020-01")
    assert archived.value.translation_key == "month_archived"
    with pytest.raises(ServiceValidationError) as unknown:
        await classify(classification="business", vehicle=["Tesla"])
    assert unknown.value.translation_key == "unknown_vehicle"
    with pytest.raises(vol.Invalid):
        await classify(classification="business", month="November")


async def test_classify_session_changes_one(
    hass: HomeAssistant, covered: MockConfigEntry, charger: RawCharger
) -> None:
    """classify_session: one session by its charger and transaction."""
    first, _second, _today = await _two_sessions(charger)
    device = dr.async_get(hass).async_get_device(identifiers={(DOMAIN, "CP-1")})
    assert device is not None
    await hass.services.async_call(
        DOMAIN,
        "classify_session",
        {"device_id": device.id, "transaction_id": first, "classification": "business"},
        blocking=True,
    )
    session = _sessions(covered).ledger.get(("CP-1", first))
    assert session is not None
    assert session.classification is Classification.BUSINESS


async def test_the_phone_asks_and_the_answer_is_filed(
    hass: HomeAssistant, phone: list[ServiceCall]
) -> None:
    """After a session: Personal/Work buttons; a tap on Work makes it business."""
    entry = await _place(hass, covered=True, notify=f"notify.{PHONE}")
    async with booted_charger(hass) as raw:
        first, second, _today = await _two_sessions(raw)
        await hass.async_block_till_done()
    # Yesterday's (stopped at 12:30) is asked about only within a day of it.
    sessions = _sessions(entry)
    earlier = sessions.ledger.get(("CP-1", first))
    assert earlier is not None
    assert earlier.stopped is not None
    recent = dt_util.utcnow() - earlier.stopped <= timedelta(hours=24)
    assert len(phone) == 1 + recent
    question = phone[-1].data
    assert question["title"] == "Charged at Home"
    assert question["message"] == "1.0 kWh on Garage. Personal or work?"
    actions = {a["title"]: a["action"] for a in question["data"]["actions"]}
    assert list(actions) == ["Personal", "Work"]
    user = await hass.auth.async_create_user("Kari")
    hass.bus.async_fire(
        ACTION_EVENT, {"action": actions["Work"]}, context=Context(user_id=user.id)
    )
    # Not ours, another place's, a session the ledger does not hold: ignored.
    for action in (
        "OTHER_ACTION",
        actions["Work"].replace(entry.entry_id, "another-place"),
        actions["Work"].replace(f"|{second}", "|999"),
        actions["Work"].replace("|business|", "|holiday|"),
    ):
        hass.bus.async_fire(ACTION_EVENT, {"action": action})
    await hass.async_block_till_done()
    session = sessions.ledger.get(("CP-1", second))
    assert session is not None
    assert session.classification is Classification.BUSINESS
    assert [(c.field, c.by) for c in session.changes] == [("classification", user.id)]
    assert earlier.classification is Classification.PERSONAL


async def test_no_phone_no_question(
    hass: HomeAssistant, phone: list[ServiceCall], charger: RawCharger
) -> None:
    """A reimbursement without a phone is not asked about (nothing is sent)."""
    await _two_sessions(charger)
    await hass.async_block_till_done()
    assert phone == []


async def test_a_phone_that_went_away_is_logged_not_raised(
    hass: HomeAssistant, caplog: pytest.LogCaptureFixture
) -> None:
    """A removed Companion app: the session is kept, the log says why."""
    await _place(hass, covered=True, notify="notify.mobile_app_gone")
    async with booted_charger(hass) as raw:
        await _two_sessions(raw)
        await hass.async_block_till_done()
    assert "No notify service notify.mobile_app_gone" in caplog.text


async def test_a_rule_files_a_session_as_business_without_asking(
    hass: HomeAssistant, phone: list[ServiceCall]
) -> None:
    """Card TAG-B is the company card: its session is business, not asked about."""
    events = async_capture_events(hass, EVENT_SESSION_STOPPED)
    entry = await covered_place(
        hass,
        {
            "tariffs": [],
            "notify_service": f"notify.{PHONE}",
            "rules": [
                {
                    "rule_vehicles": [],
                    # Compared as OCPP compares id tags: ignoring case.
                    "rule_cards": ["tag-b"],
                    "rule_weekdays": [],
                    "rule_from": None,
                    "rule_until": None,
                }
            ],
        },
        title="Kari",
    )
    async with booted_charger(hass) as raw:
        first, second, _today = await _two_sessions(raw)
        await hass.async_block_till_done()
    sessions = _sessions(entry)
    ruled = sessions.ledger.get(("CP-1", second))
    assert ruled is not None
    assert ruled.classification is Classification.BUSINESS
    assert [(c.field, c.by) for c in ruled.changes] == [("classification", None)]
    # TAG-A's is personal; only it may be asked about (if within a day).
    other = sessions.ledger.get(("CP-1", first))
    assert other is not None
    assert other.classification is Classification.PERSONAL
    assert all("1.0 kWh" not in call.data["message"] for call in phone), (
        "the ruled session was asked about"
    )
    # Each stop is an event for automations, with the rule's classification.
    device = dr.async_get(hass).async_get_device(identifiers={(DOMAIN, "CP-1")})
    assert device is not None
    told = {event.data["transaction_id"]: event.data for event in events}
    assert set(told) == {first, second}
    assert told[second]["classification"] == "business"
    assert told[first]["classification"] == "personal"
    assert told[second]["energy_kwh"] == 1.0
    assert told[second]["device_id"] == device.id
    assert told[second]["config_entry_id"] == entry.entry_id
    assert told[second]["cost"] is not None
