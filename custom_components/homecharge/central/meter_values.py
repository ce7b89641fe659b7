"""
What an OCPP meter reading says: energy, power, currents, voltages and SoC.

Pure logic, no Home Assistant imports. It takes the payload dicts the ``ocpp``
package hands to a handler (snake_case keys; camelCase from raw frames works
too) and turns them into plain numbers, tolerating what real chargers send:
kW and kWh, phase "L1-N" and "N", missing measurands and units, duplicates,
junk. A reading we cannot trust is dropped, never raised.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
import math
import re
from typing import Any, Final

type PhaseValues = tuple[float | None, float | None, float | None]


class Measurand(StrEnum):
    """The measurands we read; every other one is ignored."""

    ENERGY = "Energy.Active.Import.Register"
    POWER = "Power.Active.Import"
    CURRENT = "Current.Import"
    VOLTAGE = "Voltage"
    SOC = "SoC"


# Factor to our unit (Wh, W, A, V, %) per measurand, keyed by the unit in lower
# case because firmware is sloppy with case; any other unit drops the value.
# The first unit is the one a reading without a unit is in.
UNITS: Final[dict[Measurand, dict[str, float]]] = {
    Measurand.ENERGY: {"wh": 1.0, "kwh": 1000.0},
    Measurand.POWER: {"w": 1.0, "kw": 1000.0},
    Measurand.CURRENT: {"a": 1.0},
    Measurand.VOLTAGE: {"v": 1.0},
    Measurand.SOC: {"percent": 1.0, "%": 1.0},
}
# Above these no home charger's meter can be right: a value beyond is a glitch.
# Voltage allows DC chargers (up to ~1000 V); SoC is a percentage.
LIMITS: Final[dict[Measurand, float]] = {
    Measurand.ENERGY: 1e10,
    Measurand.POWER: 1e7,
    Measurand.CURRENT: 1e4,
    Measurand.VOLTAGE: 1e4,
    Measurand.SOC: 100.0,
}
# Phase to index L1..L3. Phase-to-neutral names are the same conductor; "N"
# and line-to-line ("L1-L2", a different voltage) have no slot and are dropped.
PHASES: Final[dict[str, int]] = {
    "L1": 0,
    "L2": 1,
    "L3": 2,
    "L1-N": 0,
    "L2-N": 1,
    "L3-N": 2,
}

_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
_NO_PHASES: Final[PhaseValues] = (None, None, None)


@dataclass(frozen=True, kw_only=True, slots=True)
class MeterSample:
    """One meter_value element in plain numbers; None where it said nothing."""

    timestamp: datetime | None = None
    energy_wh: float | None = None
    power_w: float | None = None
    current_a: PhaseValues = _NO_PHASES
    voltage_v: PhaseValues = _NO_PHASES
    soc_percent: float | None = None


def _get(data: Mapping[str, Any], snake: str, camel: str) -> Any:
    """A field under its snake_case (``ocpp`` package) or camelCase (wire) key."""
    return data[snake] if snake in data else data.get(camel)


def _number(value: object) -> float | None:
    """A finite number from an OCPP decimal string or JSON number, else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str) and _NUMBER.fullmatch(value.strip()):
        number = float(value)
    elif isinstance(value, int | float):
        try:
            number = float(value)
        except OverflowError:  # an int too big for a float
            return None
    else:
        return None
    return number if math.isfinite(number) else None


def _scaled(value: object, measurand: Measurand, unit: object) -> float | None:
    """The value in our unit, or None when it is not a sane reading."""
    if unit is None or unit == "":
        unit = next(iter(UNITS[measurand]))
    factor = UNITS[measurand].get(unit.lower()) if isinstance(unit, str) else None
    number = _number(value)
    if factor is None or number is None:
        return None
    number *= factor
    # Import registers and magnitudes are never negative; -0.0 becomes 0.0.
    return number + 0.0 if 0 <= number <= LIMITS[measurand] else None


def _reading(sampled: object) -> tuple[Measurand, int | None, float] | None:
    """Measurand, phase slot (None: no phase) and value of one sampled value."""
    if not isinstance(sampled, Mapping) or sampled.get("format") == "SignedData":
        return None
    name = sampled.get("measurand")
    if name is None:
        measurand = Measurand.ENERGY
    elif isinstance(name, str) and name in Measurand:
        measurand = Measurand(name)
    else:
        return None
    phase = sampled.get("phase")
    if phase is None:
        slot = None
    elif isinstance(phase, str) and phase in PHASES:
        slot = PHASES[phase]
    else:
        return None
    unit = sampled.get("unit")
    value = sampled.get("value")
    # OCPP 2.0.1 puts the unit in unitOfMeasure, with a power-of-ten multiplier.
    measure = _get(sampled, "unit_of_measure", "unitOfMeasure")
    if isinstance(measure, Mapping):
        unit = measure.get("unit")
        multiplier = measure.get("multiplier", 0)
        if type(multiplier) is not int or not -9 <= multiplier <= 9:
            return None
        number = _number(value)
        value = None if number is None else number * 10**multiplier
    scaled = _scaled(value, measurand, unit)
    return None if scaled is None else (measurand, slot, scaled)


def _context_rank(sampled: object) -> int:
    """
    Sort key that puts Transaction.Begin readings last.

    Growatt repeats the register in a periodic sample with the value it had at
    the start of the transaction; the other reading is the current one.
    """
    if isinstance(sampled, Mapping) and sampled.get("context") == "Transaction.Begin":
        return 1
    return 0


def _timestamp(value: object) -> datetime | None:
    """
    An OCPP timestamp in UTC, or None.

    OCPP times are UTC, so one without an offset is taken as UTC.
    """
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.strip())
        if moment.tzinfo is None:
            return moment.replace(tzinfo=UTC)
        return moment.astimezone(UTC)
    except (ValueError, OverflowError):
        return None


def parse_meter_value(entry: Mapping[str, Any]) -> MeterSample:
    """
    Read one meter_value element; an unreadable one gives an empty sample.

    A measurand repeated for the same phase: the first reading wins. Energy and
    power with a phase add up to the total only when no total (no phase) is
    given. A current or voltage without a phase is L1 only when it is the sole
    reading of that measurand: single-phase chargers leave the phase out, but
    beside per-phase values it is a sum or maximum we cannot place.
    """
    data: object = entry  # decoded JSON: the type hint is a hope, not a promise
    if not isinstance(data, Mapping):
        return MeterSample()
    sampled = _get(data, "sampled_value", "sampledValue")
    if not isinstance(sampled, Sequence) or isinstance(sampled, str | bytes):
        sampled = ()
    readings: dict[tuple[Measurand, int | None], float] = {}
    for item in sorted(sampled, key=_context_rank):
        if (reading := _reading(item)) is not None:
            readings.setdefault(reading[:2], reading[2])

    def total(measurand: Measurand) -> float | None:
        if (measurand, None) in readings:
            return readings[measurand, None]
        phased = [
            v
            for (m, slot), v in readings.items()
            if m is measurand and slot is not None
        ]
        return math.fsum(phased) if phased else None

    def per_phase(measurand: Measurand) -> PhaseValues:
        l1, l2, l3 = (readings.get((measurand, i)) for i in range(3))
        if l1 is None and l2 is None and l3 is None:
            l1 = readings.get((measurand, None))
        return (l1, l2, l3)

    return MeterSample(
        timestamp=_timestamp(data.get("timestamp")),
        energy_wh=total(Measurand.ENERGY),
        power_w=total(Measurand.POWER),
        current_a=per_phase(Measurand.CURRENT),
        voltage_v=per_phase(Measurand.VOLTAGE),
        soc_percent=readings.get((Measurand.SOC, None)),
    )


def parse_meter_values(entries: Sequence[Mapping[str, Any]]) -> list[MeterSample]:
    """Read a meter_value list, one sample per element; non-dict elements are skipped."""
    data: object = entries
    if not isinstance(data, Sequence) or isinstance(data, str | bytes):
        return []
    return [parse_meter_value(entry) for entry in data if isinstance(entry, Mapping)]


def wh_from_meter_register(value: float | str, unit: str | None = "Wh") -> float | None:
    """
    A meter register in Wh; None when it is not a sane reading.

    For StartTransaction meterStart and StopTransaction meterStop (integer Wh
    in 1.6) and 2.0.1 meter values (decimals, often kWh).
    """
    return _scaled(value, Measurand.ENERGY, unit)


def session_energy_kwh(start_wh: float, stop_wh: float) -> float:
    """
    Energy of a session in kWh from its start and stop registers.

    Never negative: a meter reset or replacement mid-session (stop below start)
    gives 0.0, since we cannot know what was charged.
    """
    delta = stop_wh - start_wh
    if not math.isfinite(delta) or delta <= 0:
        return 0.0
    return delta / 1000
