"""Sensors of a person's usage (sensor platform): energy and cost, per month and window.

Each person of a place is a device of its own (below the place), with what
he charged this month and inside his access window, on any of the place's
chargers — what a renter is billed for, and what a guest sees of himself.
Counted from the sessions ledger by 15-minute slot, like a charger's figures.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorStateClass,
)
from homeassistant.config_entries import ConfigEntry
from homeassistant.const import UnitOfEnergy
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.typing import StateType
from homeassistant.util import dt as dt_util

from .logic.access import Person
from .logic.sessions.reports import Totals
from .runtime.charger_access import people_of
from .runtime.sessions import PlaceSessions
from .session_sensors import Periods, cost_of, kwh_of
from .subentry_sensors import SubentrySensor, SubentrySensorDescription

type Span = Callable[[Person, Periods], tuple[datetime, datetime] | None]


@dataclass(frozen=True, kw_only=True)
class PersonSensorDescription(SubentrySensorDescription):
    """A figure of a person's sessions in a span (None: no such span)."""

    span_fn: Span
    figure_fn: Callable[[Totals], StateType]


def _month(_person: Person, periods: Periods) -> tuple[datetime, datetime]:
    return periods.month, periods.next_month


def _window(person: Person, _periods: Periods) -> tuple[datetime, datetime] | None:
    """The access window so far (family, for ever, has none to count)."""
    window = person.window
    if window.start is None:
        return None
    return window.start, min(window.end or dt_util.utcnow(), dt_util.utcnow())


PERSON_SENSORS: tuple[PersonSensorDescription, ...] = (
    PersonSensorDescription(
        key="person_energy_this_month",
        translation_key="person_energy_this_month",
        device_class=SensorDeviceClass.ENERGY,
        state_class=SensorStateClass.TOTAL_INCREASING,
        native_unit_of_measurement=UnitOfEnergy.KILO_WATT_HOUR,
        suggested_display_precision=1,
        span_fn=_month,
        figure_fn=kwh_of,
    ),
    PersonSensorDescription(
        key="person_cost_this_month",
        translation_key="person_cost_this_month",
        device_class=SensorDeviceClass.MONETARY,
        suggested_display_precision=2,
        span_fn=_month,
        figure_fn=cost_of,
        money=True,
    ),
    PersonSensorDescription(
        key="person_energy_in_window",
        translation_key="person_energy_in_window",
        device_class=SensorDeviceClass.ENERGY,
        native_unit_of_measurement=UnitOfEnergy.KILO_WATT_HOUR,
        suggested_display_precision=1,
        span_fn=_window,
        figure_fn=kwh_of,
    ),
    PersonSensorDescription(
        key="person_cost_in_window",
        translation_key="person_cost_in_window",
        device_class=SensorDeviceClass.MONETARY,
        suggested_display_precision=2,
        span_fn=_window,
        figure_fn=cost_of,
        money=True,
    ),
)


def add_person_sensors(
    entry: ConfigEntry, async_add_entities: AddConfigEntryEntitiesCallback
) -> None:
    """Each person's usage sensors, on his own device."""
    sessions = entry.runtime_data.sessions
    for person in people_of(entry):
        async_add_entities(
            (
                PersonSensor(entry, person.key, description, sessions)
                for description in PERSON_SENSORS
            ),
            config_subentry_id=person.key,
        )


class PersonSensor(SubentrySensor):
    """A figure of a person's sessions, from the place's ledger."""

    entity_description: PersonSensorDescription

    def __init__(
        self,
        entry: ConfigEntry,
        person_key: str,
        description: PersonSensorDescription,
        sessions: PlaceSessions,
    ) -> None:
        """A person's figure; money in the household's currency."""
        super().__init__(entry, person_key, description)
        self._person_key = person_key
        self._sessions = sessions

    def _person(self) -> Person | None:
        return next(
            (p for p in people_of(self._entry) if p.key == self._person_key), None
        )

    @property
    def native_value(self) -> StateType:
        """The figure now (None: the person has no such span)."""
        person = self._person()
        if person is None:
            return None
        span = self.entity_description.span_fn(person, Periods.now())
        if span is None:
            return None
        totals = self._sessions.person_totals(*span, person.name)
        return self.entity_description.figure_fn(totals)
