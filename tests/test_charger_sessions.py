"""Session bookkeeping: transactions and meter readings into a charger's state."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, strategies as st

from custom_components.homecharge.central.meter_values import MeterSample
from custom_components.homecharge.runtime.charger_sessions import (
    end_transaction,
    record_samples,
    start_transaction,
)
from custom_components.homecharge.runtime.charger_state import (
    RECENT_SESSIONS,
    ChargerState,
)

T0 = datetime(2026, 12, 6, 22, 0, tzinfo=UTC)


def test_a_session_from_start_to_stop() -> None:
    """Numbered by us (1.6), energy = register − start, remembered at the end."""
    state = ChargerState(energy_wh=1_000.0)
    tx = start_transaction(
        state, now=T0, meter_start_wh=1_500.0, started=T0, transaction_id=None
    )
    assert tx == "1"
    assert state.next_transaction_id == 2
    assert state.energy_wh == 1_500.0  # the start raises the register
    assert state.session_energy_kwh == 0.0
    record_samples(state, [MeterSample(timestamp=T0, energy_wh=4_000.0)], T0)
    assert state.session_energy_kwh == 2.5
    end_transaction(state, tx, 6_500.0)
    assert state.transaction_id is None
    assert state.session_energy_kwh == 5.0
    assert state.recent_sessions_kwh == [5.0]
    assert state.energy_wh == 6_500.0
    assert state.power_w == 0.0


def test_a_charger_named_transaction_is_kept() -> None:
    """2.0.1 chargers name their transactions; ours are not used up."""
    state = ChargerState()
    assert (
        start_transaction(
            state, now=T0, meter_start_wh=None, started=T0, transaction_id="ab"
        )
        == "ab"
    )
    assert state.next_transaction_id == 1


def test_queued_old_readings_never_lower_the_register() -> None:
    """Samples are taken oldest first; an older, lower register is ignored."""
    state = ChargerState(energy_wh=5_000.0)
    currents = record_samples(
        state,
        [
            MeterSample(timestamp=T0 + timedelta(minutes=1), energy_wh=5_200.0),
            MeterSample(timestamp=T0, energy_wh=4_900.0, current_a=(6.0, 6.0, 6.0)),
            MeterSample(current_a=(1.0, None, None)),  # no time: oldest
        ],
        T0,
    )
    assert state.energy_wh == 5_200.0
    assert currents == [(1.0, None, None), (6.0, 6.0, 6.0)]
    assert state.current_a == (6.0, 6.0, 6.0)
    assert state.currents_at == T0


def test_a_late_stop_of_another_transaction_keeps_the_running_one() -> None:
    """A queued StopTransaction of an earlier session leaves the new one running."""
    state = ChargerState()
    start_transaction(
        state, now=T0, meter_start_wh=100.0, started=T0, transaction_id="7"
    )
    end_transaction(state, "6", 50.0)
    assert state.transaction_id == "7"
    assert state.meter_start_wh == 100.0
    assert state.recent_sessions_kwh == []


@given(st.lists(st.floats(0.1, 80), min_size=1, max_size=3 * RECENT_SESSIONS))
def test_recent_sessions_are_the_last_ones(sessions: list[float]) -> None:
    """Only the last sessions are kept, in order."""
    state = ChargerState(energy_wh=0.0)
    register = 0.0
    for kwh in sessions:
        tx = start_transaction(
            state, now=T0, meter_start_wh=register, started=T0, transaction_id=None
        )
        register += kwh * 1000
        end_transaction(state, tx, register)
    assert len(state.recent_sessions_kwh) == min(len(sessions), RECENT_SESSIONS)
    assert state.recent_sessions_kwh[-1] == state.session_energy_kwh


def test_power_voltage_and_a_stop_without_a_register() -> None:
    """Power and voltages are kept; a stop without a register delivered nothing."""
    state = ChargerState()
    tx = start_transaction(
        state, now=T0, meter_start_wh=None, started=T0, transaction_id="1"
    )
    record_samples(
        state, [MeterSample(power_w=7_000.0, voltage_v=(230.0, 231.0, 229.0))], T0
    )
    assert state.power_w == 7_000.0
    assert state.voltage_v == (230.0, 231.0, 229.0)
    end_transaction(state, tx, None)
    assert state.transaction_id is None
    assert state.power_w == 0.0
    # Nothing delivered is no session to learn from.
    assert state.recent_sessions_kwh == []
