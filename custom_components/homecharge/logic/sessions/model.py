"""A charging session as the ledger keeps it, and how it is stored.

Energies are whole watt-hours (a register's resolution at home: MID meters
show 0.01 kWh), so that a session's slots sum *exactly* to stop − start.
Times are aware UTC datetimes; slots start on the quarter-hours of UTC
(every time zone's offset is a multiple of 15 minutes, so they are the
local quarter-hours too).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any, Final, NamedTuple

QUARTER: Final = timedelta(minutes=15)
# A session's register may not rise by more than this (a meter fault, or a
# register replaced mid-session): its energy counts 0 until a user fixes it.
MAX_SESSION_WH: Final = 1_000_000
MAX_SESSION_LENGTH: Final = timedelta(days=7)


class Classification(StrEnum):
    """What a session was for; the reimbursement pays business sessions."""

    PERSONAL = "personal"
    BUSINESS = "business"


class Flag(StrEnum):
    """Something the ledger noticed about a session (shown, never hidden)."""

    # The charger never sent its stop: closed at its next boot or session
    # with the last register we know.
    STOP_INFERRED = "stop_inferred"
    # The stop register is below the start (a meter reset): counts 0 kWh.
    STOP_BELOW_START = "stop_below_start"
    # The register rose by more than MAX_SESSION_WH: counts 0 kWh.
    REGISTER_JUMP = "register_jump"
    # A reading lower than an earlier one (ignored for the slots).
    REGISTER_BACKWARDS = "register_backwards"
    # Longer than MAX_SESSION_LENGTH.
    TOO_LONG = "too_long"
    # Its start was never seen (a stop for a transaction we do not know).
    START_UNKNOWN = "start_unknown"
    # A slot had no price when it was costed: its cost is missing, not zero.
    PRICE_MISSING = "price_missing"


def slot_of(moment: datetime) -> datetime:
    """The start of the 15-minute slot a moment falls in (UTC)."""
    utc = moment.astimezone(UTC)
    return utc.replace(minute=utc.minute - utc.minute % 15, second=0, microsecond=0)


class Reading(NamedTuple):
    """The energy register at a moment (ordered by time, then energy)."""

    at: datetime
    wh: int


class SlotCost(NamedTuple):
    """What one kWh cost in a slot, each part kept.

    ``energy`` is what the household pays the supplier per kWh: (spot +
    markup) × (1 + VAT) at a spot-priced place, the fixed price at a
    fixed-price one; None when the slot's spot price was not known.
    ``grid`` is the grid company's energy part. The capacity step is not
    shared out per session.
    """

    spot: float | None
    markup: float
    vat_percent: float
    energy: float | None
    grid: float

    @property
    def per_kwh(self) -> float | None:
        """All in, per kWh; None without an energy price."""
        return None if self.energy is None else self.energy + self.grid


@dataclass(frozen=True, kw_only=True, slots=True)
class Change:
    """A change to a finished session: what, when, by whom."""

    at: datetime
    by: str | None
    field: str
    old: Any
    new: Any


@dataclass(slots=True)
class Session:
    """One OCPP transaction: who, when, the registers, and its slots."""

    charger: str
    connector: int
    transaction_id: str
    started: datetime
    meter_start_wh: int | None
    id_tag: str | None = None
    vehicle: str | None = None
    # Whose card started it (the person's name then): guests' usage.
    person: str | None = None
    stopped: datetime | None = None
    meter_stop_wh: int | None = None
    stop_reason: str | None = None
    classification: Classification = Classification.PERSONAL
    note: str = ""
    # The first and the last reading of each slot (the only ones the split
    # at slot boundaries depends on), by slot start.
    readings: dict[datetime, tuple[Reading, Reading]] = field(default_factory=dict)
    # Watt-hours per slot start, summing to the session's energy.
    slots: dict[datetime, int] = field(default_factory=dict)
    costs: dict[datetime, SlotCost] = field(default_factory=dict)
    flags: set[Flag] = field(default_factory=set)
    changes: list[Change] = field(default_factory=list)
    odometer_start_km: float | None = None
    odometer_stop_km: float | None = None
    # The hash chain (chain.py): position, the seal before, this seal.
    seq: int | None = None
    prev_hash: str | None = None
    seal_hash: str | None = None
    demo: bool = False
    # The readings as stored, for a session read without them (a report's):
    # written back as they are. A session the ledger holds has ``readings``.
    packed_readings: list[Any] | None = None

    @property
    def key(self) -> tuple[str, str]:
        """Unique in a place: the charger and its transaction id."""
        return (self.charger, self.transaction_id)

    @property
    def finished(self) -> bool:
        """The session has its stop (the charger's or one we inferred)."""
        return self.stopped is not None

    @property
    def energy_wh(self) -> int:
        """What the session counts: the sum of its slots."""
        return sum(self.slots.values())

    @property
    def last_reading(self) -> Reading | None:
        """The latest reading kept."""
        if not self.readings:
            return None
        return max(last for _first, last in self.readings.values())

    @property
    def cost(self) -> float | None:
        """The energy cost of the slots priced so far; None if none is."""
        total = None
        for start, wh in self.slots.items():
            price = self.costs.get(start)
            if price is not None and price.per_kwh is not None:
                total = (total or 0.0) + wh / 1000 * price.per_kwh
        return total

    @property
    def cost_complete(self) -> bool:
        """Every slot with energy has its price."""
        return all(
            (price := self.costs.get(start)) is not None and price.energy is not None
            for start, wh in self.slots.items()
            if wh
        )


def keep_reading(
    readings: dict[datetime, tuple[Reading, Reading]], reading: Reading
) -> bool:
    """Keep a reading if it is its slot's first or last; True if it changed."""
    slot = slot_of(reading.at)
    pair = readings.get(slot)
    if pair is None:
        readings[slot] = (reading, reading)
        return True
    first, last = pair
    kept = (min(first, reading), max(last, reading))
    if kept == pair:
        return False
    readings[slot] = kept
    return True
