"""A place's monthly reimbursement statements: made, kept, and told.

On the 1st (at 06:00, local) each reimbursement gets the previous month's
statement: its covered chargers' business sessions under its tariffs, as PDF
and CSV under ``<config>/homecharge/statements/``. A made month is locked:
a session classified differently afterwards comes as a correction on the
next statement (added, or credited). The history keeps each statement with
its state (made, then sent once the driver's phone was told) in HA's
storage; ``homecharge.make_statement`` makes one at any time.

A statement moves on (``logic/reimbursement/statement_states.py``): sent
once the driver's phone was told; accepted once the receiver has every
message of it (its sync reports each delivery); paid when the receiver
reports it (``runtime/statement_views.py``) or the user says so
(``homecharge.set_statement_state``). Each change fires
``homecharge_statement`` and is told to the driver's phone.
"""

from __future__ import annotations

from dataclasses import fields
from datetime import datetime
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from homeassistant.config_entries import ConfigEntry, ConfigSubentry
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers.event import async_track_time_change
from homeassistant.helpers.storage import Store
from homeassistant.helpers.translation import async_get_translations
from homeassistant.util import dt as dt_util, slugify

from ..const import CONF_CHARGE_POINT_ID, DOMAIN, SUBENTRY_REIMBURSEMENT
from ..logic.reimbursement.month import Month
from ..logic.reimbursement.rules import ChangeKind
from ..logic.reimbursement.settings import (
    CONF_COVERED_CHARGERS,
    CONF_NOTIFY,
    tariffs_of,
)
from ..logic.reimbursement.statement import (
    Correction,
    Statement,
    build_statement,
    statement_csv,
)
from ..logic.reimbursement.statement_pdf import Labels, statement_pdf
from ..logic.reimbursement.statement_states import StatementState, advanced
from ..logic.sessions.model import Classification, Session
from .sessions import PlaceSessions

if TYPE_CHECKING:
    from .receivers import ReceiverSync

_LOGGER = logging.getLogger(__name__)

STATEMENTS_FOLDER: Final = ("homecharge", "statements")
_STORE_VERSION: Final = 1
_HOUR: Final = 6
# Fired at each change of a statement's state (made → sent → accepted → paid).
EVENT_STATEMENT: Final = "homecharge_statement"


class StatementBook:
    """The statements of one place's reimbursements."""

    def __init__(
        self, hass: HomeAssistant, entry: ConfigEntry, sessions: PlaceSessions
    ) -> None:
        """Kept in ``homecharge.<entry>.statements``."""
        self._hass = hass
        self._entry = entry
        self._sessions = sessions
        self._store: Store[dict[str, Any]] = Store(
            hass, _STORE_VERSION, f"{DOMAIN}.{entry.entry_id}.statements"
        )
        # Per reimbursement subentry: its statements, by month.
        self.history: dict[str, dict[str, dict[str, Any]]] = {}
        self._listeners: list[CALLBACK_TYPE] = []
        # Per reimbursement subentry: its receiver's sync, if it has one.
        self.syncs: dict[str, ReceiverSync] = {}

    @callback
    def async_add_listener(self, listener: CALLBACK_TYPE) -> CALLBACK_TYPE:
        """Call ``listener`` when a statement is made or changes state."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    async def async_load(self) -> None:
        """Read the history."""
        stored = await self._store.async_load() or {}
        history = stored.get("history")
        self.history = history if isinstance(history, dict) else {}

    @callback
    def async_start(self) -> CALLBACK_TYPE:
        """Make last month's statements on the 1st; the undo."""

        async def monthly(_fired: datetime) -> None:
            # The clock now, not the time the timer was set for (late after
            # a suspend): the 1st is the local day it is.
            now = dt_util.now()
            if now.day != 1:
                return
            month = Month.of(now, dt_util.get_default_time_zone())
            for subentry in self._reimbursements():
                if str(month.previous()) not in self.history.get(
                    subentry.subentry_id, {}
                ):
                    await self.async_make(subentry, month.previous())

        return async_track_time_change(
            self._hass, monthly, hour=_HOUR, minute=0, second=0
        )

    def _reimbursements(self) -> list[ConfigSubentry]:
        return [
            sub
            for sub in self._entry.subentries.values()
            if sub.subentry_type == SUBENTRY_REIMBURSEMENT
        ]

    def reimbursement(self, name: str) -> ConfigSubentry | None:
        """A reimbursement of the place by its driver's name."""
        return next(
            (
                sub
                for sub in self._reimbursements()
                if sub.title.casefold() == name.casefold()
            ),
            None,
        )

    def reimbursements(self) -> list[ConfigSubentry]:
        """Every reimbursement of the place."""
        return self._reimbursements()

    async def async_make(
        self, subentry: ConfigSubentry, month: Month
    ) -> dict[str, Any]:
        """
        Make a month's statement; its record.

        A made month is locked: asked again, its statement stays as it was
        (a change since comes as a correction on the next one).
        """
        own = self.history.setdefault(subentry.subentry_id, {})
        if (made := own.get(str(month))) is not None:
            return made
        zone = dt_util.get_default_time_zone()
        charge_points = {
            str(sub.data.get(CONF_CHARGE_POINT_ID))
            for key in subentry.data.get(CONF_COVERED_CHARGERS, ())
            if (sub := self._entry.subentries.get(key)) is not None
        }
        sessions = [
            session
            for session in await self._sessions.async_sessions(
                month.start(zone), month.end(zone)
            )
            if session.charger in charge_points and not session.demo
        ]
        corrections = await self._corrections(own, month, charge_points)
        statement = build_statement(
            month,
            subentry.title,
            sessions,
            tariffs_of(subentry.data),
            zone,
            corrections,
        )
        files = await self._async_write(subentry, statement)
        record: dict[str, Any] = {
            "month": str(month),
            "made": dt_util.utcnow().isoformat(),
            "state": StatementState.MADE,
            "sessions": len(statement.lines),
            "corrections": len(statement.corrections),
            "energy_kwh": round(statement.total_wh / 1000, 3),
            "amount": f"{statement.total_amount:.2f}",
            "currency": statement.currency,
            "complete": statement.complete,
            "pending": len(statement.pending),
            # What it paid (locked): a later change is a correction.
            "business": sorted(
                [line.charger, line.transaction_id] for line in statement.lines
            ),
            # Whose messages the receiver must have for it to be accepted.
            "receiver_keys": [
                [line.charger, line.transaction_id] for line in statement.lines
            ]
            + [[fix.charger, fix.transaction_id] for fix in statement.corrections],
            **files,
        }
        own[str(month)] = record
        if (sync := self.syncs.get(subentry.subentry_id)) is not None:
            sync.statement_made(statement, record)
        self._save()
        await self._async_tell(subentry, record)
        if sync is not None:
            await self._async_accepted(subentry, sync, record)
        return record

    async def async_report(
        self,
        subentry: ConfigSubentry,
        month: Month,
        state: StatementState,
        reference: str | None = None,
    ) -> dict[str, Any] | None:
        """A made statement moved on by its receiver or the user; None: not made."""
        record = self.history.get(subentry.subentry_id, {}).get(str(month))
        if record is None:
            return None
        await self.async_set_state(subentry, record, state, reference)
        return record

    @callback
    def receiver_delivered(self, sync: ReceiverSync) -> None:
        """A message reached ``sync``'s receiver: statements may be accepted."""
        subentry = self._entry.subentries.get(sync.subentry_id)
        if subentry is None:
            return
        for record in self.history.get(sync.subentry_id, {}).values():
            if record.get("state") in (StatementState.MADE, StatementState.SENT):
                self._hass.async_create_task(
                    self._async_accepted(subentry, sync, record)
                )

    async def _async_accepted(
        self, subentry: ConfigSubentry, sync: ReceiverSync, record: dict[str, Any]
    ) -> None:
        """Accepted once the receiver has every message the statement needs."""
        wanted = record.get("receiver_ids") or sync.receiver_ids(record)
        if not wanted:
            # Nothing of it queued yet (or nothing to send): asked again later.
            return
        record["receiver_ids"] = wanted
        if sync.outbox.delivered(wanted):
            await self.async_set_state(subentry, record, StatementState.ACCEPTED)

    async def async_set_state(
        self,
        subentry: ConfigSubentry,
        record: dict[str, Any],
        state: StatementState,
        reference: str | None = None,
    ) -> bool:
        """
        Move a statement on (never back); False if it was there already.

        Each change is told: an event for automations, and the driver's
        phone (the confirmation message).
        """
        moved = advanced(record, state, dt_util.utcnow(), reference)
        if moved is None:
            return False
        record.update(moved)
        self._save()
        self._hass.bus.async_fire(
            EVENT_STATEMENT,
            {
                "config_entry_id": self._entry.entry_id,
                "reimbursement": subentry.title,
                "month": record["month"],
                "state": record["state"],
                "amount": record["amount"],
                "currency": record["currency"],
                "reference": record.get("reference"),
            },
        )
        if state is not StatementState.SENT:
            # "Sent" is the statement's own message; later ones confirm.
            await self._async_notify(subentry, f"statement_{state.value}", record)
        return True

    async def _corrections(
        self, own: dict[str, dict[str, Any]], month: Month, charge_points: set[str]
    ) -> list[Correction]:
        """Changes to the locked month before ``month`` since its statement."""
        earlier = own.get(str(month.previous()))
        if earlier is None:
            return []
        zone = dt_util.get_default_time_zone()
        before = month.previous()
        paid = {tuple(key) for key in earlier.get("business", [])}
        now: dict[tuple[str, str], Session] = {
            session.key: session
            for session in await self._sessions.async_sessions(
                before.start(zone), before.end(zone)
            )
            if session.charger in charge_points and session.finished
        }
        business = {
            key
            for key, session in now.items()
            if session.classification is Classification.BUSINESS
        }
        fixes = [
            Correction(now[key], ChangeKind.CORRECTION_ADD)
            for key in sorted(business - paid)
        ] + [
            Correction(now[key], ChangeKind.CORRECTION_CREDIT)
            for key in sorted(paid - business)
            if key in now
        ]
        # Corrected once: the earlier statement now stands as changed.
        earlier["business"] = sorted([list(key) for key in business])
        return fixes

    async def _async_write(
        self, subentry: ConfigSubentry, statement: Statement
    ) -> dict[str, str]:
        """The PDF and the CSV, written whole; their paths."""
        zone = dt_util.get_default_time_zone()
        labels = await self._async_labels()
        name = f"{slugify(subentry.title)}_{statement.month}"
        folder = Path(self._hass.config.path(*STATEMENTS_FOLDER))
        pdf = statement_pdf(statement, zone, labels, self._entry.title)
        csv = statement_csv(statement, zone)

        def write() -> dict[str, str]:
            folder.mkdir(parents=True, exist_ok=True)
            paths = {}
            for suffix, content in (("pdf", pdf), ("csv", csv)):
                path = folder / f"{name}.{suffix}"
                partial = path.with_suffix(f".{suffix}.part")
                partial.write_bytes(content)
                partial.replace(path)
                paths[suffix] = str(path)
            return paths

        return await self._hass.async_add_executor_job(write)

    async def _async_strings(self) -> dict[str, str]:
        language = self._hass.config.language
        strings = await async_get_translations(
            self._hass, language, "notifications", [DOMAIN]
        )
        return strings or await async_get_translations(
            self._hass, "en", "notifications", [DOMAIN]
        )

    async def _async_labels(self) -> Labels:
        strings = await self._async_strings()
        prefix = f"component.{DOMAIN}.notifications.statement_"
        return Labels(
            **{
                field.name: strings.get(f"{prefix}{field.name}.message", field.name)
                for field in fields(Labels)
            }
        )

    async def _async_tell(
        self, subentry: ConfigSubentry, record: dict[str, Any]
    ) -> None:
        """Tell the driver's phone; the statement is then sent."""
        if await self._async_notify(subentry, "statement", record):
            await self.async_set_state(subentry, record, StatementState.SENT)

    async def _async_notify(
        self, subentry: ConfigSubentry, key: str, record: dict[str, Any]
    ) -> bool:
        """The ``key`` notification about a statement to the driver's phone."""
        service = str(subentry.data.get(CONF_NOTIFY) or "").removeprefix("notify.")
        if not service:
            return False
        if not self._hass.services.has_service("notify", service):
            _LOGGER.warning("No notify service %s for the statement", service)
            return False
        strings = await self._async_strings()
        prefix = f"component.{DOMAIN}.notifications.{key}"
        placeholders = {
            "month": record["month"],
            "energy": f"{record['energy_kwh']:.1f}",
            "amount": record["amount"],
            "currency": record["currency"] or "",
            "sessions": str(record["sessions"]),
            "reference": record.get("reference") or "",
        }
        await self._hass.services.async_call(
            "notify",
            service,
            {
                "title": strings.get(f"{prefix}.title", "{month}").format(
                    **placeholders
                ),
                "message": strings.get(f"{prefix}.message", "{amount}").format(
                    **placeholders
                ),
            },
            blocking=True,
        )
        return True

    def _save(self) -> None:
        self._store.async_delay_save(lambda: {"history": self.history}, 1)
        for listener in list(self._listeners):
            listener()

    async def async_flush(self) -> None:
        """Save now (unload)."""
        await self._store.async_save({"history": self.history})
