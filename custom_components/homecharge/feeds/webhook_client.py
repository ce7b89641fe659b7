"""The plain HTTPS webhook: one POST of one message, the raw answer back.

The receiver's contract is ``docs/receiver-openapi.yaml``: JSON bodies
(``logic/reimbursement/webhook``), ``Authorization: Bearer <token>``, and
an ``Idempotency-Key`` header with the message's id so a resend after a lost
answer is recognised. An adapter: it decides nothing about the answer —
``webhook.webhook_outcome`` does — and never raises for the network.
"""

from __future__ import annotations

from collections.abc import Mapping
import json
from typing import Any, Final

import aiohttp

from .ocpi_client import (
    REQUEST_TIMEOUT_S,
    Answer,
    async_post_answer,
    check_receiver_url,
)

JSON: Final = "application/json"


async def async_post_webhook(
    session: aiohttp.ClientSession,
    url: str,
    token: str,
    body: Mapping[str, Any] | str,
    *,
    content_type: str = JSON,
    idempotency_key: str | None = None,
    request_timeout: float = REQUEST_TIMEOUT_S,
) -> Answer:
    """POST one message to the receiver; its raw answer.

    ``body`` is a message (sent as JSON, its ``id`` the idempotency key) or
    text of ``content_type`` with ``idempotency_key`` given. A URL that is
    not https (plain http only to a loopback host) raises ``ReceiverError``
    before anything is sent; a timeout or a dropped connection is an
    ``Answer`` without status.
    """
    check_receiver_url(url)
    if idempotency_key is None and isinstance(body, Mapping):
        idempotency_key = str(body.get("id") or "") or None
    if idempotency_key is None:
        raise ValueError("a webhook message needs its id as the idempotency key")
    data = (
        body
        if isinstance(body, str)
        else json.dumps(body, separators=(",", ":"), ensure_ascii=False)
    )
    headers = {
        "Authorization": f"Bearer {token}",
        # JSON is UTF-8 (RFC 8259); a text body names its charset itself.
        "Content-Type": content_type,
        "Idempotency-Key": idempotency_key,
    }
    return await async_post_answer(
        session, url, data.encode("utf-8"), headers, request_timeout
    )
