"""The cloud outbox: answers read, backoff, head of line, and a week's outage."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
import json
import random
from typing import Any

from hypothesis import given, settings, strategies as st
import pytest

from custom_components.homecharge.logic.reimbursement.outbox import (
    BASE_DELAY,
    MAX_DELAY,
    Entry,
    Outbox,
    Outcome,
    Verdict,
    next_delay,
    outcome,
    pack,
    unpack,
)

T0 = datetime(2026, 2, 1, 6, tzinfo=UTC)


def _rng(seed: int) -> random.Random:
    """Jitter and faults, the same for a seed (nothing secret here)."""
    return random.Random(seed)  # noqa: S311


OK = b'{"status_code": 1000, "timestamp": "2026-02-01T06:00:00Z"}'


@pytest.mark.parametrize(
    ("status", "body", "expected"),
    [
        (200, OK, Outcome.DELIVERED),
        (201, OK, Outcome.DELIVERED),
        (401, b"", Outcome.REAUTH),
        (403, b'{"status_code": 2000}', Outcome.REAUTH),
        (200, b'{"status_code": 2001, "status_message": "bad"}', Outcome.REJECTED),
        (400, b'{"status_code": 2001}', Outcome.REJECTED),
        (404, b"<html>Not Found</html>", Outcome.REJECTED),
        (422, b"", Outcome.REJECTED),
        (408, b"", Outcome.RETRY),
        (429, b"", Outcome.RETRY),
        (500, b'{"status_code": 3000}', Outcome.RETRY),
        (502, b"<html>Bad Gateway</html>", Outcome.RETRY),
        (503, None, Outcome.RETRY),
        (None, None, Outcome.RETRY),
        (200, b"<html>captive portal</html>", Outcome.RETRY),
        (200, b"", Outcome.RETRY),
        (200, b'{"status_code": 3000}', Outcome.RETRY),
        (200, b'{"status_code": 4002}', Outcome.RETRY),
        (302, b"", Outcome.RETRY),
    ],
)
def test_what_an_answer_means(
    status: int | None, body: bytes | None, expected: Outcome
) -> None:
    verdict = outcome(status, body)
    assert verdict.outcome is expected
    assert bool(verdict.reason) is (expected is not Outcome.DELIVERED)


def test_a_refusal_keeps_the_receivers_message_for_the_user() -> None:
    verdict = outcome(200, b'{"status_code": 2001, "status_message": "total_cost"}')
    assert verdict.reason == "OCPI 2001 (total_cost)"


class _Top(random.Random):
    def random(self) -> float:
        return 1.0


def test_the_delay_doubles_up_to_an_hour() -> None:
    delays = [next_delay(n, _Top()) for n in range(12)]
    assert delays[:4] == [BASE_DELAY * 2**n for n in range(4)]
    assert max(delays) == MAX_DELAY == timedelta(hours=1)
    assert delays[-1] == MAX_DELAY
    assert next_delay(10_000, _Top()) == MAX_DELAY


@given(st.integers(0, 200), st.integers())
def test_the_delay_is_full_jitter_under_the_ceiling(attempts: int, seed: int) -> None:
    delay = next_delay(attempts, _rng(seed))
    assert timedelta(0) <= delay <= min(MAX_DELAY, BASE_DELAY * 2 ** min(attempts, 40))


def test_the_jitter_spreads_the_delays_evenly() -> None:
    rng = _rng(7)
    seconds = [next_delay(30, rng).total_seconds() for _ in range(2000)]
    assert 1650 < sum(seconds) / len(seconds) < 1950
    assert min(seconds) < 200
    assert max(seconds) > 3400


def _outbox(*ids: str) -> Outbox:
    outbox = Outbox()
    for cdr_id in ids:
        outbox.add(cdr_id, {"id": cdr_id}, T0)
    return outbox


def test_the_head_blocks_the_line_until_it_is_delivered() -> None:
    outbox, rng = _outbox("A", "B"), _rng(1)
    head = outbox.due(T0)
    assert head is not None
    assert head.cdr_id == "A"
    failed = outbox.record(outcome(None), T0, rng)
    assert failed.attempts == 1
    assert failed.last_error == "no answer"
    wake = outbox.wake_at()
    assert wake is not None
    assert T0 < wake <= T0 + BASE_DELAY
    # B was due from the start, but it waits behind A.
    assert outbox.due(T0) is None
    assert outbox.due(wake - timedelta(microseconds=1)) is None
    head = outbox.due(wake)
    assert head is not None
    assert head.cdr_id == "A"
    outbox.record(outcome(201, OK), wake, rng)
    head = outbox.due(wake)
    assert head is not None
    assert head.cdr_id == "B"
    assert head.attempts == 0
    outbox.record(outcome(200, OK), wake, rng)
    assert outbox.queue == []
    assert outbox.delivered == {"A", "B"}
    assert outbox.wake_at() is None


def test_a_refused_cdr_is_set_aside_and_the_queue_goes_on() -> None:
    outbox, rng = _outbox("A", "B"), _rng(1)
    outbox.record(outcome(400, b'{"status_code": 2001}'), T0, rng)
    assert [e.cdr_id for e in outbox.rejected] == ["A"]
    assert outbox.rejected[0].last_error == "HTTP 400"
    head = outbox.due(T0)
    assert head is not None
    assert head.cdr_id == "B"
    # The user fixed it: it goes again, after what is queued.
    assert outbox.retry_rejected("A", T0)
    assert not outbox.retry_rejected("A", T0)
    assert [e.cdr_id for e in outbox.queue] == ["B", "A"]
    assert outbox.queue[1].attempts == 0


def test_a_refused_token_stops_sending_until_reauthentication() -> None:
    outbox, rng = _outbox("A", "B"), _rng(1)
    outbox.record(outcome(401), T0, rng)
    assert outbox.paused == "HTTP 401"
    assert outbox.due(T0 + timedelta(days=3)) is None
    assert outbox.wake_at() is None
    assert outbox.queue[0].attempts == 0
    assert outbox.queue[0].last_error == "HTTP 401"
    later = T0 + timedelta(days=3)
    outbox.resume(later)
    head = outbox.due(later)
    assert head is not None
    assert head.cdr_id == "A"


def test_a_cdr_is_queued_once() -> None:
    outbox, rng = _outbox("A"), _rng(1)
    assert not outbox.add("A", {"id": "A"}, T0)
    outbox.record(outcome(200, OK), T0, rng)
    assert not outbox.add("A", {"id": "A"}, T0)
    outbox2 = _outbox("B")
    outbox2.record(outcome(422), T0, rng)
    assert not outbox2.add("B", {"id": "B"}, T0)
    assert len(outbox.queue) == 0


def _stored(outbox: Outbox) -> Outbox:
    """Saved to JSON and read back, as across a restart."""
    return Outbox.from_dict(json.loads(json.dumps(outbox.as_dict())))


def test_another_store_version_is_not_read() -> None:
    data = _outbox("A").as_dict()
    data["version"] = 99
    with pytest.raises(ValueError, match="version"):
        Outbox.from_dict(data)


_json = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.text(max_size=8)
    | st.floats(allow_nan=False, allow_infinity=False),
    lambda inner: st.lists(inner, max_size=3)
    | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=8,
)
_moments = st.datetimes(
    datetime(2025, 1, 1),  # noqa: DTZ001
    datetime(2030, 1, 1),  # noqa: DTZ001
    timezones=st.just(UTC),
)
_entries = st.builds(
    Entry,
    cdr_id=st.text(min_size=1, max_size=39),
    body=st.dictionaries(st.text(max_size=8), _json, max_size=4).map(pack),
    created=_moments,
    next_attempt=_moments,
    attempts=st.integers(0, 10_000),
    last_error=st.none() | st.text(max_size=40),
)


@given(
    st.lists(_entries, max_size=5),
    st.lists(_entries, max_size=3),
    st.sets(st.text(max_size=39), max_size=5),
    st.none() | st.text(max_size=20),
)
def test_the_outbox_survives_a_restart_unchanged(
    queue: list[Entry], rejected: list[Entry], delivered: set[str], paused: str | None
) -> None:
    outbox = Outbox(queue, rejected, delivered, paused)
    assert _stored(outbox) == outbox


@given(st.dictionaries(st.text(max_size=8), _json, max_size=6))
def test_a_packed_cdr_unpacks_to_the_same(payload: dict[str, Any]) -> None:
    assert unpack(pack(payload)) == payload


def test_an_outbox_of_the_first_format_is_read_with_its_cdrs() -> None:
    """Format 1 kept each CDR as an object: read, it is the same CDR."""
    outbox = _outbox("A")
    data = outbox.as_dict()
    for entry in data["queue"]:
        entry["payload"] = unpack(entry.pop("body"))
    data["version"] = 1
    read = Outbox.from_dict(json.loads(json.dumps(data)))
    assert read == outbox
    assert read.due(T0) is not None
    assert read.queue[0].payload == outbox.queue[0].payload
    assert read.knows("A")


# A receiver down for days, flaky when up, and the outbox across restarts.

_FAULTS: list[tuple[int | None, bytes | None, bool]] = [
    # (HTTP status, body, whether the receiver stored the CDR anyway)
    (None, None, False),  # connection refused, timeout before it arrived
    (None, None, True),  # the answer was lost: it arrived
    (500, b'{"status_code": 3000}', False),
    (502, b"<html>Bad Gateway</html>", False),
    (503, None, False),
    (200, b"not json", True),  # stored, but the answer is garbage
    (200, b'{"status_code": 3000}', False),
    (429, b"", False),
]


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.integers(0, 7 * 24 * 3600 - 1), min_size=1, max_size=25),
    st.lists(
        st.tuples(st.integers(0, 7 * 24 * 3600), st.integers(60, 4 * 24 * 3600)),
        max_size=4,
    ),
    st.floats(0.0, 0.9),
    st.integers(),
    st.floats(0.0, 0.3),
)
def test_a_week_of_failures_delivers_every_cdr_once_and_in_order(
    added_at: list[int],
    outages: list[tuple[int, int]],
    fault_rate: float,
    seed: int,
    restart_rate: float,
) -> None:
    rng = _rng(seed)
    week_end = T0 + timedelta(days=7)
    adds = sorted(
        (T0 + timedelta(seconds=s), f"CDR{i:03d}")
        for i, s in enumerate(sorted(added_at))
    )
    expected = [cdr_id for _, cdr_id in adds]
    down = [
        (T0 + timedelta(seconds=s), T0 + timedelta(seconds=s + length))
        for s, length in outages
    ]
    received: list[str] = []
    deliveries: list[str] = []
    outbox, now = Outbox(), T0
    for _step in range(100_000):
        while adds and adds[0][0] <= now:
            _, cdr_id = adds.pop(0)
            outbox.add(cdr_id, {"id": cdr_id}, now)
        head = outbox.due(now)
        if head is not None:
            answer = _answer(head, now, week_end, down, fault_rate, rng, received)
            recorded = outbox.record(answer, now, rng)
            if answer.outcome is Outcome.DELIVERED:
                deliveries.append(recorded.cdr_id)
            if rng.random() < restart_rate:
                outbox = _stored(outbox)
            continue
        moments = [m for m in (outbox.wake_at(), adds[0][0] if adds else None) if m]
        if not moments:
            break
        now = max(now, min(moments))
    assert outbox.queue == []
    assert outbox.rejected == []
    assert outbox.paused is None
    assert deliveries == expected
    # The receiver may see a CDR again after a lost answer; by its id it is
    # one CDR, and they came in order.
    assert list(dict.fromkeys(received)) == expected
    # Up and well after the week: everything is there within the hour.
    assert now <= week_end + MAX_DELAY


def _answer(
    head: Entry,
    now: datetime,
    week_end: datetime,
    down: list[tuple[datetime, datetime]],
    fault_rate: float,
    rng: random.Random,
    received: list[str],
) -> Verdict:
    if any(start <= now < end for start, end in down) and now < week_end:
        return outcome(None)
    payload: dict[str, Any] = head.payload
    if now < week_end and rng.random() < fault_rate:
        status, body, stored = rng.choice(_FAULTS)
        if stored:
            received.append(payload["id"])
        return outcome(status, body)
    received.append(payload["id"])
    return outcome(201, OK)
