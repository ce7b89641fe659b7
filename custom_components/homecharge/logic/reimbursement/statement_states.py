"""A statement's way from made to paid, and what a change of it records.

made → sent (the driver's phone told) → accepted (the receiver has every
session of it: an OCPI receiver each CDR, a webhook the statement) → paid
(the receiver reports the payment, or the user says it). A statement only
moves forward: a late "accepted" after "paid" changes nothing, and a step
may be skipped (no phone: made → accepted).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from enum import StrEnum
from typing import Any, Final

# A payment's reference as the receiver gives it, at most this long.
_LONGEST_REFERENCE: Final = 100


class StatementState(StrEnum):
    """Where a statement is; later members are further on."""

    MADE = "made"
    SENT = "sent"
    ACCEPTED = "accepted"
    PAID = "paid"


_ORDER: Final = tuple(StatementState)


def advanced(
    record: Mapping[str, Any],
    state: StatementState,
    at: datetime,
    reference: str | None = None,
) -> dict[str, Any] | None:
    """
    The record moved on to ``state`` at ``at``; None if it is there already.

    Each state keeps its moment (``record["paid"]``: when it was paid);
    ``reference``: the receiver's payment reference, kept with "paid".
    """
    now = StatementState(record.get("state", StatementState.MADE))
    if _ORDER.index(state) <= _ORDER.index(now):
        return None
    moved = {**record, "state": state.value, state.value: at.isoformat()}
    if reference:
        moved["reference"] = reference.strip()[:_LONGEST_REFERENCE]
    return moved
