"""Price data from Home Assistant as 15-minute slots.

Every payload is built here from the one price day the project ships,
tests/fixtures/prices/FI_2024-02-20.csv (ENTSO-E, EUR/MWh, see SOURCES.md),
in the shape each source really sends; the comment on each builder says
which code the shape is read from. Instants are compared in UTC.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import pairwise
import math
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import given, settings, strategies as st
import pytest

from custom_components.homecharge.logic.prices import (
    QUARTER,
    InvalidPrices,
    PriceFormat,
    PriceSlot,
    detect_format,
    fixed_slots,
    forecast_slots,
    parse_energi_data_service,
    parse_entsoe,
    parse_generic,
    parse_generic_sensor,
    parse_nordpool,
    parse_nordpool_hacs,
    parse_tibber,
    slots_from_attributes,
    to_quarter_slots,
)

FIXTURE = Path(__file__).parent / "fixtures" / "prices" / "FI_2024-02-20.csv"
HELSINKI = ZoneInfo("Europe/Helsinki")
OSLO = ZoneInfo("Europe/Oslo")
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)


@dataclass(frozen=True)
class Row:
    """One hour of the fixture: UTC times and EUR/MWh."""

    start: datetime
    end: datetime
    mwh: float

    @property
    def kwh(self) -> float:
        return self.mwh / 1000


def _read_fixture() -> tuple[Row, ...]:
    with FIXTURE.open(encoding="utf-8", newline="") as file:
        return tuple(
            Row(
                start=datetime.fromisoformat(line["start_utc"]),
                end=datetime.fromisoformat(line["end_utc"]),
                mwh=float(line["price"]),
            )
            for line in csv.DictReader(file)
        )


ROWS = _read_fixture()
FIRST = ROWS[0].start


def shifted(rows: tuple[Row, ...], delta: timedelta) -> tuple[Row, ...]:
    """The same prices another day."""
    return tuple(Row(row.start + delta, row.end + delta, row.mwh) for row in rows)


def expected(rows: tuple[Row, ...]) -> list[tuple[datetime, datetime, float]]:
    return [(row.start, row.end, row.kwh) for row in rows]


def as_tuples(slots: list[PriceSlot]) -> list[tuple[datetime, datetime, float]]:
    return [(slot.start, slot.end, slot.price) for slot in slots]


def assert_slots(slots: list[PriceSlot], rows: tuple[Row, ...]) -> None:
    """The parsed slots are the rows: same UTC times, price per kWh."""
    assert [(s.start, s.end) for s in slots] == [(r.start, r.end) for r in rows]
    assert [s.price for s in slots] == pytest.approx([r.kwh for r in rows])
    assert all(slot.start.utcoffset() == timedelta(0) for slot in slots)


# Home Assistant core nordpool.get_prices_for_date: {area: [{start, end,
# price}]}, ISO strings of pynordpool's UTC datetimes, price per MWh
# (homeassistant/components/nordpool/services.py; the shape of
# tests/components/nordpool/snapshots/test_services.ambr).
def nordpool_response(rows: tuple[Row, ...], area: str = "FI") -> dict[str, Any]:
    return {
        area: [
            {"start": r.start.isoformat(), "end": r.end.isoformat(), "price": r.mwh}
            for r in rows
        ]
    }


# HACS custom-components/nordpool sensor: raw_today/raw_tomorrow entries
# {start, end, value} with local datetimes (dt_utils.as_local), value as
# _calc_price gives it: per the sensor's price_type ("unit": kWh, MWh, Wh),
# times 100 with price_in_cents; None where the API had no price.
def hacs_entries(
    rows: tuple[Row, ...], *, unit: str = "kWh", cents: bool = False
) -> list[dict[str, Any]]:
    per = {"kWh": 1000, "MWh": 1, "Wh": 1_000_000}[unit]
    return [
        {
            "start": r.start.astimezone(HELSINKI),
            "end": r.end.astimezone(HELSINKI),
            "value": r.mwh / per * (100 if cents else 1),
        }
        for r in rows
    ]


def hacs_attributes(
    today: list[dict[str, Any]],
    tomorrow: list[dict[str, Any]] | None = None,
    *,
    unit: str = "kWh",
    cents: bool = False,
) -> dict[str, Any]:
    return {
        "unit": unit,
        "currency": "EUR",
        "region": "FI",
        "price_in_cents": cents,
        "raw_today": today,
        "raw_tomorrow": tomorrow or [],
        "tomorrow_valid": tomorrow is not None,
        "unit_of_measurement": f"{'c' if cents else 'EUR'}/{unit}",
    }


# HACS MTrab/energidataservice sensor: raw_today/raw_tomorrow entries
# {"hour": local datetime, "price": total, ...parts} (sensor.py
# _format_list_with_breakdown), price per the "unit" attribute, times 100
# with "use_cent"; raw_tomorrow None until tomorrow_valid.
def eds_entries(
    rows: tuple[Row, ...], *, unit: str = "kWh", cents: bool = False
) -> list[dict[str, Any]]:
    per = {"kWh": 1000, "MWh": 1}[unit]
    return [
        {
            "hour": r.start.astimezone(HELSINKI),
            "price": r.mwh / per * (100 if cents else 1),
            "spot_price": r.mwh / per,
            "vat": 0.0,
        }
        for r in rows
    ]


def eds_attributes(
    today: list[dict[str, Any]] | None,
    tomorrow: list[dict[str, Any]] | None = None,
    *,
    unit: str = "kWh",
    cents: bool = False,
) -> dict[str, Any]:
    return {
        "unit": unit,
        "currency": "EUR",
        "region": "Finland",
        "region_code": "FI",
        "tomorrow_valid": tomorrow is not None,
        "raw_today": today,
        "raw_tomorrow": tomorrow,
        "use_cent": cents,
    }


# HACS JaccoR/hass-entso-e average price sensor: prices_today,
# prices_tomorrow and prices, entries {"time": str(local datetime), "price"}
# (coordinator.py get_timestamped_prices), per the energy scale in the unit
# of measurement (sensor.py: f"{currency}/{energy_scale}").
def entsoe_entries(rows: tuple[Row, ...], per: int = 1000) -> list[dict[str, Any]]:
    return [
        {"time": str(r.start.astimezone(HELSINKI)), "price": r.mwh / per} for r in rows
    ]


# Home Assistant core tibber.get_prices: {"prices": {home: [{"start_time":
# iso, "price": per kWh}]}} (homeassistant/components/tibber/services.py).
def tibber_response(rows: tuple[Row, ...], home: str = "Hjem") -> dict[str, Any]:
    return {
        "prices": {
            home: [
                {"start_time": r.start.astimezone(HELSINKI).isoformat(), "price": r.kwh}
                for r in rows
            ]
        }
    }


# --- Each source ------------------------------------------------------------


def test_nordpool_response_is_per_mwh_in_utc() -> None:
    slots = parse_nordpool(nordpool_response(ROWS), "FI")

    assert_slots(slots, ROWS)
    assert slots[0].price == pytest.approx(0.04697)


def test_nordpool_empty_day_and_unknown_area() -> None:
    assert parse_nordpool({"SE3": []}, "SE3") == []
    with pytest.raises(InvalidPrices) as err:
        parse_nordpool(nordpool_response(ROWS), "SE3")
    assert err.value.reason == "unknown_area"


def test_nordpool_quarter_hours_pass_through() -> None:
    """Since October 2025 Nord Pool sends 15-minute prices."""
    quarters = to_quarter_slots(parse_nordpool(nordpool_response(ROWS), "FI"))
    response = {
        "FI": [
            {
                "start": q.start.isoformat(),
                "end": q.end.isoformat(),
                "price": 1000 * q.price,
            }
            for q in quarters
        ]
    }
    parsed = parse_nordpool(response, "FI")

    assert len(parsed) == 96
    assert to_quarter_slots(parsed) == parsed
    assert [s.price for s in parsed] == pytest.approx([q.price for q in quarters])


@pytest.mark.parametrize(
    ("unit", "cents"),
    [("kWh", False), ("MWh", False), ("Wh", False), ("kWh", True), ("MWh", True)],
)
def test_hacs_nordpool_units(unit: str, cents: bool) -> None:
    attributes = hacs_attributes(
        hacs_entries(ROWS, unit=unit, cents=cents), unit=unit, cents=cents
    )

    assert_slots(parse_nordpool_hacs(attributes), ROWS)


def test_hacs_nordpool_iso_strings() -> None:
    """Attributes read back from JSON (recorder, REST) hold ISO strings."""
    today = [
        {**e, "start": e["start"].isoformat(), "end": e["end"].isoformat()}
        for e in hacs_entries(ROWS)
    ]

    assert_slots(parse_nordpool_hacs(hacs_attributes(today)), ROWS)


def test_hacs_nordpool_skips_unknown_hours() -> None:
    today = hacs_entries(ROWS)
    today[5]["value"] = None
    today[6]["value"] = None

    slots = parse_nordpool_hacs(hacs_attributes(today))

    assert_slots(slots, ROWS[:5] + ROWS[7:])


def test_hacs_nordpool_tomorrow_only_when_valid() -> None:
    tomorrow_rows = shifted(ROWS, DAY)
    attributes = hacs_attributes(hacs_entries(ROWS), hacs_entries(tomorrow_rows))

    assert_slots(parse_nordpool_hacs(attributes), ROWS + tomorrow_rows)
    attributes["tomorrow_valid"] = False
    assert_slots(parse_nordpool_hacs(attributes), ROWS)


@pytest.mark.parametrize(
    ("unit", "cents"), [("kWh", False), ("MWh", False), ("kWh", True)]
)
def test_energi_data_service_units(unit: str, cents: bool) -> None:
    attributes = eds_attributes(
        eds_entries(ROWS, unit=unit, cents=cents), unit=unit, cents=cents
    )

    assert_slots(parse_energi_data_service(attributes), ROWS)


def test_energi_data_service_tomorrow_and_empty() -> None:
    tomorrow_rows = shifted(ROWS, DAY)
    attributes = eds_attributes(eds_entries(ROWS), eds_entries(tomorrow_rows))

    assert_slots(parse_energi_data_service(attributes), ROWS + tomorrow_rows)
    assert parse_energi_data_service(eds_attributes(None)) == []


def test_energi_data_service_quarter_entries() -> None:
    """Newer versions send 15-minute entries: each lasts until the next."""
    quarters = to_quarter_slots(parse_nordpool(nordpool_response(ROWS), "FI"))
    today = [{"hour": q.start.astimezone(HELSINKI), "price": q.price} for q in quarters]

    slots = parse_energi_data_service(eds_attributes(today))

    assert slots == quarters


def test_start_only_entries_hours_then_quarters() -> None:
    """A list of hours then quarters keeps each entry's own length."""
    quarters = to_quarter_slots(parse_nordpool(nordpool_response(ROWS[12:]), "FI"))
    today = [{"hour": r.start, "price": r.kwh} for r in ROWS[:12]]
    today += [{"hour": q.start, "price": q.price} for q in quarters]

    slots = parse_energi_data_service(eds_attributes(today))

    assert [s.end - s.start for s in slots] == [HOUR] * 12 + [QUARTER] * 48
    assert len(to_quarter_slots(slots)) == 96


def test_start_only_entries_missing_hour_leaves_a_gap() -> None:
    rows = ROWS[:10] + ROWS[11:]

    slots = parse_energi_data_service(eds_attributes(eds_entries(rows)))

    assert_slots(slots, rows)
    assert len(to_quarter_slots(slots)) == 92


def test_start_only_entries_skip_unknown_prices() -> None:
    today = eds_entries(ROWS)
    today[3]["price"] = None

    assert_slots(parse_energi_data_service(eds_attributes(today)), ROWS[:3] + ROWS[4:])


def test_start_only_single_entry_is_an_hour() -> None:
    slots = parse_energi_data_service(eds_attributes(eds_entries(ROWS[:1])))

    assert as_tuples(slots) == [
        (ROWS[0].start, ROWS[0].end, pytest.approx(ROWS[0].kwh))
    ]


@pytest.mark.parametrize(("measure", "per"), [("EUR/kWh", 1000), ("EUR/MWh", 1)])
def test_entsoe_daily_lists(measure: str, per: int) -> None:
    tomorrow_rows = shifted(ROWS, DAY)
    attributes = {
        "prices_today": entsoe_entries(ROWS, per),
        "prices_tomorrow": entsoe_entries(tomorrow_rows, per),
        "prices": entsoe_entries(ROWS + tomorrow_rows, per),
        "unit_of_measurement": measure,
    }

    assert_slots(parse_entsoe(attributes), ROWS + tomorrow_rows)


def test_entsoe_two_day_list_only() -> None:
    attributes = {"prices": entsoe_entries(ROWS), "unit_of_measurement": "EUR/kWh"}

    assert_slots(parse_entsoe(attributes), ROWS)


def test_tibber_single_and_named_home() -> None:
    assert_slots(parse_tibber(tibber_response(ROWS)), ROWS)
    response = tibber_response(ROWS)
    response["prices"]["Hytta"] = tibber_response(shifted(ROWS, DAY))["prices"]["Hjem"]

    assert_slots(parse_tibber(response, "Hjem"), ROWS)
    assert_slots(parse_tibber(response, "Hytta"), shifted(ROWS, DAY))
    with pytest.raises(InvalidPrices) as err:
        parse_tibber(response)
    assert err.value.reason == "unknown_home"
    with pytest.raises(InvalidPrices) as err:
        parse_tibber(response, "Garasjen")
    assert err.value.reason == "unknown_home"


@pytest.mark.parametrize(
    ("start", "end", "price"),
    [
        ("start", "end", "price"),
        ("start_time", "end_time", "value"),
        ("from", "till", "price"),
    ],
)
def test_generic_keys(start: str, end: str, price: str) -> None:
    entries = [
        {start: r.start.isoformat(), end: r.end.isoformat(), price: r.kwh} for r in ROWS
    ]

    assert_slots(parse_generic(entries), ROWS)


def test_generic_without_ends_and_with_unit() -> None:
    entries = [{"start": r.start.isoformat(), "price": r.mwh} for r in ROWS]

    assert_slots(parse_generic(entries, {"unit_of_measurement": "EUR/MWh"}), ROWS)


def test_generic_cents_in_unit_of_measurement() -> None:
    entries = [{"start": r.start, "end": r.end, "price": r.kwh * 100} for r in ROWS]

    assert_slots(parse_generic(entries, {"unit_of_measurement": "c/kWh"}), ROWS)
    assert_slots(parse_generic(entries, {"unit_of_measurement": "øre/kWh"}), ROWS)


def test_negative_prices_stay_negative() -> None:
    """The fixture day made cheap: windy nights go below zero."""
    cheap = tuple(Row(r.start, r.end, r.mwh - 60.0) for r in ROWS)

    slots = to_quarter_slots(parse_nordpool(nordpool_response(cheap), "FI"))

    assert min(s.price for s in slots) == pytest.approx((36.01 - 60.0) / 1000)
    assert sum(s.price < 0 for s in slots) == 4 * sum(r.mwh < 0 for r in cheap) > 0


# --- The 15-minute grid -----------------------------------------------------


def test_hourly_entries_become_four_quarters() -> None:
    quarters = to_quarter_slots(parse_nordpool(nordpool_response(ROWS), "FI"))

    assert len(quarters) == 96
    for index, row in enumerate(ROWS):
        four = quarters[4 * index : 4 * index + 4]
        assert [q.start for q in four] == [row.start + n * QUARTER for n in range(4)]
        assert [q.price for q in four] == [pytest.approx(row.kwh)] * 4


def test_half_hours_become_two_quarters() -> None:
    half = PriceSlot(start=FIRST, end=FIRST + timedelta(minutes=30), price=0.5)

    assert as_tuples(to_quarter_slots([half])) == [
        (FIRST, FIRST + QUARTER, 0.5),
        (FIRST + QUARTER, FIRST + 2 * QUARTER, 0.5),
    ]


def test_quarters_sorted_later_entry_wins_and_empty_dropped() -> None:
    hour = PriceSlot(start=FIRST + HOUR, end=FIRST + 2 * HOUR, price=1.0)
    earlier = PriceSlot(start=FIRST, end=FIRST + QUARTER, price=3.0)
    correction = PriceSlot(start=FIRST + HOUR, end=FIRST + HOUR + QUARTER, price=2.0)
    backwards = PriceSlot(start=FIRST + 3 * HOUR, end=FIRST + 2 * HOUR, price=9.0)
    empty = PriceSlot(start=FIRST + 4 * HOUR, end=FIRST + 4 * HOUR, price=9.0)

    quarters = to_quarter_slots([hour, earlier, correction, backwards, empty])

    assert [(q.start - FIRST, q.price) for q in quarters] == [
        (timedelta(0), 3.0),
        (HOUR, 2.0),
        (HOUR + QUARTER, 1.0),
        (HOUR + 2 * QUARTER, 1.0),
        (HOUR + 3 * QUARTER, 1.0),
    ]


def test_quarters_are_utc_even_from_local_slots() -> None:
    local = PriceSlot(
        start=FIRST.astimezone(HELSINKI),
        end=ROWS[0].end.astimezone(HELSINKI),
        price=1.0,
    )

    assert {q.start.utcoffset() for q in to_quarter_slots([local])} == {timedelta(0)}


def oslo_day_hours(year: int, month: int, day: int) -> tuple[Row, ...]:
    """An Oslo day's hours (local midnight to midnight), fixture prices."""
    start = datetime(year, month, day, tzinfo=OSLO).astimezone(UTC)
    end = (datetime(year, month, day, tzinfo=OSLO) + DAY).astimezone(UTC)
    count = int((end - start) / HOUR)
    return tuple(
        Row(start + n * HOUR, start + (n + 1) * HOUR, ROWS[n % len(ROWS)].mwh)
        for n in range(count)
    )


def oslo_hacs(rows: tuple[Row, ...]) -> dict[str, Any]:
    today = [
        {
            "start": r.start.astimezone(OSLO),
            "end": r.end.astimezone(OSLO),
            "value": r.kwh,
        }
        for r in rows
    ]
    return hacs_attributes(today)


def oslo_eds(rows: tuple[Row, ...]) -> dict[str, Any]:
    return eds_attributes(
        [{"hour": r.start.astimezone(OSLO), "price": r.kwh} for r in rows]
    )


@pytest.mark.parametrize("attributes_of", [oslo_hacs, oslo_eds])
@pytest.mark.parametrize(
    ("day", "hours", "quarters"), [((2025, 3, 30), 23, 92), ((2025, 10, 26), 25, 100)]
)
def test_dst_days(
    attributes_of: Any, day: tuple[int, int, int], hours: int, quarters: int
) -> None:
    rows = oslo_day_hours(*day)
    assert len(rows) == hours

    slots = slots_from_attributes(attributes_of(rows))

    assert len(slots) == quarters
    assert slots[0].start == datetime(*day, tzinfo=OSLO)
    assert slots[-1].end == datetime(*day, tzinfo=OSLO) + DAY
    assert all(a.end == b.start for a, b in pairwise(slots))


def quarter_covers(slot: PriceSlot, moment: datetime) -> bool:
    """Whether an entry prices the quarter starting at moment (the rule)."""
    first = slot.start + (-(slot.start - FIRST)) % QUARTER
    return first <= moment < slot.end


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(min_value=0, max_value=300),
            st.sampled_from([-15, 0, 5, 15, 20, 30, 45, 60, 120]),
            st.floats(min_value=-500, max_value=5000, allow_nan=False),
        ),
        max_size=30,
    )
)
def test_quarter_slots_property(entries: list[tuple[int, int, float]]) -> None:
    """Sorted, non-overlapping quarters on the grid, each the last entry's price."""
    five = timedelta(minutes=5)
    slots = [
        PriceSlot(
            start=FIRST + at * five,
            end=FIRST + at * five + length * timedelta(minutes=1),
            price=price,
        )
        for at, length, price in entries
    ]

    quarters = to_quarter_slots(slots)

    assert all(q.end - q.start == QUARTER for q in quarters)
    assert all((q.start - FIRST) % QUARTER == timedelta(0) for q in quarters)
    assert all(a.end <= b.start for a, b in pairwise(quarters))
    for quarter in quarters:
        covering = [s for s in slots if quarter_covers(s, quarter.start)]
        assert covering
        assert quarter.price == covering[-1].price
    priced = {q.start for q in quarters}
    for slot in slots:
        moment = slot.start + (-(slot.start - FIRST)) % QUARTER
        while moment < slot.end:
            assert moment in priced
            moment += QUARTER


# --- Sensors: detection and today + tomorrow ------------------------------


def test_detect_format() -> None:
    assert (
        detect_format(hacs_attributes(hacs_entries(ROWS))) is PriceFormat.NORDPOOL_HACS
    )
    assert detect_format(hacs_attributes([])) is PriceFormat.NORDPOOL_HACS
    assert (
        detect_format(eds_attributes(eds_entries(ROWS)))
        is PriceFormat.ENERGI_DATA_SERVICE
    )
    assert (
        detect_format({"raw_today": eds_entries(ROWS)})
        is PriceFormat.ENERGI_DATA_SERVICE
    )
    assert (
        detect_format({"raw_today": None, "use_cent": False})
        is PriceFormat.ENERGI_DATA_SERVICE
    )
    assert (
        detect_format({"prices_today": [], "prices_tomorrow": []}) is PriceFormat.ENTSOE
    )
    assert detect_format({"prices": entsoe_entries(ROWS)}) is PriceFormat.ENTSOE
    generic = [{"start": r.start, "end": r.end, "price": r.kwh} for r in ROWS]
    for name in ("prices", "data", "forecast", "raw_today"):
        assert detect_format({name: generic}) is PriceFormat.GENERIC
    assert detect_format({}) is None
    assert detect_format({"data": [{"temperature": 3}], "prices": "cheap"}) is None
    assert detect_format({"data": [1, 2, 3]}) is None


def test_slots_from_attributes_today_and_tomorrow() -> None:
    tomorrow_rows = shifted(ROWS, DAY)
    cases = [
        hacs_attributes(hacs_entries(ROWS), hacs_entries(tomorrow_rows)),
        eds_attributes(eds_entries(ROWS), eds_entries(tomorrow_rows)),
        {
            "prices_today": entsoe_entries(ROWS),
            "prices_tomorrow": entsoe_entries(tomorrow_rows),
            "unit_of_measurement": "EUR/kWh",
        },
        {
            "data": [
                {"from": r.start, "till": r.end, "value": r.mwh}
                for r in ROWS + tomorrow_rows
            ],
            "unit_of_measurement": "EUR/MWh",
        },
    ]
    wanted = to_quarter_slots(
        parse_nordpool(nordpool_response(ROWS + tomorrow_rows), "FI")
    )

    for attributes in cases:
        slots = slots_from_attributes(attributes)
        assert [(s.start, s.end) for s in slots] == [(w.start, w.end) for w in wanted]
        assert [s.price for s in slots] == pytest.approx([w.price for w in wanted])


def test_unknown_sensor() -> None:
    for call in (slots_from_attributes, parse_generic_sensor):
        with pytest.raises(InvalidPrices) as err:
            call({"friendly_name": "Outdoor temperature"})
        assert err.value.reason == "unknown_format"


# --- Garbage ----------------------------------------------------------------

NOW = FIRST.isoformat()
LATER = ROWS[0].end.isoformat()


@pytest.mark.parametrize(
    ("call", "reason"),
    [
        (lambda: parse_nordpool([], "FI"), "not_a_mapping"),
        (lambda: parse_tibber({"prices": []}), "not_a_mapping"),
        (lambda: parse_nordpool({"FI": "cheap"}, "FI"), "not_a_list"),
        (lambda: parse_nordpool_hacs({"raw_today": {"start": NOW}}), "not_a_list"),
        (lambda: parse_nordpool({"FI": [42]}, "FI"), "bad_entry"),
        (
            lambda: parse_nordpool({"FI": [{"start": NOW, "price": 1.0}]}, "FI"),
            "bad_entry",
        ),
        (lambda: parse_generic([{"when": NOW, "price": 1.0}]), "bad_entry"),
        (
            lambda: parse_generic([{"start": "yesterday", "end": LATER, "price": 1}]),
            "bad_time",
        ),
        (
            lambda: parse_generic(
                [{"start": "2024-02-20T00:00", "end": LATER, "price": 1}]
            ),
            "bad_time",
        ),
        (
            lambda: parse_generic([{"start": 1708387200, "end": LATER, "price": 1}]),
            "bad_time",
        ),
        (
            lambda: parse_generic([{"start": NOW, "end": LATER, "price": "cheap"}]),
            "bad_price",
        ),
        (
            lambda: parse_generic([{"start": NOW, "end": LATER, "price": math.nan}]),
            "bad_price",
        ),
        (
            lambda: parse_generic([{"start": NOW, "end": LATER, "price": math.inf}]),
            "bad_price",
        ),
        (
            lambda: parse_generic([{"start": NOW, "end": LATER, "price": True}]),
            "bad_price",
        ),
        (lambda: parse_generic([], {"unit": "GWh"}), "bad_unit"),
        (
            lambda: parse_entsoe({"prices": [], "unit_of_measurement": "EUR/therm"}),
            "bad_unit",
        ),
    ],
)
def test_garbage(call: Any, reason: str) -> None:
    with pytest.raises(InvalidPrices) as err:
        call()

    assert err.value.reason == reason
    assert isinstance(err.value, ValueError)
    assert str(err.value).startswith(reason)


def test_garbage_message_stays_short() -> None:
    with pytest.raises(InvalidPrices) as err:
        parse_nordpool({"FI": "x" * 10_000}, "FI")

    assert len(str(err.value)) < 100


# --- Fixed prices and forecasts ---------------------------------------------


def test_fixed_slots() -> None:
    slots = fixed_slots(FIRST, FIRST + 2 * HOUR, 1.25)

    assert len(slots) == 8
    assert {s.price for s in slots} == {1.25}
    assert slots[0].start == FIRST
    assert slots[-1].end == FIRST + 2 * HOUR
    odd = fixed_slots(FIRST + timedelta(minutes=7), FIRST + HOUR, 1.0)
    assert [s.start for s in odd] == [FIRST + n * QUARTER for n in (1, 2, 3)]


def test_fixed_slots_refuse_garbage() -> None:
    for price in (math.nan, None):
        with pytest.raises(InvalidPrices) as err:
            fixed_slots(FIRST, FIRST + HOUR, price)  # type: ignore[arg-type]
        assert err.value.reason == "bad_price"
    with pytest.raises(InvalidPrices) as err:
        fixed_slots(datetime(2024, 2, 20), FIRST + HOUR, 1.0)  # noqa: DTZ001 - the point
    assert err.value.reason == "bad_time"


KNOWN = parse_nordpool(nordpool_response(ROWS), "FI")


def test_forecast_repeats_the_known_day() -> None:
    """Hourly known prices, a day ahead: each quarter the same time of day."""
    end = ROWS[-1].end

    filled = forecast_slots(KNOWN, end, end + DAY, HELSINKI)

    known_quarters = to_quarter_slots(KNOWN)
    assert len(filled) == 96
    assert [f.start for f in filled] == [q.start + DAY for q in known_quarters]
    assert [f.price for f in filled] == [q.price for q in known_quarters]


def test_forecast_fills_only_what_is_missing() -> None:
    start = FIRST + 12 * HOUR

    filled = forecast_slots(KNOWN, start, start + DAY, HELSINKI)

    assert len(filled) == 48
    assert filled[0].start == ROWS[-1].end
    assert filled[0].price == pytest.approx(ROWS[0].kwh)


def test_forecast_latest_day_wins_else_mean() -> None:
    day_one = [PriceSlot(start=FIRST, end=FIRST + HOUR, price=1.0)]
    day_two = [
        PriceSlot(start=FIRST + DAY, end=FIRST + DAY + HOUR, price=2.0),
        PriceSlot(start=FIRST + DAY + HOUR, end=FIRST + DAY + 2 * HOUR, price=4.0),
    ]
    start = FIRST + 2 * DAY

    filled = forecast_slots(day_two + day_one, start, start + 3 * HOUR, HELSINKI)

    mean = (4 * 1.0 + 4 * 2.0 + 4 * 4.0) / 12
    assert [f.price for f in filled] == [2.0] * 4 + [4.0] * 4 + [mean] * 4


def test_forecast_follows_local_time_across_dst() -> None:
    """After the spring change, 18:00 local is an hour earlier in UTC."""
    evening = datetime(2025, 3, 29, 18, tzinfo=OSLO)
    known = [
        PriceSlot(
            start=evening.astimezone(UTC), end=evening.astimezone(UTC) + HOUR, price=3.0
        )
    ]
    next_evening = datetime(2025, 3, 30, 18, tzinfo=OSLO).astimezone(UTC)

    filled = forecast_slots(known, next_evening - HOUR, next_evening + HOUR, OSLO)

    assert [f.price for f in filled if f.start >= next_evening] == [3.0] * 4
    assert next_evening - evening.astimezone(UTC) == 23 * HOUR


def test_forecast_without_prices_is_empty() -> None:
    assert forecast_slots([], FIRST, FIRST + DAY, HELSINKI) == []
