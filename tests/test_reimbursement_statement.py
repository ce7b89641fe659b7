"""A driver's monthly statement: which sessions, what they cost, the CSV."""

from __future__ import annotations

import csv
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
import io
from zoneinfo import ZoneInfo

from hypothesis import given, strategies as st
import pytest

from custom_components.homecharge.logic.reimbursement.month import Month
from custom_components.homecharge.logic.reimbursement.rules import ChangeKind
from custom_components.homecharge.logic.reimbursement.statement import (
    COLUMNS,
    Correction,
    build_statement,
    statement_csv,
)
from custom_components.homecharge.logic.reimbursement.tariff import Tariff, TariffBasis
from custom_components.homecharge.logic.sessions.model import (
    Classification,
    Session,
    SlotCost,
)

OSLO = ZoneInfo("Europe/Oslo")
JANUARY = Month(2026, 1)
QUARTER = timedelta(minutes=15)
OLD = Tariff(
    effective_from=date(2025, 1, 1),
    basis=TariffBasis.FIXED,
    name="Fastpris 2025",
    currency="NOK",
    unit_rate=Decimal("1.50"),
    vat_percent=Decimal(25),
)
NEW = Tariff(
    effective_from=date(2026, 1, 15),
    basis=TariffBasis.FIXED,
    name="Fastpris etter flytting",
    currency="NOK",
    unit_rate=Decimal("2.00"),
    vat_percent=Decimal(25),
)
SPOT = Tariff(
    effective_from=date(2025, 1, 1),
    basis=TariffBasis.SLOT_COSTS,
    name="Spot",
    currency="NOK",
)


def _session(
    started: datetime,
    wh: int = 10_000,
    *,
    tx: str | None = None,
    business: bool = True,
    finished: bool = True,
    charger: str = "Garasje-ø",
    priced: bool = True,
) -> Session:
    slots = {started + i * QUARTER: wh // 4 for i in range(4)}
    session = Session(
        charger=charger,
        connector=1,
        transaction_id=tx or started.strftime("%m%d%H%M"),
        started=started,
        meter_start_wh=0,
        stopped=started + timedelta(hours=1) if finished else None,
        meter_stop_wh=wh if finished else None,
        classification=Classification.BUSINESS if business else Classification.PERSONAL,
        slots=slots,
    )
    if priced:
        for slot in slots:
            session.costs[slot] = SlotCost(1.0, 0.0, 25.0, 1.0, 0.25)
    return session


def _at(*parts: int) -> datetime:
    year, month, day, *rest = parts
    return datetime(year, month, day, *rest, tzinfo=UTC)


def test_the_business_sessions_started_in_the_local_month() -> None:
    sessions = [
        _session(_at(2026, 1, 5, 17)),
        _session(_at(2026, 1, 6, 17), business=False),
        # 31 December 23:30 UTC is 1 January 00:30 in Oslo: January's.
        _session(_at(2025, 12, 31, 23, 30)),
        # 31 January 23:30 UTC is 1 February in Oslo: not January's.
        _session(_at(2026, 1, 31, 23, 30)),
        _session(_at(2026, 2, 3, 17)),
    ]
    statement = build_statement(JANUARY, "Kari", sessions, [OLD], OSLO)
    assert [line.started for line in statement.lines] == [
        _at(2025, 12, 31, 23, 30),
        _at(2026, 1, 5, 17),
    ]
    assert statement.total_wh == 20_000
    assert statement.total_amount == Decimal("30.00")
    assert statement.currency == "NOK"
    assert statement.complete
    february = build_statement(Month(2026, 2), "Kari", sessions, [OLD], OSLO)
    assert len(february.lines) == 2


def test_each_line_is_costed_under_its_own_tariff() -> None:
    sessions = [_session(_at(2026, 1, 20, 17)), _session(_at(2026, 1, 10, 17))]
    statement = build_statement(JANUARY, "Kari", sessions, [OLD, NEW], OSLO)
    assert [(line.tariff, line.amount) for line in statement.lines] == [
        ("Fastpris 2025", Decimal("15.00")),
        ("Fastpris etter flytting", Decimal("20.00")),
    ]
    assert statement.total_amount == Decimal("35.00")


def test_a_missing_cost_shows_as_missing_and_the_total_as_incomplete() -> None:
    sessions = [
        _session(_at(2026, 1, 10, 17)),
        _session(_at(2026, 1, 11, 17), priced=False),
    ]
    statement = build_statement(JANUARY, "Kari", sessions, [SPOT], OSLO)
    assert [line.amount for line in statement.lines] == [Decimal("12.50"), None]
    assert not statement.complete
    assert statement.total_amount == Decimal("12.50")
    rows = _rows(statement_csv(statement, OSLO))
    assert rows[1]["amount"] == ""
    assert rows[1]["cost_status"] == "missing"
    assert rows[-1]["cost_status"] == "incomplete"


def test_corrections_of_locked_months_are_listed_apart() -> None:
    added = _session(_at(2025, 12, 10, 17), 4000)
    withdrawn = _session(_at(2025, 11, 10, 17), 2000, business=False)
    statement = build_statement(
        JANUARY,
        "Kari",
        [_session(_at(2026, 1, 10, 17))],
        [OLD],
        OSLO,
        corrections=[
            Correction(withdrawn, ChangeKind.CORRECTION_CREDIT),
            Correction(added, ChangeKind.CORRECTION_ADD),
            # An edit is not a correction: nothing to list.
            Correction(added, ChangeKind.EDIT),
        ],
    )
    assert len(statement.lines) == 1
    assert [(c.kind, c.month, c.amount) for c in statement.corrections] == [
        ("correction_credit", Month(2025, 11), Decimal("-3.00")),
        ("correction_add", Month(2025, 12), Decimal("6.00")),
    ]
    assert statement.total_amount == Decimal("18.00")
    assert statement.total_wh == 10_000 - 2000 + 4000


def test_a_running_session_waits_for_its_stop() -> None:
    running = _session(_at(2026, 1, 31, 20), finished=False)
    statement = build_statement(JANUARY, "Kari", [running], [OLD], OSLO)
    assert statement.lines == ()
    assert statement.pending == (running.key,)


def test_one_statement_has_one_currency() -> None:
    euro = Tariff(
        effective_from=date(2026, 1, 15),
        basis=TariffBasis.FIXED,
        name="Vast",
        currency="EUR",
        unit_rate=Decimal("0.30"),
    )
    sessions = [_session(_at(2026, 1, 10, 17)), _session(_at(2026, 1, 20, 17))]
    with pytest.raises(ValueError, match="currency"):
        build_statement(JANUARY, "Kari", sessions, [OLD, euro], OSLO)


def _rows(data: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(data.decode("utf-8"))))


def test_the_csv_has_a_header_local_times_dot_decimals_and_totals() -> None:
    sessions = [
        _session(_at(2026, 7, 3, 16), 12_345),
        _session(_at(2026, 7, 2, 16), 1_001),
    ]
    statement = build_statement(Month(2026, 7), "Kari", sessions, [OLD], OSLO)
    data = statement_csv(statement, OSLO)
    text = data.decode("utf-8")
    assert text.splitlines()[0] == ",".join(COLUMNS)
    assert text.endswith("\r\n")
    rows = _rows(data)
    first, second, total = rows
    # Summer in Oslo: +02:00, and the instant is the session's.
    assert first["started"] == "2026-07-02T18:00:00+02:00"
    assert datetime.fromisoformat(second["stopped"]) == _at(2026, 7, 3, 17)
    assert first["charger"] == "Garasje-ø"
    assert (first["energy_kwh"], second["energy_kwh"]) == ("1.000", "12.344")
    assert first["amount"] == "1.50"
    assert total["line"] == "total"
    assert total["currency"] == "NOK"
    assert Decimal(total["amount"]) == Decimal(first["amount"]) + Decimal(
        second["amount"]
    )
    assert Decimal(total["energy_kwh"]) == Decimal("13.344")
    assert all("," not in row["amount"] for row in rows)


@given(st.permutations(range(6)))
def test_the_csv_is_the_same_whatever_order_the_sessions_come_in(
    order: list[int],
) -> None:
    sessions = [
        _session(_at(2026, 1, 3 + i // 2, 17), 1000 * (i + 1), charger=f"CP-{i % 2}")
        for i in range(6)
    ]
    once = statement_csv(build_statement(JANUARY, "Kari", sessions, [OLD], OSLO), OSLO)
    again = statement_csv(
        build_statement(JANUARY, "Kari", [sessions[i] for i in order], [OLD], OSLO),
        OSLO,
    )
    assert once == again


@given(
    st.lists(
        st.tuples(
            st.integers(0, 30 * 24 * 4 - 1), st.integers(0, 80_000), st.booleans()
        ),
        max_size=20,
    )
)
def test_the_totals_are_the_lines_added_up(
    specs: list[tuple[int, int, bool]],
) -> None:
    sessions = [
        _session(_at(2026, 1, 1) + slot * QUARTER, wh, tx=str(i), business=business)
        for i, (slot, wh, business) in enumerate(specs)
    ]
    statement = build_statement(JANUARY, "Kari", sessions, [OLD, NEW], OSLO)
    assert statement.total_amount == sum(
        (line.amount or Decimal(0) for line in statement.lines), Decimal(0)
    )
    assert statement.total_wh == sum(line.wh for line in statement.lines)
    assert all(JANUARY.contains(line.started, OSLO) for line in statement.lines)
    expected = sum(
        1
        for s in sessions
        if s.classification is Classification.BUSINESS
        and JANUARY.contains(s.started, OSLO)
    )
    assert len(statement.lines) == expected
    rows = _rows(statement_csv(statement, OSLO))
    assert len(rows) == len(statement.lines) + 1
    assert Decimal(rows[-1]["amount"]) == sum(
        (Decimal(row["amount"]) for row in rows[:-1]), Decimal(0)
    )
