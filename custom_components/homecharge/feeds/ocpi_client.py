"""
OCPI 2.2.1 as the CPO (credentials sender) against the employer's receiver.

Read from the specification (ocpi/ocpi, tag 2.2.1):
``version_information_endpoint.asciidoc`` (versions list, version details,
endpoints with identifier/role/url), ``credentials.asciidoc`` (the sender
GETs versions and details with token A, POSTs its credentials — token B,
its versions URL, its roles — and uses the token C of the answer from then
on; it does not POST when the endpoints it needs are missing) and
``transport_and_format.asciidoc`` (``Authorization: Token <base64>``,
``X-Request-ID``/``X-Correlation-ID`` on every request, the response
envelope; the ``OCPI-from/to-`` routing headers on functional modules such
as CDRs, and *not* on versions or credentials).

An adapter: it talks HTTP with Home Assistant's shared aiohttp session and
decides nothing about the answers to a CDR — ``logic/reimbursement/outbox``
does. A receiver that cannot be registered with raises ``ReceiverError``
with a code the onboarding form translates.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from dataclasses import dataclass
import json
import logging
from typing import Any, Final
import uuid

import aiohttp

from ..logic.reimbursement.errors import InputError
from ..logic.reimbursement.ocpi_cdr import Party
from ..logic.reimbursement.ocpi_spec import StatusClass, parse_response
from ..logic.reimbursement.settings import receiver_url

_LOGGER = logging.getLogger(__name__)

OCPI_VERSION: Final = "2.2.1"
REQUEST_TIMEOUT_S: Final = 30.0
# credentials.asciidoc: token is string(64), "ASCII only".
MAX_TOKEN: Final = 64
# What a receiver sends back is read up to this size; more is garbage.
MAX_ANSWER: Final = 1 << 20
# Roles a CDR can be addressed to (types.asciidoc, Role): the eMSP side.
_RECEIVER_ROLES: Final = ("EMSP", "OTHER", "HUB")


class ReceiverError(InputError):
    """The receiver cannot be registered with; ``code`` says why."""


@dataclass(frozen=True, kw_only=True, slots=True)
class OurSide:
    """What we tell the receiver about ourselves (a CPO CredentialsRole)."""

    party: Party
    business_name: str
    versions_url: str
    website: str | None = None

    def credentials(self, token_b: str) -> dict[str, Any]:
        """Our credentials object (credentials.asciidoc) with token B."""
        details: dict[str, Any] = {"name": self.business_name[:100]}
        if self.website:
            details["website"] = self.website
        return {
            "token": token_b,
            "url": self.versions_url,
            "roles": [
                {
                    "role": "CPO",
                    "business_details": details,
                    "party_id": self.party.party_id,
                    "country_code": self.party.country_code,
                }
            ],
        }


@dataclass(frozen=True, kw_only=True, slots=True)
class Endpoints:
    """The receiver's 2.2.1 endpoints we use."""

    credentials: str
    cdrs: str


@dataclass(frozen=True, kw_only=True, slots=True)
class Registration:
    """A finished handshake: where and how CDRs go (stored, token C secret)."""

    versions_url: str
    token_c: str
    credentials_url: str
    cdrs_url: str
    receiver: Party
    receiver_name: str

    def as_dict(self) -> dict[str, Any]:
        """As stored."""
        return {
            "versions_url": self.versions_url,
            "token_c": self.token_c,
            "credentials_url": self.credentials_url,
            "cdrs_url": self.cdrs_url,
            "receiver": [self.receiver.country_code, self.receiver.party_id],
            "receiver_name": self.receiver_name,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Registration:
        """From what ``as_dict`` stored."""
        country, party = data["receiver"]
        return cls(
            versions_url=data["versions_url"],
            token_c=data["token_c"],
            credentials_url=data["credentials_url"],
            cdrs_url=data["cdrs_url"],
            receiver=Party(country, party),
            receiver_name=data["receiver_name"],
        )


@dataclass(frozen=True, slots=True)
class Answer:
    """A CDR POST's raw answer: HTTP status and body, or why there was none."""

    http_status: int | None
    body: bytes | None = None
    error: str | None = None


def check_receiver_url(url: str) -> None:
    """Refuse a URL that is not https (plain http only to a loopback host)."""
    try:
        receiver_url(url)
    except InputError as err:
        raise ReceiverError(err.code, f"{url!r}: not https") from err


def authorization(token: str) -> str:
    """The Authorization header's value: the token base64-encoded (2.2.1)."""
    return "Token " + base64.b64encode(token.encode()).decode("ascii")


def token_of(header: str | None) -> str | None:
    """The credentials token an Authorization header carries, if readable."""
    if not header or not header.startswith("Token "):
        return None
    value = header[len("Token ") :].strip()
    try:
        return base64.b64decode(value, validate=True).decode("ascii")
    except ValueError:
        return None


def request_headers(
    token: str, *, route: tuple[Party, Party] | None = None
) -> dict[str, str]:
    """Headers of a request; ``route`` (from, to) for functional modules."""
    headers = {
        "Authorization": authorization(token),
        "X-Request-ID": str(uuid.uuid4()),
        "X-Correlation-ID": str(uuid.uuid4()),
    }
    if route is not None:
        sender, receiver = route
        headers |= {
            "OCPI-from-country-code": sender.country_code,
            "OCPI-from-party-id": sender.party_id,
            "OCPI-to-country-code": receiver.country_code,
            "OCPI-to-party-id": receiver.party_id,
        }
    return headers


async def _request(
    session: aiohttp.ClientSession,
    method: str,
    url: str,
    token: str,
    *,
    payload: Any = None,
    request_timeout: float,
) -> Any:
    """An OCPI configuration call's ``data``; a ReceiverError otherwise."""
    check_receiver_url(url)
    try:
        async with session.request(
            method,
            url,
            headers=request_headers(token),
            json=payload,
            timeout=aiohttp.ClientTimeout(total=request_timeout),
            allow_redirects=False,
        ) as response:
            body = await response.content.read(MAX_ANSWER)
            status = response.status
    except (TimeoutError, aiohttp.ClientError) as err:
        raise ReceiverError("receiver_unreachable", f"{method} {url}: {err!r}") from err
    if status in (401, 403):
        raise ReceiverError("receiver_unauthorized", f"{method} {url}: HTTP {status}")
    answer = parse_response(body)
    if status >= 500 and answer.status is StatusClass.INVALID:
        # Down for now (a proxy's 502/503 page): try again later.
        raise ReceiverError("receiver_unreachable", f"{method} {url}: HTTP {status}")
    if answer.status is StatusClass.INVALID:
        raise ReceiverError(
            "receiver_garbage", f"{method} {url}: HTTP {status}, {answer.message}"
        )
    if not 200 <= status < 300 or answer.status is not StatusClass.SUCCESS:
        raise ReceiverError(
            "receiver_refused",
            f"{method} {url}: HTTP {status}, OCPI {answer.status_code}"
            f" {answer.message}",
        )
    return answer.data


async def async_endpoints(
    session: aiohttp.ClientSession,
    versions_url: str,
    token: str,
    *,
    request_timeout: float = REQUEST_TIMEOUT_S,
) -> Endpoints:
    """The receiver's 2.2.1 credentials and CDRs (RECEIVER) endpoints."""
    versions = await _request(
        session, "GET", versions_url, token, request_timeout=request_timeout
    )
    if not isinstance(versions, list) or not all(
        isinstance(item, Mapping) for item in versions
    ):
        raise ReceiverError("receiver_garbage", "versions: not a list of objects")
    details_url = next(
        (item.get("url") for item in versions if item.get("version") == OCPI_VERSION),
        None,
    )
    if not isinstance(details_url, str):
        offered = [item.get("version") for item in versions]
        raise ReceiverError("receiver_no_version", f"versions offered: {offered}")
    details = await _request(
        session, "GET", details_url, token, request_timeout=request_timeout
    )
    endpoints = details.get("endpoints") if isinstance(details, Mapping) else None
    if not isinstance(endpoints, list) or not all(
        isinstance(item, Mapping) for item in endpoints
    ):
        raise ReceiverError("receiver_garbage", "version details: no endpoints")
    if details.get("version") != OCPI_VERSION:
        raise ReceiverError(
            "receiver_no_version", f"version details of {details.get('version')!r}"
        )
    found: dict[str, str] = {}
    for item in endpoints:
        identifier, role, url = (
            item.get("identifier"),
            item.get("role"),
            item.get("url"),
        )
        if not isinstance(url, str):
            continue
        # credentials.asciidoc: the role has no function for credentials.
        if identifier == "credentials" or (identifier == "cdrs" and role == "RECEIVER"):
            found.setdefault(str(identifier), url)
    if "credentials" not in found:
        raise ReceiverError("receiver_garbage", "no credentials endpoint")
    if "cdrs" not in found:
        raise ReceiverError("receiver_no_cdrs", "no cdrs endpoint with role RECEIVER")
    for url in found.values():
        check_receiver_url(url)
    return Endpoints(credentials=found["credentials"], cdrs=found["cdrs"])


def _their_credentials(data: Any) -> tuple[str, str, Party, str]:
    """Token, versions URL, party and name from a credentials object."""
    if not isinstance(data, Mapping):
        raise ReceiverError("receiver_garbage", "credentials: not an object")
    token, url, roles = data.get("token"), data.get("url"), data.get("roles")
    if (
        not isinstance(token, str)
        or not 0 < len(token) <= MAX_TOKEN
        or not all("!" <= char <= "~" for char in token)
    ):
        raise ReceiverError("receiver_garbage", "credentials: no usable token")
    if not isinstance(url, str) or not isinstance(roles, list) or not roles:
        raise ReceiverError("receiver_garbage", "credentials: no url or roles")
    valid = [
        role
        for role in roles
        if isinstance(role, Mapping)
        and isinstance(role.get("country_code"), str)
        and isinstance(role.get("party_id"), str)
    ]
    if not valid:
        raise ReceiverError("receiver_garbage", "credentials: no party in roles")
    role = next(
        (r for kind in _RECEIVER_ROLES for r in valid if r.get("role") == kind),
        valid[0],
    )
    details = role.get("business_details")
    name = details.get("name") if isinstance(details, Mapping) else None
    return (
        token,
        url,
        Party(role["country_code"], role["party_id"]),
        name if isinstance(name, str) else "",
    )


async def async_register(
    session: aiohttp.ClientSession,
    *,
    versions_url: str,
    token_a: str,
    token_b: str,
    ours: OurSide,
    request_timeout: float = REQUEST_TIMEOUT_S,
) -> Registration:
    """The credentials handshake: our token B in, the receiver's token C out.

    The receiver calls our versions endpoint with token B while it answers,
    so that endpoint must already accept token B.
    """
    check_receiver_url(versions_url)
    endpoints = await async_endpoints(
        session, versions_url, token_a, request_timeout=request_timeout
    )
    data = await _request(
        session,
        "POST",
        endpoints.credentials,
        token_a,
        payload=ours.credentials(token_b),
        request_timeout=request_timeout,
    )
    registration = _registration(data, endpoints)
    _LOGGER.debug(
        "Registered with %s (%s)", registration.receiver_name, registration.versions_url
    )
    return registration


async def async_updated(
    session: aiohttp.ClientSession,
    credentials: Any,
    *,
    request_timeout: float = REQUEST_TIMEOUT_S,
) -> Registration:
    """A registration from the credentials a receiver PUTs (or POSTs) to us.

    credentials.asciidoc: the server fetches the client's endpoints again.
    """
    token_c, their_url, _party, _name = _their_credentials(credentials)
    check_receiver_url(their_url)
    endpoints = await async_endpoints(
        session, their_url, token_c, request_timeout=request_timeout
    )
    return _registration(credentials, endpoints)


def _registration(credentials: Any, endpoints: Endpoints) -> Registration:
    """A registration from the receiver's credentials and its endpoints."""
    token_c, their_url, party, name = _their_credentials(credentials)
    return Registration(
        versions_url=their_url,
        token_c=token_c,
        credentials_url=endpoints.credentials,
        cdrs_url=endpoints.cdrs,
        receiver=party,
        receiver_name=name,
    )


async def async_post_cdr(
    session: aiohttp.ClientSession,
    registration: Registration,
    sender: Party,
    cdr: Mapping[str, Any],
    *,
    request_timeout: float = REQUEST_TIMEOUT_S,
) -> Answer:
    """POST one CDR to the receiver's CDRs endpoint; the raw answer.

    Never raises for the network: a timeout or a dropped connection is an
    ``Answer`` without status, for ``outbox.outcome`` to judge.
    """
    headers = request_headers(
        registration.token_c, route=(sender, registration.receiver)
    )
    headers["Content-Type"] = "application/json"
    return await async_post_answer(
        session,
        registration.cdrs_url,
        json.dumps(cdr, separators=(",", ":")),
        headers,
        request_timeout,
    )


async def async_post_answer(
    session: aiohttp.ClientSession,
    url: str,
    data: str | bytes,
    headers: Mapping[str, str],
    request_timeout: float,
) -> Answer:
    """POST, no redirects; the raw answer (no status: a timeout or a drop)."""
    try:
        async with session.post(
            url,
            data=data,
            headers=headers,
            timeout=aiohttp.ClientTimeout(total=request_timeout),
            allow_redirects=False,
        ) as response:
            return Answer(response.status, await response.content.read(MAX_ANSWER))
    except TimeoutError:
        return Answer(None, error="timeout")
    except aiohttp.ClientError as err:
        return Answer(None, error=f"{type(err).__name__}: {err}")
