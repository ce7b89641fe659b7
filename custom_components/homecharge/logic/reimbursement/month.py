"""A calendar month in the place's time zone: what a statement covers.

A session belongs to the month it *started* in, read in the place's zone
(a session from 31 January 23:00 to 1 February 03:00 is January's), so a
session is never split between two statements.
"""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo
from typing import NamedTuple


class Month(NamedTuple):
    """A year and a month (1–12), ordered by time."""

    year: int
    month: int

    @classmethod
    def of(cls, moment: datetime, zone: tzinfo) -> Month:
        """The month a moment falls in, in the zone."""
        local = moment.astimezone(zone)
        return cls(local.year, local.month)

    @classmethod
    def parse(cls, text: str) -> Month:
        """From "YYYY-MM" (as kept); a ValueError otherwise."""
        year, _, month = text.partition("-")
        if len(year) != 4 or len(month) != 2 or not (year + month).isdigit():
            raise ValueError(text)
        if not 1 <= int(month) <= 12:
            raise ValueError(text)
        return cls(int(year), int(month))

    def __str__(self) -> str:
        """As "YYYY-MM"."""
        return f"{self.year:04d}-{self.month:02d}"

    def next(self) -> Month:
        """The month after."""
        if self.month == 12:
            return Month(self.year + 1, 1)
        return Month(self.year, self.month + 1)

    def previous(self) -> Month:
        """The month before."""
        if self.month == 1:
            return Month(self.year - 1, 12)
        return Month(self.year, self.month - 1)

    def start(self, zone: tzinfo) -> datetime:
        """Its first moment (local midnight of the 1st), in UTC."""
        return datetime(self.year, self.month, 1, tzinfo=zone).astimezone(UTC)

    def end(self, zone: tzinfo) -> datetime:
        """The first moment after it, in UTC."""
        return self.next().start(zone)

    def contains(self, moment: datetime, zone: tzinfo) -> bool:
        """The moment falls in this month, in the zone."""
        return Month.of(moment, zone) == self
