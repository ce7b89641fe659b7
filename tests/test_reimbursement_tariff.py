"""The reimbursement tariff in force, and a session's cost under it."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from hypothesis import given, strategies as st
import pytest

from custom_components.homecharge.logic.reimbursement.errors import InputError
from custom_components.homecharge.logic.reimbursement.tariff import (
    Tariff,
    TariffBasis,
    session_cost,
    tariff_at,
    with_tariff,
    without_vat,
)
from custom_components.homecharge.logic.sessions.model import Session, SlotCost

OSLO = ZoneInfo("Europe/Oslo")
START = datetime(2026, 3, 2, 18, tzinfo=UTC)
QUARTER = timedelta(minutes=15)


def _fixed(rate: str, since: date = date(2026, 1, 1), **more: object) -> Tariff:
    return Tariff(
        effective_from=since,
        basis=TariffBasis.FIXED,
        name=f"Fastpris {rate}",
        currency="NOK",
        unit_rate=Decimal(rate),
        **more,  # type: ignore[arg-type]
    )


SLOTS = Tariff(
    effective_from=date(2026, 1, 1),
    basis=TariffBasis.SLOT_COSTS,
    name="Spot",
    currency="NOK",
    vat_percent=Decimal(25),
)


def _price(energy: float | None, grid: float = 0.0) -> SlotCost:
    return SlotCost(spot=energy, markup=0.0, vat_percent=25.0, energy=energy, grid=grid)


def _session(
    energies: list[int],
    prices: list[SlotCost | None] | None = None,
    started: datetime = START,
) -> Session:
    slots = {started + i * QUARTER: wh for i, wh in enumerate(energies)}
    session = Session(
        charger="CP-1",
        connector=1,
        transaction_id="7",
        started=started,
        meter_start_wh=0,
        stopped=started + len(energies) * QUARTER,
        meter_stop_wh=sum(energies),
        slots=slots,
    )
    for slot, price in zip(slots, prices or [], strict=False):
        if price is not None:
            session.costs[slot] = price
    return session


def test_a_fixed_rate_is_kwh_times_the_rate() -> None:
    cost = session_cost(_session([2500, 2500, 2500, 2500]), [_fixed("1.75")], OSLO)
    assert cost.wh == 10_000
    assert cost.amount == Decimal("17.50")
    assert cost.complete
    assert cost.missing_wh == 0


def test_amounts_round_to_the_cent_halves_up() -> None:
    # 1 kWh at 0.125 is 0.125: a bill says 0.13.
    assert session_cost(_session([1000]), [_fixed("0.125")], OSLO).amount == Decimal(
        "0.13"
    )
    # 1.001 kWh at 1.00 is 1.001: 1.00.
    assert session_cost(_session([1001]), [_fixed("1.00")], OSLO).amount == Decimal(
        "1.00"
    )


def test_a_fixed_rate_needs_no_slot_prices() -> None:
    # The ledger could not price these slots; the bill's rate still applies.
    cost = session_cost(_session([1000, 1000], [None, None]), [_fixed("2")], OSLO)
    assert cost.amount == Decimal("4.00")


def test_slot_costs_are_the_ledgers_energy_and_grid_prices() -> None:
    session = _session([2000, 1000], [_price(1.0, 0.5), _price(2.0, 0.5)])
    cost = session_cost(session, [SLOTS], OSLO)
    # 2 kWh at 1.5 and 1 kWh at 2.5.
    assert cost.amount == Decimal("5.50")
    assert cost.amount_excl_vat == Decimal("4.40")


def test_a_slot_without_a_price_makes_the_cost_missing_not_zero() -> None:
    session = _session([2000, 1000, 500], [_price(1.0), None, _price(None, 0.4)])
    cost = session_cost(session, [SLOTS], OSLO)
    assert cost.amount is None
    assert not cost.complete
    assert cost.missing_wh == 1500
    assert cost.amount_excl_vat is None
    # The ledger's own sum counts the priced slots only; we do not.
    assert session.cost is not None


def test_a_slot_without_energy_needs_no_price() -> None:
    session = _session([1000, 0], [_price(1.0), None])
    assert session_cost(session, [SLOTS], OSLO).amount == Decimal("1.00")


def test_after_a_move_earlier_sessions_keep_their_tariff() -> None:
    old = _fixed("1.50", date(2026, 1, 1))
    new = _fixed("2.00", date(2026, 3, 15))
    tariffs = with_tariff([old], new)
    # 14 March 23:30 in Oslo: the old tariff.
    evening = datetime(2026, 3, 14, 22, 30, tzinfo=UTC)
    # 14 March 23:30 UTC is 15 March 00:30 in Oslo: the new one.
    night = datetime(2026, 3, 14, 23, 30, tzinfo=UTC)
    assert tariff_at(tariffs, evening, OSLO) is old
    assert tariff_at(tariffs, night, OSLO) is new
    assert session_cost(_session([1000], started=evening), tariffs, OSLO).amount == (
        Decimal("1.50")
    )
    assert session_cost(_session([1000], started=night), tariffs, OSLO).amount == (
        Decimal("2.00")
    )


def test_a_session_before_any_tariff_has_a_missing_cost() -> None:
    early = datetime(2025, 12, 31, 12, tzinfo=UTC)
    cost = session_cost(_session([1000], started=early), [_fixed("1")], OSLO)
    assert cost.tariff is None
    assert cost.amount is None
    assert cost.missing_wh == 1000


def test_a_new_tariff_from_the_same_date_replaces_the_old_one() -> None:
    first = _fixed("1.50", date(2026, 3, 1))
    typo = _fixed("15.0", date(2026, 4, 1))
    fixed = _fixed("1.55", date(2026, 4, 1))
    tariffs = with_tariff(with_tariff([typo], first), fixed)
    assert tariffs == (first, fixed)


def test_the_vat_is_taken_out_of_the_amount() -> None:
    assert without_vat(Decimal("125.00"), Decimal(25)) == Decimal("100.00")
    assert without_vat(Decimal("10.00"), Decimal(0)) == Decimal("10.00")
    cost = session_cost(
        _session([10_000]), [_fixed("2.50", vat_percent=Decimal(25))], OSLO
    )
    assert (cost.amount, cost.amount_excl_vat) == (Decimal("25.00"), Decimal("20.00"))


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"currency": "kr"}, "tariff_currency"),
        ({"currency": "NOKK"}, "tariff_currency"),
        ({"name": "  "}, "tariff_name"),
        ({"unit_rate": None}, "tariff_rate"),
        ({"unit_rate": Decimal(0)}, "tariff_rate"),
        ({"unit_rate": Decimal(-1)}, "tariff_rate"),
        ({"basis": TariffBasis.SLOT_COSTS}, "tariff_rate"),
        ({"vat_percent": Decimal(-5)}, "tariff_vat"),
        ({"vat_percent": Decimal(100)}, "tariff_vat"),
    ],
)
def test_a_tariff_that_cannot_cost_is_refused(
    changes: dict[str, object], code: str
) -> None:
    fields: dict[str, object] = {
        "effective_from": date(2026, 1, 1),
        "basis": TariffBasis.FIXED,
        "name": "Fastpris",
        "currency": "NOK",
        "unit_rate": Decimal("1.2"),
    }
    with pytest.raises(InputError) as caught:
        Tariff(**(fields | changes))  # type: ignore[arg-type]
    assert caught.value.code == code


@given(
    st.lists(st.dates(date(2025, 1, 1), date(2027, 12, 31)), min_size=1, unique=True),
    st.datetimes(
        datetime(2024, 6, 1),  # noqa: DTZ001
        datetime(2028, 6, 1),  # noqa: DTZ001
        timezones=st.just(UTC),
    ),
)
def test_the_tariff_in_force_is_the_latest_begun(
    dates: list[date], started: datetime
) -> None:
    tariffs = [_fixed(str(i + 1), day) for i, day in enumerate(dates)]
    chosen = tariff_at(tariffs, started, OSLO)
    day = started.astimezone(OSLO).date()
    begun = [t for t in tariffs if t.effective_from <= day]
    if not begun:
        assert chosen is None
        return
    assert chosen is not None
    assert chosen.effective_from <= day
    assert all(t.effective_from <= chosen.effective_from for t in begun)


@given(
    st.lists(
        st.tuples(
            st.integers(0, 11_000),
            st.floats(-1.0, 10.0, allow_nan=False).map(lambda p: round(p, 4)),
            st.floats(0.0, 1.0, allow_nan=False).map(lambda p: round(p, 4)),
        ),
        min_size=1,
        max_size=40,
    )
)
def test_slot_costs_agree_with_the_ledgers_own_cost(
    slots: list[tuple[int, float, float]],
) -> None:
    session = _session([wh for wh, _, _ in slots], [_price(e, g) for _, e, g in slots])
    cost = session_cost(session, [SLOTS], OSLO)
    assert cost.amount is not None
    assert session.cost is not None
    assert abs(float(cost.amount) - session.cost) <= 0.005 + 1e-9
