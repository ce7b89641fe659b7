"""What every receiver of a reimbursement shares, whatever it speaks.

A receiver (an OCPI backend, ``reimbursement_sync.py``; a webhook,
``webhook_sync.py``) gets the business sessions of the chargers a
reimbursement covers through a durable outbox, and its statements move on
when it has them. This holds the common part: the outbox's status and its
listeners, the finished sessions to look at after each change of the
ledger, the repair issue when the receiver refuses our token, and the
statement's "accepted" once every message of it was delivered.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping
import logging
from typing import TYPE_CHECKING, Any, Final

from homeassistant.config_entries import ConfigEntry, ConfigSubentry
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.aiohttp_client import async_get_clientsession

from ..const import CONF_CHARGE_POINT_ID, DOMAIN
from ..feeds.ocpi_client import Answer
from ..logic.reimbursement.ocpi_cdr import CREDIT_SUFFIX
from ..logic.reimbursement.outbox import Verdict, outcome
from ..logic.reimbursement.settings import (
    CONF_COVERED_CHARGERS,
    CONF_RECEIVER,
    CONF_RECEIVER_TOKEN,
    CONF_RECEIVER_URL,
    ReceiverKind,
)
from ..logic.sessions.model import Session
from .reimbursement_outbox import CdrOutbox, SyncStatus
from .sessions import PlaceSessions

if TYPE_CHECKING:
    from ..logic.reimbursement.month import Month
    from ..logic.reimbursement.statement import Statement
    from ..logic.reimbursement.statement_states import StatementState
    from .statements import StatementBook

_LOGGER = logging.getLogger(__name__)

# The repair issue of a receiver that refuses our token (its fix flow asks
# for a new token: ``repairs.py``).
REAUTH_ISSUE: Final = "receiver_reauth"


def reauth_issue_id(subentry_id: str) -> str:
    """The repair issue of one reimbursement's receiver."""
    return f"{REAUTH_ISSUE}_{subentry_id}"


def receiver_of(data: Mapping[str, Any]) -> tuple[Any, ...]:
    """Who receives and how (another one needs a reload)."""
    return (
        data.get(CONF_RECEIVER),
        data.get(CONF_RECEIVER_URL),
        data.get(CONF_RECEIVER_TOKEN),
    )


def receivers_of(entry: ConfigEntry) -> dict[str, tuple[Any, ...]]:
    """Per reimbursement, who receives and how."""
    return {
        sub.subentry_id: receiver_of(sub.data)
        for sub in entry.subentries.values()
        if sub.data.get(CONF_RECEIVER) is not None
    }


def latest_sent(
    known: Callable[[str], bool], id_of: Callable[[int], str]
) -> str | None:
    """
    The id of what a session's receiver got last: its CDR, or the credit.

    Revisions follow ``cdr_due``: a revision's credit closes it, the next
    one starts with its own id. None: nothing of the session was queued.
    """
    latest, revision = None, 0
    while known(ident := id_of(revision)):
        latest = ident
        if not known(ident + CREDIT_SUFFIX):
            break
        latest = ident + CREDIT_SUFFIX
        revision += 1
    return latest


class ReceiverSync(ABC):
    """One reimbursement's outbox to its receiver; the kinds say what is sent."""

    def __init__(
        self,
        hass: HomeAssistant,
        entry: ConfigEntry,
        subentry: ConfigSubentry,
        sessions: PlaceSessions,
        receivers: dict[str, tuple[Any, ...]],
        statements: StatementBook | None,
    ) -> None:
        """
        Nothing sent before ``async_start``.

        ``receivers``: the place's ``receivers_of``, against which a change
        of the entry is compared. A new token this sync was given is written
        there too: it needs no reload.
        """
        self._hass = hass
        self._entry = entry
        self._receivers = receivers
        self._statements = statements
        self.subentry_id = subentry.subentry_id
        self.title = subentry.title
        self._sessions = sessions
        self._session = async_get_clientsession(hass)
        self._undo: list[CALLBACK_TYPE] = []
        self._status_listeners: list[CALLBACK_TYPE] = []
        self.outbox = CdrOutbox(
            hass,
            subentry.subentry_id,
            self._async_send,
            on_reauth=self._reauth,
            on_delivered=self._delivered,
            judge=self._judge,
        )

    @property
    def _data(self) -> dict[str, Any]:
        return dict(self._entry.subentries[self.subentry_id].data)

    def _store(self, **changes: Any) -> None:
        """Keep what the receiver gave in the subentry (no reload)."""
        subentry = self._entry.subentries[self.subentry_id]
        # First: the entry's update listener starts eagerly, within the store.
        self._receivers[self.subentry_id] = receiver_of({**subentry.data, **changes})
        self._hass.config_entries.async_update_subentry(
            self._entry, subentry, data={**subentry.data, **changes}
        )

    @abstractmethod
    async def async_start(self) -> None:
        """Start sending (and whatever the kind needs first)."""
        raise NotImplementedError

    async def async_stop(self) -> None:
        """Stop sending (what is queued stays on disk)."""
        for undo in self._undo:
            undo()
        self._undo.clear()
        await self.outbox.async_stop()
        # Raised again at the next start while it lasts; gone with a removal.
        ir.async_delete_issue(self._hass, DOMAIN, reauth_issue_id(self.subentry_id))

    @staticmethod
    def _judge(http_status: int, body: bytes | None) -> Verdict:
        """What an answer means: OCPI's envelope (a webhook: HTTP alone)."""
        return outcome(http_status, body)

    @abstractmethod
    async def _async_send(self, message: dict[str, Any]) -> Answer:
        """POST one queued message to the receiver."""
        raise NotImplementedError

    @abstractmethod
    async def async_reregister(self, url: str, token: str) -> None:
        """New credentials from the repair issue's form (a ReceiverError: no)."""
        raise NotImplementedError

    @callback
    def _reauth(self, reason: str) -> None:
        """The receiver refuses our token: a repair issue asks for a new one."""
        _LOGGER.warning("The receiver of %s refuses our token: %s", self.title, reason)
        ir.async_create_issue(
            self._hass,
            DOMAIN,
            reauth_issue_id(self.subentry_id),
            is_fixable=True,
            severity=ir.IssueSeverity.ERROR,
            translation_key=REAUTH_ISSUE,
            translation_placeholders={"reimbursement": self.title},
            data={"entry_id": self._entry.entry_id, "subentry_id": self.subentry_id},
        )
        self._status_changed()

    @callback
    def _authorised(self) -> None:
        """Our token is good again: the repair issue goes."""
        ir.async_delete_issue(self._hass, DOMAIN, reauth_issue_id(self.subentry_id))

    @callback
    def _status_changed(self) -> None:
        for listener in list(self._status_listeners):
            listener()

    @callback
    def async_add_status_listener(self, listener: CALLBACK_TYPE) -> CALLBACK_TYPE:
        """Call at each change of ``status``; returns the undo."""
        self._status_listeners.append(listener)
        undo_outbox = self.outbox.async_add_listener(listener)

        def undo() -> None:
            self._status_listeners.remove(listener)
            undo_outbox()

        return undo

    @property
    def status(self) -> SyncStatus:
        """The outbox's status."""
        return self.outbox.status

    def covered_sessions(self) -> Iterator[Session]:
        """The ledger's finished sessions on the chargers this one covers."""
        data = self._data
        charge_points = {
            str(sub.data.get(CONF_CHARGE_POINT_ID))
            for key in data.get(CONF_COVERED_CHARGERS, ())
            if (sub := self._entry.subentries.get(key)) is not None
        }
        for session in list(self._sessions.ledger):
            if (
                session.finished
                and not session.demo
                and session.charger in charge_points
            ):
                yield session

    # The statements: made here, accepted when the receiver has all of them,
    # paid when it says so.

    @abstractmethod
    def accepts(self, authorization: str | None) -> bool:
        """Whether a request's Authorization header is our receiver's."""
        raise NotImplementedError

    async def async_report(
        self, month: Month, state: StatementState, reference: str | None
    ) -> dict[str, Any] | None:
        """The receiver reports a statement's state; its record (None: none)."""
        subentry = self._entry.subentries.get(self.subentry_id)
        if self._statements is None or subentry is None:
            return None
        return await self._statements.async_report(subentry, month, state, reference)

    @abstractmethod
    def statement_made(self, statement: Statement, record: dict[str, Any]) -> None:
        """A statement of this reimbursement was made (queue what it needs)."""

    @abstractmethod
    def receiver_ids(self, record: Mapping[str, Any]) -> list[str] | None:
        """What the receiver must have of a statement (None: not known yet)."""
        raise NotImplementedError

    @callback
    def _delivered(self, _message_id: str) -> None:
        """A message reached the receiver: a statement may be accepted now."""
        if self._statements is not None:
            self._statements.receiver_delivered(self)


def receivers_of_kind(entry: ConfigEntry, kind: ReceiverKind) -> list[ConfigSubentry]:
    """The place's reimbursements whose receiver is of ``kind``."""
    return [
        sub for sub in entry.subentries.values() if sub.data.get(CONF_RECEIVER) == kind
    ]
