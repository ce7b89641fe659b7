"""Real chargers' frames, replayed: each CALL answered once, with a valid answer.

Every CALL of the traces in tests/fixtures/ocpp/traces goes over a real
websocket; its answer must be a CALLRESULT that the ``ocpp`` package's
official OCPP 1.6 schemas accept (or a CallError where the frame itself
breaks the schema, as Huawei's empty vendor does not — we accept it), and
what the charger said must show as the user expects.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ocpp.messages import CallResult, validate_payload
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.homecharge.central.server import CENTRAL
from homeassistant.core import HomeAssistant

from .simulators.raw import RawCharger
from .test_central import PASSWORD, place_with_charger
from .test_charger_runtime import _state, _until

TRACES = Path(__file__).parent / "fixtures" / "ocpp" / "traces"
STATUS = "sensor.garage_status"


def _trace(name: str) -> list[list[Any]]:
    frames: list[list[Any]] = json.loads((TRACES / name).read_text())
    return frames


@pytest.fixture
async def place(hass: HomeAssistant) -> MockConfigEntry:
    """A place with charger CP-1."""
    entry = place_with_charger("CP-1")
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    return entry


async def _replay(hass: HomeAssistant, name: str) -> RawCharger:
    raw = RawCharger(f"ws://127.0.0.1:{hass.data[CENTRAL].port}", "CP-1", PASSWORD)
    await raw.connect()
    for _, message_id, action, payload in _trace(name):
        await raw.send_raw(json.dumps([2, message_id, action, payload]))
        await raw.wait_for(lambda message_id=message_id: raw.answered(message_id) > 0)
        ((_, answer),) = raw.results[message_id]
        assert answer[0] == 3, f"{name} {action}: {answer}"
        result = CallResult(message_id, answer[2])
        result.action = action
        await validate_payload(result, "1.6")
    return raw


@pytest.mark.parametrize(
    "name", sorted(path.name for path in TRACES.glob("*.json")), ids=str
)
async def test_every_call_of_a_real_charger_is_answered_validly(
    hass: HomeAssistant, place: MockConfigEntry, name: str
) -> None:
    """One schema-valid CALLRESULT per CALL, for every trace."""
    raw = await _replay(hass, name)
    try:
        calls = _trace(name)
        assert all(raw.answered(frame[1]) == 1 for frame in calls)
        assert not raw.closed
    finally:
        await raw.close()


async def test_alfen_charger_wide_fault(
    hass: HomeAssistant, place: MockConfigEntry
) -> None:
    """Alfen's Faulted on connector 0 shows as an error with its vendor code."""
    raw = await _replay(hass, "alfen_1.6_boot_faulted.json")
    try:
        await _until(hass, lambda: _state(hass, STATUS) == "error")
        assert _state(hass, "sensor.garage_error_code") == "210"
    finally:
        await raw.close()


async def test_abb_status_without_a_timestamp_on_connector_0(
    hass: HomeAssistant, place: MockConfigEntry
) -> None:
    """ABB reports connector 0 only, without a timestamp: ready."""
    raw = await _replay(hass, "abb_1.6_terra_ac_trigger_status.json")
    try:
        await _until(hass, lambda: _state(hass, STATUS) == "ready")
    finally:
        await raw.close()
