"""Cards at a restricted charger, over real websockets (1.6J and 2.0.1), and the person form."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
import json
from typing import Any

import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.homecharge.const import DOMAIN
from custom_components.homecharge.logic.sessions.chain import broken_links
from custom_components.homecharge.runtime.charger_access import EVENT_UNKNOWN_CARD
from homeassistant.config_entries import ConfigSubentry, ConfigSubentryData
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.util import dt as dt_util

from .conftest import PLACE_DATA
from .test_central import FLAT_TARIFF, PASSWORD
from .test_charger_runtime import _until


def _local(delta: timedelta) -> str:
    """A local date and time as HA's date-time selector gives it."""
    return (dt_util.now() + delta).strftime("%Y-%m-%d %H:%M:%S")


def _person(name: str, **data: Any) -> ConfigSubentryData:
    return ConfigSubentryData(
        data={"mobile": "+4791234567", "chargers": ["CP-1"], **data},
        subentry_type="person",
        title=name,
        unique_id=None,
    )


def _place(access_mode: str | None, *people: ConfigSubentryData) -> MockConfigEntry:
    charger: dict[str, Any] = {
        "charge_point_id": "CP-1",
        "circuit_fuse": 32.0,
        "phases": 3,
        "connectors": 1,
        "password": PASSWORD,
    }
    if access_mode is not None:
        charger["access_mode"] = access_mode
    return MockConfigEntry(
        domain=DOMAIN,
        title="Home",
        data=dict(PLACE_DATA),
        options=FLAT_TARIFF,
        subentries_data=[
            ConfigSubentryData(
                data=charger,
                subentry_type="charger",
                title="Garage",
                unique_id="CP-1",
            ),
            *people,
        ],
    )


PEOPLE = (
    _person(
        "Kari",
        cards=["CARD-1"],
        window_start=None,
        window_end=None,
    ),
    _person("Renter", cards=["LATER"]),
)


def _unknown_cards(hass: HomeAssistant) -> list[Event]:
    seen: list[Event] = []

    @callback
    def record(event: Event) -> None:
        seen.append(event)

    hass.bus.async_listen(EVENT_UNKNOWN_CARD, record)
    return seen


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
async def test_a_restricted_charger_answers_each_card(
    hass: HomeAssistant, connect: Callable[..., Any], version: str
) -> None:
    """Inside the window: accepted; before it: blocked; after it or unknown: refused."""
    kari = _person("Kari", cards=["CARD-1"])
    renter = _person(
        "Renter",
        cards=["LATER"],
        window_start=_local(timedelta(days=1)),
        window_end=_local(timedelta(days=3)),
    )
    gone = _person(
        "Gone",
        cards=["OLD"],
        chargers=["CP-1"],
        card_expiry=_local(timedelta(minutes=-1)),
    )
    unknown = _unknown_cards(hass)
    charger = await connect(_place("restricted", kari, renter, gone), version)
    assert await charger.authorize("CARD-1") == "Accepted"
    assert await charger.authorize("card-1") == "Accepted"  # case-insensitive
    assert await charger.authorize("LATER") == "Blocked"
    assert await charger.authorize("OLD") == "Expired"
    assert not unknown
    assert await charger.authorize("NOPE") == "Invalid"
    await hass.async_block_till_done()
    (event,) = unknown
    assert event.data == {"place": "Home", "charger": "CP-1", "id_tag": "NOPE"}


async def test_an_unknown_card_cannot_charge_at_a_restricted_charger(
    hass: HomeAssistant, connect: Callable[..., Any]
) -> None:
    """A charger that starts anyway is told the card is invalid and stops."""
    charger = await connect(_place("restricted", *PEOPLE))
    entry = hass.config_entries.async_entries(DOMAIN)[0]
    await charger.start_transaction("NOPE")
    ledger = entry.runtime_data.sessions.ledger
    await _until(hass, lambda: any(s.stopped for s in ledger))
    (session,) = list(ledger)
    assert session.id_tag == "NOPE"
    assert session.stop_reason == "DeAuthorized"
    # Kari's card charges.
    await charger.start_transaction("CARD-1")
    await _until(hass, lambda: len(list(ledger)) == 2)
    assert charger.status == "Charging"


@pytest.mark.parametrize("mode", [None, "open"])
async def test_an_open_charger_accepts_every_card(
    hass: HomeAssistant, connect: Callable[..., Any], mode: str | None
) -> None:
    """Open is the default: every card charges, as before people existed."""
    unknown = _unknown_cards(hass)
    charger = await connect(_place(mode, *PEOPLE))
    assert await charger.authorize("NOPE") == "Accepted"
    assert await charger.authorize("LATER") == "Accepted"
    await hass.async_block_till_done()
    assert not unknown


async def _person_flow(hass: HomeAssistant, entry: MockConfigEntry) -> dict[str, Any]:
    result = await hass.config_entries.subentries.async_init(
        (entry.entry_id, "person"), context={"source": "user"}
    )
    assert result["type"] is FlowResultType.FORM
    return dict(result)


FORM = {
    "name": "Kari",
    "mobile": "+47 912 34 567",
    "chargers": ["CP-1"],
    "cards": ["CARD-1"],
}


async def test_add_a_person(hass: HomeAssistant, connect: Callable[..., Any]) -> None:
    """The form: a person with a card, a window and an expiry; then changed."""
    charger = await connect(_place("restricted"))
    entry = hass.config_entries.async_entries(DOMAIN)[0]
    result = await _person_flow(hass, entry)
    options = result["data_schema"].schema["chargers"].config["options"]
    assert options == [{"value": "CP-1", "label": "Garage"}]
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"],
        {
            **FORM,
            "email": " kari@example.com ",
            "window_start": _local(timedelta(hours=-1)),
            "window_end": _local(timedelta(days=2)),
            "card_expiry": _local(timedelta(days=30)),
        },
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    (person,) = [s for s in entry.subentries.values() if s.subentry_type == "person"]
    assert person.title == "Kari"
    assert person.data["mobile"] == "+4791234567"
    assert person.data["email"] == "kari@example.com"
    assert person.data["cards"] == ["CARD-1"]
    await _until(hass, lambda: charger.connected)
    assert await charger.authorize("CARD-1") == "Accepted"

    # Reconfigure: the window moves to tomorrow; the card waits for it.
    result = await entry.start_subentry_reconfigure_flow(hass, person.subentry_id)
    assert result["type"] is FlowResultType.FORM
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"],
        {
            **FORM,
            "window_start": _local(timedelta(days=1)),
            "window_end": _local(timedelta(days=2)),
        },
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    await hass.async_block_till_done()
    await _until(hass, lambda: charger.connected)
    assert await charger.authorize("CARD-1") == "Blocked"


# Moments as hours from now (made in the test, in the test's time zone).
@pytest.mark.parametrize(
    ("changes", "errors"),
    [
        ({"name": " "}, {"name": "name_empty"}),
        ({"mobile": "912 34 567"}, {"mobile": "invalid_mobile"}),
        ({"email": "kari@"}, {"email": "invalid_email"}),
        ({"chargers": []}, {"chargers": "no_chargers"}),
        ({"cards": ["X" * 37]}, {"cards": "id_tag_too_long"}),
        ({"cards": ["taken"]}, {"cards": "card_taken"}),
        (
            {"window_start": 48, "window_end": 24},
            {"window_end": "window_reversed"},
        ),
        ({"window_end": -1}, {"window_end": "window_ended"}),
        ({"card_expiry": -1}, {"card_expiry": "card_expired"}),
        ({"phone": "Kari's iPhone"}, {"phone": "invalid_phone"}),
    ],
)
async def test_a_person_form_refuses_bad_input(
    hass: HomeAssistant,
    connect: Callable[..., Any],
    changes: dict[str, Any],
    errors: dict[str, str],
) -> None:
    """Each bad field gets its translated error and nothing is saved."""
    await connect(_place("restricted", _person("Ola", cards=["TAKEN"])))
    entry = hass.config_entries.async_entries(DOMAIN)[0]
    result = await _person_flow(hass, entry)
    moments = {"window_start", "window_end", "card_expiry"}
    form = {
        key: _local(timedelta(hours=value)) if key in moments else value
        for key, value in {**FORM, **changes}.items()
    }
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], form
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == errors
    assert len(entry.subentries) == 2


async def test_diagnostics_keep_people_private(
    hass: HomeAssistant, hass_client: ClientSessionGenerator
) -> None:
    """A person's mobile, e-mail and cards never leave in diagnostics."""
    entry = _place(
        "restricted",
        _person(
            "Kari",
            email="kari@example.com",
            cards=["CARD-1"],
            phone="irk:00112233445566778899aabbccddeeff",
        ),
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, entry)
    text = json.dumps(diagnostics)
    for secret in (
        "+4791234567",
        "kari@example.com",
        "CARD-1",
        "00112233445566778899aabbccddeeff",
    ):
        assert secret not in text
    (person,) = [
        sub for sub in diagnostics["entry"]["subentries"] if sub["type"] == "person"
    ]
    assert person["data"]["chargers"] == ["CP-1"]


def _subentry(entry: MockConfigEntry, kind: str, title: str | None = None) -> Any:
    return next(
        sub
        for sub in entry.subentries.values()
        if sub.subentry_type == kind and title in (None, sub.title)
    )


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
async def test_the_local_list_follows_every_change(
    hass: HomeAssistant, connect: Callable[..., Any], version: str
) -> None:
    """The cards that work now, each until its access ends; a new version each time."""
    kari = _person("Kari", cards=["CARD-1"])
    tomorrow = _person(
        "Renter", cards=["LATER"], window_start=_local(timedelta(days=1))
    )
    elsewhere = _person("Ola", cards=["OLA"], chargers=["CP-2"])
    entry = _place("restricted", kari, tomorrow, elsewhere)
    charger = await connect(entry, version)
    await _until(hass, lambda: charger.local_list_version == 1)
    # Home Assistant has the answer too (the place is set up, not reloading).
    await _until(
        hass,
        lambda: next(iter(entry.runtime_data.chargers.values())).data.local_list_status
        == "Accepted",
    )
    # Kari's card only: the renter's window has not begun, Ola is elsewhere.
    assert charger.local_list == {"CARD-1": None}

    # A renter until the day after tomorrow: his card until then.
    until = _local(timedelta(days=2))
    hass.config_entries.async_add_subentry(
        entry, ConfigSubentry(**_person("Guest", cards=["G-1"], window_end=until))
    )
    await _until(hass, lambda: charger.local_list_version == 2)
    (expiry,) = [v for k, v in charger.local_list.items() if k == "G-1"]
    assert expiry is not None
    assert dt_util.parse_datetime(expiry) == dt_util.as_utc(
        dt_util.parse_datetime(until).replace(tzinfo=dt_util.get_default_time_zone())
    )
    assert set(charger.local_list) == {"CARD-1", "G-1"}

    # Kari's card changes: the list follows, without a reload.
    kari = _subentry(entry, "person", "Kari")
    hass.config_entries.async_update_subentry(
        entry, kari, data={**kari.data, "cards": ["CARD-2"]}
    )
    await _until(hass, lambda: charger.local_list_version == 3)
    assert set(charger.local_list) == {"CARD-2", "G-1"}

    # Open again: the list is emptied (the charger's cache no longer limits).
    garage = _subentry(entry, "charger")
    hass.config_entries.async_update_subentry(
        entry, garage, data={**garage.data, "access_mode": "open"}
    )
    await _until(hass, lambda: charger.local_list_version == 4, seconds=30)
    assert charger.local_list == {}
    runtime = next(iter(entry.runtime_data.chargers.values()))
    assert runtime.data.local_list_status == "Accepted"

    # Nothing changed: a reload sends nothing.
    sent = len(charger.received_calls("SendLocalList"))
    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    await _until(hass, lambda: charger.connected)
    await _until(
        hass,
        lambda: next(iter(entry.runtime_data.chargers.values())).data.connected,
    )
    assert len(charger.received_calls("SendLocalList")) == sent


async def test_a_window_that_begins_sends_the_list_again(
    hass: HomeAssistant, connect: Callable[..., Any]
) -> None:
    """At the moment someone's access begins, his card goes to the charger."""
    soon = _person("Renter", cards=["SOON"], window_start=_local(timedelta(seconds=4)))
    charger = await connect(_place("restricted", soon))
    # Nothing to send yet (an empty list is only sent to clear ours).
    assert await charger.authorize("SOON") == "Blocked"
    assert charger.local_list_version == 0
    await _until(hass, lambda: charger.local_list_version == 1, seconds=10)
    assert charger.local_list == {"SOON": None}
    assert await charger.authorize("SOON") == "Accepted"


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
async def test_a_charger_without_a_local_list(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    connect: Callable[..., Any],
    version: str,
) -> None:
    """NotSupported (or an OCPP error) is noted; cards are still answered online."""
    entry = _place("restricted", *PEOPLE)
    charger = await connect(entry, version, supports_local_list=False)
    runtime = next(iter(entry.runtime_data.chargers.values()))
    await _until(hass, lambda: runtime.data.local_list_status == "NotSupported")
    assert charger.local_list_version == 0
    assert await charger.authorize("CARD-1") == "Accepted"
    assert await charger.authorize("NOPE") == "Invalid"
    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, entry)
    (shown,) = diagnostics["chargers"].values()
    assert shown["local_list"] == {"status": "NotSupported", "version": 0}
    # Asked once: the same list is not offered again (a change would be).
    asked = len(charger.received_calls("SendLocalList"))
    assert asked == 1
    await runtime.access.async_sync_list()
    assert len(charger.received_calls("SendLocalList")) == asked


async def test_sessions_are_the_card_holders(
    hass: HomeAssistant, connect: Callable[..., Any]
) -> None:
    """A session is whose card started it: reports filter and group by person."""
    entry = _place(None, _person("Kari", cards=["CARD-1"]))
    charger = await connect(entry)
    ledger = entry.runtime_data.sessions.ledger
    for tag in ("card-1", "STRANGER"):
        await charger.start_transaction(tag)
        await _until(
            hass, lambda: len(charger.received_calls("SetChargingProfile")) > 0
        )
        await charger.stop_transaction()
        await _until(
            hass, lambda t=tag: any(s.id_tag == t and s.stopped for s in ledger)
        )
    people = {s.id_tag: s.person for s in ledger}
    assert people == {"card-1": "Kari", "STRANGER": None}
    # Sealed with its person, the chain holds.
    assert all(s.seal_hash for s in ledger)
    assert broken_links(ledger) == []

    answer = await hass.services.async_call(
        DOMAIN,
        "get_sessions",
        {"config_entry_id": entry.entry_id, "person": ["Kari"], "group_by": "person"},
        blocking=True,
        return_response=True,
    )
    assert answer is not None
    assert list(answer["groups"]) == ["Kari"]  # type: ignore[call-overload]
    assert answer["totals"]["sessions"] == 1  # type: ignore[index]
    (row,) = answer["sessions"]  # type: ignore[misc]
    assert row["person"] == "Kari"


async def test_a_person_form_offers_ordinary_users_only(
    hass: HomeAssistant, connect: Callable[..., Any]
) -> None:
    """An administrator or a system user cannot be a guest's login."""
    # The first user is the owner (an administrator).
    admin = await hass.auth.async_create_user("Owner", group_ids=["system-admin"])
    guest = await hass.auth.async_create_user("Renter", group_ids=["system-users"])
    await connect(_place("restricted"))
    entry = hass.config_entries.async_entries(DOMAIN)[0]
    result = await _person_flow(hass, entry)
    selector = result["data_schema"].schema["user"]
    offered = {option["value"] for option in selector.config["options"]}
    assert guest.id in offered
    assert admin.id not in offered
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {**FORM, "user": guest.id}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"]["user"] == guest.id
