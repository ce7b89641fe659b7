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
from collections.abc import Mapping
from datetime import tzinfo
import logging
from typing import Any, Final

from homeassistant.config_entries import ConfigEntry, ConfigSubentry
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.network import NoURLAvailableError, get_url
from homeassistant.util import dt as dt_util

from ..const import CONF_CHARGE_POINT_ID, CONF_COUNTRY, DOMAIN
from ..feeds.ocpi_client import (
    Answer,
    OurSide,
    ReceiverError,
    Registration,
    async_post_cdr,
    async_register,
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
    CONF_COVERED_CHARGERS,
    CONF_POSTAL_CODE,
    CONF_RECEIVER,
    CONF_RECEIVER_TOKEN,
    CONF_RECEIVER_URL,
    CONF_STREET,
    ReceiverKind,
    tariffs_of,
)
from ..logic.sessions.model import Classification, Session
from .ocpi_views import OcpiLink, async_register_ocpi_place, new_token, versions_path
from .reimbursement_outbox import CdrOutbox, SyncState, SyncStatus
from .sessions import PlaceSessions

_LOGGER = logging.getLogger(__name__)

CONF_TOKEN_B: Final = "ocpi_token_b"  # noqa: S105 - a key
CONF_REGISTRATION: Final = "ocpi_registration"
# Our party id: a home is no registered operator; the receiver knows us by
# token, the id only has to be three characters and stable.
PARTY_ID: Final = "HCH"
# The repair issue of a receiver that refuses our token (its fix flow asks
# for a new token A: ``repairs.py``).
REAUTH_ISSUE: Final = "receiver_reauth"


def reauth_issue_id(subentry_id: str) -> str:
    """The repair issue of one reimbursement's receiver."""
    return f"{REAUTH_ISSUE}_{subentry_id}"


def _receiver_of(data: Mapping[str, Any]) -> tuple[Any, ...]:
    return (
        data.get(CONF_RECEIVER),
        data.get(CONF_RECEIVER_URL),
        data.get(CONF_RECEIVER_TOKEN),
    )


def receivers_of(entry: ConfigEntry) -> dict[str, tuple[Any, ...]]:
    """Per reimbursement, who receives and how: another one needs a reload."""
    return {
        sub.subentry_id: _receiver_of(sub.data)
        for sub in entry.subentries.values()
        if sub.data.get(CONF_RECEIVER) is not None
    }


def ocpi_receivers(entry: ConfigEntry) -> list[ConfigSubentry]:
    """The place's reimbursements that send to an OCPI receiver."""
    return [
        sub
        for sub in entry.subentries.values()
        if sub.data.get(CONF_RECEIVER) == ReceiverKind.OCPI
    ]


class ReimbursementSync:
    """One reimbursement's link, handshake and outbox."""

    def __init__(
        self,
        hass: HomeAssistant,
        entry: ConfigEntry,
        subentry: ConfigSubentry,
        sessions: PlaceSessions,
        receivers: dict[str, tuple[Any, ...]],
    ) -> None:
        """
        Nothing served or sent before ``async_start``.

        ``receivers``: the place's ``receivers_of``, against which a change
        of the entry is compared. A new token A this sync registered with
        is written there too: it needs no reload.
        """
        self._hass = hass
        self._receivers = receivers
        self._entry = entry
        self.subentry_id = subentry.subentry_id
        self.title = subentry.title
        self._sessions = sessions
        self._session = async_get_clientsession(hass)
        country = str(entry.data.get(CONF_COUNTRY) or "NO").upper()
        self.sender = Party(country, PARTY_ID)
        self.outbox = CdrOutbox(
            hass, subentry.subentry_id, self._async_send, on_reauth=self._reauth
        )
        self._link: OcpiLink | None = None
        self._undo: list[CALLBACK_TYPE] = []
        self._status_listeners: list[CALLBACK_TYPE] = []
        self.registration_error: str | None = None

    @property
    def _data(self) -> dict[str, Any]:
        return dict(self._entry.subentries[self.subentry_id].data)

    def _store(self, **changes: Any) -> None:
        """Keep token B and the registration in the subentry (no reload)."""
        subentry = self._entry.subentries[self.subentry_id]
        self._hass.config_entries.async_update_subentry(
            self._entry, subentry, data={**subentry.data, **changes}
        )

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

    async def async_stop(self) -> None:
        """Stop serving and sending (what is queued stays on disk)."""
        for undo in self._undo:
            undo()
        self._undo.clear()
        await self.outbox.async_stop()
        # Raised again at the next start while it lasts; gone with a removal.
        ir.async_delete_issue(self._hass, DOMAIN, reauth_issue_id(self.subentry_id))

    async def async_reregister(self, versions_url: str, token_a: str) -> None:
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
            versions_url=versions_url,
            token_a=token_a,
            token_b=link.token_b,
            ours=link.ours,
        )
        receiver = {CONF_RECEIVER_URL: versions_url, CONF_RECEIVER_TOKEN: token_a}
        # First: the entry's update listener starts eagerly, within the store.
        self._receivers[self.subentry_id] = _receiver_of(self._data | receiver)
        self._store(**receiver)
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
        ir.async_delete_issue(self._hass, DOMAIN, reauth_issue_id(self.subentry_id))
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
                self._queue_for(session, site, driver, tariffs, zone)

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
        due = cdr_due(
            business,
            self.outbox.knows,
            lambda revision: cdr_id(self.sender, site, session, revision),
        )
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
) -> list[ReimbursementSync]:
    """Start one sync per OCPI reimbursement; they stop at unload."""
    syncs = [
        ReimbursementSync(hass, entry, subentry, sessions, receivers)
        for subentry in ocpi_receivers(entry)
    ]
    await asyncio.gather(*(sync.async_start() for sync in syncs))

    async def stop() -> None:
        await asyncio.gather(*(sync.async_stop() for sync in syncs))

    entry.async_on_unload(stop)
    return syncs
