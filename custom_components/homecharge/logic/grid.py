"""
Grid electrics: the voltage, which lines a load uses, and amps ↔ kW.

Pure logic, the one home of these facts. Lines are numbered 0–2 (L1–L3). The
grid types (place.py): 1-phase 230 V; 3-phase 230 V IT, where 230 V lies
between two lines and a 1-phase load sits between two of them; 3-phase 400 V
TN, where 230 V lies between a line and neutral.
"""

from __future__ import annotations

from collections.abc import Sequence
import math
from typing import Final

from .place import GridType

# The nominal voltage across a single-phase load, on every grid we support.
NOMINAL_VOLTAGE: Final = 230.0
# IEC 61851: below 6 A a car cannot charge; any limit under it means "off".
IEC_MIN_AMPS: Final = 6.0
LINES: Final = 3

type MeasuredLines = tuple[float | None, float | None, float | None]


def charger_lines(grid: GridType, charger_phases: int, phase: int) -> frozenset[int]:
    """
    The lines (0–2) a charger loads.

    A 3-phase charger loads all three; a 1-phase one the phase it is wired to
    (``phase`` 1–3), and on an IT grid, where it sits between two lines, that
    line and the next. On a 1-phase grid everything is on L1.
    """
    if grid.phases == 1:
        return frozenset({0})
    if charger_phases >= LINES:
        return frozenset(range(LINES))
    first = (phase - 1) % LINES
    if grid is GridType.THREE_PHASE_230_IT:
        return frozenset({first, (first + 1) % LINES})
    return frozenset({first})


def kw_per_amp(grid: GridType, lines: frozenset[int]) -> float:
    """The power one amp per line gives a charger loading ``lines``, kW."""
    if grid is GridType.THREE_PHASE_230_IT:
        # Three lines 230 V apart carry √3 × 230 W per amp; a 1-phase load
        # between two of them carries 230 W per amp.
        watts = (
            math.sqrt(3) * NOMINAL_VOLTAGE if len(lines) == LINES else NOMINAL_VOLTAGE
        )
    else:
        watts = NOMINAL_VOLTAGE * len(lines)
    return watts / 1000


def house_kw(grid: GridType, amps: Sequence[float]) -> float:
    """The house's power from its current per line (balanced on IT grids), kW."""
    total = math.fsum(amps)
    if grid is GridType.THREE_PHASE_230_IT:
        return total * NOMINAL_VOLTAGE / math.sqrt(3) / 1000
    if grid is GridType.ONE_PHASE_230:
        return amps[0] * NOMINAL_VOLTAGE / 1000
    return total * NOMINAL_VOLTAGE / 1000


def fuse_kw(grid: GridType, main_fuse: float) -> float:
    """The most a main fuse lets the house draw, kW."""
    return house_kw(grid, [main_fuse] * grid.phases)


def amps_from_watts(watts: float) -> float:
    """The current of a single-phase load of ``watts`` (sign kept), A."""
    return watts / NOMINAL_VOLTAGE


def watts_from_amps(amps: float) -> float:
    """The power of a single-phase load of ``amps``, W."""
    return amps * NOMINAL_VOLTAGE


def house_load(measured: Sequence[float | None], own: Sequence[float]) -> MeasuredLines:
    """
    What the house itself draws per line: measured minus our chargers' draw.

    Never below 0 (a charger's report may lag the meter); None where the
    meter says nothing.
    """
    return (
        _house_line(measured[0], own[0]),
        _house_line(measured[1], own[1]),
        _house_line(measured[2], own[2]),
    )


def _house_line(measured: float | None, own: float) -> float | None:
    return None if measured is None else max(measured - own, 0.0)


def grid_lines(grid: GridType, amps: MeasuredLines) -> MeasuredLines:
    """Per-line values with the lines a 1-phase grid lacks at 0, not unknown."""
    if grid.phases == 1:
        return (amps[0], 0.0, 0.0)
    return amps
