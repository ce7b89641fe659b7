"""A business session and a monthly statement as plain HTTPS webhook messages.

For an employer without OCPI: homecharge POSTs JSON to the receiver's URL
with ``Authorization: Bearer <token>`` (``feeds/webhook_client``). The
contract a receiver implements is ``docs/receiver-openapi.yaml``; these are
its two messages:

- a **session message** per business session once it ended (``type``
  "session"): its times in UTC, charger, energy, one row per 15-minute slot
  (its energy, price per kWh and cost), the tariff in force on the session's
  local start date and the total — the same figures as the CDR and the
  statement line (``priced.priced_slots``, ``tariff.session_cost``). A
  session withdrawn (made personal) after it was sent gets a **credit**
  message (``type`` "credit"): the same message with the id suffixed "-C",
  ``credit_reference_id`` naming the original, the costs negated. A session
  made business again after a credit is a new revision with a new id. The
  ids are derived from the session, so a resend after a lost answer is the
  same message; the ``Idempotency-Key`` header repeats the id.
- a **statement message** per month: JSON with the totals and the
  statement's CSV embedded as text (one content type and one schema for
  both messages; the CSV stays the very bytes the driver gets, and the
  totals need no CSV parsing). Its id is derived from the month and the
  CSV's content: the same statement resent has the same id.

What an answer means (``webhook_outcome``): any 2xx is delivered (no body
needed); 401/403 stop sending until the user gives a new token; 408, 429,
5xx and no answer are retried; any other 4xx refuses the message itself.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
import copy
from datetime import datetime, tzinfo
from decimal import Decimal
import hashlib
import json
from typing import Any, Final

from ..sessions.model import Classification, Session
from .ocpi_cdr import CREDIT_SUFFIX, CdrError, payable_cost
from .outbox import Outcome, Verdict
from .priced import digest, priced_slots, utc_text
from .statement import Statement, statement_csv
from .tariff import Tariff

MESSAGE_VERSION: Final = 1
SESSION: Final = "session"
CREDIT: Final = "credit"
STATEMENT: Final = "statement"
# Where each message goes under the base URL the driver gave.
SESSIONS_PATH: Final = "/sessions"
STATEMENTS_PATH: Final = "/statements"
# A receiver's own words shown to the user, at most this long.
MAX_REASON: Final = 120
_RETRY_4XX: Final = frozenset({408, 429})
_REASON_KEYS: Final = ("message", "error", "detail", "title", "status_message")


class MessageError(CdrError):
    """A session that cannot be a message (yet): caught as a CdrError is."""


def _money(amount: Decimal) -> float:
    return float(amount)


def _kwh(wh: int) -> float:
    return float(Decimal(wh) / 1000)


def message_id(reimbursement_id: str, session: Session, revision: int = 0) -> str:
    """The session's message id (32 characters): the same for every resend."""
    return digest(
        "webhook",
        reimbursement_id,
        session.charger,
        session.transaction_id,
        utc_text(session.started),
        revision,
    )


def webhook_url(base: str, message: Mapping[str, Any]) -> str:
    """Where a message goes: ``{base}/sessions`` or ``{base}/statements``."""
    kind = message.get("type")
    if kind in (SESSION, CREDIT):
        path = SESSIONS_PATH
    elif kind == STATEMENT:
        path = STATEMENTS_PATH
    else:
        raise ValueError(f"not a message type: {kind!r}")
    return base.rstrip("/") + path


def _tariff(tariff: Tariff) -> dict[str, Any]:
    return {
        "name": tariff.name,
        "basis": tariff.basis.value,
        "effective_from": tariff.effective_from.isoformat(),
        "currency": tariff.currency,
        "unit_rate": None if tariff.unit_rate is None else _money(tariff.unit_rate),
        "vat_percent": float(tariff.vat_percent),
        "supplier": tariff.supplier,
    }


def session_message(
    session: Session,
    *,
    tariffs: Iterable[Tariff],
    zone: tzinfo,
    now: datetime,
    revision: int = 0,
    reimbursement_id: str,
    driver_name: str,
    vehicle: str | None = None,
    credit: bool = False,
) -> dict[str, Any]:
    """The session's webhook message, JSON-ready; ``credit``: its credit.

    A MessageError if the session has not ended or its cost is missing
    (a slot without a price, or no tariff in force).
    """
    cost = payable_cost(session, tariffs, zone, MessageError)
    tariff, stopped = cost.tariff, cost.stopped
    message: dict[str, Any] = {
        "version": MESSAGE_VERSION,
        "id": message_id(reimbursement_id, session, revision),
        "type": SESSION,
        "revision": revision,
        "reimbursement_id": reimbursement_id,
        "driver_name": driver_name,
        "vehicle": vehicle,
        "charger_id": session.charger,
        "connector_id": session.connector,
        "transaction_id": session.transaction_id,
        "start": utc_text(session.started),
        "end": utc_text(stopped),
        "energy_kwh": _kwh(cost.wh),
        "energy_wh": cost.wh,
        "classification": Classification.BUSINESS.value,
        "tariff": _tariff(tariff),
        "slots": [
            {
                "start": utc_text(row.start),
                "energy_kwh": _kwh(row.wh),
                "energy_wh": row.wh,
                "price_per_kwh": None if row.rate is None else _money(row.rate),
                "cost": _money(row.cost),
            }
            for row in priced_slots(session, tariff)
        ],
        "currency": tariff.currency,
        "total_cost": {
            "excl_vat": _money(cost.amount_excl_vat),
            "incl_vat": _money(cost.amount),
        },
        "created": utc_text(now),
    }
    return credit_message(message, now=now) if credit else message


def credit_message(original: Mapping[str, Any], *, now: datetime) -> dict[str, Any]:
    """The credit for a session message sent: the same, its costs negated."""
    if original.get("type") != SESSION:
        raise MessageError("only a session message is credited")
    credit = copy.deepcopy(dict(original))
    credit["id"] = original["id"] + CREDIT_SUFFIX
    credit["type"] = CREDIT
    credit["credit_reference_id"] = original["id"]
    credit["classification"] = Classification.PERSONAL.value
    for row in credit["slots"]:
        row["cost"] = -row["cost"] or 0.0
    credit["total_cost"] = {
        name: -value or 0.0 for name, value in original["total_cost"].items()
    }
    credit["created"] = utc_text(now)
    return credit


def statement_message(
    statement: Statement,
    *,
    zone: tzinfo,
    reimbursement_id: str,
    now: datetime,
) -> dict[str, Any]:
    """The month's statement as a webhook message: totals and the CSV in it."""
    csv = statement_csv(statement, zone)
    month = str(statement.month)
    return {
        "version": MESSAGE_VERSION,
        "id": digest(
            STATEMENT, reimbursement_id, month, hashlib.sha256(csv).hexdigest()
        ),
        "type": STATEMENT,
        "reimbursement_id": reimbursement_id,
        "driver_name": statement.driver,
        "month": month,
        "period_start": utc_text(statement.month.start(zone)),
        "period_end": utc_text(statement.month.end(zone)),
        "currency": statement.currency,
        "sessions": len(statement.lines),
        "corrections": len(statement.corrections),
        "pending": len(statement.pending),
        "energy_kwh": _kwh(statement.total_wh),
        "energy_wh": statement.total_wh,
        "total_amount": _money(statement.total_amount),
        "complete": statement.complete,
        "csv_name": f"statement_{month}.csv",
        "csv": csv.decode("utf-8"),
        "created": utc_text(now),
    }


def _said(body: bytes | str | None) -> str:
    """The receiver's message in an answer, short and on one line ("" if none)."""
    if not body:
        return ""
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    try:
        found: Any = json.loads(text)
    except ValueError:
        found = text
    if isinstance(found, Mapping):
        found = next(
            (found[key] for key in _REASON_KEYS if isinstance(found.get(key), str)),
            "",
        )
    if not isinstance(found, str) or found.lstrip().startswith("<"):
        # A number, a list, or a proxy's HTML page: nothing to show.
        return ""
    said = " ".join("".join(c if c.isprintable() else " " for c in found).split())
    if len(said) > MAX_REASON:
        said = said[: MAX_REASON - 1].rstrip() + "…"
    return said


def webhook_outcome(
    http_status: int | None, body: bytes | str | None = None
) -> Verdict:
    """What a webhook answer means; ``http_status`` None: no answer came."""
    if http_status is None:
        return Verdict(Outcome.RETRY, "no answer")
    if 200 <= http_status < 300:
        return Verdict(Outcome.DELIVERED)
    if http_status in (401, 403):
        return Verdict(Outcome.REAUTH, f"HTTP {http_status}")
    if 400 <= http_status < 500 and http_status not in _RETRY_4XX:
        said = _said(body)
        return Verdict(
            Outcome.REJECTED, f"HTTP {http_status}" + (f" ({said})" if said else "")
        )
    # 408, 429, 5xx; a redirect (never followed) or a 1xx as well.
    return Verdict(Outcome.RETRY, f"HTTP {http_status}")
