"""Whether a person's phone is near a charger: identities, distance, hysteresis.

A phone is recognised the ways Home Assistant's Bluetooth integration already
supports — an iBeacon (the Companion app's BLE transmitter, or a tag: UUID,
major and minor) or a Private BLE Device (an IRK, for phones whose address
rotates) — or by a presence entity the user already has (a distance sensor
from ibeacon, private_ble_device or Bermuda; a device tracker or person at
home). These are the decisions only: what a typed identity is, how far an
advertisement's strength says the phone is, and when a phone counts as near
and as away again.

Near and away are apart on purpose (hysteresis): a phone is near once it has
stayed within the near distance for the near time, and away once it has
stayed beyond the away distance — or unheard — for the away time. A phone
at the edge does not lock and unlock the charger every few seconds.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
import re
from typing import Final
from uuid import UUID

CONF_PHONE: Final = "phone"
CONF_PHONE_ENTITY: Final = "phone_entity"
CONF_PROXIMITY: Final = "proximity"
CONF_NEAR_DISTANCE: Final = "near_distance"
CONF_NEAR_SECONDS: Final = "near_seconds"
CONF_AWAY_DISTANCE: Final = "away_distance"
CONF_AWAY_SECONDS: Final = "away_seconds"
CONF_SCANNER: Final = "bluetooth_scanner"

# Entities that can say a phone is near: a distance, or home / on.
PRESENCE_DOMAINS: Final = ("sensor", "device_tracker", "person", "binary_sensor")
APPLE_COMPANY_ID: Final = 0x004C
# An iBeacon in Apple's manufacturer data: type 0x02, length 0x15 (21 bytes).
_IBEACON_PREFIX: Final = b"\x02\x15"
# Measured power at 1 m when an advertisement does not say (a phone's typical).
DEFAULT_POWER_DBM: Final = -59
# The formula's range ends about here; a weaker signal is "far".
MAX_DISTANCE_M: Final = 400.0
_IBEACON_TEXT: Final = re.compile(
    r"(?P<uuid>[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})"
    r"(?:[\s_:/,]+(?P<major>\d{1,5})[\s_:/,]+(?P<minor>\d{1,5}))?",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class IBeaconId:
    """An iBeacon: its UUID, and major and minor (None: any)."""

    uuid: UUID
    major: int | None = None
    minor: int | None = None

    def matches(self, beacon: IBeaconId) -> bool:
        """Whether an advertised beacon is this one."""
        return (
            beacon.uuid == self.uuid
            and self.major in (None, beacon.major)
            and self.minor in (None, beacon.minor)
        )


@dataclass(frozen=True, slots=True)
class Irk:
    """A Bluetooth identity resolving key (16 bytes), for rotating addresses."""

    key: bytes


type PhoneId = IBeaconId | Irk


def parse_phone(text: object) -> PhoneId | None:
    """
    A typed Bluetooth identity, or None if it is not one.

    An iBeacon as UUID, major and minor (``uuid_major_minor`` as HA's
    ibeacon integration names it, or separated by spaces; the UUID with its
    dashes); a UUID alone matches any major and minor. An IRK as 32 hex
    digits without dashes (``irk:`` prefix
    allowed) or in the base64 form iOS keeps it (reversed bytes), as HA's
    Private BLE Device accepts it.
    """
    value = str(text or "").strip()
    if not value:
        return None
    if match := _IBEACON_TEXT.fullmatch(value):
        major, minor = match["major"], match["minor"]
        if major is not None and (int(major) > 0xFFFF or int(minor) > 0xFFFF):
            return None
        return IBeaconId(
            UUID(match["uuid"]),
            int(major) if major is not None else None,
            int(minor) if minor is not None else None,
        )
    key = value.removeprefix("irk:")
    try:
        raw = (
            bytes(reversed(base64.b64decode(key, validate=True)))
            if key.endswith("=")
            else binascii.unhexlify(key)
        )
    except (binascii.Error, ValueError):
        return None
    return Irk(raw) if len(raw) == 16 else None


def ibeacon_of(manufacturer_data: dict[int, bytes]) -> tuple[IBeaconId, int] | None:
    """The iBeacon an advertisement carries, with its measured power (dBm)."""
    data = manufacturer_data.get(APPLE_COMPANY_ID)
    if data is None or len(data) < 23 or not data.startswith(_IBEACON_PREFIX):
        return None
    power = data[22] - 256 if data[22] > 127 else data[22]
    return (
        IBeaconId(
            UUID(bytes=bytes(data[2:18])),
            int.from_bytes(data[18:20], "big"),
            int.from_bytes(data[20:22], "big"),
        ),
        power,
    )


def ibeacon_data(beacon: IBeaconId, power: int = DEFAULT_POWER_DBM) -> bytes:
    """Apple manufacturer data that advertises an iBeacon (simulators, tests)."""
    return (
        _IBEACON_PREFIX
        + beacon.uuid.bytes
        + (beacon.major or 0).to_bytes(2, "big")
        + (beacon.minor or 0).to_bytes(2, "big")
        + (power & 0xFF).to_bytes(1, "big")
    )


def distance_m(rssi: int, power: int | None) -> float:
    """
    How far a transmitter is, from its signal strength and its power at 1 m.

    The Android Beacon Library's fit, the one HA's ibeacon integration shows
    as distance, so a user's distance sensor and ours agree.
    """
    measured = power if power and power < 0 else DEFAULT_POWER_DBM
    if rssi >= 0:
        return MAX_DISTANCE_M
    ratio = rssi / measured
    distance = ratio**10 if ratio < 1.0 else 0.89976 * ratio**7.7095 + 0.111
    return min(distance, MAX_DISTANCE_M)


@dataclass(frozen=True, slots=True)
class Thresholds:
    """When a phone counts as near a charger, and as away again."""

    near_m: float = 5.0
    near_s: float = 10.0
    away_m: float = 10.0
    away_s: float = 60.0

    def __post_init__(self) -> None:
        """Away must be at least as far as near, or the hysteresis is gone."""
        if self.away_m < self.near_m:
            object.__setattr__(self, "away_m", self.near_m)


# What the form accepts: metres and seconds a phone near a charger can mean.
MAX_DISTANCE_SETTING: Final = 100.0
MAX_SECONDS_SETTING: Final = 3600.0


def proximity_error(data: Mapping[str, object]) -> str | None:
    """Why a charger's near/away settings cannot be used (a translation key)."""
    thresholds = {
        key: data.get(key)
        for key in (
            CONF_NEAR_DISTANCE,
            CONF_AWAY_DISTANCE,
            CONF_NEAR_SECONDS,
            CONF_AWAY_SECONDS,
        )
        if data.get(key) is not None
    }
    for key, value in thresholds.items():
        limit = (
            MAX_DISTANCE_SETTING if key.endswith("distance") else MAX_SECONDS_SETTING
        )
        if not isinstance(value, (int, float)) or not 0 <= float(value) <= limit:
            return "proximity_out_of_range"
    near = thresholds.get(CONF_NEAR_DISTANCE, Thresholds().near_m)
    away = thresholds.get(CONF_AWAY_DISTANCE, Thresholds().away_m)
    if float(away) < float(near):  # type: ignore[arg-type]
        return "away_nearer_than_near"
    return None


def proximity_data(data: Mapping[str, object]) -> dict[str, object]:
    """A charger's near/away settings to store (numbers as numbers)."""
    stored: dict[str, object] = {
        key: float(value)
        for key in (
            CONF_NEAR_DISTANCE,
            CONF_NEAR_SECONDS,
            CONF_AWAY_DISTANCE,
            CONF_AWAY_SECONDS,
        )
        if isinstance(value := data.get(key), (int, float))
    }
    if scanner := str(data.get(CONF_SCANNER) or "").strip().upper():
        stored[CONF_SCANNER] = scanner
    return stored


def thresholds_from(data: Mapping[str, object] | None) -> Thresholds:
    """A charger's thresholds from its stored settings (defaults where unset)."""
    stored = data or {}
    default = Thresholds()

    def number(key: str, fallback: float) -> float:
        value = stored.get(key)
        return float(value) if isinstance(value, (int, float)) else fallback

    return Thresholds(
        near_m=number(CONF_NEAR_DISTANCE, default.near_m),
        near_s=number(CONF_NEAR_SECONDS, default.near_s),
        away_m=number(CONF_AWAY_DISTANCE, default.away_m),
        away_s=number(CONF_AWAY_SECONDS, default.away_s),
    )


@dataclass(frozen=True, slots=True)
class Presence:
    """A phone at a charger: near or not, and since when it looks otherwise."""

    near: bool = False
    # When the phone began to look the other way (None: it does not).
    turning_since: datetime | None = None


def observe(
    presence: Presence,
    moment: datetime,
    distance: float | None,
    thresholds: Thresholds,
) -> Presence:
    """
    The presence after one look at the phone (``distance`` None: not heard).

    Near takes ``near_s`` within ``near_m``; away takes ``away_s`` beyond
    ``away_m`` or unheard. A look the other way resets the clock.
    """
    if presence.near:
        turning = distance is None or distance > thresholds.away_m
        hold = thresholds.away_s
    else:
        turning = distance is not None and distance <= thresholds.near_m
        hold = thresholds.near_s
    if not turning:
        return replace(presence, turning_since=None)
    since = presence.turning_since or moment
    if moment - since >= timedelta(seconds=hold):
        return Presence(near=not presence.near)
    return Presence(near=presence.near, turning_since=since)


def due(presence: Presence, thresholds: Thresholds) -> datetime | None:
    """When the presence turns if the phone keeps looking as it does now."""
    if presence.turning_since is None:
        return None
    hold = thresholds.away_s if presence.near else thresholds.near_s
    return presence.turning_since + timedelta(seconds=hold)


def entity_distance(domain: str, state: str, unit: str | None) -> float | None:
    """
    How far a presence entity says the phone is (None: away or unknown).

    A distance sensor gives metres (ft, km, mi converted); a device
    tracker, person or binary sensor that is home / on counts as at the
    charger (0 m) — such an entity cannot tell the driveway from the sofa,
    so it suits a charger where home means near.
    """
    if domain == "sensor":
        try:
            value = float(state)
        except ValueError:
            return None
        scale = {"m": 1.0, "cm": 0.01, "km": 1000.0, "ft": 0.3048, "mi": 1609.344}
        factor = scale.get(unit or "m")
        return value * factor if factor is not None else None
    if domain in ("device_tracker", "person"):
        return 0.0 if state == "home" else None
    if domain == "binary_sensor":
        return 0.0 if state == "on" else None
    return None
