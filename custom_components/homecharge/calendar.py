"""The place's calendars: the charging plan (one event per run) and past sessions."""

from __future__ import annotations

from datetime import datetime, timedelta

from homeassistant.components.calendar import CalendarEntity, CalendarEvent
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity import EntityDescription
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.util import dt as dt_util

from . import HomeChargeConfigEntry
from .entity import SchedulePlaceEntity, SessionsPlaceEntity
from .logic.planner.problem import SLOT
from .logic.sessions.model import MAX_SESSION_LENGTH, QUARTER, Session, slot_of
from .logic.sessions.reports import slot_totals
from .runtime.scheduling import Schedule
from .runtime.sessions import PlaceSessions

# Read from the plan the scheduler holds; nothing to fetch.
PARALLEL_UPDATES = 0

PLAN_CALENDAR = EntityDescription(key="charging_plan", translation_key="charging_plan")
SESSIONS_CALENDAR = EntityDescription(
    key="charging_sessions", translation_key="charging_sessions"
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: HomeChargeConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the place's plan and sessions calendars."""
    runtime = entry.runtime_data
    names = {
        (charger.config.charge_point_id, charger.connector_id): charger.display_name
        for charger in runtime.chargers.values()
    }
    async_add_entities(
        [
            PlanCalendar(runtime.scheduler, PLAN_CALENDAR),
            SessionCalendar(runtime.sessions, entry.entry_id, SESSIONS_CALENDAR, names),
        ]
    )


def plan_events(schedule: Schedule) -> list[CalendarEvent]:
    """Each charger's runs of consecutive planned slots, in time order."""
    plan = schedule.plan
    if plan is None:
        return []
    events = []
    for car in schedule.cars:
        amps = plan.currents.get(car.key, ())
        slot = 0
        while slot < len(amps):
            if not amps[slot]:
                slot += 1
                continue
            first = slot
            while slot < len(amps) and amps[slot]:
                slot += 1
            run = amps[first:slot]
            energy = sum(run) * car.kwh_per_amp
            cost = sum(
                value * car.kwh_per_amp * schedule.prices[first + offset].price
                for offset, value in enumerate(run)
            )
            forecast = any(price.forecast for price in schedule.prices[first:slot])
            events.append(
                CalendarEvent(
                    start=schedule.prices[first].start,
                    end=schedule.prices[slot - 1].start + SLOT,
                    summary=f"{car.name}: {energy:.1f} kWh",
                    # Numbers only, so no language is wrong; ≈ marks a cost
                    # from forecast prices.
                    description=(
                        f"{min(run)}–{max(run)} A · {energy:.2f} kWh · "
                        f"{'≈' if forecast else ''}{cost:.2f}"
                    ),
                    uid=f"{car.key}_{schedule.prices[first].start.isoformat()}",
                )
            )
    events.sort(key=lambda event: event.start_datetime_local)
    return events


class PlanCalendar(SchedulePlaceEntity, CalendarEntity):
    """When each car at the place is planned to charge."""

    @property
    def event(self) -> CalendarEvent | None:
        """The run charging now, or the next one."""
        now = dt_util.utcnow()
        return next(
            (
                e
                for e in plan_events(self.coordinator.data)
                if e.end_datetime_local > now
            ),
            None,
        )

    async def async_get_events(
        self, hass: HomeAssistant, start_date: datetime, end_date: datetime
    ) -> list[CalendarEvent]:
        """The planned runs that overlap the asked window."""
        return [
            event
            for event in plan_events(self.coordinator.data)
            if event.start_datetime_local < end_date
            and event.end_datetime_local > start_date
        ]


def session_event(session: Session, name: str, now: datetime) -> CalendarEvent:
    """A session as an event: where, how much, what it cost, who."""
    totals = slot_totals(session)
    kwh = totals.wh / 1000
    # Numbers and ids only, so no language is wrong; ≈ marks a cost still
    # missing a price.
    parts = [
        f"{kwh:.2f} kWh",
        f"{'' if totals.complete else '≈'}{totals.cost:.2f}",
        *([session.person or session.id_tag] if session.id_tag else []),
        f"#{session.transaction_id}",
    ]
    # A running session lasts, so far, to the end of the slot now.
    end = session.stopped or slot_of(now) + QUARTER
    return CalendarEvent(
        start=session.started,
        end=max(end, session.started + timedelta(minutes=1)),
        summary=f"{name}: {kwh:.1f} kWh",
        description=" · ".join(parts),
        uid=f"{session.charger}_{session.transaction_id}",
    )


class SessionCalendar(SessionsPlaceEntity, CalendarEntity):
    """Every charging session at the place, running or past."""

    def __init__(
        self,
        sessions: PlaceSessions,
        entry_id: str,
        description: EntityDescription,
        names: dict[tuple[str, int], str],
    ) -> None:
        """Name sessions by their charger's name."""
        super().__init__(sessions, entry_id, description)
        self._names = names

    def _event(self, session: Session, now: datetime) -> CalendarEvent:
        name = self._names.get((session.charger, session.connector), session.charger)
        return session_event(session, name, now)

    @property
    def event(self) -> CalendarEvent | None:
        """A session running now (the calendar is on while a car charges)."""
        now = dt_util.utcnow()
        running = [s for s in self.sessions.ledger if not s.finished]
        if not running:
            return None
        return self._event(max(running, key=lambda s: s.started), now)

    async def async_get_events(
        self, hass: HomeAssistant, start_date: datetime, end_date: datetime
    ) -> list[CalendarEvent]:
        """The sessions that overlap the asked window."""
        now = dt_util.utcnow()
        sessions = await self.sessions.async_sessions(
            start_date - MAX_SESSION_LENGTH, end_date
        )
        events = [self._event(session, now) for session in sessions]
        return [
            event
            for event in events
            if event.start_datetime_local < end_date
            and event.end_datetime_local > start_date
        ]
