"""OCPP transaction events into sessions: live, late, repeated or never sent.

One session per transaction, keyed by charger and transaction id. What a
charger's offline queue replays after a reconnect lands where it belongs:
readings by their transaction id (or, without one, by their time on the
connector), a late stop in its own session. A repeated start or stop is
recognised, never counted twice; readings that come before their start wait
for it. A session whose stop never came is closed at the charger's next boot
or next session on the connector, with the last register we know, and
flagged; the charger's own stop, if it comes after all, replaces ours.

Finished sessions are sealed (chain.py); changing one afterwards lists the
change. The slots are derived from the readings kept, so however the
messages arrive, the same messages give the same sessions.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime
from itertools import pairwise
from typing import Any

from .chain import GENESIS, plain, seal
from .model import (
    MAX_SESSION_LENGTH,
    MAX_SESSION_WH,
    Change,
    Classification,
    Flag,
    Reading,
    Session,
    keep_reading,
    slot_of,
)
from .slots import EPSILON, extend, slot_energies

type Key = tuple[str, str]

# Flags a full derivation sets; a session with one grows the slow way.
_DERIVED_FLAGS = frozenset(
    {Flag.REGISTER_BACKWARDS, Flag.STOP_BELOW_START, Flag.REGISTER_JUMP}
)


def whole_second(moment: datetime) -> datetime:
    """Times are kept to the second (what OCPP sends, and what is stored)."""
    return moment.replace(microsecond=0)


class Ledger:
    """A place's sessions, and the events that make them."""

    def __init__(
        self,
        sessions: Iterable[Session] = (),
        *,
        seq: int = 0,
        last_hash: str = GENESIS,
    ) -> None:
        """Hold the given sessions; the chain goes on from seq and last_hash."""
        self._sessions: dict[Key, Session] = {s.key: s for s in sessions}
        self._unfinished: dict[Key, Session] = {
            key: s for key, s in self._sessions.items() if not s.finished
        }
        # Readings of a transaction whose start has not come yet.
        self._waiting: dict[Key, list[Reading]] = {}
        self.seq = seq
        self.last_hash = last_hash
        # Sessions changed since the owner last saved (it clears this).
        self.changed: set[Key] = set()
        # What went wrong, for the owner to tell (it clears this).
        self.notices: list[tuple[Flag, Key]] = []
        # The earliest slot whose energy changed since the owner looked (it
        # clears this): hourly statistics from there on are stale.
        self.earliest_change: datetime | None = None

    def __iter__(self) -> Iterator[Session]:
        """Every session held."""
        return iter(self._sessions.values())

    def __len__(self) -> int:
        """How many sessions are held."""
        return len(self._sessions)

    def get(self, key: Key) -> Session | None:
        """A session by charger and transaction id."""
        return self._sessions.get(key)

    def running(self, charger: str, connector: int) -> Session | None:
        """The latest unfinished session on a connector."""
        candidates = [
            s
            for s in self._unfinished.values()
            if s.charger == charger and s.connector == connector
        ]
        return max(candidates, key=lambda s: s.started, default=None)

    def repeated_start(
        self,
        charger: str,
        connector: int,
        started: datetime,
        meter_start_wh: int,
        id_tag: str | None = None,
    ) -> Session | None:
        """The session a re-sent 1.6 StartTransaction already opened.

        A re-sent start is the same message: same time, register and card (a
        new card in the same second is a new session, e.g. after a refusal).
        """
        started = whole_second(started)
        return next(
            (
                s
                for s in self._sessions.values()
                if s.charger == charger
                and s.connector == connector
                and s.started == started
                and s.meter_start_wh == meter_start_wh
                and s.id_tag == id_tag
                and Flag.START_UNKNOWN not in s.flags
            ),
            None,
        )

    def next_transaction_id(self, charger: str, at_least: int) -> int:
        """A 1.6 transaction id not used at the charger (ours to number)."""
        used = [
            int(s.transaction_id)
            for s in self._sessions.values()
            if s.charger == charger and s.transaction_id.isdecimal()
        ]
        return max([at_least, *(number + 1 for number in used)])

    # Events

    def start(
        self,
        *,
        charger: str,
        connector: int,
        transaction_id: str,
        started: datetime,
        meter_start_wh: int | None,
        id_tag: str | None = None,
        now: datetime,
    ) -> Session:
        """A transaction began (or its start came again, or came late)."""
        key = (charger, transaction_id)
        started = whole_second(started)
        if (session := self._sessions.get(key)) is not None:
            if Flag.START_UNKNOWN in session.flags:
                self._learn_start(session, started, meter_start_wh, id_tag, now)
            return session
        previous = self.running(charger, connector)
        if previous is not None and previous.started <= started:
            self._close_inferred(previous)
        session = Session(
            charger=charger,
            connector=connector,
            transaction_id=transaction_id,
            started=started,
            meter_start_wh=meter_start_wh,
            id_tag=id_tag,
        )
        self._sessions[key] = session
        self._unfinished[key] = session
        for reading in self._waiting.pop(key, []):
            self._keep(session, reading)
        self._derive(session)
        return session

    def record(
        self,
        *,
        charger: str,
        connector: int,
        transaction_id: str | None,
        readings: Iterable[Reading],
        now: datetime,
    ) -> list[Session]:
        """Register readings; each goes to its transaction, or by its time."""
        touched: dict[Key, Session] = {}
        for raw in readings:
            reading = Reading(whole_second(raw.at), raw.wh)
            session = self._target(charger, connector, transaction_id, reading)
            if session is None:
                if transaction_id is not None:
                    self._waiting.setdefault((charger, transaction_id), []).append(
                        reading
                    )
                continue
            if session.key not in touched and self._grow(session, reading):
                continue
            if self._keep(session, reading):
                touched[session.key] = session
        for session in touched.values():
            last = session.last_reading
            if (
                Flag.STOP_INFERRED in session.flags
                and last is not None
                and session.stopped is not None
                and last.at > session.stopped
            ):
                # Our inferred stop follows what the register says.
                self._amend(session, "stopped", last.at, None, now)
                self._amend(session, "meter_stop_wh", last.wh, None, now)
            self._derive(session)
        return list(touched.values())

    def stop(
        self,
        *,
        charger: str,
        transaction_id: str,
        stopped: datetime,
        meter_stop_wh: int | None,
        reason: str | None,
        connector: int = 1,
        now: datetime,
    ) -> Session:
        """A transaction ended; a stop for one never seen starts its session."""
        key = (charger, transaction_id)
        stopped = whole_second(stopped)
        session = self._sessions.get(key)
        if session is None:
            session = Session(
                charger=charger,
                connector=connector,
                transaction_id=transaction_id,
                started=stopped,
                meter_start_wh=None,
                flags={Flag.START_UNKNOWN},
            )
            self._sessions[key] = session
            self.notices.append((Flag.START_UNKNOWN, key))
            for reading in self._waiting.pop(key, []):
                self._keep(session, reading)
        if session.finished:
            if Flag.STOP_INFERRED in session.flags:
                # The charger's own stop, after we closed it: it is the truth.
                session.flags.discard(Flag.STOP_INFERRED)
                self._amend(session, "stopped", stopped, None, now)
                self._amend(session, "meter_stop_wh", meter_stop_wh, None, now)
                self._amend(session, "stop_reason", reason, None, now)
                self._derive(session)
            return session
        session.stopped = stopped
        session.meter_stop_wh = meter_stop_wh
        session.stop_reason = reason
        self._finish(session)
        return session

    def unfinished(self, charger: str) -> list[Session]:
        """The charger's sessions without a stop."""
        return [s for s in self._unfinished.values() if s.charger == charger]

    def close_unfinished(
        self, charger: str, connector: int | None = None
    ) -> list[Session]:
        """Sessions the charger left open (on a connector) end at their last register."""
        closing = [
            s
            for s in self._unfinished.values()
            if s.charger == charger and connector in (None, s.connector)
        ]
        for session in closing:
            self._close_inferred(session)
        return closing

    def amend(
        self, key: Key, *, by: str | None, now: datetime, **fields: Any
    ) -> Session:
        """Change what a user may (classification, note, vehicle, who)."""
        session = self._sessions[key]
        for name, value in fields.items():
            if name not in {"classification", "note", "vehicle", "id_tag", "person"}:
                raise ValueError(name)
            new = Classification(value) if name == "classification" else value
            self._amend(session, name, new, by, now)
        return session

    def set_odometer(
        self, key: Key, *, start_km: float | None, stop_km: float | None
    ) -> None:
        """The vehicle's odometer at the start or the stop (when known)."""
        session = self._sessions[key]
        if start_km is not None:
            session.odometer_start_km = start_km
        if stop_km is not None:
            session.odometer_stop_km = stop_km
        self.changed.add(key)

    # Inside

    def _target(
        self, charger: str, connector: int, transaction_id: str | None, reading: Reading
    ) -> Session | None:
        if transaction_id is not None:
            return self._sessions.get((charger, transaction_id))
        # Without a transaction id: the session on the connector at that time
        # (the running one, nearly always).
        running = self.running(charger, connector)
        if running is not None and running.started <= reading.at:
            return running
        for session in sorted(
            self._sessions.values(), key=lambda s: s.started, reverse=True
        ):
            if (
                session.charger == charger
                and session.connector == connector
                and session.started <= reading.at
                and (session.stopped is None or reading.at <= session.stopped)
                and Flag.START_UNKNOWN not in session.flags
            ):
                return session
        return None

    @staticmethod
    def _keep(session: Session, reading: Reading) -> bool:
        return keep_reading(session.readings, reading)

    def _grow(self, session: Session, reading: Reading) -> bool:
        """Grow a running session by the usual live reading, if it is one.

        Later and not lower than the session's last reading: its slots grow
        by the boundaries it crosses (what a full derivation would give, at
        a fraction of the work). False for any other reading.
        """
        last = session.last_reading
        start = session.meter_start_wh
        if (
            session.finished
            or last is None
            or start is None
            or reading.at <= last.at
            or reading.wh < last.wh
            or last.at <= session.started
            or last.wh <= start
            or reading.wh - start > MAX_SESSION_WH
            or session.flags & _DERIVED_FLAGS
        ):
            return False
        keep_reading(session.readings, reading)
        extend(session.slots, last, reading)
        first = slot_of(last.at - EPSILON)
        if self.earliest_change is None or first < self.earliest_change:
            self.earliest_change = first
        self.changed.add(session.key)
        return True

    def _learn_start(
        self,
        session: Session,
        started: datetime,
        meter_start_wh: int | None,
        id_tag: str | None,
        now: datetime,
    ) -> None:
        session.flags.discard(Flag.START_UNKNOWN)
        self._amend(session, "started", started, None, now)
        self._amend(session, "meter_start_wh", meter_start_wh, None, now)
        if id_tag is not None:
            self._amend(session, "id_tag", id_tag, None, now)
        self._derive(session)

    def _close_inferred(self, session: Session) -> None:
        last = session.last_reading
        session.stopped = last.at if last else session.started
        session.meter_stop_wh = last.wh if last else session.meter_start_wh
        session.flags.add(Flag.STOP_INFERRED)
        self.notices.append((Flag.STOP_INFERRED, session.key))
        self._finish(session)

    def _finish(self, session: Session) -> None:
        self._unfinished.pop(session.key, None)
        if session.stopped and session.stopped - session.started > MAX_SESSION_LENGTH:
            session.flags.add(Flag.TOO_LONG)
            self.notices.append((Flag.TOO_LONG, session.key))
        self._derive(session)
        self.seq += 1
        self.last_hash = seal(session, self.seq, self.last_hash)

    def _amend(
        self, session: Session, name: str, value: Any, by: str | None, now: datetime
    ) -> None:
        old = getattr(session, name)
        if old == value:
            return
        setattr(session, name, value)
        if session.seal_hash is not None:
            session.changes.append(
                Change(at=now, by=by, field=name, old=plain(old), new=plain(value))
            )
        self.changed.add(session.key)

    def _derive(self, session: Session) -> None:
        """The session's slots from its registers and readings."""
        before = session.slots
        self._slots(session)
        changed = [
            slot
            for slot in before.keys() | session.slots.keys()
            if before.get(slot, 0) != session.slots.get(slot, 0)
        ]
        if changed:
            first = min(changed)
            if self.earliest_change is None or first < self.earliest_change:
                self.earliest_change = first

    def _slots(self, session: Session) -> None:
        self.changed.add(session.key)
        readings = sorted(
            {reading for pair in session.readings.values() for reading in pair}
        )
        if session.meter_start_wh is not None:
            start = Reading(session.started, session.meter_start_wh)
        elif readings:
            start = readings[0]
        else:
            session.slots = {slot_of(session.started): 0}
            return
        if session.finished and session.meter_stop_wh is not None:
            end = Reading(session.stopped or session.started, session.meter_stop_wh)
        else:
            end = max([start, *readings], key=lambda r: (r.at, r.wh))
        curve = [start, *readings]
        self._flag(
            session,
            Flag.REGISTER_BACKWARDS,
            any(b.wh < a.wh for a, b in pairwise(curve)),
        )
        self._flag(
            session, Flag.STOP_BELOW_START, session.finished and end.wh < start.wh
        )
        self._flag(session, Flag.REGISTER_JUMP, end.wh - start.wh > MAX_SESSION_WH)
        if {Flag.STOP_BELOW_START, Flag.REGISTER_JUMP} & session.flags:
            session.slots = {slot_of(start.at): 0}
            return
        session.slots = slot_energies(start, end, readings)

    def _flag(self, session: Session, flag: Flag, holds: bool) -> None:
        """Set or clear a derived flag; a new one is told once."""
        if not holds:
            session.flags.discard(flag)
        elif flag not in session.flags:
            session.flags.add(flag)
            self.notices.append((flag, session.key))
