"""Slot prices: spot + markup + VAT + grid tariff, forecast past what is known."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from custom_components.homecharge.logic.grid_tariff import EnergyTariff
from custom_components.homecharge.logic.place import CostBasis, GridType, PlaceSettings
from custom_components.homecharge.logic.prices import QUARTER as SLOT, PriceSlot
from custom_components.homecharge.logic.slot_prices import slot_prices

OSLO = ZoneInfo("Europe/Oslo")
# Monday 7 Dec 2026, 20:00 in Oslo.
START = datetime(2026, 12, 7, 19, 0, tzinfo=UTC)
TARIFF = EnergyTariff(day_price=0.5, night_price=0.25, weekend_is_night=False)


def _place(cost_basis: CostBasis = CostBasis.SPOT, **kwargs: float) -> PlaceSettings:
    return PlaceSettings(
        name="Home",
        country="NO",
        price_area="NO1",
        cost_basis=cost_basis,
        fixed_price=kwargs.pop("fixed_price", None),
        main_fuse=25,
        grid_type=GridType.THREE_PHASE_400_TN,
        **kwargs,
    )


def _known(hours: int, price: float = 1.0) -> list[PriceSlot]:
    return [
        PriceSlot(start=START + n * SLOT, end=START + (n + 1) * SLOT, price=price + n)
        for n in range(hours * 4)
    ]


def test_spot_plus_markup_and_vat_plus_the_grid() -> None:
    """(spot + markup) × (1 + VAT) + the grid's energy part, slot by slot."""
    prices = slot_prices(
        known=_known(1),
        start=START,
        end=START + timedelta(hours=1),
        place=_place(spot_markup=0.1, vat_percent=25),
        tariff=TARIFF,
        zone=OSLO,
    )
    assert [p.start for p in prices] == [START + n * SLOT for n in range(4)]
    assert [p.price for p in prices] == pytest.approx(
        [(1.0 + n + 0.1) * 1.25 + 0.5 for n in range(4)]
    )
    assert not any(p.forecast for p in prices)


def test_past_the_known_prices_a_forecast() -> None:
    """Slots past what is published are forecast (and marked so)."""
    prices = slot_prices(
        known=_known(1),
        start=START,
        end=START + timedelta(hours=4),
        place=_place(),
        tariff=TARIFF,
        zone=OSLO,
    )
    assert len(prices) == 16
    assert [p.forecast for p in prices] == [False] * 4 + [True] * 12
    # No day has these times of day yet: the mean of the known (2.5), plus
    # the grid's day price until 22:00 local and its night price after.
    assert [p.price for p in prices[4:8]] == pytest.approx([3.0] * 4)
    assert [p.price for p in prices[8:]] == pytest.approx([2.75] * 8)


def test_a_place_without_prices_pays_the_grid_alone() -> None:
    """No spot price at all: each slot is the grid tariff (a flat plan)."""
    prices = slot_prices(
        known=[],
        start=START,
        end=START + timedelta(hours=3),
        place=_place(),
        tariff=TARIFF,
        zone=OSLO,
    )
    assert {p.price for p in prices[:8]} == {0.5}
    assert {p.price for p in prices[8:]} == {0.25}
    assert all(p.forecast for p in prices)


def test_a_fixed_price_is_known() -> None:
    """A fixed-price place pays its price in every slot, never a forecast."""
    prices = slot_prices(
        known=_known(1, price=99.0),
        start=START,
        end=START + timedelta(hours=2),
        place=_place(CostBasis.FIXED, fixed_price=2.0),
        tariff=TARIFF,
        zone=OSLO,
    )
    assert {p.price for p in prices} == {2.5}
    assert not any(p.forecast for p in prices)
