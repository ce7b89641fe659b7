"""A business session from a real charger to the employer's OCPI backend.

The whole path: a 1.6 charger's frames → the ledger → classified business →
a CDR in the durable outbox → POSTed to a real fake eMSP (``ocpi_receiver``,
which validates each CDR against OCPI 2.2.1's field rules) after the
credentials handshake, whose callback reaches our versions endpoint through
Home Assistant's real HTTP server with token B. Withdrawn, it is credited.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from aiohttp.test_utils import TestClient
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.homecharge.const import DOMAIN, SUBENTRY_REIMBURSEMENT
from custom_components.homecharge.logic.reimbursement.month import Month
from custom_components.homecharge.repairs import async_create_fix_flow
from custom_components.homecharge.runtime.receivers import reauth_issue_id
from custom_components.homecharge.runtime.reimbursement_outbox import SyncState
from custom_components.homecharge.runtime.reimbursement_sync import CONF_REGISTRATION
from homeassistant.config_entries import ConfigSubentry
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util

from .ocpi_receiver import FakeReceiver
from .reimbursement_places import booted_charger, covered_place
from .simulators.raw import RawCharger
from .test_sessions_runtime import _sessions, _two_sessions


@pytest.fixture
async def receiver(aiohttp_server: Callable[..., Awaitable[object]]) -> FakeReceiver:
    """The employer's backend, on 127.0.0.1."""
    fake = FakeReceiver()
    server = await aiohttp_server(fake.app())
    fake.base = str(server.make_url("")).rstrip("/")  # type: ignore[attr-defined]
    return fake


async def _until(hass: HomeAssistant, check: Callable[[], bool]) -> None:
    for _ in range(300):
        await hass.async_block_till_done()
        if check():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("condition not reached")


@pytest.fixture
async def place(
    hass: HomeAssistant,
    hass_client_no_auth: Callable[[], Awaitable[TestClient]],
    receiver: FakeReceiver,
) -> MockConfigEntry:
    """CP-1 covered by a reimbursement whose receiver is the fake eMSP."""
    assert await async_setup_component(hass, "http", {})
    client = await hass_client_no_auth()
    await hass.config.async_update(internal_url=str(client.make_url("")).rstrip("/"))
    return await covered_place(hass, _ocpi_reimbursement(receiver))


def _ocpi_reimbursement(
    receiver: FakeReceiver, since: str = "2020-01-01"
) -> dict[str, Any]:
    """Kari's data: a fixed tariff from ``since``, the fake eMSP receives."""
    return {
        "street": "Storgata 1",
        "postal_code": "0155",
        "city": "Oslo",
        "address_country": "NO",
        "tariffs": [
            {
                "effective_from": since,
                "basis": "fixed",
                "tariff_name": "Fastpris",
                "currency": "NOK",
                "unit_rate": "2.50",
                "vat_percent": "25",
            }
        ],
        "receiver": "ocpi",
        "receiver_url": receiver.versions_url,
        "receiver_token": receiver.token_a,
    }


@pytest.fixture
async def charger(
    hass: HomeAssistant, place: MockConfigEntry
) -> AsyncIterator[RawCharger]:
    """CP-1 connected and booted."""
    async with booted_charger(hass) as raw:
        yield raw


def _reimbursement(place: MockConfigEntry) -> ConfigSubentry:
    return next(
        sub
        for sub in place.subentries.values()
        if sub.subentry_type == SUBENTRY_REIMBURSEMENT
    )


async def test_a_business_session_reaches_the_employer_and_a_withdrawal_credits_it(
    hass: HomeAssistant,
    place: MockConfigEntry,
    charger: RawCharger,
    receiver: FakeReceiver,
    hass_client: ClientSessionGenerator,
) -> None:
    """Handshake, one CDR per business session (valid 2.2.1), a credit after."""
    await _until(hass, lambda: CONF_REGISTRATION in _reimbursement(place).data)
    # The receiver called our versions endpoint back with token B.
    assert receiver.callback_status == 200
    assert receiver.registered is not None
    (sync,) = place.runtime_data.syncs
    assert sync.status.state is SyncState.UP_TO_DATE
    # Neither our token B nor the receiver's token C reaches diagnostics.
    text = str(await get_diagnostics_for_config_entry(hass, hass_client, place))
    assert receiver.token_c not in text
    assert receiver.token_b is not None
    assert receiver.token_b not in text

    _first, second, _today = await _two_sessions(charger)
    sessions = _sessions(place)
    assert receiver.cdrs == {}  # personal: nothing leaves the house
    sessions.amend(("CP-1", second), by=None, classification="business")
    await _until(hass, lambda: len(receiver.cdrs) == 1)
    (cdr,) = receiver.cdrs.values()
    assert all(not problems for problems in receiver.problems)
    assert cdr["home_charging_compensation"] is True
    assert cdr["total_energy"] == 1.0
    assert cdr["total_cost"]["incl_vat"] == 2.5
    assert cdr["cdr_location"]["country"] == "NOR"
    headers = receiver.posts[-1][1]
    assert headers["OCPI-from-country-code"] == "NO"

    # A change that is no change sends nothing more; another session's does.
    sessions.amend(("CP-1", second), by=None, note="client visit")
    await hass.async_block_till_done()
    assert len(receiver.cdrs) == 1

    sessions.amend(("CP-1", second), by=None, classification="personal")
    await _until(hass, lambda: len(receiver.cdrs) == 2)
    credit = receiver.cdrs[receiver.order[-1]]
    assert credit["credit"] is True
    assert credit["credit_reference_id"] == cdr["id"]
    assert credit["total_cost"]["incl_vat"] == -2.5

    # Business again: a new revision, a new id (CDRs are immutable).
    sessions.amend(("CP-1", second), by=None, classification="business")
    await _until(hass, lambda: len(receiver.cdrs) == 3)
    assert receiver.order[-1] not in (cdr["id"], credit["id"])
    assert all(not problems for problems in receiver.problems)


async def test_a_receiver_that_refuses_token_a_is_shown_failing(
    hass: HomeAssistant,
    hass_client_no_auth: Callable[[], Awaitable[TestClient]],
    receiver: FakeReceiver,
) -> None:
    """A wrong token A: no registration, the status says why (kept, not lost)."""
    receiver.token_a = "another-token"  # noqa: S105 - a test token
    assert await async_setup_component(hass, "http", {})
    client = await hass_client_no_auth()
    await hass.config.async_update(internal_url=str(client.make_url("")).rstrip("/"))
    entry = await covered_place(
        hass,
        {
            "tariffs": [],
            "receiver": "ocpi",
            "receiver_url": receiver.versions_url,
            "receiver_token": "token-a",
        },
        charged=False,
    )
    (sync,) = entry.runtime_data.syncs
    await _until(hass, lambda: sync.registration_error is not None)
    assert sync.status.state is SyncState.FAILING
    assert sync.status.last_error == "receiver_unauthorized"
    assert CONF_REGISTRATION not in _reimbursement(entry).data
    # A wrong token A is the same repair as a refused token C.
    issue_id = reauth_issue_id(_reimbursement(entry).subentry_id)
    issue = ir.async_get(hass).async_get_issue(DOMAIN, issue_id)
    assert issue is not None
    assert issue.is_fixable
    assert issue.data == {
        "entry_id": entry.entry_id,
        "subentry_id": _reimbursement(entry).subentry_id,
    }
    # Not loaded, its form has nothing to register with.
    flow = await async_create_fix_flow(hass, issue_id, issue.data)
    flow.hass = hass
    assert await hass.config_entries.async_unload(entry.entry_id)
    result = await flow.async_step_init()
    assert result["type"] == "abort"
    assert result["reason"] == "not_loaded"
    # Stopped, the issue goes (a removed reimbursement leaves none behind).
    assert ir.async_get(hass).async_get_issue(DOMAIN, issue_id) is None
    with pytest.raises(ValueError, match="no fix flow"):
        await async_create_fix_flow(hass, "meter_offline", None)


async def test_the_drivers_sensors_follow_sessions_statements_and_sync(
    hass: HomeAssistant,
    place: MockConfigEntry,
    charger: RawCharger,
    receiver: FakeReceiver,
) -> None:
    """Business kWh and amount this month, the last statement, the sync."""
    await _until(hass, lambda: CONF_REGISTRATION in _reimbursement(place).data)
    _first, second, _today = await _two_sessions(charger)
    energy = "sensor.kari_nordmann_business_energy_this_month"
    amount = "sensor.kari_nordmann_business_amount_this_month"
    sync = "sensor.kari_nordmann_sync"
    assert hass.states.get(energy).state == "0.0"  # type: ignore[union-attr]
    assert hass.states.get(sync).state == "up_to_date"  # type: ignore[union-attr]
    receiver.down = True  # the next CDR cannot go
    receiver.fault = "500"
    _sessions(place).amend(("CP-1", second), by=None, classification="business")
    await _until(
        hass,
        lambda: hass.states.get(sync).state == "failing",  # type: ignore[union-attr]
    )
    state = hass.states.get(sync)
    assert state is not None
    assert state.attributes["waiting"] == 1
    assert hass.states.get(energy).state == "1.0"  # type: ignore[union-attr]
    assert float(hass.states.get(amount).state) == 2.5  # type: ignore[union-attr]
    session = _sessions(place).ledger.get(("CP-1", second))
    assert session is not None
    started = session.started
    last = "sensor.kari_nordmann_last_statement"
    assert hass.states.get(last).state == "unknown"  # type: ignore[union-attr]
    await hass.services.async_call(
        "homecharge",
        "make_statement",
        {
            "config_entry_id": place.entry_id,
            "month": str(Month.of(started, dt_util.get_default_time_zone())),
        },
        blocking=True,
    )
    await hass.async_block_till_done()
    assert float(hass.states.get(last).state) == 2.5  # type: ignore[union-attr]
    state_of_last = hass.states.get("sensor.kari_nordmann_last_statement_state")
    assert state_of_last is not None
    assert state_of_last.state == "made"  # no phone to tell


async def test_a_refused_token_is_a_repair_whose_new_token_a_sends_what_waited(
    hass: HomeAssistant,
    place: MockConfigEntry,
    charger: RawCharger,
    receiver: FakeReceiver,
    hass_client: ClientSessionGenerator,
) -> None:
    """401 on a CDR: a fixable repair; its form registers anew, the CDR goes once."""
    assert await async_setup_component(hass, "repairs", {})
    await _until(hass, lambda: CONF_REGISTRATION in _reimbursement(place).data)
    (sync,) = place.runtime_data.syncs
    # The employer rotated its side: our token C is refused, a new token A given.
    receiver.token_c = "token-c-2"  # noqa: S105 - a test token
    receiver.token_a = "token-a-2"  # noqa: S105 - a test token
    _first, second, _today = await _two_sessions(charger)
    _sessions(place).amend(("CP-1", second), by=None, classification="business")
    issues = ir.async_get(hass)
    issue_id = reauth_issue_id(_reimbursement(place).subentry_id)
    await _until(hass, lambda: issues.async_get_issue(DOMAIN, issue_id) is not None)
    issue = issues.async_get_issue(DOMAIN, issue_id)
    assert issue is not None
    assert issue.is_fixable
    assert issue.translation_placeholders == {"reimbursement": "Kari Nordmann"}
    assert sync.status.state is SyncState.REAUTH
    assert sync.status.waiting == 1
    assert receiver.cdrs == {}

    client = await hass_client()
    answer = await client.post(
        "/api/repairs/issues/fix", json={"handler": DOMAIN, "issue_id": issue_id}
    )
    form = await answer.json()
    assert form["step_id"] == "confirm"
    assert form["description_placeholders"] == {"reimbursement": "Kari Nordmann"}
    url = f"/api/repairs/issues/fix/{form['flow_id']}"
    # The old token A: refused, said in the form, nothing changed.
    answer = await client.post(
        url,
        json={"receiver_url": receiver.versions_url, "receiver_token": "token-a"},
    )
    form = await answer.json()
    assert form["errors"] == {"base": "receiver_unauthorized"}
    assert sync.status.state is SyncState.REAUTH
    # Plain http to another host is refused before anything is sent.
    answer = await client.post(
        url,
        json={"receiver_url": "http://example.com/ocpi", "receiver_token": "x"},
    )
    assert (await answer.json())["errors"] == {"receiver_url": "receiver_not_https"}
    answer = await client.post(
        url,
        json={"receiver_url": receiver.versions_url, "receiver_token": "token-a-2"},
    )
    assert (await answer.json())["type"] == "create_entry"
    await _until(hass, lambda: sync.status.state is SyncState.UP_TO_DATE)
    assert len(receiver.cdrs) == 1
    assert issues.async_get_issue(DOMAIN, issue_id) is None
    assert _reimbursement(place).data["receiver_token"] == receiver.token_a
    # Registered in place, not by a reload: the same sync sent it.
    assert place.runtime_data.syncs == [sync]
    await hass.async_block_till_done()
    assert len(receiver.order) == 1
    assert all(not problems for problems in receiver.problems)


async def test_a_session_without_a_tariff_waits_and_breaks_nothing(
    hass: HomeAssistant,
    hass_client_no_auth: Callable[[], Awaitable[TestClient]],
    receiver: FakeReceiver,
) -> None:
    """No tariff in force yet: no CDR (no cost to send), the change is kept."""
    assert await async_setup_component(hass, "http", {})
    client = await hass_client_no_auth()
    await hass.config.async_update(internal_url=str(client.make_url("")).rstrip("/"))
    entry = await covered_place(hass, _ocpi_reimbursement(receiver, "2099-01-01"))
    await _until(hass, lambda: CONF_REGISTRATION in _reimbursement(entry).data)
    async with booted_charger(hass) as raw:
        _first, second, _today = await _two_sessions(raw)
    _sessions(entry).amend(("CP-1", second), by=None, classification="business")
    await hass.async_block_till_done()
    session = _sessions(entry).ledger.get(("CP-1", second))
    assert session is not None
    assert session.classification.value == "business"
    assert receiver.posts == []
    (sync,) = entry.runtime_data.syncs
    assert sync.status.state is SyncState.UP_TO_DATE
