"""
The demo receiver of scripts/develop: an employer's OCPI 2.2.1 backend.

scripts/develop starts it before Home Assistant and stops it with it:

    python -m dev.demo_receiver --port 18840 --dir CONFIG_DIR

On 127.0.0.1 only (a receiver on a loopback host may be plain http). It is
the tests' fake eMSP (tests/ocpi_receiver.py's ``FakeReceiver``: versions,
version details, credentials and cdrs endpoints; the credentials handshake,
calling Home Assistant's versions URL back with token B; every CDR checked
against OCPI 2.2.1's rules, refused with 2001 when it breaks one) with token
A ``dev/demo_reimbursement.py``'s ``TOKEN_A``, which the demo place's
reimbursement "Demo Driver" registers with at every start. Besides:

- each CDR it is sent, accepted or refused, is logged on stdout (which
  scripts/develop writes to CONFIG_DIR/demo_receiver.log): its id, session,
  kWh and amount; and kept in CONFIG_DIR/demo_receiver_cdrs.jsonl;
- ``GET /`` is a read-only page (refreshing itself) of the registration and
  of the CDRs received, newest first, those of earlier runs too;
  ``GET /cdrs.json`` says the same as JSON.

It runs until Ctrl-C / SIGTERM and keeps no other state between runs:
scripts/develop drops Home Assistant's registration at every start, so
Home Assistant registers anew with the receiver of that run.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from html import escape
import json
import logging
import os
from pathlib import Path
import sys
from typing import Any, Final

from aiohttp import ClientError, web

REPO: Final = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from dev.demo_reimbursement import TOKEN_A  # noqa: E402
from tests.ocpi_receiver import FakeReceiver, envelope  # noqa: E402

_LOGGER = logging.getLogger("demo_receiver")

DEFAULT_PORT: Final = 18840
RECORD_FILE: Final = "demo_receiver_cdrs.jsonl"
# The token the demo receiver gives Home Assistant at the handshake (token C).
TOKEN_C: Final = "demo-token-c-employer"  # noqa: S105 - a development value
REFRESH_S: Final = 10


def _now() -> str:
    return datetime.now(UTC).astimezone().isoformat(timespec="seconds")


def _amount(value: Any) -> str:
    return "?" if value is None else f"{float(value):.2f}"


def record_of(
    cdr: dict[str, Any], *, accepted: bool, problems: list[str]
) -> dict[str, Any]:
    """What the page and the log show of a CDR."""
    cost = cdr.get("total_cost") or {}
    location = cdr.get("cdr_location") or {}
    return {
        "received": _now(),
        "id": cdr.get("id"),
        "session_id": cdr.get("session_id"),
        "charger": location.get("evse_uid"),
        "start": cdr.get("start_date_time"),
        "end": cdr.get("end_date_time"),
        "kwh": cdr.get("total_energy"),
        "currency": cdr.get("currency"),
        "incl_vat": cost.get("incl_vat"),
        "excl_vat": cost.get("excl_vat"),
        "credit": bool(cdr.get("credit")),
        "accepted": accepted,
        "problems": problems,
    }


def _describe(record: dict[str, Any]) -> str:
    kind = "credit CDR" if record["credit"] else "CDR"
    verdict = (
        "accepted"
        if record["accepted"]
        else "refused (" + "; ".join(record["problems"]) + ")"
    )
    return (
        f"{kind} {record['id']} {verdict}: session {record['session_id']}, "
        f"charger {record['charger']}, {record['kwh']} kWh, "
        f"{_amount(record['incl_vat'])} {record['currency']} incl. VAT "
        f"({_amount(record['excl_vat'])} excl.)"
    )


@dataclass
class DemoReceiver(FakeReceiver):
    """The fake eMSP, which logs and shows what it is sent."""

    record_file: Path | None = None
    received: list[dict[str, Any]] = field(default_factory=list)
    registered_at: str | None = None

    def app(self) -> web.Application:
        """The OCPI (and webhook) endpoints, the page and its JSON."""
        app = super().app()
        app.router.add_get("/", self._page)
        app.router.add_get("/cdrs.json", self._json)
        return app

    def load(self) -> None:
        """The CDRs of earlier runs."""
        if self.record_file is None or not self.record_file.exists():
            return
        for line in self.record_file.read_text().splitlines():
            try:
                self.received.append(json.loads(line))
            except ValueError:
                continue

    def _keep(self, record: dict[str, Any]) -> None:
        self.received.append(record)
        if self.record_file is not None:
            with self.record_file.open("a") as file:
                file.write(json.dumps(record) + "\n")
        _LOGGER.info("%s", _describe(record))

    async def _credentials(self, request: web.Request) -> web.Response:
        try:
            response = await super()._credentials(request)
        except ClientError as err:
            _LOGGER.warning("Cannot call Home Assistant's versions URL back: %s", err)
            return web.json_response(envelope(code=3001, message="cannot reach you"))
        answer = json.loads(response.text or "{}")
        if response.status == 200 and answer.get("status_code") == 1000:
            self.registered_at = _now()
            _LOGGER.info(
                "Registered %s (%s): Home Assistant's versions URL %s answered %s",
                self._sender_name(),
                request.method,
                (self.registered or {}).get("url"),
                self.callback_status,
            )
        else:
            _LOGGER.warning(
                "Registration refused: HTTP %s, %s", response.status, response.text
            )
        return response

    def _sender_name(self) -> str:
        roles = (self.registered or {}).get("roles") or [{}]
        return str(roles[0].get("business_details", {}).get("name", "?"))

    async def _cdr(self, request: web.Request) -> web.StreamResponse:
        response = await super()._cdr(request)
        if response.status not in (201, 400):
            _LOGGER.warning("A CDR POST answered HTTP %s", response.status)
            return response
        try:
            cdr = await request.json()
        except ValueError:
            return response
        accepted = response.status == 201
        problems = [] if accepted or not self.problems else self.problems[-1]
        self._keep(record_of(cdr, accepted=accepted, problems=problems))
        return response

    def status(self) -> dict[str, Any]:
        """The registration and the CDRs received, oldest first."""
        return {
            "versions_url": self.versions_url,
            "registered": self.registered_at is not None,
            "registered_at": self.registered_at,
            "sender": self._sender_name() if self.registered else None,
            "sender_versions_url": (self.registered or {}).get("url"),
            "cdrs": self.received,
        }

    async def _json(self, _request: web.Request) -> web.Response:
        return web.json_response(self.status())

    async def _page(self, _request: web.Request) -> web.Response:
        return web.Response(text=self.page(), content_type="text/html")

    def page(self) -> str:
        """The page: the registration, then the CDRs, newest first."""
        status = self.status()
        if status["registered"]:
            registration = (
                f"Registered at {escape(status['registered_at'])} by "
                f"<b>{escape(status['sender'])}</b> (its versions URL: "
                f"{escape(str(status['sender_versions_url']))})."
            )
        else:
            registration = (
                "Not registered yet: Home Assistant registers when the demo "
                "place starts (its reimbursement Demo Driver, token A "
                f"<code>{escape(self.token_a)}</code>)."
            )
        rows = "".join(
            "<tr>"
            + "".join(
                f"<td>{escape(str(value))}</td>"
                for value in (
                    record["received"],
                    record["id"],
                    record["session_id"],
                    record["charger"],
                    record["start"],
                    record["end"],
                    record["kwh"],
                    f"{_amount(record['incl_vat'])} {record['currency']}",
                    f"{_amount(record['excl_vat'])} {record['currency']}",
                    ("credit, " if record["credit"] else "")
                    + (
                        "accepted"
                        if record["accepted"]
                        else "refused: " + "; ".join(record["problems"])
                    ),
                )
            )
            + "</tr>"
            for record in reversed(status["cdrs"])
        )
        table = (
            "<table><tr><th>Received</th><th>CDR</th><th>Session</th>"
            "<th>Charger</th><th>Start</th><th>End</th><th>kWh</th>"
            "<th>Incl. VAT</th><th>Excl. VAT</th><th>Status</th></tr>"
            f"{rows}</table>"
            if rows
            else "<p>No CDRs yet. Classify a finished session of the Driveway "
            "as business (its Last session select, or homecharge.classify_session)."
            "</p>"
        )
        return (
            "<!doctype html><html><head><meta charset='utf-8'>"
            f"<meta http-equiv='refresh' content='{REFRESH_S}'>"
            "<title>homecharge demo receiver</title><style>"
            "body{font-family:sans-serif;margin:2em}"
            "table{border-collapse:collapse}"
            "td,th{border:1px solid #ccc;padding:4px 8px;font-size:90%}"
            "</style></head><body>"
            "<h1>homecharge demo receiver</h1>"
            "<p>An employer's OCPI 2.2.1 backend (eMSP) for the demo place: "
            f"versions URL <code>{escape(self.versions_url)}</code>.</p>"
            f"<p>{registration}</p><h2>CDRs received</h2>{table}"
            "</body></html>"
        )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m dev.demo_receiver",
        description="The demo's OCPI receiver on 127.0.0.1; runs until Ctrl-C / SIGTERM.",
    )
    parser.add_argument(
        "--port",
        type=int,
        default=int(os.environ.get("HOMECHARGE_DEV_RECEIVER_PORT", DEFAULT_PORT)),
    )
    parser.add_argument(
        "--dir",
        type=Path,
        default=Path(os.environ.get("HOMECHARGE_DEV_DIR", REPO / ".dev" / "config")),
        help="where the CDRs received are kept (the development config)",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Serve until Ctrl-C / SIGTERM."""
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO,
        format="%(asctime)s %(levelname)s %(message)s",
        stream=sys.stdout,
    )
    base = f"http://127.0.0.1:{args.port}"
    args.dir.mkdir(parents=True, exist_ok=True)
    receiver = DemoReceiver(
        token_a=TOKEN_A, token_c=TOKEN_C, base=base, record_file=args.dir / RECORD_FILE
    )
    receiver.load()
    _LOGGER.info(
        "Demo receiver on %s/ (versions URL %s, token A %s)",
        base,
        receiver.versions_url,
        TOKEN_A,
    )
    web.run_app(
        receiver.app(), host="127.0.0.1", port=args.port, print=None, access_log=None
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
