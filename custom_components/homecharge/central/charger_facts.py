"""
What a new charger says about its supply: phases and the most it can take.

Pure. Read from its configuration while it waits to be added (OCPP 1.6
``ConnectorPhaseRotation``; the 2.0.1 device model's ``EVSE.SupplyPhases`` and
``EVSE.Power``), so the add form can suggest them instead of guessing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
import math
import re
from typing import Any, Final

from ..logic.grid import IEC_MIN_AMPS, NOMINAL_VOLTAGE
from .profile import OcppVersion

# The keys to read, per version (2.0.1: "Component.Variable" of EVSE 1).
FACT_KEYS: Final[dict[OcppVersion, list[str]]] = {
    OcppVersion.V16: ["ConnectorPhaseRotation"],
    OcppVersion.V201: ["EVSE.SupplyPhases", "EVSE.Power"],
}
_ROTATION: Final = re.compile(r"^\s*(?:\d+\.)?([A-Za-z]+)\s*$")


@dataclass(frozen=True, kw_only=True, slots=True)
class ChargerFacts:
    """What the charger told; None where it did not."""

    phases: int | None = None
    max_current: float | None = None


def _rotation_phases(value: object) -> int | None:
    """1.6 "0.RST, 1.RST": three letters are 3 phases; NotApplicable is 1."""
    phases: set[int] = set()
    for part in str(value or "").split(","):
        match = _ROTATION.match(part)
        if match is None:
            continue
        word = match.group(1)
        if word.upper() in {"RST", "RTS", "SRT", "STR", "TRS", "TSR"}:
            phases.add(3)
        elif word.casefold() == "notapplicable":
            phases.add(1)
    return phases.pop() if len(phases) == 1 else None


def _number(value: object) -> float | None:
    try:
        number = float(str(value).strip())
    except ValueError:
        return None
    return number if math.isfinite(number) and number > 0 else None


def facts_from_configuration(config: Mapping[str, Any]) -> ChargerFacts:
    """The charger's phases and maximum current from its configuration."""
    phases = _rotation_phases(config.get("ConnectorPhaseRotation"))
    supply = _number(config.get("EVSE.SupplyPhases"))
    if supply in {1.0, 3.0}:
        phases = int(supply or 0)
    max_current = None
    power = _number(config.get("EVSE.Power"))
    if power is not None and phases is not None:
        amps = power / (NOMINAL_VOLTAGE * phases)
        max_current = amps if amps >= IEC_MIN_AMPS else None
    return ChargerFacts(phases=phases, max_current=max_current)
