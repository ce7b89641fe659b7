"""
What each 15-minute slot of a plan costs, all in: the one place prices meet.

Pure logic. Normalized spot prices (prices.py, from whichever feed) plus the
supplier's markup and VAT (``PlaceSettings.energy_price``), plus the grid
company's energy part (``EnergyTariff``), with slots past the published
prices filled by a forecast, become one ``SlotPrice`` per slot.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo

from .grid_tariff import EnergyTariff
from .place import CostBasis, PlaceSettings
from .prices import QUARTER, PriceSlot, forecast_slots


@dataclass(frozen=True, kw_only=True, slots=True)
class SlotPrice:
    """The all-in price of one 15-minute slot; forecast when not yet published."""

    start: datetime
    price: float
    forecast: bool = False


def slot_prices(
    *,
    known: Sequence[PriceSlot],
    start: datetime,
    end: datetime,
    place: PlaceSettings,
    tariff: EnergyTariff,
    zone: tzinfo,
) -> list[SlotPrice]:
    """
    All-in prices of the slots in [start, end) (``start`` on a slot boundary).

    A spot-priced place forecasts the slots past what is published; a slot
    without any price counts the grid tariff alone (a place without prices
    plans on a flat price, which charges at once). A fixed-price place's
    prices are all known.
    """
    fixed = place.cost_basis is CostBasis.FIXED
    spot: dict[datetime, tuple[float | None, bool]] = {
        slot.start: (slot.price, False) for slot in known if start <= slot.start < end
    }
    if not fixed:
        for slot in forecast_slots(known, start, end, zone):
            spot.setdefault(slot.start, (slot.price, True))
    prices = []
    moment = start
    while moment < end:
        value, forecast = spot.get(moment, (None, True))
        energy = place.energy_price(value)
        prices.append(
            SlotPrice(
                start=moment,
                price=(energy or 0.0) + tariff.price_at(moment.astimezone(zone)),
                forecast=forecast and not fixed,
            )
        )
        moment += QUARTER
    return prices
