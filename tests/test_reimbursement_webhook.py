"""The webhook's messages (a session, its credit, a statement) and its answers."""

from __future__ import annotations

import csv
import dataclasses
from datetime import timedelta
from decimal import Decimal
import io
import json
from typing import Any

from hypothesis import given, strategies as st
import pytest

from custom_components.homecharge.logic.reimbursement.month import Month
from custom_components.homecharge.logic.reimbursement.ocpi_cdr import (
    CdrError,
    cdr_due,
)
from custom_components.homecharge.logic.reimbursement.outbox import Outcome, Verdict
from custom_components.homecharge.logic.reimbursement.priced import priced_slots
from custom_components.homecharge.logic.reimbursement.statement import (
    build_statement,
    statement_csv,
)
from custom_components.homecharge.logic.reimbursement.tariff import (
    Tariff,
    session_cost,
)
from custom_components.homecharge.logic.reimbursement.webhook import (
    MAX_REASON,
    MessageError,
    credit_message,
    message_id,
    session_message,
    statement_message,
    webhook_outcome,
    webhook_url,
)
from custom_components.homecharge.logic.sessions.model import Session
from tests.test_reimbursement_ocpi_cdr import (
    FIXED,
    NOW,
    OSLO,
    SLOTS,
    _cdr,
    _session,
)

REIMBURSEMENT = "01JABCDEF0REIMBURSEMENT"


def _message(session: Session | None = None, **changes: Any) -> dict[str, Any]:
    arguments: dict[str, Any] = {
        "tariffs": (FIXED,),
        "zone": OSLO,
        "now": NOW,
        "reimbursement_id": REIMBURSEMENT,
        "driver_name": "Kari Nordmann",
        "vehicle": "Tesla Model Y EL12345",
    }
    return session_message(session or _session(), **(arguments | changes))


def test_a_session_message_has_the_ledgers_numbers() -> None:
    message = _message()
    assert json.loads(json.dumps(message)) == message
    assert message["version"] == 1
    assert message["type"] == "session"
    assert message["revision"] == 0
    assert "credit_reference_id" not in message
    assert len(message["id"]) == 32
    assert (message["driver_name"], message["vehicle"]) == (
        "Kari Nordmann",
        "Tesla Model Y EL12345",
    )
    assert (message["charger_id"], message["connector_id"]) == ("CP-1", 1)
    assert message["transaction_id"] == "42"
    assert message["start"] == "2026-01-05T17:07:30Z"
    assert message["end"] == "2026-01-05T17:57:00Z"
    assert (message["energy_kwh"], message["energy_wh"]) == (7.0, 7000)
    assert message["classification"] == "business"
    assert message["tariff"] == {
        "name": "Fastpris",
        "basis": "fixed",
        "effective_from": "2026-01-01",
        "currency": "NOK",
        "unit_rate": 2.5,
        "vat_percent": 25.0,
        "supplier": "",
    }
    assert message["slots"] == [
        {
            "start": start,
            "energy_kwh": kwh,
            "energy_wh": int(kwh * 1000),
            "price_per_kwh": 2.5,
            "cost": cost,
        }
        for start, kwh, cost in (
            ("2026-01-05T17:00:00Z", 0.5, 1.25),
            ("2026-01-05T17:15:00Z", 2.75, 6.88),
            ("2026-01-05T17:30:00Z", 2.75, 6.87),
            ("2026-01-05T17:45:00Z", 1.0, 2.5),
        )
    ]
    assert message["currency"] == "NOK"
    assert message["total_cost"] == {"excl_vat": 14.0, "incl_vat": 17.5}
    assert message["created"] == "2026-02-01T06:00:00Z"
    # The same total as the CDR and the statement's line.
    assert _cdr()["total_cost"] == message["total_cost"]
    statement = build_statement(
        Month(2026, 1), "Kari Nordmann", [_session()], (FIXED,), OSLO
    )
    assert float(statement.lines[0].amount or 0) == message["total_cost"]["incl_vat"]


def test_slot_costs_carry_each_slots_own_price() -> None:
    session = _session(prices=(1.0, 1.0, 2.0, 0.5))
    message = _message(session, tariffs=(SLOTS,))
    # All in: the spot price plus the grid's 0.50.
    assert [row["price_per_kwh"] for row in message["slots"]] == [1.5, 1.5, 2.5, 1.0]
    assert message["tariff"]["basis"] == "slot_costs"
    assert message["tariff"]["unit_rate"] is None
    assert message["total_cost"]["incl_vat"] == float(
        session_cost(session, (SLOTS,), OSLO).amount or 0
    )


def test_the_id_is_the_same_for_every_resend_and_differs_per_session() -> None:
    first = _message()
    assert _message(now=NOW + timedelta(days=2))["id"] == first["id"]
    assert _message(_session(tx="43"))["id"] != first["id"]
    assert _message(_session(charger="CP-2"))["id"] != first["id"]
    assert _message(reimbursement_id="another")["id"] != first["id"]
    assert _message(revision=1)["id"] != first["id"]
    assert message_id(REIMBURSEMENT, _session(), 0) == first["id"]
    # The same transaction id at another start is another session.
    again = _session()
    later = dataclasses.replace(again, started=again.started + timedelta(days=30))
    assert message_id(REIMBURSEMENT, later, 0) != first["id"]
    # Not the CDR's id: the two never meet in one outbox by mistake.
    assert first["id"] != _cdr()["id"]


def test_a_credit_is_the_same_message_with_its_costs_negated() -> None:
    original = _message()
    credit = _message(credit=True, now=NOW + timedelta(days=40))
    assert credit == credit_message(original, now=NOW + timedelta(days=40))
    assert credit["id"] == original["id"] + "-C"
    assert credit["type"] == "credit"
    assert credit["credit_reference_id"] == original["id"]
    assert credit["classification"] == "personal"
    assert credit["total_cost"] == {"excl_vat": -14.0, "incl_vat": -17.5}
    assert [row["cost"] for row in credit["slots"]] == [-1.25, -6.88, -6.87, -2.5]
    assert credit["created"] == "2026-03-13T06:00:00Z"
    changed = {
        "id",
        "type",
        "credit_reference_id",
        "classification",
        "total_cost",
        "slots",
        "created",
    }
    assert {k: v for k, v in credit.items() if k not in changed} == {
        k: v for k, v in original.items() if k not in changed
    }
    assert original["total_cost"]["incl_vat"] == 17.5
    with pytest.raises(MessageError):
        credit_message(credit, now=NOW)


def test_the_history_of_a_session_uses_the_same_rule_as_the_cdrs() -> None:
    """cdr_due with the message ids: a message, its credit, a new revision."""
    sent = {message_id(REIMBURSEMENT, _session(), 0)}

    def id_of(revision: int) -> str:
        return message_id(REIMBURSEMENT, _session(), revision)

    assert cdr_due(False, sent.__contains__, id_of) == (0, True)
    sent.add(_message(credit=True)["id"])
    assert cdr_due(True, sent.__contains__, id_of) == (1, False)


def test_a_session_without_a_cost_or_a_stop_is_no_message() -> None:
    with pytest.raises(MessageError, match="missing"):
        _message(_session(prices=(1.0, None, 1.0, 1.0)), tariffs=(SLOTS,))
    with pytest.raises(CdrError, match="missing"):
        _message(tariffs=())
    running = _session()
    running.stopped = None
    with pytest.raises(MessageError, match="ended"):
        _message(running)
    backwards = _session()
    backwards.stopped = backwards.started - timedelta(seconds=1)
    with pytest.raises(MessageError, match="before it starts"):
        _message(backwards)


def test_an_empty_last_slot_without_a_price_costs_nothing() -> None:
    session = _session((1000, 0), (1.0, None))
    del session.costs[max(session.costs)]
    message = _message(session, tariffs=(SLOTS,))
    assert message["slots"][1] == {
        "start": "2026-01-05T17:15:00Z",
        "energy_kwh": 0.0,
        "energy_wh": 0,
        "price_per_kwh": None,
        "cost": 0.0,
    }
    assert message["total_cost"]["incl_vat"] == 1.5


@given(
    st.lists(
        st.tuples(
            st.integers(0, 3000), st.floats(-1.5, 9.99).map(lambda p: round(p, 4))
        ),
        min_size=1,
        max_size=40,
    ),
    st.sampled_from([FIXED, SLOTS]),
    st.booleans(),
)
def test_slots_add_up_to_the_session_exactly(
    slots: list[tuple[int, float]], tariff: Tariff, credit: bool
) -> None:
    session = _session(tuple(wh for wh, _ in slots), tuple(p for _, p in slots))
    message = _message(session, tariffs=(tariff,), credit=credit)
    rows = message["slots"]
    assert len(rows) == len(slots)
    assert sum(row["energy_wh"] for row in rows) == message["energy_wh"]
    assert message["energy_wh"] == session.energy_wh
    amount = session_cost(session, (tariff,), OSLO).amount
    assert amount is not None
    sign = -1 if credit else 1
    # The costs in cents add up to the total exactly, as the statement has it.
    assert sum(Decimal(str(row["cost"])) for row in rows) == sign * amount
    assert Decimal(str(message["total_cost"]["incl_vat"])) == sign * amount
    for row, priced in zip(rows, priced_slots(session, tariff), strict=True):
        exact = Decimal(row["energy_wh"]) / 1000 * Decimal(str(row["price_per_kwh"]))
        assert abs(sign * Decimal(str(row["cost"])) - exact) < Decimal("0.01")
        assert sign * Decimal(str(row["cost"])) == priced.cost
    assert _message(session, tariffs=(tariff,), credit=credit)["id"] == message["id"]


def test_a_statement_message_embeds_its_csv_and_its_totals() -> None:
    sessions = [_session(), _session(tx="43", prices=None)]
    statement = build_statement(
        Month(2026, 1), "Kari Nordmann", sessions, (FIXED,), OSLO
    )
    message = statement_message(
        statement, zone=OSLO, reimbursement_id=REIMBURSEMENT, now=NOW
    )
    assert json.loads(json.dumps(message)) == message
    assert message["type"] == "statement"
    assert message["month"] == "2026-01"
    assert message["period_start"] == "2025-12-31T23:00:00Z"
    assert message["period_end"] == "2026-01-31T23:00:00Z"
    assert (message["sessions"], message["corrections"], message["pending"]) == (
        2,
        0,
        0,
    )
    assert (message["energy_wh"], message["energy_kwh"]) == (14000, 14.0)
    assert message["total_amount"] == 35.0
    assert message["complete"] is True
    assert message["currency"] == "NOK"
    assert message["csv"].encode() == statement_csv(statement, OSLO)
    rows = list(csv.reader(io.StringIO(message["csv"])))
    assert rows[-1][0] == "total"
    assert rows[-1][9] == "35.00"
    assert message["csv_name"] == "statement_2026-01.csv"
    # The same statement resent: the same id; another content: another.
    again = statement_message(
        statement, zone=OSLO, reimbursement_id=REIMBURSEMENT, now=NOW + timedelta(1)
    )
    assert again["id"] == message["id"]
    fewer = build_statement(
        Month(2026, 1), "Kari Nordmann", sessions[:1], (FIXED,), OSLO
    )
    assert (
        statement_message(fewer, zone=OSLO, reimbursement_id=REIMBURSEMENT, now=NOW)[
            "id"
        ]
        != message["id"]
    )


def test_each_message_has_its_path_under_the_base_url() -> None:
    assert webhook_url("https://x.example/hc/", _message()) == (
        "https://x.example/hc/sessions"
    )
    assert webhook_url("https://x.example/hc", _message(credit=True)) == (
        "https://x.example/hc/sessions"
    )
    statement = build_statement(Month(2026, 1), "K", [], (FIXED,), OSLO)
    assert webhook_url(
        "https://x.example/hc",
        statement_message(statement, zone=OSLO, reimbursement_id="r", now=NOW),
    ) == ("https://x.example/hc/statements")
    with pytest.raises(ValueError, match="message type"):
        webhook_url("https://x.example/hc", {"type": "cdr"})


@pytest.mark.parametrize(
    ("status", "body", "verdict"),
    [
        (200, b"", Verdict(Outcome.DELIVERED)),
        (201, b"<html>Thanks</html>", Verdict(Outcome.DELIVERED)),
        (204, None, Verdict(Outcome.DELIVERED)),
        # No OCPI envelope is needed, nor read: an OCPI 2xxx in a 2xx is fine.
        (200, b'{"status_code": 2001}', Verdict(Outcome.DELIVERED)),
        (401, b'{"message": "bad token"}', Verdict(Outcome.REAUTH, "HTTP 401")),
        (403, None, Verdict(Outcome.REAUTH, "HTTP 403")),
        (408, None, Verdict(Outcome.RETRY, "HTTP 408")),
        (429, b'{"message": "slow down"}', Verdict(Outcome.RETRY, "HTTP 429")),
        (500, b"oops", Verdict(Outcome.RETRY, "HTTP 500")),
        (503, None, Verdict(Outcome.RETRY, "HTTP 503")),
        (302, None, Verdict(Outcome.RETRY, "HTTP 302")),
        (None, None, Verdict(Outcome.RETRY, "no answer")),
        (
            422,
            b'{"message": "unknown driver"}',
            Verdict(Outcome.REJECTED, "HTTP 422 (unknown driver)"),
        ),
        (
            400,
            '{"error": "missing\\n field\\tid"}',
            Verdict(Outcome.REJECTED, "HTTP 400 (missing field id)"),
        ),
        (
            409,
            b'{"detail": "duplicate", "message": 3}',
            Verdict(Outcome.REJECTED, "HTTP 409 (duplicate)"),
        ),
        (404, b"no such hook", Verdict(Outcome.REJECTED, "HTTP 404 (no such hook)")),
        (
            404,
            b"<html><body>404 Not Found</body></html>",
            Verdict(Outcome.REJECTED, "HTTP 404"),
        ),
        (410, b"[1, 2]", Verdict(Outcome.REJECTED, "HTTP 410")),
        (400, b"\xff\xfe", Verdict(Outcome.REJECTED, "HTTP 400 (\ufffd\ufffd)")),
        (400, b"", Verdict(Outcome.REJECTED, "HTTP 400")),
    ],
)
def test_what_a_webhook_answer_means(
    status: int | None, body: bytes | str | None, verdict: Verdict
) -> None:
    assert webhook_outcome(status, body) == verdict


def test_a_long_message_is_cut_short() -> None:
    verdict = webhook_outcome(422, json.dumps({"message": "why " * 200}))
    assert verdict.outcome is Outcome.REJECTED
    said = verdict.reason.removeprefix("HTTP 422 (").removesuffix(")")
    assert len(said) == MAX_REASON
    assert said.endswith("…")
