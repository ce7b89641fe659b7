"""Our OCPI endpoints in Home Assistant's HTTP server, and the handshake end to end."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
import pytest

from custom_components.homecharge.feeds.ocpi_client import (
    OurSide,
    async_register,
    authorization,
)
from custom_components.homecharge.logic.reimbursement.ocpi_cdr import Party
from custom_components.homecharge.runtime.ocpi_views import (
    OcpiLink,
    async_register_ocpi_place,
    new_token,
    versions_path,
)
from homeassistant.core import HomeAssistant
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.setup import async_setup_component
from tests.ocpi_receiver import TOKEN_A, FakeReceiver

type Server = Callable[[web.Application], Awaitable[TestServer]]
PLACE = "01JPLACE"
TOKEN_C2 = "token-c-2"  # noqa: S105 - a test token
TOKEN_C3 = "token-c-3"  # noqa: S105 - a test token


@pytest.fixture
async def receiver(aiohttp_server: Server) -> FakeReceiver:
    fake = FakeReceiver()
    server = await aiohttp_server(fake.app())
    fake.base = str(server.make_url("")).rstrip("/")
    return fake


@pytest.fixture
async def ours(
    hass: HomeAssistant, hass_client_no_auth: Callable[[], Awaitable[TestClient]]
) -> tuple[TestClient, OcpiLink, list[OcpiLink]]:
    """A place's endpoints served by HA's HTTP server on 127.0.0.1."""
    assert await async_setup_component(hass, "http", {})
    client = await hass_client_no_auth()
    changes: list[OcpiLink] = []
    link = OcpiLink(
        async_get_clientsession(hass),
        OurSide(
            party=Party("NO", "HCH"),
            business_name="Hjemme",
            versions_url=str(client.make_url(versions_path(PLACE))),
        ),
        new_token(),
        on_change=changes.append,
    )
    async_register_ocpi_place(hass, PLACE, link)
    return client, link, changes


def _auth(token: str, **extra: str) -> dict[str, str]:
    return {"Authorization": authorization(token)} | extra


async def test_the_handshake_end_to_end_with_the_callback_on_token_b(
    hass: HomeAssistant,
    receiver: FakeReceiver,
    ours: tuple[TestClient, OcpiLink, list[OcpiLink]],
) -> None:
    client, link, _ = ours
    registration = await async_register(
        async_get_clientsession(hass),
        versions_url=receiver.versions_url,
        token_a=TOKEN_A,
        token_b=link.token_b,
        ours=link.ours,
    )
    assert registration.token_c == receiver.token_c
    assert receiver.token_b == link.token_b
    # The receiver read our versions and details with token B, through the
    # real HTTP server, in OCPI envelopes.
    assert receiver.callback_status == 200
    assert receiver.callback is not None
    assert receiver.callback["status_code"] == 1000
    assert receiver.callback["data"] == [
        {
            "version": "2.2.1",
            "url": str(client.make_url(f"/api/homecharge/ocpi/{PLACE}/2.2.1")),
        }
    ]
    details = receiver.callback["details"]
    assert details["status_code"] == 1000
    assert details["data"]["endpoints"] == [
        {
            "identifier": "credentials",
            "role": "SENDER",
            "url": str(
                client.make_url(f"/api/homecharge/ocpi/{PLACE}/2.2.1/credentials")
            ),
        }
    ]
    assert {"status_code", "timestamp", "data"} <= set(details)


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Token not-base64!"},
        {"Authorization": authorization("wrong")},
        {"Authorization": "Bearer abc"},
    ],
)
async def test_without_token_b_it_is_401_in_an_envelope(
    ours: tuple[TestClient, OcpiLink, list[OcpiLink]], headers: dict[str, str]
) -> None:
    client, _, _ = ours
    for path in ("versions", "2.2.1", "2.2.1/credentials"):
        response = await client.get(
            f"/api/homecharge/ocpi/{PLACE}/{path}", headers=headers
        )
        assert response.status == 401
        assert (await response.json())["status_code"] == 2000


async def test_another_place_does_not_open_with_this_token(
    ours: tuple[TestClient, OcpiLink, list[OcpiLink]],
) -> None:
    client, link, _ = ours
    response = await client.get(
        "/api/homecharge/ocpi/other/versions", headers=_auth(link.token_b)
    )
    assert response.status == 401


async def test_the_request_ids_are_echoed_and_our_credentials_given(
    ours: tuple[TestClient, OcpiLink, list[OcpiLink]],
) -> None:
    client, link, _ = ours
    response = await client.get(
        f"/api/homecharge/ocpi/{PLACE}/2.2.1/credentials",
        headers=_auth(link.token_b, **{"X-Request-ID": "r1", "X-Correlation-ID": "c1"}),
    )
    assert response.status == 200
    assert response.headers["X-Request-ID"] == "r1"
    assert response.headers["X-Correlation-ID"] == "c1"
    body = await response.json()
    assert body["data"] == link.ours.credentials(link.token_b)
    assert body["timestamp"].endswith("Z")


async def test_put_post_and_delete_as_the_credentials_module_says(
    hass: HomeAssistant,
    receiver: FakeReceiver,
    ours: tuple[TestClient, OcpiLink, list[OcpiLink]],
) -> None:
    client, link, changes = ours
    url = f"/api/homecharge/ocpi/{PLACE}/2.2.1/credentials"
    theirs: dict[str, Any] = {
        "token": "token-c-2",
        "url": receiver.versions_url,
        "roles": [
            {
                "role": "EMSP",
                "party_id": "EMP",
                "country_code": "NO",
                "business_details": {"name": "Employer Fleet AS"},
            }
        ],
    }
    # PUT and DELETE before a registration: 405.
    token_b = link.token_b
    for method in ("PUT", "DELETE"):
        response = await client.request(
            method, url, headers=_auth(token_b), json=theirs
        )
        assert response.status == 405
    # The receiver registers (POST): we fetch its endpoints with its token.
    receiver.token_c = TOKEN_C2
    response = await client.post(url, headers=_auth(token_b), json=theirs)
    assert response.status == 200
    body = await response.json()
    assert body["status_code"] == 1000
    assert link.registration is not None
    assert link.registration.token_c == TOKEN_C2
    assert link.registration.cdrs_url == f"{receiver.base}/ocpi/2.2.1/cdrs"
    assert link.token_b != token_b
    assert body["data"]["token"] == link.token_b
    assert changes == [link]
    # Registered: POST is 405, and the old token B no longer opens anything.
    response = await client.post(url, headers=_auth(link.token_b), json=theirs)
    assert response.status == 405
    response = await client.get(url, headers=_auth(token_b))
    assert response.status == 401

    # PUT: a new token C, the endpoints fetched again, a new token B.
    receiver.token_c = TOKEN_C3
    token_b = link.token_b
    response = await client.put(
        url, headers=_auth(token_b), json=theirs | {"token": "token-c-3"}
    )
    assert (await response.json())["status_code"] == 1000
    assert link.registration.token_c == TOKEN_C3
    assert link.token_b != token_b
    # A PUT whose endpoints cannot be read: OCPI 3001, nothing changed.
    receiver.config_fault = "garbage"
    response = await client.put(
        url, headers=_auth(link.token_b), json=theirs | {"token": "token-c-3"}
    )
    body = await response.json()
    assert (body["status_code"], body["status_message"]) == (3001, "receiver_garbage")
    assert link.registration.token_c == TOKEN_C3
    response = await client.put(url, headers=_auth(link.token_b), data="{")
    assert (await response.json())["status_code"] == 2001

    # DELETE: unregistered.
    response = await client.delete(url, headers=_auth(link.token_b))
    assert (await response.json())["status_code"] == 1000
    assert link.registration is None
    assert len(changes) == 3


async def test_a_place_removed_no_longer_answers(
    hass: HomeAssistant, hass_client_no_auth: Callable[[], Awaitable[TestClient]]
) -> None:
    assert await async_setup_component(hass, "http", {})
    client = await hass_client_no_auth()
    ours = OurSide(
        party=Party("NO", "HCH"), business_name="H", versions_url="https://x/v"
    )
    first = OcpiLink(async_get_clientsession(hass), ours, "b1")
    second = OcpiLink(async_get_clientsession(hass), ours, "b2")
    remove_first = async_register_ocpi_place(hass, "p1", first)
    remove_second = async_register_ocpi_place(hass, "p2", second)
    assert (await client.get(versions_path("p1"), headers=_auth("b1"))).status == 200
    remove_first()
    assert (await client.get(versions_path("p1"), headers=_auth("b1"))).status == 401
    assert (await client.get(versions_path("p2"), headers=_auth("b2"))).status == 200
    remove_second()
