"""Sensors of a charger's sessions (sensor platform): energy and cost by period.

Counted from the place's sessions ledger by 15-minute slot, so a session
across midnight counts in both days. Today's and this month's figures are
counters that restart at the period's start (Energy dashboard and long-term
statistics read them as such); last month's and the last session's are
plain values.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.const import UnitOfEnergy, UnitOfTime
from homeassistant.core import callback
from homeassistant.helpers.event import async_track_time_change
from homeassistant.helpers.typing import StateType
from homeassistant.util import dt as dt_util

from .entity import ChargerEntity
from .logic.sessions.model import Session
from .logic.sessions.reports import Totals, slot_totals
from .runtime.charger import ChargerCoordinator
from .runtime.sessions import PlaceSessions


@dataclass(frozen=True, slots=True)
class Periods:
    """The local periods a figure may count, as UTC bounds."""

    today: datetime
    tomorrow: datetime
    month: datetime
    next_month: datetime
    last_month: datetime

    @classmethod
    def now(cls) -> Periods:
        """Today's and the months' starts, in the place's local time."""
        today = dt_util.start_of_local_day()
        month = today.replace(day=1)
        next_month = (month + timedelta(days=32)).replace(day=1)
        last_month = (month - timedelta(days=1)).replace(day=1)
        return cls(
            today=dt_util.as_utc(today),
            tomorrow=dt_util.as_utc(
                dt_util.start_of_local_day(today + timedelta(days=1))
            ),
            month=dt_util.as_utc(dt_util.start_of_local_day(month)),
            next_month=dt_util.as_utc(dt_util.start_of_local_day(next_month)),
            last_month=dt_util.as_utc(dt_util.start_of_local_day(last_month)),
        )


@dataclass(frozen=True, kw_only=True)
class SessionSensorDescription(SensorEntityDescription):
    """A figure of a connector's sessions."""

    value_fn: Callable[[PlaceSessions, ChargerCoordinator, Periods], StateType]
    # Counters restart at the period's start (for MONETARY totals).
    reset_fn: Callable[[Periods], datetime] | None = None
    money: bool = False
    per_kwh: bool = False


def _of(charger: ChargerCoordinator) -> tuple[str, int]:
    return charger.config.charge_point_id, charger.connector_id


def _period(
    start: Callable[[Periods], datetime],
    end: Callable[[Periods], datetime],
    figure: Callable[[Totals], StateType],
) -> Callable[[PlaceSessions, ChargerCoordinator, Periods], StateType]:
    def value(
        sessions: PlaceSessions, charger: ChargerCoordinator, periods: Periods
    ) -> StateType:
        return figure(sessions.totals(start(periods), end(periods), *_of(charger)))

    return value


def kwh_of(totals: Totals) -> float:
    """Energy in kWh, to the Wh."""
    return round(totals.wh / 1000, 3)


def cost_of(totals: Totals) -> float | None:
    """Cost to the cent; unknown while a slot's price is missing."""
    return round(totals.cost, 2) if totals.complete else None


def _session(
    pick: Callable[[PlaceSessions, str, int], Session | None],
    figure: Callable[[Session], StateType],
) -> Callable[[PlaceSessions, ChargerCoordinator, Periods], StateType]:
    def value(
        sessions: PlaceSessions, charger: ChargerCoordinator, _periods: Periods
    ) -> StateType:
        session = pick(sessions, *_of(charger))
        return None if session is None else figure(session)

    return value


def _running_or_last(
    sessions: PlaceSessions, charger: str, connector: int
) -> Session | None:
    return sessions.running(charger, connector) or sessions.last_finished(
        charger, connector
    )


def _minutes(session: Session) -> float | None:
    if session.stopped is None:
        return None
    return round((session.stopped - session.started) / timedelta(minutes=1), 1)


def _average(session: Session) -> float | None:
    totals = slot_totals(session)
    if not totals.wh or not totals.complete:
        return None
    return round(totals.cost / (totals.wh / 1000), 4)


def _total_cost(session: Session) -> float | None:
    return cost_of(slot_totals(session))


SESSION_SENSORS: tuple[SessionSensorDescription, ...] = (
    SessionSensorDescription(
        key="energy_today",
        translation_key="energy_today",
        device_class=SensorDeviceClass.ENERGY,
        state_class=SensorStateClass.TOTAL_INCREASING,
        native_unit_of_measurement=UnitOfEnergy.KILO_WATT_HOUR,
        suggested_display_precision=2,
        value_fn=_period(lambda p: p.today, lambda p: p.tomorrow, kwh_of),
    ),
    SessionSensorDescription(
        key="energy_this_month",
        translation_key="energy_this_month",
        device_class=SensorDeviceClass.ENERGY,
        state_class=SensorStateClass.TOTAL_INCREASING,
        native_unit_of_measurement=UnitOfEnergy.KILO_WATT_HOUR,
        suggested_display_precision=1,
        value_fn=_period(lambda p: p.month, lambda p: p.next_month, kwh_of),
    ),
    SessionSensorDescription(
        key="energy_last_month",
        translation_key="energy_last_month",
        device_class=SensorDeviceClass.ENERGY,
        native_unit_of_measurement=UnitOfEnergy.KILO_WATT_HOUR,
        suggested_display_precision=1,
        value_fn=_period(lambda p: p.last_month, lambda p: p.month, kwh_of),
    ),
    SessionSensorDescription(
        key="cost_today",
        translation_key="cost_today",
        device_class=SensorDeviceClass.MONETARY,
        state_class=SensorStateClass.TOTAL,
        suggested_display_precision=2,
        money=True,
        reset_fn=lambda p: p.today,
        value_fn=_period(lambda p: p.today, lambda p: p.tomorrow, cost_of),
    ),
    SessionSensorDescription(
        key="cost_this_month",
        translation_key="cost_this_month",
        device_class=SensorDeviceClass.MONETARY,
        state_class=SensorStateClass.TOTAL,
        suggested_display_precision=2,
        money=True,
        reset_fn=lambda p: p.month,
        value_fn=_period(lambda p: p.month, lambda p: p.next_month, cost_of),
    ),
    SessionSensorDescription(
        key="cost_last_month",
        translation_key="cost_last_month",
        device_class=SensorDeviceClass.MONETARY,
        suggested_display_precision=2,
        money=True,
        value_fn=_period(lambda p: p.last_month, lambda p: p.month, cost_of),
    ),
    SessionSensorDescription(
        key="session_cost",
        translation_key="session_cost",
        device_class=SensorDeviceClass.MONETARY,
        suggested_display_precision=2,
        money=True,
        value_fn=_session(_running_or_last, _total_cost),
    ),
    SessionSensorDescription(
        key="last_session_energy",
        translation_key="last_session_energy",
        device_class=SensorDeviceClass.ENERGY,
        native_unit_of_measurement=UnitOfEnergy.KILO_WATT_HOUR,
        suggested_display_precision=2,
        value_fn=_session(
            PlaceSessions.last_finished, lambda s: round(s.energy_wh / 1000, 3)
        ),
    ),
    SessionSensorDescription(
        key="last_session_cost",
        translation_key="last_session_cost",
        device_class=SensorDeviceClass.MONETARY,
        suggested_display_precision=2,
        money=True,
        value_fn=_session(PlaceSessions.last_finished, _total_cost),
    ),
    SessionSensorDescription(
        key="last_session_duration",
        translation_key="last_session_duration",
        device_class=SensorDeviceClass.DURATION,
        native_unit_of_measurement=UnitOfTime.MINUTES,
        suggested_display_precision=0,
        value_fn=_session(PlaceSessions.last_finished, _minutes),
    ),
    SessionSensorDescription(
        key="last_session_average_price",
        translation_key="last_session_average_price",
        suggested_display_precision=3,
        per_kwh=True,
        value_fn=_session(PlaceSessions.last_finished, _average),
    ),
)


class SessionSensor(ChargerEntity, SensorEntity):
    """A figure of a connector's sessions, from the place's ledger."""

    entity_description: SessionSensorDescription

    def __init__(
        self,
        coordinator: ChargerCoordinator,
        description: SessionSensorDescription,
        sessions: PlaceSessions,
    ) -> None:
        """Read the ledger; money in the household's currency."""
        super().__init__(coordinator, description)
        self._sessions = sessions
        currency = coordinator.hass.config.currency
        if description.money:
            self._attr_native_unit_of_measurement = currency
        elif description.per_kwh:
            self._attr_native_unit_of_measurement = f"{currency}/kWh"

    async def async_added_to_hass(self) -> None:
        """Follow the ledger (prices filled in late) and the day's start."""
        await super().async_added_to_hass()
        self.async_on_remove(
            self._sessions.async_add_listener(self._handle_coordinator_update)
        )
        self.async_on_remove(
            async_track_time_change(
                self.hass, self._new_day, hour=0, minute=0, second=0
            )
        )

    @callback
    def _new_day(self, _now: datetime) -> None:
        self.async_write_ha_state()

    @property
    def native_value(self) -> StateType:
        """The figure now."""
        return self.entity_description.value_fn(
            self._sessions, self.coordinator, Periods.now()
        )

    @property
    def last_reset(self) -> datetime | None:
        """When a money counter last started again."""
        reset_fn = self.entity_description.reset_fn
        return None if reset_fn is None else reset_fn(Periods.now())
