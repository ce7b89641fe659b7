"""A place's meter feed and load-balancing settings: what they are, when valid.

Pure logic: read from the config entry's options, checked for the flows and
the entities. The feed itself (MQTT or entities) lives in feeds/meter.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from typing import Any, Final, Self

from .balancer import BalancerSettings
from .grid import IEC_MIN_AMPS
from .meter_formats import MeterFormat
from .place import parse_decimal

CONF_METER_SOURCE: Final = "meter_source"
CONF_METER_TOPIC: Final = "meter_topic"
CONF_METER_FORMAT: Final = "meter_format"
CONF_METER_POWER: Final = "meter_power"
CONF_METER_PHASES: Final = ("meter_l1", "meter_l2", "meter_l3")
CONF_LOAD_BALANCING: Final = "load_balancing"
CONF_MARGIN: Final = "margin"
CONF_RAISE_AFTER: Final = "raise_after"
CONF_RAISE_INTERVAL: Final = "raise_interval"
CONF_SAFE_CURRENT: Final = "safe_current"
CONF_METER_TIMEOUT: Final = "meter_timeout"

# Inclusive ranges of the balancing settings, for checks and the flow's fields.
RANGES: Final[dict[str, tuple[float, float]]] = {
    CONF_MARGIN: (0.0, 20.0),
    CONF_RAISE_AFTER: (0.0, 3600.0),
    CONF_RAISE_INTERVAL: (0.0, 600.0),
    CONF_SAFE_CURRENT: (0.0, 80.0),
    CONF_METER_TIMEOUT: (5.0, 600.0),
}
DEFAULTS: Final[dict[str, float]] = {
    CONF_MARGIN: 1.0,
    CONF_RAISE_AFTER: 60.0,
    CONF_RAISE_INTERVAL: 10.0,
    CONF_SAFE_CURRENT: IEC_MIN_AMPS,
    CONF_METER_TIMEOUT: 30.0,
}


class MeterSource(StrEnum):
    """Where a place's meter readings come from."""

    NONE = "none"
    MQTT = "mqtt"
    ENTITIES = "entities"


@dataclass(frozen=True, kw_only=True, slots=True)
class MeterSettings:
    """The meter feed and how the balancer uses it."""

    source: MeterSource = MeterSource.NONE
    topic: str | None = None
    format: MeterFormat | None = None
    power_entity: str | None = None
    # Per phase: a current (A) or power (W/kW) sensor.
    phase_entities: tuple[str | None, str | None, str | None] = (None, None, None)
    load_balancing: bool = True
    margin: float = DEFAULTS[CONF_MARGIN]
    raise_after: float = DEFAULTS[CONF_RAISE_AFTER]
    raise_interval: float = DEFAULTS[CONF_RAISE_INTERVAL]
    safe_current: float = DEFAULTS[CONF_SAFE_CURRENT]
    meter_timeout: float = DEFAULTS[CONF_METER_TIMEOUT]

    @classmethod
    def from_options(cls, options: dict[str, Any]) -> Self:
        """Read the settings from a place's options; missing ones default."""
        try:
            source = MeterSource(options.get(CONF_METER_SOURCE, MeterSource.NONE))
            fmt = options.get(CONF_METER_FORMAT)
            meter_format = MeterFormat(fmt) if fmt else None
        except ValueError:
            source, meter_format = MeterSource.NONE, None
        phases = [options.get(key) or None for key in CONF_METER_PHASES]
        return cls(
            source=source,
            topic=options.get(CONF_METER_TOPIC) or None,
            format=meter_format,
            power_entity=options.get(CONF_METER_POWER) or None,
            phase_entities=(phases[0], phases[1], phases[2]),
            load_balancing=bool(options.get(CONF_LOAD_BALANCING, True)),
            **{
                key: float(options.get(key, default))
                for key, default in DEFAULTS.items()
            },
        )

    @property
    def feed(self) -> tuple[object, ...]:
        """What the feed reads; a change needs a fresh subscription."""
        return (
            self.source,
            self.topic,
            self.format,
            self.power_entity,
            self.phase_entities,
        )

    @property
    def configured(self) -> bool:
        """A meter is set up, so readings are expected."""
        if self.source is MeterSource.MQTT:
            return bool(self.topic and self.format)
        if self.source is MeterSource.ENTITIES:
            return self.power_entity is not None or any(self.phase_entities)
        return False

    def balancer(self, main_fuse: float) -> BalancerSettings:
        """The balancer's view of these settings."""
        return BalancerSettings(
            main_fuse=main_fuse,
            margin=self.margin,
            raise_after=timedelta(seconds=self.raise_after),
            raise_interval=timedelta(seconds=self.raise_interval),
            safe_current=self.safe_current,
        )


def validate_balancing(data: dict[str, Any], main_fuse: float) -> dict[str, str]:
    """Check balancing settings; maps each bad field to its error key."""
    errors: dict[str, str] = {}
    for key, (low, high) in RANGES.items():
        if key not in data:
            continue
        value = parse_decimal(data[key])
        if value is None or not low <= value <= high:
            errors[key] = f"{key}_out_of_range"
    safe = parse_decimal(data.get(CONF_SAFE_CURRENT, 0))
    # 0 means off; anything else must let a car charge and fit the fuse.
    if (
        CONF_SAFE_CURRENT not in errors
        and safe is not None
        and safe > 0
        and (safe < IEC_MIN_AMPS or safe > main_fuse)
    ):
        errors[CONF_SAFE_CURRENT] = "safe_current_invalid"
    return errors
