"""A reimbursement's business sessions sent to its OCPI 2.2.1 receiver.

One per reimbursement whose receiver is OCPI: our endpoints for it (token B,
made once and kept in the subentry), the credentials handshake with the
receiver's versions URL and token A (at setup until it succeeds; token C
kept in the subentry), and the durable outbox. On every change of the
ledger each finished session on its chargers is compared with what was
queued: a business session without a CDR gets one; one that became
personal after its CDR gets the credit CDR; business again, a new revision.
CDR ids are deterministic, so nothing is sent twice.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from datetime import tzinfo
import logging
import secrets
from typing import TYPE_CHECKING, Any, Final

from homeassistant.config_entries import ConfigEntry, ConfigSubentry
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.network import NoURLAvailableError, get_url
from homeassistant.util import dt as dt_util

from ..const import CONF_COUNTRY
from ..feeds.ocpi_client import (
    Answer,
    OurSide,
    ReceiverError,
    Registration,
    async_post_cdr,
    async_register,
    token_of,
)
from ..logic.reimbursement.ocpi_cdr import (
    ALPHA3,
    CdrDriver,
    CdrError,
    CdrSite,
    Party,
    build_cdr,
    cdr_due,
    cdr_id,
    credit_cdr,
)
from ..logic.reimbursement.settings import (
    CONF_ADDRESS_COUNTRY,
    CONF_CITY,
    CONF_POSTAL_CODE,
    CONF_RECEIVER_TOKEN,
    CONF_RECEIVER_URL,
    CONF_STREET,
    ReceiverKind,
    tariffs_of,
)
from ..logic.sessions.model import Classification, Session
from .ocpi_views import OcpiLink, async_register_ocpi_place, new_token, versions_path
from .receivers import ReceiverSync, latest_sent, receivers_of_kind
from .reimbursement_outbox import SyncState, SyncStatus
from .sessions import PlaceSessions
from .statement_views import async_register_statement_reports
from .webhook_sync import WebhookSync

if TYPE_CHECKING:
    from ..logic.reimbursement.statement import Statement
    from .statements import StatementBook

_LOGGER = logging.getLogger(__name__)

CONF_TOKEN_B: Final = "ocpi_token_b"  # noqa: S105 - a key
CONF_REGISTRATION: Final = "ocpi_registration"
# Our party id: a home is no registered operator; the receiver knows us by
# token, the id only has to be three characters and stable.
PARTY_ID: Final = "HCH"


class ReimbursementSync(ReceiverSync):
    """One reimbursement's OCPI link, handshake and outbox."""

    def __init__(
        self,
        hass: HomeAssistant,
        entry: ConfigEntry,
        subentry: ConfigSubentry,
        sessions: PlaceSessions,
        receivers: dict[str, tuple[Any, ...]],
        statements: StatementBook | None = None,
    ) -> None:
        """Nothing served or sent before ``async_start``."""
        super().__init__(hass, entry, subentry, sessions, receivers, statements)
        country = str(entry.data.get(CONF_COUNTRY) or "NO").upper()
        self.sender = Party(country, PARTY_ID)
        self._link: OcpiLink | None = None
        self.registration_error: str | None = None

    async def async_start(self) -> None:
        """Serve our endpoints, register if need be, and send."""
        data = self._data
        token_b = data.get(CONF_TOKEN_B)
        if not token_b:
            token_b = new_token()
            self._store(**{CONF_TOKEN_B: token_b})
        stored = data.get(CONF_REGISTRATION)
        registration = Registration.from_dict(stored) if stored else None
        try:
            base = get_url(self._hass, prefer_external=True)
        except NoURLAvailableError:
            base = get_url(self._hass, allow_external=False)
        ours = OurSide(
            party=self.sender,
            business_name=f"homecharge {self._entry.title}",
            versions_url=base + versions_path(self.subentry_id),
        )
        self._link = OcpiLink(
            self._session, ours, token_b, registration, on_change=self._link_changed
        )
        self._undo.append(
            async_register_ocpi_place(self._hass, self.subentry_id, self._link)
        )
        self._undo.append(async_register_statement_reports(self._hass, self))
        await self.outbox.async_start()
        self._undo.append(self._sessions.async_add_listener(self._ledger_changed))
        if registration is None:
            # Cancelled at unload: a receiver that hangs never keeps a reload.
            self._entry.async_create_background_task(
                self._hass,
                self._async_register(),
                f"homecharge OCPI registration {self.title}",
            )
        else:
            self._ledger_changed()

    def accepts(self, authorization: str | None) -> bool:
        """The receiver calls us with token B."""
        token, link = token_of(authorization), self._link
        return (
            token is not None
            and link is not None
            and secrets.compare_digest(token, link.token_b)
        )

    async def async_reregister(self, url: str, token: str) -> None:
        """
        Register anew with a new token A (the repair issue's fix flow).

        A ReceiverError (its code the form shows) leaves everything as it
        was. On success the receiver, token A and the registration are kept
        and what waits goes out.
        """
        link = self._link
        if link is None:  # pragma: no cover - the flow asks a loaded entry
            raise ReceiverError("receiver_unreachable", "not started")
        registration = await async_register(
            self._session,
            versions_url=url,
            token_a=token,
            token_b=link.token_b,
            ours=link.ours,
        )
        self._store(**{CONF_RECEIVER_URL: url, CONF_RECEIVER_TOKEN: token})
        self._registered(link, registration)

    async def _async_register(self) -> None:
        """The credentials handshake with token A (once; the error is shown)."""
        link = self._link
        if link is None:  # pragma: no cover - started first
            return
        data = self._data
        try:
            registration = await async_register(
                self._session,
                versions_url=str(data.get(CONF_RECEIVER_URL)),
                token_a=str(data.get(CONF_RECEIVER_TOKEN)),
                token_b=link.token_b,
                ours=link.ours,
            )
        except ReceiverError as err:
            self.registration_error = err.code
            _LOGGER.warning("Registration with %s failed: %s", self.title, err)
            if err.code == "receiver_unauthorized":
                self._reauth(err.code)
            self._status_changed()
            return
        self._registered(link, registration)

    @callback
    def _registered(self, link: OcpiLink, registration: Registration) -> None:
        self.registration_error = None
        self._authorised()
        link.registration = registration
        self._link_changed(link)
        self._ledger_changed()

    @callback
    def _link_changed(self, link: OcpiLink) -> None:
        """A registration (ours, or the receiver's PUT): keep it, send again."""
        self._store(
            **{
                CONF_REGISTRATION: link.registration.as_dict()
                if link.registration
                else None,
                CONF_TOKEN_B: link.token_b,
            }
        )
        if link.registration is not None:
            self._hass.async_create_task(self.outbox.async_resume())

    @property
    def status(self) -> SyncStatus:
        """The outbox's status; failing while the handshake is."""
        status = self.outbox.status
        if self.registration_error is not None:
            return SyncStatus(
                state=SyncState.FAILING,
                waiting=status.waiting,
                rejected=status.rejected,
                last_error=self.registration_error,
            )
        return status

    async def _async_send(self, payload: dict[str, Any]) -> Answer:
        link = self._link
        if link is None or link.registration is None:
            return Answer(None, error="not registered")
        return await async_post_cdr(
            self._session, link.registration, self.sender, payload
        )

    @callback
    def _ledger_changed(self) -> None:
        """Queue what the covered finished sessions now need."""
        link = self._link
        if link is None or link.registration is None:
            return
        data = self._data
        site, driver = (
            self._site(data),
            CdrDriver(
                receiver=link.registration.receiver, contract_id=self.subentry_id[:36]
            ),
        )
        zone = dt_util.get_default_time_zone()
        tariffs = tuple(tariffs_of(data))
        for session in self.covered_sessions():
            self._queue_for(session, site, driver, tariffs, zone)

    def statement_made(self, statement: Statement, record: dict[str, Any]) -> None:
        """Nothing more to send: OCPI has no statements, its CDRs went already."""

    def receiver_ids(self, record: Mapping[str, Any]) -> list[str] | None:
        """The CDRs (or credits) last queued for the statement's sessions."""
        link = self._link
        if link is None or link.registration is None:
            return None
        site = self._site(self._data)
        found = []
        for charger, transaction in record.get("receiver_keys", ()):
            session = self._sessions.ledger.get((charger, transaction))
            if session is None:
                return None
            latest = latest_sent(self.outbox.knows, self._cdr_ids(site, session))
            if latest is None:
                return None
            found.append(latest)
        return found

    def _cdr_ids(self, site: CdrSite, session: Session) -> Callable[[int], str]:
        """A session's CDR id in each revision."""
        return lambda revision: cdr_id(self.sender, site, session, revision)

    def _queue_for(
        self,
        session: Session,
        site: CdrSite,
        driver: CdrDriver,
        tariffs: tuple[Any, ...],
        zone: tzinfo,
    ) -> None:
        """A CDR, a credit, or nothing, as the session's history needs."""
        business = session.classification is Classification.BUSINESS
        due = cdr_due(business, self.outbox.knows, self._cdr_ids(site, session))
        if due is None:
            return
        revision, credit = due
        try:
            cdr = build_cdr(
                session,
                sender=self.sender,
                driver=driver,
                site=site,
                tariffs=tariffs,
                zone=zone,
                now=dt_util.utcnow(),
                revision=revision,
            )
            if credit:
                cdr = credit_cdr(cdr, now=dt_util.utcnow())
        except CdrError as err:
            # A missing price: tried again at the next change of the ledger.
            _LOGGER.debug("No CDR for %s yet: %s", session.key, err)
            return
        self.outbox.queue_soon(cdr["id"], cdr)

    def _site(self, data: dict[str, Any]) -> CdrSite:
        """The home as OCPI's CdrLocation (HA's home coordinates)."""
        country = str(data.get(CONF_ADDRESS_COUNTRY) or "NO").upper()
        return CdrSite(
            location_id=self._entry.entry_id[:36],
            address=str(data.get(CONF_STREET) or "")[:45],
            city=str(data.get(CONF_CITY) or "")[:45],
            postal_code=str(data.get(CONF_POSTAL_CODE) or "")[:10] or None,
            country=ALPHA3.get(country, "NOR"),
            latitude=self._hass.config.latitude,
            longitude=self._hass.config.longitude,
        )


async def async_start_syncs(
    hass: HomeAssistant,
    entry: ConfigEntry,
    sessions: PlaceSessions,
    receivers: dict[str, tuple[Any, ...]],
    statements: StatementBook | None = None,
) -> list[ReceiverSync]:
    """Start one sync per reimbursement with a receiver; they stop at unload."""
    syncs: list[ReceiverSync] = [
        ReimbursementSync(hass, entry, subentry, sessions, receivers, statements)
        for subentry in receivers_of_kind(entry, ReceiverKind.OCPI)
    ]
    syncs += [
        WebhookSync(hass, entry, subentry, sessions, receivers, statements)
        for subentry in receivers_of_kind(entry, ReceiverKind.WEBHOOK)
    ]
    if statements is not None:
        statements.syncs = {sync.subentry_id: sync for sync in syncs}

    async def stop() -> None:
        await asyncio.gather(*(sync.async_stop() for sync in syncs))

    # First: if one cannot start, those that did are stopped with the entry.
    entry.async_on_unload(stop)
    await asyncio.gather(*(sync.async_start() for sync in syncs))
    return syncs
