"""The sessions ledger: transactions, late and repeated messages, slots, seals."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import pairwise
import json
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import given, settings, strategies as st
import pytest

from custom_components.homecharge.logic.sessions.chain import broken_links
from custom_components.homecharge.logic.sessions.codec import decode, encode
from custom_components.homecharge.logic.sessions.ledger import Ledger
from custom_components.homecharge.logic.sessions.model import (
    Classification,
    Flag,
    Reading,
    Session,
)
from custom_components.homecharge.logic.sessions.reports import (
    GroupBy,
    Outlet,
    SessionFilter,
    grouped,
    period_totals,
)
from custom_components.homecharge.logic.sessions.slots import extend, slot_energies

T0 = datetime(2026, 12, 1, 17, 5, tzinfo=UTC)
NOW = datetime(2026, 12, 2, tzinfo=UTC)
MIN = timedelta(minutes=1)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def test_energy_across_a_slot_boundary_is_split_in_proportion_to_time() -> None:
    # 17:05 → 17:25 at a steady rate: 10 minutes in each slot.
    slots = slot_energies(Reading(at(0), 1000), Reading(at(20), 3000), [])
    assert slots == {
        datetime(2026, 12, 1, 17, 0, tzinfo=UTC): 1000,
        datetime(2026, 12, 1, 17, 15, tzinfo=UTC): 1000,
    }


def test_readings_shape_the_split() -> None:
    # All the energy came before 17:15 (the reading at 17:14 says so).
    slots = slot_energies(
        Reading(at(0), 1000), Reading(at(20), 3000), [Reading(at(9), 3000)]
    )
    assert list(slots.values()) == [2000, 0]


@given(
    steps=st.lists(
        st.tuples(st.integers(1, 3_000), st.integers(0, 4_000)), min_size=2, max_size=30
    ),
    offset=st.integers(0, 14),
)
def test_a_running_session_grows_as_a_full_derivation_would(
    steps: list[tuple[int, int]], offset: int
) -> None:
    """``extend`` (one reading at a time) equals ``slot_energies`` (all at once)."""
    start = Reading(T0 + timedelta(minutes=offset), 1_000)
    readings = []
    moment, wh = start.at, start.wh
    for seconds, energy in steps:
        moment += timedelta(seconds=seconds)
        wh += energy
        readings.append(Reading(moment, wh))
    slots = slot_energies(start, readings[0], [])
    for last, reading in pairwise(readings):
        if last.wh > start.wh:
            extend(slots, last, reading)
        else:
            slots = slot_energies(start, reading, readings[: readings.index(reading)])
        assert slots == slot_energies(
            start, reading, readings[: readings.index(reading)]
        )


@given(
    start=st.integers(0, 10**9),
    energy=st.integers(0, 200_000),
    minutes=st.integers(1, 60 * 30),
    offset=st.integers(0, 14),
    readings=st.lists(
        st.tuples(st.floats(0, 1), st.integers(-5_000, 250_000)), max_size=30
    ),
)
def test_slots_always_sum_to_the_sessions_energy(
    start: int,
    energy: int,
    minutes: int,
    offset: int,
    readings: list[tuple[float, int]],
) -> None:
    begin = T0 + timedelta(minutes=offset)
    end = begin + timedelta(minutes=minutes)
    slots = slot_energies(
        Reading(begin, start),
        Reading(end, start + energy),
        [Reading(begin + (end - begin) * share, start + wh) for share, wh in readings],
    )
    assert sum(slots.values()) == energy
    assert all(wh >= 0 for wh in slots.values())
    # One slot for each quarter-hour the session touched (one if it got nothing).
    assert not energy or (
        len(slots)
        == (
            end
            - timedelta(microseconds=1)
            - begin.replace(minute=begin.minute - begin.minute % 15)
        )
        // timedelta(minutes=15)
        + 1
    )


def _ledger_session(ledger: Ledger, tid: str = "1") -> Session:
    session = ledger.get(("cp", tid))
    assert session is not None
    return session


def test_a_session_from_start_readings_and_stop() -> None:
    ledger = Ledger()
    ledger.start(
        charger="cp",
        connector=1,
        transaction_id="1",
        started=at(0),
        meter_start_wh=10_000,
        id_tag="tag",
        now=at(0),
    )
    ledger.record(
        charger="cp",
        connector=1,
        transaction_id="1",
        readings=[Reading(at(10), 11_000), Reading(at(40), 14_000)],
        now=at(40),
    )
    running = _ledger_session(ledger)
    assert not running.finished
    assert running.energy_wh == 4_000
    ledger.stop(
        charger="cp",
        transaction_id="1",
        stopped=at(50),
        meter_stop_wh=15_000,
        reason="EVDisconnected",
        now=at(50),
    )
    session = _ledger_session(ledger)
    assert session.finished
    assert session.energy_wh == 5_000
    assert session.stop_reason == "EVDisconnected"
    assert session.seal_hash is not None
    assert broken_links(ledger) == []


def test_a_late_stop_lands_in_its_own_session() -> None:
    # The offline queue: transaction 1 ended while HA was away; 2 runs now.
    ledger = Ledger()
    ledger.start(
        charger="cp",
        connector=1,
        transaction_id="1",
        started=at(0),
        meter_start_wh=1_000,
        now=at(0),
    )
    ledger.start(
        charger="cp",
        connector=1,
        transaction_id="2",
        started=at(120),
        meter_start_wh=9_000,
        now=at(120),
    )
    # 1 was closed at the last register we knew (its start) and flagged …
    first = _ledger_session(ledger, "1")
    assert Flag.STOP_INFERRED in first.flags
    # … until the charger's own stop came, hours late: it is the truth.
    ledger.stop(
        charger="cp",
        transaction_id="1",
        stopped=at(100),
        meter_stop_wh=8_000,
        reason="Local",
        now=at(300),
    )
    assert Flag.STOP_INFERRED not in first.flags
    assert first.energy_wh == 7_000
    assert [c.field for c in first.changes] == [
        "stopped",
        "meter_stop_wh",
        "stop_reason",
    ]
    second = _ledger_session(ledger, "2")
    assert not second.finished
    assert second.meter_start_wh == 9_000
    assert broken_links(ledger) == []


def test_a_repeated_start_or_stop_is_not_counted_twice() -> None:
    ledger = Ledger()
    for _ in range(2):
        ledger.start(
            charger="cp",
            connector=1,
            transaction_id="1",
            started=at(0),
            meter_start_wh=0,
            now=at(0),
        )
    assert ledger.repeated_start("cp", 1, at(0), 0) is _ledger_session(ledger)
    for _ in range(2):
        ledger.stop(
            charger="cp",
            transaction_id="1",
            stopped=at(30),
            meter_stop_wh=2_000,
            reason=None,
            now=at(30),
        )
    assert len(ledger) == 1
    assert _ledger_session(ledger).energy_wh == 2_000
    assert ledger.seq == 1


def test_a_charger_that_boots_closes_what_it_left_open() -> None:
    ledger = Ledger()
    ledger.start(
        charger="cp",
        connector=1,
        transaction_id="7",
        started=at(0),
        meter_start_wh=500,
        now=at(0),
    )
    ledger.record(
        charger="cp",
        connector=1,
        transaction_id="7",
        readings=[Reading(at(20), 2_500)],
        now=at(20),
    )
    closed = ledger.close_unfinished("cp")
    assert [s.transaction_id for s in closed] == ["7"]
    session = closed[0]
    assert session.stopped == at(20)
    assert session.meter_stop_wh == 2_500
    assert session.energy_wh == 2_000
    assert (Flag.STOP_INFERRED, session.key) in ledger.notices


def test_readings_before_their_start_wait_for_it() -> None:
    ledger = Ledger()
    ledger.record(
        charger="cp",
        connector=1,
        transaction_id="x",
        readings=[Reading(at(20), 1_500)],
        now=at(20),
    )
    assert len(ledger) == 0
    ledger.start(
        charger="cp",
        connector=1,
        transaction_id="x",
        started=at(0),
        meter_start_wh=0,
        now=at(21),
    )
    session = _ledger_session(ledger, "x")
    assert session.energy_wh == 1_500


def test_readings_without_a_transaction_go_by_their_time() -> None:
    ledger = Ledger()
    ledger.start(
        charger="cp",
        connector=1,
        transaction_id="1",
        started=at(0),
        meter_start_wh=0,
        now=at(0),
    )
    ledger.stop(
        charger="cp",
        transaction_id="1",
        stopped=at(60),
        meter_stop_wh=6_000,
        reason=None,
        now=at(60),
    )
    ledger.start(
        charger="cp",
        connector=1,
        transaction_id="2",
        started=at(90),
        meter_start_wh=6_000,
        now=at(90),
    )
    # A queued clock-aligned reading of the first session, after the second began.
    ledger.record(
        charger="cp",
        connector=1,
        transaction_id=None,
        readings=[Reading(at(10), 6_000)],
        now=at(95),
    )
    first = _ledger_session(ledger, "1")
    assert list(first.slots.values()) == [6_000, 0, 0, 0, 0]
    assert _ledger_session(ledger, "2").energy_wh == 0


@pytest.mark.parametrize(
    ("stop_wh", "flag"),
    [(500, Flag.STOP_BELOW_START), (2_000_000, Flag.REGISTER_JUMP)],
)
def test_implausible_registers_count_nothing_and_are_told(
    stop_wh: int, flag: Flag
) -> None:
    ledger = Ledger()
    ledger.start(
        charger="cp",
        connector=1,
        transaction_id="1",
        started=at(0),
        meter_start_wh=1_000,
        now=at(0),
    )
    ledger.stop(
        charger="cp",
        transaction_id="1",
        stopped=at(60),
        meter_stop_wh=stop_wh,
        reason=None,
        now=at(60),
    )
    session = _ledger_session(ledger)
    assert session.energy_wh == 0
    assert flag in session.flags
    assert (flag, session.key) in ledger.notices
    # The registers as the charger sent them are kept.
    assert session.meter_stop_wh == stop_wh


def test_a_register_going_backwards_and_a_week_long_session_are_flagged() -> None:
    ledger = Ledger()
    ledger.start(
        charger="cp",
        connector=1,
        transaction_id="1",
        started=at(0),
        meter_start_wh=1_000,
        now=at(0),
    )
    ledger.record(
        charger="cp",
        connector=1,
        transaction_id="1",
        readings=[Reading(at(30), 3_000), Reading(at(60), 2_000)],
        now=at(60),
    )
    ledger.stop(
        charger="cp",
        transaction_id="1",
        stopped=at(60 * 24 * 8),
        meter_stop_wh=4_000,
        reason=None,
        now=at(60 * 24 * 8),
    )
    session = _ledger_session(ledger)
    assert {Flag.REGISTER_BACKWARDS, Flag.TOO_LONG} <= session.flags
    assert session.energy_wh == 3_000


def test_a_stop_for_an_unknown_transaction_keeps_what_it_says() -> None:
    ledger = Ledger()
    ledger.stop(
        charger="cp",
        transaction_id="42",
        stopped=at(60),
        meter_stop_wh=9_000,
        reason="PowerLoss",
        now=at(61),
    )
    session = _ledger_session(ledger, "42")
    assert Flag.START_UNKNOWN in session.flags
    assert session.finished
    # Its start, late: the session is whole again.
    ledger.start(
        charger="cp",
        connector=1,
        transaction_id="42",
        started=at(0),
        meter_start_wh=3_000,
        now=at(62),
    )
    assert Flag.START_UNKNOWN not in session.flags
    assert session.energy_wh == 6_000
    assert broken_links(ledger) == []


def test_changes_to_a_finished_session_are_listed_and_the_seal_holds() -> None:
    ledger = Ledger()
    ledger.start(
        charger="cp",
        connector=1,
        transaction_id="1",
        started=at(0),
        meter_start_wh=0,
        now=at(0),
    )
    ledger.stop(
        charger="cp",
        transaction_id="1",
        stopped=at(30),
        meter_stop_wh=1_000,
        reason=None,
        now=at(30),
    )
    ledger.amend(
        ("cp", "1"),
        by="user-1",
        now=at(40),
        classification="business",
        note="Client visit",
    )
    session = _ledger_session(ledger)
    assert session.classification is Classification.BUSINESS
    assert [(c.field, c.old, c.new, c.by) for c in session.changes] == [
        ("classification", "personal", "business", "user-1"),
        ("note", "", "Client visit", "user-1"),
    ]
    assert broken_links(ledger) == []
    # Edited without a change: the seal breaks.
    session.note = "Something else"
    assert broken_links(ledger) == [("cp", "1")]
    with pytest.raises(ValueError, match="meter_stop_wh"):
        ledger.amend(("cp", "1"), by=None, now=at(50), meter_stop_wh=5)


def test_removing_a_session_from_the_chain_is_seen() -> None:
    ledger = Ledger()
    for number in range(3):
        tid = str(number)
        ledger.start(
            charger="cp",
            connector=1,
            transaction_id=tid,
            started=at(60 * number),
            meter_start_wh=0,
            now=NOW,
        )
        ledger.stop(
            charger="cp",
            transaction_id=tid,
            stopped=at(60 * number + 30),
            meter_stop_wh=100,
            reason=None,
            now=NOW,
        )
    sessions = [s for s in ledger if s.transaction_id != "1"]
    assert broken_links(sessions) == [("cp", "2")]


def test_a_session_stored_and_restored_is_the_same() -> None:
    ledger = Ledger()
    ledger.start(
        charger="cp",
        connector=2,
        transaction_id="1",
        started=at(0),
        meter_start_wh=0,
        id_tag="card",
        now=at(0),
    )
    ledger.record(
        charger="cp",
        connector=2,
        transaction_id="1",
        readings=[Reading(at(14), 700), Reading(at(70), 7_000)],
        now=at(70),
    )
    ledger.stop(
        charger="cp",
        transaction_id="1",
        stopped=at(75),
        meter_stop_wh=7_500,
        reason="Remote",
        now=at(75),
    )
    ledger.amend(("cp", "1"), by=None, now=at(80), note="x")
    session = _ledger_session(ledger)
    again = decode(json.loads(json.dumps(encode(session))))
    assert again == session
    assert broken_links([again]) == []


def test_next_transaction_id_skips_ids_in_use() -> None:
    ledger = Ledger()
    ledger.start(
        charger="cp",
        connector=1,
        transaction_id="5",
        started=at(0),
        meter_start_wh=0,
        now=at(0),
    )
    assert ledger.next_transaction_id("cp", 1) == 6
    assert ledger.next_transaction_id("cp", 9) == 9
    assert ledger.next_transaction_id("other", 1) == 1


# Any arrival order of the same messages gives the same sessions.


@dataclass(frozen=True)
class _Event:
    kind: str
    tid: str
    args: tuple[Any, ...]


def _apply(ledger: Ledger, event: _Event) -> None:
    if event.kind == "start":
        started, meter = event.args
        ledger.start(
            charger="cp",
            connector=1,
            transaction_id=event.tid,
            started=started,
            meter_start_wh=meter,
            now=NOW,
        )
    elif event.kind == "read":
        ledger.record(
            charger="cp",
            connector=1,
            transaction_id=event.tid,
            readings=[Reading(*event.args)],
            now=NOW,
        )
    else:
        stopped, meter = event.args
        ledger.stop(
            charger="cp",
            transaction_id=event.tid,
            stopped=stopped,
            meter_stop_wh=meter,
            reason=None,
            now=NOW,
        )


def _content(ledger: Ledger) -> dict[tuple[str, str], Any]:
    return {
        s.key: (
            s.started,
            s.stopped,
            s.meter_start_wh,
            s.meter_stop_wh,
            s.slots,
            s.readings,
            s.flags,
        )
        for s in ledger
    }


@st.composite
def _transactions(draw: st.DrawFn) -> list[_Event]:
    events: list[_Event] = []
    moment, register = T0, 10_000
    for number in range(draw(st.integers(1, 3))):
        tid = str(number + 1)
        events.append(_Event("start", tid, (moment, register)))
        begin = moment
        for _ in range(draw(st.integers(0, 6))):
            moment += timedelta(minutes=draw(st.integers(1, 40)))
            register += draw(st.integers(0, 3_000))
            events.append(_Event("read", tid, (moment, register)))
        moment += timedelta(minutes=draw(st.integers(1, 40)))
        register += draw(st.integers(0, 3_000))
        assert moment > begin
        events.append(_Event("stop", tid, (moment, register)))
        moment += timedelta(minutes=draw(st.integers(1, 120)))
    return events


@settings(max_examples=200)
@given(events=_transactions(), data=st.data())
def test_any_arrival_order_gives_the_same_sessions(
    events: list[_Event], data: st.DataObject
) -> None:
    in_order = Ledger()
    for event in events:
        _apply(in_order, event)
    shuffled = data.draw(st.permutations(events))
    repeats = data.draw(st.lists(st.sampled_from(events), max_size=5))
    replayed = Ledger()
    for event in [*shuffled, *repeats]:
        _apply(replayed, event)
    assert _content(replayed) == _content(in_order)
    # No session counted twice: the energy is the register's rise, once.
    starts = {e.tid: e.args[1] for e in events if e.kind == "start"}
    stops = {e.tid: e.args[1] for e in events if e.kind == "stop"}
    assert sum(s.energy_wh for s in replayed) == sum(
        stops[tid] - starts[tid] for tid in starts
    )
    assert broken_links(replayed) == []


def test_reports_group_by_day_week_month_charger_and_person() -> None:
    ledger = Ledger()
    for number, (charger, tag, start) in enumerate(
        [("cp", "A", at(0)), ("cp", "B", at(60 * 24 * 8)), ("other", None, at(10))]
    ):
        tid = str(number)
        ledger.start(
            charger=charger,
            connector=1,
            transaction_id=tid,
            started=start,
            meter_start_wh=0,
            id_tag=tag,
            now=start,
        )
        ledger.stop(
            charger=charger,
            transaction_id=tid,
            stopped=start + timedelta(minutes=30),
            meter_stop_wh=1_000,
            reason=None,
            now=start,
        )
    sessions = sorted(ledger, key=lambda s: s.started)
    oslo = ZoneInfo("Europe/Oslo")
    assert {k: t.wh for k, t in grouped(sessions, GroupBy.DAY, oslo).items()} == {
        "2026-12-01": 2_000,
        "2026-12-09": 1_000,
    }
    assert list(grouped(sessions, GroupBy.WEEK, oslo)) == ["2026-W49", "2026-W50"]
    assert list(grouped(sessions, GroupBy.MONTH, oslo)) == ["2026-12"]
    assert {
        k: t.sessions for k, t in grouped(sessions, GroupBy.CHARGER, oslo).items()
    } == {
        "cp": 2,
        "other": 1,
    }
    assert list(grouped(sessions, GroupBy.PERSON, oslo)) == ["", "A", "B"]
    wanted = SessionFilter(chargers=frozenset({Outlet("cp")}), id_tags=frozenset({"B"}))
    assert [s.id_tag for s in sessions if wanted.matches(s)] == ["B"]
    # Counted by slot: a window that cuts a session counts its part in it.
    assert period_totals(sessions, at(0), at(15)).wh == 1_000
