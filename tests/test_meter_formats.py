"""Meter reader MQTT payloads: real amsreader samples, every format, junk."""

from __future__ import annotations

from dataclasses import fields, replace
from datetime import UTC, datetime
import json
import math
from pathlib import Path

from hypothesis import given, settings, strategies as st
import pytest

from custom_components.homecharge.logic.meter_formats import (
    MAX_CURRENT_A,
    MAX_ENERGY_KWH,
    MAX_POWER_W,
    MAX_VOLTAGE_V,
    InvalidPayload,
    MeterFormat,
    MeterReading,
    complete_phases,
    detect_format,
    parse_message,
    subscription_topics,
)
from custom_components.homecharge.logic.place import GridType

FIXTURES = Path(__file__).parent / "fixtures" / "ams"
CLASSIC = MeterFormat.AMS_JSON_CLASSIC


def payload(name: str) -> str:
    """A single-payload fixture, as the wire has it."""
    return (FIXTURES / name).read_text(encoding="utf-8")


def messages(name: str) -> list[tuple[str, str]]:
    """A fixture of [topic, payload] messages."""
    return [tuple(pair) for pair in json.loads(payload(name))]


def at(seconds: int) -> datetime:
    """A unix time as an aware UTC datetime."""
    return datetime.fromtimestamp(seconds, UTC)


def merged(readings: list[MeterReading | None]) -> MeterReading:
    """The readings of one-value messages folded into one, later ones winning."""
    total = MeterReading()
    for reading in readings:
        assert reading is not None
        for field in fields(MeterReading):
            value = getattr(reading, field.name)
            if field.name in ("current_a", "voltage_v"):
                old = getattr(total, field.name)
                value = tuple(
                    o if n is None else n for o, n in zip(old, value, strict=True)
                )
            elif value is None:
                continue
            total = replace(total, **{field.name: value})
    return total


KAMSTRUP_1039 = MeterReading(
    import_w=5314.0,
    export_w=0.0,
    current_a=(10.20, 10.27, 2.75),
    voltage_v=(231.0, 232.0, 234.0),
    timestamp=at(1759602040),
)
AIDON_LIST2 = MeterReading(
    import_w=1028.0,
    export_w=0.0,
    current_a=(4.80, 0.0, -2.80),
    voltage_v=(240.70, 240.30, 239.90),
    timestamp=at(1790435940),
)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("kamstrup_list2_json_classic_issue1039.json", KAMSTRUP_1039),
        ("aidon_no_list2_json_classic.json", AIDON_LIST2),
        (
            "aidon_no_list1_json_classic.json",
            MeterReading(import_w=1007.0, timestamp=at(1790435942)),
        ),
        (
            "kaifa_no_list3_json_classic_fw2.3.7.json",
            MeterReading(
                import_w=59.0,
                export_w=0.0,
                current_a=(0.10, 0.16, 0.13),
                voltage_v=(227.10, 225.10, 225.20),
                import_kwh=1685.334,
                export_kwh=0.0,
                timestamp=at(1735407960),
            ),
        ),
        (
            "kamstrup_dk_list4_json_fw2.1_legacy.json",
            MeterReading(
                import_w=1091.0,
                export_w=0.0,
                current_a=(0.37, 3.97, 1.32),
                voltage_v=(230.0, 233.0, 234.0),
                import_kwh=27086.02,
                export_kwh=0.0,
                timestamp=at(1650649460),
            ),
        ),
    ],
)
def test_real_classic_samples(name: str, expected: MeterReading) -> None:
    """Every real sample gives its watts, amps, volts, kWh and package time."""
    text = payload(name)
    assert parse_message(CLASSIC, "ams", "ams", text) == expected
    assert parse_message(CLASSIC, "ams", "ams", text.encode()) == expected
    assert detect_format("ams", text) == (CLASSIC, "ams")
    assert detect_format("ams/power/meter", text) == (CLASSIC, "ams/power/meter")


def test_it_grid_l2_from_kirchhoff() -> None:
    """
    The Aidon IT meter reports I2 = 0 and a signed I3: L2 is the worst case.

    With no neutral I1 + I2 + I3 = 0, so |I1| - |I3| <= |I2| <= |I1| + |I3|.
    amsreader's old formula (√3·P − U1·I1 − U3·I3) / U2 assumes power factor 1
    and here lands below even the lower bound: it is no bound for a fuse.
    """
    reading = AIDON_LIST2
    l1, l2, l3 = complete_phases(reading, GridType.THREE_PHASE_230_IT)
    assert (l1, l3) == (4.80, 2.80)
    assert l2 == pytest.approx(7.60)
    u1, u2, u3 = reading.voltage_v
    assert reading.import_w is not None
    assert u1
    assert u2
    assert u3
    amsreader = (math.sqrt(3) * reading.import_w - u1 * 4.80 - u3 * 2.80) / u2
    assert amsreader == pytest.approx(-0.194, abs=1e-3)
    assert amsreader < abs(4.80 - 2.80) <= l2


@pytest.mark.parametrize(
    ("currents", "grid", "expected"),
    [
        ((4.8, 0.0, -2.8), GridType.THREE_PHASE_400_TN, (4.8, 0.0, 2.8)),
        ((-6.0, 2.0, 1.0), GridType.ONE_PHASE_230, (6.0, None, None)),
        ((4.8, 1.5, -2.8), GridType.THREE_PHASE_230_IT, (4.8, 1.5, 2.8)),
        ((4.8, None, 2.0), GridType.THREE_PHASE_230_IT, (4.8, 6.8, 2.0)),
        ((4.8, 0.0, None), GridType.THREE_PHASE_230_IT, (4.8, None, None)),
        ((None, 0.0, None), GridType.THREE_PHASE_230_IT, (None, None, None)),
        ((None, 0.0, None), GridType.THREE_PHASE_400_TN, (None, 0.0, None)),
        ((None, None, None), GridType.THREE_PHASE_230_IT, (None, None, None)),
    ],
)
def test_complete_phases(
    currents: tuple[float | None, float | None, float | None],
    grid: GridType,
    expected: tuple[float | None, float | None, float | None],
) -> None:
    """Magnitudes; L1 only on one phase; an IT grid's I2 of 0 is derived or unknown."""
    assert complete_phases(MeterReading(current_a=currents), grid) == expected


def test_json_multi_topic() -> None:
    """List topics carry the classic payload; system and prices say nothing."""
    fmt = MeterFormat.AMS_JSON_MULTI
    readings = [
        parse_message(fmt, "ams/", topic, text)
        for topic, text in messages("ams_json_multi_messages.json")
    ]
    assert readings == [
        MeterReading(
            import_w=59.0,
            export_w=0.0,
            current_a=(0.10, 0.16, 0.13),
            voltage_v=(227.10, 225.10, 225.20),
            import_kwh=1685.334,
            export_kwh=0.0,
            timestamp=at(1735411560),
        ),
        MeterReading(import_w=61.0, timestamp=at(1735411562)),
        None,
        None,
    ]
    topic, text = messages("ams_json_multi_messages.json")[0]
    assert detect_format(topic, text) == (fmt, "ams")
    assert parse_message(fmt, "ams", "ams", text) is None
    assert parse_message(fmt, "ams", "elsewhere/list1", text) is None


def test_json_flat() -> None:
    """Values at the top level; status, temperatures and prices say nothing."""
    fmt = MeterFormat.AMS_JSON_FLAT
    sent = messages("ams_json_flat_messages.json")
    readings = [parse_message(fmt, "ams", topic, text) for topic, text in sent]
    assert readings == [KAMSTRUP_1039, None, None, None]
    assert detect_format(*sent[0]) == (fmt, "ams")
    assert [detect_format(*message) for message in sent[1:]] == [None, None, None]
    # A classic payload in flat mode has no values at the top level.
    assert (
        parse_message(fmt, "ams", "ams", payload("aidon_no_list2_json_classic.json"))
        is None
    )


def test_raw_values() -> None:
    """One plain-text value per topic; the values fold into the same reading."""
    fmt = MeterFormat.AMS_RAW
    readings = {
        topic: parse_message(fmt, "ams", topic, text)
        for topic, text in messages("ams_raw_full_messages.json")
    }
    read = {
        topic: reading for topic, reading in readings.items() if reading is not None
    }
    assert sorted(read) == sorted(
        f"ams/meter/{sub}"
        for sub in (
            "import/active",
            "export/active",
            "l1/current",
            "l2/current",
            "l3/current",
            "l1/voltage",
            "l2/voltage",
            "l3/voltage",
            "import/active/accumulated",
            "export/active/accumulated",
        )
    )
    assert read["ams/meter/l2/current"] == MeterReading(current_a=(None, 10.27, None))
    assert merged(list(read.values())) == replace(
        KAMSTRUP_1039, import_kwh=30214.562, export_kwh=0.0, timestamp=None
    )
    assert detect_format("ams/meter/import/active", "5314") == (fmt, "ams")
    assert detect_format("ams/meter/l1/current", "-2.80") == (fmt, "ams")
    assert detect_format("ams/meter/id", "xxx") is None
    assert parse_message(fmt, "ams", "ams/meter/l1/current", " ") is None


def test_home_assistant_mode() -> None:
    """State on /power and /energy with ISO times; discovery names the topic."""
    fmt = MeterFormat.AMS_HOMEASSISTANT
    sent = messages("ams_homeassistant_messages.json")
    readings = [parse_message(fmt, "ams", topic, text) for topic, text in sent]
    assert readings == [
        None,
        None,
        replace(KAMSTRUP_1039, timestamp=datetime(2025, 10, 4, 18, 20, 40, tzinfo=UTC)),
        MeterReading(
            import_kwh=30214.562,
            export_kwh=0.0,
            timestamp=datetime(2025, 10, 4, 18, 0, 2, tzinfo=UTC),
        ),
        None,
        None,
    ]
    assert [detect_format(*message) for message in sent] == [
        (fmt, "ams"),
        (fmt, "ams"),
        (fmt, "ams"),
        (fmt, "ams"),
        None,
        None,
    ]
    # An unset clock is an empty string in this mode.
    assert parse_message(fmt, "ams", "ams/power", '{"P":12,"t":""}') == MeterReading(
        import_w=12.0
    )


@pytest.mark.parametrize(
    ("topic", "config"),
    [
        (
            "homeassistant/sensor/x_P/config",
            {"dev": {"name": "Other"}, "stat_t": "ams/power"},
        ),
        (
            "homeassistant/sensor/x_P/config",
            {"dev": "AMS reader", "stat_t": "ams/power"},
        ),
        (
            "homeassistant/sensor/x_P/config",
            {"dev": {"name": "AMS reader"}, "stat_t": "power"},
        ),
        (
            "homeassistant/sensor/x_P/config",
            {"dev": {"name": "AMS reader"}, "stat_t": "a/b"},
        ),
        (
            "homeassistant/light/x_P/config",
            {"dev": {"name": "AMS reader"}, "stat_t": "a/power"},
        ),
        ("homeassistant/sensor/x_P/config", [1]),
    ],
)
def test_not_an_amsreader_discovery(topic: str, config: object) -> None:
    """Other devices' discovery configs are not mistaken for a reader."""
    assert detect_format(topic, json.dumps(config)) is None
    assert detect_format(topic, "{") is None


def test_amsreader_discovery_with_name_tag() -> None:
    """A name tag makes the device "AMS reader (tag)"; the prefix may differ."""
    config = {"dev": {"name": "AMS reader (garage)"}, "stat_t": "home/ams2/energy"}
    assert detect_format("ha/sensor/ams2_tPI/config", json.dumps(config)) == (
        MeterFormat.AMS_HOMEASSISTANT,
        "home/ams2",
    )


DSMR_TELEGRAM = MeterReading(
    import_w=1234.0,
    export_w=0.0,
    current_a=(2.0, 1.0, 1.0),
    voltage_v=(231.0, 229.0, 230.0),
    import_kwh=8123.456 + 7411.009,
    export_kwh=1204.118 + 2833.541,
    timestamp=datetime(2024, 5, 14, 9, 41, 50, tzinfo=UTC),
)


def test_dsmr_json() -> None:
    """kW become W; the two tariff registers add up to the total."""
    fmt = MeterFormat.DSMR_JSON
    text = payload("dsmr_json.json")
    assert parse_message(fmt, "dsmr/json", "dsmr/json", text) == DSMR_TELEGRAM
    assert detect_format("dsmr/json", text) == (fmt, "dsmr/json")
    assert parse_message(fmt, "dsmr/json", "dsmr/json/x", text) is None
    # An empty string is a value the telegram did not have.
    sparse = '{"electricity_currently_delivered": "", "phase_voltage_l1": "230.0"}'
    assert parse_message(fmt, "dsmr/json", "dsmr/json", sparse) == MeterReading(
        voltage_v=(230.0, None, None)
    )


def test_dsmr_json_half_a_register_is_no_values() -> None:
    """A telegram with only one tariff register carries no usable value."""
    half = {"electricity_delivered_1": "5.0", "timestamp": "2024-05-14T11:41:50+02:00"}
    with pytest.raises(InvalidPayload) as err:
        parse_message(MeterFormat.DSMR_JSON, "dsmr/json", "dsmr/json", json.dumps(half))
    assert err.value.reason == "no_values"


def test_dsmr_signed_delivered_power_is_export() -> None:
    """Easymeter Q3D signs the delivered power: negative means export."""
    fmt = MeterFormat.DSMR_JSON
    telegram = {
        "electricity_currently_delivered": "-1.500",
        "electricity_currently_returned": "0.000",
        "timestamp": "2024-05-14T11:41:50+02:00",
    }
    assert parse_message(
        fmt, "dsmr/json", "dsmr/json", json.dumps(telegram)
    ) == MeterReading(
        import_w=0.0,
        export_w=1500.0,
        timestamp=datetime(2024, 5, 14, 9, 41, 50, tzinfo=UTC),
    )


def test_dsmr_split() -> None:
    """One text value per topic; the tariff registers alone say nothing."""
    fmt = MeterFormat.DSMR_SPLIT
    sent = messages("dsmr_split_messages.json")
    readings = {
        topic: parse_message(fmt, "dsmr/reading", topic, text)
        for topic, text in sent[:-1]
    }
    read = [reading for reading in readings.values() if reading is not None]
    assert len(read) == 8
    assert merged(read) == replace(
        DSMR_TELEGRAM, import_kwh=None, export_kwh=None, timestamp=None
    )
    assert readings["dsmr/reading/phase_power_current_l1"] == MeterReading(
        current_a=(2.0, None, None)
    )
    # dsmr-reader sends a missing value as an empty payload.
    assert parse_message(fmt, "dsmr/reading", *sent[-1]) is None
    assert detect_format("dsmr/reading/electricity_currently_delivered", "1.234") == (
        fmt,
        "dsmr/reading",
    )
    assert detect_format("dsmr/reading/timestamp", "2024-05-14T09:41:50Z") is None
    assert detect_format("dsmr/reading/phase_voltage_l1", "abc") is None


@pytest.mark.parametrize(
    ("fmt", "topic", "expected"),
    [
        (CLASSIC, "ams", ("ams",)),
        (CLASSIC, " ams/# ", ("ams",)),
        (MeterFormat.AMS_JSON_FLAT, "ams/", ("ams",)),
        (MeterFormat.DSMR_JSON, "dsmr/json", ("dsmr/json",)),
        (
            MeterFormat.AMS_JSON_MULTI,
            "ams/#",
            ("ams/list1", "ams/list2", "ams/list3", "ams/list4"),
        ),
        (MeterFormat.AMS_RAW, "ams", ("ams/meter/#",)),
        (MeterFormat.AMS_HOMEASSISTANT, "ams//", ("ams/power", "ams/energy")),
        (MeterFormat.DSMR_SPLIT, "dsmr/reading/#", ("dsmr/reading/+",)),
    ],
)
def test_subscription_topics(
    fmt: MeterFormat, topic: str, expected: tuple[str, ...]
) -> None:
    """The filters for a base topic, whatever the user appended."""
    assert subscription_topics(fmt, topic) == expected


def test_empty_topic_is_refused() -> None:
    """A base topic of only wildcards and slashes names nothing."""
    with pytest.raises(ValueError, match="empty"):
        subscription_topics(CLASSIC, "/#")
    assert detect_format("/meter/import/active", "1") is None
    assert detect_format("#/meter/import/active", "1") is None


CLASSIC_JUNK = [
    ("", "not_json"),
    ("garbage", "not_json"),
    ('{"data":{"P":1028,"I1":4.8', "not_json"),
    ("[" * 100_000, "not_json"),
    ('{"data":{"P":' + "9" * 5000 + "}}", "not_json"),
    ("[1, 2]", "wrong_type"),
    ('"text"', "wrong_type"),
    ('{"data":[1]}', "wrong_type"),
    ('{"data":{"P":"1028"}}', "wrong_type"),
    ('{"data":{"P":true}}', "wrong_type"),
    ('{"data":{"P":{"x":1}}}', "wrong_type"),
    ('{"data":{"I1":[4.8]}}', "wrong_type"),
    ('{"t":[],"data":{"P":1}}', "wrong_type"),
    ('{"data":{"P":NaN}}', "not_finite"),
    ('{"data":{"U1":-Infinity}}', "not_finite"),
    ('{"data":{"P":1e400}}', "not_finite"),
    ('{"data":{"P":1},"temp":NaN}', "not_finite"),
    ('{"data":{"I3":-10000000}}', "out_of_range"),
    ('{"data":{"I1":1000.5}}', "out_of_range"),
    ('{"data":{"P":-5}}', "out_of_range"),
    ('{"data":{"P":2000001}}', "out_of_range"),
    ('{"data":{"P":' + "9" * 400 + "}}", "out_of_range"),
    ('{"data":{"U2":500.1}}', "out_of_range"),
    ('{"data":{"U2":-1}}', "out_of_range"),
    ('{"data":{"tPI":-0.001}}', "out_of_range"),
    ('{"data":{}}', "no_values"),
    ('{"data":{"P":null,"lv":"x"}}', "no_values"),
]


@pytest.mark.parametrize(("text", "reason"), CLASSIC_JUNK)
def test_classic_junk_is_rejected(text: str, reason: str) -> None:
    """Garbage, truncation, wrong types, NaN and absurd values never pass."""
    with pytest.raises(InvalidPayload) as err:
        parse_message(CLASSIC, "ams", "ams", text)
    assert err.value.reason == reason
    assert str(err.value) == reason
    assert detect_format("ams", text) is None


@pytest.mark.parametrize(
    ("fmt", "topic", "text", "reason"),
    [
        (CLASSIC, "ams", b"\xff\xfe{}", "not_text"),
        (MeterFormat.AMS_RAW, "ams/meter/import/active", "12 W", "not_number"),
        (MeterFormat.AMS_RAW, "ams/meter/import/active", "0x10", "not_number"),
        (MeterFormat.AMS_RAW, "ams/meter/l1/voltage", "nan", "not_finite"),
        (MeterFormat.AMS_RAW, "ams/meter/l1/voltage", "-inf", "not_finite"),
        (MeterFormat.AMS_RAW, "ams/meter/l1/voltage", "ovf", "not_finite"),
        (MeterFormat.AMS_RAW, "ams/meter/l1/voltage", "1e999", "not_finite"),
        (MeterFormat.AMS_RAW, "ams/meter/l3/current", "-10000000.00", "out_of_range"),
        (
            MeterFormat.AMS_RAW,
            "ams/meter/import/active/accumulated",
            "-1",
            "out_of_range",
        ),
        (MeterFormat.AMS_HOMEASSISTANT, "ams/power", "[]", "wrong_type"),
        (MeterFormat.AMS_HOMEASSISTANT, "ams/energy", '{"tPO":-2.5}', "out_of_range"),
        (MeterFormat.AMS_JSON_FLAT, "ams", '{"P":"5"}', "wrong_type"),
        (
            MeterFormat.DSMR_SPLIT,
            "d/electricity_currently_delivered",
            "1,5",
            "not_number",
        ),
        (
            MeterFormat.DSMR_SPLIT,
            "d/electricity_currently_delivered",
            "2000.001",
            "out_of_range",
        ),
        (
            MeterFormat.DSMR_SPLIT,
            "d/electricity_currently_returned",
            "-0.5",
            "out_of_range",
        ),
        (
            MeterFormat.DSMR_JSON,
            "d",
            '{"electricity_currently_delivered": "abc"}',
            "not_number",
        ),
        (
            MeterFormat.DSMR_JSON,
            "d",
            '{"electricity_currently_delivered": false}',
            "wrong_type",
        ),
        (MeterFormat.DSMR_JSON, "d", '{"phase_voltage_l1": [230]}', "wrong_type"),
        (
            MeterFormat.DSMR_JSON,
            "d",
            '{"id": 1, "timestamp": "2024-05-14T09:41:50Z"}',
            "no_values",
        ),
        (
            MeterFormat.DSMR_JSON,
            "d",
            '{"electricity_delivered_1": "600000000", "electricity_delivered_2": "600000000"}',
            "out_of_range",
        ),
        (
            MeterFormat.DSMR_JSON,
            "d",
            '{"electricity_delivered_1": "-5", "electricity_delivered_2": "10"}',
            "out_of_range",
        ),
    ],
)
def test_other_formats_reject_junk(
    fmt: MeterFormat, topic: str, text: str | bytes, reason: str
) -> None:
    """Text numbers only where the format sends text, and only real numbers."""
    base = (
        topic.partition("/")[0]
        if fmt not in (CLASSIC, MeterFormat.AMS_JSON_FLAT, MeterFormat.DSMR_JSON)
        else topic
    )
    with pytest.raises(InvalidPayload) as err:
        parse_message(fmt, base, topic, text)
    assert err.value.reason == reason
    assert detect_format(topic, text) is None


def test_what_is_not_a_reading() -> None:
    """Status messages, other topics and unset clocks give nothing."""
    status = '{"id":"xx","name":"ams","up":5,"vcc":3.3,"rssi":-70,"temp":-127.00,"version":"v2.1"}'
    assert parse_message(CLASSIC, "ams", "ams", status) is None
    assert parse_message(CLASSIC, "ams", "ams/list1", status) is None
    assert (
        parse_message(MeterFormat.AMS_RAW, "ams", "amsx/meter/l1/current", "1") is None
    )
    assert (
        parse_message(
            MeterFormat.AMS_RAW, "ams", "ams/meter/dlms/timestamp", "1759602040"
        )
        is None
    )
    assert (
        parse_message(MeterFormat.AMS_HOMEASSISTANT, "ams", "ams/realtime", "junk")
        is None
    )
    energy = '{"rtc":1}'
    assert (
        parse_message(MeterFormat.AMS_HOMEASSISTANT, "ams", "ams/energy", energy)
        is None
    )
    assert detect_format("ams", status) is None
    assert detect_format("ams", "[]") is None
    assert detect_format("ams", '{"P": 5}') is None
    assert detect_format("somewhere", "12") is None
    # amsreader sends t = 0 until its clock is set; naive or odd times are dropped.
    for t in ("0", '"2024-05-14T09:41:50"', '"yesterday"', "4102444800", "null"):
        text = '{"t":' + t + ',"data":{"P":5}}'
        assert parse_message(CLASSIC, "ams", "ams", text) == MeterReading(import_w=5.0)


def test_empty_reading() -> None:
    """Empty means nothing at all, a timestamp included."""
    assert MeterReading().empty
    assert not MeterReading(import_w=0.0).empty
    assert not MeterReading(current_a=(None, None, 0.0)).empty
    assert not MeterReading(timestamp=at(1759602040)).empty


def test_negative_zero_is_zero() -> None:
    """A signed meter's -0.00 A is plain 0 A."""
    reading = parse_message(CLASSIC, "ams", "ams", '{"data":{"I3":-0.00}}')
    assert reading is not None
    assert math.copysign(1, reading.current_a[2] or 0.0) == 1.0


KEYS = ["P", "PO", "I1", "I2", "I3", "U1", "U2", "U3", "tPI", "tPO", "t", "data", "up"]
KEYS += [
    "electricity_currently_delivered",
    "electricity_currently_returned",
    "electricity_delivered_1",
    "electricity_delivered_2",
    "phase_power_current_l1",
    "phase_voltage_l2",
    "timestamp",
]
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=12)
    | st.sampled_from(["1.25", "-3", "nan", "1e999", "", "2024-05-14T09:41:50Z"])
)
JSON_VALUES = st.recursive(
    SCALARS,
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(
        st.sampled_from(KEYS) | st.text(max_size=4), children, max_size=6
    ),
    max_leaves=20,
)
PAYLOADS = (
    st.text()
    | st.binary()
    | JSON_VALUES.map(json.dumps)
    | st.dictionaries(st.sampled_from(KEYS), JSON_VALUES, max_size=8).map(json.dumps)
    | st.dictionaries(st.sampled_from(KEYS), SCALARS, max_size=8).map(
        lambda data: json.dumps({"data": data, "t": 1759602040})
    )
)
TOPICS = st.sampled_from(
    [
        "b",
        "b/list2",
        "b/power",
        "b/energy",
        "b/meter/import/active",
        "b/meter/l2/current",
        "b/meter/export/active/accumulated",
        "b/electricity_currently_delivered",
        "b/phase_power_current_l3",
        "b/timestamp",
        "elsewhere",
    ]
)


def in_range(reading: MeterReading) -> bool:
    """Every value finite and within what a home connection can measure."""
    power = [reading.import_w, reading.export_w]
    energy = [reading.import_kwh, reading.export_kwh]
    return (
        all(value is None or 0 <= value <= MAX_POWER_W for value in power)
        and all(value is None or 0 <= value <= MAX_ENERGY_KWH for value in energy)
        and all(
            value is None or abs(value) <= MAX_CURRENT_A for value in reading.current_a
        )
        and all(
            value is None or 0 <= value <= MAX_VOLTAGE_V for value in reading.voltage_v
        )
        and (reading.timestamp is None or reading.timestamp.tzinfo is UTC)
    )


@settings(max_examples=400)
@given(fmt=st.sampled_from(MeterFormat), topic=TOPICS, text=PAYLOADS)
def test_anything_parses_or_is_rejected(
    fmt: MeterFormat, topic: str, text: str | bytes
) -> None:
    """Whatever arrives: a sane reading, None, or InvalidPayload; never a crash."""
    reason, reading = None, None
    try:
        reading = parse_message(fmt, "b", topic, text)
    except InvalidPayload as err:
        reason = err.reason
    assert reason is None or reason.isidentifier()
    assert reading is None or (not reading.empty and in_range(reading))
    detected = detect_format(topic, text)
    if detected is not None:
        assert parse_message(*detected, topic, text) is not None
