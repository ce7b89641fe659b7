"""Grid electrics: lines a charger loads, amps ↔ kW, the house's own load."""

from __future__ import annotations

import math

from hypothesis import given, strategies as st
import pytest

from custom_components.homecharge.logic.grid import (
    IEC_MIN_AMPS,
    NOMINAL_VOLTAGE,
    amps_from_watts,
    charger_lines,
    fuse_kw,
    grid_lines,
    house_kw,
    house_load,
    kw_per_amp,
    watts_from_amps,
)
from custom_components.homecharge.logic.place import GridType

TN = GridType.THREE_PHASE_400_TN
IT = GridType.THREE_PHASE_230_IT
ONE = GridType.ONE_PHASE_230


def test_the_constants_are_the_standards() -> None:
    """230 V nominal (EN 50160) and the IEC 61851 minimum of 6 A."""
    assert NOMINAL_VOLTAGE == 230.0
    assert IEC_MIN_AMPS == 6.0


@pytest.mark.parametrize(
    ("grid", "charger_phases", "phase", "expected"),
    [
        (TN, 3, 1, {0, 1, 2}),
        (TN, 1, 2, {1}),
        # On IT a 1-phase charger sits between two lines: L3–L1 loads both.
        (IT, 1, 3, {2, 0}),
        (IT, 1, 1, {0, 1}),
        (IT, 3, 2, {0, 1, 2}),
        # On a 1-phase grid everything is on L1, whatever the charger says.
        (ONE, 3, 1, {0}),
        (ONE, 1, 3, {0}),
    ],
)
def test_charger_lines(
    grid: GridType, charger_phases: int, phase: int, expected: set[int]
) -> None:
    """Which lines of the house a charger loads."""
    assert charger_lines(grid, charger_phases, phase) == frozenset(expected)


def test_kw_per_amp_by_grid() -> None:
    """3 × 230 W on TN, √3 × 230 W on IT, 230 W for any 1-phase load."""
    assert kw_per_amp(TN, frozenset({0, 1, 2})) == pytest.approx(0.69)
    assert kw_per_amp(TN, frozenset({1})) == pytest.approx(0.23)
    assert kw_per_amp(IT, frozenset({0, 1, 2})) == pytest.approx(0.3984, abs=1e-4)
    # Between two IT lines: one 230 V load, not two.
    assert kw_per_amp(IT, frozenset({0, 1})) == pytest.approx(0.23)
    assert kw_per_amp(ONE, frozenset({0})) == pytest.approx(0.23)


def test_house_kw_and_the_fuse() -> None:
    """The house's power from its line currents; a fuse's most."""
    assert house_kw(TN, [10, 10, 10]) == pytest.approx(6.9)
    assert house_kw(ONE, [10, 99, 99]) == pytest.approx(2.3)
    # A balanced IT load of 10 A per line is √3 × 230 × 10 W.
    assert house_kw(IT, [10, 10, 10]) == pytest.approx(math.sqrt(3) * 2.3)
    assert fuse_kw(TN, 25) == pytest.approx(17.25)
    assert fuse_kw(ONE, 40) == pytest.approx(9.2)


@given(st.floats(-1e5, 1e5))
def test_amps_and_watts_round_trip(watts: float) -> None:
    """A 1-phase load's current and power are the two sides of 230 V."""
    assert watts_from_amps(amps_from_watts(watts)) == pytest.approx(watts, abs=1e-6)


def test_house_load_is_measured_minus_ours() -> None:
    """Never below 0 (a lagging report); unknown where the meter is silent."""
    assert house_load((20.0, 5.0, None), (16.0, 8.0, 3.0)) == (4.0, 0.0, None)


def test_grid_lines_zeroes_what_a_one_phase_grid_lacks() -> None:
    """L2 and L3 of a 1-phase grid carry nothing; on 3 phases they are kept."""
    assert grid_lines(ONE, (7.0, None, None)) == (7.0, 0.0, 0.0)
    assert grid_lines(TN, (7.0, None, 2.0)) == (7.0, None, 2.0)
