"""Grid companies' capacity steps, and a ladder typed by hand."""

from __future__ import annotations

from itertools import pairwise

from hypothesis import given, strategies as st
import pytest

from custom_components.homecharge.logic.capacity_presets import (
    DEFAULT_COMPANY,
    GRID_COMPANIES,
    ladder_text,
    parse_ladder,
)
from custom_components.homecharge.logic.capacity_tariff import (
    NORWEGIAN_STEPS,
    CapacityRule,
    CapacityStep,
)


def test_the_default_ladder_is_the_default_company() -> None:
    """Elvia's steps from July 2026, per month with VAT, are the default rule."""
    assert GRID_COMPANIES[DEFAULT_COMPANY].steps == NORWEGIAN_STEPS
    assert CapacityRule().steps == NORWEGIAN_STEPS
    # 1440 NOK a year without VAT: 150 a month with it.
    assert NORWEGIAN_STEPS[0] == CapacityStep(threshold_kw=0.0, monthly_cost=150.0)


@pytest.mark.parametrize("key", sorted(GRID_COMPANIES))
def test_every_preset_is_a_ladder_the_planner_takes(key: str) -> None:
    """From 0 kW, rising thresholds, rising prices; a rule accepts it."""
    steps = GRID_COMPANIES[key].steps
    assert CapacityRule(steps=steps).steps == steps
    assert steps[0].threshold_kw == 0
    assert all(a.monthly_cost <= b.monthly_cost for a, b in pairwise(steps))


@pytest.mark.parametrize(
    ("text", "thresholds"),
    [
        ("0: 150; 2: 250; 5: 420", [0.0, 2.0, 5.0]),
        ("0:150\n2,5: 99,50\n", [0.0, 2.5]),
        (" 0 : 1 ;; ", [0.0]),
    ],
)
def test_ladders_typed_by_hand(text: str, thresholds: list[float]) -> None:
    """Lines or semicolons, decimal commas, spaces: read."""
    steps = parse_ladder(text)
    assert steps is not None
    assert [step.threshold_kw for step in steps] == thresholds


@pytest.mark.parametrize(
    "text",
    ["", None, "2: 100", "0: 1; 0: 2", "0: 1; 5: 2; 3: 3", "0 150", "0: -1", "a: b"],
)
def test_what_is_not_a_ladder(text: str | None) -> None:
    """Not from 0 kW, not rising, no colon, negative, not numbers: None."""
    assert parse_ladder(text) is None


@given(
    st.lists(
        st.tuples(
            st.integers(min_value=1, max_value=500),
            st.integers(min_value=0, max_value=100_000),
        ),
        max_size=20,
        unique_by=lambda pair: pair[0],
    ),
    st.integers(min_value=0, max_value=1000),
)
def test_a_ladder_reads_back_as_it_is_shown(
    rest: list[tuple[int, int]], base: int
) -> None:
    """What the form shows is what it reads."""
    steps = (
        CapacityStep(threshold_kw=0.0, monthly_cost=float(base)),
        *(
            CapacityStep(threshold_kw=float(kw), monthly_cost=float(price))
            for kw, price in sorted(rest)
        ),
    )
    assert parse_ladder(ladder_text(steps)) == steps
