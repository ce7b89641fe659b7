"""Personal or business per session by the driver's rules; locked months."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, strategies as st
import pytest

from custom_components.homecharge.logic.reimbursement.month import Month
from custom_components.homecharge.logic.reimbursement.rules import (
    ChangeKind,
    MonthLock,
    Rule,
    change_kind,
    classify,
)
from custom_components.homecharge.logic.sessions.model import Classification, Session

OSLO = ZoneInfo("Europe/Oslo")
BUSINESS, PERSONAL = Classification.BUSINESS, Classification.PERSONAL
WEEKDAYS = frozenset(range(5))


def _at(*parts: int) -> datetime:
    """A time on the place's clock."""
    year, month, day, *rest = parts
    return datetime(year, month, day, *rest, tzinfo=OSLO)


def _session(
    local: datetime | None = None,
    *,
    utc: datetime | None = None,
    vehicle: str | None = "ev-1",
    id_tag: str | None = "04A1B2C3",
) -> Session:
    started = utc if utc is not None else (local or _at(2026, 3, 2, 9))
    return Session(
        charger="CP-1",
        connector=1,
        transaction_id="1",
        started=started,
        meter_start_wh=0,
        vehicle=vehicle,
        id_tag=id_tag,
    )


def test_a_session_is_personal_without_rules() -> None:
    assert classify(_session(), [], OSLO) is PERSONAL


def test_a_vehicle_rule_takes_that_vehicle_only() -> None:
    rules = [Rule(vehicles=frozenset({"company-car"}))]
    assert classify(_session(vehicle="company-car"), rules, OSLO) is BUSINESS
    assert classify(_session(vehicle="family-car"), rules, OSLO) is PERSONAL
    assert classify(_session(vehicle=None), rules, OSLO) is PERSONAL


def test_a_card_rule_ignores_case_as_ocpp_does() -> None:
    rules = [Rule(id_tags=frozenset({"04a1b2c3"}))]
    assert classify(_session(id_tag="04A1B2C3"), rules, OSLO) is BUSINESS
    assert classify(_session(id_tag="04A1B2C4"), rules, OSLO) is PERSONAL
    assert classify(_session(id_tag=None), rules, OSLO) is PERSONAL


def test_every_field_of_a_rule_must_match() -> None:
    rule = Rule(vehicles=frozenset({"ev-1"}), id_tags=frozenset({"WORK"}))
    assert classify(_session(id_tag="WORK"), [rule], OSLO) is BUSINESS
    assert classify(_session(id_tag="HOME"), [rule], OSLO) is PERSONAL
    assert classify(_session(vehicle="ev-2", id_tag="WORK"), [rule], OSLO) is PERSONAL


def test_the_window_is_read_by_the_places_clock_winter_and_summer() -> None:
    rules = [Rule(weekdays=WEEKDAYS, window=(time(7), time(17)))]
    # 06:30 UTC is 07:30 in Oslo in winter (UTC+1) and 08:30 in summer.
    assert (
        classify(_session(utc=datetime(2026, 1, 5, 6, 30, tzinfo=UTC)), rules, OSLO)
        is BUSINESS
    )
    assert (
        classify(_session(utc=datetime(2026, 7, 6, 6, 30, tzinfo=UTC)), rules, OSLO)
        is BUSINESS
    )
    # 05:30 UTC in winter is 06:30 local: before the window.
    assert (
        classify(_session(utc=datetime(2026, 1, 5, 5, 30, tzinfo=UTC)), rules, OSLO)
        is PERSONAL
    )
    # 15:30 UTC in summer is 17:30 local: after it; in winter 16:30, inside.
    assert (
        classify(_session(utc=datetime(2026, 7, 6, 15, 30, tzinfo=UTC)), rules, OSLO)
        is PERSONAL
    )
    assert (
        classify(_session(utc=datetime(2026, 1, 5, 15, 30, tzinfo=UTC)), rules, OSLO)
        is BUSINESS
    )
    # The end is not in the window; the start is.
    assert classify(_session(_at(2026, 1, 5, 17)), rules, OSLO) is PERSONAL
    assert classify(_session(_at(2026, 1, 5, 7)), rules, OSLO) is BUSINESS
    # Saturday is not a weekday.
    assert classify(_session(_at(2026, 1, 10, 9)), rules, OSLO) is PERSONAL


def test_a_night_window_counts_on_the_day_it_began() -> None:
    night = [Rule(weekdays=WEEKDAYS, window=(time(22), time(6)))]
    # 2026-01-09 is a Friday.
    assert classify(_session(_at(2026, 1, 9, 23)), night, OSLO) is BUSINESS
    # Saturday 01:00 is Friday's night; Monday 01:00 is Sunday's.
    assert classify(_session(_at(2026, 1, 10, 1)), night, OSLO) is BUSINESS
    assert classify(_session(_at(2026, 1, 12, 1)), night, OSLO) is PERSONAL
    assert classify(_session(_at(2026, 1, 11, 23)), night, OSLO) is PERSONAL
    # Tuesday 05:59 is Monday's night; 06:00 and noon are outside it.
    assert classify(_session(_at(2026, 1, 13, 5, 59)), night, OSLO) is BUSINESS
    assert classify(_session(_at(2026, 1, 13, 6)), night, OSLO) is PERSONAL
    assert classify(_session(_at(2026, 1, 13, 12)), night, OSLO) is PERSONAL


def test_a_night_window_holds_by_the_clock_across_the_dst_changes() -> None:
    night = [Rule(window=(time(1), time(4)))]
    # Spring (29 March 2026): 01:59 CET, then 03:00 CEST a minute later.
    for utc in (
        datetime(2026, 3, 29, 0, 59, tzinfo=UTC),
        datetime(2026, 3, 29, 1, 0, tzinfo=UTC),
    ):
        assert classify(_session(utc=utc), night, OSLO) is BUSINESS
    # 04:00 CEST (02:00 UTC) is the end, not inside.
    assert (
        classify(_session(utc=datetime(2026, 3, 29, 2, tzinfo=UTC)), night, OSLO)
        is PERSONAL
    )
    # Autumn (25 October 2026): 02:30 happens twice; both are inside.
    for utc in (
        datetime(2026, 10, 25, 0, 30, tzinfo=UTC),
        datetime(2026, 10, 25, 1, 30, tzinfo=UTC),
    ):
        assert classify(_session(utc=utc), night, OSLO) is BUSINESS
    # 03:00 CET (02:00 UTC) is inside, 04:00 CET (03:00 UTC) is not.
    assert (
        classify(_session(utc=datetime(2026, 10, 25, 2, tzinfo=UTC)), night, OSLO)
        is BUSINESS
    )
    assert (
        classify(_session(utc=datetime(2026, 10, 25, 3, tzinfo=UTC)), night, OSLO)
        is PERSONAL
    )


def test_the_first_matching_rule_decides() -> None:
    weekend_personal = Rule(classification=PERSONAL, weekdays=frozenset({5, 6}))
    company_car = Rule(vehicles=frozenset({"ev-1"}))
    rules = [weekend_personal, company_car]
    assert classify(_session(_at(2026, 1, 10, 9)), rules, OSLO) is PERSONAL
    assert classify(_session(_at(2026, 1, 12, 9)), rules, OSLO) is BUSINESS
    # The other order: the company car is business on weekends too.
    assert classify(_session(_at(2026, 1, 10, 9)), rules[::-1], OSLO) is BUSINESS


def test_a_window_from_and_to_the_same_time_is_24_hours() -> None:
    monday = frozenset({0})
    rules = [Rule(weekdays=monday, window=(time(0), time(0)))]
    assert classify(_session(_at(2026, 1, 12, 0)), rules, OSLO) is BUSINESS
    assert classify(_session(_at(2026, 1, 12, 23, 59)), rules, OSLO) is BUSINESS
    assert classify(_session(_at(2026, 1, 13, 0)), rules, OSLO) is PERSONAL
    # From Monday 08:00 to Tuesday 08:00.
    rules = [Rule(weekdays=monday, window=(time(8), time(8)))]
    assert classify(_session(_at(2026, 1, 12, 7, 59)), rules, OSLO) is PERSONAL
    assert classify(_session(_at(2026, 1, 13, 7, 59)), rules, OSLO) is BUSINESS
    assert classify(_session(_at(2026, 1, 13, 8)), rules, OSLO) is PERSONAL


def _reference(
    local: datetime, weekdays: frozenset[int], start: time, end: time
) -> bool:
    """Is the local time inside one of the windows, opened on a given weekday?"""
    for days_back in (0, 1):
        day = local.date() - timedelta(days=days_back)
        opens = datetime.combine(day, start)
        closes = datetime.combine(day, end)
        if closes <= opens:
            closes += timedelta(days=1)
        if opens <= local.replace(tzinfo=None) < closes and day.weekday() in weekdays:
            return True
    return False


@given(
    st.datetimes(
        datetime(2025, 1, 1),  # noqa: DTZ001
        datetime(2028, 1, 1),  # noqa: DTZ001
        timezones=st.just(UTC),
    ),
    st.frozensets(st.integers(0, 6), min_size=1),
    st.times(),
    st.times(),
)
def test_a_window_matches_as_the_nights_it_opens_on_the_given_days(
    moment: datetime, weekdays: frozenset[int], start: time, end: time
) -> None:
    start, end = (
        start.replace(second=0, microsecond=0),
        end.replace(second=0, microsecond=0),
    )
    rule = Rule(weekdays=weekdays, window=(start, end))
    expected = _reference(moment.astimezone(OSLO), weekdays, start, end)
    assert (classify(_session(utc=moment), [rule], OSLO) is BUSINESS) == expected


@given(
    st.lists(
        st.builds(
            Rule,
            classification=st.sampled_from(list(Classification)),
            vehicles=st.none() | st.frozensets(st.sampled_from(["ev-1", "ev-2"])),
            weekdays=st.none() | st.frozensets(st.integers(0, 6)),
        ),
        max_size=4,
    )
)
def test_classify_is_the_first_matching_rule_or_personal(rules: list[Rule]) -> None:
    session = _session(_at(2026, 1, 14, 9))
    matching = [rule for rule in rules if rule.matches(session, OSLO)]
    expected = matching[0].classification if matching else PERSONAL
    assert classify(session, rules, OSLO) is expected


# Month lock


def test_a_change_in_an_open_month_is_an_edit() -> None:
    lock = MonthLock(frozenset({Month(2026, 1)}))
    started = datetime(2026, 2, 10, 8, tzinfo=UTC)
    assert change_kind(started, PERSONAL, BUSINESS, lock, OSLO) is ChangeKind.EDIT
    assert change_kind(started, BUSINESS, PERSONAL, lock, OSLO) is ChangeKind.EDIT
    assert change_kind(started, BUSINESS, BUSINESS, lock, OSLO) is ChangeKind.NONE


def test_a_change_in_a_locked_month_is_a_correction() -> None:
    lock = MonthLock().lock(Month(2026, 1))
    started = datetime(2026, 1, 10, 8, tzinfo=UTC)
    assert (
        change_kind(started, PERSONAL, BUSINESS, lock, OSLO)
        is ChangeKind.CORRECTION_ADD
    )
    assert (
        change_kind(started, BUSINESS, PERSONAL, lock, OSLO)
        is ChangeKind.CORRECTION_CREDIT
    )
    assert change_kind(started, PERSONAL, PERSONAL, lock, OSLO) is ChangeKind.NONE


def test_the_month_of_a_session_is_its_start_in_the_places_zone() -> None:
    # 31 January 23:30 UTC is 1 February 00:30 in Oslo: February's.
    started = datetime(2026, 1, 31, 23, 30, tzinfo=UTC)
    assert MonthLock(frozenset({Month(2026, 2)})).locked(started, OSLO)
    assert not MonthLock(frozenset({Month(2026, 1)})).locked(started, OSLO)
    assert MonthLock(frozenset({Month(2026, 1)})).locked(started, UTC)


def test_months_are_kept_and_counted() -> None:
    assert str(Month(2026, 3)) == "2026-03"
    assert Month.parse("2026-03") == Month(2026, 3)
    assert Month(2025, 12).next() == Month(2026, 1)
    assert Month(2026, 1).previous() == Month(2025, 12)
    assert Month(2025, 12) < Month(2026, 1)
    for text in ("2026-13", "2026-00", "26-01", "2026-1", "2026/01", "abcd-ef"):
        with pytest.raises(ValueError, match=text):
            Month.parse(text)
    # Oslo's March begins at 23:00 UTC the day before; its April at 22:00
    # UTC (summer time began inside it).
    assert Month(2026, 3).start(OSLO) == datetime(2026, 2, 28, 23, tzinfo=UTC)
    assert Month(2026, 3).end(OSLO) == datetime(2026, 3, 31, 22, tzinfo=UTC)


@given(st.integers(2000, 2100), st.integers(1, 12))
def test_a_month_is_every_moment_from_its_start_to_its_end(
    year: int, month: int
) -> None:
    m = Month(year, month)
    assert Month.parse(str(m)) == m
    assert m.next().previous() == m
    assert Month.of(m.start(OSLO), OSLO) == m
    assert Month.of(m.end(OSLO) - timedelta(microseconds=1), OSLO) == m
    assert m.contains(m.start(OSLO), OSLO)
    assert not m.contains(m.end(OSLO), OSLO)
