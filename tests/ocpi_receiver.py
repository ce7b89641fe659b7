"""A fake OCPI 2.2.1 receiver (the employer's eMSP) on 127.0.0.1, with faults.

A real aiohttp server: versions, version details, credentials and cdrs
endpoints, the credentials handshake as credentials.asciidoc has it (the
receiver calls the sender's versions URL back with token B before it
answers), and every CDR checked with the spec's rules (``cdr_problems``).
``fault`` makes the CDRs endpoint answer 500, time out, answer garbage,
401 or 400 with OCPI 2001; ``down`` makes every endpoint answer 503.

The plain webhook (docs/receiver-openapi.yaml) is here too:
``POST /webhook/sessions`` and ``POST /webhook/statements`` with a bearer
token, each message kept by its id (a resend is answered 200, not kept
again). The same ``fault``, ``down`` and ``hang_s`` apply: "500", "timeout",
"garbage" (a 200 with an HTML body), "401", "400"/"422" (422 with a
message), "429" and "drop".

``faults`` is a queue of one-shot faults, one per CDR or webhook POST in
turn (None: that one goes well), taken before ``fault``: any of the above,
or "slow" (answered after ``slow_s``), "hang" (held ``hang_s``, then the
connection dropped, nothing kept) and "lost_ack" (kept, then the connection
dropped before the answer: the sender resends the same id).
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from aiohttp import ClientSession, web

from custom_components.homecharge.logic.reimbursement.ocpi_spec import cdr_problems

TOKEN_A = "token-a-0b1e7c"  # noqa: S105 - a test token
WEBHOOK_TOKEN = "webhook-token-5d2c9a"  # noqa: S105 - a test token
# The message types each webhook path takes.
WEBHOOK_TYPES = {
    "/webhook/sessions": ("session", "credit"),
    "/webhook/statements": ("statement",),
}


def _now() -> str:
    return "2026-01-01T00:00:00Z"


def envelope(data: Any = None, code: int = 1000, message: str = "") -> dict[str, Any]:
    """An OCPI response envelope."""
    body: dict[str, Any] = {"status_code": code, "timestamp": _now()}
    if data is not None:
        body["data"] = data
    if message:
        body["status_message"] = message
    return body


@dataclass
class FakeReceiver:
    """The eMSP's state, what it was sent, and how it misbehaves."""

    token_a: str = TOKEN_A
    token_c: str = "token-c-1"  # noqa: S105 - a test token
    token_b: str | None = None
    versions: list[str] = field(default_factory=lambda: ["2.1.1", "2.2.1"])
    with_cdrs: bool = True
    # None, "500", "timeout", "garbage", "401", "400", "drop".
    fault: str | None = None
    down: bool = False
    # Faults for the versions/details endpoints: "garbage", "401".
    config_fault: str | None = None
    hang_s: float = 5.0
    # One-shot faults, one per CDR or webhook POST in turn (see above).
    faults: list[str | None] = field(default_factory=list)
    slow_s: float = 2.0
    base: str = ""
    # Every CDR POST that reached the endpoint (id, headers), and those kept.
    posts: list[tuple[str, Mapping[str, str]]] = field(default_factory=list)
    cdrs: dict[str, dict[str, Any]] = field(default_factory=dict)
    order: list[str] = field(default_factory=list)
    # Each acceptance's CDR, in order (a resend after a lost answer too).
    accepted: list[dict[str, Any]] = field(default_factory=list)
    problems: list[list[str]] = field(default_factory=list)
    config_requests: list[tuple[str, Mapping[str, str]]] = field(default_factory=list)
    registered: dict[str, Any] | None = None
    # What our versions endpoint said when called back with token B.
    callback: dict[str, Any] | None = None
    callback_status: int | None = None
    webhook_token: str = WEBHOOK_TOKEN
    # Every webhook POST that reached a path (path, Idempotency-Key, headers),
    # the messages kept by id, and each acceptance in order.
    webhook_posts: list[tuple[str, str | None, Mapping[str, str]]] = field(
        default_factory=list
    )
    webhook_messages: dict[str, dict[str, Any]] = field(default_factory=dict)
    webhook_order: list[str] = field(default_factory=list)
    webhook_accepted: list[dict[str, Any]] = field(default_factory=list)
    # Checks a message (path, body): its problems make a 422.
    webhook_check: Callable[[str, Any], list[str]] | None = None

    @property
    def sessions_url(self) -> str:
        """Where session messages go."""
        return f"{self.base}/webhook/sessions"

    @property
    def statements_url(self) -> str:
        """Where statement messages go."""
        return f"{self.base}/webhook/statements"

    def app(self) -> web.Application:
        """The aiohttp application."""
        app = web.Application()
        app.router.add_get("/ocpi/versions", self._versions)
        app.router.add_get("/ocpi/2.2.1", self._details)
        app.router.add_post("/ocpi/2.2.1/credentials", self._credentials)
        app.router.add_put("/ocpi/2.2.1/credentials", self._credentials)
        app.router.add_post("/ocpi/2.2.1/cdrs", self._cdr)
        for path in WEBHOOK_TYPES:
            app.router.add_post(path, self._webhook)
        return app

    @property
    def versions_url(self) -> str:
        """Where the sender starts."""
        return f"{self.base}/ocpi/versions"

    def _token(self, request: web.Request) -> str | None:
        header = request.headers.get("Authorization", "")
        if not header.startswith("Token "):
            return None
        try:
            return base64.b64decode(header[6:], validate=True).decode()
        except ValueError:
            return None

    def _config_answer(self, request: web.Request) -> web.Response | None:
        self.config_requests.append((request.path, dict(request.headers)))
        if self.down:
            return web.Response(status=503, text="down")
        if self.config_fault == "401" or self._token(request) not in (
            self.token_a,
            self.token_c,
        ):
            return web.json_response(envelope(code=2000, message="who?"), status=401)
        if self.config_fault == "garbage":
            return web.Response(text="<html>hello</html>", content_type="text/html")
        return None

    async def _versions(self, request: web.Request) -> web.Response:
        if (fault := self._config_answer(request)) is not None:
            return fault
        return web.json_response(
            envelope(
                [{"version": v, "url": f"{self.base}/ocpi/{v}"} for v in self.versions]
            )
        )

    async def _details(self, request: web.Request) -> web.Response:
        if (fault := self._config_answer(request)) is not None:
            return fault
        endpoints = [
            {
                "identifier": "credentials",
                "role": "RECEIVER",
                "url": f"{self.base}/ocpi/2.2.1/credentials",
            },
            {
                "identifier": "cdrs",
                "role": "SENDER",
                "url": f"{self.base}/ocpi/2.2.1/pull-cdrs",
            },
        ]
        if self.with_cdrs:
            endpoints.append(
                {
                    "identifier": "cdrs",
                    "role": "RECEIVER",
                    "url": f"{self.base}/ocpi/2.2.1/cdrs",
                }
            )
        return web.json_response(envelope({"version": "2.2.1", "endpoints": endpoints}))

    async def _credentials(self, request: web.Request) -> web.Response:
        if (fault := self._config_answer(request)) is not None:
            return fault
        body = await request.json()
        self.registered = body
        self.token_b = body["token"]
        # credentials.asciidoc: the server fetches the client's endpoints
        # with token B; 3001 when it cannot.
        auth = {
            "Authorization": "Token "
            + base64.b64encode(body["token"].encode()).decode()
        }
        async with ClientSession() as session:
            async with session.get(body["url"], headers=auth) as versions:
                self.callback_status = versions.status
                self.callback = await versions.json()
            if versions.status != 200:
                return web.json_response(
                    envelope(code=3001, message="cannot reach you")
                )
            details_url = self.callback["data"][0]["url"]
            async with session.get(details_url, headers=auth) as details:
                self.callback["details"] = await details.json()
        if request.method == "PUT":
            self.token_c += "x"
        return web.json_response(
            envelope(
                {
                    "token": self.token_c,
                    "url": self.versions_url,
                    "roles": [
                        {
                            "role": "EMSP",
                            "party_id": "EMP",
                            "country_code": "NO",
                            "business_details": {"name": "Employer Fleet AS"},
                        }
                    ],
                }
            )
        )

    async def _cdr(self, request: web.Request) -> web.StreamResponse:
        if self.down:
            return web.Response(status=503, text="down")
        raw = await request.read()
        if self._token(request) != self.token_c or self.fault == "401":
            return web.json_response(
                envelope(code=2000, message="bad token"), status=401
            )
        cdr = await request.json()
        self.posts.append((cdr.get("id"), dict(request.headers)))
        fault = self._next_fault()
        if fault == "401":
            return web.json_response(
                envelope(code=2000, message="bad token"), status=401
            )
        if fault == "500":
            return web.Response(status=500, text="oops")
        if fault == "timeout":
            await asyncio.sleep(self.hang_s)
        if fault in ("slow", "hang"):
            await asyncio.sleep(self.slow_s if fault == "slow" else self.hang_s)
        if fault == "garbage":
            return web.Response(text="<html>OK</html>", content_type="text/html")
        if fault in ("drop", "hang"):
            return self._dropped(request)
        problems = cdr_problems(cdr)
        self.problems.append(problems)
        if problems or fault == "400":
            return web.json_response(
                envelope(code=2001, message="; ".join(problems) or "refused"),
                status=400,
            )
        assert raw
        # Every acceptance is kept: a CDR accepted twice shows in ``order``.
        self.cdrs[cdr["id"]] = cdr
        self.order.append(cdr["id"])
        self.accepted.append(cdr)
        if fault == "lost_ack":
            return self._dropped(request)
        return web.json_response(
            envelope(),
            status=201,
            headers={"Location": f"{self.base}/ocpi/2.2.1/cdrs/{cdr['id']}"},
        )

    async def _webhook(self, request: web.Request) -> web.StreamResponse:
        if self.down:
            return web.Response(status=503, text="down")
        if (
            request.headers.get("Authorization") != f"Bearer {self.webhook_token}"
            or self.fault == "401"
        ):
            return web.json_response({"message": "bad token"}, status=401)
        key = request.headers.get("Idempotency-Key")
        self.webhook_posts.append((request.path, key, dict(request.headers)))
        fault = self._next_fault()
        if fault == "401":
            return web.json_response({"message": "bad token"}, status=401)
        if fault == "500":
            return web.Response(status=500, text="oops")
        if fault == "429":
            return web.json_response(
                {"message": "slow down"}, status=429, headers={"Retry-After": "60"}
            )
        if fault == "timeout":
            await asyncio.sleep(self.hang_s)
        if fault in ("slow", "hang"):
            await asyncio.sleep(self.slow_s if fault == "slow" else self.hang_s)
        if fault in ("drop", "hang"):
            return self._dropped(request)
        if fault in ("400", "422"):
            return web.json_response(
                {"message": "unknown driver for this reimbursement"}, status=422
            )
        try:
            message = await request.json()
        except ValueError:
            return web.json_response({"message": "not JSON"}, status=400)
        problems = self._webhook_problems(request.path, key, message)
        if problems:
            return web.json_response({"message": "; ".join(problems)}, status=422)
        if fault == "garbage":
            # A 2xx is delivered whatever its body says.
            return web.Response(text="<html>OK</html>", content_type="text/html")
        again = message["id"] in self.webhook_messages
        self.webhook_messages[message["id"]] = message
        self.webhook_order.append(message["id"])
        self.webhook_accepted.append(message)
        if fault == "lost_ack":
            return self._dropped(request)
        return web.json_response(
            {"id": message["id"], "duplicate": again}, status=200 if again else 201
        )

    def _next_fault(self) -> str | None:
        """This POST's fault: the next one-shot fault, else ``fault``."""
        return self.faults.pop(0) if self.faults else self.fault

    @staticmethod
    def _dropped(request: web.Request) -> web.Response:
        """The connection closed before any answer."""
        assert request.transport is not None
        request.transport.close()
        return web.Response()

    def _webhook_problems(self, path: str, key: str | None, message: Any) -> list[str]:
        if not isinstance(message, dict) or not isinstance(message.get("id"), str):
            return ["not a message with an id"]
        problems = []
        if message["id"] != key:
            problems.append("Idempotency-Key is not the message id")
        if message.get("type") not in WEBHOOK_TYPES[path]:
            problems.append(f"type {message.get('type')!r} does not belong here")
        if self.webhook_check is not None:
            problems += self.webhook_check(path, message)
        return problems
