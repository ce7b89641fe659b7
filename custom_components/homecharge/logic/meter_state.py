"""
The meter as the balancer needs it: the latest of every value, merged.

AMS/HAN meters send total power every ~2.5 s but phase currents only every
10 s. A power-only message still matters: a kettle switched on shows there
first. Since it does not say on which phase, a rise the house caused is put
on every phase (the worst case), but only until the next currents arrive,
and never the part our own chargers could have caused by ramping up.

Pure logic: readings in, per-phase currents out.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
import math
from typing import Final

from .grid import amps_from_watts, house_load, watts_from_amps
from .meter_formats import InvalidPayload, MeterReading, complete_phases
from .place import GridType

# Watts per unit of a power sensor; a phase sensor in amps is a current.
_WATTS: Final = {"W": 1.0, "kW": 1000.0, "MW": 1_000_000.0}
_MAX_AMPS: Final = 1000.0
_MAX_WATTS: Final = 2_000_000.0

type Phases = tuple[float | None, float | None, float | None]


def _per_phase[A, B](
    combine: Callable[[A, B], float | None], first: Sequence[A], second: Sequence[B]
) -> Phases:
    """Combine two per-phase triples phase by phase."""
    return (
        combine(first[0], second[0]),
        combine(first[1], second[1]),
        combine(first[2], second[2]),
    )


def own_power_w(own: Sequence[float]) -> float:
    """Our chargers' power from their per-phase currents (nominal voltage)."""
    return watts_from_amps(sum(own))


def net_power(reading_import: float | None, reading_export: float | None) -> float:
    """Import minus export, W (export alone is negative)."""
    return (reading_import or 0.0) - (reading_export or 0.0)


def estimate_currents(
    house: Phases,
    own: Sequence[float],
    power_rise_w: float,
) -> Phases:
    """
    Phase currents now: the house as last measured plus our chargers now.

    A rise in power since then that our chargers do not explain is the house:
    put on every phase (the worst case), until currents are measured again.
    """
    extra = amps_from_watts(max(power_rise_w, 0.0))
    return (
        None if house[0] is None else house[0] + own[0] + extra,
        None if house[1] is None else house[1] + own[1] + extra,
        None if house[2] is None else house[2] + own[2] + extra,
    )


def entity_reading(phase: int | None, state: str, unit: str | None) -> MeterReading:
    """
    A reading from one Home Assistant sensor's state.

    ``phase`` None is the total power (negative: export); 0–2 a phase, in
    amps or, from a per-phase power sensor, watts turned into amps.
    """
    try:
        value = float(state)
    except ValueError:
        raise InvalidPayload("not_number") from None
    if not math.isfinite(value):
        raise InvalidPayload("not_finite")
    if phase is None or unit in _WATTS:
        if unit not in _WATTS:
            raise InvalidPayload("wrong_unit")
        watts = value * _WATTS[unit]
        if abs(watts) > _MAX_WATTS:
            raise InvalidPayload("out_of_range")
        if phase is None:
            return MeterReading(import_w=max(watts, 0.0), export_w=max(-watts, 0.0))
        value = amps_from_watts(abs(watts))
    elif unit != "A":
        raise InvalidPayload("wrong_unit")
    if abs(value) > _MAX_AMPS:
        raise InvalidPayload("out_of_range")
    currents: list[float | None] = [None, None, None]
    currents[phase] = abs(value)
    return MeterReading(current_a=(currents[0], currents[1], currents[2]))


@dataclass(slots=True)
class MeterState:
    """The latest values from the meter, whatever message brought them."""

    grid: GridType
    import_w: float | None = None
    export_w: float | None = None
    # Phase currents as the meter sent them (signed, maybe one at a time),
    # as the balancer takes them, and the net power when they came.
    raw_a: Phases = (None, None, None)
    measured_a: Phases = (None, None, None)
    # The house alone then (measured minus our chargers' draw), and the net
    # power and our chargers' power then: what later power-only messages
    # are compared with.
    house_a: Phases = (None, None, None)
    measured_power_w: float = 0.0
    own_power_w: float = 0.0
    currents_at: datetime | None = None

    def update(
        self,
        reading: MeterReading,
        now: datetime,
        own: Sequence[float] = (0.0, 0.0, 0.0),
    ) -> bool:
        """Take a reading in (``own``: our chargers' draw per phase now)."""
        if reading.import_w is not None:
            self.import_w = reading.import_w
            self.export_w = reading.export_w or 0.0
        elif reading.export_w is not None:
            self.export_w = reading.export_w
        if all(amps is None for amps in reading.current_a):
            return False
        # A feed may bring one phase per message (entities, raw topics): the
        # missing IT phase is derived from the merged values, not per message.
        self.raw_a = _per_phase(
            lambda old, new: old if new is None else new, self.raw_a, reading.current_a
        )
        self.measured_a = complete_phases(MeterReading(current_a=self.raw_a), self.grid)
        self.house_a = house_load(self.measured_a, own)
        self.measured_power_w = self.net_power_w
        self.own_power_w = own_power_w(own)
        self.currents_at = now
        return True

    @property
    def net_power_w(self) -> float:
        """Import minus export now, W."""
        return net_power(self.import_w, self.export_w)

    def phase_currents(self, own: Sequence[float] = (0.0, 0.0, 0.0)) -> Phases:
        """Per-phase currents now (``own``: our chargers' draw per phase now)."""
        rise = (
            self.net_power_w
            - self.measured_power_w
            - (own_power_w(own) - self.own_power_w)
        )
        return estimate_currents(self.house_a, own, rise)
