"""The OCPP server: who may connect, with which protocol, and its lifetime."""

from __future__ import annotations

from datetime import timedelta
import socket
from typing import Any

import aiohttp
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
)

from custom_components.homecharge.central.identity import (
    charge_point_id_from_path,
    valid_charge_point_id,
)
from custom_components.homecharge.central.server import (
    CENTRAL,
    IDLE_STOP_S,
    choose_subprotocol,
    password_matches,
)
from custom_components.homecharge.const import DOMAIN
from homeassistant.config_entries import ConfigEntryState, ConfigSubentryData
from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util

from .conftest import PLACE_DATA
from .simulators.raw import RawCharger

PASSWORD = "0123456789abcdef0123456789abcdef01234567"  # noqa: S105


# A flat grid tariff and no capacity tariff: plans that charge at once.
FLAT_TARIFF: dict[str, Any] = {
    "grid_day_price": 0.0,
    "grid_night_price": 0.0,
    "capacity_tariff": False,
}


def place_with_charger(
    charge_point_id: str = "CP-1",
    password: str | None = PASSWORD,
    title: str = "Home",
    options: dict[str, Any] | None = None,
    **data: Any,
) -> MockConfigEntry:
    """
    A place with one registered charger.

    Its grid tariff is flat and it has no capacity tariff unless ``options``
    say otherwise, so smart charging charges at once whatever the hour (a
    Norwegian place's default, Elvia's day and night prices, made the tests
    that expect charging depend on the hour they ran).
    """
    return MockConfigEntry(
        domain=DOMAIN,
        title=title,
        data={**PLACE_DATA, **data},
        options=FLAT_TARIFF if options is None else options,
        subentries_data=[
            ConfigSubentryData(
                data={
                    "charge_point_id": charge_point_id,
                    "circuit_fuse": 32.0,
                    "phases": 3,
                    "connectors": 1,
                    "password": password,
                },
                subentry_type="charger",
                title="Garage",
                unique_id=charge_point_id,
            )
        ],
    )


async def _setup(hass: HomeAssistant, entry: MockConfigEntry) -> str:
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    return f"ws://127.0.0.1:{hass.data[CENTRAL].port}"


async def _status(url: str, **kwargs: Any) -> int:
    """The HTTP status of a websocket upgrade (101 when it is accepted)."""
    async with aiohttp.ClientSession() as client:
        try:
            async with client.ws_connect(url, **kwargs) as websocket:
                await websocket.close()
                return 101
        except aiohttp.WSServerHandshakeError as err:
            return err.status


async def test_unknown_charger_is_refused(hass: HomeAssistant) -> None:
    """Only registered chargers connect while no place accepts new ones."""
    url = await _setup(hass, place_with_charger())
    assert await _status(f"{url}/STRANGER", protocols=("ocpp1.6",)) == 404


async def test_password_is_required(hass: HomeAssistant) -> None:
    """Security profile 1: HTTP Basic with the charger's id and password."""
    url = await _setup(hass, place_with_charger())
    assert await _status(f"{url}/CP-1", protocols=("ocpp1.6",)) == 401
    wrong = aiohttp.BasicAuth("CP-1", "guess")
    assert await _status(f"{url}/CP-1", protocols=("ocpp1.6",), auth=wrong) == 401
    other = aiohttp.BasicAuth("CP-2", PASSWORD)
    assert await _status(f"{url}/CP-1", protocols=("ocpp1.6",), auth=other) == 401
    right = aiohttp.BasicAuth("CP-1", PASSWORD)
    assert await _status(f"{url}/CP-1", protocols=("ocpp1.6",), auth=right) == 101
    # Chargers that want a base URL append their id to it.
    assert await _status(f"{url}/ocpp/CP-1", protocols=("ocpp1.6",), auth=right) == 101


async def test_subprotocols(hass: HomeAssistant) -> None:
    """1.6 or 2.0.1 by subprotocol, 1.6 by default; others are refused."""
    url = await _setup(hass, place_with_charger(password=None))
    assert await _status(f"{url}/CP-1") == 101
    assert await _status(f"{url}/CP-1", protocols=("ocpp0.9",)) == 400
    assert await _status(f"{url}/CP-1", protocols=("ocpp2.0.1",)) == 101
    async with (
        aiohttp.ClientSession() as client,
        client.ws_connect(f"{url}/CP-1", protocols=("ocpp0.9", "ocpp1.6")) as websocket,
    ):
        assert websocket.protocol == "ocpp1.6"


async def test_server_shared_and_stopped_with_the_last_place(
    hass: HomeAssistant,
) -> None:
    """One server for all places, stopped when the last one unloads."""
    first = place_with_charger("CP-1")
    second = place_with_charger("CP-2", title="Cabin")
    await _setup(hass, first)
    central = hass.data[CENTRAL]
    await _setup(hass, second)
    assert hass.data[CENTRAL] is central
    assert central.users == {first.entry_id, second.entry_id}

    assert await hass.config_entries.async_unload(first.entry_id)
    assert hass.data[CENTRAL] is central
    assert await hass.config_entries.async_unload(second.entry_id)
    # No place uses it: it stops a while later, unless one comes back.
    assert hass.data[CENTRAL] is central
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=IDLE_STOP_S + 1))
    await hass.async_block_till_done()
    assert CENTRAL not in hass.data


async def test_a_reload_disconnects_no_charger(hass: HomeAssistant) -> None:
    """Reloading the only place (a charger added, an entity enabled) keeps the server.

    The charger's socket stays open through the reload, and the reloaded
    place takes it over without a reconnect.
    """
    entry = place_with_charger("RAW-1")
    url = await _setup(hass, entry)
    central = hass.data[CENTRAL]
    raw = RawCharger(url, "RAW-1", PASSWORD)
    await raw.connect()
    try:
        await raw.boot()
        assert await hass.config_entries.async_reload(entry.entry_id)
        await hass.async_block_till_done()
        assert hass.data[CENTRAL] is central
        assert not raw.closed
        # The reloaded place has the charger, live, on the same socket.
        charger = next(iter(entry.runtime_data.chargers.values()))
        await raw.wait_for(lambda: charger.session is not None)
        assert (await raw.call("Heartbeat", {}) or [None])[0] == 3
        async_fire_time_changed(
            hass, dt_util.utcnow() + timedelta(seconds=IDLE_STOP_S + 1)
        )
        await hass.async_block_till_done()
        assert hass.data[CENTRAL] is central
        assert not raw.closed
    finally:
        await raw.close()


async def test_busy_port_retries_setup(
    hass: HomeAssistant, hass_storage: dict[str, Any]
) -> None:
    """A port in use: the place retries later and says why."""
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        hass_storage["homecharge.server"]["data"]["port"] = busy.getsockname()[1]
        entry = place_with_charger()
        entry.add_to_hass(hass)
        await hass.config_entries.async_setup(entry.entry_id)
        await hass.async_block_till_done()
        assert entry.state is ConfigEntryState.SETUP_RETRY
        assert entry.error_reason_translation_key == "server_failed"
    assert CENTRAL not in hass.data


@pytest.mark.parametrize(
    ("header", "protocol"),
    [
        (None, "ocpp1.6"),
        ("ocpp1.6", "ocpp1.6"),
        ("ocpp2.0, ocpp1.6", "ocpp1.6"),
        ("ocpp2.0.1, ocpp1.6", "ocpp2.0.1"),
        ("ocpp1.5", None),
        ("", None),
    ],
)
def test_choose_subprotocol(header: str | None, protocol: str | None) -> None:
    """The charger's first supported choice."""
    assert choose_subprotocol(header) == protocol


@pytest.mark.parametrize(
    ("path", "identity"),
    [
        ("/CP-1", "CP-1"),
        ("/ocpp/CP-1/", "CP-1"),
        ("/EVB%20P2", "EVB P2"),
        ("/", None),
        ("/" + "x" * 49, None),
        ("/bad%0Aid", None),
        # Decoded once: an encoded slash is a slash, and refused.
        ("/CP%2F1", None),
        ("/ocpp/CP%252F1", "CP%2F1"),
        ("/CP%5C1", None),
        # A dot segment anywhere is a traversal attempt, not a charger.
        ("/ocpp/../../etc/passwd", None),
        ("/ocpp/%2E%2E/passwd", None),
        ("/..", None),
        ("/CP-1?x=1", "CP-1"),
        ("/%20CP-1", None),
    ],
)
def test_charge_point_id_from_path(path: str, identity: str | None) -> None:
    """The last raw path segment, decoded once; anything path-like refused."""
    assert charge_point_id_from_path(path) == identity
    if identity is not None:
        assert valid_charge_point_id(identity)


@pytest.mark.parametrize(
    "identity",
    ["CP/1", "CP\\1", "..", ".", "", " CP", "CP\t1", "x" * 49, "CP\x7f"],
)
def test_invalid_identities(identity: str) -> None:
    """One rule for the URL, the add form and discovery."""
    assert not valid_charge_point_id(identity)


def test_password_matches() -> None:
    """Garbage authorization headers never match."""
    good = aiohttp.BasicAuth("CP-1", "pw").encode()
    assert password_matches(good, "CP-1", "pw")
    assert not password_matches(good, "CP-1", "other")
    assert not password_matches(None, "CP-1", "pw")
    assert not password_matches("Basic !!!", "CP-1", "pw")
    assert not password_matches("Bearer abc", "CP-1", "pw")
