"""Phones near a place's restricted chargers, through Home Assistant's Bluetooth.

Advertisements come from HA's Bluetooth integration — a local adapter or an
ESPHome/Shelly proxy alike. An iBeacon (the Companion app's BLE transmitter,
or a tag) is recognised by its UUID, major and minor; a Private BLE Device by
its IRK, which resolves the phone's rotating address. A person may instead (or
as well) have a presence entity: a distance sensor, or a tracker at home.

HA calls back only when an advertisement's data changes, so the callback
learns which addresses are whose, and a look every few seconds reads how
strongly each scanner hears them (as HA's ibeacon integration does). A
charger can name the scanner mounted near it; then only that one counts.
Each look goes through the hysteresis in ``logic/proximity.py``; a change of
near/away is handed to the charger (``charger_access.py``), which unlocks or
locks.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
import logging
from typing import TYPE_CHECKING, Any, Final

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers.event import async_track_time_interval
from homeassistant.util import dt as dt_util

from ..logic.access import AccessMode, Person
from ..logic.proximity import (
    CONF_PROXIMITY,
    CONF_SCANNER,
    IBeaconId,
    Irk,
    Presence,
    distance_m,
    entity_distance,
    ibeacon_of,
    observe,
    thresholds_from,
)
from .charger_access import access_mode, people_of

if TYPE_CHECKING:
    from .charger import ChargerCoordinator

_LOGGER = logging.getLogger(__name__)

# How often the phones are looked at (HA calls back on changed data only).
LOOK_INTERVAL: Final = timedelta(seconds=2)
# An address not heard for this long counts as not heard (phones advertise
# about once a second; proxies that scan passively miss some).
HEARD_WITHIN_S: Final = 20.0
# Addresses no IRK resolved, forgotten now and then (they rotate anyway).
_MAX_IGNORED: Final = 4096


class PlacePhones:
    """Who is near each of a place's restricted chargers."""

    def __init__(
        self,
        hass: HomeAssistant,
        entry: ConfigEntry,
        chargers: Iterable[ChargerCoordinator],
    ) -> None:
        """Watch for the phones of a place's people at its restricted chargers."""
        self._hass = hass
        self._entry = entry
        self._stations = [charger for charger in chargers if charger.is_station]
        self._people: list[Person] = []
        # (charger key, person key) → presence.
        self._presence: dict[tuple[str, str], Presence] = {}
        # Address → (person key, the iBeacon's measured power or None).
        self._addresses: dict[str, tuple[str, int | None]] = {}
        self._ignored: set[str] = set()
        self._ciphers: list[tuple[str, Any]] = []
        self._stops: list[CALLBACK_TYPE] = []

    @callback
    def async_start(self) -> CALLBACK_TYPE:
        """Begin watching (if any restricted charger has people with phones)."""
        self.async_refresh()
        return self.async_stop

    @callback
    def async_refresh(self) -> None:
        """Read the people and chargers again (a person or charger changed)."""
        self.async_stop()
        before = {person.key: person.phone for person in self._people}
        self._people = [
            person
            for person in people_of(self._entry)
            if person.phone is not None or person.phone_entity is not None
        ]
        watched = {person.key for person in self._people}
        self._presence = {
            key: presence
            for key, presence in self._presence.items()
            if key[1] in watched
        }
        # An address learned for a phone he no longer has is not his.
        same_phone = {
            person.key
            for person in self._people
            if person.key in before and before[person.key] == person.phone
        }
        self._addresses = {
            address: owner
            for address, owner in self._addresses.items()
            if owner[0] in same_phone
        }
        if not self._people or not any(
            access_mode(charger) is AccessMode.RESTRICTED for charger in self._stations
        ):
            return
        if any(person.phone is not None for person in self._people):
            self._listen_bluetooth()
        self._stops.append(
            async_track_time_interval(self._hass, self._look, LOOK_INTERVAL)
        )

    @callback
    def async_stop(self) -> None:
        """Stop watching."""
        while self._stops:
            self._stops.pop()()

    def near(self, charger: ChargerCoordinator) -> list[str]:
        """The people (keys) whose phones are near a charger now."""
        return [
            person
            for (key, person), presence in self._presence.items()
            if key == charger.key and presence.near
        ]

    # Bluetooth

    def _listen_bluetooth(self) -> None:
        if "bluetooth" not in self._hass.config.components:
            _LOGGER.warning(
                "Phones are set for %s but Bluetooth is not set up in Home Assistant",
                self._entry.title,
            )
            return
        # Imported only where phones are set: HA installs Bluetooth's
        # requirements with its Bluetooth integration, not for everyone.
        from bluetooth_data_tools import get_cipher_for_irk  # noqa: PLC0415

        from homeassistant.components import bluetooth  # noqa: PLC0415

        self._ciphers = [
            (person.key, get_cipher_for_irk(person.phone.key))
            for person in self._people
            if isinstance(person.phone, Irk)
        ]
        self._ignored.clear()
        self._stops.append(
            bluetooth.async_register_callback(
                self._hass,
                self._advertised,
                bluetooth.BluetoothCallbackMatcher(connectable=False),
                bluetooth.BluetoothScanningMode.PASSIVE,
            )
        )

    @callback
    def _advertised(self, service_info: Any, _change: Any) -> None:
        """Learn whose an address is: by the iBeacon it carries, or by an IRK."""
        address: str = service_info.address
        if address in self._ignored:
            return
        if (beacon := ibeacon_of(service_info.manufacturer_data)) is not None:
            advertised, power = beacon
            for person in self._people:
                if isinstance(person.phone, IBeaconId) and person.phone.matches(
                    advertised
                ):
                    self._addresses[address] = (person.key, power)
                    return
        if address in self._addresses:
            return
        if self._ciphers:
            from bluetooth_data_tools import resolve_private_address  # noqa: PLC0415

            for person_key, cipher in self._ciphers:
                if resolve_private_address(cipher, address):
                    self._addresses[address] = (person_key, None)
                    return
        if len(self._ignored) >= _MAX_IGNORED:
            self._ignored.clear()
        self._ignored.add(address)

    def _bluetooth_distance(self, person: Person, scanner: str | None) -> float | None:
        """The nearest a scanner (the charger's, or any) hears the person's phone."""
        if not self._addresses or "bluetooth" not in self._hass.config.components:
            return None
        from bluetooth_data_tools import monotonic_time_coarse  # noqa: PLC0415

        from homeassistant.components import bluetooth  # noqa: PLC0415

        now = monotonic_time_coarse()
        distances: list[float] = []
        gone: list[str] = []
        for address, (owner, power) in self._addresses.items():
            if owner != person.key:
                continue
            devices = bluetooth.async_scanner_devices_by_address(
                self._hass, address, connectable=False
            )
            if not devices:
                # No scanner holds it any more (a rotated address): forget it.
                gone.append(address)
            for device in devices:
                if scanner and device.scanner.source != scanner:
                    continue
                heard = device.scanner.discovered_device_timestamps.get(address)
                if heard is None or now - heard > HEARD_WITHIN_S:
                    continue
                advertisement = device.advertisement
                distances.append(
                    distance_m(advertisement.rssi, power or advertisement.tx_power)
                )
        for address in gone:
            del self._addresses[address]
        return min(distances, default=None)

    # Looking

    def _entity_distance(self, person: Person) -> float | None:
        if person.phone_entity is None:
            return None
        state = self._hass.states.get(person.phone_entity)
        if state is None:
            return None
        return entity_distance(
            state.domain, state.state, state.attributes.get("unit_of_measurement")
        )

    @callback
    def _look(self, _now: datetime | None = None) -> None:
        """Look at every phone at every restricted charger; tell those that turned."""
        now = dt_util.utcnow()
        turned: list[ChargerCoordinator] = []
        for charger in self._stations:
            if access_mode(charger) is not AccessMode.RESTRICTED:
                continue
            subentry = charger.config_entry.subentries.get(charger.subentry_id)
            if subentry is None:
                continue
            proximity = subentry.data.get(CONF_PROXIMITY) or {}
            thresholds = thresholds_from(proximity)
            scanner = proximity.get(CONF_SCANNER) or None
            changed = False
            for person in self._people:
                if charger.config.charge_point_id not in person.chargers:
                    continue
                distances = [
                    distance
                    for distance in (
                        self._bluetooth_distance(person, scanner)
                        if person.phone is not None
                        else None,
                        self._entity_distance(person),
                    )
                    if distance is not None
                ]
                key = (charger.key, person.key)
                before = self._presence.get(key, Presence())
                after = observe(before, now, min(distances, default=None), thresholds)
                self._presence[key] = after
                changed |= after.near != before.near
            if changed:
                turned.append(charger)
        for charger in turned:
            charger.access.presence_changed()
