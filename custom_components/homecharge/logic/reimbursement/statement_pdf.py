"""A statement as a PDF: one A4 page (or more) a person and an employer read.

Written with fpdf2 (pinned in the manifest) in its core Helvetica, whose
Latin-1 covers Norwegian, Danish, Dutch and Swedish text; a character
outside it (a "€" in a tariff's name) is replaced, never an error. The
labels come in translated (``Labels``), the figures as the CSV has them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import tzinfo
from decimal import Decimal

from fpdf import FPDF

from .statement import Statement, StatementLine

_FONT = "Helvetica"
# Column widths (mm) of a line: date, charger, transaction, kWh, tariff, amount.
_WIDTHS = (33, 36, 25, 18, 42, 26)
_ALIGN = ("LEFT", "LEFT", "LEFT", "RIGHT", "LEFT", "RIGHT")
# A cell's text is cut here (a few lines at most; the CSV has it all).
_MAX_CHARS = 80


@dataclass(frozen=True, slots=True)
class Labels:
    """The statement's words in the driver's language."""

    title: str
    driver: str
    month: str
    started: str
    charger: str
    transaction: str
    energy: str
    tariff: str
    amount: str
    corrections: str
    total: str
    missing: str
    pending: str


def _latin1(text: str) -> str:
    """Text the core font can show (others become "?")."""
    return text.encode("latin-1", "replace").decode("latin-1")


def _amount(value: Decimal | None, missing: str) -> str:
    return missing if value is None else f"{value:.2f}"


def statement_pdf(
    statement: Statement, zone: tzinfo, labels: Labels, place: str
) -> bytes:
    """The statement as PDF bytes (the same input gives the same document)."""
    pdf = FPDF(format="A4")
    # A fixed creation date: the same statement is the same file.
    pdf.set_creation_date(statement.month.start(zone))
    pdf.set_title(_latin1(f"{labels.title} {statement.month}"))
    pdf.set_author("homecharge")
    pdf.add_page()
    pdf.set_font(_FONT, "B", 16)
    pdf.cell(
        0,
        10,
        _latin1(f"{labels.title} {statement.month}"),
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.set_font(_FONT, "", 11)
    for label, value in (
        (labels.driver, statement.driver),
        (labels.month, str(statement.month)),
        ("", place),
    ):
        text = f"{label}: {value}" if label else value
        # Wrapped at the margin: a long name or address is never cut off.
        pdf.multi_cell(0, 6, _latin1(text), align="L", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    _table(pdf, statement.lines, zone, labels, statement.currency)
    if statement.corrections:
        pdf.ln(3)
        pdf.set_font(_FONT, "B", 11)
        pdf.cell(0, 7, _latin1(labels.corrections), new_x="LMARGIN", new_y="NEXT")
        _table(pdf, statement.corrections, zone, labels, statement.currency)
    pdf.ln(3)
    pdf.set_font(_FONT, "B", 12)
    total = _amount(statement.total_amount, labels.missing)
    currency = statement.currency or ""
    kwh = f"{Decimal(statement.total_wh) / 1000:.3f} kWh"
    line = f"{labels.total}: {kwh}   {total} {currency}".rstrip()
    pdf.cell(0, 8, _latin1(line), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(_FONT, "", 9)
    if not statement.complete:
        pdf.cell(0, 5, _latin1(labels.missing), new_x="LMARGIN", new_y="NEXT")
    if statement.pending:
        pending = f"{labels.pending}: {len(statement.pending)}"
        pdf.cell(0, 5, _latin1(pending), new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def _table(
    pdf: FPDF,
    lines: tuple[StatementLine, ...],
    zone: tzinfo,
    labels: Labels,
    currency: str | None,
) -> None:
    """The lines under a header row, repeated on each page they run onto.

    A text wider than its column wraps within it (a row never overlaps the
    next column, nor is it split between pages); the figures are right-aligned.
    """
    pdf.set_font(_FONT, "", 9)
    amount = f"{labels.amount} ({currency})" if currency else labels.amount
    header = (
        labels.started,
        labels.charger,
        labels.transaction,
        labels.energy,
        labels.tariff,
        amount,
    )
    with pdf.table(
        col_widths=_WIDTHS,
        width=sum(_WIDTHS),
        align="LEFT",
        text_align=_ALIGN,
        v_align="TOP",
        borders_layout="SINGLE_TOP_LINE",
        line_height=5,
        padding=(0.5, 1.5),
    ) as table:
        table.row([_latin1(text) for text in header])
        for line in lines:
            table.row(
                [
                    _latin1(text)[:_MAX_CHARS]
                    for text in (
                        line.started.astimezone(zone).strftime("%Y-%m-%d %H:%M"),
                        line.charger,
                        line.transaction_id,
                        f"{Decimal(line.wh) / 1000:.3f}",
                        line.tariff or "",
                        _amount(line.amount, labels.missing),
                    )
                ]
            )
