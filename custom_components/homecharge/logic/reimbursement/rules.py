"""Which sessions are business: rules, and what a change does once locked.

Every session is personal unless something says otherwise (Multi EV mode).
The driver's rules say it for him: each matches on the vehicle, the card
(id tag, compared as OCPP does, ignoring case), the local weekday and a
local time window of the session's *start*; the first rule that matches
decides. A window may cross midnight (22:00–06:00): a start after midnight
then counts on the day the window began, so "Monday–Friday 22–06" takes
Saturday 01:00 (Friday's night) and not Monday 01:00 (Sunday's). Times are
wall-clock times in the place's zone: on DST days the window is still
22:00–06:00 by the clock, whatever its length in hours.

A month is locked once its statement is made; a change then is no longer
an edit of that statement but a correction on the next one.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, time, timedelta, tzinfo
from enum import StrEnum
from typing import Protocol

from ..sessions.model import Classification
from .month import Month


class SessionFacts(Protocol):
    """What a rule looks at (a ledger Session has all of it)."""

    @property
    def started(self) -> datetime:
        """When the session started (aware)."""

    @property
    def vehicle(self) -> str | None:
        """The vehicle's key, if known."""

    @property
    def id_tag(self) -> str | None:
        """The card (id tag) it started with, if any."""


@dataclass(frozen=True, kw_only=True, slots=True)
class Rule:
    """Sessions that match every field set here get ``classification``.

    None matches anything. ``weekdays`` are 0 (Monday) to 6 (Sunday);
    ``window`` is [start, end) by the local clock, crossing midnight when
    end ≤ start (start == end: the 24 hours from start, 00:00–00:00 the day).
    """

    classification: Classification = Classification.BUSINESS
    vehicles: frozenset[str] | None = None
    id_tags: frozenset[str] | None = None
    weekdays: frozenset[int] | None = None
    window: tuple[time, time] | None = None

    def matches(self, facts: SessionFacts, zone: tzinfo) -> bool:
        """The session fits every field of the rule."""
        if self.vehicles is not None and facts.vehicle not in self.vehicles:
            return False
        if self.id_tags is not None and (
            facts.id_tag is None
            or facts.id_tag.casefold() not in {t.casefold() for t in self.id_tags}
        ):
            return False
        local = facts.started.astimezone(zone)
        day = local.date()
        if self.window is not None:
            start, end = self.window
            clock = local.time().replace(tzinfo=None)
            if start < end and not start <= clock < end:
                return False
            if start >= end and clock < end:
                # After midnight: the night began the day before.
                day -= timedelta(days=1)
            elif start >= end and clock < start:
                return False
        return self.weekdays is None or day.weekday() in self.weekdays


def classify(
    facts: SessionFacts, rules: Iterable[Rule], zone: tzinfo
) -> Classification:
    """The first matching rule's classification; personal without one."""
    for rule in rules:
        if rule.matches(facts, zone):
            return rule.classification
    return Classification.PERSONAL


class ChangeKind(StrEnum):
    """What changing a session's classification does to the statements."""

    # Nothing changes.
    NONE = "none"
    # The month is still open: its statement will show the new value.
    EDIT = "edit"
    # Locked: business added late, paid on the next statement.
    CORRECTION_ADD = "correction_add"
    # Locked: business withdrawn, credited on the next statement.
    CORRECTION_CREDIT = "correction_credit"


@dataclass(frozen=True, slots=True)
class MonthLock:
    """The months whose statements are made (locked for edits)."""

    months: frozenset[Month] = frozenset()

    def locked(self, started: datetime, zone: tzinfo) -> bool:
        """A session started then is in a locked month."""
        return Month.of(started, zone) in self.months

    def lock(self, month: Month) -> MonthLock:
        """The same lock with the month locked too."""
        return MonthLock(self.months | {month})


def change_kind(
    started: datetime,
    old: Classification,
    new: Classification,
    lock: MonthLock,
    zone: tzinfo,
) -> ChangeKind:
    """What a classification change of a session started then amounts to."""
    if old is new:
        return ChangeKind.NONE
    if not lock.locked(started, zone):
        return ChangeKind.EDIT
    if new is Classification.BUSINESS:
        return ChangeKind.CORRECTION_ADD
    return ChangeKind.CORRECTION_CREDIT
