"""A statement's way to the employer: webhook and OCPI, accepted, then paid.

A real 1.6 charger's frames make the sessions; the receiver is the fake
employer's backend on 127.0.0.1 (``ocpi_receiver``), whose webhook routes
check each message against the contract (``docs/receiver-openapi.yaml``).
What the driver's phone is told is the ``phone`` fixture's.
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient
import jsonschema
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_capture_events,
)
import yaml

from custom_components.homecharge.const import DOMAIN, SUBENTRY_REIMBURSEMENT
from custom_components.homecharge.logic.reimbursement.month import Month
from custom_components.homecharge.repairs import async_create_fix_flow
from custom_components.homecharge.runtime.receivers import latest_sent, reauth_issue_id
from custom_components.homecharge.runtime.reimbursement_outbox import SyncState
from custom_components.homecharge.runtime.reimbursement_sync import (
    CONF_REGISTRATION,
    CONF_TOKEN_B,
)
from custom_components.homecharge.runtime.statements import EVENT_STATEMENT
from homeassistant.config_entries import ConfigSubentry
from homeassistant.core import HomeAssistant, ServiceCall
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import issue_registry as ir
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util

from .ocpi_receiver import FakeReceiver
from .reimbursement_places import PHONE, booted_charger, covered_place
from .test_sessions_runtime import _sessions, _two_sessions

OPENAPI = yaml.safe_load(
    (Path(__file__).parent.parent / "docs" / "receiver-openapi.yaml").read_text()
)
TARIFF = {
    "effective_from": "2020-01-01",
    "basis": "fixed",
    "tariff_name": "Fastpris",
    "currency": "NOK",
    "unit_rate": "2.50",
    "vat_percent": "25",
}
ADDRESS = {
    "street": "Storgata 1",
    "postal_code": "0155",
    "city": "Oslo",
    "address_country": "NO",
}


def _contract(path: str, message: Any) -> list[str]:
    """What the contract says is wrong with a message posted to ``path``."""
    name = "StatementMessage" if path.endswith("statements") else "SessionMessage"
    validator = jsonschema.Draft202012Validator(
        {"$ref": f"#/components/schemas/{name}", "components": OPENAPI["components"]}
    )
    return [error.message for error in validator.iter_errors(message)]


@pytest.fixture
async def receiver(aiohttp_server: Callable[..., Awaitable[object]]) -> FakeReceiver:
    """The employer's backend, on 127.0.0.1; the contract checked."""
    fake = FakeReceiver(webhook_check=_contract)
    server = await aiohttp_server(fake.app())
    fake.base = str(server.make_url("")).rstrip("/")  # type: ignore[attr-defined]
    return fake


@pytest.fixture
async def client(
    hass: HomeAssistant, hass_client_no_auth: Callable[[], Awaitable[TestClient]]
) -> TestClient:
    """Home Assistant's HTTP server as a receiver sees it (no HA login)."""
    assert await async_setup_component(hass, "http", {})
    found = await hass_client_no_auth()
    await hass.config.async_update(internal_url=str(found.make_url("")).rstrip("/"))
    return found


async def _until(hass: HomeAssistant, check: Callable[[], bool]) -> None:
    for _ in range(300):
        await hass.async_block_till_done()
        if check():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("condition not reached")


def _reimbursement(place: MockConfigEntry) -> ConfigSubentry:
    return next(
        sub
        for sub in place.subentries.values()
        if sub.subentry_type == SUBENTRY_REIMBURSEMENT
    )


def _webhook(receiver: FakeReceiver, token: str | None = None) -> dict[str, Any]:
    return {
        **ADDRESS,
        "tariffs": [TARIFF],
        "notify_service": f"notify.{PHONE}",
        "receiver": "webhook",
        "receiver_url": f"{receiver.base}/webhook",
        "receiver_token": token or receiver.webhook_token,
    }


async def _business_session(hass: HomeAssistant, place: MockConfigEntry) -> Month:
    """Today's session on CP-1 made business; its month."""
    async with booted_charger(hass) as raw:
        _first, second, _today = await _two_sessions(raw)
    _sessions(place).amend(("CP-1", second), by=None, classification="business")
    session = _sessions(place).ledger.get(("CP-1", second))
    assert session is not None
    return Month.of(session.started, dt_util.get_default_time_zone())


async def _make_statement(
    hass: HomeAssistant, place: MockConfigEntry, month: Month
) -> None:
    await hass.services.async_call(
        DOMAIN,
        "make_statement",
        {"config_entry_id": place.entry_id, "month": str(month)},
        blocking=True,
    )


def _record(place: MockConfigEntry, month: Month) -> dict[str, Any]:
    history = place.runtime_data.statements.history
    record: dict[str, Any] = history[_reimbursement(place).subentry_id][str(month)]
    return record


async def test_a_session_and_its_statement_reach_the_webhook_then_it_is_paid(
    hass: HomeAssistant,
    receiver: FakeReceiver,
    client: TestClient,
    phone: list[ServiceCall],
) -> None:
    """Session → its message; statement → accepted; the receiver says paid."""
    events = async_capture_events(hass, EVENT_STATEMENT)
    place = await covered_place(hass, _webhook(receiver))
    month = await _business_session(hass, place)
    await _until(hass, lambda: len(receiver.webhook_messages) == 1)
    (message,) = receiver.webhook_messages.values()
    assert message["type"] == "session"
    assert message["energy_kwh"] == 1.0
    assert message["total_cost"]["incl_vat"] == 2.5
    assert message["driver_name"] == "Kari Nordmann"
    path, key, headers = receiver.webhook_posts[-1]
    assert (path, key) == ("/webhook/sessions", message["id"])
    assert headers["Authorization"] == f"Bearer {receiver.webhook_token}"
    assert receiver.problems == []

    await _make_statement(hass, place, month)
    await _until(hass, lambda: _record(place, month)["state"] == "accepted")
    statement = receiver.webhook_messages[receiver.webhook_order[-1]]
    assert statement["type"] == "statement"
    assert statement["month"] == str(month)
    assert statement["total_amount"] == 2.5
    assert "Fastpris" in statement["csv"]
    assert [event.data["state"] for event in events] == ["sent", "accepted"]
    titles = [call.data["title"] for call in phone]
    assert f"Charging statement {month}" in titles
    assert f"Statement {month} accepted" in titles

    # The receiver reports the payment with its own token.
    url = f"/api/homecharge/reimbursement/{_reimbursement(place).subentry_id}"
    paid = {"state": "paid", "reference": "SEPA 42"}
    answer = await client.post(
        f"{url}/statements/{month}", json=paid, headers={"Authorization": "Bearer x"}
    )
    assert answer.status == 401
    answer = await client.post(
        f"{url}/statements/{month}",
        json=paid,
        headers={"Authorization": "Bearer é".encode().decode("latin-1")},
    )
    assert answer.status == 401
    bearer = {"Authorization": f"Bearer {receiver.webhook_token}"}
    for body in ({"state": "made"}, {"state": "paid", "reference": 7}, ["paid"]):
        answer = await client.post(
            f"{url}/statements/{month}", json=body, headers=bearer
        )
        assert answer.status == 400
    answer = await client.post(f"{url}/statements/1999-01", json=paid, headers=bearer)
    assert answer.status == 404
    answer = await client.post(f"{url}/statements/{month}", json=paid, headers=bearer)
    assert answer.status == 200
    assert await answer.json() == {"month": str(month), "state": "paid"}
    assert _record(place, month)["reference"] == "SEPA 42"
    assert phone[-1].data["title"] == f"Statement {month} paid"
    assert "SEPA 42" in phone[-1].data["message"]
    state = hass.states.get("sensor.kari_nordmann_last_statement_state")
    assert state is not None
    assert state.state == "paid"
    # Never back: a late "accepted" leaves it paid, and tells no one.
    told = len(phone)
    answer = await client.post(
        f"{url}/statements/{month}", json={"state": "accepted"}, headers=bearer
    )
    assert (await answer.json())["state"] == "paid"
    assert len(phone) == told
    assert [event.data["state"] for event in events] == ["sent", "accepted", "paid"]

    # Withdrawn after it went: the credit follows.
    _sessions(place).amend(
        ("CP-1", message["transaction_id"]), by=None, classification="personal"
    )
    await _until(hass, lambda: len(receiver.webhook_messages) == 3)
    credit = receiver.webhook_messages[receiver.webhook_order[-1]]
    assert credit["type"] == "credit"
    assert credit["credit_reference_id"] == message["id"]
    assert receiver.problems == []


async def test_a_refused_webhook_token_is_a_repair_and_nothing_is_lost(
    hass: HomeAssistant, receiver: FakeReceiver, client: TestClient
) -> None:
    """401: sending stops, a repair asks for the token; given, it goes once."""
    assert await async_setup_component(hass, "repairs", {})
    old = "an-old-token"
    place = await covered_place(hass, _webhook(receiver, token=old))
    (sync,) = place.runtime_data.syncs
    await _business_session(hass, place)
    issue_id = reauth_issue_id(_reimbursement(place).subentry_id)
    issues = ir.async_get(hass)
    await _until(hass, lambda: issues.async_get_issue(DOMAIN, issue_id) is not None)
    assert sync.status.state is SyncState.REAUTH
    assert receiver.webhook_messages == {}
    flow = await sync_fix_flow(hass, issue_id)
    result = await flow.async_step_confirm(
        {
            "receiver_url": f"{receiver.base}/webhook",
            "receiver_token": receiver.webhook_token,
        }
    )
    assert result["type"] == "create_entry"
    await _until(hass, lambda: sync.status.state is SyncState.UP_TO_DATE)
    assert len(receiver.webhook_order) == 1
    assert issues.async_get_issue(DOMAIN, issue_id) is None
    assert place.runtime_data.syncs == [sync]


async def sync_fix_flow(hass: HomeAssistant, issue_id: str) -> Any:
    """The repair issue's fix flow, as the repairs panel starts it."""
    issue = ir.async_get(hass).async_get_issue(DOMAIN, issue_id)
    assert issue is not None
    flow = await async_create_fix_flow(hass, issue_id, issue.data)
    flow.hass = hass
    return flow


async def test_an_ocpi_statement_is_accepted_with_its_cdrs_and_paid_by_token_b(
    hass: HomeAssistant, receiver: FakeReceiver, client: TestClient
) -> None:
    """Every CDR delivered: accepted at once; token B reports the payment."""
    place = await covered_place(
        hass,
        {
            **ADDRESS,
            "tariffs": [TARIFF],
            "receiver": "ocpi",
            "receiver_url": receiver.versions_url,
            "receiver_token": receiver.token_a,
        },
    )
    await _until(hass, lambda: CONF_REGISTRATION in _reimbursement(place).data)
    (sync,) = place.runtime_data.syncs
    month = await _business_session(hass, place)
    await _until(
        hass, lambda: sync.status.state is SyncState.UP_TO_DATE and bool(receiver.cdrs)
    )
    await _make_statement(hass, place, month)
    await _until(hass, lambda: _record(place, month)["state"] == "accepted")
    assert _record(place, month)["receiver_ids"] == list(receiver.cdrs)

    token_b = _reimbursement(place).data[CONF_TOKEN_B]
    url = f"/api/homecharge/reimbursement/{_reimbursement(place).subentry_id}/statements/{month}"
    answer = await client.post(
        url, json={"state": "paid"}, headers={"Authorization": f"Bearer {token_b}"}
    )
    assert answer.status == 401  # OCPI's receiver speaks OCPI's token
    header = {"Authorization": "Token " + base64.b64encode(token_b.encode()).decode()}
    answer = await client.post(url, json={"state": "paid"}, headers=header)
    assert (await answer.json())["state"] == "paid"


async def test_the_user_says_a_statement_is_paid(
    hass: HomeAssistant, phone: list[ServiceCall]
) -> None:
    """No receiver to say it: the action marks it paid, with a reference."""
    place = await covered_place(
        hass, {"tariffs": [TARIFF], "notify_service": f"notify.{PHONE}"}
    )
    month = await _business_session(hass, place)
    call = {"config_entry_id": place.entry_id, "reimbursement": "Kari Nordmann"}
    with pytest.raises(ServiceValidationError) as caught:
        await hass.services.async_call(
            DOMAIN, "set_statement_state", {**call, "month": str(month)}, blocking=True
        )
    assert caught.value.translation_key == "unknown_statement"
    await _make_statement(hass, place, month)
    assert _record(place, month)["state"] == "sent"
    await hass.services.async_call(
        DOMAIN,
        "set_statement_state",
        {**call, "month": str(month), "reference": "Lønn desember"},
        blocking=True,
    )
    assert _record(place, month)["state"] == "paid"
    assert _record(place, month)["reference"] == "Lønn desember"
    assert phone[-1].data["title"] == f"Statement {month} paid"
    with pytest.raises(ServiceValidationError) as caught:
        await hass.services.async_call(
            DOMAIN,
            "set_statement_state",
            {**call, "reimbursement": "Ola", "month": str(month)},
            blocking=True,
        )
    assert caught.value.translation_key == "unknown_reimbursement"


def test_the_latest_sent_of_a_session_follows_its_revisions() -> None:
    """CDR, its credit, the next revision's CDR: the newest known is the one."""
    known: set[str] = set()

    def id_of(revision: int) -> str:
        return f"S{revision}"

    assert latest_sent(known.__contains__, id_of) is None
    known.add("S0")
    assert latest_sent(known.__contains__, id_of) == "S0"
    known.add("S0-C")
    assert latest_sent(known.__contains__, id_of) == "S0-C"
    known.add("S1")
    assert latest_sent(known.__contains__, id_of) == "S1"


async def test_a_webhook_url_that_is_no_longer_https_waits_and_says_why(
    hass: HomeAssistant, receiver: FakeReceiver
) -> None:
    """A hand-edited entry: nothing is sent in clear, nothing is lost."""
    place = await covered_place(
        hass, {**_webhook(receiver), "receiver_url": "http://employer.example/hook"}
    )
    (sync,) = place.runtime_data.syncs
    await _business_session(hass, place)
    await _until(hass, lambda: sync.status.state is SyncState.FAILING)
    assert sync.status.last_error == "receiver_not_https"
    assert sync.status.waiting == 1
    assert receiver.webhook_posts == []


async def test_a_repair_for_a_reimbursement_without_a_receiver_has_nothing_to_do(
    hass: HomeAssistant,
) -> None:
    """Its receiver removed meanwhile: the form closes, saying why."""
    place = await covered_place(hass, {"tariffs": [TARIFF]})
    flow = await async_create_fix_flow(
        hass,
        reauth_issue_id(_reimbursement(place).subentry_id),
        {"entry_id": place.entry_id, "subentry_id": _reimbursement(place).subentry_id},
    )
    flow.hass = hass
    result = await flow.async_step_init()
    assert result["type"] == "abort"
    assert result["reason"] == "not_loaded"
