"""The OCPI 2.2.1 client against a real fake receiver on 127.0.0.1."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
import json
from typing import Any

from aiohttp import ClientSession, web
from aiohttp.test_utils import TestServer
import pytest

from custom_components.homecharge.feeds.ocpi_client import (
    Answer,
    OurSide,
    ReceiverError,
    Registration,
    async_post_cdr,
    async_register,
    authorization,
    check_receiver_url,
    token_of,
)
from custom_components.homecharge.logic.reimbursement.ocpi_cdr import Party
from custom_components.homecharge.logic.reimbursement.outbox import Outcome, outcome
from tests.ocpi_receiver import TOKEN_A, FakeReceiver, envelope
from tests.test_reimbursement_ocpi_cdr import _cdr, _session

SENDER = Party("NO", "HCH")
TOKEN_B = "token-b-7f3a"  # noqa: S105 - a test token

type Server = Callable[[web.Application], Awaitable[TestServer]]


@pytest.fixture
async def session() -> AsyncIterator[ClientSession]:
    async with ClientSession() as session:
        yield session


@pytest.fixture
async def receiver(aiohttp_server: Server) -> FakeReceiver:
    fake = FakeReceiver()
    server = await aiohttp_server(fake.app())
    fake.base = str(server.make_url("")).rstrip("/")
    return fake


@pytest.fixture
async def ours(aiohttp_server: Server) -> OurSide:
    """Our versions endpoint, standing in for the HA views (tested apart)."""

    async def versions(request: web.Request) -> web.Response:
        if token_of(request.headers.get("Authorization")) != TOKEN_B:
            return web.json_response(envelope(code=2000), status=401)
        url = str(request.url.with_path("/ours/2.2.1"))
        return web.json_response(envelope([{"version": "2.2.1", "url": url}]))

    async def details(request: web.Request) -> web.Response:
        return web.json_response(envelope({"version": "2.2.1", "endpoints": []}))

    app = web.Application()
    app.router.add_get("/ours/versions", versions)
    app.router.add_get("/ours/2.2.1", details)
    server = await aiohttp_server(app)
    return OurSide(
        party=SENDER,
        business_name="Hjemme",
        versions_url=str(server.make_url("/ours/versions")),
    )


async def _register(
    session: ClientSession, receiver: FakeReceiver, ours: OurSide, **kw: Any
) -> Registration:
    return await async_register(
        session,
        versions_url=receiver.versions_url,
        token_a=TOKEN_A,
        token_b=TOKEN_B,
        ours=ours,
        **kw,
    )


def test_the_token_travels_base64_encoded() -> None:
    """transport_and_format.asciidoc: ``Token <base64 of the token>``."""
    assert authorization("abc") == "Token YWJj"
    assert token_of("Token YWJj") == "abc"
    assert token_of("Token abc") is None
    assert token_of("Bearer YWJj") is None
    assert token_of(None) is None


@pytest.mark.parametrize(
    ("url", "code"),
    [
        ("http://example.com/ocpi/versions", "receiver_not_https"),
        ("http://192.168.1.5/versions", "receiver_not_https"),
        ("ftp://127.0.0.1/versions", "receiver_url"),
        ("https:///versions", "receiver_url"),
        ("not a url", "receiver_url"),
        ("http://[::1/", "receiver_url"),
    ],
)
def test_a_receiver_not_on_https_is_refused(url: str, code: str) -> None:
    with pytest.raises(ReceiverError) as err:
        check_receiver_url(url)
    assert err.value.code == code


@pytest.mark.parametrize(
    "url",
    [
        "https://emsp.example.com/ocpi/versions",
        "http://127.0.0.1:8080/v",
        "http://localhost/v",
        "http://[::1]:80/v",
    ],
)
def test_https_and_loopback_are_accepted(url: str) -> None:
    check_receiver_url(url)


async def test_the_handshake_as_credentials_asciidoc_has_it(
    session: ClientSession, receiver: FakeReceiver, ours: OurSide
) -> None:
    """Versions and details with token A, our credentials POSTed, token C kept."""
    registration = await _register(session, receiver, ours)

    assert registration == Registration(
        versions_url=receiver.versions_url,
        token_c="token-c-1",  # noqa: S106 - a test token
        credentials_url=f"{receiver.base}/ocpi/2.2.1/credentials",
        cdrs_url=f"{receiver.base}/ocpi/2.2.1/cdrs",
        receiver=Party("NO", "EMP"),
        receiver_name="Employer Fleet AS",
    )
    assert Registration.from_dict(json.loads(json.dumps(registration.as_dict()))) == (
        registration
    )
    assert [path for path, _ in receiver.config_requests] == [
        "/ocpi/versions",
        "/ocpi/2.2.1",
        "/ocpi/2.2.1/credentials",
    ]
    for _, headers in receiver.config_requests:
        assert (
            headers["Authorization"]
            == "Token " + base64.b64encode(TOKEN_A.encode()).decode()
        )
        assert headers["X-Request-ID"]
        assert headers["X-Correlation-ID"]
        # Not routed: versions and credentials are configuration modules.
        assert not any(name.lower().startswith("ocpi-") for name in headers)
    assert len({h["X-Request-ID"] for _, h in receiver.config_requests}) == 3
    assert receiver.registered == {
        "token": TOKEN_B,
        "url": ours.versions_url,
        "roles": [
            {
                "role": "CPO",
                "business_details": {"name": "Hjemme"},
                "party_id": "HCH",
                "country_code": "NO",
            }
        ],
    }
    # The receiver reached our versions endpoint with token B.
    assert receiver.callback_status == 200


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"versions": ["2.1.1", "2.2"]}, "receiver_no_version"),
        ({"with_cdrs": False}, "receiver_no_cdrs"),
        ({"config_fault": "garbage"}, "receiver_garbage"),
        ({"config_fault": "401"}, "receiver_unauthorized"),
        ({"token_a": "another"}, "receiver_unauthorized"),
        ({"down": True}, "receiver_unreachable"),
    ],
)
async def test_a_receiver_that_cannot_be_registered_with_says_why(
    session: ClientSession,
    receiver: FakeReceiver,
    ours: OurSide,
    change: dict[str, Any],
    code: str,
) -> None:
    for name, value in change.items():
        setattr(receiver, name, value)
    with pytest.raises(ReceiverError) as err:
        await _register(session, receiver, ours)
    assert err.value.code == code
    # Without the endpoints it needs, the sender does not POST (credentials.asciidoc).
    assert receiver.registered is None


async def test_an_unreachable_receiver_and_a_plain_http_one(
    session: ClientSession, ours: OurSide, unused_tcp_port: int
) -> None:
    with pytest.raises(ReceiverError) as err:
        await async_register(
            session,
            versions_url=f"http://127.0.0.1:{unused_tcp_port}/v",
            token_a=TOKEN_A,
            token_b=TOKEN_B,
            ours=ours,
        )
    assert err.value.code == "receiver_unreachable"
    with pytest.raises(ReceiverError) as err:
        await async_register(
            session,
            versions_url="http://emsp.example.com/v",
            token_a=TOKEN_A,
            token_b=TOKEN_B,
            ours=ours,
        )
    assert err.value.code == "receiver_not_https"


async def test_details_that_point_away_from_https_are_refused(
    session: ClientSession, ours: OurSide, aiohttp_server: Server
) -> None:
    async def versions(request: web.Request) -> web.Response:
        url = str(request.url.with_path("/d"))
        return web.json_response(envelope([{"version": "2.2.1", "url": url}]))

    async def details(request: web.Request) -> web.Response:
        endpoints = [
            {"identifier": "credentials", "role": "RECEIVER", "url": "http://x.com/c"},
            {"identifier": "cdrs", "role": "RECEIVER", "url": "http://x.com/cdrs"},
        ]
        return web.json_response(envelope({"version": "2.2.1", "endpoints": endpoints}))

    app = web.Application()
    app.router.add_get("/v", versions)
    app.router.add_get("/d", details)
    server = await aiohttp_server(app)
    with pytest.raises(ReceiverError) as err:
        await async_register(
            session,
            versions_url=str(server.make_url("/v")),
            token_a=TOKEN_A,
            token_b=TOKEN_B,
            ours=ours,
        )
    assert err.value.code == "receiver_not_https"


async def _post(
    session: ClientSession, registration: Registration, **kw: Any
) -> tuple[Answer, dict[str, Any]]:
    cdr = _cdr(_session(tx=str(len(kw))))
    return await async_post_cdr(session, registration, SENDER, cdr, **kw), cdr


async def test_a_cdr_is_posted_with_the_routing_headers_and_token_c(
    session: ClientSession, receiver: FakeReceiver, ours: OurSide
) -> None:
    registration = await _register(session, receiver, ours)
    answer, cdr = await _post(session, registration)

    assert answer.http_status == 201
    assert outcome(answer.http_status, answer.body).outcome is Outcome.DELIVERED
    assert receiver.cdrs == {cdr["id"]: cdr}
    assert receiver.problems == [[]]
    ((_, headers),) = receiver.posts
    assert token_of(headers["Authorization"]) == "token-c-1"
    assert headers["Content-Type"] == "application/json"
    assert headers["OCPI-from-country-code"] == "NO"
    assert headers["OCPI-from-party-id"] == "HCH"
    assert headers["OCPI-to-country-code"] == "NO"
    assert headers["OCPI-to-party-id"] == "EMP"
    assert headers["X-Request-ID"] != headers["X-Correlation-ID"]


@pytest.mark.parametrize(
    ("fault", "status", "expected"),
    [
        ("500", 500, Outcome.RETRY),
        ("garbage", 200, Outcome.RETRY),
        ("401", 401, Outcome.REAUTH),
        ("400", 400, Outcome.REJECTED),
        ("timeout", None, Outcome.RETRY),
        ("drop", None, Outcome.RETRY),
    ],
)
async def test_each_fault_comes_back_raw_for_the_outbox_to_judge(
    session: ClientSession,
    receiver: FakeReceiver,
    ours: OurSide,
    fault: str,
    status: int | None,
    expected: Outcome,
) -> None:
    registration = await _register(session, receiver, ours)
    receiver.fault = fault
    receiver.hang_s = 2.0
    started = datetime.now(UTC)
    answer, _ = await _post(session, registration, request_timeout=0.3)
    assert answer.http_status == status
    assert outcome(answer.http_status, answer.body).outcome is expected
    assert (datetime.now(UTC) - started).total_seconds() < 1.5
    if status is None:
        assert answer.error
    assert receiver.cdrs == {}
