"""
A place's load balancer at runtime: meter readings in, charger limits out.

Event-driven: every meter message recomputes (no polling loop). The decisions
are pure (logic/balancer.py, logic/meter_state.py); this module wires them to the meter
feed, the chargers' single limit path, the fail-safe timer, repairs, events
and the place's entities.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timedelta
import logging
from typing import Any, Final

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.event import async_call_later
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator
from homeassistant.util import dt as dt_util

from ..const import DOMAIN
from ..feeds.meter import async_start_feed
from ..logic.allocation import Bound, ChargerLoad, PhaseAmps
from ..logic.balancer import (
    Change,
    Reason,
    Track,
    balance,
    fail_safe,
    headroom,
    overloaded_lines,
    own_draw,
    own_total,
)
from ..logic.capacity_guard import (
    charging_budget_kw,
    forecast_rest_kw,
    guard_kw,
    house_kw_ahead,
    planned_later_kwh,
    rest_of_hour,
)
from ..logic.capacity_tariff import (
    CapacityState,
    HourEnergy,
    HourlyEnergy,
    capacity_state,
)
from ..logic.charger_status import ChargerStatus
from ..logic.grid import grid_lines, house_kw, kw_per_amp
from ..logic.house_profile import HouseProfile
from ..logic.limited_by import ChargerLimits, LimitedBy, limited_by
from ..logic.limits import LimitSource
from ..logic.meter_formats import MeterReading
from ..logic.meter_settings import MeterSettings
from ..logic.meter_state import MeterState, Phases
from ..logic.place import PlaceSettings
from .charger import ChargerCoordinator
from .overload import OverloadWatch

_LOGGER = logging.getLogger(__name__)

EVENT_LOAD_LIMITED: Final = "homecharge_load_limited"
# One warning about refused meter payloads per this long, with a count.
WARN_EVERY: Final = timedelta(minutes=10)
# The capacity tariff changes slowly: recomputed at most this often.
CAPACITY_EVERY: Final = timedelta(minutes=1)


@dataclass(slots=True)
class LoadState:
    """What a place's meter and balancer show; entities read it."""

    configured: bool = False
    online: bool = False
    failsafe: bool = False
    balancing: bool = True
    import_w: float | None = None
    export_w: float | None = None
    currents: Phases = (None, None, None)
    headroom: PhaseAmps | None = None
    hour_kwh: float | None = None
    capacity: CapacityState | None = None
    refused: int = 0
    # What holds each charger's share (by charger key), from the last decision.
    bounds: dict[str, Bound] = field(default_factory=dict)
    # The capacity guard: what the planned cars may draw together now (kW),
    # and whether that is the plan's power (else the step's rest).
    guard_kw: float | None = None
    guard_by_plan: bool = False
    # The last decision with its inputs, for diagnostics.
    decision: dict[str, Any] = field(default_factory=dict)


class PlaceBalancer(DataUpdateCoordinator[LoadState]):
    """Keeps a place under its main fuse; push only, it never polls."""

    config_entry: ConfigEntry

    def __init__(
        self,
        hass: HomeAssistant,
        entry: ConfigEntry,
        place: PlaceSettings,
        meter: MeterSettings,
        chargers: Mapping[str, ChargerCoordinator],
        hourly: HourlyEnergy,
        house: HouseProfile,
    ) -> None:
        """Wire a place's meter settings to its chargers."""
        super().__init__(
            hass, _LOGGER, config_entry=entry, name=f"{DOMAIN} {place.name} load"
        )
        self.place = place
        self.meter = meter
        self.chargers = chargers
        self.hourly = hourly
        self.house = house
        self.data = LoadState(
            configured=meter.configured, balancing=meter.load_balancing
        )
        self._state = MeterState(grid=place.grid_type)
        for charger in chargers.values():
            # What a charger falls to by itself if Home Assistant dies.
            charger.limit_path.fallback_amps = meter.safe_current
        self._tracks: dict[str, Track] = {}
        self._stop_feed: CALLBACK_TYPE | None = None
        self._watchdog: CALLBACK_TYPE | None = None
        self._warned_at: datetime | None = None
        self._refused_since_warning = 0
        self._capacity_at: datetime | None = None
        # The plan's capacity step (its hourly average, kW): the guard keeps
        # each clock hour inside it; None while no plan chose one. And the
        # power the plan gives the cars in the slot now.
        self._step_cap_kw: float | None = None
        self._planned_kw: float | None = None
        self._hour_plan_kw: dict[datetime, float] = {}
        self._overload = OverloadWatch(hass, f"overload_{entry.entry_id}")

    @property
    def issue_id(self) -> str:
        """The repair issue shown while the meter is silent."""
        return f"meter_offline_{self.config_entry.entry_id}"

    @property
    def active(self) -> bool:
        """Balancing runs: a meter is configured and balancing is on."""
        return self.meter.configured and self.meter.load_balancing

    async def async_start(self) -> None:
        """Subscribe to the meter; until it speaks, chargers get the safe current."""
        if not self.meter.configured:
            return
        self._stop_feed = await async_start_feed(
            self.hass, self.meter, self._on_reading, self._on_refused
        )
        if self.active:
            # Until the first reading (after a restart, say) nobody gets more.
            for charger in self.chargers.values():
                charger.set_limit(LimitSource.BALANCER, self.meter.safe_current)
        self._arm_watchdog()

    @callback
    def async_stop(self) -> None:
        """Unsubscribe and stop the timer (the place unloads)."""
        self._overload.clear()
        if self._stop_feed is not None:
            self._stop_feed()
            self._stop_feed = None
        self._disarm_watchdog()

    @callback
    def apply_settings(self, place: PlaceSettings, meter: MeterSettings) -> None:
        """New fuse, margin or balancing switch: decide again at once."""
        was_active = self.active
        self.place, self.meter = place, meter
        self.data.balancing = meter.load_balancing
        for charger in self.chargers.values():
            charger.limit_path.set_fallback(meter.safe_current)
        if was_active and not self.active:
            self._release()
            ir.async_delete_issue(self.hass, DOMAIN, self.issue_id)
        elif self.active and self.data.online and self._state.currents_at:
            self._decide(dt_util.utcnow(), self._loads())
        self.async_set_updated_data(self.data)

    # Meter

    @callback
    def _on_reading(self, reading: MeterReading) -> None:
        now = dt_util.utcnow()
        loads = self._loads()
        own = own_total(loads)
        self._state.update(reading, now, own)
        self._count_energy(reading, now)
        self._arm_watchdog()
        data = self.data
        if not data.online or data.failsafe:
            data.online, data.failsafe = True, False
            ir.async_delete_issue(self.hass, DOMAIN, self.issue_id)
        data.import_w, data.export_w = self._state.import_w, self._state.export_w
        # The sensors show what the meter measured, not our estimate.
        data.currents = self._state.measured_a
        # Power alone says nothing per phase: decide once currents were measured.
        if self.active and self._state.currents_at is not None:
            self._decide(now, loads)
        self.async_set_updated_data(data)

    @callback
    def _on_refused(self, reason: str) -> None:
        """A payload we cannot trust: counted, warned about now and then."""
        self.data.refused += 1
        self._refused_since_warning += 1
        now = dt_util.utcnow()
        if self._warned_at is None or now - self._warned_at >= WARN_EVERY:
            _LOGGER.warning(
                "%s: refused %d meter payload(s) (last: %s); readings are "
                "taken only from valid payloads",
                self.place.name,
                self._refused_since_warning,
                reason,
            )
            self._warned_at = now
            self._refused_since_warning = 0

    def _count_energy(self, reading: MeterReading, now: datetime) -> None:
        local = dt_util.as_local(now)
        if reading.import_w is not None:
            self.hourly.add_power(local, self._state.net_power_w)
        if reading.import_kwh is not None:
            self.hourly.add_register(local, reading.import_kwh)
        if self._state.currents_at is not None:
            self.house.add(local, grid_lines(self.place.grid_type, self._state.house_a))
        self.data.hour_kwh = self.hourly.current_hour(local).kwh
        if self._capacity_at is None or now - self._capacity_at >= CAPACITY_EVERY:
            self._capacity_at = now
            hours = [*self.hourly.hours(), self.hourly.current_hour(local)]
            self.data.capacity = capacity_state(hours, local)

    # Deciding

    def _loads(self) -> list[ChargerLoad]:
        """The connected chargers as the balancer sees them."""
        grid = self.place.grid_type
        loads = []
        for charger in self.chargers.values():
            if charger.session is None:
                # Not ours to steer now: what it draws counts as the house's.
                continue
            data, config = charger.data, charger.config
            phases = charger.lines(grid)
            charging = data.transaction_id is not None and not data.paused
            loads.append(
                ChargerLoad(
                    charger_id=charger.key,
                    phases=phases,
                    max_amps=charger.limit_path.without(LimitSource.BALANCER),
                    draw=own_draw(
                        phases,
                        data.current_a,
                        # A cut on its way may show in the meter already:
                        # counted at it, the house is read high, never low.
                        data.offered_a
                        if data.cutting_to_a is None
                        else data.cutting_to_a,
                        charging=charging,
                        previous_offer=data.previous_offer_a,
                        stale=charger.currents_stale,
                    ),
                    active=data.plugged_in and charger.may_charge,
                    priority=charger.priority,
                    since=data.session_started.timestamp()
                    if data.session_started
                    else 0.0,
                    # A charger's connectors share its circuit and fuse.
                    circuit=charger.subentry_id if config.connectors > 1 else None,
                    circuit_amps=config.circuit_fuse,
                    # The capacity guard holds the cars the plan holds.
                    kw_per_amp=kw_per_amp(grid, phases) if data.smart_charging else 0.0,
                )
            )
        return loads

    def limited_by(self, charger: ChargerCoordinator) -> LimitedBy:
        """What holds a charger's car at its current now."""
        data = charger.data
        fresh = [a for a in data.current_a if a is not None]
        return limited_by(
            ChargerLimits(
                plugged_in=data.plugged_in,
                enabled=charger.enabled,
                open_now=charger.station.availability.open_now,
                stopped_by_user=charger.status is ChargerStatus.STOPPED,
                circuit_fuse=charger.config.circuit_fuse,
                limits=data.limits,
                bound=self.data.bounds.get(charger.key) if self.active else None,
                # Until the meter's first phase currents, the safe current too.
                failsafe=self.active
                and (
                    self.data.failsafe
                    or not self.data.online
                    or self._state.currents_at is None
                ),
                guard_by_plan=self.data.guard_by_plan,
                charging=data.transaction_id is not None and not data.paused,
                offered_a=data.offered_a,
                drawn_a=max(fresh) if fresh and not charger.currents_stale else None,
            )
        )

    @callback
    def hold_plan(
        self,
        *,
        planned_kw: float | None,
        step_cap_kw: float | None,
        hour_plan_kw: Mapping[datetime, float] | None = None,
    ) -> None:
        """The plan's power for the slot now and its step: the guard's limits.

        ``hour_plan_kw``: the plan's power in the slots of this clock hour,
        which the guard keeps for the slots after this one.
        """
        self._planned_kw, self._step_cap_kw = planned_kw, step_cap_kw
        self._hour_plan_kw = dict(hour_plan_kw or {})
        if self.active and self.data.online and self._state.currents_at:
            self._decide(dt_util.utcnow(), self._loads())

    def house_rest_kw(self, now: datetime) -> float:
        """The house's power for the rest of the hour: now's, or the forecast's.

        The higher of the two: a house that usually peaks later in the hour
        (the oven at :50) is not taken at what it draws at :10.
        """
        grid = self.place.grid_type
        local = dt_util.as_local(now)
        house = [amps or 0.0 for amps in grid_lines(grid, self._state.house_a)]
        forecast = forecast_rest_kw(
            local, lambda moment: house_kw(grid, self.house.forecast(moment))
        )
        return house_kw_ahead(house_kw(grid, house), forecast)

    def projected_hour(self, now: datetime) -> HourEnergy:
        """The hour now as it will end without more charging: counted + house."""
        local = dt_util.as_local(now)
        hour = self.hourly.current_hour(local)
        rest = self.house_rest_kw(now) * rest_of_hour(local)
        return replace(hour, kwh=hour.kwh + rest)

    def _guard_kw(self, now: datetime, loads: list[ChargerLoad]) -> float | None:
        """What the planned cars may draw together: the plan's, within its step.

        For the step, the house takes the higher of its draw now and its
        forecast for the rest of the hour; cars charging at full power by the
        user's choice go on as they draw now.
        """
        step_kw = None
        if self._step_cap_kw is not None and self._state.currents_at is not None:
            step_kw = self._step_kw(now, loads, self._step_cap_kw)
        cap, self.data.guard_by_plan = guard_kw(self._planned_kw, step_kw)
        return cap

    def _step_kw(self, now: datetime, loads: list[ChargerLoad], cap_kw: float) -> float:
        """What the step leaves the planned cars of the hour, per hour left."""
        grid = self.place.grid_type
        others = self.house_rest_kw(now) + sum(
            max(load.draw) * kw_per_amp(grid, load.phases)
            for load in loads
            if not load.kw_per_amp
        )
        local = dt_util.as_local(now)
        return charging_budget_kw(
            cap_kw=cap_kw,
            used_kwh=self.hourly.current_hour(local).kwh,
            house_kw=others,
            now=local,
            later_kwh=planned_later_kwh(self._hour_plan_kw, local),
            planned_kw=self._planned_kw,
        )

    def _decide(self, now: datetime, loads: list[ChargerLoad]) -> None:
        measured = self._state.phase_currents(own_total(loads))
        settings = self.meter.balancer(self.place.main_fuse)
        guard_kw = self._guard_kw(now, loads)
        decision = balance(self._tracks, measured, loads, now, settings, guard_kw)
        tracks, targets, changes = decision.tracks, decision.targets, decision.changes
        self.data.bounds = decision.bounds
        self.data.guard_kw = guard_kw
        # Chargers offline now keep their last limit for when they return.
        self._tracks = {**self._tracks, **tracks}
        self.data.headroom = headroom(
            settings.main_fuse, measured, loads, settings.margin
        )
        self.data.decision = {
            "at": now.isoformat(),
            "measured_a": measured,
            "headroom_a": self.data.headroom,
            "chargers": [
                asdict(load) | {"phases": sorted(load.phases)} for load in loads
            ],
            "targets_a": targets,
            "bounds": decision.bounds,
            "capacity_guard_kw": guard_kw,
            "limits_a": {key: track.amps for key, track in self._tracks.items()},
        }
        self._apply(changes)
        self._watch_overload(now, measured, loads)

    def _watch_overload(
        self, now: datetime, measured: Sequence[float | None], loads: list[ChargerLoad]
    ) -> None:
        """Above the fuse with every charger we control paused: tell the user."""
        self._overload.update(
            now,
            self.place,
            overloaded_lines(measured, self.place.main_fuse),
            all_paused=all(
                self._tracks.get(load.charger_id, Track(amps=0.0)).amps == 0
                for load in loads
            ),
            not_connected=[
                charger.display_name
                for charger in self.chargers.values()
                if charger.is_station and charger.session is None
            ],
        )

    def _apply(self, changes: list[Change]) -> None:
        for change in changes:
            charger = self.chargers[change.charger_id]
            charger.set_limit(LimitSource.BALANCER, change.to_amps)
            if change.from_amps is None and change.reason is Reason.RAISED:
                # The first decision after a start is no news to automations.
                continue
            self.hass.bus.async_fire(
                EVENT_LOAD_LIMITED,
                {
                    "place": self.place.name,
                    "charger": charger.display_name,
                    "charge_point_id": charger.config.charge_point_id,
                    "connector": charger.connector_id,
                    "from": change.from_amps,
                    "to": change.to_amps,
                    "reason": change.reason.value,
                },
            )
            # Expected in a busy house: info, not a warning (the event is for
            # automations; a silent meter is a repair issue).
            _LOGGER.info(
                "%s: %s limited from %s A to %s A (%s)",
                self.place.name,
                charger.display_name,
                change.from_amps,
                change.to_amps,
                change.reason.value,
            )

    @callback
    def _release(self) -> None:
        """Balancing off: the chargers' balancer limits go."""
        self._tracks = {}
        self.data.headroom = None
        for charger in self.chargers.values():
            charger.set_limit(LimitSource.BALANCER, None)

    # Fail-safe

    def _arm_watchdog(self) -> None:
        self._disarm_watchdog()
        self._watchdog = async_call_later(
            self.hass, self.meter.meter_timeout, self._on_silence
        )

    def _disarm_watchdog(self) -> None:
        if self._watchdog is not None:
            self._watchdog()
            self._watchdog = None

    @callback
    def _on_silence(self, _now: datetime) -> None:
        """No valid meter message for too long: everyone to the safe current."""
        self._watchdog = None
        self.data.online = False
        if self.active:
            self.data.failsafe = True
            tracks, changes = fail_safe(
                self._tracks, self.chargers, self.meter.safe_current
            )
            self._tracks = tracks
            self._apply(changes)
            ir.async_create_issue(
                self.hass,
                DOMAIN,
                self.issue_id,
                is_fixable=False,
                severity=ir.IssueSeverity.ERROR,
                translation_key="meter_offline",
                translation_placeholders={
                    "place": self.place.name,
                    "seconds": f"{self.meter.meter_timeout:g}",
                    "amps": f"{self.meter.safe_current:g}",
                },
            )
        self.async_set_updated_data(self.data)
