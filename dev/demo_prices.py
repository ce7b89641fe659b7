"""
Sample spot prices for the demo place of scripts/develop, as a template sensor.

The project's own price day, tests/fixtures/prices/FI_2024-02-20.csv (ENTSO-E
day-ahead, hourly, EUR/MWh; see SOURCES.md there), is moved to today and the
days after it in Home Assistant's time zone: each local hour gets the price of
the same hour of the fixture day, so a 23- or 25-hour day (daylight saving
time) skips or repeats 02:00. Prices are per kWh (MWh / 1000), in Home
Assistant's currency at a fixed demo exchange rate (none for EUR; a currency
without a rate here stays in EUR), without VAT, as spot prices are.

scripts/develop runs this at every start, before Home Assistant:

    python dev/demo_prices.py CONFIG_DIR

It writes CONFIG_DIR/demo_prices.yaml, which the demo's configuration.yaml
includes under ``template:``. That gives sensor.demo_spot_price: its state is
the price of the hour now, its attribute ``prices`` today's and tomorrow's
hours as ``{"start", "end", "price"}`` (ISO times with the local offset), the
generic list homecharge reads (custom_components/homecharge/logic/prices.py),
and the demo place's option ``price_entity`` names it. The file holds a week
of days from the start, so a demo left running keeps its prices; the sensor
is unavailable after that, until the next start.

Prints ``true`` when the config uses the sensor (its configuration.yaml
includes the file and the demo place's price_entity is the sensor), else
``false``: a config copied from dev/config before the demo had prices.
"""

from __future__ import annotations

import csv
from datetime import UTC, date, datetime, timedelta
import json
from pathlib import Path
import sys
from typing import Any, Final
from zoneinfo import ZoneInfo

REPO: Final = Path(__file__).resolve().parents[1]
FIXTURE: Final = REPO / "tests" / "fixtures" / "prices" / "FI_2024-02-20.csv"
SOURCE: Final = (
    "ENTSO-E day-ahead FI 2024-02-20 (tests/fixtures/prices), moved to today"
)
ENTITY_ID: Final = "sensor.demo_spot_price"
FILE_NAME: Final = "demo_prices.yaml"
DEMO_PLACE: Final = "01JDEMOH0MECHARGEPLACE00001"
DAYS: Final = 7
HOUR: Final = timedelta(hours=1)
# Units of a currency per EUR, about as on the fixture day (Norges Bank,
# February 2024): a demo figure, not a rate to pay by.
EUR_RATES: Final[dict[str, float]] = {
    "EUR": 1.0,
    "NOK": 11.4,
    "SEK": 11.2,
    "DKK": 7.46,
}

# The price of the hour now: the entry of today's list that holds now().
_STATE: Final = """\
{% set ns = namespace(price=none) %}
{% for hour in days.get(now().date().isoformat(), []) %}
  {% if as_datetime(hour.start) <= now() < as_datetime(hour.end) %}
    {% set ns.price = hour.price %}
  {% endif %}
{% endfor %}
{{ ns.price }}"""
_PRICES: Final = """\
{% set today = now().date() %}
{{ days.get(today.isoformat(), [])
   + days.get((today + timedelta(days=1)).isoformat(), []) }}"""
_AVAILABLE: Final = "{{ now().date().isoformat() in days }}"


def fixture_prices(path: Path = FIXTURE) -> list[float]:
    """The fixture day's 24 hourly prices (EUR/MWh), in time order."""
    with path.open(newline="") as file:
        rows = sorted(csv.DictReader(file), key=lambda row: row["start_utc"])
    if len(rows) != 24 or any(row["unit"] != "EUR/MWh" for row in rows):
        raise ValueError(f"{path}: expected 24 hourly prices in EUR/MWh")
    return [float(row["price"]) for row in rows]


def local_hours(day: date, zone: ZoneInfo) -> list[datetime]:
    """The starts of a local day's hours (23, 24 or 25 of them), local."""
    start = datetime(day.year, day.month, day.day, tzinfo=zone).astimezone(UTC)
    following = day + timedelta(days=1)
    end = datetime(
        following.year, following.month, following.day, tzinfo=zone
    ).astimezone(UTC)
    hours = []
    while start < end:
        hours.append(start.astimezone(zone))
        start += HOUR
    return hours


def day_prices(
    day: date, zone: ZoneInfo, hourly: list[float], per_mwh: float
) -> list[dict[str, Any]]:
    """A day's hours, each at the fixture's price of its local hour, per kWh."""
    return [
        {
            "start": start.isoformat(),
            "end": (start.astimezone(UTC) + HOUR).astimezone(zone).isoformat(),
            "price": round(hourly[start.hour] * per_mwh / 1000, 5),
        }
        for start in local_hours(day, zone)
    ]


def price_days(
    first: date, zone: ZoneInfo, currency: str, hourly: list[float], count: int = DAYS
) -> dict[str, list[dict[str, Any]]]:
    """``count`` days from ``first``, by ISO date, in ``currency`` per kWh."""
    per_mwh = EUR_RATES[currency]
    return {
        (first + timedelta(days=offset)).isoformat(): day_prices(
            first + timedelta(days=offset), zone, hourly, per_mwh
        )
        for offset in range(count)
    }


def _block(text: str, indent: int) -> str:
    pad = " " * indent
    return "".join(f"{pad}{line}\n" for line in text.splitlines())


def template_yaml(days: dict[str, list[dict[str, Any]]], unit: str) -> str:
    """The ``template:`` section: sensor.demo_spot_price over ``days``."""
    lines = [
        "# Written by scripts/develop (dev/demo_prices.py) at every start: edits are",
        "# lost. Sample spot prices for the demo place, per kWh without VAT:",
        f"# {SOURCE}.",
        "- variables:",
        "    days:",
    ]
    for day, hours in days.items():
        lines.append(f'      "{day}":')
        lines.extend(f"        - {json.dumps(hour)}" for hour in hours)
    lines += [
        "  sensor:",
        "    - name: Demo spot price",
        "      unique_id: homecharge_demo_spot_price",
        f"      unit_of_measurement: {json.dumps(unit)}",
        "      icon: mdi:cash-clock",
        f"      availability: {json.dumps(_AVAILABLE)}",
        "      state: >-",
    ]
    text = "\n".join(lines) + "\n" + _block(_STATE, 8)
    text += "      attributes:\n        prices: >-\n" + _block(_PRICES, 10)
    text += f"        source: {json.dumps(SOURCE)}\n"
    return text


def _ha_config(config: Path) -> tuple[ZoneInfo, str]:
    """Home Assistant's time zone and currency (UTC and EUR until it has them)."""
    path = config / ".storage" / "core.config"
    data = json.loads(path.read_text())["data"] if path.exists() else {}
    return ZoneInfo(data.get("time_zone") or "UTC"), data.get("currency") or "EUR"


def uses_prices(config: Path) -> bool:
    """Whether the config's demo place reads the sensor this module writes."""
    configuration = config / "configuration.yaml"
    entries = config / ".storage" / "core.config_entries"
    if not configuration.exists() or not entries.exists():
        return False
    if FILE_NAME not in configuration.read_text():
        return False
    store = json.loads(entries.read_text())
    return any(
        entry["entry_id"] == DEMO_PLACE
        and entry.get("options", {}).get("price_entity") == ENTITY_ID
        for entry in store["data"]["entries"]
    )


def write(config: Path, now: datetime | None = None) -> Path:
    """Write CONFIG/demo_prices.yaml with a week of prices from today."""
    zone, currency = _ha_config(config)
    if currency not in EUR_RATES:
        currency = "EUR"
    today = (now or datetime.now(UTC)).astimezone(zone).date()
    days = price_days(today, zone, currency, fixture_prices())
    path = config / FILE_NAME
    path.write_text(template_yaml(days, f"{currency}/kWh"))
    return path


def main(argv: list[str]) -> int:
    """Write the prices into the config folder named on the command line."""
    if len(argv) != 1:
        sys.stderr.write("usage: python dev/demo_prices.py CONFIG_DIR\n")
        return 2
    config = Path(argv[0])
    write(config)
    sys.stdout.write(f"{'true' if uses_prices(config) else 'false'}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
