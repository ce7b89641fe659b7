"""A place's dashboard, made of Home Assistant's built-in cards only.

The seed app's home screen, per charger: its status, start/stop, smart
charging or "charge full now", the ready-by time, why it charges at the
current it does, the plan, and the running session's energy and cost. Then
the place: the load on each phase against the main fuse, the capacity
step, the price with the planned slots, and the history per day and month.

The entities are given by their translation keys (what each one is, in any
language); a card whose entities are missing is left out, so a place
without a meter gets no gauges. The same config for the same entities: the
action that saves it can run any number of times.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

# The labels the dashboard shows (translated by the caller).
LABELS: Final = (
    "title",
    "place",
    "load",
    "prices_and_plan",
    "history_day",
    "history_month",
    "energy",
    "cost",
    "plan",
)
# The charger's tiles, in order (translation keys of its entities).
CHARGER_TILES: Final = (
    ("sensor", "status"),
    ("switch", "charging"),
    ("switch", "smart_charging"),
    ("time", "ready_by"),
    ("sensor", "limited_by"),
    ("sensor", "plan_status"),
    ("sensor", "planned_start"),
    ("sensor", "power"),
    ("sensor", "session_energy"),
    ("sensor", "session_cost"),
)
# The place's tiles.
PLACE_TILES: Final = (
    ("sensor", "current_price"),
    ("sensor", "hour_energy"),
    ("sensor", "capacity_step"),
    ("sensor", "capacity_peak_average"),
    ("sensor", "cost_today"),
    ("sensor", "cost_this_month"),
)
_GAUGES: Final = ("grid_current_l1", "grid_current_l2", "grid_current_l3")
# A gauge turns amber at this share of the main fuse, red at the next.
_WARNING_SHARE: Final = 0.8
_DANGER_SHARE: Final = 0.95

type Entities = Mapping[tuple[str, str], str]


@dataclass(frozen=True, kw_only=True, slots=True)
class ChargerCards:
    """One charger (or connector): its name and entities by translation key."""

    name: str
    entities: Entities


@dataclass(frozen=True, kw_only=True, slots=True)
class PlaceCards:
    """What the dashboard shows of a place."""

    name: str
    entities: Entities
    chargers: tuple[ChargerCards, ...]
    main_fuse_a: float | None
    energy_statistic: str
    cost_statistic: str
    # Entity ids → their names without the device's (a tile sits under its
    # device's heading: "Status", not "Driveway Status").
    names: Mapping[str, str] = field(default_factory=dict)


def _heading(text: str, icon: str) -> dict[str, Any]:
    return {"type": "heading", "heading": text, "icon": icon}


def _tile(entity_id: str, domain: str, names: Mapping[str, str]) -> dict[str, Any]:
    tile: dict[str, Any] = {"type": "tile", "entity": entity_id}
    if entity_id in names:
        tile["name"] = names[entity_id]
    if domain == "switch":
        # Start/stop and smart/full-now in one tap, as on the vendor app.
        tile["features"] = [{"type": "toggle"}]
        tile["features_position"] = "inline"
    return tile


def _tiles(
    entities: Entities, keys: tuple[tuple[str, str], ...], names: Mapping[str, str]
) -> list[dict[str, Any]]:
    return [_tile(entities[key], key[0], names) for key in keys if key in entities]


def _charger_section(
    charger: ChargerCards, names: Mapping[str, str], labels: Mapping[str, str]
) -> dict[str, Any]:
    tiles = _tiles(charger.entities, CHARGER_TILES, names)
    plan = charger.entities.get(("sensor", "plan_status"))
    for tile in tiles:
        if tile["entity"] == plan:
            # Named "Smart charging" like the switch beside it: the plan's.
            tile["name"] = labels["plan"]
    return {
        "type": "grid",
        "cards": [_heading(charger.name, "mdi:ev-station"), *tiles],
    }


def _load_cards(place: PlaceCards) -> list[dict[str, Any]]:
    """A gauge per phase, its range the main fuse (none without a meter)."""
    fuse = place.main_fuse_a
    cards = []
    for key in _GAUGES:
        entity_id = place.entities.get(("sensor", key))
        if entity_id is None or fuse is None:
            continue
        cards.append(
            {
                "type": "gauge",
                "entity": entity_id,
                "name": key.rsplit("_", 1)[1].upper(),
                "min": 0,
                "max": round(fuse),
                "needle": True,
                "severity": {
                    "green": 0,
                    "yellow": round(fuse * _WARNING_SHARE),
                    "red": round(fuse * _DANGER_SHARE),
                },
                "grid_options": {"columns": 4},
            }
        )
    return cards


def _place_section(place: PlaceCards, labels: Mapping[str, str]) -> dict[str, Any]:
    cards = [_heading(place.name, "mdi:home-lightning-bolt")]
    if gauges := _load_cards(place):
        cards += [_heading(labels["load"], "mdi:gauge"), *gauges]
    cards += _tiles(place.entities, PLACE_TILES, place.names)
    return {"type": "grid", "cards": cards}


def _plan_section(place: PlaceCards, labels: Mapping[str, str]) -> dict[str, Any]:
    cards = [_heading(labels["prices_and_plan"], "mdi:calendar-clock")]
    if (price := place.entities.get(("sensor", "current_price"))) is not None:
        cards.append(
            {"type": "history-graph", "entities": [price], "hours_to_show": 24}
        )
    calendars = [
        place.entities[key]
        for key in (("calendar", "charging_plan"), ("calendar", "charging_sessions"))
        if key in place.entities
    ]
    if calendars:
        cards.append(
            {"type": "calendar", "entities": calendars, "initial_view": "listWeek"}
        )
    return {"type": "grid", "cards": cards}


def _statistics(statistic: str, name: str, period: str, days: int) -> dict[str, Any]:
    return {
        "type": "statistics-graph",
        "entities": [{"entity": statistic, "name": name}],
        "period": period,
        "days_to_show": days,
        "chart_type": "bar",
        "stat_types": ["change"],
    }


def _history_section(place: PlaceCards, labels: Mapping[str, str]) -> dict[str, Any]:
    """Energy and cost per day (a month back) and per month (a year back)."""
    cards = []
    for heading, icon, period, days in (
        ("history_day", "mdi:chart-bar", "day", 30),
        ("history_month", "mdi:chart-bar-stacked", "month", 365),
    ):
        cards += [
            _heading(labels[heading], icon),
            _statistics(place.energy_statistic, labels["energy"], period, days),
            _statistics(place.cost_statistic, labels["cost"], period, days),
        ]
    return {"type": "grid", "cards": cards}


def dashboard_config(place: PlaceCards, labels: Mapping[str, str]) -> dict[str, Any]:
    """The dashboard: one sections view, a section per charger, then the place."""
    sections = [
        _charger_section(charger, place.names, labels) for charger in place.chargers
    ]
    sections += [
        _place_section(place, labels),
        _plan_section(place, labels),
        _history_section(place, labels),
    ]
    return {
        "title": f"{labels['title']} — {place.name}",
        "views": [
            {
                "type": "sections",
                "title": labels["title"],
                "path": "charging",
                "icon": "mdi:ev-station",
                "max_columns": 4,
                "sections": sections,
            }
        ],
    }
