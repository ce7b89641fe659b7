"""Screenshots of the demo place's dashboard, in English and Norwegian.

Run by ``scripts/screenshots`` with a Python that has Playwright; drives a
headless Chromium (Debian's, ``HOMECHARGE_CHROMIUM``) against a running
``scripts/develop``: logs in as the dev user, runs
``homecharge.create_dashboard`` for the demo place in each language (Home
Assistant's language names the dashboard's titles; the user's profile
language the frontend's words), opens the dashboard and saves
``docs/images/dashboard-<lang>.png``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
from pathlib import Path
import sys
from typing import Any
import urllib.parse
import urllib.request

import aiohttp
from playwright.async_api import async_playwright

ROOT = Path(__file__).resolve().parent.parent
LANGUAGES = ("en", "nb")


def _request(
    url: str, data: dict[str, Any] | None = None, *, form: bool = False
) -> Any:
    body = None
    headers = {}
    if data is not None:
        if form:
            body = urllib.parse.urlencode(data).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        else:
            body = json.dumps(data).encode()
            headers["Content-Type"] = "application/json"
    request = urllib.request.Request(url, data=body, headers=headers)  # noqa: S310
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        return json.loads(response.read())


def _login(base: str, username: str, password: str) -> str:
    """A token, by the frontend's login flow."""
    client_id = f"{base}/"
    flow = _request(
        f"{base}/auth/login_flow",
        {
            "client_id": client_id,
            "handler": ["homeassistant", None],
            "redirect_uri": client_id,
        },
    )
    result = _request(
        f"{base}/auth/login_flow/{flow['flow_id']}",
        {"client_id": client_id, "username": username, "password": password},
    )
    tokens = _request(
        f"{base}/auth/token",
        {
            "grant_type": "authorization_code",
            "code": result["result"],
            "client_id": client_id,
        },
        form=True,
    )
    return str(tokens["access_token"])


async def _commands(base: str, token: str, *commands: dict[str, Any]) -> list[Any]:
    """Websocket commands in turn, as the frontend sends them; their results."""
    results = []
    async with (
        aiohttp.ClientSession() as client,
        client.ws_connect(f"{base.replace('http', 'ws', 1)}/api/websocket") as ws,
    ):
        await ws.receive_json()
        await ws.send_json({"type": "auth", "access_token": token})
        if (await ws.receive_json())["type"] != "auth_ok":
            raise RuntimeError("the dev user's token was refused")
        for number, command in enumerate(commands, start=1):
            await ws.send_json({"id": number, **command})
            while (answer := await ws.receive_json()).get("id") != number:
                pass
            if not answer.get("success", True):
                raise RuntimeError(f"{command['type']}: {answer.get('error')}")
            results.append(answer.get("result"))
    return results


async def _log_in(page: Any, base: str) -> None:
    """The login form as a user fills it; done when the app is shown."""
    await page.goto(f"{base}/")
    await page.get_by_label("Username").fill("dev")
    await page.get_by_label("Password", exact=True).fill("homecharge")
    await page.get_by_role("button", name="Log in").click()
    await page.wait_for_selector("home-assistant-main")


async def shoot(base: str, chromium: str, out: Path, width: int, height: int) -> None:
    """One screenshot per language."""
    token = _login(base, "dev", "homecharge")
    (entries,) = await _commands(
        base, token, {"type": "config_entries/get", "domain": "homecharge"}
    )
    place = next(entry for entry in entries if entry["state"] == "loaded")
    out.mkdir(parents=True, exist_ok=True)
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=chromium, args=["--no-sandbox"]
        )
        for language in LANGUAGES:
            await _commands(
                base,
                token,
                {"type": "config/core/update", "language": language},
                {
                    "type": "frontend/set_user_data",
                    "key": "language",
                    "value": {"language": language, "number_format": "language"},
                },
                # Entities are named in Home Assistant's language when set up.
                {
                    "type": "call_service",
                    "domain": "homeassistant",
                    "service": "reload_config_entry",
                    "service_data": {"entry_id": place["entry_id"]},
                },
            )
            await asyncio.sleep(10)
            (response,) = await _commands(
                base,
                token,
                {
                    "type": "execute_script",
                    "sequence": [
                        {
                            "action": "homecharge.create_dashboard",
                            "data": {"config_entry_id": place["entry_id"]},
                            "response_variable": "made",
                        },
                        {"stop": "done", "response_variable": "made"},
                    ],
                },
            )
            url_path = response["response"]["url_path"]
            page = await browser.new_page(viewport={"width": width, "height": height})
            await _log_in(page, base)
            await page.goto(f"{base}/{url_path}/charging")
            await page.wait_for_selector("hui-tile-card")
            # The cards draw their graphs after the states arrive.
            await page.wait_for_timeout(6000)
            path = out / f"dashboard-{language}.png"
            await page.screenshot(path=str(path), full_page=True)
            await page.close()
            sys.stdout.write(f"wrote {path}\n")
        await browser.close()
    await _commands(
        base,
        token,
        {"type": "config/core/update", "language": "en"},
        {
            "type": "call_service",
            "domain": "homeassistant",
            "service": "reload_config_entry",
            "service_data": {"entry_id": place["entry_id"]},
        },
    )


def main() -> None:
    """Parse the arguments and shoot."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", default="http://127.0.0.1:8123")
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "images")
    parser.add_argument("--width", type=int, default=1400)
    parser.add_argument("--height", type=int, default=900)
    args = parser.parse_args()
    asyncio.run(shoot(args.url, args.chromium, args.out, args.width, args.height))


if __name__ == "__main__":
    main()
