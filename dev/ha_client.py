"""A development Home Assistant, spoken to as the frontend does.

Shared by ``scripts/screenshots`` and the develop tests: HTTP requests, the
login flow, and websocket commands.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode
import urllib.request

import aiohttp


def request(
    url: str, data: Any = None, token: str | None = None, form: bool = False
) -> Any:
    """GET (no data) or POST JSON (or a form); the JSON answer."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    body = None
    if data is not None:
        if form:
            body = urlencode(data).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        else:
            body = json.dumps(data).encode()
            headers["Content-Type"] = "application/json"
    sent = urllib.request.Request(url, data=body, headers=headers)  # noqa: S310
    with urllib.request.urlopen(sent, timeout=10) as response:  # noqa: S310
        return json.loads(response.read())


def login(base: str, username: str, password: str) -> str:
    """Log in the way the frontend does: login flow, then the token endpoint."""
    client_id = f"{base}/"
    flow = request(
        f"{base}/auth/login_flow",
        {
            "client_id": client_id,
            "handler": ["homeassistant", None],
            "redirect_uri": client_id,
        },
    )
    result = request(
        f"{base}/auth/login_flow/{flow['flow_id']}",
        {"client_id": client_id, "username": username, "password": password},
    )
    if result["type"] != "create_entry":
        raise RuntimeError(f"login refused: {result}")
    tokens = request(
        f"{base}/auth/token",
        {
            "grant_type": "authorization_code",
            "code": result["result"],
            "client_id": client_id,
        },
        form=True,
    )
    return str(tokens["access_token"])


async def commands(base: str, token: str, *sent: dict[str, Any]) -> list[Any]:
    """Websocket commands in turn, as the frontend sends them; their results."""
    results = []
    async with (
        aiohttp.ClientSession() as client,
        client.ws_connect(f"{base.replace('http', 'ws', 1)}/api/websocket") as ws,
    ):
        await ws.receive_json()  # auth_required
        await ws.send_json({"type": "auth", "access_token": token})
        if (await ws.receive_json())["type"] != "auth_ok":
            raise RuntimeError("the token was refused")
        for number, command in enumerate(sent, start=1):
            await ws.send_json({"id": number, **command})
            while (answer := await ws.receive_json()).get("id") != number:
                pass
            if not answer.get("success", True):
                raise RuntimeError(f"{command['type']}: {answer.get('error')}")
            results.append(answer.get("result"))
    return results
