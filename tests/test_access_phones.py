"""Phones near a restricted charger (through HA's Bluetooth), the lock, and plug swaps.

Advertisements reach Home Assistant the way an ESPHome or Shelly proxy
delivers them: a remote scanner from ``habluetooth`` registered with HA's
Bluetooth manager. The chargers are simulators over real websockets.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from typing import Any
from uuid import UUID

from bluetooth_data_tools import monotonic_time_coarse
from habluetooth import BaseHaRemoteScanner
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
)

from custom_components.homecharge.logic.access import person_tag
from custom_components.homecharge.logic.proximity import IBeaconId, ibeacon_data
from custom_components.homecharge.runtime.phones import LOOK_INTERVAL
from homeassistant.components.bluetooth import async_register_scanner
from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util

from .test_access_runtime import _person, _place
from .test_charger_runtime import _until

BEACON = IBeaconId(UUID("4a5e2d3c-8f7b-4c1a-9e6d-2b3c4d5e6f70"), 100, 1)
PHONE_ADDRESS = "5C:11:22:33:44:55"
PROXY = "AA:BB:CC:DD:EE:01"
# An IRK and an address it resolves (a rotating private address).
IRK_HEX = "00112233445566778899aabbccddeeff"


class Proxy(BaseHaRemoteScanner):
    """A Bluetooth proxy (as ESPHome's) that hears advertisements."""

    def hear(
        self,
        address: str,
        rssi: int,
        manufacturer_data: dict[int, bytes] | None = None,
    ) -> None:
        """One advertisement, as a proxy hands it to HA's manager."""
        self._async_on_advertisement(
            address,
            rssi,
            None,
            [],
            {},
            manufacturer_data or {},
            None,
            {},
            monotonic_time_coarse(),
        )


@pytest.fixture
async def proxy(hass: HomeAssistant, enable_bluetooth: None) -> AsyncIterator[Proxy]:
    """A remote scanner registered with HA's Bluetooth manager."""
    scanner = Proxy(PROXY, "proxy", None, False)
    unsetup = scanner.async_setup()
    cancel = async_register_scanner(hass, scanner)
    yield scanner
    cancel()
    unsetup()


def _restricted(*people: Any, **proximity: Any) -> MockConfigEntry:
    entry = _place("restricted", *people)
    charger = next(s for s in entry.subentries.values() if s.subentry_type == "charger")
    data = {
        **charger.data,
        "proximity": {"near_seconds": 0.0, "away_seconds": 0.0, **proximity},
    }
    object.__setattr__(charger, "data", data)
    return entry


async def _look(hass: HomeAssistant) -> None:
    async_fire_time_changed(hass, dt_util.utcnow() + LOOK_INTERVAL)
    await hass.async_block_till_done()


def _lock(hass: HomeAssistant) -> str:
    state = hass.states.get("binary_sensor.garage_access")
    assert state is not None
    return state.state


def _resolvable_address(irk: bytes) -> str:
    """A resolvable private address for an IRK (prand with 0b01 on top)."""
    from cryptography.hazmat.primitives.ciphers import (  # noqa: PLC0415
        Cipher,
        algorithms,
        modes,
    )

    prand = bytes([0x4F, 0x12, 0x34])
    # The Bluetooth core spec's ah(): AES-128 on one block, as ECB.
    encryptor = Cipher(algorithms.AES(irk), modes.ECB()).encryptor()  # noqa: S305
    digest = encryptor.update(b"\x00" * 13 + prand) + encryptor.finalize()
    return ":".join(f"{b:02X}" for b in prand + digest[-3:])


async def test_a_phone_near_unlocks_and_its_session_is_the_persons(
    hass: HomeAssistant, connect: Callable[..., Any], proxy: Proxy
) -> None:
    """Kari's phone near: the car plugged in charges, as Kari's session."""
    kari = _person("Kari", phone=f"{BEACON.uuid}_100_1")
    entry = _restricted(kari)
    charger = await connect(entry)
    await _look(hass)
    assert _lock(hass) == "off"  # locked
    charger.plug_in()
    await _until(hass, lambda: charger.status == "Preparing")
    await hass.async_block_till_done()
    # Nobody near: the car waits, neither planned nor given a share.
    assert not charger.received_calls("RemoteStartTransaction")
    runtime = entry.runtime_data
    (load,) = runtime.balancer._loads()
    assert not load.active
    assert runtime.scheduler._cars(dt_util.utcnow()) == []

    proxy.hear(PHONE_ADDRESS, -60, {0x004C: ibeacon_data(BEACON)})
    await _look(hass)
    assert _lock(hass) == "on"  # unlocked
    await _until(hass, lambda: charger.status == "Charging")
    (start,) = charger.received_calls("RemoteStartTransaction")
    person = next(p for p in entry.subentries.values() if p.title == "Kari")
    assert start["id_tag"] == person_tag(person.subentry_id)
    ledger = entry.runtime_data.sessions.ledger
    await _until(hass, lambda: any(s.person == "Kari" for s in ledger))
    (load,) = runtime.balancer._loads()
    assert load.active
    assert len(runtime.scheduler._cars(dt_util.utcnow())) == 1

    # Kari walks away: locked again; the running session goes on.
    proxy.hear(PHONE_ADDRESS, -100, {0x004C: ibeacon_data(BEACON)})
    await _look(hass)
    assert _lock(hass) == "off"
    assert charger.status == "Charging"


async def test_a_phone_at_another_charger_or_far_does_not_unlock(
    hass: HomeAssistant, connect: Callable[..., Any], proxy: Proxy
) -> None:
    """Heard by another scanner than the charger's, or too weak: still locked."""
    kari = _person("Kari", phone=str(BEACON.uuid))
    entry = _restricted(kari, bluetooth_scanner="11:22:33:44:55:66")
    charger = await connect(entry)
    charger.plug_in()
    proxy.hear(PHONE_ADDRESS, -55, {0x004C: ibeacon_data(BEACON)})
    await _look(hass)
    assert _lock(hass) == "off"
    assert not charger.received_calls("RemoteStartTransaction")


async def test_a_rotating_address_is_resolved_by_its_irk(
    hass: HomeAssistant, connect: Callable[..., Any], proxy: Proxy
) -> None:
    """A Private BLE Device: the IRK recognises the phone under a new address."""
    kari = _person("Kari", phone=f"irk:{IRK_HEX}")
    entry = _restricted(kari)
    charger = await connect(entry)
    stranger = "4F:00:00:00:00:01"
    proxy.hear(stranger, -50, {0x0006: b"\x01\x09"})
    await _look(hass)
    assert _lock(hass) == "off"
    proxy.hear(_resolvable_address(bytes.fromhex(IRK_HEX)), -58, {0x0006: b"\x01"})
    await _look(hass)
    assert _lock(hass) == "on"
    charger.plug_in()
    await _until(hass, lambda: charger.status == "Charging")


async def test_a_presence_entity_says_near(
    hass: HomeAssistant, connect: Callable[..., Any]
) -> None:
    """A distance sensor (Bermuda, ibeacon) the user already has works as a phone."""
    hass.states.async_set("sensor.kari_distance", "25", {"unit_of_measurement": "m"})
    kari = _person("Kari", phone_entity="sensor.kari_distance")
    entry = _restricted(kari)
    charger = await connect(entry)
    charger.plug_in()
    await _look(hass)
    assert _lock(hass) == "off"
    hass.states.async_set("sensor.kari_distance", "1.5", {"unit_of_measurement": "m"})
    await _look(hass)
    await _until(hass, lambda: charger.status == "Charging")


async def test_someone_outside_his_window_is_not_let_in_by_his_phone(
    hass: HomeAssistant, connect: Callable[..., Any]
) -> None:
    """A renter whose window has not begun: near, and still locked."""
    hass.states.async_set("device_tracker.renter", "home")
    start = (dt_util.now() + timedelta(days=1)).strftime("%Y-%m-%d %H:%M:%S")
    renter = _person("Renter", phone_entity="device_tracker.renter", window_start=start)
    charger = await connect(_restricted(renter))
    charger.plug_in()
    await _look(hass)
    assert _lock(hass) == "off"
    assert not charger.received_calls("RemoteStartTransaction")


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
async def test_a_restricted_charger_is_told_to_stop_on_unplug(
    hass: HomeAssistant, connect: Callable[..., Any], version: str
) -> None:
    """Where the charger lets us, an unplug ends the transaction by itself."""
    charger = await connect(
        _restricted(_person("Kari", cards=["CARD-1"])),
        version,
        stop_tx_on_unplug=False,
    )
    await _until(hass, lambda: charger.stop_tx_on_unplug)


async def test_a_moved_cable_stops_the_charging(
    hass: HomeAssistant, connect: Callable[..., Any]
) -> None:
    """Plug swap: a charger that keeps the transaction over an unplug is stopped."""
    entry = _restricted(_person("Kari", cards=["CARD-1"]))
    charger = await connect(
        entry, stop_tx_on_unplug=False, stop_tx_on_unplug_writable=False
    )
    await charger.start_transaction("CARD-1")
    await _until(hass, lambda: charger.status == "Charging")
    charger.unplug()
    # Stopped as the cable comes out, before another car can take it over.
    await _until(hass, lambda: bool(charger.received_calls("RemoteStopTransaction")))
    ledger = entry.runtime_data.sessions.ledger
    await _until(hass, lambda: all(s.stopped for s in ledger))
    # The neighbour's car on the cable: no session on Kari's card.
    charger.plug_in()
    await _until(hass, lambda: charger.status == "Preparing")
    await hass.async_block_till_done()
    assert len(list(ledger)) == 1


async def test_a_changed_phone_no_longer_unlocks(
    hass: HomeAssistant, connect: Callable[..., Any], proxy: Proxy
) -> None:
    """Give the person another phone: the old one, still heard, is nobody's."""
    entry = _restricted(_person("Kari", phone=f"{BEACON.uuid}_100_1"))
    await connect(entry)
    proxy.hear(PHONE_ADDRESS, -55, {0x004C: ibeacon_data(BEACON)})
    await _look(hass)
    assert _lock(hass) == "on"
    kari = next(s for s in entry.subentries.values() if s.title == "Kari")
    other = "0b1c2d3e-4f50-4617-8293-a4b5c6d7e8f9_1_2"
    hass.config_entries.async_update_subentry(
        entry, kari, data={**kari.data, "phone": other}
    )
    await hass.async_block_till_done()
    proxy.hear(PHONE_ADDRESS, -55, {0x004C: ibeacon_data(BEACON)})
    await _look(hass)
    assert _lock(hass) == "off"
