"""
Price data from Home Assistant, as 15-minute price slots.

The one place that reads price entities and price actions. Each supported
source has a parser taking the plain data Home Assistant gives (state
attributes or an action's response: dicts, lists, ISO strings or datetimes)
and returning the source's own intervals in UTC, priced per kWh in the
source's currency. ``to_quarter_slots`` turns those into the 15-minute grid
the planner uses; ``slots_from_attributes`` does both for a price sensor.

Pure logic. Instants are compared in UTC: Python compares datetimes of one
zone as wall times, which merges the two 02:00 hours of an autumn night.
One module past 400 lines on purpose: the parsers share the tolerant
readers of times, prices and units, and a new source is one more parser
beside the others (the adapters that fetch them are in feeds/prices.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta, tzinfo
from enum import StrEnum
from itertools import pairwise
import math
import reprlib
from typing import Any, Final, Literal

QUARTER: Final = timedelta(minutes=15)
HOUR: Final = timedelta(hours=1)

type InvalidReason = Literal[
    "not_a_mapping",
    "not_a_list",
    "bad_entry",
    "bad_time",
    "bad_price",
    "bad_unit",
    "unknown_area",
    "unknown_home",
    "unknown_format",
]

# Energy units a price may be per, as the factor to a price per kWh.
_PER_KWH: Final[dict[str, float]] = {"kwh": 1.0, "mwh": 1e-3, "wh": 1e3}
# Currency sub-units in a unit of measurement ("øre/kWh"): a hundredth each.
_CENT_NAMES: Final = frozenset(
    {"øre", "öre", "ore", "c", "ct", "cent", "cents", "snt", "¢"}
)

# Keys a generic list entry may use, in order of preference.
_START_KEYS: Final = ("start", "start_time", "from")
_END_KEYS: Final = ("end", "end_time", "till")
_PRICE_KEYS: Final = ("price", "value")
# Attributes a generic price sensor may keep its list in.
_GENERIC_ATTRIBUTES: Final = ("prices", "data", "forecast", "raw_today")


class PriceFormat(StrEnum):
    """A source of prices this module reads."""

    # Home Assistant core: the nordpool.get_prices_for_date action's response.
    NORDPOOL = "nordpool"
    # HACS custom-components/nordpool: a sensor's raw_today / raw_tomorrow.
    NORDPOOL_HACS = "nordpool_hacs"
    # HACS MTrab/energidataservice: a sensor's raw_today / raw_tomorrow.
    ENERGI_DATA_SERVICE = "energi_data_service"
    # HACS JaccoR/hass-entso-e: the average price sensor's price lists.
    ENTSOE = "entsoe"
    # Home Assistant core: the tibber.get_prices action's response.
    TIBBER = "tibber"
    # Any sensor with a list of {start, end, price}.
    GENERIC = "generic"


class InvalidPrices(ValueError):  # noqa: N818 - the name callers use
    """Price data that is not what its source sends."""

    def __init__(self, reason: InvalidReason, detail: object = None) -> None:
        """Keep a stable, machine-readable reason beside the message."""
        super().__init__(f"{reason}: {reprlib.repr(detail)}")
        self.reason: InvalidReason = reason


@dataclass(frozen=True, kw_only=True, slots=True)
class PriceSlot:
    """A price per kWh, in the source's currency, from start (UTC) to end."""

    start: datetime
    end: datetime
    price: float


@dataclass(frozen=True, kw_only=True, slots=True)
class _Point:
    """An entry of a source that gives only start times."""

    start: datetime
    price: float


def _instant(value: object) -> datetime:
    """An aware datetime or ISO string, in UTC; a naive time is no instant."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            raise InvalidPrices("bad_time", value) from None
    if not isinstance(value, datetime) or value.utcoffset() is None:
        raise InvalidPrices("bad_time", value)
    return value.astimezone(UTC)


def _price(value: object, scale: float) -> float | None:
    """A finite price times scale; None stays None (an hour not known yet)."""
    if value is None:
        return None
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
    ):
        raise InvalidPrices("bad_price", value)
    return float(value) * scale


def _entries(value: object) -> list[Mapping[str, Any]]:
    """A list of mappings; None or a missing list is an empty one."""
    if value is None:
        return []
    if not isinstance(value, list | tuple):
        raise InvalidPrices("not_a_list", value)
    for entry in value:
        if not isinstance(entry, Mapping):
            raise InvalidPrices("bad_entry", entry)
    return list(value)


def _mapping(value: object) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise InvalidPrices("not_a_mapping", value)
    return value


def _first_key(entry: Mapping[str, Any], keys: Sequence[str]) -> str | None:
    return next((key for key in keys if key in entry), None)


def _required(entry: Mapping[str, Any], keys: Sequence[str]) -> Any:
    key = _first_key(entry, keys)
    if key is None:
        raise InvalidPrices("bad_entry", entry)
    return entry[key]


def _unit_scale(attributes: Mapping[str, Any]) -> float:
    """
    The factor from a sensor's price to a price per kWh.

    The energy unit comes from the ``unit`` attribute (HACS nordpool, Energi
    Data Service) or the unit of measurement's tail ("EUR/MWh"); per kWh
    when neither says. Prices in cents (HACS nordpool's ``price_in_cents``,
    Energi Data Service's ``use_cent``, or "øre/kWh") are a hundredth.
    """
    unit = attributes.get("unit")
    measure = attributes.get("unit_of_measurement")
    currency = None
    if isinstance(measure, str) and "/" in measure:
        currency, _, tail = measure.rpartition("/")
        unit = unit or tail
    scale = 1.0
    if unit is not None:
        factor = _PER_KWH.get(str(unit).strip().lower())
        if factor is None:
            raise InvalidPrices("bad_unit", unit)
        scale = factor
    in_cents = (
        attributes.get("price_in_cents") is True or attributes.get("use_cent") is True
    )
    if in_cents or (currency or "").strip().lower() in _CENT_NAMES:
        scale /= 100
    return scale


def _slots(
    entries: Iterable[Mapping[str, Any]], price_keys: Sequence[str], scale: float
) -> list[PriceSlot]:
    """Entries with a start, an end and a price; unknown prices skipped."""
    slots = []
    for entry in entries:
        price = _price(_required(entry, price_keys), scale)
        if price is None:
            continue
        slots.append(
            PriceSlot(
                start=_instant(_required(entry, _START_KEYS)),
                end=_instant(_required(entry, _END_KEYS)),
                price=price,
            )
        )
    return slots


def _points(
    entries: Iterable[Mapping[str, Any]],
    time_keys: Sequence[str],
    price_keys: Sequence[str],
    scale: float,
) -> list[_Point]:
    """Entries with only a start and a price; unknown prices skipped."""
    points = []
    for entry in entries:
        price = _price(_required(entry, price_keys), scale)
        if price is not None:
            points.append(
                _Point(start=_instant(_required(entry, time_keys)), price=price)
            )
    return points


def _with_ends(points: Iterable[_Point]) -> list[PriceSlot]:
    """
    Give start-only entries their ends: each lasts until the next one.

    A step longer than an hour is a missing entry, not a long one; such an
    entry, and the last, lasts the source's resolution: its smallest step
    (an hour for a single entry). Mixed lists (hours, then quarters) keep
    each entry's own length.
    """
    ordered = sorted(points, key=lambda point: point.start)
    starts = sorted({point.start for point in ordered})
    following = dict(pairwise(starts))
    steps = [later - start for start, later in following.items()]
    resolution = min([*steps, HOUR])
    slots = []
    for point in ordered:
        step = following.get(point.start, point.start) - point.start
        length = step if timedelta(0) < step <= HOUR else resolution
        slots.append(
            PriceSlot(start=point.start, end=point.start + length, price=point.price)
        )
    return slots


def parse_nordpool(response: object, area: str) -> list[PriceSlot]:
    """
    The ``nordpool.get_prices_for_date`` response (Home Assistant core).

    ``{area: [{"start": iso, "end": iso, "price": per MWh}, ...]}`` with UTC
    times (homeassistant/components/nordpool/services.py); an empty list
    when Nord Pool has no prices for the day.
    """
    data = _mapping(response)
    if area not in data:
        raise InvalidPrices("unknown_area", area)
    return _slots(_entries(data[area]), ("price",), _PER_KWH["mwh"])


def parse_nordpool_hacs(attributes: Mapping[str, Any]) -> list[PriceSlot]:
    """
    A HACS nordpool sensor's ``raw_today`` and ``raw_tomorrow``.

    Entries are ``{"start", "end", "value"}`` in local time (datetimes, or
    ISO strings once serialized); the value is per the sensor's ``unit`` and
    in cents with ``price_in_cents``, VAT and additional costs as the user
    set them up; None where Nord Pool has no price. Tomorrow counts only
    when ``tomorrow_valid`` is true.
    """
    entries = _entries(attributes.get("raw_today"))
    if attributes.get("tomorrow_valid") is True:
        entries += _entries(attributes.get("raw_tomorrow"))
    return _slots(entries, ("value",), _unit_scale(attributes))


def parse_energi_data_service(attributes: Mapping[str, Any]) -> list[PriceSlot]:
    """
    An Energi Data Service sensor's ``raw_today`` and ``raw_tomorrow``.

    Entries are ``{"hour": local datetime, "price": total, ...}`` (newer
    versions add the price's parts, and 15-minute entries); each lasts
    until the next. The price is per the ``unit`` attribute, in cents with
    ``use_cent``. The Carnot ``forecast`` attribute is a forecast, not
    prices, and is left out.
    """
    entries = _entries(attributes.get("raw_today"))
    if attributes.get("tomorrow_valid") is not False:
        entries += _entries(attributes.get("raw_tomorrow"))
    scale = _unit_scale(attributes)
    return _with_ends(_points(entries, ("hour",), ("price",), scale))


def parse_entsoe(attributes: Mapping[str, Any]) -> list[PriceSlot]:
    """
    The ENTSO-e average price sensor's ``prices_today``/``prices_tomorrow``.

    Entries are ``{"time": str(local datetime), "price": float}``, per the
    energy unit in the sensor's unit of measurement ("EUR/kWh"); each lasts
    until the next. Without the daily lists, ``prices`` (two days) is read.
    """
    entries = _entries(attributes.get("prices_today"))
    entries += _entries(attributes.get("prices_tomorrow"))
    if not entries:
        entries = _entries(attributes.get("prices"))
    scale = _unit_scale(attributes)
    return _with_ends(_points(entries, ("time",), ("price",), scale))


def parse_tibber(response: object, home: str | None = None) -> list[PriceSlot]:
    """
    The ``tibber.get_prices`` response (Home Assistant core).

    ``{"prices": {home name: [{"start_time": iso, "price": per kWh}]}}``
    (homeassistant/components/tibber/services.py); each entry lasts until
    the next. Without a home name the response must hold exactly one home.
    """
    homes = _mapping(_mapping(response).get("prices"))
    if home is None:
        if len(homes) != 1:
            raise InvalidPrices("unknown_home", sorted(homes))
        home = next(iter(homes))
    if home not in homes:
        raise InvalidPrices("unknown_home", home)
    return _with_ends(_points(_entries(homes[home]), ("start_time",), ("price",), 1.0))


def parse_generic(
    entries: object, unit_attributes: Mapping[str, Any] | None = None
) -> list[PriceSlot]:
    """
    Any list of ``{start, end, price}`` entries.

    Also ``start_time``/``end_time`` or ``from``/``till`` for the times and
    ``value`` for the price; entries without an end last until the next.
    ``unit_attributes`` are the sensor's attributes that say the unit (per
    kWh when they don't).
    """
    listed = _entries(entries)
    scale = _unit_scale(unit_attributes or {})
    with_end = [entry for entry in listed if _first_key(entry, _END_KEYS)]
    without_end = [entry for entry in listed if not _first_key(entry, _END_KEYS)]
    return _slots(with_end, _PRICE_KEYS, scale) + _with_ends(
        _points(without_end, _START_KEYS, _PRICE_KEYS, scale)
    )


def parse_generic_sensor(attributes: Mapping[str, Any]) -> list[PriceSlot]:
    """
    A sensor's generic price list.

    The first of the attributes ``prices``, ``data``, ``forecast`` and
    ``raw_today`` whose entries have a start and a price; see parse_generic.
    """
    name = _generic_attribute(attributes)
    if name is None:
        raise InvalidPrices("unknown_format", sorted(attributes))
    return parse_generic(attributes[name], attributes)


def _first_entry(
    attributes: Mapping[str, Any], *names: str
) -> Mapping[str, Any] | None:
    """The first mapping in any of the named list attributes."""
    for name in names:
        value = attributes.get(name)
        if isinstance(value, list | tuple):
            for entry in value:
                if isinstance(entry, Mapping):
                    return entry
    return None


def _generic_attribute(attributes: Mapping[str, Any]) -> str | None:
    """The attribute holding a generic price list, if any does."""
    for name in _GENERIC_ATTRIBUTES:
        entry = _first_entry(attributes, name)
        if entry and _first_key(entry, _START_KEYS) and _first_key(entry, _PRICE_KEYS):
            return name
    return None


def detect_format(attributes: Mapping[str, Any]) -> PriceFormat | None:
    """
    Which source a price sensor's state attributes come from.

    By the entries' keys where the sensor holds any (a HACS nordpool entry
    has a ``value``, an Energi Data Service one an ``hour``), else by the
    attributes only that integration sets. None when nothing fits.
    """
    raw = _first_entry(attributes, "raw_today", "raw_tomorrow")
    if (raw is not None and "hour" in raw) or "use_cent" in attributes:
        return PriceFormat.ENERGI_DATA_SERVICE
    if (raw is not None and "value" in raw) or "price_in_cents" in attributes:
        return PriceFormat.NORDPOOL_HACS
    listed = _first_entry(attributes, "prices_today", "prices_tomorrow", "prices")
    if "prices_today" in attributes or (listed is not None and "time" in listed):
        return PriceFormat.ENTSOE
    if _generic_attribute(attributes) is not None:
        return PriceFormat.GENERIC
    return None


_ATTRIBUTE_PARSERS: Final[
    dict[PriceFormat, Callable[[Mapping[str, Any]], list[PriceSlot]]]
] = {
    PriceFormat.NORDPOOL_HACS: parse_nordpool_hacs,
    PriceFormat.ENERGI_DATA_SERVICE: parse_energi_data_service,
    PriceFormat.ENTSOE: parse_entsoe,
    PriceFormat.GENERIC: parse_generic_sensor,
}


def slots_from_attributes(attributes: Mapping[str, Any]) -> list[PriceSlot]:
    """A price sensor's known prices (today and tomorrow) as 15-minute slots."""
    source = detect_format(attributes)
    if source is None:
        raise InvalidPrices("unknown_format", sorted(attributes))
    return to_quarter_slots(_ATTRIBUTE_PARSERS[source](attributes))


def _quarter_ceil(moment: datetime) -> datetime:
    """The first quarter-hour (UTC grid) at or after a moment."""
    utc = moment.astimezone(UTC)
    floor = utc.replace(minute=utc.minute - utc.minute % 15, second=0, microsecond=0)
    return floor if floor == utc else floor + QUARTER


def _quarters(start: datetime, end: datetime) -> Iterable[datetime]:
    """The quarter-hours starting in [start, end)."""
    moment, stop = _quarter_ceil(start), end.astimezone(UTC)
    while moment < stop:
        yield moment
        moment += QUARTER


def to_quarter_slots(slots: Iterable[PriceSlot]) -> list[PriceSlot]:
    """
    The 15-minute slots that the given entries price, sorted by start.

    Each entry prices the quarter-hours that start within it, so an hour
    gives four slots at its price, and a 15-minute entry itself. For a
    quarter priced twice the later entry wins (a corrected price); entries
    that end before they start are dropped.
    """
    prices: dict[datetime, float] = {}
    for slot in slots:
        for moment in _quarters(slot.start, slot.end):
            prices[moment] = slot.price
    return [
        PriceSlot(start=moment, end=moment + QUARTER, price=price)
        for moment, price in sorted(prices.items())
    ]


def fixed_slots(start: datetime, end: datetime, price: float) -> list[PriceSlot]:
    """The 15-minute slots in [start, end) of a place with a fixed price."""
    fixed = _price(price, 1.0)
    if fixed is None:
        raise InvalidPrices("bad_price", price)
    return [
        PriceSlot(start=moment, end=moment + QUARTER, price=fixed)
        for moment in _quarters(_instant(start), _instant(end))
    ]


def forecast_slots(
    known: Sequence[PriceSlot], start: datetime, end: datetime, zone: tzinfo
) -> list[PriceSlot]:
    """
    Forecast prices for the 15-minute slots in [start, end) that known lacks.

    A slot gets the price of the same local time of day on the latest day
    that has it (prices follow the day's rhythm), else the mean of the known
    prices. Only the filled slots are returned; the caller marks them as a
    forecast. Without any known price nothing can be forecast.
    """
    quarters = to_quarter_slots(known)
    if not quarters:
        return []
    mean = math.fsum(slot.price for slot in quarters) / len(quarters)
    # Sorted by start, so the latest day's price of a time of day wins.
    by_time: dict[time, float] = {
        slot.start.astimezone(zone).time(): slot.price for slot in quarters
    }
    covered = {slot.start for slot in quarters}
    return [
        PriceSlot(
            start=moment,
            end=moment + QUARTER,
            price=by_time.get(moment.astimezone(zone).time(), mean),
        )
        for moment in _quarters(start, end)
        if moment not in covered
    ]
