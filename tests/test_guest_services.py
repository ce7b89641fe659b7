"""Inviting and revoking a guest (the message, the access, the local list) and his report."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from custom_components.homecharge.const import DOMAIN
from custom_components.homecharge.logic.allocation import Priority
from homeassistant.core import HomeAssistant, ServiceCall, callback
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import device_registry as dr
from homeassistant.util import dt as dt_util

from .test_access_runtime import _person, _place
from .test_charger_runtime import _until


def _notifier(hass: HomeAssistant) -> list[dict[str, Any]]:
    """A legacy notify service, as an SMTP or Companion app notifier is."""
    sent: list[dict[str, Any]] = []

    @callback
    def record(call: ServiceCall) -> None:
        sent.append(dict(call.data))

    hass.services.async_register("notify", "renter_phone", record)
    return sent


async def test_an_invite_gives_access_and_says_how(
    hass: HomeAssistant, connect: Callable[..., Any]
) -> None:
    """Chargers and window stored; the card reaches the charger; a Norwegian message."""
    sent = _notifier(hass)
    entry = _place("restricted", _person("Renter", chargers=[], cards=["RENT-1"]))
    charger = await connect(entry)
    device = dr.async_get(hass).async_get_device(identifiers={(DOMAIN, "CP-1")})
    assert device is not None
    end = dt_util.now() + timedelta(days=2)
    answer = await hass.services.async_call(
        DOMAIN,
        "invite_guest",
        {
            "config_entry_id": entry.entry_id,
            "person": "renter",
            "device_id": [device.id],
            "end": end.replace(tzinfo=None).isoformat(timespec="seconds"),
            "notify": ["notify.renter_phone"],
            "language": "nb",
        },
        blocking=True,
        return_response=True,
    )
    assert answer is not None
    assert answer["chargers"] == ["CP-1"]
    (message,) = sent
    assert message["title"] == "Lading på Home"
    assert "Garage" in message["message"]
    assert "ladebrikken" in message["message"]
    await _until(hass, lambda: "RENT-1" in charger.local_list)
    assert await charger.authorize("RENT-1") == "Accepted"

    await hass.services.async_call(
        DOMAIN,
        "revoke_guest",
        {"config_entry_id": entry.entry_id, "person": "Renter"},
        blocking=True,
        return_response=True,
    )
    assert await charger.authorize("RENT-1") == "Expired"
    await _until(hass, lambda: charger.local_list == {})


async def test_bad_invites_are_refused_clearly(
    hass: HomeAssistant, connect: Callable[..., Any]
) -> None:
    """Nobody by that name, a window that ends before it starts, a non-notifier.

    Nothing is stored or sent when any part is bad.
    """
    sent = _notifier(hass)
    entry = _place("restricted", _person("Renter", cards=["RENT-1"]))
    await connect(entry)
    (person,) = [s for s in entry.subentries.values() if s.subentry_type == "person"]
    before = dict(person.data)
    base = {"config_entry_id": entry.entry_id, "person": "Renter"}
    start = dt_util.now().replace(tzinfo=None) + timedelta(days=2)
    for data, key in (
        ({**base, "person": "Nobody"}, "person_not_found"),
        (
            {
                **base,
                "start": start.isoformat(),
                "end": (start - timedelta(days=1)).isoformat(),
            },
            "window_reversed",
        ),
        (
            {
                **base,
                "end": start.isoformat(),
                "notify": ["notify.renter_phone", "light.kitchen"],
            },
            "not_a_notify_target",
        ),
    ):
        with pytest.raises(ServiceValidationError) as caught:
            await hass.services.async_call(
                DOMAIN, "invite_guest", data, blocking=True, return_response=True
            )
        assert caught.value.translation_key == key
    assert dict(entry.subentries[person.subentry_id].data) == before
    assert sent == []


async def test_a_guest_report_is_his_sessions_only(
    hass: HomeAssistant, connect: Callable[..., Any]
) -> None:
    """To bill a renter: his sessions, kWh and cost; not the family's."""
    entry = _place(
        "restricted",
        _person("Renter", cards=["RENT-1"]),
        _person("Kari", cards=["K-1"]),
    )
    charger = await connect(entry)
    ledger = entry.runtime_data.sessions.ledger
    for tag in ("RENT-1", "K-1"):
        await charger.start_transaction(tag)
        await _until(hass, lambda: charger.status == "Charging")
        await charger.stop_transaction()
        charger.unplug()
        await _until(
            hass, lambda t=tag: any(s.id_tag == t and s.stopped for s in ledger)
        )
    answer = await hass.services.async_call(
        DOMAIN,
        "guest_report",
        {"config_entry_id": entry.entry_id, "person": "Renter"},
        blocking=True,
        return_response=True,
    )
    assert answer is not None
    assert answer["person"] == "Renter"
    assert answer["totals"]["sessions"] == 1  # type: ignore[index]
    assert [row["person"] for row in answer["sessions"]] == ["Renter"]  # type: ignore[union-attr]


async def test_a_persons_usage_sensors(
    hass: HomeAssistant, connect: Callable[..., Any]
) -> None:
    """The renter's own device: his energy this month and in his window."""
    start = dt_util.now() - timedelta(hours=2)
    entry = _place(
        "restricted",
        _person(
            "Renter",
            cards=["RENT-1"],
            window_start=start.strftime("%Y-%m-%d %H:%M:%S"),
        ),
        _person("Kari", cards=["K-1"]),
    )
    charger = await connect(entry)
    month = hass.states.get("sensor.renter_energy_this_month")
    assert month is not None
    assert float(month.state) == 0
    # Family (no window) has nothing to count there.
    kari_window = hass.states.get("sensor.kari_energy_in_access_window")
    assert kari_window is not None
    assert kari_window.state == "unknown"
    ledger = entry.runtime_data.sessions.ledger
    await charger.start_transaction("RENT-1")
    await _until(hass, lambda: charger.status == "Charging")
    await _until(
        hass,
        lambda: any(
            s.person == "Renter" and s.energy_wh and s.energy_wh > 0 for s in ledger
        ),
    )
    await charger.stop_transaction()
    await _until(hass, lambda: all(s.stopped for s in ledger))
    await hass.async_block_till_done()
    (session,) = list(ledger)
    for entity in (
        "sensor.renter_energy_this_month",
        "sensor.renter_energy_in_access_window",
    ):
        state = hass.states.get(entity)
        assert state is not None
        assert float(state.state) == pytest.approx(session.energy_wh / 1000, abs=0.001)
    kari = hass.states.get("sensor.kari_energy_this_month")
    assert kari is not None
    assert float(kari.state) == 0


async def test_a_guests_session_yields_first(
    hass: HomeAssistant, connect: Callable[..., Any]
) -> None:
    """While the renter charges, the charger balances at his (low) priority."""
    entry = _place(
        "restricted",
        _person("Renter", cards=["RENT-1"]),
        _person("Kari", cards=["K-1"], priority="high"),
    )
    charger = await connect(entry)
    (runtime,) = entry.runtime_data.chargers.values()
    assert runtime.priority is Priority.NORMAL  # the charger's own, idle
    ledger = entry.runtime_data.sessions.ledger
    for tag, expected in (("RENT-1", Priority.LOW), ("K-1", Priority.HIGH)):
        await charger.start_transaction(tag)
        await _until(hass, lambda t=tag: any(s.id_tag == t for s in ledger))
        loads = entry.runtime_data.balancer._loads()
        assert [load.priority for load in loads] == [expected]
        await charger.stop_transaction()
        charger.unplug()
        await _until(hass, lambda: all(s.stopped for s in ledger))
