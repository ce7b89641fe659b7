"""A reimbursement's business sessions and statements posted to a webhook.

For an employer without OCPI: the same durable outbox as the CDRs, its
messages ``logic/reimbursement/webhook.py``'s (a session, its credit, the
month's statement with its CSV), posted with the bearer token the driver
was given (``feeds/webhook_client.py``). A session's history is followed as
the OCPI side follows it (``cdr_due``): business → its message; personal
after it went → the credit; business again → a new revision. A statement
is accepted once its own message was delivered.
"""

from __future__ import annotations

from collections.abc import Mapping
import logging
import secrets
from typing import TYPE_CHECKING, Any, Final

from homeassistant.core import callback
from homeassistant.util import dt as dt_util

from ..feeds.ocpi_client import Answer, ReceiverError, check_receiver_url
from ..feeds.webhook_client import async_post_webhook
from ..logic.reimbursement.ocpi_cdr import CdrError, cdr_due
from ..logic.reimbursement.outbox import Verdict
from ..logic.reimbursement.settings import (
    CONF_RECEIVER_TOKEN,
    CONF_RECEIVER_URL,
    tariffs_of,
)
from ..logic.reimbursement.webhook import (
    message_id,
    session_message,
    statement_message,
    webhook_outcome,
    webhook_url,
)
from ..logic.sessions.model import Classification, Session
from .receivers import ReceiverSync
from .statement_views import async_register_statement_reports

if TYPE_CHECKING:
    from ..logic.reimbursement.statement import Statement

_LOGGER = logging.getLogger(__name__)

# Where a statement's record keeps the id of its message.
STATEMENT_MESSAGE: Final = "webhook_message"


class WebhookSync(ReceiverSync):
    """One reimbursement's webhook outbox."""

    @staticmethod
    def _judge(http_status: int, body: bytes | None) -> Verdict:
        """Any 2xx is delivered; no envelope."""
        return webhook_outcome(http_status, body)

    async def async_start(self) -> None:
        """Send what waits, and what the ledger now needs."""
        self._undo.append(async_register_statement_reports(self._hass, self))
        await self.outbox.async_start()
        self._undo.append(self._sessions.async_add_listener(self._ledger_changed))
        self._ledger_changed()

    def accepts(self, authorization: str | None) -> bool:
        """The receiver calls us with the bearer token we post with."""
        token = str(self._data.get(CONF_RECEIVER_TOKEN) or "")
        # As bytes: compare_digest refuses str with other than ASCII in it.
        return bool(token) and secrets.compare_digest(
            (authorization or "").encode(), f"Bearer {token}".encode()
        )

    async def async_reregister(self, url: str, token: str) -> None:
        """A new bearer token (and URL): kept, and what waited goes out."""
        check_receiver_url(url)
        self._store(**{CONF_RECEIVER_URL: url, CONF_RECEIVER_TOKEN: token})
        self._authorised()
        await self.outbox.async_resume()

    async def _async_send(self, message: dict[str, Any]) -> Answer:
        data = self._data
        try:
            return await async_post_webhook(
                self._session,
                webhook_url(str(data.get(CONF_RECEIVER_URL)), message),
                str(data.get(CONF_RECEIVER_TOKEN)),
                message,
            )
        except ReceiverError as err:
            # Not https (a hand-edited entry): retried after a fix, not lost.
            return Answer(None, error=err.code)

    @callback
    def _ledger_changed(self) -> None:
        """Queue what the covered finished sessions now need."""
        for session in self.covered_sessions():
            self._queue_for(session)

    def _queue_for(self, session: Session) -> None:
        """A session message, its credit, or nothing, as its history needs."""
        due = cdr_due(
            session.classification is Classification.BUSINESS,
            self.outbox.knows,
            lambda revision: message_id(self.subentry_id, session, revision),
        )
        if due is None:
            return
        revision, credit = due
        try:
            message = session_message(
                session,
                tariffs=tariffs_of(self._data),
                zone=dt_util.get_default_time_zone(),
                now=dt_util.utcnow(),
                revision=revision,
                reimbursement_id=self.subentry_id,
                driver_name=self.title,
                vehicle=session.vehicle,
                credit=credit,
            )
        except CdrError as err:
            # A missing price: tried again at the next change of the ledger.
            _LOGGER.debug("No webhook message for %s yet: %s", session.key, err)
            return
        self.outbox.queue_soon(message["id"], message)

    def statement_made(self, statement: Statement, record: dict[str, Any]) -> None:
        """The statement goes to the receiver too (after its sessions)."""
        message = statement_message(
            statement,
            zone=dt_util.get_default_time_zone(),
            reimbursement_id=self.subentry_id,
            now=dt_util.utcnow(),
        )
        record[STATEMENT_MESSAGE] = message["id"]
        self.outbox.queue_soon(message["id"], message)

    def receiver_ids(self, record: Mapping[str, Any]) -> list[str] | None:
        """The statement's own message."""
        sent = record.get(STATEMENT_MESSAGE)
        return None if sent is None else [str(sent)]
