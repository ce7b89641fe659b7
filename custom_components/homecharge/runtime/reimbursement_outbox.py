"""The durable CDR outbox: the pure ``Outbox`` kept in a Store and drained.

``logic/reimbursement/outbox.py`` decides (head of line, what an answer
means, the backoff); this holds it in Home Assistant's storage
(``homecharge.<place>.reimbursement_outbox``) and sends the head when it is
due, one request at a time, through the ``send`` it is given (the OCPI
client's ``async_post_cdr``, bound to the current registration).

When it is written:

- a queued CDR is saved *before* ``async_queue`` returns: the session it
  came from is not sent anywhere else, so losing the entry loses the CDR;
- an answer's effect (delivered, retry later, set aside, paused) is saved
  within ``SAVE_DELAY_S``: losing it only repeats a send of the same CDR id
  (the lost-acknowledgement case the deterministic id is for), while saving
  the whole queue after each of a thousand deliveries would write it a
  thousand times. An unload, or Home Assistant's final write on a
  clean stop, writes it at once.

Sending stops on 401/403 until ``async_resume`` (new credentials); the
``on_reauth`` callback (a repair issue and a reauth flow, later) is called
when that happens and again at start while it lasts.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
import logging
import random
from typing import Any, Final

from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers.event import async_track_point_in_utc_time
from homeassistant.helpers.storage import Store
from homeassistant.util import dt as dt_util

from ..const import DOMAIN
from ..feeds.ocpi_client import Answer
from ..logic.reimbursement.outbox import (
    STORE_VERSION,
    Outbox,
    Outcome,
    Verdict,
    outcome,
)
from .saving import ThrottledSave

_LOGGER = logging.getLogger(__name__)

SAVE_DELAY_S: Final = 2.0

type Sender = Callable[[dict[str, Any]], Awaitable[Answer]]
# What an answer means: OCPI's envelope (``outcome``) or a webhook's status.
type Judge = Callable[[int, bytes | None], Verdict]


class SyncState(StrEnum):
    """The sync status a sensor shows."""

    UP_TO_DATE = "up_to_date"
    WAITING = "waiting"
    FAILING = "failing"
    REAUTH = "reauth"


@dataclass(frozen=True, kw_only=True, slots=True)
class SyncStatus:
    """The outbox at a glance: state, how many wait, what went wrong."""

    state: SyncState
    waiting: int
    # CDRs the receiver refused: (cdr id, why), for the user to see.
    rejected: tuple[tuple[str, str], ...]
    last_error: str | None


def store_key(place_id: str) -> str:
    """The Store key of a place's outbox."""
    return f"{DOMAIN}.{place_id}.reimbursement_outbox"


class CdrOutbox:
    """A place's CDRs on their way to the receiver, across restarts."""

    def __init__(
        self,
        hass: HomeAssistant,
        place_id: str,
        send: Sender,
        *,
        on_reauth: Callable[[str], None] | None = None,
        on_delivered: Callable[[str], None] | None = None,
        judge: Judge = outcome,
        rng: random.Random | None = None,
    ) -> None:
        """Name the store; nothing is read or sent before ``async_start``."""
        self._hass = hass
        self._send = send
        self._on_reauth = on_reauth
        self._on_delivered = on_delivered
        self._judge = judge
        self._rng = rng or random.Random()  # noqa: S311 - jitter, not secrets
        self._store: Store[dict[str, Any]] = Store(
            hass, STORE_VERSION, store_key(place_id), private=True, atomic_writes=True
        )
        self._saver = ThrottledSave(hass, self._store, self._data, SAVE_DELAY_S)
        self._outbox = Outbox()
        self._name = f"{DOMAIN} {place_id} CDR outbox"
        self._timer: CALLBACK_TYPE | None = None
        self._task: asyncio.Task[None] | None = None
        self._listeners: list[Callable[[], None]] = []
        self._running = False
        self._draining = False
        self._loaded = False
        self._unreadable = False

    def _data(self) -> dict[str, Any]:
        return self._outbox.as_dict()

    async def async_start(self) -> None:
        """
        Load what was queued and go on sending it.

        An outbox it cannot read (written by a newer homecharge) is left as
        it is on disk: nothing is queued or sent, the status says why, and
        the place goes on charging.
        """
        data = await self._store.async_load()
        try:
            self._outbox = Outbox.from_dict(data) if data else Outbox()
        except (ValueError, KeyError, TypeError):
            _LOGGER.exception("%s is unreadable, kept as it is", self._name)
            self._unreadable = True
            return
        self._loaded = True
        self._running = True
        if self._outbox.paused is not None and self._on_reauth is not None:
            self._on_reauth(self._outbox.paused)
        self._schedule()

    async def async_stop(self) -> None:
        """Stop sending (a send under way is cancelled) and write what changed."""
        self._running = False
        self._cancel_timer()
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        if self._loaded:
            # Never over a file that could not be read: it is kept as it is.
            await self._saver.async_flush()

    def knows(self, cdr_id: str) -> bool:
        """Whether a CDR was queued already (and is waiting, set aside or sent)."""
        return self._outbox.knows(cdr_id)

    def delivered(self, cdr_ids: Iterable[str]) -> bool:
        """Whether the receiver has acknowledged each of these."""
        return all(cdr_id in self._outbox.delivered for cdr_id in cdr_ids)

    async def async_queue(self, cdr_id: str, payload: dict[str, Any]) -> bool:
        """Queue a CDR, on disk when this returns; False if known already."""
        if not self._loaded or not self._outbox.add(cdr_id, payload, dt_util.utcnow()):
            return False
        self._saver.cancel()
        await self._store.async_save(self._data())
        self._changed()
        return True

    @callback
    def queue_soon(self, cdr_id: str, payload: dict[str, Any]) -> bool:
        """Queue a CDR now (known at once), on disk in a task; False if known."""
        if not self._loaded or not self._outbox.add(cdr_id, payload, dt_util.utcnow()):
            return False
        self._saver.cancel()
        self._hass.async_create_task(self._store.async_save(self._data()))
        self._changed()
        return True

    async def async_resume(self) -> None:
        """New credentials: the head goes out at once."""
        if not self._loaded:
            return
        self._outbox.resume(dt_util.utcnow())
        self._saver.cancel()
        await self._store.async_save(self._data())
        self._changed()

    async def async_retry_rejected(self, cdr_id: str) -> bool:
        """Queue a set-aside CDR again (its cause fixed); False if unknown."""
        if not self._loaded or not self._outbox.retry_rejected(
            cdr_id, dt_util.utcnow()
        ):
            return False
        self._saver.cancel()
        await self._store.async_save(self._data())
        self._changed()
        return True

    @property
    def status(self) -> SyncStatus:
        """What a sync status sensor shows."""
        if self._unreadable:
            return SyncStatus(
                state=SyncState.FAILING,
                waiting=0,
                rejected=(),
                last_error="outbox_unreadable",
            )
        box = self._outbox
        head = box.queue[0] if box.queue else None
        rejected = tuple((e.cdr_id, e.last_error or "") for e in box.rejected)
        last_error = head.last_error if head is not None else None
        if box.paused is not None:
            state = SyncState.REAUTH
            last_error = box.paused
        elif head is None:
            state = SyncState.UP_TO_DATE
        elif head.last_error is not None:
            state = SyncState.FAILING
        else:
            state = SyncState.WAITING
        if last_error is None and rejected:
            last_error = rejected[-1][1]
        return SyncStatus(
            state=state,
            waiting=len(box.queue),
            rejected=rejected,
            last_error=last_error,
        )

    @callback
    def async_add_listener(self, listener: Callable[[], None]) -> CALLBACK_TYPE:
        """Call ``listener`` at every change of the status; returns the undo."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    @callback
    def _changed(self) -> None:
        for listener in list(self._listeners):
            listener()
        self._schedule()

    @callback
    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer()
            self._timer = None

    @callback
    def _schedule(self) -> None:
        """Wake when the head is due (a drain under way reschedules itself)."""
        self._cancel_timer()
        if not self._running or self._draining:
            return
        when = self._outbox.wake_at()
        if when is None:
            return
        if when <= (now := dt_util.utcnow()):
            self._wake(now)
        else:
            self._timer = async_track_point_in_utc_time(self._hass, self._wake, when)

    @callback
    def _wake(self, _now: datetime) -> None:
        self._timer = None
        if self._running and not self._draining:
            # Set first: the task may start eagerly and finish before it is
            # returned (a send that fails without awaiting).
            self._draining = True
            task = self._hass.async_create_background_task(
                self._async_drain(), self._name
            )
            self._task = None if task.done() else task

    async def _async_drain(self) -> None:
        """Send every due head, one at a time, until none is due."""
        try:
            while (entry := self._outbox.due(dt_util.utcnow())) is not None:
                verdict = await self._attempt(entry.payload)
                entry = self._outbox.record(verdict, dt_util.utcnow(), self._rng)
                self._saver.changed()
                _LOGGER.debug(
                    "CDR %s: %s %s", entry.cdr_id, verdict.outcome, verdict.reason
                )
                if verdict.outcome is Outcome.REJECTED:
                    _LOGGER.warning(
                        "The receiver refused CDR %s: %s", entry.cdr_id, verdict.reason
                    )
                if verdict.outcome is Outcome.REAUTH and self._on_reauth is not None:
                    self._on_reauth(verdict.reason)
                if (
                    verdict.outcome is Outcome.DELIVERED
                    and self._on_delivered is not None
                ):
                    self._on_delivered(entry.cdr_id)
                for listener in list(self._listeners):
                    listener()
        finally:
            self._task = None
            self._draining = False
            self._schedule()

    async def _attempt(self, payload: dict[str, Any]) -> Verdict:
        try:
            answer = await self._send(payload)
        except Exception as err:  # A bug in sending must not stop the queue.
            _LOGGER.exception("Sending a CDR failed")
            return Verdict(Outcome.RETRY, f"{type(err).__name__}: {err}")
        if answer.http_status is None:
            return Verdict(Outcome.RETRY, answer.error or "no answer")
        return self._judge(answer.http_status, answer.body)
