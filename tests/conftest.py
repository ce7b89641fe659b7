"""Shared fixtures for homecharge tests."""

from __future__ import annotations

import socket
from typing import Any

import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.homecharge.const import DOMAIN
from homeassistant.core import HomeAssistant, ServiceCall
from tests.mosquitto import mosquitto_broker  # noqa: F401 - a fixture for other modules

# Loaded once this module is (it reads PLACE_DATA below, through test_central).
pytest_plugins = ["tests.access_fixtures"]

PLACE_DATA: dict[str, Any] = {
    "name": "Home",
    "country": "NO",
    "price_area": "NO1",
    "cost_basis": "spot",
    "main_fuse": 63.0,
    "grid_type": "3p_230_it",
}


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(enable_custom_integrations: None) -> None:
    """Let Home Assistant load custom_components/homecharge."""


@pytest.fixture(autouse=True)
def ocpp_server_on_free_port(
    socket_enabled: None, hass_storage: dict[str, Any]
) -> None:
    """Every place starts the real OCPP server: on loopback, on a free port.

    A fixed port, as in a real installation: a reloaded place gets its server
    back where its chargers reconnect.
    """
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    hass_storage["homecharge.server"] = {
        "version": 1,
        "minor_version": 1,
        "key": "homecharge.server",
        "data": {"host": "127.0.0.1", "port": port},
    }


@pytest.fixture
def place_entry() -> MockConfigEntry:
    """A place as the config flow would create it."""
    return MockConfigEntry(domain=DOMAIN, title="Home", data=dict(PLACE_DATA))


@pytest.fixture
def phone(hass: HomeAssistant) -> list[ServiceCall]:
    """A driver's phone (a Companion app's notify service): what it was sent."""
    sent: list[ServiceCall] = []

    async def keep(call: ServiceCall) -> None:
        sent.append(call)

    hass.services.async_register("notify", "mobile_app_karis_phone", keep)
    return sent
