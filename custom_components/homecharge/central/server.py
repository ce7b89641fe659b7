"""The websocket server chargers connect to: one per Home Assistant.

Started with the first place and stopped with the last. It authenticates a
charger (HTTP Basic, OCPP security profile 1; TLS for profile 2), picks the
OCPP version from the websocket subprotocol, and hands the session to whoever
owns the charger: its runtime, or discovery while nobody does.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from datetime import datetime
import hmac
import logging
import time
from typing import Any, Protocol

from aiohttp import BasicAuth, hdrs, web

from homeassistant.const import EVENT_HOMEASSISTANT_STOP
from homeassistant.core import Event, HomeAssistant
from homeassistant.helpers.event import async_call_later
from homeassistant.util.hass_dict import HassKey

from ..const import DOMAIN
from .charger_facts import FACT_KEYS, ChargerFacts, facts_from_configuration
from .connection import MAX_FRAME_BYTES, ConnectionClosedError, WebSocketConnection
from .guard import REPORT_AFTER, LoginGuard
from .identity import charge_point_id_from_path
from .profile import FALLBACK_PROFILE_ID, profile_id
from .server_settings import (
    ServerSettings,
    async_load_settings,
    server_ssl_context,
)
from .session import (
    BootInfo,
    ChargerEvents,
    ChargerSession,
    SessionError,
    StatusReport,
)
from .v16 import Session16
from .v201 import Session201

_LOGGER = logging.getLogger(__name__)

CENTRAL: HassKey[CentralSystem] = HassKey(f"{DOMAIN}_central")
SUBPROTOCOLS: dict[str, type[Session16 | Session201]] = {
    "ocpp1.6": Session16,
    "ocpp2.0.1": Session201,
}
# The websocket's own ping: finds a dead charger long before its heartbeat.
PING_INTERVAL_S = 30.0
# While a place accepts new chargers: at most this many unknown chargers
# connected at once (each may hold a socket open without a password).
MAX_UNKNOWN_SOCKETS = 10
# A new charger's configuration is read this long after its boot (its answer
# goes out first), and given this long.
DESCRIBE_AFTER_S = 1.0
DESCRIBE_TIMEOUT_S = 10.0
# How long a removed charger gets to stop charging and drop our profiles.
LET_GO_TIMEOUT_S = 10.0
# With no place left using it, the server stops this much later (a place's
# reload takes it again long before: no charger is disconnected).
IDLE_STOP_S = 60.0


class KnownCharger(Protocol):
    """A charger a place has registered."""

    @property
    def password(self) -> str | None:
        """Its HTTP Basic password; None for none."""

    def events(self) -> ChargerEvents:
        """Where this charger's events go."""


class DiscoveryHandler(Protocol):
    """Told when a charger nobody knows boots while a place accepts new ones."""

    def __call__(
        self, charge_point_id: str, boot: BootInfo, version: str, facts: ChargerFacts
    ) -> None:
        """Offer the charger to the user."""


class GuessingHandler(Protocol):
    """Told when an address keeps giving wrong passwords."""

    def __call__(self, address: str, charge_point_id: str, failures: int) -> None:
        """Tell the user (a repair issue); 0 failures: it is over."""


class _Unknown:
    """Events of a charger no place owns (yet): boots start a discovery."""

    def __init__(
        self, central: CentralSystem, charge_point_id: str, version: str
    ) -> None:
        self._central = central
        self._id = charge_point_id
        self._version = version

    def on_connected(self, session: ChargerSession) -> None:
        """Nothing to do until it boots."""

    def on_disconnected(self, session: ChargerSession) -> None:
        """Nothing kept."""

    def on_frame(self) -> None:
        """Nobody watches it yet."""

    def on_heartbeat(self) -> None:
        """Nobody watches it yet."""

    def on_boot(self, boot: BootInfo) -> bool:
        """Offer it to the user; Pending until it is added."""
        self._central.discovered(self._id, boot, self._version)
        return False

    def on_status(self, report: StatusReport) -> None:
        """Ignored until the charger is added."""

    def on_meter_values(
        self, connector_id: int, transaction_id: str | None, samples: list[Any]
    ) -> None:
        """Ignored until the charger is added."""

    def on_transaction_started(
        self,
        connector_id: int,
        id_tag: str | None,
        meter_start_wh: float | None,
        timestamp: Any,
        transaction_id: str | None,
    ) -> str:
        """A transaction of a charger nobody owns still needs an id."""
        return "0"

    def on_transaction_ended(
        self,
        transaction_id: str,
        meter_stop_wh: float | None,
        timestamp: Any,
        reason: str | None,
    ) -> None:
        """Ignored until the charger is added."""

    def on_authorize(self, id_tag: str) -> str:
        """Cards at a charger nobody owns are not ours to refuse."""
        return "Accepted"


def choose_subprotocol(header: str | None) -> str | None:
    """The OCPP version to speak: the charger's first choice that we support.

    No header at all means 1.6 (older firmware omits it); an empty result
    means the charger offered only versions we do not speak.
    """
    if header is None:
        return "ocpp1.6"
    for offered in (part.strip() for part in header.split(",")):
        if offered in SUBPROTOCOLS:
            return offered
    return None


def password_matches(header: str | None, charge_point_id: str, password: str) -> bool:
    """HTTP Basic auth with the charger's identity as user name."""
    if not header:
        return False
    try:
        auth = BasicAuth.decode(header)
    except ValueError:
        return False
    return hmac.compare_digest(auth.login, charge_point_id) and hmac.compare_digest(
        auth.password, password
    )


class CentralSystem:
    """The OCPP server and the directory of which place owns which charger."""

    def __init__(self, hass: HomeAssistant, settings: ServerSettings) -> None:
        """Create a server that is not listening yet."""
        self.hass = hass
        self.settings = settings
        self._runner: web.AppRunner | None = None
        self._known: dict[str, KnownCharger] = {}
        self._sessions: dict[str, ChargerSession] = {}
        self._accepting: set[str] = set()
        # Places using the server; once none has for a while, it stops.
        self.users: set[str] = set()
        self.on_discovery: DiscoveryHandler | None = None
        self.on_guessing: GuessingHandler | None = None
        # Unknown chargers between the cap check and their session.
        self._unknown_handshakes = 0
        # Discoveries reading a charger's configuration now.
        self._describing: set[str] = set()
        # Chargers moving from one place to another: their connectors' state
        # (by device key), handed over.
        self.moving: dict[str, dict[str, Any]] = {}
        self._guard = LoginGuard()
        self.cancel_stop_listener: Callable[[], None] = lambda: None
        # Set while no place uses the server: it stops when this fires.
        self.idle_stop: Callable[[], None] | None = None

    def cancel_idle_stop(self) -> None:
        """A place uses the server (again): it keeps running."""
        if self.idle_stop is not None:
            self.idle_stop()
            self.idle_stop = None

    # Lifetime

    async def async_start(self) -> None:
        """Listen; raises OSError when the port cannot be used."""
        context = None
        if self.settings.certificate and self.settings.private_key:
            context = await self.hass.async_add_executor_job(
                server_ssl_context,
                self.settings.certificate,
                self.settings.private_key,
            )
        app = web.Application()
        app.router.add_get("/{path:.*}", self._async_handle)
        runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await runner.setup()
        site = web.TCPSite(
            runner, self.settings.host, self.settings.port, ssl_context=context
        )
        try:
            await site.start()
        except OSError:
            await runner.cleanup()
            raise
        self._runner = runner
        _LOGGER.info(
            "OCPP central system listening on %s://%s:%s",
            self.settings.scheme,
            self.settings.host,
            self.settings.port,
        )

    async def async_restart(self, settings: ServerSettings) -> None:
        """Listen with new settings; back on the old ones if they cannot be used."""
        old = self.settings
        await self.async_stop()
        self.settings = settings
        try:
            await self.async_start()
        except OSError:
            self.settings = old
            await self.async_start()
            raise

    async def async_stop(self) -> None:
        """Close every charger's socket and stop listening."""
        for session in list(self._sessions.values()):
            await session.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @property
    def port(self) -> int:
        """The port actually listened on (the settings' may be 0: any)."""
        if self._runner is None or not self._runner.addresses:
            return self.settings.port
        return int(self._runner.addresses[0][1])

    # Directory

    def register(
        self, charge_point_id: str, charger: KnownCharger
    ) -> Callable[[], None]:
        """A place owns this charger; an already connected one is handed over."""
        self._known[charge_point_id] = charger
        if (session := self._sessions.get(charge_point_id)) is not None:
            charger.events().on_connected(session)

        def unregister() -> None:
            if self._known.get(charge_point_id) is charger:
                del self._known[charge_point_id]

        return unregister

    async def async_forget(
        self,
        charge_point_id: str,
        transaction_ids: Sequence[str] = (),
        *,
        connectors: int = 1,
        owner: KnownCharger | None = None,
    ) -> None:
        """
        A removed charger: let go of it safely, then it is unknown from now on.

        Its running session is stopped and our profiles are cleared first, so
        it is not left charging at our last limit — or at its own maximum once
        that limit expires — with nobody watching. A charger that does not
        answer within ``LET_GO_TIMEOUT_S`` is disconnected all the same.
        With ``owner``, only while that runtime still owns the charger.
        """
        known = self._known.get(charge_point_id)
        if owner is not None and known is not None and known is not owner:
            return
        self._known.pop(charge_point_id, None)
        if (session := self._sessions.get(charge_point_id)) is None:
            return
        try:
            async with asyncio.timeout(LET_GO_TIMEOUT_S):
                for transaction_id in transaction_ids:
                    await session.remote_stop(transaction_id)
                for number in (
                    *(profile_id(c) for c in range(1, connectors + 1)),
                    FALLBACK_PROFILE_ID,
                ):
                    await session.clear_profile(number)
        except (SessionError, TimeoutError, ValueError) as err:
            _LOGGER.warning(
                "Removed charger %s was not let go cleanly (%s); disconnected",
                charge_point_id,
                err,
            )
        await session.close()

    def set_accepting(self, entry_id: str, accepting: bool) -> None:
        """Whether a place lets unknown chargers connect and be discovered."""
        if accepting:
            self._accepting.add(entry_id)
        else:
            self._accepting.discard(entry_id)

    def _unknown_sockets(self) -> int:
        connected = sum(1 for known in self._sessions if known not in self._known)
        return connected + self._unknown_handshakes

    def _check_password(
        self, request: web.Request, charge_point_id: str, password: str
    ) -> None:
        """The right password, and no back-off pending; else 401."""
        header = request.headers.get(hdrs.AUTHORIZATION)
        if header is None:
            # No guess made: the challenge some chargers wait for first.
            raise web.HTTPUnauthorized(
                headers={hdrs.WWW_AUTHENTICATE: 'Basic realm="OCPP"'}
            )
        address = request.remote or "?"
        now = time.monotonic()
        waiting = self._guard.wait_s(address, now) > 0
        right = password_matches(header, charge_point_id, password)
        if right and not waiting:
            reported = self._guard.failures_from(address) >= REPORT_AFTER
            self._guard.succeeded(address)
            if reported and self.on_guessing is not None:
                # The right password from there: what was reported is over.
                self.on_guessing(address, charge_point_id, 0)
            return
        if not right:
            # Every wrong try counts, also while backing off: a guesser that
            # keeps trying keeps waiting.
            failures = self._guard.failed(address, now)
            _LOGGER.warning(
                "Charger %s gave a wrong password from %s (%d in a row)",
                charge_point_id,
                address,
                failures,
            )
            if failures >= REPORT_AFTER and self.on_guessing is not None:
                self.on_guessing(address, charge_point_id, failures)
        raise web.HTTPUnauthorized(
            headers={hdrs.WWW_AUTHENTICATE: 'Basic realm="OCPP"'}
        )

    def discovered(self, charge_point_id: str, boot: BootInfo, version: str) -> None:
        """An unknown charger booted; offer it if a place still accepts.

        First its supply is read from its configuration (it waits, Pending,
        until it is added), so the form can suggest it.
        """
        if (
            self._accepting
            and self.on_discovery is not None
            and charge_point_id not in self._describing
        ):
            self._describing.add(charge_point_id)
            self.hass.async_create_background_task(
                self._async_offer(charge_point_id, boot, version),
                f"homecharge discovery {charge_point_id}",
            )

    async def _async_offer(
        self, charge_point_id: str, boot: BootInfo, version: str
    ) -> None:
        try:
            facts = ChargerFacts()
            # Its BootNotification is answered (Pending) before we ask.
            await asyncio.sleep(DESCRIBE_AFTER_S)
            session = self._sessions.get(charge_point_id)
            if session is not None and (keys := FACT_KEYS[session.version]):
                try:
                    async with asyncio.timeout(DESCRIBE_TIMEOUT_S):
                        config = await session.get_configuration(keys)
                except (SessionError, TimeoutError):
                    config = {}
                facts = facts_from_configuration(config)
            if self._accepting and self.on_discovery is not None:
                self.on_discovery(charge_point_id, boot, version, facts)
        finally:
            self._describing.discard(charge_point_id)

    def _events(self, charge_point_id: str, version: str) -> ChargerEvents:
        if (known := self._known.get(charge_point_id)) is not None:
            return known.events()
        return _Unknown(self, charge_point_id, version)

    # Connections

    async def _async_handle(self, request: web.Request) -> web.StreamResponse:
        charge_point_id = charge_point_id_from_path(request.raw_path)
        if charge_point_id is None:
            raise web.HTTPNotFound
        known = self._known.get(charge_point_id)
        if known is None and not self._accepting:
            _LOGGER.info("Refused unknown charger %s", charge_point_id)
            raise web.HTTPNotFound
        if known is not None and known.password:
            self._check_password(request, charge_point_id, known.password)
        elif known is None and self._unknown_sockets() >= MAX_UNKNOWN_SOCKETS:
            _LOGGER.warning(
                "Refused unknown charger %s: %d unknown chargers connected already",
                charge_point_id,
                MAX_UNKNOWN_SOCKETS,
            )
            raise web.HTTPServiceUnavailable
        header = request.headers.get(hdrs.SEC_WEBSOCKET_PROTOCOL)
        protocol = choose_subprotocol(header)
        if protocol is None:
            _LOGGER.warning("Charger %s offered only %s", charge_point_id, header)
            raise web.HTTPBadRequest(reason="Unsupported OCPP version")
        websocket = web.WebSocketResponse(
            protocols=(protocol,) if header else (),
            heartbeat=PING_INTERVAL_S,
            max_msg_size=MAX_FRAME_BYTES,
        )
        unknown = known is None
        self._unknown_handshakes += unknown
        try:
            await websocket.prepare(request)
            if (stale := self._sessions.get(charge_point_id)) is not None:
                # The charger reconnected (new network, restart): the new
                # socket wins.
                await stale.close()
        finally:
            self._unknown_handshakes -= unknown
        session = SUBPROTOCOLS[protocol](
            charge_point_id,
            WebSocketConnection(charge_point_id, websocket),
            lambda: self._events(charge_point_id, protocol),
        )
        self._sessions[charge_point_id] = session
        self._events(charge_point_id, protocol).on_connected(session)
        try:
            await session.start()
        except ConnectionClosedError:
            pass
        finally:
            session.cancel_calls()
            if self._sessions.get(charge_point_id) is session:
                del self._sessions[charge_point_id]
            self._events(charge_point_id, protocol).on_disconnected(session)
        return websocket


async def async_acquire(hass: HomeAssistant, entry_id: str) -> CentralSystem:
    """The running central system; started for the first place that needs it."""
    central = hass.data.get(CENTRAL)
    if central is None:
        central = CentralSystem(hass, await async_load_settings(hass))
        await central.async_start()
        hass.data[CENTRAL] = central

        async def _async_stop(_event: Event) -> None:
            central.cancel_idle_stop()
            if hass.data.get(CENTRAL) is central:
                del hass.data[CENTRAL]
                await central.async_stop()

        # Chargers see a clean close when Home Assistant stops, and reconnect.
        central.cancel_stop_listener = hass.bus.async_listen_once(
            EVENT_HOMEASSISTANT_STOP, _async_stop
        )
    # A place reloading (a charger added, an entity enabled) comes straight back.
    central.cancel_idle_stop()
    central.users.add(entry_id)
    return central


async def async_release(hass: HomeAssistant, entry_id: str) -> None:
    """
    A place no longer needs the server.

    The server outlives a place's reload: only when no place has taken it
    again within ``IDLE_STOP_S`` (the last place was removed, or the
    integration is gone) does it stop. Chargers stay connected across reloads.
    """
    central = hass.data.get(CENTRAL)
    if central is None:
        return
    central.users.discard(entry_id)
    central.set_accepting(entry_id, False)
    if central.users:
        return

    async def _async_idle_stop(_now: datetime) -> None:
        central.idle_stop = None
        if central.users or hass.data.get(CENTRAL) is not central:
            return
        del hass.data[CENTRAL]
        central.cancel_stop_listener()
        await central.async_stop()

    central.cancel_idle_stop()
    central.idle_stop = async_call_later(hass, IDLE_STOP_S, _async_idle_stop)
