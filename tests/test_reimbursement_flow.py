"""The reimbursement subentry flow, through Home Assistant's own flow manager.

The bill is uploaded through HA's real file upload endpoint (``hass_client``)
and must end up, byte for byte, in HA's storage; every error a user can make
is shown at its field, and nothing is saved until the last step.
"""

from __future__ import annotations

import os
from pathlib import Path
import time
from typing import Any

import aiohttp
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.homecharge.const import (
    SUBENTRY_REIMBURSEMENT,
    SUBENTRY_VEHICLE,
)
from custom_components.homecharge.flows.reimbursement_rules import rule_form_values
from custom_components.homecharge.logic.reimbursement.settings import (
    TYPED_VEHICLE,
    tariffs_of,
)
from custom_components.homecharge.logic.reimbursement.tariff import TariffBasis
from custom_components.homecharge.runtime.bills import bills_path
from homeassistant.config_entries import SOURCE_USER, ConfigSubentry
from homeassistant.core import HomeAssistant, ServiceCall
from homeassistant.data_entry_flow import FlowResult, FlowResultType

from .test_central import place_with_charger

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
DRIVER = {
    "name": " Kari Nordmann ",
    "street": "Storgata 1",
    "postal_code": "0155",
    "city": "Oslo",
    "address_country": "NO",
    "mobile": "+47 912 34 567",
}
TARIFF = {
    "basis": "fixed",
    "unit_rate": 1.25,
    "vat_percent": 25,
    "tariff_name": "Spotpris",
    "supplier": "Tibber",
    "account_number": "123456",
    "payment_method": "AvtaleGiro",
    "effective_from": "2026-11-01",
}
# A webhook: an OCPI receiver is registered with at once (test_reimbursement_sync).
RECEIVER = {
    "receiver": "webhook",
    "receiver_url": "https://employer.example/homecharge/sessions",
    "receiver_token": "token-a",
}


async def _place(hass: HomeAssistant) -> MockConfigEntry:
    entry = place_with_charger("CP-1")
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    return entry


def _vehicle(title: str) -> ConfigSubentry:
    return ConfigSubentry(
        data={"registration": "EV12345"},
        subentry_type=SUBENTRY_VEHICLE,
        title=title,
        unique_id=None,
    )


async def _upload(hass_client: ClientSessionGenerator, name: str, data: bytes) -> str:
    """A file through HA's file upload endpoint: its id."""
    client = await hass_client()
    form = aiohttp.FormData()
    form.add_field("file", data, filename=name)
    response = await client.post("/api/file_upload", data=form)
    assert response.status == 200, await response.text()
    return str((await response.json())["file_id"])


async def _start(hass: HomeAssistant, entry: MockConfigEntry) -> FlowResult[Any, Any]:
    return await hass.config_entries.subentries.async_init(
        (entry.entry_id, SUBENTRY_REIMBURSEMENT), context={"source": SOURCE_USER}
    )


async def _step(
    hass: HomeAssistant, result: FlowResult[Any, Any], values: dict[str, Any]
) -> FlowResult[Any, Any]:
    return await hass.config_entries.subentries.async_configure(
        result["flow_id"], values
    )


def _charger_id(entry: MockConfigEntry) -> str:
    return next(
        sub.subentry_id
        for sub in entry.subentries.values()
        if sub.subentry_type == "charger"
    )


def _reimbursement(entry: MockConfigEntry) -> Any:
    return next(
        sub
        for sub in entry.subentries.values()
        if sub.subentry_type == SUBENTRY_REIMBURSEMENT
    )


async def _to_tariff(
    hass: HomeAssistant, entry: MockConfigEntry
) -> FlowResult[Any, Any]:
    result = await _start(hass, entry)
    result = await _step(hass, result, {"consent": True})
    result = await _step(hass, result, DRIVER)
    result = await _step(
        hass,
        result,
        {"vehicle": TYPED_VEHICLE, "vehicle_registration": "EV 12345"},
    )
    result = await _step(hass, result, {"chargers": [_charger_id(entry)]})
    result = await _step(hass, result, {})  # no rules
    assert result["step_id"] == "tariff"
    return result


async def _with_bill(
    hass: HomeAssistant, entry: MockConfigEntry, hass_client: ClientSessionGenerator
) -> FlowResult[Any, Any]:
    """A new reimbursement up to its payout: the fixed tariff and its PDF bill."""
    result = await _step(hass, await _to_tariff(hass, entry), TARIFF)
    return await _step(
        hass, result, {"bill": await _upload(hass_client, "bill.pdf", PDF)}
    )


async def test_onboarding_keeps_everything_checked(
    hass: HomeAssistant, hass_client: ClientSessionGenerator
) -> None:
    """Consent to receiver: the subentry holds the checked values and the bill."""
    entry = await _place(hass)
    result = await _start(hass, entry)
    assert result["step_id"] == "user"
    result = await _step(hass, result, {"consent": False})
    assert result["errors"] == {"consent": "consent_required"}
    result = await _step(hass, result, {"consent": True})
    assert result["step_id"] == "driver"
    schema = result["data_schema"]
    assert schema is not None
    country = next(key for key in schema.schema if key == "address_country")
    # The place's country, not the list's first (Afghanistan).
    assert country.description == {"suggested_value": "NO"}
    result = await _step(hass, result, {**DRIVER, "mobile": "912"})
    assert result["errors"] == {"mobile": "phone_format"}
    result = await _step(hass, result, {**DRIVER, "street": "  "})
    assert result["errors"] == {"street": "address_empty"}
    result = await _step(hass, result, {**DRIVER, "name": " "})
    assert result["errors"] == {"name": "name_empty"}
    result = await _step(hass, result, DRIVER)
    assert result["step_id"] == "vehicle"
    result = await _step(hass, result, {"vehicle": TYPED_VEHICLE})
    assert result["errors"] == {"vehicle_registration": "vehicle_text"}
    result = await _step(
        hass,
        result,
        {"vehicle": TYPED_VEHICLE, "vehicle_make": "VW", "vehicle_registration": "EV1"},
    )
    assert result["step_id"] == "chargers"
    result = await _step(hass, result, {"chargers": []})
    assert result["errors"] == {"chargers": "chargers_required"}
    result = await _step(hass, result, {"chargers": [_charger_id(entry)]})
    result = await _step(hass, result, {})  # no rules
    assert result["step_id"] == "tariff"
    result = await _step(hass, result, {**TARIFF, "unit_rate": 0})
    assert result["errors"] == {"unit_rate": "tariff_rate"}
    result = await _step(hass, result, {**TARIFF, "vat_percent": 100})
    assert result["errors"] == {"vat_percent": "tariff_vat"}
    result = await _step(hass, result, {**TARIFF, "supplier": "x" * 101})
    assert result["errors"] == {"supplier": "tariff_text"}
    result = await _step(hass, result, TARIFF)
    assert result["step_id"] == "bill"
    result = await _step(hass, result, {})
    assert result["errors"] == {"bill": "bill_required"}
    # A web page saved as bill.pdf: the content decides.
    html = await _upload(hass_client, "bill.pdf", b"<!doctype html><html>")
    result = await _step(hass, result, {"bill": html})
    assert result["errors"] == {"bill": "bill_type"}
    empty = await _upload(hass_client, "bill.pdf", b"")
    result = await _step(hass, result, {"bill": empty})
    assert result["errors"] == {"bill": "bill_empty"}
    result = await _step(
        hass, result, {"bill": await _upload(hass_client, "scan.bin", PDF)}
    )
    assert result["step_id"] == "payout"
    result = await _step(
        hass, result, {"payout": "bank_account", "iban": "NO93 8601 1117 948"}
    )
    assert result["errors"] == {"iban": "iban_checksum"}
    result = await _step(
        hass, result, {"payout": "bank_account", "iban": "no93 8601 1117 947"}
    )
    assert result["errors"] == {"account_holder": "holder_empty"}
    result = await _step(
        hass,
        result,
        {"payout": "bank_account", "iban": "no93 8601 1117 947", "account_holder": "K"},
    )
    assert result["step_id"] == "receiver"
    for values, error in (
        (
            {**RECEIVER, "receiver_url": "http://employer.example/x"},
            "receiver_not_https",
        ),
        ({**RECEIVER, "receiver_url": "ftp://employer.example/x"}, "receiver_url"),
        ({**RECEIVER, "receiver_url": "https://[::1"}, "receiver_url"),
        ({**RECEIVER, "receiver_token": " "}, "receiver_token"),
    ):
        result = await _step(hass, result, values)
        field = "receiver_token" if error == "receiver_token" else "receiver_url"
        assert result["errors"] == {field: error}, values
    assert not any(
        sub.subentry_type == SUBENTRY_REIMBURSEMENT for sub in entry.subentries.values()
    ), "nothing is saved before the last step"
    result = await _step(hass, result, RECEIVER)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()

    saved = _reimbursement(entry)
    assert saved.title == "Kari Nordmann"
    data = saved.data
    assert data["mobile"] == "+4791234567"
    assert data["iban"] == "NO9386011117947"
    assert data["chargers"] == [_charger_id(entry)]
    assert data["vehicle_registration"] == "EV1"
    assert data["receiver_url"] == RECEIVER["receiver_url"]
    assert "consent" in data
    (tariff,) = tariffs_of(data)
    assert tariff.basis is TariffBasis.FIXED
    assert str(tariff.unit_rate) == "1.25"
    assert tariff.currency == hass.config.currency
    kept = bills_path(hass) / data["bill"]["file"]
    assert kept.suffix == ".pdf"
    assert data["bill"]["mime"] == "application/pdf"
    assert await hass.async_add_executor_job(kept.read_bytes) == PDF


async def test_slot_costs_need_no_bill_and_pay_the_supplier(
    hass: HomeAssistant,
) -> None:
    """Slot costs skip the bill; a receiver on loopback may use http (tests)."""
    entry = await _place(hass)
    result = await _to_tariff(hass, entry)
    result = await _step(
        hass,
        result,
        {**TARIFF, "basis": "slot_costs", "unit_rate": 2.0},
    )
    assert result["step_id"] == "payout"
    result = await _step(hass, result, {"payout": "supplier", "iban": "garbage"})
    assert result["step_id"] == "receiver"
    result = await _step(
        hass,
        result,
        {
            "receiver": "webhook",
            "receiver_url": "http://127.0.0.1:8080/hook",
            "receiver_token": "secret",
        },
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    data = _reimbursement(entry).data
    (tariff,) = tariffs_of(data)
    assert tariff.basis is TariffBasis.SLOT_COSTS
    assert tariff.unit_rate is None
    assert data["iban"] is None
    assert "bill" not in data


async def test_no_receiver_keeps_no_url_or_token(hass: HomeAssistant) -> None:
    """'No one' forgets whatever was typed in the receiver's fields."""
    entry = await _place(hass)
    result = await _to_tariff(hass, entry)
    result = await _step(hass, result, {**TARIFF, "basis": "slot_costs"})
    result = await _step(hass, result, {"payout": "supplier"})
    result = await _step(
        hass,
        result,
        {"receiver": "none", "receiver_url": "http://x", "receiver_token": "t"},
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    data = _reimbursement(entry).data
    assert data["receiver_url"] is None
    assert data["receiver_token"] is None


async def test_a_move_adds_a_tariff_and_keeps_the_bill(
    hass: HomeAssistant, hass_client: ClientSessionGenerator
) -> None:
    """Reconfigure: a new start date adds a tariff; earlier sessions keep theirs."""
    entry = await _place(hass)
    result = await _with_bill(hass, entry, hass_client)
    result = await _step(hass, result, {"payout": "supplier"})
    result = await _step(hass, result, {"receiver": "none"})
    first = _reimbursement(entry)
    bill = first.data["bill"]

    result = await entry.start_subentry_reconfigure_flow(hass, first.subentry_id)
    assert result["step_id"] == "driver"
    result = await _step(hass, result, {**DRIVER, "street": "Nygata 2"})
    result = await _step(
        hass, result, {"vehicle": TYPED_VEHICLE, "vehicle_registration": "EV1"}
    )
    result = await _step(hass, result, {"chargers": [_charger_id(entry)]})
    result = await _step(hass, result, {})  # no rules
    result = await _step(
        hass, result, {**TARIFF, "unit_rate": 1.5, "effective_from": "2026-12-01"}
    )
    assert result["step_id"] == "bill"
    result = await _step(hass, result, {})
    result = await _step(hass, result, {"payout": "supplier"})
    result = await _step(hass, result, {"receiver": "none"})
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    await hass.async_block_till_done()
    changed = _reimbursement(entry)
    assert changed.data["street"] == "Nygata 2"
    assert [str(t.unit_rate) for t in tariffs_of(changed.data)] == ["1.25", "1.5"]
    assert changed.data["bill"] == bill


async def test_a_new_bill_replaces_the_old_file(
    hass: HomeAssistant, hass_client: ClientSessionGenerator
) -> None:
    """The replaced bill's file is deleted; the same date replaces the tariff."""
    entry = await _place(hass)
    result = await _with_bill(hass, entry, hass_client)
    result = await _step(hass, result, {"payout": "supplier"})
    await _step(hass, result, {"receiver": "none"})
    first = _reimbursement(entry)
    old: Path = bills_path(hass) / first.data["bill"]["file"]

    result = await entry.start_subentry_reconfigure_flow(hass, first.subentry_id)
    result = await _step(hass, result, DRIVER)
    result = await _step(
        hass, result, {"vehicle": TYPED_VEHICLE, "vehicle_registration": "EV1"}
    )
    result = await _step(hass, result, {"chargers": [_charger_id(entry)]})
    result = await _step(hass, result, {})  # no rules
    result = await _step(hass, result, {**TARIFF, "unit_rate": 1.3})
    png = b"\x89PNG\r\n\x1a\n" + bytes(32)
    result = await _step(
        hass, result, {"bill": await _upload(hass_client, "bill.png", png)}
    )
    result = await _step(hass, result, {"payout": "supplier"})
    await _step(hass, result, {"receiver": "none"})
    changed = _reimbursement(entry)
    assert changed.data["bill"]["mime"] == "image/png"
    assert not await hass.async_add_executor_job(old.exists)
    assert [str(t.unit_rate) for t in tariffs_of(changed.data)] == ["1.3"]


async def test_a_place_vehicle_needs_no_registration(hass: HomeAssistant) -> None:
    """One of the place's vehicles is chosen by its subentry."""
    entry = await _place(hass)
    hass.config_entries.async_add_subentry(entry, _vehicle("Family car"))
    await hass.async_block_till_done()
    car = next(
        sub.subentry_id
        for sub in entry.subentries.values()
        if sub.subentry_type == SUBENTRY_VEHICLE
    )
    result = await _start(hass, entry)
    result = await _step(hass, result, {"consent": True})
    result = await _step(hass, result, DRIVER)
    result = await _step(hass, result, {"vehicle": car})
    assert result["step_id"] == "chargers"


async def test_a_place_without_chargers_is_told_to_add_one(
    hass: HomeAssistant,
) -> None:
    """Nothing to cover: the flow stops with a translated reason."""
    entry = place_with_charger("CP-1")
    entry.add_to_hass(hass)
    hass.config_entries.async_remove_subentry(entry, _charger_id(entry))
    result = await _start(hass, entry)
    result = await _step(hass, result, {"consent": True})
    result = await _step(hass, result, DRIVER)
    result = await _step(
        hass, result, {"vehicle": TYPED_VEHICLE, "vehicle_registration": "EV1"}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "no_chargers"


@pytest.mark.parametrize("currency", ["kr", ""])
async def test_a_currency_that_is_no_code_is_explained(
    hass: HomeAssistant, currency: str
) -> None:
    """HA's currency must be an ISO code for the tariff (and OCPI)."""
    entry = await _place(hass)
    result = await _to_tariff(hass, entry)
    hass.config.currency = currency
    result = await _step(hass, result, TARIFF)
    assert result["errors"] == {"base": "tariff_currency"}


async def test_diagnostics_show_nothing_private(
    hass: HomeAssistant, hass_client: ClientSessionGenerator
) -> None:
    """Address, mobile, bill, IBAN, account and token never reach diagnostics."""
    entry = await _place(hass)
    result = await _with_bill(hass, entry, hass_client)
    result = await _step(
        hass,
        result,
        {"payout": "bank_account", "iban": "NO9386011117947", "account_holder": "K"},
    )
    await _step(hass, result, RECEIVER)
    bill = _reimbursement(entry).data["bill"]["file"]
    text = str(await get_diagnostics_for_config_entry(hass, hass_client, entry))
    for private in (
        "Storgata",
        "0155",
        "4791234567",
        "EV 12345",
        "123456",
        "NO9386011117947",
        "token-a",
        "employer.example",
        bill,
    ):
        assert private not in text, private
    assert "Spotpris" in text  # the tariff itself is no secret


async def test_a_removed_reimbursements_bill_is_deleted(
    hass: HomeAssistant, hass_client: ClientSessionGenerator
) -> None:
    """At the next setup, a bill no reimbursement names goes (a day old)."""
    entry = await _place(hass)
    result = await _with_bill(hass, entry, hass_client)
    result = await _step(hass, result, {"payout": "supplier"})
    await _step(hass, result, {"receiver": "none"})
    await hass.async_block_till_done()
    saved = _reimbursement(entry)
    kept = bills_path(hass) / saved.data["bill"]["file"]
    fresh = bills_path(hass) / "in-progress.pdf"
    old = time.time() - 2 * 86400

    def age() -> None:
        fresh.write_bytes(PDF)  # an onboarding that has not finished
        os.utime(kept, (old, old))

    await hass.async_add_executor_job(age)
    assert await hass.config_entries.async_reload(entry.entry_id)
    assert await hass.async_add_executor_job(kept.exists), "still named"
    hass.config_entries.async_remove_subentry(entry, saved.subentry_id)
    await hass.async_block_till_done()
    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    assert not await hass.async_add_executor_job(kept.exists)
    assert await hass.async_add_executor_job(fresh.exists)


async def test_the_drivers_phone_is_one_of_ha(hass: HomeAssistant) -> None:
    """The phone to ask must be a notify service Home Assistant has."""

    async def keep(call: ServiceCall) -> None:
        """A Companion app's notify service."""

    hass.services.async_register("notify", "mobile_app_karis_phone", keep)
    entry = await _place(hass)
    result = await _start(hass, entry)
    result = await _step(hass, result, {"consent": True})
    result = await _step(hass, result, {**DRIVER, "notify_service": "notify.nope"})
    assert result["errors"] == {"notify_service": "notify_unknown"}
    schema = result["data_schema"]
    assert schema is not None
    selector = schema.schema["notify_service"]
    assert selector.config["options"] == ["notify.mobile_app_karis_phone"]
    result = await _step(
        hass, result, {**DRIVER, "notify_service": "notify.mobile_app_karis_phone"}
    )
    assert result["step_id"] == "vehicle"
    result = await _step(
        hass, result, {"vehicle": TYPED_VEHICLE, "vehicle_registration": "EV1"}
    )
    result = await _step(hass, result, {"chargers": [_charger_id(entry)]})
    result = await _step(hass, result, {})  # no rules
    result = await _step(hass, result, {**TARIFF, "basis": "slot_costs"})
    result = await _step(hass, result, {"payout": "supplier"})
    await _step(hass, result, {"receiver": "none"})
    assert (
        _reimbursement(entry).data["notify_service"] == "notify.mobile_app_karis_phone"
    )


async def test_covering_another_charger_reloads_the_place(
    hass: HomeAssistant,
) -> None:
    """The Last session select follows what a reconfigure covers."""
    entry = await _place(hass)
    result = await _to_tariff(hass, entry)
    result = await _step(hass, result, {**TARIFF, "basis": "slot_costs"})
    result = await _step(hass, result, {"payout": "supplier"})
    await _step(hass, result, {"receiver": "none"})
    await hass.async_block_till_done()
    assert hass.states.get("select.garage_last_session") is not None
    saved = _reimbursement(entry)
    hass.config_entries.async_update_subentry(
        entry, saved, data={**saved.data, "chargers": []}
    )
    await hass.async_block_till_done()
    assert hass.states.get("select.garage_last_session") is None


async def test_rules_are_asked_one_by_one_and_shown_again(hass: HomeAssistant) -> None:
    """Rules: checked, asked while "another" is ticked, prefilled on a change."""
    entry = await _place(hass)
    hass.config_entries.async_add_subentry(entry, _vehicle("Company car"))
    await hass.async_block_till_done()
    car = next(
        key
        for key, sub in entry.subentries.items()
        if sub.subentry_type == SUBENTRY_VEHICLE
    )
    result = await _start(hass, entry)
    result = await _step(hass, result, {"consent": True})
    result = await _step(hass, result, DRIVER)
    result = await _step(hass, result, {"vehicle": car})
    result = await _step(hass, result, {"chargers": [_charger_id(entry)]})
    assert result["step_id"] == "rules"
    assert result["description_placeholders"] == {"number": "1"}
    result = await _step(hass, result, {"rule_from": "22:00:00"})
    assert result["errors"] == {"rule_from": "rule_window"}
    result = await _step(hass, result, {"rule_cards": "A" * 21})
    assert result["errors"] == {"rule_cards": "rule_card"}
    result = await _step(
        hass,
        result,
        {
            "rule_vehicles": [car],
            "rule_weekdays": ["fri", "mon"],
            "rule_from": "08:00:00",
            "rule_until": "17:00:00",
            "another_rule": True,
        },
    )
    assert result["step_id"] == "rules"
    assert result["description_placeholders"] == {"number": "2"}
    result = await _step(
        hass,
        result,
        {"rule_cards": "AB12, ab13 ,", "rule_from": "22:00", "rule_until": "06:00"},
    )
    assert result["step_id"] == "tariff"
    result = await _step(hass, result, {**TARIFF, "basis": "slot_costs"})
    result = await _step(hass, result, {"payout": "supplier"})
    result = await _step(hass, result, {"receiver": "none"})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    reimbursement = _reimbursement(entry)
    assert reimbursement.data["rules"] == [
        {
            "rule_vehicles": [car],
            "rule_cards": [],
            "rule_weekdays": ["mon", "fri"],
            "rule_from": "08:00",
            "rule_until": "17:00",
        },
        {
            "rule_vehicles": [],
            "rule_cards": ["AB12", "ab13"],
            "rule_weekdays": [],
            "rule_from": "22:00",
            "rule_until": "06:00",
        },
    ]

    # Changed: the first rule shown as saved (another follows), the second
    # left empty: only the first is kept.
    result = await entry.start_subentry_reconfigure_flow(
        hass, reimbursement.subentry_id
    )
    result = await _step(hass, result, DRIVER)
    result = await _step(hass, result, {"vehicle": car})
    result = await _step(hass, result, {"chargers": [_charger_id(entry)]})
    shown = {
        str(key): key.description["suggested_value"]
        for key in result["data_schema"].schema
        if key.description
    }
    assert shown == {
        "rule_vehicles": [car],
        "rule_cards": "",
        "rule_weekdays": ["mon", "fri"],
        "rule_from": "08:00:00",
        "rule_until": "17:00:00",
        "another_rule": True,
    }
    result = await _step(hass, result, {**shown, "another_rule": True})
    assert result["description_placeholders"] == {"number": "2"}
    result = await _step(hass, result, {})
    assert result["step_id"] == "tariff"
    result = await _step(hass, result, {**TARIFF, "basis": "slot_costs"})
    result = await _step(hass, result, {"payout": "supplier"})
    result = await _step(hass, result, {"receiver": "none"})
    assert result["reason"] == "reconfigure_successful"
    assert [rule["rule_vehicles"] for rule in _reimbursement(entry).data["rules"]] == [
        [car]
    ]


def test_a_rule_without_a_window_is_shown_without_times() -> None:
    assert rule_form_values({"rule_cards": ["A1", "B2"]}, more=False) == {
        "rule_vehicles": [],
        "rule_cards": "A1, B2",
        "rule_weekdays": [],
        "another_rule": False,
    }


async def test_a_rule_for_a_removed_vehicle_does_not_become_one_for_any(
    hass: HomeAssistant,
) -> None:
    """The company car is gone: clicking through the rule keeps it narrow."""
    entry = await _place(hass)
    hass.config_entries.async_add_subentry(entry, _vehicle("Company car"))
    await hass.async_block_till_done()
    car = next(
        key
        for key, sub in entry.subentries.items()
        if sub.subentry_type == SUBENTRY_VEHICLE
    )
    result = await _start(hass, entry)
    for values in (
        {"consent": True},
        DRIVER,
        {"vehicle": TYPED_VEHICLE, "vehicle_registration": "EV1"},
        {"chargers": [_charger_id(entry)]},
        {"rule_vehicles": [car], "rule_weekdays": ["mon"]},
        {**TARIFF, "basis": "slot_costs"},
        {"payout": "supplier"},
        {"receiver": "none"},
    ):
        result = await _step(hass, result, values)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    reimbursement = _reimbursement(entry)
    hass.config_entries.async_remove_subentry(entry, car)
    await hass.async_block_till_done()

    result = await entry.start_subentry_reconfigure_flow(
        hass, reimbursement.subentry_id
    )
    result = await _step(hass, result, DRIVER)
    result = await _step(
        hass, result, {"vehicle": TYPED_VEHICLE, "vehicle_registration": "EV1"}
    )
    result = await _step(hass, result, {"chargers": [_charger_id(entry)]})
    assert result["step_id"] == "rules"
    # No vehicles left: no vehicles field; the weekday as saved.
    assert "rule_vehicles" not in {str(key) for key in result["data_schema"].schema}
    result = await _step(hass, result, {"rule_weekdays": ["mon"]})
    assert result["step_id"] == "tariff"
    result = await _step(hass, result, {**TARIFF, "basis": "slot_costs"})
    result = await _step(hass, result, {"payout": "supplier"})
    result = await _step(hass, result, {"receiver": "none"})
    (rule,) = _reimbursement(entry).data["rules"]
    assert rule["rule_vehicles"] == [car]
