"""
What a home electricity meter reader says over MQTT, in plain numbers.

Pure logic, no Home Assistant imports. One MQTT message from amsreader-firmware
(the HAN/P1 reader formerly AmsToMqttBridge: JSON classic, multi topic and flat,
raw values, Home-Assistant mode) or from dsmr-reader (JSON telegram and split
topics) becomes one MeterReading in W, A, V and kWh. The reading feeds the load
balancer, a safety function: a malformed or absurd message raises
InvalidPayload, it is never guessed at. One module past 400 lines on purpose:
the formats share one strict number reader and one range check, which a
safety function should have exactly once.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from enum import StrEnum
import json
import math
import re
from typing import Final, NoReturn

from .place import GridType

type PhaseValues = tuple[float | None, float | None, float | None]
# MeterReading attribute, phase slot (-1: not per phase), factor to our unit.
type _Field = tuple[str, int, float]


class MeterFormat(StrEnum):
    """How the reader publishes: the reader and its MQTT payload setting."""

    AMS_JSON_CLASSIC = "ams_json_classic"
    AMS_JSON_MULTI = "ams_json_multi"
    AMS_JSON_FLAT = "ams_json_flat"
    AMS_RAW = "ams_raw"
    AMS_HOMEASSISTANT = "ams_homeassistant"
    DSMR_JSON = "dsmr_json"
    DSMR_SPLIT = "dsmr_split"


# Beyond these no home connection can be right: the message is a glitch.
MAX_POWER_W: Final = 2e6
MAX_CURRENT_A: Final = 1000.0
MAX_VOLTAGE_V: Final = 500.0
MAX_ENERGY_KWH: Final = 1e9
_LIMITS: Final[dict[str, tuple[float, float]]] = {
    "import_w": (0.0, MAX_POWER_W),
    "export_w": (0.0, MAX_POWER_W),
    "net_w": (-MAX_POWER_W, MAX_POWER_W),
    "current_a": (-MAX_CURRENT_A, MAX_CURRENT_A),  # Aidon signs its currents
    "voltage_v": (0.0, MAX_VOLTAGE_V),
    "import_kwh": (0.0, MAX_ENERGY_KWH),
    "export_kwh": (0.0, MAX_ENERGY_KWH),
}
# A reader clock outside this is unset (amsreader sends 0) or broken.
_FIRST_SECOND: Final = datetime(2000, 1, 1, tzinfo=UTC).timestamp()
_LAST_SECOND: Final = datetime(2100, 1, 1, tzinfo=UTC).timestamp()

# amsreader keys: JsonMqttHandler.cpp publishList1..4 (inside "data" in classic
# and multi topic, top level in flat) and HomeAssistantMqttHandler's ha1-ha4.json.
_AMS_FIELDS: Final[dict[str, _Field]] = {
    "P": ("import_w", -1, 1.0),
    "PO": ("export_w", -1, 1.0),
    **{f"I{n}": ("current_a", n - 1, 1.0) for n in (1, 2, 3)},
    **{f"U{n}": ("voltage_v", n - 1, 1.0) for n in (1, 2, 3)},
    "tPI": ("import_kwh", -1, 1.0),
    "tPO": ("export_kwh", -1, 1.0),
}
# RawMqttHandler.cpp: one plain-text value per topic under the publish topic.
_RAW_FIELDS: Final[dict[str, _Field]] = {
    "meter/import/active": ("import_w", -1, 1.0),
    "meter/export/active": ("export_w", -1, 1.0),
    **{f"meter/l{n}/current": ("current_a", n - 1, 1.0) for n in (1, 2, 3)},
    **{f"meter/l{n}/voltage": ("voltage_v", n - 1, 1.0) for n in (1, 2, 3)},
    "meter/import/active/accumulated": ("import_kwh", -1, 1.0),
    "meter/export/active/accumulated": ("export_kwh", -1, 1.0),
}
_MULTI_TOPICS: Final = frozenset({"list1", "list2", "list3", "list4"})
# Home-Assistant mode: meter values on <topic>/power and <topic>/energy; the
# other state topics carry accounting, prices and the reader's own status.
_HA_VALUE_TOPICS: Final = ("power", "energy")
_HA_STATE_TOPICS: Final = frozenset(
    {*_HA_VALUE_TOPICS, "realtime", "state", "temperatures", "prices"}
)
# dsmr-reader's default field names (dsmr_mqtt telegram settings), in kW, A, V.
# "delivered" is delivered to the customer: import. Easymeter Q3D meters sign
# it, negative meaning export, so it is read as a net power.
_DSMR_FIELDS: Final[dict[str, _Field]] = {
    "electricity_currently_delivered": ("net_w", -1, 1000.0),
    "electricity_currently_returned": ("export_w", -1, 1000.0),
    **{f"phase_power_current_l{n}": ("current_a", n - 1, 1.0) for n in (1, 2, 3)},
    **{f"phase_voltage_l{n}": ("voltage_v", n - 1, 1.0) for n in (1, 2, 3)},
}
# Tariff registers 1 and 2 (kWh); their sum is the total register.
_DSMR_REGISTERS: Final = {
    "import_kwh": ("electricity_delivered_1", "electricity_delivered_2"),
    "export_kwh": ("electricity_returned_1", "electricity_returned_2"),
}

_NUMBER: Final = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
# What Arduino's String(float) prints for values that are not numbers.
_NON_FINITE: Final = frozenset({"nan", "inf", "infinity", "ovf"})
# Formats that publish everything on the one topic the user entered.
_ONE_TOPIC: Final = frozenset(
    {MeterFormat.AMS_JSON_CLASSIC, MeterFormat.AMS_JSON_FLAT, MeterFormat.DSMR_JSON}
)


class InvalidPayload(ValueError):  # noqa: N818 - the name callers use
    """A message we must not trust; .reason says why in one machine word."""

    def __init__(self, reason: str) -> None:
        """Keep the reason."""
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, kw_only=True, slots=True)
class MeterReading:
    """What one message said; None where it said nothing."""

    import_w: float | None = None
    export_w: float | None = None
    current_a: PhaseValues = (None, None, None)
    voltage_v: PhaseValues = (None, None, None)
    import_kwh: float | None = None
    export_kwh: float | None = None
    timestamp: datetime | None = None

    @property
    def empty(self) -> bool:
        """True when nothing at all was read."""
        return self == _NOTHING


_NOTHING: Final = MeterReading()


def _base(topic: str) -> str:
    """The base topic a user entered, without a trailing "/" or "#"."""
    base = topic.strip().rstrip("/#")
    if not base:
        raise ValueError("empty MQTT topic")
    return base


def subscription_topics(fmt: MeterFormat, topic: str) -> tuple[str, ...]:
    """The MQTT topic filters that carry a format's meter values."""
    base = _base(topic)
    match fmt:
        case MeterFormat.AMS_JSON_MULTI:
            return tuple(f"{base}/{sub}" for sub in sorted(_MULTI_TOPICS))
        case MeterFormat.AMS_RAW:
            return (f"{base}/meter/#",)
        case MeterFormat.AMS_HOMEASSISTANT:
            return tuple(f"{base}/{sub}" for sub in _HA_VALUE_TOPICS)
        case MeterFormat.DSMR_SPLIT:
            return (f"{base}/+",)
    return (base,)


def _text(payload: str | bytes | bytearray) -> str:
    """The payload as text."""
    if isinstance(payload, str):
        return payload
    try:
        return payload.decode()
    except UnicodeDecodeError:
        raise InvalidPayload("not_text") from None


def _reject_constant(_name: str) -> NoReturn:
    """Python's json reads NaN and Infinity; no meter may send them."""
    raise InvalidPayload("not_finite")


def _json(text: str) -> object:
    """The parsed JSON document."""
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except InvalidPayload:
        raise
    except (ValueError, RecursionError):  # RecursionError: absurdly deep nesting
        raise InvalidPayload("not_json") from None


def _object(value: object) -> Mapping[str, object]:
    """A JSON object, or the message is not what the format sends."""
    if not isinstance(value, dict):
        raise InvalidPayload("wrong_type")
    return value


def _number(value: object, *, text: bool) -> float | None:
    """A finite number; strings only where the format sends plain text."""
    if value is None:
        return None
    if isinstance(value, str) and text:
        stripped = value.strip()
        if not stripped:
            return None
        if stripped.lower().lstrip("+-") in _NON_FINITE:
            raise InvalidPayload("not_finite")
        if not _NUMBER.fullmatch(stripped):
            raise InvalidPayload("not_number")
        number = float(stripped)
    elif isinstance(value, int | float) and not isinstance(value, bool):
        try:
            number = float(value)
        except OverflowError:  # an int too big for a float
            raise InvalidPayload("out_of_range") from None
    else:
        raise InvalidPayload("wrong_type")
    if not math.isfinite(number):
        raise InvalidPayload("not_finite")
    return number


def _checked(
    value: object, attribute: str, factor: float, *, text: bool
) -> float | None:
    """The value in our unit, within what a home connection can measure."""
    number = _number(value, text=text)
    if number is None:
        return None
    number *= factor
    low, high = _LIMITS[attribute]
    if not low <= number <= high:
        raise InvalidPayload("out_of_range")
    return number + 0.0  # -0.0 becomes 0.0


def _timestamp(value: object) -> datetime | None:
    """The reader's clock (unix seconds or ISO 8601) in UTC; None if unset."""
    if isinstance(value, str) and not _NUMBER.fullmatch(value.strip()):
        try:
            moment = datetime.fromisoformat(value.strip())
        except ValueError:
            return None
        # A time without its zone cannot be placed; the readers send UTC or an offset.
        seconds = None if moment.tzinfo is None else moment.timestamp()
    else:
        seconds = _number(value, text=True)
    if seconds is None or not _FIRST_SECOND <= seconds < _LAST_SECOND:
        return None
    return datetime.fromtimestamp(seconds, UTC)


def _build(
    fields: Mapping[str, object],
    table: Mapping[str, _Field],
    *,
    text: bool,
    timestamp: datetime | None = None,
) -> MeterReading:
    """A reading from the fields a table names; the others are ignored."""
    found: dict[tuple[str, int], float] = {}
    for key, (attribute, slot, factor) in table.items():
        number = _checked(fields.get(key), attribute, factor, text=text)
        if number is not None:
            found[attribute, slot] = number
    if (net := found.pop(("net_w", -1), None)) is not None:
        found["import_w", -1] = max(net, 0.0)
        if net < 0:
            found["export_w", -1] = max(found.get(("export_w", -1), 0.0), -net)
    currents = tuple(found.get(("current_a", slot)) for slot in range(3))
    voltages = tuple(found.get(("voltage_v", slot)) for slot in range(3))
    return MeterReading(
        import_w=found.get(("import_w", -1)),
        export_w=found.get(("export_w", -1)),
        current_a=(currents[0], currents[1], currents[2]),
        voltage_v=(voltages[0], voltages[1], voltages[2]),
        import_kwh=found.get(("import_kwh", -1)),
        export_kwh=found.get(("export_kwh", -1)),
        timestamp=timestamp,
    )


def _with_values(reading: MeterReading) -> MeterReading:
    """The reading of a message that must carry meter values."""
    if replace(reading, timestamp=None).empty:
        raise InvalidPayload("no_values")
    return reading


def _ams_json(text: str, *, flat: bool) -> MeterReading | None:
    """
    JSON classic or multi topic (values in "data"), flat or Home-Assistant mode.

    A message without values is the reader's status, temperatures or prices,
    which share the topic. Top-level "t" is the package time (unix seconds; an
    ISO string in Home-Assistant mode); realtime.t is a tariff step, not read.
    """
    message = _object(_json(text))
    if flat:
        fields = message
        if not _AMS_FIELDS.keys() & fields.keys():
            return None
    elif "data" in message:
        fields = _object(message["data"])
    else:
        return None
    timestamp = _timestamp(message.get("t"))
    return _with_values(_build(fields, _AMS_FIELDS, text=False, timestamp=timestamp))


def _dsmr_json(text: str) -> MeterReading:
    """dsmr-reader's JSON telegram; its Decimals arrive as strings."""
    message = _object(_json(text))
    timestamp = _timestamp(message.get("timestamp"))
    reading = _build(message, _DSMR_FIELDS, text=True, timestamp=timestamp)
    registers: dict[str, float | None] = {}
    for attribute, (first, second) in _DSMR_REGISTERS.items():
        one = _checked(message.get(first), attribute, 1.0, text=True)
        two = _checked(message.get(second), attribute, 1.0, text=True)
        # Half a total is no total: both tariffs or nothing.
        total = None if one is None or two is None else one + two
        registers[attribute] = _checked(total, attribute, 1.0, text=False)
    reading = replace(
        reading, import_kwh=registers["import_kwh"], export_kwh=registers["export_kwh"]
    )
    return _with_values(reading)


def _single(sub: str, text: str, table: Mapping[str, _Field]) -> MeterReading | None:
    """One plain-text value on its own topic (raw values, dsmr split topics)."""
    # An empty payload is a value the reader does not have (or a cleared retain).
    # The clock topics (meter/dlms/timestamp, timestamp) are not read: alone,
    # a time says nothing about the meter.
    field = table.get(sub)
    if field is None or not text.strip():
        return None
    return _build({sub: text}, {sub: field}, text=True)


def parse_message(
    fmt: MeterFormat, base_topic: str, topic: str, payload: str | bytes | bytearray
) -> MeterReading | None:
    """
    The reading in one message of a format, published under base_topic.

    None when the message carries no meter values (the reader's status,
    prices, a topic we do not read). Raises InvalidPayload for malformed or
    absurd data.
    """
    base = _base(base_topic)
    if fmt in _ONE_TOPIC:
        if topic != base:
            return None
        if fmt is MeterFormat.DSMR_JSON:
            return _dsmr_json(_text(payload))
        return _ams_json(_text(payload), flat=fmt is MeterFormat.AMS_JSON_FLAT)
    if not topic.startswith(f"{base}/"):
        return None
    sub = topic.removeprefix(f"{base}/")
    match fmt:
        case MeterFormat.AMS_JSON_MULTI if sub in _MULTI_TOPICS:
            return _ams_json(_text(payload), flat=False)
        case MeterFormat.AMS_HOMEASSISTANT if sub in _HA_VALUE_TOPICS:
            return _ams_json(_text(payload), flat=True)
        case MeterFormat.AMS_RAW:
            return _single(sub, _text(payload), _RAW_FIELDS)
        case MeterFormat.DSMR_SPLIT:
            return _single(sub, _text(payload), _DSMR_FIELDS)
    return None


def _discovered_base(topic: str, text: str) -> str | None:
    """
    The publish topic an amsreader Home Assistant discovery config names.

    amsreader announces each sensor on <prefix>/sensor/<hostname>_<key>/config
    (prefix "homeassistant" unless set) with a device named "AMS reader" or
    "AMS reader (<tag>)" and a state topic <publish topic>/power, /energy, ...
    Its manufacturer and model name the board, not the firmware.
    """
    levels = topic.split("/")
    if len(levels) < 4 or levels[-1] != "config" or levels[-3] != "sensor":
        return None
    try:
        message = _object(_json(text))
    except InvalidPayload:
        return None
    device, state = message.get("dev"), message.get("stat_t")
    if not isinstance(device, dict) or not isinstance(state, str):
        return None
    name = device.get("name")
    if not isinstance(name, str) or not name.startswith("AMS reader"):
        return None
    base, _, sub = state.rpartition("/")
    return base if base and sub in _HA_STATE_TOPICS else None


def _guess(topic: str, text: str) -> tuple[MeterFormat, str] | None:
    """The format and base topic a message looks like, unchecked."""
    singles = (
        (MeterFormat.AMS_RAW, tuple(_RAW_FIELDS)),
        (MeterFormat.DSMR_SPLIT, tuple(_DSMR_FIELDS)),
    )
    for fmt, subs in singles:
        for sub in subs:
            if topic.endswith(f"/{sub}") and len(topic) > len(sub) + 1:
                return fmt, topic[: -len(sub) - 1]
    try:
        message = _json(text)
    except InvalidPayload:
        return None
    if not isinstance(message, dict):
        return None
    head, _, last = topic.rpartition("/")
    data = message.get("data")
    if isinstance(data, dict) and _AMS_FIELDS.keys() & data.keys():
        if head and last in _MULTI_TOPICS:
            return MeterFormat.AMS_JSON_MULTI, head
        return MeterFormat.AMS_JSON_CLASSIC, topic
    if {*_DSMR_FIELDS, *_DSMR_REGISTERS["import_kwh"]} & message.keys():
        return MeterFormat.DSMR_JSON, topic
    if _AMS_FIELDS.keys() & message.keys():
        if "up" in message:  # the flat header: id, name, up, t, vcc, rssi, temp
            return MeterFormat.AMS_JSON_FLAT, topic
        if head and last in _HA_VALUE_TOPICS:
            return MeterFormat.AMS_HOMEASSISTANT, head
    return None


def detect_format(
    topic: str, payload: str | bytes | bytearray
) -> tuple[MeterFormat, str] | None:
    """
    The format and base topic of one received message; None if unknown.

    Meant for a message seen on the topic the user entered (or below it with
    "/#"), or on an amsreader discovery topic. A guess only counts if the
    message then parses in that format.
    """
    try:
        text = _text(payload)
    except InvalidPayload:
        return None
    if (base := _discovered_base(topic, text)) is not None:
        return MeterFormat.AMS_HOMEASSISTANT, base
    if (guess := _guess(topic, text)) is None:
        return None
    try:
        reading = parse_message(*guess, topic, text)
    except ValueError:  # InvalidPayload, or a topic that leaves no base
        return None
    return guess if reading is not None else None


def complete_phases(reading: MeterReading, grid: GridType) -> PhaseValues:
    """
    Phase current magnitudes (A) for the load balancer, completed for the grid.

    Signs go (Aidon signs its currents; a fuse trips either way). A one-phase
    place has L1 only. On an IT grid a meter with two measuring elements
    (Aidon 6525) reports I2 as 0: it is derived from I1 and I3, or unknown
    (None) when the reading lacks one of them. Feeds that bring one phase per
    message must therefore merge the phases first.
    """
    l1, l2, l3 = (None if amps is None else abs(amps) for amps in reading.current_a)
    if grid is GridType.ONE_PHASE_230:
        return (l1, None, None)
    if grid is GridType.THREE_PHASE_230_IT and not l2:
        # A 3-wire IT grid has no neutral, so I1 + I2 + I3 = 0 (phasors) and
        # |I2| <= |I1| + |I3|; we take that bound, the largest possible I2.
        # amsreader derived I2 = (√3·P − U1·I1 − U3·I3) / U2 until late 2023
        # (lib/MeterCommunicators/src/IEC6205675.cpp, "if(l2current == 0 &&
        # l1current > 0 && l3current > 0)"). That holds only at power factor 1
        # on every line and reads low otherwise; amsreader dropped it because it
        # "can be wildly off target" (amsreader-firmware issues #686, #703). A
        # fuse needs the high side, which P and U cannot give without the angles.
        l2 = None if l1 is None or l3 is None else l1 + l3
    return (l1, l2, l3)
