"""A statement only moves forward: made, sent, accepted, paid."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given, strategies as st

from custom_components.homecharge.logic.reimbursement.statement_states import (
    StatementState,
    advanced,
)

AT = datetime(2026, 12, 1, 6, tzinfo=UTC)


def test_each_state_keeps_its_moment_and_the_reference() -> None:
    record = {"month": "2026-11", "state": "made"}
    sent = advanced(record, StatementState.SENT, AT)
    assert sent == {**record, "state": "sent", "sent": AT.isoformat()}
    paid = advanced(sent, StatementState.PAID, AT, reference="  SEPA 42 " + "x" * 200)
    assert paid is not None
    assert paid["state"] == "paid"
    assert paid["sent"] == AT.isoformat()
    assert paid["reference"].startswith("SEPA 42 ")
    assert len(paid["reference"]) == 100


def test_no_step_back_and_none_twice() -> None:
    paid = {"state": "paid"}
    for state in StatementState:
        assert advanced(paid, state, AT) is None
    assert advanced({"state": "accepted"}, StatementState.ACCEPTED, AT) is None
    # An old record without a state is made.
    assert advanced({}, StatementState.MADE, AT) is None


@given(st.lists(st.sampled_from(list(StatementState)), max_size=12))
def test_any_order_of_reports_only_moves_forward(reports: list[StatementState]) -> None:
    order = list(StatementState)
    record: dict[str, str] = {"state": "made"}
    for state in reports:
        before = order.index(StatementState(record["state"]))
        moved = advanced(record, state, AT)
        if moved is None:
            assert order.index(state) <= before
        else:
            assert order.index(StatementState(moved["state"])) > before
            record = moved
    furthest = max((order.index(s) for s in reports), default=0)
    assert record["state"] == order[furthest].value
