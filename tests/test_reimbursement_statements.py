"""Monthly statements: a real charger's business sessions, as PDF and CSV.

The PDF is read back with pypdf (not the library that wrote it); the CSV
with the csv module; the history survives a reload; a change after the
statement comes as a correction on the next one.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
import csv
from dataclasses import fields
from datetime import timedelta
from decimal import Decimal
import io
from pathlib import Path
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from pypdf import PdfReader
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
)

from custom_components.homecharge.const import DOMAIN
from custom_components.homecharge.logic.reimbursement.month import Month
from custom_components.homecharge.logic.reimbursement.statement import (
    build_statement,
)
from custom_components.homecharge.logic.reimbursement.statement_pdf import (
    Labels,
    statement_pdf,
)
from homeassistant.core import HomeAssistant, ServiceCall
from homeassistant.exceptions import ServiceValidationError
from homeassistant.util import dt as dt_util

from .reimbursement_places import (
    PHONE,
    booted_charger,
    covered_place,
)
from .simulators.raw import RawCharger
from .test_sessions_runtime import _sessions, _two_sessions

RATE = Decimal("2.50")


@pytest.fixture
async def place(hass: HomeAssistant, phone: list[ServiceCall]) -> MockConfigEntry:
    """CP-1 covered by Kari's reimbursement at a fixed 2.50 per kWh."""
    tariff = {
        "effective_from": "2020-01-01",
        "basis": "fixed",
        "tariff_name": "Fastpris",
        "currency": "NOK",
        "unit_rate": str(RATE),
        "vat_percent": "25",
    }
    return await covered_place(
        hass, {"tariffs": [tariff], "notify_service": f"notify.{PHONE}"}
    )


@pytest.fixture
async def charger(
    hass: HomeAssistant, place: MockConfigEntry
) -> AsyncIterator[RawCharger]:
    """CP-1 connected and booted."""
    async with booted_charger(hass) as raw:
        yield raw


async def _make(hass: HomeAssistant, place: MockConfigEntry, **data: Any) -> Any:
    response = await hass.services.async_call(
        DOMAIN,
        "make_statement",
        {"config_entry_id": place.entry_id, **data},
        blocking=True,
        return_response=True,
    )
    assert response is not None
    return response["statements"]


def _month_of(place: MockConfigEntry, transaction: str) -> Month:
    session = _sessions(place).ledger.get(("CP-1", transaction))
    assert session is not None
    return Month.of(session.started, dt_util.get_default_time_zone())


async def test_a_months_business_sessions_are_stated(
    hass: HomeAssistant,
    place: MockConfigEntry,
    charger: RawCharger,
    phone: list[ServiceCall],
) -> None:
    """The business session, at the bill's rate, in PDF and CSV; the phone told."""
    _first, second, _today = await _two_sessions(charger)
    sessions = _sessions(place)
    sessions.amend(("CP-1", second), by=None, classification="business")
    month = _month_of(place, second)
    (record,) = await _make(hass, place, month=str(month))
    assert record["reimbursement"] == "Kari Nordmann"
    assert record["sessions"] == 1  # only the business one (1 kWh)
    assert record["energy_kwh"] == 1.0
    assert record["amount"] == "2.50"
    assert record["currency"] == "NOK"
    assert record["state"] == "sent"

    pdf = PdfReader(io.BytesIO(Path(record["pdf"]).read_bytes()))
    text = "\n".join(page.extract_text() for page in pdf.pages)
    assert f"Charging statement {month}" in text
    assert "Kari Nordmann" in text
    assert "Fastpris" in text
    assert "2.50" in text
    rows = list(csv.DictReader(io.StringIO(Path(record["csv"]).read_text("utf-8"))))
    assert [row["transaction_id"] for row in rows[:-1]] == [second]
    assert rows[-1]["line"] == "total"
    assert rows[-1]["amount"] == "2.50"

    told = phone[-1].data
    assert told["title"] == f"Charging statement {month}"
    assert told["message"] == "1 business sessions, 1.0 kWh: 2.50 NOK."

    # Kept across a reload.
    assert await hass.config_entries.async_reload(place.entry_id)
    await hass.async_block_till_done()
    history = place.runtime_data.statements.history
    (kept,) = history.values()
    assert kept[str(month)]["amount"] == "2.50"


async def test_a_change_after_the_statement_is_a_correction(
    hass: HomeAssistant, place: MockConfigEntry, charger: RawCharger
) -> None:
    """The month is locked: a session withdrawn is credited on the next one."""
    _first, second, _today = await _two_sessions(charger)
    sessions = _sessions(place)
    sessions.amend(("CP-1", second), by=None, classification="business")
    month = _month_of(place, second)
    await _make(hass, place, month=str(month))
    sessions.amend(("CP-1", second), by=None, classification="personal")
    (later,) = await _make(hass, place, month=str(month.next()))
    assert later["sessions"] == 0
    assert later["corrections"] == 1
    assert later["amount"] == "-2.50"
    # Locked too: asked again, the same statement (not credited twice).
    (again,) = await _make(hass, place, month=str(month.next()))
    assert again == later
    (after,) = await _make(hass, place, month=str(month.next().next()))
    assert after["corrections"] == 0


async def test_an_unknown_driver_is_a_clear_error(
    hass: HomeAssistant, place: MockConfigEntry
) -> None:
    """A name no reimbursement has: translated error, nothing made."""
    with pytest.raises(ServiceValidationError) as err:
        await _make(hass, place, reimbursement="Ola")
    assert err.value.translation_key == "unknown_reimbursement"
    assert place.runtime_data.statements.history == {}
    (record,) = await _make(hass, place, reimbursement="kari nordmann")
    assert record["sessions"] == 0


async def test_the_1st_makes_last_months_statement(
    hass: HomeAssistant,
    place: MockConfigEntry,
    phone: list[ServiceCall],
    freezer: FrozenDateTimeFactory,
) -> None:
    """At 06:00 on the 1st, each reimbursement gets the month before's, once."""
    zone = dt_util.get_default_time_zone()
    month = Month.of(dt_util.utcnow(), zone)
    first = month.next().start(zone).astimezone(zone).replace(hour=6)
    for day in range(3):
        # Each day at 06:00 (the 2nd and 3rd: nothing new).
        freezer.move_to(first + timedelta(days=day))
        async_fire_time_changed(hass, dt_util.utcnow())
        # A timer's job runs as a background task.
        await hass.async_block_till_done(wait_background_tasks=True)
    (kept,) = place.runtime_data.statements.history.values()
    assert list(kept) == [str(month)]
    assert len(phone) == 1


def test_a_character_the_font_lacks_is_replaced() -> None:
    """A "€" or an "ő" in a name never breaks the PDF."""
    zone = dt_util.get_default_time_zone()
    statement = build_statement(Month(2026, 11), "Zoë Kőváry €", [], [], zone)
    labels = Labels(**{field.name: "Ærø ø å" for field in fields(Labels)})
    text = (
        PdfReader(io.BytesIO(statement_pdf(statement, zone, labels, "Hytta")))
        .pages[0]
        .extract_text()
    )
    assert "Ærø ø å 2026-11" in text
    assert "Zoë K?váry ?" in text
