"""
What a new charger says about itself: its phases and its connectors.

Pure. Read from its configuration while it waits to be added (OCPP 1.6
``ConnectorPhaseRotation`` and ``NumberOfConnectors``; 2.0.1's device model
``ChargingStation.SupplyPhases``), so the add form can suggest them instead
of guessing. A 2.0.1 station's EVSEs are learned from their status reports.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
import re
from typing import Any, Final

from ..const import MAX_CONNECTORS
from .profile import OcppVersion

# The keys to read, per version.
FACT_KEYS: Final[dict[OcppVersion, list[str]]] = {
    OcppVersion.V16: ["ConnectorPhaseRotation", "NumberOfConnectors"],
    OcppVersion.V201: ["ChargingStation.SupplyPhases"],
}
_ROTATION: Final = re.compile(r"^\s*(?:\d+\.)?([A-Za-z]+)\s*$")


@dataclass(frozen=True, kw_only=True, slots=True)
class ChargerFacts:
    """What the charger told; None where it did not."""

    phases: int | None = None
    connectors: int | None = None


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


def _connectors(value: object) -> int | None:
    """NumberOfConnectors as a count we show (1 … MAX_CONNECTORS)."""
    try:
        count = int(str(value).strip())
    except ValueError:
        return None
    return count if 1 <= count <= MAX_CONNECTORS else None


def _supply_phases(value: object) -> int | None:
    """2.0.1 SupplyPhases: 1 or 3 (0 is DC: nothing to suggest)."""
    try:
        phases = int(str(value).strip())
    except ValueError:
        return None
    return phases if phases in (1, 3) else None


def facts_from_configuration(config: Mapping[str, Any]) -> ChargerFacts:
    """The charger's phases and connectors (None where it does not say)."""
    return ChargerFacts(
        phases=_rotation_phases(config.get("ConnectorPhaseRotation"))
        or _supply_phases(config.get("ChargingStation.SupplyPhases")),
        connectors=_connectors(config.get("NumberOfConnectors")),
    )
