"""What each slot of a session cost, each part of the price kept.

A slot is priced once, with the place's settings at that time: a later
change of markup, VAT or grid tariff does not re-price earlier slots. A
slot whose spot price is not known yet is left without an energy price
(the session is flagged, its cost incomplete, never a silent zero) and
priced when the price comes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, tzinfo

from ..grid_tariff import EnergyTariff
from ..place import CostBasis, PlaceSettings
from .model import Flag, Session, SlotCost


def slot_cost(
    place: PlaceSettings,
    tariff: EnergyTariff,
    spot: float | None,
    start: datetime,
    zone: tzinfo,
) -> SlotCost:
    """A slot's price parts from the place's settings and the spot price."""
    fixed = place.cost_basis is CostBasis.FIXED
    return SlotCost(
        spot=None if fixed else spot,
        markup=0.0 if fixed else place.spot_markup,
        vat_percent=0.0 if fixed else place.vat_percent,
        energy=place.energy_price(spot),
        grid=tariff.price_at(start.astimezone(zone)),
    )


def price_session(
    session: Session, price_of: Callable[[datetime], SlotCost]
) -> datetime | None:
    """Price the slots not priced yet; the earliest slot whose price changed.

    Slots already priced keep their price; one priced without an energy
    price is tried again.
    """
    first: datetime | None = None
    for start in sorted(session.slots):
        kept = session.costs.get(start)
        if kept is not None and kept.energy is not None:
            continue
        cost = price_of(start)
        if cost != kept:
            session.costs[start] = cost
            first = first or start
    if session.cost_complete:
        session.flags.discard(Flag.PRICE_MISSING)
    else:
        session.flags.add(Flag.PRICE_MISSING)
    return first


def spot_lookup(
    spot: Mapping[datetime, float],
    place: PlaceSettings,
    tariff: EnergyTariff,
    zone: tzinfo,
) -> Callable[[datetime], SlotCost]:
    """A slot's price from known spot prices by slot start (UTC)."""

    def price_of(start: datetime) -> SlotCost:
        return slot_cost(place, tariff, spot.get(start), start, zone)

    return price_of
