"""A place's sessions at runtime: charger events into the ledger, priced, saved.

The chargers report their transactions and readings here; the ledger
(logic/sessions) decides where they land; this adapter prices the slots
with the spot prices the scheduler read (kept here for the days after they
leave its window), saves what changed (session_store.py), tells what went
wrong, and answers the sensors and reports.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
import logging
import math
from typing import Final

from homeassistant.config_entries import ConfigEntry
from homeassistant.const import CONF_NAME
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers import device_registry as dr
from homeassistant.util import dt as dt_util

from ..central.meter_values import MeterSample
from ..const import DOMAIN
from ..logic.access import Person, card_holder
from ..logic.prices import PriceSlot, to_quarter_slots
from ..logic.sessions.costing import price_session, spot_lookup
from ..logic.sessions.ledger import Key, Ledger
from ..logic.sessions.model import Flag, Reading, Session, SlotCost
from ..logic.sessions.reports import Totals, period_totals
from ..logic.vehicles import Vehicle, vehicle_of
from .charger_state import ChargerState
from .scheduling import PlaceScheduler
from .session_store import SessionArchive, month_of

_LOGGER = logging.getLogger(__name__)

# An event this close to now happened now: the odometer is read with it (a
# queued one from hours ago would get today's reading).
LIVE: Final = timedelta(minutes=5)
# Fired when a session ends (automations: ask, notify, report).
EVENT_SESSION_STOPPED: Final = "homecharge_session_stopped"
# Spot prices kept for pricing (a late stop prices slots of days ago).
PRICE_MEMORY: Final = timedelta(days=7)


# What the log says when the ledger notices something (flags in model.py).
NOTICES: Final = {
    Flag.STOP_INFERRED: "no stop came; closed at the last register known "
    "(the charger's own stop replaces it if it comes)",
    Flag.STOP_BELOW_START: "stop register below the start (meter reset?); "
    "counted as 0 kWh, registers kept",
    Flag.REGISTER_JUMP: "register rose by more than 1,000 kWh; counted as 0 kWh, "
    "registers kept",
    Flag.REGISTER_BACKWARDS: "a reading went backwards; the slots ignore it",
    Flag.TOO_LONG: "longer than 7 days",
    Flag.START_UNKNOWN: "a stop for a transaction never started here; kept, "
    "its energy unknown until its start comes",
}


# Statuses of a connector without a transaction (OCPP 1.6 words; 2.0.1's
# are mapped to them).
IDLE: Final = frozenset(
    {"Available", "Preparing", "Finishing", "Unavailable", "Faulted"}
)


def whole_wh(value: float | None) -> int | None:
    """A register in whole watt-hours."""
    return None if value is None else round(value)


class PlaceSessions:
    """The sessions of one place while it runs."""

    def __init__(
        self, hass: HomeAssistant, archive: SessionArchive, ledger: Ledger
    ) -> None:
        """Hold the ledger restored from the archive."""
        self._hass = hass
        self.archive = archive
        self.ledger = ledger
        self._scheduler: PlaceScheduler | None = None
        self._spot: dict[datetime, float] = {}
        self._listeners: list[CALLBACK_TYPE] = []
        # Told of each session a charger's stop ended (reimbursement asks).
        self.on_stopped: list[Callable[[Session], None]] = []
        # The place's vehicles (subentries), whose id tags name a session.
        self.vehicles: list[Vehicle] = []
        # The place's people: a session started with one's card is his.
        self.people: list[Person] = []
        # Connectors whose session is open after their charger booted.
        self._after_boot: set[tuple[str, int]] = set()
        # The earliest slot whose energy or cost changed since the hourly
        # statistics last looked (they clear it).
        self.stale_from: datetime | None = None

    @classmethod
    async def async_load(cls, hass: HomeAssistant, entry_id: str) -> PlaceSessions:
        """Read the months the place needs now."""
        archive = SessionArchive(hass, entry_id, dt_util.get_default_time_zone())
        sessions = await archive.async_load(dt_util.now().date())
        ledger = Ledger(sessions, seq=archive.seq, last_hash=archive.last_hash)
        return cls(hass, archive, ledger)

    def follow(self, scheduler: PlaceScheduler) -> CALLBACK_TYPE:
        """Price slots with the scheduler's prices and the place's settings."""
        self._scheduler = scheduler
        return scheduler.async_add_listener(self._prices_changed)

    @callback
    def async_add_listener(self, listener: CALLBACK_TYPE) -> CALLBACK_TYPE:
        """Call listener whenever a session changed; returns the unsubscribe."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    # What the chargers report

    def transaction_id(
        self,
        charger: str,
        connector: int,
        started: datetime,
        meter_start_wh: float | None,
        at_least: int,
        id_tag: str | None = None,
    ) -> str:
        """A 1.6 start's id: the same as before for a start sent again."""
        meter = whole_wh(meter_start_wh)
        if meter is not None and (
            repeat := self.ledger.repeated_start(
                charger, connector, started, meter, id_tag
            )
        ):
            return repeat.transaction_id
        return str(self.ledger.next_transaction_id(charger, at_least))

    def started(
        self,
        charger: str,
        connector: int,
        transaction_id: str,
        started: datetime,
        meter_start_wh: float | None,
        id_tag: str | None,
    ) -> Session:
        """A transaction began (or its start came again)."""
        now = dt_util.utcnow()
        session = self.ledger.start(
            charger=charger,
            connector=connector,
            transaction_id=transaction_id,
            started=started,
            meter_start_wh=whole_wh(meter_start_wh),
            id_tag=id_tag,
            now=now,
        )
        holder = card_holder(self.people, session.id_tag)
        if holder is not None and session.person is None:
            self.ledger.amend(session.key, by=None, now=now, person=holder.name)
        vehicle = vehicle_of(self.vehicles, session.id_tag)
        if vehicle is not None and session.vehicle is None:
            self.ledger.amend(session.key, by=None, now=now, vehicle=vehicle.name)
            if abs(now - session.started) <= LIVE:
                self.ledger.set_odometer(
                    session.key, start_km=self._odometer(vehicle), stop_km=None
                )
        self._after()
        return session

    def readings(
        self,
        charger: str,
        connector: int,
        transaction_id: str | None,
        samples: Iterable[MeterSample],
    ) -> None:
        """Register readings of a connector, live or queued."""
        now = dt_util.utcnow()
        readings = [
            Reading(sample.timestamp or now, round(sample.energy_wh))
            for sample in samples
            if sample.energy_wh is not None
        ]
        if readings:
            self.ledger.record(
                charger=charger,
                connector=connector,
                transaction_id=transaction_id,
                readings=readings,
                now=now,
            )
            self._after()

    def stopped(
        self,
        charger: str,
        connector: int,
        transaction_id: str,
        stopped: datetime,
        meter_stop_wh: float | None,
        reason: str | None,
    ) -> Session:
        """A transaction ended (now or long ago)."""
        now = dt_util.utcnow()
        session = self.ledger.stop(
            charger=charger,
            connector=connector,
            transaction_id=transaction_id,
            stopped=stopped,
            meter_stop_wh=whole_wh(meter_stop_wh),
            reason=reason,
            now=now,
        )
        vehicle = self.vehicle(session)
        if vehicle is not None and abs(now - stopped) <= LIVE:
            self.ledger.set_odometer(
                session.key, start_km=None, stop_km=self._odometer(vehicle)
            )
        self._after()
        self._tell_stopped([session])
        return session

    def _tell_stopped(self, ended: list[Session]) -> None:
        """The rules, the phone's question and the event, for each that ended."""
        for session in ended:
            for listener in list(self.on_stopped):
                listener(session)

    def vehicle(self, session: Session | None) -> Vehicle | None:
        """The vehicle a session is of (by its id tag), if any."""
        if session is None:
            return None
        return vehicle_of(self.vehicles, session.id_tag)

    def _odometer(self, vehicle: Vehicle) -> float | None:
        """The vehicle's odometer now (km as its sensor says); None if unknown."""
        if vehicle.odometer_entity is None:
            return None
        state = self._hass.states.get(vehicle.odometer_entity)
        try:
            value = float(state.state) if state is not None else None
        except ValueError:
            return None
        return value if value is not None and math.isfinite(value) else None

    def booted(self, charger: str) -> None:
        """The charger booted (or reconnected: many send a boot then too).

        Its open sessions are closed when it tells a connector's status: a
        connector that is not charging any more left its session open.
        """
        for session in self.ledger.unfinished(charger):
            self._after_boot.add((charger, session.connector))

    def status(self, charger: str, connector: int, status: str) -> None:
        """A connector's status; after a boot, an idle one closes its session."""
        if (charger, connector) not in self._after_boot:
            return
        self._after_boot.discard((charger, connector))
        if status in IDLE and (
            ended := self.ledger.close_unfinished(charger, connector)
        ):
            self._after()
            # Ended though the charger never said so (power lost mid-session).
            self._tell_stopped(ended)

    def moved_away(self, charger: str) -> None:
        """The charger moved to another place: its running sessions end here.

        They end at their last register (stop inferred); the new place goes on
        from there (``ChargerState.handed_over``).
        """
        if ended := self.ledger.close_unfinished(charger):
            self._after()
            self._tell_stopped(ended)

    def adopt(self, charger: str, connector: int, state: ChargerState) -> None:
        """A transaction running before the ledger existed (or was saved)."""
        if (
            state.transaction_id is not None
            and state.session_started is not None
            and self.ledger.get((charger, state.transaction_id)) is None
        ):
            self.started(
                charger,
                connector,
                state.transaction_id,
                state.session_started,
                state.meter_start_wh,
                None,
            )

    def amend(self, key: Key, *, by: str | None, **fields: object) -> Session:
        """A user's change (classification, note, vehicle, who)."""
        session = self.ledger.amend(key, by=by, now=dt_util.utcnow(), **fields)
        self._after()
        return session

    # Reading

    def running(self, charger: str, connector: int) -> Session | None:
        """The session running on a connector."""
        return self.ledger.running(charger, connector)

    def last_finished(self, charger: str, connector: int) -> Session | None:
        """The session that ended last on a connector."""
        return max(
            (
                s
                for s in self.ledger
                if s.charger == charger and s.connector == connector and s.finished
            ),
            key=lambda s: s.stopped or s.started,
            default=None,
        )

    def totals(
        self, start: datetime, end: datetime, charger: str, connector: int
    ) -> Totals:
        """A connector's energy and cost in [start, end) (held months only)."""
        return period_totals(
            (
                s
                for s in self.ledger
                if s.charger == charger and s.connector == connector
            ),
            start,
            end,
        )

    def person_totals(self, start: datetime, end: datetime, person: str) -> Totals:
        """A person's energy and cost in [start, end), any charger (held months only)."""
        return period_totals((s for s in self.ledger if s.person == person), start, end)

    async def async_sessions(
        self, start: datetime | None, end: datetime | None
    ) -> list[Session]:
        """Every session that started in [start, end), oldest first.

        Months on disk are read for the period (not held); the sessions held
        (changed, running) are the newest word.
        """
        zone = dt_util.get_default_time_zone()
        months = sorted(self.archive.months)
        if start is not None:
            months = [m for m in months if m >= month_of(start, zone)]
        if end is not None:
            months = [m for m in months if m <= month_of(end, zone)]
        found: dict[Key, Session] = {}
        for month in months:
            for session in await self.archive.async_read(month):
                found[session.key] = session
        for session in self.ledger:
            found[session.key] = session
        return sorted(
            (
                s
                for s in found.values()
                if (start is None or s.started >= start)
                and (end is None or s.started < end)
            ),
            key=lambda s: (s.started, s.key),
        )

    # Inside

    @callback
    def _prices_changed(self) -> None:
        if self._scheduler is None:
            return
        known = to_quarter_slots(self._scheduler.known_prices)
        if self._learn(known):
            for session in self.ledger:
                if not session.finished or Flag.PRICE_MISSING in session.flags:
                    self.ledger.changed.add(session.key)
            self._after()

    def _learn(self, known: list[PriceSlot]) -> bool:
        learned = False
        for slot in known:
            if self._spot.get(slot.start) != slot.price:
                self._spot[slot.start] = slot.price
                learned = True
        horizon = dt_util.utcnow() - PRICE_MEMORY
        for start in [start for start in self._spot if start < horizon]:
            del self._spot[start]
        return learned

    def _price_of(self) -> Callable[[datetime], SlotCost] | None:
        scheduler = self._scheduler
        if scheduler is None:
            return None
        return spot_lookup(
            self._spot,
            scheduler.place,
            scheduler.settings.energy_tariff,
            dt_util.get_default_time_zone(),
        )

    @callback
    def _after(self) -> None:
        """Price, tell and save what the last event changed."""
        ledger = self.ledger
        price_of = self._price_of()
        changed = [s for key in ledger.changed if (s := ledger.get(key)) is not None]
        ledger.changed.clear()
        stale = [ledger.earliest_change] if ledger.earliest_change else []
        ledger.earliest_change = None
        if price_of is not None:
            priced = (price_session(session, price_of) for session in changed)
            stale.extend(first for first in priced if first is not None)
        if stale:
            first = min(stale)
            self.stale_from = min(first, self.stale_from or first)
        for flag, (charger, transaction_id) in ledger.notices:
            _LOGGER.warning(
                "Charger %s, transaction %s: %s",
                charger,
                transaction_id,
                NOTICES.get(flag, flag.value),
            )
        ledger.notices.clear()
        if changed:
            self.archive.save(changed, ledger.seq, ledger.last_hash)
        for listener in list(self._listeners):
            listener()

    async def async_flush(self) -> None:
        """Save everything now."""
        await self.archive.async_flush()


@callback
def async_fire_when_stopped(
    hass: HomeAssistant, entry: ConfigEntry, sessions: PlaceSessions
) -> CALLBACK_TYPE:
    """
    Fire ``homecharge_session_stopped`` for each session that ends; the undo.

    Registered after the reimbursement's rules, so its classification is the
    one they gave. A stop replayed from a charger's offline queue fires too:
    ``stopped`` says when it was.
    """
    devices = dr.async_get(hass)

    def stopped(session: Session) -> None:
        key = (
            session.charger
            if session.connector == 1
            else f"{session.charger}/{session.connector}"
        )
        device = devices.async_get_device(identifiers={(DOMAIN, key)})
        cost = session.cost
        hass.bus.async_fire(
            EVENT_SESSION_STOPPED,
            {
                "config_entry_id": entry.entry_id,
                # Read now: a renamed place is not reloaded.
                "place": entry.data.get(CONF_NAME, entry.title),
                "device_id": None if device is None else device.id,
                "charger": session.charger,
                "connector": session.connector,
                "transaction_id": session.transaction_id,
                "started": session.started.isoformat(),
                "stopped": session.stopped.isoformat() if session.stopped else None,
                "energy_kwh": round(session.energy_wh / 1000, 3),
                "cost": None if cost is None else round(cost, 2),
                "cost_complete": session.cost_complete,
                "classification": session.classification.value,
                "person": session.person,
                "vehicle": session.vehicle,
            },
        )

    sessions.on_stopped.append(stopped)
    return lambda: sessions.on_stopped.remove(stopped)
