"""Shared fixtures for homecharge tests."""

from __future__ import annotations

from typing import Any

import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.homecharge.const import DOMAIN

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


@pytest.fixture
def place_entry() -> MockConfigEntry:
    """A place as the config flow would create it."""
    return MockConfigEntry(domain=DOMAIN, title="Home", data=dict(PLACE_DATA))
