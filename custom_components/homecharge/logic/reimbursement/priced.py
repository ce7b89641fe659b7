"""A business session's slots priced, and the ids and times its messages share.

The OCPI CDR (``ocpi_cdr``) and the webhook message (``webhook``) tell a
receiver the same thing: the session's energy per 15-minute slot, what each
kWh cost there under the tariff in force when it started, and the total
``session_cost`` gave (which the statement shows too). The price per slot is
decided here once: a fixed tariff's unit rate, or the ledger's all-in slot
cost; a slot without energy may have none.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
import hashlib

from ..sessions.model import Session
from .tariff import Tariff, TariffBasis, cents


def digest(*parts: object, size: int = 32) -> str:
    """A deterministic id of the parts: upper-case hex, ``size`` characters."""
    text = "\x1f".join(str(part) for part in parts)
    return hashlib.sha256(text.encode()).hexdigest()[:size].upper()


def utc_text(moment: datetime) -> str:
    """An aware moment as ISO 8601 / RFC 3339 in UTC, whole seconds, with Z."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def slot_rate(session: Session, tariff: Tariff, slot: datetime) -> Decimal | None:
    """What one kWh of the slot cost, VAT included (None: no price known)."""
    if tariff.basis is TariffBasis.FIXED and tariff.unit_rate is not None:
        return tariff.unit_rate
    known = session.costs.get(slot)
    per_kwh = known.per_kwh if known is not None else None
    return None if per_kwh is None else Decimal(str(per_kwh))


@dataclass(frozen=True, slots=True)
class PricedSlot:
    """One slot of a session: its start, energy, price per kWh and cost.

    ``cost`` is in cents, VAT included: the slots' costs are the running
    total rounded to the cent, less the one before, so they add up to the
    session's amount exactly and each is within a cent of its exact cost.
    """

    start: datetime
    wh: int
    rate: Decimal | None
    cost: Decimal


def priced_slots(session: Session, tariff: Tariff) -> list[PricedSlot]:
    """The session's slots in time order, priced under ``tariff``.

    A slot with energy but no price counts nothing: ``session_cost`` says
    such a session's amount is missing, and no message is made of it.
    """
    rows: list[PricedSlot] = []
    running, before = Decimal(0), Decimal("0.00")
    for slot in sorted(session.slots):
        wh = session.slots[slot]
        rate = slot_rate(session, tariff, slot)
        if rate is not None:
            running += Decimal(wh) / 1000 * rate
        rounded = cents(running)
        rows.append(PricedSlot(slot, wh, rate, rounded - before))
        before = rounded
    return rows
