"""The effective limit: the lowest source, rounded once, off below 6 A."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given, strategies as st
import pytest

from custom_components.homecharge.logic.grid import IEC_MIN_AMPS
from custom_components.homecharge.logic.limits import (
    LimitSource,
    effective_limit,
    round_down_amps,
)


@pytest.mark.parametrize(
    ("amps", "limit"),
    [
        (16.09, 16.0),
        (6.0, 6.0),
        (5.99, 0.0),
        (0.5, 0.0),
        (-3, 0.0),
        (float("nan"), 0.0),
        (float("inf"), 32.0),
    ],
)
def test_one_source(amps: float, limit: float) -> None:
    """Rounded down to 0.1 A, never above the fuse; anything under 6 A is off."""
    assert effective_limit(32, {LimitSource.ACTION: amps}) == limit


def test_the_lowest_source_wins() -> None:
    """Fuse, user, action, balancer, planner: the lowest counts."""
    assert effective_limit(32, {}) == 32
    assert effective_limit(32, {LimitSource.USER: 20, LimitSource.BALANCER: 10}) == 10
    assert effective_limit(16, {LimitSource.USER: 20}) == 16
    assert effective_limit(32, {LimitSource.PLANNER: 0, LimitSource.USER: 20}) == 0


def test_ignoring_sources() -> None:
    """What the other sources leave: the balancer's share, the planner's room."""
    limits = {
        LimitSource.USER: 20.0,
        LimitSource.BALANCER: 7.0,
        LimitSource.PLANNER: 0.0,
    }
    assert effective_limit(32, limits) == 0
    assert effective_limit(32, limits, ignoring={LimitSource.BALANCER}) == 0
    assert (
        effective_limit(
            32, limits, ignoring={LimitSource.BALANCER, LimitSource.PLANNER}
        )
        == 20
    )


@given(
    fuse=st.floats(6, 80),
    limits=st.dictionaries(
        st.sampled_from(LimitSource),
        st.floats(allow_nan=False, min_value=-10, max_value=100),
    ),
)
def test_never_above_a_source_never_under_the_minimum(
    fuse: float, limits: dict[LimitSource, float]
) -> None:
    """0 or at least 6 A, never above the fuse or any source, in tenths."""
    limit = effective_limit(fuse, limits)
    assert limit <= min([fuse, *limits.values()]) + 1e-9 or limit == 0
    assert limit == 0 or limit >= IEC_MIN_AMPS
    # Rounded once: rounding it again changes nothing.
    assert round_down_amps(limit) == limit


@given(st.floats(min_value=0, max_value=1000))
def test_rounding_is_down_to_a_tenth(amps: float) -> None:
    """Never adds current, loses less than a tenth, and is a decimal tenth."""
    rounded = round_down_amps(amps)
    assert rounded <= amps + 1e-9
    assert amps - rounded < 0.1 + 1e-9
    assert Decimal(repr(rounded)) % Decimal("0.1") == 0


def test_every_tenth_goes_out_as_asked() -> None:
    """6.0 … 80.0 A: each tenth is sent as itself (8.2 is 8.2, not 8.0)."""
    tenths = [Decimal(n) / 10 for n in range(60, 801)]
    assert [round_down_amps(float(t)) for t in tenths] == [float(t) for t in tenths]
    # Arithmetic noise a hair under a tenth is that tenth.
    assert round_down_amps(8.2 - 1e-12) == 8.2
    assert round_down_amps(0.1 + 0.2) == 0.3
