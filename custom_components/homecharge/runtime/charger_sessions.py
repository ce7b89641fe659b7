"""A charger's session bookkeeping: transactions and meter readings into state.

What OCPP reports about charging (a transaction starts or ends, meter values
arrive) becomes the charger's energy register, its running session and the
energy of its last sessions. No Home Assistant here: the moment is passed in.
The sessions ledger grows out of this module.
"""

from __future__ import annotations

from datetime import UTC, datetime

from ..central.meter_values import MeterSample, PhaseValues, session_energy_kwh
from .charger_state import RECENT_SESSIONS, ChargerState


def record_samples(
    state: ChargerState, samples: list[MeterSample], now: datetime
) -> list[PhaseValues]:
    """
    Keep the newest readings; a queued old one only raises the register.

    The phase currents reported, oldest first: the 0 A check counts them.
    """
    currents: list[PhaseValues] = []
    for sample in sorted(samples, key=_sample_time):
        if sample.energy_wh is not None and (
            state.energy_wh is None or sample.energy_wh >= state.energy_wh
        ):
            state.energy_wh = sample.energy_wh
        if sample.power_w is not None:
            state.power_w = sample.power_w
        if any(value is not None for value in sample.current_a):
            state.current_a = sample.current_a
            state.currents_at = now
            currents.append(sample.current_a)
        if any(value is not None for value in sample.voltage_v):
            state.voltage_v = sample.voltage_v
    if (
        state.transaction_id is not None
        and state.meter_start_wh is not None
        and state.energy_wh is not None
    ):
        state.session_energy_kwh = session_energy_kwh(
            state.meter_start_wh, state.energy_wh
        )
    return currents


def start_transaction(
    state: ChargerState,
    *,
    meter_start_wh: float | None,
    started: datetime,
    transaction_id: str | None,
    now: datetime,
) -> str:
    """A session began; 1.6 chargers get the transaction id we number.

    ``started`` is the charger's own time (kept for the session); ``now`` is
    ours, what readings are compared with.
    """
    if transaction_id is None:
        transaction_id = str(state.next_transaction_id)
        state.next_transaction_id += 1
    state.transaction_id = transaction_id
    state.meter_start_wh = meter_start_wh
    state.session_started = started
    state.session_seen_at = now
    state.session_energy_kwh = 0.0
    state.stop_reason = None
    if meter_start_wh is not None and (
        state.energy_wh is None or meter_start_wh > state.energy_wh
    ):
        state.energy_wh = meter_start_wh
    return transaction_id


def end_transaction(
    state: ChargerState,
    transaction_id: str,
    meter_stop_wh: float | None,
    reason: str | None = None,
) -> None:
    """A session ended: its energy is stop − start, never negative."""
    if state.meter_start_wh is not None and meter_stop_wh is not None:
        state.session_energy_kwh = session_energy_kwh(
            state.meter_start_wh, meter_stop_wh
        )
    if meter_stop_wh is not None and (
        state.energy_wh is None or meter_stop_wh > state.energy_wh
    ):
        state.energy_wh = meter_stop_wh
    if state.transaction_id == transaction_id:
        state.stop_reason = reason
        state.transaction_id = None
        state.meter_start_wh = None
        if state.session_energy_kwh:
            recent = [*state.recent_sessions_kwh, state.session_energy_kwh]
            state.recent_sessions_kwh = recent[-RECENT_SESSIONS:]
    state.power_w = 0.0


def _sample_time(sample: MeterSample) -> datetime:
    return sample.timestamp or datetime.min.replace(tzinfo=UTC)
