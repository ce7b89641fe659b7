"""The webhook client against the real fake receiver on 127.0.0.1."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
import json
from typing import Any

from aiohttp import ClientSession, web
from aiohttp.test_utils import TestServer
import pytest

from custom_components.homecharge.feeds.ocpi_client import ReceiverError
from custom_components.homecharge.feeds.webhook_client import async_post_webhook
from custom_components.homecharge.logic.reimbursement.month import Month
from custom_components.homecharge.logic.reimbursement.outbox import Outcome
from custom_components.homecharge.logic.reimbursement.statement import (
    build_statement,
)
from custom_components.homecharge.logic.reimbursement.webhook import (
    statement_message,
    webhook_outcome,
    webhook_url,
)
from tests.ocpi_receiver import WEBHOOK_TOKEN, FakeReceiver
from tests.test_reimbursement_ocpi_cdr import FIXED, NOW, OSLO, _session
from tests.test_reimbursement_webhook import _message

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


def _base(receiver: FakeReceiver) -> str:
    return f"{receiver.base}/webhook"


async def test_a_session_is_delivered_with_the_bearer_token_and_its_id(
    session: ClientSession, receiver: FakeReceiver
) -> None:
    message = _message()
    url = webhook_url(_base(receiver), message)
    assert url == receiver.sessions_url
    answer = await async_post_webhook(session, url, WEBHOOK_TOKEN, message)

    assert answer.http_status == 201
    assert webhook_outcome(answer.http_status, answer.body).outcome is (
        Outcome.DELIVERED
    )
    assert receiver.webhook_messages == {message["id"]: message}
    ((path, key, headers),) = receiver.webhook_posts
    assert path == "/webhook/sessions"
    assert key == message["id"]
    assert headers["Authorization"] == f"Bearer {WEBHOOK_TOKEN}"
    assert headers["Content-Type"] == "application/json"
    # No OCPI headers on the webhook.
    assert not any(name.lower().startswith("ocpi-") for name in headers)


async def test_a_resend_is_recognised_by_its_id(
    session: ClientSession, receiver: FakeReceiver
) -> None:
    message = _message()
    for _ in range(2):
        answer = await async_post_webhook(
            session, receiver.sessions_url, WEBHOOK_TOKEN, message
        )
        assert webhook_outcome(answer.http_status, answer.body).outcome is (
            Outcome.DELIVERED
        )
    assert answer.http_status == 200
    assert json.loads(answer.body or b"") == {"id": message["id"], "duplicate": True}
    assert list(receiver.webhook_messages) == [message["id"]]
    assert receiver.webhook_order == [message["id"]] * 2


async def test_a_statement_is_delivered_with_its_csv(
    session: ClientSession, receiver: FakeReceiver
) -> None:
    statement = build_statement(
        Month(2026, 1), "Kari Nordmann", [_session()], (FIXED,), OSLO
    )
    message = statement_message(statement, zone=OSLO, reimbursement_id="r-1", now=NOW)
    url = webhook_url(_base(receiver), message)
    answer = await async_post_webhook(session, url, WEBHOOK_TOKEN, message)
    assert answer.http_status == 201
    assert receiver.webhook_messages[message["id"]]["csv"] == message["csv"]
    assert receiver.webhook_posts[0][0] == "/webhook/statements"


async def test_a_message_on_the_wrong_path_is_refused_with_the_receivers_words(
    session: ClientSession, receiver: FakeReceiver
) -> None:
    answer = await async_post_webhook(
        session, receiver.statements_url, WEBHOOK_TOKEN, _message()
    )
    verdict = webhook_outcome(answer.http_status, answer.body)
    assert (answer.http_status, verdict.outcome) == (422, Outcome.REJECTED)
    assert verdict.reason == "HTTP 422 (type 'session' does not belong here)"
    assert receiver.webhook_messages == {}


async def test_a_text_body_needs_its_key_given(
    session: ClientSession, receiver: FakeReceiver
) -> None:
    with pytest.raises(ValueError, match="idempotency key"):
        await async_post_webhook(
            session, receiver.sessions_url, WEBHOOK_TOKEN, "a,b\r\n"
        )
    answer = await async_post_webhook(
        session,
        receiver.sessions_url,
        WEBHOOK_TOKEN,
        "a,b\r\n",
        content_type="text/csv; charset=utf-8",
        idempotency_key="K1",
    )
    # The fake takes JSON only: a 400, refused.
    assert answer.http_status == 400
    ((_, key, headers),) = receiver.webhook_posts
    assert key == "K1"
    assert headers["Content-Type"] == "text/csv; charset=utf-8"


@pytest.mark.parametrize(
    ("fault", "status", "expected", "reason"),
    [
        ("401", 401, Outcome.REAUTH, "HTTP 401"),
        (
            "422",
            422,
            Outcome.REJECTED,
            "HTTP 422 (unknown driver for this reimbursement)",
        ),
        ("500", 500, Outcome.RETRY, "HTTP 500"),
        ("429", 429, Outcome.RETRY, "HTTP 429"),
        ("timeout", None, Outcome.RETRY, "no answer"),
        ("drop", None, Outcome.RETRY, "no answer"),
        # A 2xx is delivered whatever its body: no envelope is needed.
        ("garbage", 200, Outcome.DELIVERED, ""),
    ],
)
async def test_each_fault_comes_back_raw_for_the_outbox_to_judge(
    session: ClientSession,
    receiver: FakeReceiver,
    fault: str,
    status: int | None,
    expected: Outcome,
    reason: str,
) -> None:
    receiver.fault = fault
    receiver.hang_s = 2.0
    started = datetime.now(UTC)
    answer = await async_post_webhook(
        session, receiver.sessions_url, WEBHOOK_TOKEN, _message(), request_timeout=0.3
    )
    assert answer.http_status == status
    verdict = webhook_outcome(answer.http_status, answer.body)
    assert (verdict.outcome, verdict.reason) == (expected, reason)
    assert (datetime.now(UTC) - started).total_seconds() < 1.5
    if status is None:
        assert answer.error
    assert receiver.webhook_messages == {}


async def test_a_wrong_token_and_a_receiver_that_is_down(
    session: ClientSession, receiver: FakeReceiver
) -> None:
    answer = await async_post_webhook(
        session, receiver.sessions_url, "not-the-token", _message()
    )
    assert webhook_outcome(answer.http_status, answer.body).outcome is Outcome.REAUTH
    assert receiver.webhook_posts == []
    receiver.down = True
    answer = await async_post_webhook(
        session, receiver.sessions_url, WEBHOOK_TOKEN, _message()
    )
    assert (answer.http_status, webhook_outcome(answer.http_status).outcome) == (
        503,
        Outcome.RETRY,
    )


async def test_nobody_listening_and_a_plain_http_receiver(
    session: ClientSession, unused_tcp_port: int
) -> None:
    answer = await async_post_webhook(
        session, f"http://127.0.0.1:{unused_tcp_port}/hook", WEBHOOK_TOKEN, _message()
    )
    assert answer.http_status is None
    assert answer.error
    assert webhook_outcome(answer.http_status).outcome is Outcome.RETRY
    with pytest.raises(ReceiverError) as err:
        await async_post_webhook(
            session, "http://employer.example.com/hook", WEBHOOK_TOKEN, _message()
        )
    assert err.value.code == "receiver_not_https"


async def test_a_redirect_is_not_followed(
    session: ClientSession, aiohttp_server: Server
) -> None:
    """The token never travels on to another URL."""
    seen: list[str] = []

    async def moved(request: web.Request) -> web.Response:
        seen.append(request.path)
        raise web.HTTPFound("/elsewhere")

    app = web.Application()
    app.router.add_post("/hook/sessions", moved)
    app.router.add_post("/elsewhere", moved)
    server = await aiohttp_server(app)
    message: dict[str, Any] = _message()
    answer = await async_post_webhook(
        session, str(server.make_url("/hook/sessions")), WEBHOOK_TOKEN, message
    )
    assert answer.http_status == 302
    assert webhook_outcome(answer.http_status).outcome is Outcome.RETRY
    assert seen == ["/hook/sessions"]
