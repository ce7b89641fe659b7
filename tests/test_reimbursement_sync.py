"""The durable CDR outbox in a real Home Assistant, against a real fake receiver."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
import copy
from datetime import timedelta
import random
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer
from freezegun.api import FrozenDateTimeFactory
import pytest
from pytest_homeassistant_custom_component.common import async_fire_time_changed

from custom_components.homecharge.feeds.ocpi_client import (
    Answer,
    Registration,
    async_post_cdr,
)
from custom_components.homecharge.logic.reimbursement.ocpi_cdr import Party
from custom_components.homecharge.runtime.reimbursement_outbox import (
    CdrOutbox,
    SyncState,
    store_key,
)
from homeassistant.core import HomeAssistant
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from tests.ocpi_receiver import FakeReceiver
from tests.test_reimbursement_ocpi_cdr import _cdr, _session

SENDER = Party("NO", "HCH")
PLACE = "place-1"

type Server = Callable[[web.Application], Awaitable[TestServer]]


@pytest.fixture
async def receiver(aiohttp_server: Server) -> FakeReceiver:
    fake = FakeReceiver(hang_s=2.0)
    server = await aiohttp_server(fake.app())
    fake.base = str(server.make_url("")).rstrip("/")
    return fake


@pytest.fixture
def registration(receiver: FakeReceiver) -> Registration:
    """As a handshake leaves it (the handshake is tested in test_ocpi_client)."""
    return Registration(
        versions_url=receiver.versions_url,
        token_c=receiver.token_c,
        credentials_url=f"{receiver.base}/ocpi/2.2.1/credentials",
        cdrs_url=f"{receiver.base}/ocpi/2.2.1/cdrs",
        receiver=Party("NO", "EMP"),
        receiver_name="Employer Fleet AS",
    )


class Harness:
    """Outboxes of one place, started and stopped like Home Assistant would."""

    def __init__(self, hass: HomeAssistant, registration: Registration) -> None:
        self.hass = hass
        self.registration = registration
        self.reauth: list[str] = []
        self.changes = 0
        self.outboxes: list[CdrOutbox] = []

    async def _send(self, payload: dict[str, Any]) -> Answer:
        session = async_get_clientsession(self.hass)
        return await async_post_cdr(
            session, self.registration, SENDER, payload, request_timeout=0.5
        )

    async def start(self) -> CdrOutbox:
        outbox = CdrOutbox(
            self.hass,
            PLACE,
            self._send,
            on_reauth=self.reauth.append,
            rng=random.Random(16),  # noqa: S311 - jitter
        )
        self.outboxes.append(outbox)
        outbox.async_add_listener(self._changed)
        await outbox.async_start()
        return outbox

    def _changed(self) -> None:
        self.changes += 1


@pytest.fixture
async def harness(
    hass: HomeAssistant, registration: Registration
) -> AsyncIterator[Harness]:
    harness = Harness(hass, registration)
    yield harness
    for outbox in harness.outboxes:
        await outbox.async_stop()


def _cdrs(count: int, first: int = 0) -> list[dict[str, Any]]:
    return [_cdr(_session(tx=str(1000 + i))) for i in range(first, first + count)]


async def _queue(outbox: CdrOutbox, cdrs: list[dict[str, Any]]) -> None:
    for cdr in cdrs:
        assert await outbox.async_queue(cdr["id"], cdr)


async def _run(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, span: timedelta
) -> None:
    """Let time pass in steps, firing the timers due and finishing the sends."""
    step = timedelta(minutes=5)
    passed = timedelta()
    while passed < span:
        freezer.tick(step)
        passed += step
        async_fire_time_changed(hass)
        await hass.async_block_till_done(wait_background_tasks=True)


async def test_a_week_down_then_every_cdr_once_in_order_within_the_hour(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    receiver: FakeReceiver,
    harness: Harness,
) -> None:
    outbox = await harness.start()
    receiver.down = True
    cdrs = _cdrs(6)
    await _queue(outbox, cdrs[:3])
    await hass.async_block_till_done(wait_background_tasks=True)
    assert outbox.status.state is SyncState.FAILING
    assert outbox.status.last_error == "HTTP 503"

    # A day of 503s, a day of dropped connections, the rest of the week
    # 500s; more sessions end meanwhile. (Timeouts answer like a dropped
    # connection, without status: test_ocpi_client times them out for real,
    # which a frozen clock cannot.)
    await _run(hass, freezer, timedelta(days=1))
    receiver.down, receiver.fault = False, "drop"
    await _queue(outbox, cdrs[3:5])
    await _run(hass, freezer, timedelta(days=1))
    assert outbox.status.last_error is not None
    assert outbox.status.last_error.startswith("ServerDisconnectedError")
    receiver.fault = "500"
    await _queue(outbox, cdrs[5:])
    await _run(hass, freezer, timedelta(days=5))
    status = outbox.status
    assert (status.state, status.waiting) == (SyncState.FAILING, 6)
    assert receiver.order == []
    # Retried all week: at least once an hour (the backoff's cap).
    assert len(receiver.posts) >= 5 * 24

    receiver.fault = None
    await _run(hass, freezer, timedelta(hours=1))
    assert receiver.order == [cdr["id"] for cdr in cdrs]
    assert all(receiver.cdrs[cdr["id"]] == cdr for cdr in cdrs)
    assert receiver.problems[-6:] == [[]] * 6
    status = outbox.status
    assert (status.state, status.waiting, status.last_error) == (
        SyncState.UP_TO_DATE,
        0,
        None,
    )
    assert harness.changes > 0
    # Queued once: a CDR already delivered is not queued again.
    assert not await outbox.async_queue(cdrs[0]["id"], cdrs[0])


async def test_a_restart_in_the_middle_loses_nothing(
    hass: HomeAssistant,
    hass_storage: dict[str, Any],
    freezer: FrozenDateTimeFactory,
    receiver: FakeReceiver,
    harness: Harness,
) -> None:
    outbox = await harness.start()
    receiver.fault = "500"
    cdrs = _cdrs(5)
    await _queue(outbox, cdrs[:3])
    # On disk as soon as it is queued: no flush, no timer needed.
    stored = hass_storage[store_key(PLACE)]["data"]
    assert [entry["cdr_id"] for entry in stored["queue"]] == [
        cdr["id"] for cdr in cdrs[:3]
    ]
    await _run(hass, freezer, timedelta(hours=3))
    receiver.fault = None
    # The first goes through, then Home Assistant stops before the rest.
    await _run(hass, freezer, timedelta(hours=1))
    assert receiver.order
    delivered = list(receiver.order)
    receiver.fault = "500"
    await _queue(outbox, cdrs[3:4])
    await outbox.async_stop()

    again = await harness.start()
    assert again.status.waiting == 4 - len(delivered)
    await _queue(again, cdrs[4:])
    receiver.fault = None
    await _run(hass, freezer, timedelta(hours=1))
    assert receiver.order == [cdr["id"] for cdr in cdrs]
    assert again.status.state is SyncState.UP_TO_DATE
    await again.async_stop()
    assert hass_storage[store_key(PLACE)]["data"]["queue"] == []


async def test_401_stops_sending_and_asks_for_reauthentication(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    receiver: FakeReceiver,
    harness: Harness,
) -> None:
    outbox = await harness.start()
    receiver.token_c = "rotated-by-the-receiver"  # noqa: S105 - a test token
    cdrs = _cdrs(2)
    await _queue(outbox, cdrs)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert harness.reauth == ["HTTP 401"]
    status = outbox.status
    assert (status.state, status.waiting, status.last_error) == (
        SyncState.REAUTH,
        2,
        "HTTP 401",
    )
    # Nothing more is tried, however long it takes the user.
    await _run(hass, freezer, timedelta(days=1))
    assert receiver.posts == []

    # Still paused after a restart, and said so again.
    await outbox.async_stop()
    outbox = await harness.start()
    assert harness.reauth == ["HTTP 401", "HTTP 401"]
    await _run(hass, freezer, timedelta(hours=1))
    assert receiver.order == []

    # New credentials (the reauth flow, later): everything goes at once.
    harness.registration = Registration.from_dict(
        harness.registration.as_dict() | {"token_c": receiver.token_c}
    )
    await outbox.async_resume()
    await hass.async_block_till_done(wait_background_tasks=True)
    assert receiver.order == [cdr["id"] for cdr in cdrs]
    assert outbox.status.state is SyncState.UP_TO_DATE


async def test_a_refused_cdr_is_set_aside_with_the_reason_and_the_rest_goes_on(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    receiver: FakeReceiver,
    harness: Harness,
) -> None:
    """400 with OCPI 2001: shown to the user, not retried, the queue goes on."""
    outbox = await harness.start()
    cdrs = _cdrs(3)
    broken = copy.deepcopy(cdrs[1])
    broken["cdr_location"]["address"] = "Storgata " * 10
    await _queue(outbox, [cdrs[0], broken, cdrs[2]])
    await hass.async_block_till_done(wait_background_tasks=True)

    assert receiver.order == [cdrs[0]["id"], cdrs[2]["id"]]
    assert receiver.problems[1] == ["cdr_location.address: longer than 45"]
    status = outbox.status
    assert status.state is SyncState.UP_TO_DATE
    assert status.rejected == (
        (broken["id"], "HTTP 400 (cdr_location.address: longer than 45)"),
    )
    assert status.last_error == "HTTP 400 (cdr_location.address: longer than 45)"
    await _run(hass, freezer, timedelta(days=1))
    assert len(receiver.posts) == 3

    # Set aside, it is known: not queued twice. Retried on request.
    assert not await outbox.async_queue(broken["id"], broken)
    assert await outbox.async_retry_rejected(broken["id"])
    assert not await outbox.async_retry_rejected("unknown")
    await hass.async_block_till_done(wait_background_tasks=True)
    assert len(outbox.status.rejected) == 1
    assert len(receiver.posts) == 4


async def test_garbage_dropped_connections_and_a_failing_sender_are_retried(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    receiver: FakeReceiver,
    harness: Harness,
) -> None:
    failures = ["boom"]

    async def send(payload: dict[str, Any]) -> Answer:
        if failures:
            raise RuntimeError(failures.pop())
        return await harness._send(payload)

    outbox = CdrOutbox(hass, PLACE, send, rng=random.Random(1))  # noqa: S311 - jitter
    harness.outboxes.append(outbox)
    await outbox.async_start()
    cdrs = _cdrs(2)
    await _queue(outbox, cdrs)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert outbox.status.last_error == "RuntimeError: boom"
    for fault, error in (("garbage", "not an OCPI answer"), ("drop", None)):
        receiver.fault = fault
        await _run(hass, freezer, timedelta(minutes=30))
        assert outbox.status.state is SyncState.FAILING
        if error is not None:
            assert outbox.status.last_error == error
    receiver.fault = None
    await _run(hass, freezer, timedelta(hours=1))
    assert receiver.order == [cdr["id"] for cdr in cdrs]


async def test_an_outbox_from_a_newer_homecharge_is_kept_and_said(
    hass: HomeAssistant,
    hass_storage: dict[str, Any],
    receiver: FakeReceiver,
    harness: Harness,
) -> None:
    """Unreadable: nothing queued over it, nothing sent, the status says why."""
    stored = {"version": 99, "queue": [{"cdr_id": "X"}]}
    hass_storage[store_key(PLACE)] = {
        "version": 1,
        "minor_version": 1,
        "key": store_key(PLACE),
        "data": stored,
    }
    outbox = await harness.start()
    assert outbox.status.state is SyncState.FAILING
    assert outbox.status.last_error == "outbox_unreadable"
    assert not await outbox.async_queue("A", {"id": "A"})
    assert not outbox.queue_soon("B", {"id": "B"})
    await outbox.async_resume()
    assert not await outbox.async_retry_rejected("X")
    await outbox.async_stop()
    await hass.async_block_till_done()
    assert hass_storage[store_key(PLACE)]["data"] == stored
    assert receiver.posts == []
