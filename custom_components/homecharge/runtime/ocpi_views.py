"""Our side of OCPI 2.2.1 through Home Assistant's HTTP server (a place each).

The receiver calls these with our token B, not with a Home Assistant login
(``requires_auth = False``; transport_and_format.asciidoc: a missing or
unknown ``Authorization: Token <base64>`` is HTTP 401). Every answer is an
OCPI envelope and echoes ``X-Request-ID``/``X-Correlation-ID``.

- ``…/<place>/versions`` (GET): 2.2.1 only (version_information_endpoint).
- ``…/<place>/2.2.1`` (GET): its endpoints — credentials only: the CDRs go
  by push to the receiver, we serve no module of our own.
- ``…/<place>/2.2.1/credentials`` (credentials.asciidoc, as server): GET our
  credentials; POST registers a receiver that was not (405 once it is);
  PUT takes a receiver's new token C and endpoints (405 before it is
  registered); DELETE unregisters (405 before). POST and PUT fetch the
  receiver's endpoints again and answer with a new token B; when that
  fails the answer is OCPI 3001.

The place id in the URL is a random id or the config entry's id, so the
routes are registered once and each place adds its ``OcpiLink``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from http import HTTPStatus
import secrets
from typing import Any, Final

import aiohttp
from aiohttp import web

from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers.http import KEY_HASS, HomeAssistantView
from homeassistant.util.hass_dict import HassKey

from ..const import DOMAIN
from ..feeds.ocpi_client import (
    OCPI_VERSION,
    OurSide,
    ReceiverError,
    Registration,
    async_updated,
    token_of,
)

BASE_PATH: Final = f"/api/{DOMAIN}/ocpi"
LINKS: HassKey[dict[str, OcpiLink]] = HassKey(f"{DOMAIN}_ocpi_links")


def new_token() -> str:
    """A fresh credentials token (printable ASCII, well within 64)."""
    return secrets.token_urlsafe(32)


def versions_path(place_id: str) -> str:
    """The path of a place's versions endpoint (under HA's external URL)."""
    return f"{BASE_PATH}/{place_id}/versions"


class OcpiLink:
    """A place's OCPI connection as our endpoints see it."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        ours: OurSide,
        token_b: str,
        registration: Registration | None = None,
        on_change: Callable[[OcpiLink], None] | None = None,
    ) -> None:
        """``on_change`` stores the link (and tells the outbox) after a change."""
        self.session = session
        self.ours = ours
        self.token_b = token_b
        self.registration = registration
        self._on_change = on_change

    @property
    def base_url(self) -> str:
        """Our OCPI base URL: the versions URL without its last part."""
        return self.ours.versions_url.rsplit("/", 1)[0]

    def changed(self) -> None:
        """Tell the owner."""
        if self._on_change is not None:
            self._on_change(self)


@callback
def async_register_ocpi_place(
    hass: HomeAssistant, place_id: str, link: OcpiLink
) -> CALLBACK_TYPE:
    """Serve a place's OCPI endpoints; returns the undo (for unload)."""
    if LINKS not in hass.data:
        hass.data[LINKS] = {}
        for view in (VersionsView, DetailsView, CredentialsView):
            hass.http.register_view(view())
    links = hass.data[LINKS]
    links[place_id] = link

    @callback
    def _remove() -> None:
        if links.get(place_id) is link:
            del links[place_id]

    return _remove


def _answer(
    request: web.Request,
    data: Any = None,
    *,
    code: int = 1000,
    message: str = "",
    status: int = HTTPStatus.OK,
) -> web.Response:
    """An OCPI envelope with the request's ids echoed."""
    body: dict[str, Any] = {
        "status_code": code,
        "timestamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    if data is not None:
        body["data"] = data
    if message:
        body["status_message"] = message
    headers = {
        name: request.headers[name]
        for name in ("X-Request-ID", "X-Correlation-ID")
        if name in request.headers
    }
    return web.json_response(body, status=status, headers=headers)


class _OcpiView(HomeAssistantView):
    """Token B, not a Home Assistant login."""

    requires_auth = False

    def _link(self, request: web.Request, place_id: str) -> OcpiLink | None:
        link = request.app[KEY_HASS].data.get(LINKS, {}).get(place_id)
        token = token_of(request.headers.get("Authorization"))
        if link is None or token is None:
            return None
        return link if secrets.compare_digest(token, link.token_b) else None

    @staticmethod
    def _unauthorized(request: web.Request) -> web.Response:
        return _answer(
            request, code=2000, message="Unauthorized", status=HTTPStatus.UNAUTHORIZED
        )


class VersionsView(_OcpiView):
    """The versions we speak: 2.2.1."""

    url = BASE_PATH + "/{place_id}/versions"
    name = f"api:{DOMAIN}:ocpi:versions"

    async def get(self, request: web.Request, place_id: str) -> web.Response:
        """The list of versions."""
        if (link := self._link(request, place_id)) is None:
            return self._unauthorized(request)
        return _answer(
            request,
            [{"version": OCPI_VERSION, "url": f"{link.base_url}/{OCPI_VERSION}"}],
        )


class DetailsView(_OcpiView):
    """2.2.1's endpoints: credentials."""

    url = BASE_PATH + "/{place_id}/" + OCPI_VERSION
    name = f"api:{DOMAIN}:ocpi:details"

    async def get(self, request: web.Request, place_id: str) -> web.Response:
        """The version details."""
        if (link := self._link(request, place_id)) is None:
            return self._unauthorized(request)
        credentials = f"{link.base_url}/{OCPI_VERSION}/credentials"
        return _answer(
            request,
            {
                "version": OCPI_VERSION,
                "endpoints": [
                    {"identifier": "credentials", "role": "SENDER", "url": credentials}
                ],
            },
        )


class CredentialsView(_OcpiView):
    """The credentials module, server side."""

    url = BASE_PATH + "/{place_id}/" + OCPI_VERSION + "/credentials"
    name = f"api:{DOMAIN}:ocpi:credentials"

    async def get(self, request: web.Request, place_id: str) -> web.Response:
        """Our credentials (token B, versions URL, our CPO role)."""
        if (link := self._link(request, place_id)) is None:
            return self._unauthorized(request)
        return _answer(request, link.ours.credentials(link.token_b))

    async def post(self, request: web.Request, place_id: str) -> web.Response:
        """A receiver registers; 405 when one is registered already."""
        return await self._update(request, place_id, registered=False)

    async def put(self, request: web.Request, place_id: str) -> web.Response:
        """A registered receiver's new token C or endpoints."""
        return await self._update(request, place_id, registered=True)

    async def delete(self, request: web.Request, place_id: str) -> web.Response:
        """The receiver unregisters: token C is no longer valid."""
        if (link := self._link(request, place_id)) is None:
            return self._unauthorized(request)
        if link.registration is None:
            return _not_allowed(request)
        link.registration = None
        link.changed()
        return _answer(request)

    async def _update(
        self, request: web.Request, place_id: str, *, registered: bool
    ) -> web.Response:
        if (link := self._link(request, place_id)) is None:
            return self._unauthorized(request)
        if (link.registration is not None) != registered:
            return _not_allowed(request)
        try:
            credentials = await request.json()
        except ValueError:
            return _answer(
                request, code=2001, message="not JSON", status=HTTPStatus.BAD_REQUEST
            )
        try:
            registration = await async_updated(link.session, credentials)
        except ReceiverError as err:
            # credentials.asciidoc: 3001 when the client's API cannot be used.
            return _answer(request, code=3001, message=err.code)
        link.registration = registration
        link.token_b = new_token()
        link.changed()
        return _answer(request, link.ours.credentials(link.token_b))


def _not_allowed(request: web.Request) -> web.Response:
    return _answer(
        request,
        code=2000,
        message="Method not allowed",
        status=HTTPStatus.METHOD_NOT_ALLOWED,
    )
