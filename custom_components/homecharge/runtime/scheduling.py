"""Smart charging at a place: gather prices and cars, plan, and follow the plan.

The runtime around the pure planner. It plans again when prices change (a
price entity updates, or tomorrow's Nord Pool prices appear after 13:00), when
a car plugs in or out, when a setting changes, and at every slot boundary, so
a car that charges slower than planned gets a new plan within 15 minutes.
Each slot it holds the cars to the plan through the chargers' one limit path
and the balancer: the slot's planned power, shared under the fuse, and the
capacity guard that keeps the hour inside the plan's step (``_apply``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
import logging
import math
from typing import Any, Final

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import (
    CALLBACK_TYPE,
    Event,
    EventStateChangedData,
    HomeAssistant,
    callback,
)
from homeassistant.helpers.debounce import Debouncer
from homeassistant.helpers.event import (
    async_track_state_change_event,
    async_track_time_change,
)
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator
from homeassistant.util import dt as dt_util

from ..feeds.prices import NORDPOOL, async_nordpool_prices, read_price_entity
from ..logic.availability import parse_time
from ..logic.capacity_tariff import NO_TARIFF, StepOption, with_day_caps
from ..logic.grid import fuse_kw
from ..logic.grid_tariff import step_options
from ..logic.limits import LimitSource
from ..logic.place import CostBasis, PlaceSettings
from ..logic.plan_following import hour_plan_kw, slot_limits
from ..logic.plan_settings import (
    CONF_BATTERY,
    CONF_READY_BY,
    CONF_READY_BY_DAYS,
    CONF_READY_BY_ONCE,
    CONF_SOC_ENTITY,
    CONF_TARGET_SOC,
    DEFAULT_READY_BY,
    PlanSettings,
)
from ..logic.planner.model import SLOTS_PER_HOUR, Plan, PlanProblem
from ..logic.planner.problem import (
    MAX_HORIZON,
    SLOT,
    CarInput,
    ChargerPlan,
    build_problem,
    energy_need,
    house_peaks_by_day,
    kwh_per_amp,
    ready_moment,
    slot_start,
    summarize,
    unplanned_status,
)
from ..logic.planner.solve import plan_charging
from ..logic.prices import InvalidPrices, PriceSlot
from ..logic.slot_prices import SlotPrice, slot_prices
from .balancing import PlaceBalancer
from .charger import ChargerCoordinator

_LOGGER = logging.getLogger(__name__)

# Nord Pool publishes tomorrow's prices around 12:45–13:00 CET.
TOMORROW_FROM: Final = time(13, 0)
REPLAN_COOLDOWN_S: Final = 1.0


@dataclass(slots=True)
class Schedule:
    """The place's plan as entities and actions show it."""

    prices: list[SlotPrice] = field(default_factory=list)
    problem: PlanProblem | None = None
    plan: Plan | None = None
    cars: list[CarInput] = field(default_factory=list)
    chargers: dict[str, ChargerPlan] = field(default_factory=dict)
    planned_at: datetime | None = None
    price_source: str | None = None

    @property
    def current_price(self) -> float | None:
        """The all-in price of the slot now (forecast prices are not shown)."""
        if self.prices and not self.prices[0].forecast:
            return self.prices[0].price
        return None


class PlaceScheduler(DataUpdateCoordinator[Schedule]):
    """Plans a place's charging and applies the plan slot by slot."""

    config_entry: ConfigEntry

    def __init__(
        self,
        hass: HomeAssistant,
        entry: ConfigEntry,
        place: PlaceSettings,
        settings: PlanSettings,
        chargers: dict[str, ChargerCoordinator],
        balancer: PlaceBalancer,
    ) -> None:
        """Wire a place; nothing runs before ``async_start``."""
        super().__init__(hass, _LOGGER, config_entry=entry, name=f"{place.name} plan")
        self.place = place
        self.settings = settings
        self.chargers = chargers
        self.balancer = balancer
        self.data = Schedule()
        self._known: list[PriceSlot] = []
        self._unsubscribe: list[CALLBACK_TYPE] = []
        self._plugged: dict[str, bool] = {}
        self._smart: dict[str, bool] = {}
        # Whether each car may charge now (a restricted charger may be locked).
        self._may: dict[str, bool] = {}
        self._lock = asyncio.Lock()
        self._replan = Debouncer(
            hass,
            _LOGGER,
            cooldown=REPLAN_COOLDOWN_S,
            immediate=True,
            function=self.async_replan,
        )

    @property
    def known_prices(self) -> list[PriceSlot]:
        """The spot prices read (today's and tomorrow's, as published)."""
        return self._known

    async def async_start(self) -> None:
        """Read prices, plan, and follow changes."""
        if self.settings.price_entity:
            self._unsubscribe.append(
                async_track_state_change_event(
                    self.hass, self.settings.price_entity, self._on_price_entity
                )
            )
        self._unsubscribe.append(
            async_track_time_change(
                self.hass, self._on_slot, minute=range(0, 60, 15), second=0
            )
        )
        for key, charger in self.chargers.items():
            self._plugged[key] = charger.data.plugged_in
            self._smart[key] = charger.data.smart_charging
            self._may[key] = charger.may_charge
            self._unsubscribe.append(
                charger.async_add_listener(self._charger_listener(key))
            )
        await self._async_load_prices()
        await self.async_replan()

    @callback
    def async_stop(self) -> None:
        """Stop following; the planner's limits go with the place."""
        while self._unsubscribe:
            self._unsubscribe.pop()()
        self._replan.async_shutdown()
        for charger in self.chargers.values():
            if LimitSource.PLANNER in charger.data.limits:
                charger.set_limit(LimitSource.PLANNER, None)
        self.balancer.hold_plan(planned_kw=None, step_cap_kw=None)

    def apply_settings(self, place: PlaceSettings, settings: PlanSettings) -> None:
        """New options: plan again (a new price entity needs a reload)."""
        self.place, self.settings = place, settings
        self.request_replan()

    @callback
    def request_replan(self) -> None:
        """Plan again soon (bursts of changes plan once)."""
        self.config_entry.async_create_background_task(
            self.hass, self._replan.async_call(), "homecharge replan"
        )

    # Inputs

    def _charger_listener(self, key: str) -> CALLBACK_TYPE:
        @callback
        def changed() -> None:
            charger = self.chargers[key]
            plugged, smart = charger.data.plugged_in, charger.data.smart_charging
            may = charger.may_charge
            if (plugged, smart, may) == (
                self._plugged[key],
                self._smart[key],
                self._may[key],
            ):
                return
            self._may[key] = may
            if self._plugged[key] and not plugged and not smart:
                # As in the app: "charge full now" lasts until the car leaves.
                charger.set_smart_charging(True)
                smart = True
            self._plugged[key], self._smart[key] = plugged, smart
            self.request_replan()

        return changed

    @callback
    def _on_price_entity(self, _event: Event[EventStateChangedData]) -> None:
        self._read_price_entity()
        self.request_replan()

    async def _on_slot(self, now: datetime) -> None:
        local = dt_util.as_local(now)
        if (
            self._uses_nordpool()
            and local.time() >= TOMORROW_FROM
            and not self._covers(local.date() + timedelta(days=1))
        ):
            await self._async_load_prices()
        await self.async_replan()

    def _covers(self, day: date) -> bool:
        return any(dt_util.as_local(slot.start).date() == day for slot in self._known)

    @property
    def _fixed(self) -> bool:
        return self.place.cost_basis is CostBasis.FIXED

    def _uses_nordpool(self) -> bool:
        return not self.settings.price_entity and not self._fixed

    async def _async_load_prices(self) -> None:
        if self.settings.price_entity:
            self._read_price_entity()
        elif self._uses_nordpool():
            await self._async_load_nordpool()

    def _read_price_entity(self) -> None:
        entity_id = self.settings.price_entity
        if not entity_id:
            return
        try:
            slots = read_price_entity(self.hass, entity_id)
        except InvalidPrices as err:
            _LOGGER.warning(
                "%s: prices of %s not read (%s); planning with what is known",
                self.place.name,
                entity_id,
                err.reason,
            )
            return
        if slots is not None:
            self._known = slots
            self.data.price_source = entity_id

    async def _async_load_nordpool(self) -> None:
        """Today's and tomorrow's prices from Home Assistant's Nord Pool."""
        today = dt_util.now().date()
        slots = await async_nordpool_prices(
            self.hass, self.place.price_area, (today, today + timedelta(days=1))
        )
        if slots:
            self._known = slots
            self.data.price_source = NORDPOOL

    # Planning

    async def async_replan(self) -> None:
        """Plan from now with what is known, and apply the slot now."""
        async with self._lock:
            now = dt_util.now()
            cars = self._cars(now)
            prices = self._prices(now, cars)
            problem = build_problem(
                prices=prices,
                house_a=[self._house(slot.start) for slot in prices],
                grid=self.place.grid_type,
                fuse_a=self.place.main_fuse,
                margin_a=self.balancer.meter.margin if self.balancer.active else 0.0,
                cars=cars,
                steps=self._steps(now, prices),
                price_cap=self.settings.price_cap,
                continuous=self.settings.continuous,
                zone=dt_util.get_default_time_zone(),
                now=now,
            )
            plan = await self.hass.async_add_executor_job(plan_charging, problem)
            schedule = Schedule(
                prices=prices,
                problem=problem,
                plan=plan,
                cars=cars,
                chargers=summarize(problem, plan, prices, cars),
                planned_at=dt_util.utcnow(),
                price_source=self.data.price_source,
            )
            for key, charger in self.chargers.items():
                if key not in schedule.chargers:
                    schedule.chargers[key] = ChargerPlan(
                        status=unplanned_status(
                            plugged_in=charger.data.plugged_in,
                            smart_charging=charger.data.smart_charging,
                        )
                    )
            self.async_set_updated_data(schedule)
            self._apply(schedule)

    def _apply(self, schedule: Schedule) -> None:
        """Hold the cars to the plan's slot now (``logic.plan_following``).

        The slot's power and the plan's step go to the balancer, whose
        capacity guard cuts below the plan when the house runs above its
        forecast.
        """
        limits = slot_limits(
            {
                key: plan.amps_now if (plan := schedule.chargers.get(key)) else None
                for key in self.chargers
            },
            {car.key: car.kwh_per_amp * SLOTS_PER_HOUR for car in schedule.cars},
            metered=self.balancer.active,
        )
        for key, charger in self.chargers.items():
            amps = limits.amps[key]
            if charger.data.limits.get(LimitSource.PLANNER) != amps:
                charger.set_limit(LimitSource.PLANNER, amps)
        whole = schedule.plan
        self.balancer.hold_plan(
            planned_kw=limits.planned_kw,
            step_cap_kw=_step_cap_kw(schedule),
            hour_plan_kw=hour_plan_kw(
                [slot.start for slot in schedule.prices],
                whole.currents if whole else {},
                {car.key: car.kwh_per_amp * SLOTS_PER_HOUR for car in schedule.cars},
                dt_util.get_default_time_zone(),
            ),
        )

    def _cars(self, now: datetime) -> list[CarInput]:
        """Every plugged-in charger under smart charging, with its need."""
        cars = []
        grid = self.place.grid_type
        for key, charger in self.chargers.items():
            data = charger.data
            if not (data.plugged_in and data.smart_charging and charger.may_charge):
                continue
            lines = charger.lines(grid)
            delivered = (data.session_energy_kwh or 0.0) if data.transaction_id else 0.0
            # The vehicle the session is of knows its battery best.
            vehicle = (
                charger.sessions.vehicle(
                    charger.sessions.running(
                        charger.config.charge_point_id, charger.connector_id
                    )
                )
                if charger.sessions is not None
                else None
            )
            soc_entity = charger.setting(CONF_SOC_ENTITY)
            battery = charger.setting(CONF_BATTERY)
            if vehicle is not None:
                soc_entity = vehicle.soc_entity or soc_entity
                battery = vehicle.battery_kwh or battery
            need, source = energy_need(
                soc=self._soc(soc_entity),
                battery_kwh=battery,
                target_soc=float(charger.setting(CONF_TARGET_SOC) or 100),
                sessions_kwh=data.recent_sessions_kwh,
                delivered_kwh=delivered,
                default_kwh=self.settings.default_energy_kwh,
            )
            cars.append(
                CarInput(
                    key=key,
                    name=charger.display_name,
                    lines=lines,
                    kwh_per_amp=kwh_per_amp(grid, lines),
                    # What the charger's own settings allow, not the
                    # balancer's share now: the plan looks ahead.
                    # (The planner plans in the chargers' 0.1 A steps.)
                    max_a=charger.limit_path.without(
                        LimitSource.PLANNER, LimitSource.BALANCER
                    ),
                    need_kwh=need,
                    need_source=source,
                    ready_by=ready_by_of(charger.setting, now),
                    circuit=charger.subentry_id
                    if charger.config.connectors > 1
                    else None,
                    circuit_a=charger.config.circuit_fuse,
                )
            )
        return cars

    def _soc(self, entity_id: str | None) -> float | None:
        state = self.hass.states.get(entity_id) if entity_id else None
        try:
            value = float(state.state) if state is not None else math.nan
        except ValueError:
            return None
        return value if 0 <= value <= 100 else None

    def _prices(self, now: datetime, cars: list[CarInput]) -> list[SlotPrice]:
        """All-in prices from the slot now to the last ready-by (48 h at most)."""
        start = slot_start(dt_util.as_utc(now))
        end = max((car.ready_by for car in cars), default=start + timedelta(hours=24))
        end = min(max(dt_util.as_utc(end), start + SLOT), start + MAX_HORIZON)
        return slot_prices(
            known=self._known,
            start=start,
            end=end,
            place=self.place,
            tariff=self.settings.energy_tariff,
            zone=dt_util.get_default_time_zone(),
        )

    def _house(self, start: datetime) -> tuple[float, float, float]:
        return self.balancer.house.forecast(dt_util.as_local(start))

    def _steps(self, now: datetime, prices: list[SlotPrice]) -> tuple[StepOption, ...]:
        rule = self.settings.capacity
        if rule is None or not self.balancer.active or not prices:
            return NO_TARIFF
        local = dt_util.as_local(now)
        grid = self.place.grid_type
        peaks = house_peaks_by_day(
            grid,
            [
                (dt_util.as_local(slot.start).date(), self._house(slot.start))
                for slot in prices
            ],
        )
        # The hour now as it will end from the house alone: a plan made at
        # :30 must not pick a step the hour's first half has already passed.
        known = [*self.balancer.hourly.hours(), self.balancer.projected_hour(now)]
        most_kw = fuse_kw(grid, self.place.main_fuse)
        options = step_options(known, sorted(peaks), peaks, local, most_kw, rule)
        # A day that peaks above a step's cap anyway may charge up to its peak.
        return with_day_caps(options, known, local, peaks, rule)


def _step_cap_kw(schedule: Schedule) -> float | None:
    """The hourly average the plan's capacity step allows now, for the guard.

    Today's own cap: a day that already peaked above the step's cap may
    charge up to that peak, as the plan did.
    """
    plan, problem = schedule.plan, schedule.problem
    if plan is None or problem is None or not problem.cars:
        return None
    return problem.cap_kw(problem.steps[plan.step], 0)


def ready_by_of(setting: Callable[[str], Any], now: datetime) -> datetime:
    """When the car at this charger must be ready, from its settings."""
    daily = parse_time(setting(CONF_READY_BY) or DEFAULT_READY_BY)
    days = {
        day: parse_time(value)
        for day, value in (setting(CONF_READY_BY_DAYS) or {}).items()
    }
    once = setting(CONF_READY_BY_ONCE)
    once_at = dt_util.parse_datetime(once) if once else None
    return ready_moment(dt_util.as_local(now), daily, days, once_at)
