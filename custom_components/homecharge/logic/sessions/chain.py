"""Tamper evidence: finished sessions sealed in a hash chain.

When a session finishes, its record (who, where, when, the registers, the
classification and note) is hashed together with the seal of the session
finished before it. A later change to the record is listed in the session's
changes (old and new value); undoing the listed changes gives back the
sealed record. So a record edited without a change, a change edited, or a
session removed from the middle all break the chain. The slots and costs
are derived (from the readings kept and the prices) and not sealed.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
import hashlib
import json
from typing import Any, Final

from .model import Classification, Session

GENESIS: Final = "0" * 64
# The fields of a session that are sealed, and that a Change may name.
SEALED: Final = (
    "charger",
    "connector",
    "transaction_id",
    "id_tag",
    "vehicle",
    "started",
    "stopped",
    "meter_start_wh",
    "meter_stop_wh",
    "stop_reason",
    "classification",
    "note",
)


def plain(value: Any) -> Any:
    """A field's value as JSON holds it (times as ISO text)."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Classification):
        return value.value
    return value


def record_of(session: Session) -> dict[str, Any]:
    """The sealed fields as plain JSON values.

    The person (added with guests) is sealed only where known, so the seals
    made before it existed still hold.
    """
    record = {name: plain(getattr(session, name)) for name in SEALED}
    if session.person is not None:
        record["person"] = session.person
    return record


def seal_hash(prev_hash: str, record: dict[str, Any]) -> str:
    """The seal of a record that follows the seal prev_hash."""
    canonical = json.dumps(record, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(f"{prev_hash}\n{canonical}".encode()).hexdigest()


def seal(session: Session, seq: int, prev_hash: str) -> str:
    """Seal a finished session as the chain's next link; returns its seal."""
    session.seq = seq
    session.prev_hash = prev_hash
    session.seal_hash = seal_hash(prev_hash, record_of(session))
    return session.seal_hash


def sealed_record(session: Session) -> dict[str, Any] | None:
    """The record as sealed: the current one with its changes undone.

    None when the changes do not lead from it to the current record (a
    field edited without a change, or a change edited).
    """
    current = record_of(session)
    record = dict(current)
    for change in reversed(session.changes):
        if change.field not in record or record[change.field] != change.new:
            return None
        record[change.field] = change.old
    return record


def broken_links(sessions: Iterable[Session]) -> list[tuple[str, str]]:
    """Sessions whose seal does not hold, in chain order (empty: all hold).

    Checks each sealed session's record against its seal and its link to the
    seal before it (a gap in the sequence numbers is a removed session). The
    sessions may be a stretch of the chain (a month): its first link is
    checked against the genesis only when it is the chain's first.
    """
    broken = []
    previous: Session | None = None
    for session in sorted(
        (s for s in sessions if s.seq is not None), key=lambda s: s.seq or 0
    ):
        if previous is not None:
            expected_prev = previous.seal_hash
        else:
            expected_prev = GENESIS if session.seq == 1 else session.prev_hash
        in_order = previous is None or session.seq == (previous.seq or 0) + 1
        record = sealed_record(session)
        holds = (
            session.prev_hash == expected_prev
            and in_order
            and record is not None
            and session.seal_hash == seal_hash(session.prev_hash or "", record)
        )
        if not holds:
            broken.append(session.key)
        previous = session
    return broken
