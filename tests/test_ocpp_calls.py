"""Every CALL answered once, and our calls never stuck: over real websockets.

A raw charger (tests/simulators/raw.py) does what firmware does when it is
busy or broken: replays its offline queue, floods, sends garbage, holds back
an answer, drops the line.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
import json
import time

from aiohttp import WSCloseCode
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.homecharge.central import session as session_module
from custom_components.homecharge.central.server import CENTRAL
from custom_components.homecharge.central.session import CALL_BURST, MAX_VIOLATIONS
from custom_components.homecharge.logic.limits import LimitSource
from custom_components.homecharge.runtime.charger import ChargerCoordinator
from custom_components.homecharge.runtime.charger_limits import STALE_AFTER_S
from homeassistant.core import HomeAssistant

from .simulators.raw import RawCharger
from .test_central import PASSWORD, place_with_charger

METER_VALUES = {
    "connectorId": 1,
    "meterValue": [
        {
            "timestamp": "2026-12-06T21:00:00Z",
            "sampledValue": [
                {"value": "1000", "measurand": "Energy.Active.Import.Register"}
            ],
        }
    ],
}


@pytest.fixture
async def place(hass: HomeAssistant) -> MockConfigEntry:
    """A place with charger RAW-1 (password set)."""
    entry = place_with_charger("RAW-1")
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    return entry


@pytest.fixture
async def raw(hass: HomeAssistant, place: MockConfigEntry) -> AsyncIterator[RawCharger]:
    """RAW-1, connected and booted; closed after the test."""
    charger = RawCharger(f"ws://127.0.0.1:{hass.data[CENTRAL].port}", "RAW-1", PASSWORD)
    await charger.connect()
    await charger.boot()
    yield charger
    await charger.close()
    await hass.async_block_till_done()


def _runtime(place: MockConfigEntry) -> ChargerCoordinator:
    return next(iter(place.runtime_data.chargers.values()))


@pytest.fixture
def no_refill(monkeypatch: pytest.MonkeyPatch) -> None:
    """Next to no refill: the flood stays over the burst however slowly it is sent.

    At the real 20 calls a second, the 100 calls over the burst are refilled
    in 5 s, and a loaded CI machine once took that long to send them.
    """
    monkeypatch.setattr(session_module, "CALL_RATE", 0.001)


async def test_every_call_answered_once_in_a_flood(
    no_refill: None, raw: RawCharger
) -> None:
    """More calls at once than the burst allows: each gets one answer, none lost."""
    count = int(CALL_BURST) + 100
    ids = [raw.next_id() for _ in range(count)]
    for message_id in ids:
        await raw.send_raw(json.dumps([2, message_id, "Heartbeat", {}]))
    await raw.wait_for(lambda: all(raw.answered(i) for i in ids), 20)
    assert all(raw.answered(i) == 1 for i in ids)
    errors = [raw.results[i][0][1] for i in ids if raw.results[i][0][1][0] == 4]
    # Over the burst, a CallError the charger can retry on — never silence.
    assert errors
    assert {error[2] for error in errors} == {"GenericError"}
    assert not raw.closed


async def test_a_limit_goes_out_while_a_queue_is_replayed(
    hass: HomeAssistant, place: MockConfigEntry, raw: RawCharger
) -> None:
    """A thousand queued MeterValues do not hold back a balancer cut."""
    runtime = _runtime(place)
    await raw.wait_for(lambda: runtime.data.offered_a is not None)
    before = len(raw.calls_of("SetChargingProfile"))
    started = time.monotonic()
    for index in range(1000):
        if index == 500:
            cut_at = time.monotonic()
            runtime.set_limit(LimitSource.BALANCER, 10.0)
        answer = await raw.call("MeterValues", METER_VALUES)
        assert answer is not None
        assert answer[0] == 3
    drained = time.monotonic() - started
    await raw.wait_for(lambda: runtime.data.offered_a == 10.0)
    profiles = raw.calls_of("SetChargingProfile")[before:]
    assert profiles
    assert profiles[0][0] - cut_at < 1.0
    limit = profiles[0][1]["csChargingProfiles"]["chargingSchedule"][
        "chargingSchedulePeriod"
    ][0]["limit"]
    assert limit == 10.0
    assert drained < 30


async def test_a_stale_call_does_not_hold_the_next_limit(
    hass: HomeAssistant, place: MockConfigEntry, raw: RawCharger
) -> None:
    """An unanswered SetChargingProfile is superseded: the latest limit wins."""
    runtime = _runtime(place)
    await raw.wait_for(lambda: runtime.data.offered_a is not None)
    raw.withhold.add("SetChargingProfile")
    runtime.set_limit(LimitSource.BALANCER, 12.0)
    await raw.wait_for(lambda: _limits_sent(raw)[-1:] == [12.0])
    raw.withhold.clear()
    runtime.set_limit(LimitSource.BALANCER, 8.0)
    started = time.monotonic()
    await raw.wait_for(lambda: runtime.data.offered_a == 8.0, 5)
    # Not the 30 s the lost answer would hold it: given up after STALE_AFTER_S.
    assert time.monotonic() - started < STALE_AFTER_S + 1.0
    assert _limits_sent(raw)[-1] == 8.0


async def test_a_call_pending_at_a_disconnect_ends_with_it(
    hass: HomeAssistant, place: MockConfigEntry, raw: RawCharger
) -> None:
    """The reconnected charger gets its limit at once, not after 30 s."""
    runtime = _runtime(place)
    await raw.wait_for(lambda: runtime.data.offered_a is not None)
    raw.withhold.add("SetChargingProfile")
    runtime.set_limit(LimitSource.BALANCER, 12.0)
    await raw.wait_for(lambda: _limits_sent(raw)[-1:] == [12.0])
    await raw.close()
    await hass.async_block_till_done()

    again = RawCharger(raw.url.rsplit("/", 1)[0], "RAW-1", PASSWORD)
    await again.connect()
    try:
        started = time.monotonic()
        await again.boot()
        await again.wait_for(lambda: bool(again.calls_of("SetChargingProfile")), 5)
        assert time.monotonic() - started < 2.0
        await again.wait_for(lambda: runtime.data.offered_a == 12.0, 5)
    finally:
        await again.close()


def _limits_sent(raw: RawCharger) -> list[float]:
    """The limits of our expiring profiles, in the order they came."""
    return [
        payload["csChargingProfiles"]["chargingSchedule"]["chargingSchedulePeriod"][0][
            "limit"
        ]
        for _, payload, _ in raw.calls_of("SetChargingProfile")
        if payload["csChargingProfiles"]["chargingProfileId"] == 4242
    ]


DEEP = "[" * 10_000 + "]" * 10_000


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        ('[2,"bad-1","Heartbeat",{', "FormationViolation"),
        ('[2,"bad-1",{"x":1},{}]', "ProtocolError"),
        ('[2,"bad-1","Heartbeat"]', "ProtocolError"),
        ('[7,"bad-1",{}]', "ProtocolError"),
        ('[2,"bad-1","Heartbeat",' + DEEP + "]", "FormationViolation"),
    ],
    ids=["not-json", "action-not-text", "no-payload", "unknown-type", "deep"],
)
async def test_broken_calls_are_answered(
    raw: RawCharger, frame: str, code: str
) -> None:
    """A broken CALL with a readable id gets the OCPP-J error, and the line stays."""
    await raw.send_raw(frame)
    await raw.wait_for(lambda: raw.answered("bad-1") == 1)
    answer = raw.results["bad-1"][0][1]
    assert answer[0] == 4
    assert answer[2] == code
    assert not raw.closed
    # The session still works.
    assert (await raw.call("Heartbeat", {}) or [None])[0] == 3


async def test_frames_without_an_id_and_repeated_violations(
    raw: RawCharger, caplog: pytest.LogCaptureFixture
) -> None:
    """No id, no answer; too many broken frames close the socket (1008).

    One warning a minute per charger, and no tracebacks for its garbage.
    """
    for frame in ("not json", "{}", "[]", "42", '"text"'):
        await raw.send_raw(frame)
    assert (await raw.call("Heartbeat", {}) or [None])[0] == 3
    assert not raw.other
    for _ in range(MAX_VIOLATIONS):
        await raw.send_raw("[")
    await raw.wait_for(lambda: raw.closed)
    assert raw.close_code == WSCloseCode.POLICY_VIOLATION
    warnings = [r for r in caplog.records if "RAW-1" in r.getMessage()]
    assert len([r for r in warnings if "refused a frame" in r.getMessage()]) == 1
    assert not any(r.exc_info for r in caplog.records)


async def test_payload_errors_log_no_traceback(
    raw: RawCharger, caplog: pytest.LogCaptureFixture
) -> None:
    """A schema-invalid payload: the ocpp package's CallError, no traceback."""
    answer = await raw.call("StatusNotification", {"connectorId": "one"})
    assert answer is not None
    assert answer[0] == 4
    assert not any(r.exc_info for r in caplog.records)
