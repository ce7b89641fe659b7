"""The place's dashboard: built-in cards only, saved as a storage dashboard.

Home Assistant's own lovelace integration keeps it: the action's dashboard
is listed and served by the same websocket commands the frontend uses, and
its cards name entities that exist.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import WebSocketGenerator

from custom_components.homecharge.const import DOMAIN
from custom_components.homecharge.logic.dashboard import (
    LABELS,
    ChargerCards,
    PlaceCards,
    dashboard_config,
)
from custom_components.homecharge.runtime.dashboard import dashboard_path
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.setup import async_setup_component

from .test_smart_charging import price_list, set_prices, smart_place

BUILT_IN = {
    "heading",
    "tile",
    "gauge",
    "history-graph",
    "calendar",
    "statistics-graph",
    "grid",
}


def _cards(config: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for view in config["views"]:
        for section in view["sections"]:
            assert section["type"] == "grid"
            yield from section["cards"]


def _entities(card: dict[str, Any]) -> list[str]:
    found = [card["entity"]] if "entity" in card else []
    return found + [
        item if isinstance(item, str) else item["entity"]
        for item in card.get("entities", [])
    ]


async def _place(hass: HomeAssistant) -> MockConfigEntry:
    """Home with CP-1 (Garage), a per-phase meter and prices."""
    for phase in ("l1", "l2", "l3"):
        hass.states.async_set(f"sensor.{phase}", "10", {"unit_of_measurement": "A"})
    set_prices(hass, price_list())
    entry = smart_place(
        meter_source="entities",
        meter_l1="sensor.l1",
        meter_l2="sensor.l2",
        meter_l3="sensor.l3",
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    return entry


@pytest.fixture
async def lovelace(hass: HomeAssistant) -> None:
    """Home Assistant's dashboards, in storage mode (the default)."""
    assert await async_setup_component(hass, "lovelace", {})


async def _create(hass: HomeAssistant, entry: MockConfigEntry) -> dict[str, Any]:
    response = await hass.services.async_call(
        DOMAIN,
        "create_dashboard",
        {"config_entry_id": entry.entry_id},
        blocking=True,
        return_response=True,
    )
    assert response is not None
    return dict(response)


async def test_the_dashboard_is_made_once_and_kept_up_to_date(
    hass: HomeAssistant, lovelace: None, hass_ws_client: WebSocketGenerator
) -> None:
    entry = await _place(hass)
    assert await _create(hass, entry) == {
        "url_path": "homecharge-home",
        "created": True,
    }
    client = await hass_ws_client(hass)
    await client.send_json_auto_id({"type": "lovelace/dashboards/list"})
    listed = (await client.receive_json())["result"]
    (ours,) = [d for d in listed if d["url_path"] == "homecharge-home"]
    assert ours["title"] == "Charging — Home"
    assert ours["mode"] == "storage"
    assert ours["show_in_sidebar"] is True
    await client.send_json_auto_id(
        {"type": "lovelace/config", "url_path": "homecharge-home"}
    )
    config = (await client.receive_json())["result"]

    cards = list(_cards(config))
    assert {card["type"] for card in cards} <= BUILT_IN
    # Every entity a card names exists.
    named = [entity for card in cards for entity in _entities(card)]
    missing = [
        e for e in named if not e.startswith("homecharge:") and not hass.states.get(e)
    ]
    assert missing == []
    # The charger: status, start/stop and smart charging with a toggle, ready by.
    garage = config["views"][0]["sections"][0]["cards"]
    assert garage[0] == {
        "type": "heading",
        "heading": "Garage",
        "icon": "mdi:ev-station",
    }
    tiles = {card["entity"]: card for card in garage[1:]}
    assert {
        "sensor.garage_status",
        "switch.garage_charging",
        "time.garage_ready_by",
    } <= set(tiles)
    assert tiles["switch.garage_charging"]["features"] == [{"type": "toggle"}]
    assert tiles["switch.garage_smart_charging"]["features"] == [{"type": "toggle"}]
    # The load on each phase against the 40 A main fuse.
    gauges = [card for card in cards if card["type"] == "gauge"]
    assert [g["entity"] for g in gauges] == [
        f"sensor.home_grid_current_{phase}" for phase in ("l1", "l2", "l3")
    ]
    fuse = float(hass.states.get("number.home_main_fuse").state)  # type: ignore[union-attr]
    assert {g["max"] for g in gauges} == {round(fuse)}
    # History from the sessions' long-term statistics, per day and month.
    graphs = [card for card in cards if card["type"] == "statistics-graph"]
    place_id = entry.entry_id.lower()
    assert [(g["period"], g["entities"]) for g in graphs] == [
        (period, [{"entity": f"homecharge:{place_id}_{kind}", "name": name}])
        for period in ("day", "month")
        for kind, name in (("energy", "Energy"), ("cost", "Cost"))
    ]
    # A tile under its charger's heading is named without the charger's name.
    assert tiles["sensor.garage_status"]["name"] == "Status"
    assert [g["name"] for g in gauges] == ["L1", "L2", "L3"]
    calendar = next(card for card in cards if card["type"] == "calendar")
    assert calendar["entities"] == [
        "calendar.home_charging_plan",
        "calendar.home_charging_sessions",
    ]

    # Again: the same dashboard, updated in place (no second one).
    assert await _create(hass, entry) == {
        "url_path": "homecharge-home",
        "created": False,
    }
    await client.send_json_auto_id({"type": "lovelace/dashboards/list"})
    listed = (await client.receive_json())["result"]
    assert [d["url_path"] for d in listed].count("homecharge-home") == 1
    await client.send_json_auto_id(
        {"type": "lovelace/config", "url_path": "homecharge-home"}
    )
    assert (await client.receive_json())["result"] == config


async def test_the_dashboard_speaks_the_language_of_home_assistant(
    hass: HomeAssistant, lovelace: None, hass_ws_client: WebSocketGenerator
) -> None:
    entry = await _place(hass)
    await hass.config.async_update(language="nb")
    await _create(hass, entry)
    client = await hass_ws_client(hass)
    await client.send_json_auto_id({"type": "lovelace/dashboards/list"})
    listed = (await client.receive_json())["result"]
    assert [d["title"] for d in listed if d["url_path"] == "homecharge-home"] == [
        "Lading — Home"
    ]
    await client.send_json_auto_id(
        {"type": "lovelace/config", "url_path": "homecharge-home"}
    )
    config = (await client.receive_json())["result"]
    headings = [c["heading"] for c in _cards(config) if c["type"] == "heading"]
    assert "Last mot hovedsikringen" in headings
    assert "Priser og plan" in headings


async def test_without_dashboards_the_action_says_so(hass: HomeAssistant) -> None:
    entry = await _place(hass)
    with pytest.raises(HomeAssistantError) as caught:
        await _create(hass, entry)
    assert caught.value.translation_key == "dashboard_unavailable"


def test_a_place_without_a_meter_gets_no_gauges() -> None:
    labels = {label: label for label in LABELS}
    place = PlaceCards(
        name="Cabin",
        entities={("sensor", "current_price"): "sensor.cabin_price"},
        chargers=(
            ChargerCards(
                name="Driveway",
                entities={
                    ("switch", "charging"): "switch.driveway_charging",
                    ("sensor", "status"): "sensor.driveway_status",
                },
            ),
        ),
        main_fuse_a=None,
        energy_statistic="homecharge:x_energy",
        cost_statistic="homecharge:x_cost",
    )
    config = dashboard_config(place, labels)
    cards = list(_cards(config))
    assert not [card for card in cards if card["type"] == "gauge"]
    # The charger's tiles in the app's order: the status before start/stop.
    driveway = config["views"][0]["sections"][0]["cards"]
    assert [card.get("entity") for card in driveway[1:]] == [
        "sensor.driveway_status",
        "switch.driveway_charging",
    ]
    # No calendars at the place: no calendar card.
    assert not [card for card in cards if card["type"] == "calendar"]


def test_the_path_is_the_place_s_name_with_hyphens() -> None:
    entry = MockConfigEntry(domain=DOMAIN, title="Hytta på Ærøya")
    assert dashboard_path(entry) == "homecharge-hytta-pa-aeroya"
