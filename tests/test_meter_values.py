"""Pure OCPP meter value parsing: real frames, units, phases, junk."""

from __future__ import annotations

from datetime import UTC, datetime
import json
import math
from pathlib import Path
from typing import Any

from hypothesis import given, strategies as st
from ocpp.charge_point import camel_to_snake_case
import pytest

from custom_components.homecharge.central.meter_values import (
    LIMITS,
    PHASES,
    Measurand,
    MeterSample,
    parse_meter_value,
    parse_meter_values,
    session_energy_kwh,
    wh_from_meter_register,
)

FIXTURES = Path(__file__).parent / "fixtures" / "ocpp"


def payload(name: str, action: str) -> dict[str, Any]:
    """The first CALL payload of an action in a fixture, as the wire has it."""
    frames = json.loads((FIXTURES / name).read_text(encoding="utf-8"))
    return next(frame[3] for frame in frames if frame[0] == 2 and frame[2] == action)


def samples(name: str) -> list[MeterSample]:
    """A fixture's MeterValues as a handler sees them (the ocpp package's snake_case)."""
    data = camel_to_snake_case(payload(name, "MeterValues"))
    return parse_meter_values(data["meter_value"])


def one(**sampled: Any) -> MeterSample:
    """Parse an element with a single sampled value."""
    return parse_meter_value({"sampled_value": [sampled]})


def test_injet_kw_power_and_neutral_current() -> None:
    """Injet sends power in kW and its current on phase N, which has no slot."""
    assert samples("injet_1.6_metervalues_phaseN.json") == [
        MeterSample(
            timestamp=datetime(2024, 9, 5, 21, 41, 59, 333000, tzinfo=UTC),
            energy_wh=254780.0,
            power_w=3500.0,
            current_a=(None, None, None),
            voltage_v=(231.1, None, None),
        )
    ]


def test_abb_three_phases_summed() -> None:
    """ABB gives power per phase only: the total is their sum; "L1-N" is L1."""
    (sample,) = samples("abb_terra_ac_1.6_metervalues_rebuilt.json")
    assert sample.timestamp == datetime(2025, 10, 5, 3, 37, 44, tzinfo=UTC)
    assert sample.power_w == 3464.0 + 3492.0 + 3416.0
    assert sample.energy_wh is None
    assert sample.current_a == (15.21, 15.42, 15.15)
    assert sample.voltage_v == (229.0, 227.9, 226.7)


def test_growatt_periodic_register_beats_transaction_begin() -> None:
    """The register at the transaction's start is not the current reading."""
    (sample,) = samples("growatt_thor_1.6_metervalues_rebuilt.json")
    assert sample.energy_wh == 163630.0
    assert sample.timestamp == datetime(2026, 1, 5, 4, 58, 38, tzinfo=UTC)
    assert sample.current_a == (5.84, 5.90, 6.18)
    begin = {"value": "1", "context": "Transaction.Begin"}
    periodic = {"value": "2", "context": "Sample.Periodic"}
    for order in ([begin, periodic], [periodic, begin]):
        assert parse_meter_value({"sampled_value": order}).energy_wh == 2.0


def test_kwh_register_and_kw_total() -> None:
    """kWh and kW are converted; the unphased total wins over phase powers."""
    (sample,) = samples("unknown_1.6_metervalues_kwh_rebuilt.json")
    assert sample.energy_wh == pytest.approx(733255.884)
    assert sample.power_w == 0.0
    assert sample.current_a == (0.0, 0.0, 0.0)
    assert sample.voltage_v == (241.87, 242.29, None)
    assert sample.soc_percent is None


def test_zaptec_one_measurand_per_element() -> None:
    """Each element becomes its own sample with only what it carries."""
    at = datetime(2026, 4, 17, 17, 30, 12, tzinfo=UTC)
    assert samples("zaptec_go2_1.6_metervalues_rebuilt.json") == [
        MeterSample(timestamp=at, power_w=0.0),
        MeterSample(timestamp=at, energy_wh=4296944685.0),
        MeterSample(timestamp=at, current_a=(0.0, 0.0, 0.0)),
        MeterSample(timestamp=at, voltage_v=(0.1, 0.1, None)),
    ]


@pytest.mark.parametrize(
    "name",
    [
        "abb_terra_ac_1.6_metervalues_rebuilt.json",
        "growatt_thor_1.6_metervalues_rebuilt.json",
        "injet_1.6_metervalues_phaseN.json",
        "unknown_1.6_metervalues_kwh_rebuilt.json",
        "zaptec_go2_1.6_metervalues_rebuilt.json",
    ],
)
def test_camel_case_wire_frames_read_the_same(name: str) -> None:
    """Raw frames (sampledValue) give what the ocpp package's dicts give."""
    assert parse_meter_values(payload(name, "MeterValues")["meterValue"]) == samples(
        name
    )


def test_evbox_stop_transaction() -> None:
    """StopTransaction's meterStop is an integer in Wh."""
    stop = payload("evbox_1.6_stoptransaction.json", "StopTransaction")
    assert stop["idTag"] == "TAG-1"
    stop_wh = wh_from_meter_register(stop["meterStop"])
    assert stop_wh == 2034698.0
    # The frame has no StartTransaction: the start register is made up.
    assert session_energy_kwh(2021198.0, stop_wh) == 13.5


@pytest.mark.parametrize(
    ("sampled", "field", "value"),
    [
        ({"value": "12.5", "unit": "kWh"}, "energy_wh", 12500.0),
        ({"value": "12500", "unit": "Wh"}, "energy_wh", 12500.0),
        ({"value": "12.5", "unit": "KWH"}, "energy_wh", 12500.0),
        ({"value": "12500"}, "energy_wh", 12500.0),
        (
            {"value": "7", "measurand": "Power.Active.Import", "unit": "kW"},
            "power_w",
            7000.0,
        ),
        (
            {"value": "7", "measurand": "Power.Active.Import", "unit": "W"},
            "power_w",
            7.0,
        ),
        ({"value": "7", "measurand": "Power.Active.Import"}, "power_w", 7.0),
        (
            {"value": "7", "measurand": "Power.Active.Import", "unit": ""},
            "power_w",
            7.0,
        ),
        (
            {"value": "7", "measurand": "Power.Active.Import", "unit": None},
            "power_w",
            7.0,
        ),
        ({"value": "80", "measurand": "SoC", "unit": "Percent"}, "soc_percent", 80.0),
        ({"value": "80", "measurand": "SoC"}, "soc_percent", 80.0),
        ({"value": 42}, "energy_wh", 42.0),
        ({"value": 4.5, "unit": "kWh"}, "energy_wh", 4500.0),
        ({"value": " 1e3 "}, "energy_wh", 1000.0),
        ({"value": "-0"}, "energy_wh", 0.0),
        ({"value": "1e10"}, "energy_wh", 1e10),
        (
            {"value": "1e4", "measurand": "Current.Import"},
            "current_a",
            (1e4, None, None),
        ),
        (
            {"value": "1e4", "measurand": "Power.Active.Import", "unit": "kW"},
            "power_w",
            1e7,
        ),
        ({"value": "100", "measurand": "SoC"}, "soc_percent", 100.0),
    ],
)
def test_units_and_defaults(sampled: dict[str, Any], field: str, value: object) -> None:
    """Wh/kWh, W/kW, and OCPP's defaults for a missing measurand or unit."""
    assert getattr(one(**sampled), field) == value


@pytest.mark.parametrize(
    "sampled",
    [
        {"value": "1", "unit": "varh"},
        {"value": "1", "unit": "W"},
        {"value": "1", "measurand": "Power.Active.Import", "unit": "kWh"},
        {"value": "1", "measurand": "Current.Import", "unit": "mA"},
        {"value": "1", "measurand": "Voltage", "unit": "Celsius"},
        {"value": "1", "unit": 3},
        {"value": "1", "measurand": "Temperature", "unit": "Celsius"},
        {"value": "1", "measurand": "Current.Offered", "unit": "A"},
        {"value": "1", "measurand": "Energy.Active.Export.Register"},
        {"value": "1", "measurand": ["Voltage"]},
        {"value": "1", "format": "SignedData"},
        {"value": "1", "phase": "N"},
        {"value": "1", "measurand": "Voltage", "phase": "L1-L2"},
        {"value": "1", "phase": ["L1"]},
        {"value": "-1"},
        {"value": "10000000001"},
        {"value": "10000001", "measurand": "Power.Active.Import"},
        {"value": "10001", "measurand": "Current.Import"},
        {"value": "10001", "measurand": "Voltage"},
        {"value": "101", "measurand": "SoC"},
        {"value": "1", "measurand": "SoC", "phase": "L1"},
        {"value": "abc"},
        {"value": ""},
        {"value": "NaN"},
        {"value": "nan"},
        {"value": "inf"},
        {"value": "-Infinity"},
        {"value": "1e999"},
        {"value": "1_000"},
        {"value": "1,5"},
        {"value": "0x10"},
        {"value": None},
        {"value": True},
        {"value": []},
        {"value": {}},
        {"value": math.nan},
        {"value": math.inf},
        {"value": 10**400},
        {},
    ],
)
def test_garbage_is_dropped(sampled: dict[str, Any]) -> None:
    """A reading we cannot trust or do not read leaves the sample empty."""
    assert one(**sampled) == MeterSample()


def test_unphased_current_is_l1_only_alone() -> None:
    """A lone unphased current is a single-phase charger's; beside phases it is not."""
    assert one(value="16", measurand="Current.Import").current_a == (16.0, None, None)
    sample = parse_meter_value(
        {
            "sampled_value": [
                {"value": "30", "measurand": "Current.Import"},
                {"value": "10", "measurand": "Current.Import", "phase": "L2"},
                {"value": "9", "measurand": "Current.Import", "phase": "N"},
            ]
        }
    )
    assert sample.current_a == (None, 10.0, None)
    assert one(value="230", measurand="Voltage").voltage_v == (230.0, None, None)


@pytest.mark.parametrize(
    "measurand", ["Power.Active.Import", "Energy.Active.Import.Register"]
)
def test_phases_add_up_only_without_a_total(measurand: str) -> None:
    """Per-phase power and energy make the total only when there is none."""
    phased = [
        {"value": "1000", "measurand": measurand, "phase": "L1"},
        {"value": "1100", "measurand": measurand, "phase": "L2-N"},
    ]
    total = {"value": "1500", "measurand": measurand}
    field = "power_w" if measurand == "Power.Active.Import" else "energy_wh"
    assert getattr(parse_meter_value({"sampled_value": phased}), field) == 2100.0
    for order in ([*phased, total], [total, *phased]):
        assert getattr(parse_meter_value({"sampled_value": order}), field) == 1500.0


def test_phase_names() -> None:
    """L1..L3 and their phase-to-neutral names fill the same slots."""
    for phase, slot in PHASES.items():
        expected = [None, None, None]
        expected[slot] = 6.0
        assert one(
            value="6", measurand="Current.Import", phase=phase
        ).current_a == tuple(expected)


def test_first_reading_wins_and_a_bad_one_does_not_count() -> None:
    """A repeated measurand keeps its first usable value."""
    sample = parse_meter_value(
        {"sampled_value": [{"value": "x"}, {"value": "5"}, {"value": "6"}]}
    )
    assert sample.energy_wh == 5.0


@pytest.mark.parametrize(
    ("sampled", "value"),
    [
        ({"value": 7.4, "unit_of_measure": {"unit": "kW"}}, 7400.0),
        ({"value": 7.4, "unitOfMeasure": {"unit": "W", "multiplier": 3}}, 7400.0),
        ({"value": "7400", "unit_of_measure": {"multiplier": 0}}, 7400.0),
        ({"value": 7400, "unit_of_measure": {}}, 7400.0),
        ({"value": 74, "unit_of_measure": {"unit": "W", "multiplier": 2}}, 7400.0),
        ({"value": 7.4, "unit_of_measure": {"unit": "W", "multiplier": "3"}}, None),
        ({"value": 7.4, "unit_of_measure": {"unit": "W", "multiplier": True}}, None),
        ({"value": 7.4, "unit_of_measure": {"unit": "W", "multiplier": 20}}, None),
        ({"value": "x", "unit_of_measure": {"unit": "W"}}, None),
        ({"value": 7.4, "unit_of_measure": {"unit": "Wh"}}, None),
    ],
)
def test_ocpp_201_unit_of_measure(sampled: dict[str, Any], value: float | None) -> None:
    """2.0.1 readings: number values, unitOfMeasure with a power-of-ten multiplier."""
    sample = one(measurand="Power.Active.Import", **sampled)
    assert sample.power_w == pytest.approx(value)


@pytest.mark.parametrize(
    ("text", "moment"),
    [
        ("2024-09-05T21:41:59Z", datetime(2024, 9, 5, 21, 41, 59, tzinfo=UTC)),
        ("2026-01-05T14:58:38+10:00", datetime(2026, 1, 5, 4, 58, 38, tzinfo=UTC)),
        ("2024-09-05T21:41:59", datetime(2024, 9, 5, 21, 41, 59, tzinfo=UTC)),
        (
            " 2024-09-05T21:41:59.5Z ",
            datetime(2024, 9, 5, 21, 41, 59, 500000, tzinfo=UTC),
        ),
        ("yesterday", None),
        ("", None),
        ("0001-01-01T00:00:00+01:00", None),
        (1725572519, None),
        (None, None),
    ],
)
def test_timestamps(text: object, moment: datetime | None) -> None:
    """Times are UTC; a time without an offset is UTC, as OCPP says."""
    sample = parse_meter_value({"timestamp": text, "sampled_value": []})
    assert sample.timestamp == moment
    assert sample.timestamp is None or sample.timestamp.tzinfo is UTC


@pytest.mark.parametrize(
    "entry",
    [
        {},
        {"timestamp": "2024-09-05T21:41:59Z"},
        {"sampled_value": None},
        {"sampled_value": "1234"},
        {"sampled_value": {"value": "1"}},
        {"sampledValue": 12},
        {"sampled_value": [None, 1, "x", [], ["value", "1"]]},
        [{"value": "1"}],
        "meter",
        None,
    ],
)
def test_broken_elements(entry: Any) -> None:
    """Elements without usable sampled values give an empty sample."""
    assert parse_meter_value(entry).energy_wh is None


def test_parse_meter_values_skips_what_is_not_an_element() -> None:
    """Non-dict elements are left out; a non-list gives nothing."""
    good = {"sampled_value": [{"value": "5"}]}
    assert parse_meter_values([good, None, "x", 3, good]) == [
        MeterSample(energy_wh=5.0),
        MeterSample(energy_wh=5.0),
    ]
    bad: Any
    for bad in (None, "meter", {"sampled_value": []}, 5):
        assert parse_meter_values(bad) == []


@pytest.mark.parametrize(
    ("value", "unit", "wh"),
    [
        (2034698, "Wh", 2034698.0),
        ("2034698", None, 2034698.0),
        ("733.255884", "kWh", 733255.884),
        (12.5, "kwh", 12500.0),
        ("12", "", 12.0),
        (-1, "Wh", None),
        ("x", "Wh", None),
        (5, "W", None),
        (True, "Wh", None),
        (1e11, "Wh", None),
        (math.nan, "Wh", None),
    ],
)
def test_wh_from_meter_register(value: Any, unit: str | None, wh: float | None) -> None:
    """Start and stop registers in Wh (1.6 integers) or kWh (2.0.1 decimals)."""
    assert wh_from_meter_register(value, unit) == pytest.approx(wh)


def test_wh_from_meter_register_defaults_to_wh() -> None:
    """meterStart and meterStop are Wh."""
    assert wh_from_meter_register(4265924) == 4265924.0


@pytest.mark.parametrize(
    ("start", "stop", "kwh"),
    [
        (1000.0, 3500.0, 2.5),
        (3500.0, 3500.0, 0.0),
        (4296944685.0, 1977389.0, 0.0),  # a register that wrapped or was reset
        (math.nan, 1.0, 0.0),
        (0.0, math.inf, 0.0),
    ],
)
def test_session_energy_kwh(start: float, stop: float, kwh: float) -> None:
    """Stop minus start in kWh, never negative."""
    assert session_energy_kwh(start, stop) == kwh


registers = st.floats(min_value=0, max_value=1e10)


@given(start=registers, stop=registers)
def test_session_energy_never_negative(start: float, stop: float) -> None:
    """Whatever the registers say, a session's energy is never negative."""
    kwh = session_energy_kwh(start, stop)
    assert kwh >= 0
    if stop >= start:
        assert kwh == (stop - start) / 1000


@given(start=st.floats(), stop=st.floats())
def test_session_energy_any_float(start: float, stop: float) -> None:
    """Even NaN and infinities give a finite, non-negative energy."""
    kwh = session_energy_kwh(start, stop)
    assert math.isfinite(kwh)
    assert kwh >= 0


junk = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=12,
)


def maybe(values: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Mostly plausible values, sometimes junk."""
    return values | junk


sampled_values = st.fixed_dictionaries(
    {},
    optional={
        "value": maybe(st.floats().map(str) | st.integers().map(str) | st.floats()),
        "measurand": maybe(st.sampled_from([*Measurand, "Temperature", "Frequency"])),
        "unit": maybe(st.sampled_from(["Wh", "kWh", "W", "kW", "A", "V", "Percent"])),
        "phase": maybe(st.sampled_from([*PHASES, "N", "L1-L2"])),
        "context": maybe(st.sampled_from(["Transaction.Begin", "Sample.Periodic"])),
        "format": maybe(st.sampled_from(["Raw", "SignedData"])),
        "unit_of_measure": maybe(
            st.fixed_dictionaries({}, optional={"unit": junk, "multiplier": junk})
        ),
    },
)
elements = st.fixed_dictionaries(
    {},
    optional={
        "timestamp": maybe(st.datetimes().map(datetime.isoformat)),
        "sampled_value": maybe(st.lists(sampled_values | junk, max_size=8)),
        "sampledValue": junk,
    },
)


def assert_sane(sample: MeterSample) -> None:
    """Every number a sample holds is finite, non-negative and in range."""
    assert sample.timestamp is None or sample.timestamp.tzinfo is UTC
    # Energy and power may be the sum of three phases.
    bounded = [
        (sample.energy_wh, 3 * LIMITS[Measurand.ENERGY]),
        (sample.power_w, 3 * LIMITS[Measurand.POWER]),
        (sample.soc_percent, LIMITS[Measurand.SOC]),
        *((a, LIMITS[Measurand.CURRENT]) for a in sample.current_a),
        *((v, LIMITS[Measurand.VOLTAGE]) for v in sample.voltage_v),
    ]
    for value, limit in bounded:
        assert value is None or 0 <= value <= limit


@given(entries=st.lists(elements | junk, max_size=5) | junk)
def test_parse_never_raises(entries: Any) -> None:
    """Whatever arrives, parsing gives sane samples and never raises."""
    for sample in parse_meter_values(entries):
        assert_sane(sample)
    assert_sane(parse_meter_value(entries))


@given(sampled=st.lists(sampled_values, max_size=8))
def test_snake_and_camel_case_agree(sampled: list[dict[str, Any]]) -> None:
    """The ocpp package's snake_case dicts and raw camelCase frames read alike."""
    camel = [
        {
            "unitOfMeasure" if key == "unit_of_measure" else key: value
            for key, value in item.items()
        }
        for item in sampled
    ]
    assert parse_meter_value({"sampled_value": sampled}) == parse_meter_value(
        {"sampledValue": camel}
    )
