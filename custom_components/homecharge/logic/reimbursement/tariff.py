"""What a business session is paid back at: the tariff in force, and the cost.

The driver gives the tariff from his bill: a fixed unit rate per kWh (with
the tariff's name, the supplier, his account number there and how he pays),
or "the place's own slot costs" — what the ledger priced each 15-minute
slot at (energy and grid, as ``Session.cost`` counts). Each tariff holds
from a local date on: a move or a new contract adds one, and earlier
sessions keep the tariff they were charged under.

Amounts are Decimals rounded to the cent once per session, so a statement's
lines add up to its total and a CDR carries the same figure. A session with
a slot the ledger could not price has no amount: it is marked missing, never
counted as zero.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
import re
from typing import Final

from ..sessions.model import Session
from .errors import InputError

CENT: Final = Decimal("0.01")
_CURRENCY: Final = re.compile(r"[A-Z]{3}")


class TariffBasis(StrEnum):
    """Where a tariff's price per kWh comes from."""

    FIXED = "fixed"
    SLOT_COSTS = "slot_costs"


@dataclass(frozen=True, kw_only=True, slots=True)
class Tariff:
    """A reimbursement tariff, in force from a local date on.

    ``unit_rate`` is per kWh, VAT included (as the bill shows it), for a
    fixed tariff only. ``vat_percent`` is the VAT in the prices (0 where
    none is charged), for the amounts without VAT that OCPI wants.
    """

    effective_from: date
    basis: TariffBasis
    name: str
    currency: str
    unit_rate: Decimal | None = None
    vat_percent: Decimal = Decimal(0)
    supplier: str = ""
    account_number: str = ""
    payment_method: str = ""

    def __post_init__(self) -> None:
        """Refuse a tariff that cannot cost anything (codes for the form)."""
        if not _CURRENCY.fullmatch(self.currency):
            raise InputError("tariff_currency", self.currency)
        if not self.name.strip():
            raise InputError("tariff_name")
        fixed = self.basis is TariffBasis.FIXED
        if fixed and (self.unit_rate is None or self.unit_rate <= 0):
            raise InputError("tariff_rate", "a fixed tariff needs a unit rate > 0")
        if not fixed and self.unit_rate is not None:
            raise InputError("tariff_rate", "slot costs have no unit rate")
        if not 0 <= self.vat_percent < 100:
            raise InputError("tariff_vat", str(self.vat_percent))


def tariff_at(
    tariffs: Iterable[Tariff], started: datetime, zone: tzinfo
) -> Tariff | None:
    """The tariff in force on the session's local start date (None before any)."""
    day = started.astimezone(zone).date()
    in_force = [t for t in tariffs if t.effective_from <= day]
    return max(in_force, key=lambda t: t.effective_from, default=None)


def with_tariff(tariffs: Iterable[Tariff], new: Tariff) -> tuple[Tariff, ...]:
    """The tariffs with a new one from its date (replacing one from that date)."""
    kept = [t for t in tariffs if t.effective_from != new.effective_from]
    return tuple(sorted([*kept, new], key=lambda t: t.effective_from))


def cents(amount: Decimal) -> Decimal:
    """Rounded to the cent, halves up (as a bill rounds)."""
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def without_vat(amount: Decimal, vat_percent: Decimal) -> Decimal:
    """The amount with its VAT taken out, to the cent."""
    return cents(amount * 100 / (100 + vat_percent))


@dataclass(frozen=True, slots=True)
class SessionCost:
    """A session's energy and what it is paid back at.

    ``amount`` (VAT included, to the cent) is None when a slot with energy
    had no price, or no tariff was in force: ``missing_wh`` says how much
    energy is unpriced.
    """

    tariff: Tariff | None
    wh: int
    amount: Decimal | None
    missing_wh: int = 0

    @property
    def complete(self) -> bool:
        """Every watt-hour has its price."""
        return self.amount is not None

    @property
    def amount_excl_vat(self) -> Decimal | None:
        """The amount without VAT (None when the amount is missing)."""
        if self.amount is None or self.tariff is None:
            return None
        return without_vat(self.amount, self.tariff.vat_percent)


def session_cost(
    session: Session, tariffs: Iterable[Tariff], zone: tzinfo
) -> SessionCost:
    """A session's cost under the tariff in force when it started."""
    tariff = tariff_at(tariffs, session.started, zone)
    wh = session.energy_wh
    if tariff is None:
        return SessionCost(None, wh, None, wh)
    # A fixed tariff has its rate (checked when made), slot costs none.
    if (rate := tariff.unit_rate) is not None:
        return SessionCost(tariff, wh, cents(Decimal(wh) / 1000 * rate))
    total, missing = Decimal(0), 0
    for slot, energy in session.slots.items():
        price = session.costs.get(slot)
        if price is None or price.per_kwh is None:
            missing += energy
            continue
        total += Decimal(energy) / 1000 * Decimal(str(price.per_kwh))
    return SessionCost(tariff, wh, None if missing else cents(total), missing)
