"""A Bluetooth proxy for the demo, fed over MQTT (development only).

It registers with Home Assistant's Bluetooth manager the way an ESPHome proxy
does (a remote scanner) and, while the demo phone is "near", hands HA the
renter's iBeacon (the Companion app's BLE transmitter) every second; "away"
stops it (the phone is no longer heard). Switch it from a terminal:

    .venv/bin/python -m tests.simulators.phone --port 18830 near
    .venv/bin/python -m tests.simulators.phone --port 18830 away
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from uuid import UUID

from bluetooth_data_tools import monotonic_time_coarse
from habluetooth import BaseHaRemoteScanner

from homeassistant.components import mqtt
from homeassistant.components.bluetooth import async_register_scanner
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.event import async_track_time_interval
from homeassistant.helpers.typing import ConfigType

DOMAIN = "homecharge_demo_phone"
TOPIC = "homecharge-dev/phone"
PROXY = "0A:DE:00:00:00:01"
PHONE = "5C:DE:00:00:00:01"
# The demo renter's phone (dev/config's person "Cabin renter").
UUID_ = UUID("4a5e2d3c-8f7b-4c1a-9e6d-2b3c4d5e6f70")
MAJOR, MINOR, POWER = 100, 1, -59


def _ibeacon() -> bytes:
    return (
        b"\x02\x15"
        + UUID_.bytes
        + MAJOR.to_bytes(2, "big")
        + MINOR.to_bytes(2, "big")
        + (POWER & 0xFF).to_bytes(1, "big")
    )


class DemoProxy(BaseHaRemoteScanner):
    """A remote scanner that hears the demo phone while it is near."""


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:
    """Register the proxy and follow the phone's near/away over MQTT."""
    scanner = DemoProxy(PROXY, "Demo proxy", None, False)
    scanner.async_setup()
    async_register_scanner(hass, scanner)
    near = {"now": False}

    @callback
    def advertise(_now: Any = None) -> None:
        if near["now"]:
            scanner._async_on_advertisement(  # noqa: SLF001 - as a proxy delivers it
                PHONE,
                -55,
                None,
                [],
                {},
                {0x004C: _ibeacon()},
                None,
                {},
                monotonic_time_coarse(),
            )

    @callback
    def received(message: mqtt.ReceiveMessage) -> None:
        near["now"] = str(message.payload).strip().lower() == "near"
        advertise()

    await mqtt.async_subscribe(hass, TOPIC, received)
    async_track_time_interval(hass, advertise, timedelta(seconds=1))
    return True
