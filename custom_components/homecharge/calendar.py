"""The place's charging plan in Home Assistant's calendar: one event per run."""

from __future__ import annotations

from datetime import datetime

from homeassistant.components.calendar import CalendarEntity, CalendarEvent
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity import EntityDescription
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.util import dt as dt_util

from . import HomeChargeConfigEntry
from .entity import SchedulePlaceEntity
from .logic.planner.problem import SLOT
from .runtime.scheduling import Schedule

# Read from the plan the scheduler holds; nothing to fetch.
PARALLEL_UPDATES = 0

PLAN_CALENDAR = EntityDescription(key="charging_plan", translation_key="charging_plan")


async def async_setup_entry(
    hass: HomeAssistant,
    entry: HomeChargeConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the place's plan calendar."""
    async_add_entities([PlanCalendar(entry.runtime_data.scheduler, PLAN_CALENDAR)])


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
