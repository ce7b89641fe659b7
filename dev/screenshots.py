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
from pathlib import Path
import sys
from typing import Any

from playwright.async_api import async_playwright

from .ha_client import commands, login

ROOT = Path(__file__).resolve().parent.parent
LANGUAGES = ("en", "nb")


async def _log_in(page: Any, base: str) -> None:
    """The login form as a user fills it; done when the app is shown."""
    await page.goto(f"{base}/")
    await page.get_by_label("Username").fill("dev")
    await page.get_by_label("Password", exact=True).fill("homecharge")
    await page.get_by_role("button", name="Log in").click()
    await page.wait_for_selector("home-assistant-main")


async def shoot(base: str, chromium: str, out: Path, width: int, height: int) -> None:
    """One screenshot per language."""
    token = login(base, "dev", "homecharge")
    (entries,) = await commands(
        base, token, {"type": "config_entries/get", "domain": "homecharge"}
    )
    place = next(entry for entry in entries if entry["state"] == "loaded")
    out.mkdir(parents=True, exist_ok=True)
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=chromium, args=["--no-sandbox"]
        )
        for language in LANGUAGES:
            await commands(
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
            (response,) = await commands(
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
    await commands(
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
