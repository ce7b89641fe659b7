"""A place's vehicles: who a session's id tag is, and what the planner may use.

A vehicle (a subentry of the place) has its battery size, its battery-level
and odometer sensors, and the id tags (RFID cards, a car's own id) it
starts sessions with. A session started with one of them is that vehicle's:
it records the odometer, and the planner takes the vehicle's battery and
level before the charger's own setting.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final

CONF_MAKE: Final = "make"
CONF_VEHICLE_MODEL: Final = "vehicle_model"
CONF_REGISTRATION: Final = "registration"
CONF_ODOMETER_ENTITY: Final = "odometer_entity"
CONF_ID_TAGS: Final = "id_tags"
# An id tag is at most 20 characters in OCPP 1.6 (CiString20), 36 in 2.0.1.
MAX_ID_TAG: Final = 36


def parse_id_tags(value: object) -> tuple[str, ...]:
    """Id tags from a list or a text (comma, semicolon or line separated)."""
    if isinstance(value, str):
        value = value.replace(";", ",").replace("\n", ",").split(",")
    if not isinstance(value, Iterable):
        return ()
    tags = (str(tag).strip() for tag in value)
    return tuple(dict.fromkeys(tag for tag in tags if tag))


@dataclass(frozen=True, kw_only=True, slots=True)
class Vehicle:
    """A vehicle as its subentry describes it."""

    key: str
    name: str
    make: str | None = None
    model: str | None = None
    registration: str | None = None
    battery_kwh: float | None = None
    soc_entity: str | None = None
    odometer_entity: str | None = None
    id_tags: tuple[str, ...] = ()

    @classmethod
    def from_data(cls, key: str, name: str, data: Mapping[str, Any]) -> Vehicle:
        """Read a vehicle subentry's data."""
        battery = data.get("battery_kwh")
        return cls(
            key=key,
            name=name,
            make=data.get(CONF_MAKE) or None,
            model=data.get(CONF_VEHICLE_MODEL) or None,
            registration=data.get(CONF_REGISTRATION) or None,
            battery_kwh=float(battery) if battery is not None else None,
            soc_entity=data.get("soc_entity") or None,
            odometer_entity=data.get(CONF_ODOMETER_ENTITY) or None,
            id_tags=parse_id_tags(data.get(CONF_ID_TAGS, ())),
        )


def vehicle_of(vehicles: Iterable[Vehicle], id_tag: str | None) -> Vehicle | None:
    """The vehicle an id tag belongs to (tags compare without case)."""
    if not id_tag:
        return None
    wanted = id_tag.casefold()
    return next(
        (v for v in vehicles if any(t.casefold() == wanted for t in v.id_tags)), None
    )


def tags_in_use(
    vehicles: Iterable[Vehicle], tags: Iterable[str], *, besides: str | None = None
) -> list[str]:
    """Which of ``tags`` another vehicle (not ``besides``) already has."""
    taken = {tag.casefold() for v in vehicles if v.key != besides for tag in v.id_tags}
    return [tag for tag in tags if tag.casefold() in taken]
