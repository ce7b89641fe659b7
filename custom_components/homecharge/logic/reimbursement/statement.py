"""A driver's monthly statement: the business sessions to be paid back.

A statement covers the business sessions *started* in its month in the
place's zone (a session is never split between two statements), each
costed under the tariff in force when it started. Changes to a month whose
statement is made come as corrections on a later statement, listed apart:
a session added late is paid, one withdrawn is credited (a negative
amount). A line whose cost is missing shows no amount and says so; the
total then counts the known amounts and is marked incomplete.

The CSV is for a person and a spreadsheet alike: UTF-8, a header row, dot
decimals, local times in ISO 8601 with their offset, one line per session
and a last line with the totals. The same input gives the same bytes.
"""

from __future__ import annotations

from collections.abc import Iterable
import csv
from dataclasses import dataclass
from datetime import datetime, tzinfo
from decimal import Decimal
import io
from typing import Final

from ..sessions.model import Classification, Session
from .month import Month
from .rules import ChangeKind
from .tariff import Tariff, session_cost

COLUMNS: Final = (
    "line",
    "month",
    "charger",
    "transaction_id",
    "started",
    "stopped",
    "energy_kwh",
    "tariff",
    "currency",
    "amount",
    "cost_status",
)


@dataclass(frozen=True, slots=True)
class Correction:
    """A session whose classification changed after its month was locked."""

    session: Session
    kind: ChangeKind


@dataclass(frozen=True, kw_only=True, slots=True)
class StatementLine:
    """One session on a statement (or a correction of an earlier month's)."""

    kind: str
    month: Month
    charger: str
    transaction_id: str
    started: datetime
    stopped: datetime | None
    wh: int
    tariff: str | None
    currency: str | None
    # VAT included; negative for a credit; None when missing.
    amount: Decimal | None


@dataclass(frozen=True, kw_only=True, slots=True)
class Statement:
    """A month's statement for one driver."""

    month: Month
    driver: str
    currency: str | None
    lines: tuple[StatementLine, ...]
    corrections: tuple[StatementLine, ...]
    # Business sessions of the month still running: not on it yet.
    pending: tuple[tuple[str, str], ...]

    @property
    def total_wh(self) -> int:
        """The energy of the month's lines and the corrections (credits less)."""
        return sum(
            -line.wh if line.kind == ChangeKind.CORRECTION_CREDIT else line.wh
            for line in self.lines + self.corrections
        )

    @property
    def total_amount(self) -> Decimal:
        """The known amounts added up."""
        return sum(
            (
                line.amount
                for line in self.lines + self.corrections
                if line.amount is not None
            ),
            Decimal("0.00"),
        )

    @property
    def complete(self) -> bool:
        """Every line has its amount."""
        return all(line.amount is not None for line in self.lines + self.corrections)


def _line(
    session: Session, kind: str, tariffs: Iterable[Tariff], zone: tzinfo
) -> StatementLine:
    cost = session_cost(session, tariffs, zone)
    amount = cost.amount
    if amount is not None and kind == ChangeKind.CORRECTION_CREDIT:
        amount = -amount
    return StatementLine(
        kind=kind,
        month=Month.of(session.started, zone),
        charger=session.charger,
        transaction_id=session.transaction_id,
        started=session.started,
        stopped=session.stopped,
        wh=cost.wh,
        tariff=cost.tariff.name if cost.tariff else None,
        currency=cost.tariff.currency if cost.tariff else None,
        amount=amount,
    )


def _order(line: StatementLine) -> tuple[datetime, str, str]:
    return (line.started, line.charger, line.transaction_id)


def build_statement(
    month: Month,
    driver: str,
    sessions: Iterable[Session],
    tariffs: Iterable[Tariff],
    zone: tzinfo,
    corrections: Iterable[Correction] = (),
) -> Statement:
    """The month's statement from the driver's sessions and corrections.

    ``sessions`` are the driver's (the chargers and vehicle his
    reimbursement covers); ``corrections`` those not on a statement yet.
    A ValueError if the lines are in more than one currency.
    """
    tariffs = tuple(tariffs)
    lines, pending = [], []
    for session in sessions:
        if session.classification is not Classification.BUSINESS or not (
            month.contains(session.started, zone)
        ):
            continue
        if not session.finished:
            pending.append(session.key)
            continue
        lines.append(_line(session, "session", tariffs, zone))
    fixes = [
        _line(fix.session, fix.kind.value, tariffs, zone)
        for fix in corrections
        if fix.kind in (ChangeKind.CORRECTION_ADD, ChangeKind.CORRECTION_CREDIT)
    ]
    currencies = {line.currency for line in lines + fixes if line.currency}
    if len(currencies) > 1:
        raise ValueError(f"more than one currency: {sorted(currencies)}")
    return Statement(
        month=month,
        driver=driver,
        currency=next(iter(currencies), None),
        lines=tuple(sorted(lines, key=_order)),
        corrections=tuple(sorted(fixes, key=_order)),
        pending=tuple(sorted(pending)),
    )


def _local(moment: datetime | None, zone: tzinfo) -> str:
    return "" if moment is None else moment.astimezone(zone).isoformat("T", "seconds")


def _kwh(wh: int) -> str:
    return f"{Decimal(wh) / 1000:.3f}"


def statement_csv(statement: Statement, zone: tzinfo) -> bytes:
    """The statement as CSV (UTF-8, header, a totals line last)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for line in statement.lines + statement.corrections:
        writer.writerow(
            (
                line.kind,
                str(line.month),
                line.charger,
                line.transaction_id,
                _local(line.started, zone),
                _local(line.stopped, zone),
                _kwh(line.wh),
                line.tariff or "",
                line.currency or "",
                "" if line.amount is None else f"{line.amount:.2f}",
                "ok" if line.amount is not None else "missing",
            )
        )
    writer.writerow(
        (
            "total",
            str(statement.month),
            "",
            "",
            "",
            "",
            _kwh(statement.total_wh),
            "",
            statement.currency or "",
            f"{statement.total_amount:.2f}",
            "ok" if statement.complete else "incomplete",
        )
    )
    return out.getvalue().encode("utf-8")
