"""Merging meter messages, the house's share, and readings from HA sensors."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from custom_components.homecharge.logic.meter_formats import (
    InvalidPayload,
    MeterReading,
)
from custom_components.homecharge.logic.meter_state import MeterState, entity_reading
from custom_components.homecharge.logic.place import GridType

NOW = datetime(2026, 11, 21, 17, 0, tzinfo=UTC)


def test_power_alone_adds_only_what_the_house_did() -> None:
    """A 2.3 kW rise our chargers did not cause lands on every phase (10 A)."""
    state = MeterState(grid=GridType.THREE_PHASE_400_TN)
    reading = MeterReading(import_w=9000.0, current_a=(20.0, 15.0, 10.0))
    assert state.update(reading, NOW, own=(8.0, 8.0, 8.0))
    assert state.house_a == (12.0, 7.0, 2.0)
    assert not state.update(MeterReading(import_w=11300.0), NOW, own=(8.0, 8.0, 8.0))
    assert state.phase_currents((8.0, 8.0, 8.0)) == (30.0, 25.0, 20.0)
    # The same rise, but our chargers went from 8 to 10 A on three phases
    # (1380 W): only the rest (920 W, 4 A) is the house.
    currents = state.phase_currents((10.0, 10.0, 10.0))
    assert currents == pytest.approx((26.0, 21.0, 16.0))
    # A fall says nothing about which phase: the house stays as measured.
    state.update(MeterReading(import_w=1000.0), NOW, own=(8.0, 8.0, 8.0))
    assert state.phase_currents((0.0, 0.0, 0.0)) == (12.0, 7.0, 2.0)


def test_phases_arriving_one_by_one_are_merged() -> None:
    """Sensors and raw topics send one phase per message."""
    state = MeterState(grid=GridType.THREE_PHASE_400_TN)
    state.update(MeterReading(current_a=(5.0, None, None)), NOW)
    state.update(MeterReading(current_a=(None, 6.0, None)), NOW)
    state.update(MeterReading(current_a=(None, None, 7.0)), NOW)
    assert state.measured_a == (5.0, 6.0, 7.0)


def test_it_grid_missing_phase_is_derived_from_the_merged_values() -> None:
    """Aidon on IT: I2 = 0 and a signed I3; the worst case for L2 is |I1|+|I3|."""
    state = MeterState(grid=GridType.THREE_PHASE_230_IT)
    state.update(MeterReading(current_a=(4.8, 0.0, -2.8), import_w=1028.0), NOW)
    assert state.measured_a == pytest.approx((4.8, 7.6, 2.8))


def test_export_makes_net_power_negative() -> None:
    """Solar export: net power below zero; a later import-only value resets it."""
    state = MeterState(grid=GridType.ONE_PHASE_230)
    state.update(MeterReading(import_w=0.0, export_w=1500.0), NOW)
    assert state.net_power_w == -1500.0
    state.update(MeterReading(export_w=500.0), NOW)
    assert state.net_power_w == -500.0
    state.update(MeterReading(import_w=200.0), NOW)
    assert state.net_power_w == 200.0


@pytest.mark.parametrize(
    ("phase", "value", "unit", "expected"),
    [
        (None, "1.5", "kW", MeterReading(import_w=1500.0, export_w=0.0)),
        (None, "-800", "W", MeterReading(import_w=0.0, export_w=800.0)),
        (0, "12.5", "A", MeterReading(current_a=(12.5, None, None))),
        (1, "-3", "A", MeterReading(current_a=(None, 3.0, None))),
        (2, "2300", "W", MeterReading(current_a=(None, None, 10.0))),
    ],
)
def test_sensor_states_become_readings(
    phase: int | None, value: str, unit: str, expected: MeterReading
) -> None:
    """Total power in W/kW (negative: export); phases in A, or W turned into A."""
    assert entity_reading(phase, value, unit) == expected


@pytest.mark.parametrize(
    ("phase", "value", "unit", "reason"),
    [
        (0, "unavailable", "A", "not_number"),
        (0, "nan", "A", "not_finite"),
        (0, "inf", "A", "not_finite"),
        (0, "5", "°C", "wrong_unit"),
        (None, "5", "A", "wrong_unit"),
        (0, "-10000000", "A", "out_of_range"),
        (None, "5", "MW", "out_of_range"),
    ],
)
def test_bad_sensor_states_are_refused(
    phase: int | None, value: str, unit: str, reason: str
) -> None:
    """Unavailable, NaN, wrong units and absurd values never reach the balancer."""
    with pytest.raises(InvalidPayload) as caught:
        entity_reading(phase, value, unit)
    assert caught.value.reason == reason
