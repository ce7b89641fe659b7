"""The statement's PDF as a reader sees it: read by poppler, drawn as a PNG.

poppler (``pdftotext``, ``pdftoppm``) is another implementation than the
fpdf2 that writes the PDF and the pypdf that the statement tests read it
back with. The labels are the integration's own Norwegian and Dutch ones;
the times are local (a month with the spring DST change), the amounts in
NOK and in EUR, with a credit for an earlier month. Skipped, saying why,
where poppler-utils is missing; ``scripts/setup`` installs it.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import UTC, date, datetime, timedelta, tzinfo
from decimal import Decimal
import html
import json
from pathlib import Path
import re
import shutil
import subprocess
import zlib
from zoneinfo import ZoneInfo

from PIL import Image
import pytest

from custom_components.homecharge.logic.reimbursement.month import Month
from custom_components.homecharge.logic.reimbursement.rules import ChangeKind
from custom_components.homecharge.logic.reimbursement.statement import (
    Correction,
    Statement,
    build_statement,
)
from custom_components.homecharge.logic.reimbursement.statement_pdf import (
    Labels,
    statement_pdf,
)
from custom_components.homecharge.logic.reimbursement.tariff import Tariff, TariffBasis
from custom_components.homecharge.logic.sessions.model import Classification, Session

pytestmark = pytest.mark.skipif(
    not (shutil.which("pdftotext") and shutil.which("pdftoppm")),
    reason="poppler-utils (pdftotext, pdftoppm) is not installed: "
    "scripts/setup installs it (apt-get install poppler-utils)",
)

TRANSLATIONS = (
    Path(__file__).parent.parent / "custom_components" / "homecharge" / "translations"
)
MARCH = Month(2026, 3)
QUARTER = timedelta(minutes=15)
# A4 in points, and the least white border a printer needs (5 mm).
A4 = (595.28, 841.89)
BORDER = 5 / 25.4 * 72


def _labels(language: str) -> Labels:
    """The labels as the integration gives them (runtime/statements.py)."""
    strings = json.loads((TRANSLATIONS / f"{language}.json").read_text("utf-8"))
    notifications = strings["notifications"]
    return Labels(
        **{
            field.name: notifications[f"statement_{field.name}"]["message"]
            for field in fields(Labels)
        }
    )


def _session(
    started: datetime, wh: int, tx: str, charger: str, *, business: bool = True
) -> Session:
    slots = {started + i * QUARTER: wh // 4 for i in range(4)}
    return Session(
        charger=charger,
        connector=1,
        transaction_id=tx,
        started=started,
        meter_start_wh=0,
        stopped=started + timedelta(hours=1),
        meter_stop_wh=wh,
        classification=Classification.BUSINESS if business else Classification.PERSONAL,
        slots=slots,
    )


def _utc(*parts: int) -> datetime:
    year, month, day, *rest = parts
    return datetime(year, month, day, *rest, tzinfo=UTC)


@dataclass(frozen=True)
class Case:
    """A driver's March, and what the PDF must show of it."""

    language: str
    zone: tzinfo
    tariff: Tariff
    driver: str
    place: str
    charger: str
    # (started in UTC, Wh, transaction, local start, kWh, amount) as printed.
    sessions: tuple[tuple[datetime, int, str, str, str, str], ...]
    # The credit of a February session: the same, its amount negative.
    credit: tuple[datetime, int, str, str, str, str]
    words: tuple[str, ...]  # non-ASCII words that must come out intact

    def statement(self) -> Statement:
        """The statement build_statement makes of it."""
        sessions = [
            _session(started, wh, tx, self.charger)
            for started, wh, tx, *_ in self.sessions
        ]
        # Classified personal after February's statement was made: a credit.
        started, wh, tx, *_ = self.credit
        withdrawn = _session(started, wh, tx, self.charger, business=False)
        return build_statement(
            MARCH,
            self.driver,
            sessions,
            [self.tariff],
            self.zone,
            corrections=[Correction(withdrawn, ChangeKind.CORRECTION_CREDIT)],
        )


# Oslo and Amsterdam are +01:00 until 29 March 01:00 UTC, +02:00 from then.
NORWEGIAN = Case(
    language="nb",
    zone=ZoneInfo("Europe/Oslo"),
    tariff=Tariff(
        effective_from=date(2025, 1, 1),
        basis=TariffBasis.FIXED,
        name="Fastpris næring 2026",
        currency="NOK",
        unit_rate=Decimal("2.35"),
        vat_percent=Decimal(25),
    ),
    driver=(
        "Kari Bjørnstjerne Østerås-Hægstad Sæbø Ødegård av Skjærgården "
        "på Ålesund og Omegn Lærdalsøyri i Sogn og Fjordane"
    ),
    place=(
        "Hytta på Ærøya, Øvre Skjærvøyveien 123B, 9180 Skjervøy, "
        "Troms og Finnmark fylke, Norge"
    ),
    charger="Garasje-ø",
    sessions=(
        (_utc(2026, 3, 2, 6, 30), 7_000, "1001", "2026-03-02 07:30", "7.000", "16.45"),
        (_utc(2026, 3, 9, 16), 12_348, "1002", "2026-03-09 17:00", "12.348", "29.02"),
        (_utc(2026, 3, 28, 22), 4_000, "1003", "2026-03-28 23:00", "4.000", "9.40"),
        # The DST night: 01:30 UTC is 03:30 summer time (02:xx never is).
        (_utc(2026, 3, 29, 1, 30), 8_000, "1004", "2026-03-29 03:30", "8.000", "18.80"),
        (_utc(2026, 3, 31, 15), 20_000, "1005", "2026-03-31 17:00", "20.000", "47.00"),
    ),
    credit=(_utc(2026, 2, 14, 17), 4_000, "0907", "2026-02-14 18:00", "4.000", "-9.40"),
    words=("Sjåfør:", "Måned:", "Beløp", "måneder", "Ærøya,", "Garasje-ø", "næring"),
)
DUTCH = Case(
    language="nl",
    zone=ZoneInfo("Europe/Amsterdam"),
    tariff=Tariff(
        effective_from=date(2025, 1, 1),
        basis=TariffBasis.FIXED,
        name="Vast tarief België",
        currency="EUR",
        unit_rate=Decimal("0.31"),
        vat_percent=Decimal(21),
    ),
    driver="Chloë Zoë van der Meulen-Brontë",
    place="Huize Ruïne, Heerenweg 12, 2011 Haarlem",
    charger="Oprit-ë",
    sessions=(
        (_utc(2026, 3, 3, 7), 9_000, "A-17", "2026-03-03 08:00", "9.000", "2.79"),
        (_utc(2026, 3, 29, 0, 30), 6_000, "A-18", "2026-03-29 01:30", "6.000", "1.86"),
        (_utc(2026, 3, 29, 1, 30), 3_000, "A-19", "2026-03-29 03:30", "3.000", "0.93"),
        (
            _utc(2026, 3, 30, 5, 45),
            11_000,
            "A-20",
            "2026-03-30 07:45",
            "11.000",
            "3.41",
        ),
    ),
    credit=(_utc(2026, 2, 20, 18), 5_000, "A-09", "2026-02-20 19:00", "5.000", "-1.55"),
    words=("Chloë", "Brontë", "Ruïne,", "België", "Oprit-ë"),
)


def _write(statement: Statement, case: Case, tmp_path: Path) -> Path:
    pdf = tmp_path / f"statement-{case.language}.pdf"
    pdf.write_bytes(
        statement_pdf(statement, case.zone, _labels(case.language), case.place)
    )
    return pdf


def _run(*args: str | Path) -> str:
    return subprocess.run(
        [str(arg) for arg in args],
        check=True,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=60,
    ).stdout


def _pages(pdf: Path) -> list[str]:
    """The text of each page, laid out as on the paper."""
    text = _run("pdftotext", "-layout", "-enc", "UTF-8", pdf, "-")
    return text.rstrip("\f").split("\f")


def _row(text: str, started: str) -> str:
    """The (first) line of the row for the session started at ``started``."""
    (line,) = [line for line in text.splitlines() if line.strip().startswith(started)]
    return line


def _squeezed(text: str) -> str:
    return " ".join(text.split())


@pytest.mark.parametrize("case", [NORWEGIAN, DUTCH], ids=lambda case: case.language)
def test_the_text_shows_each_session_the_credit_and_the_total(
    case: Case, tmp_path: Path
) -> None:
    statement = case.statement()
    labels = _labels(case.language)
    currency = case.tariff.currency
    (text,) = _pages(_write(statement, case, tmp_path))
    header, _, table = text.partition(labels.started)

    assert f"{labels.title} 2026-03" in header
    # The long name and the address wrap whole (never cut) at the margin.
    assert f"{labels.driver}: {case.driver}" in _squeezed(header)
    assert f"{labels.month}: 2026-03" in header
    assert case.place in _squeezed(header)
    assert f"{labels.amount} ({currency})" in table

    body, _, corrections = table.partition(labels.corrections)
    amounts = []
    for _started, _wh, tx, local, kwh, amount in case.sessions:
        row = _row(body, local)
        # In local time (summer time after the change), with its figures.
        assert re.search(
            rf"{re.escape(local)}\s+{re.escape(case.charger)}\s+{tx}\s+"
            rf"{re.escape(kwh)}\s+{re.escape(case.tariff.name)}\s+{re.escape(amount)}$",
            row,
        ), row
        amounts.append(Decimal(amount))

    # The credit: under its own heading, after the month's lines, negative.
    _started, _wh, tx, local, kwh, amount = case.credit
    assert labels.corrections in text
    assert local not in body
    row = _row(corrections, local)
    assert re.search(rf"{tx}\s+{re.escape(kwh)}\s.*\s{re.escape(amount)}$", row), row
    assert amount.startswith("-")
    amounts.append(Decimal(amount))

    total = re.search(
        rf"^\s*{re.escape(labels.total)}: (\d+\.\d{{3}}) kWh\s+(-?\d+\.\d\d) {currency}$",
        corrections,
        re.MULTILINE,
    )
    assert total, corrections
    assert Decimal(total[2]) == sum(amounts) == statement.total_amount
    month_kwh = sum(Decimal(kwh) for *_, kwh, _amount in case.sessions)
    assert Decimal(total[1]) == month_kwh - Decimal(case.credit[4])
    assert text.count(f"{labels.total}:") == 1

    for word in case.words:
        assert word in text, word
    assert "?" not in text  # nothing the font lacks here: nothing replaced


@dataclass(frozen=True)
class Word:
    """A word poppler found, and its box (points, y down)."""

    text: str
    x_min: float
    y_min: float
    x_max: float
    y_max: float

    def overlaps(self, other: Word, slack: float = 0.5) -> bool:
        """The two boxes share more than a hair."""
        return (
            min(self.x_max, other.x_max) - max(self.x_min, other.x_min) > slack
            and min(self.y_max, other.y_max) - max(self.y_min, other.y_min) > slack
        )


_WORD = re.compile(
    r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">(.*?)</word>'
)


def _words(pdf: Path) -> list[list[Word]]:
    """Each page's words with their boxes (``pdftotext -bbox``)."""
    xhtml = _run("pdftotext", "-bbox", "-enc", "UTF-8", pdf, "-")
    return [
        [
            Word(html.unescape(m[5]), *(float(m[i]) for i in range(1, 5)))
            for m in _WORD.finditer(page)
        ]
        for page in xhtml.split("<page ")[1:]
    ]


def _laid_out_cleanly(pdf: Path) -> None:
    """No word runs into another, nor off the paper's printable part."""
    for number, words in enumerate(_words(pdf), 1):
        assert words, f"page {number} is empty"
        for word in words:
            assert min(word.x_min, word.y_min) >= BORDER, (number, word)
            assert word.x_max <= A4[0] - BORDER, (number, word)
            assert word.y_max <= A4[1] - BORDER, (number, word)
        clashes = [
            (one.text, other.text)
            for i, one in enumerate(words)
            for other in words[i + 1 :]
            if one.overlaps(other)
        ]
        assert not clashes, f"page {number}: {clashes[:5]}"


@pytest.mark.parametrize("case", [NORWEGIAN, DUTCH], ids=lambda case: case.language)
def test_no_text_overlaps_or_runs_off_the_page(case: Case, tmp_path: Path) -> None:
    _laid_out_cleanly(_write(case.statement(), case, tmp_path))


def test_long_names_wrap_in_their_column(tmp_path: Path) -> None:
    """A charger's, a transaction's and a tariff's long names keep off the figures."""
    case = NORWEGIAN
    tariff = Tariff(
        effective_from=date(2025, 1, 1),
        basis=TariffBasis.FIXED,
        name="Fastpris næring Tibber Pulse Ærøskøbing avtale 2026",
        currency="NOK",
        unit_rate=Decimal("2.35"),
    )
    charger = "Garasje-ø ladeboks østre vegg ved inngangspartiet"
    tx = "9f1c2d3e-4b5a-6789-abcd-ef0123456789"
    session = _session(_utc(2026, 3, 9, 16), 12_348, tx, charger)
    statement = build_statement(MARCH, case.driver, [session], [tariff], case.zone)
    pdf = _write(statement, case, tmp_path)
    _laid_out_cleanly(pdf)
    (text,) = _pages(pdf)
    # The row's first line still carries the kWh and the amount, apart.
    assert re.search(r"^\s*2026-03-09 17:00\s.*\s12\.348\s.*\s29\.02$", text, re.M)
    words = {word.text for page in _words(pdf) for word in page}
    assert set(tariff.name.split()) <= words
    assert set(charger.split()) <= words


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert data[12:16] == b"IHDR"
    # The header's CRC: the file is whole.
    assert int.from_bytes(data[29:33]) == zlib.crc32(data[12:29])
    return int.from_bytes(data[16:20]), int.from_bytes(data[20:24])


@pytest.mark.parametrize("case", [NORWEGIAN, DUTCH], ids=lambda case: case.language)
def test_page_one_renders_as_a_page_with_ink(case: Case, tmp_path: Path) -> None:
    pdf = _write(case.statement(), case, tmp_path)
    stem = tmp_path / "page"
    _run("pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "1", "-singlefile", pdf, stem)
    png = stem.with_suffix(".png")
    # A4 at 60 dpi: 8.27 x 11.69 inches.
    width, height = _png_size(png.read_bytes())
    assert abs(width - 496) <= 2, width
    assert abs(height - 702) <= 2, height
    with Image.open(png) as image:
        image.load()
        gray = image.convert("L")
    ink = sum(count for level, count in enumerate(gray.histogram()) if level < 200)
    share = ink / (width * height)
    # Text, not a blank page, nor a black one.
    assert 0.005 < share < 0.25, share
    # The ink starts at the top (the title), not somewhere down the page.
    box = gray.point(lambda level: 255 if level < 200 else 0).getbbox()
    assert box is not None
    assert box[1] < height * 0.1, box


def test_a_long_month_runs_over_pages_with_its_total_on_the_last(
    tmp_path: Path,
) -> None:
    case = NORWEGIAN
    labels = _labels(case.language)
    first = _utc(2026, 3, 1, 6)
    # 120 sessions, every 6 hours: 1 March 07:00 to 30 March 14:00 local.
    sessions = [
        _session(first + timedelta(hours=6 * i), 5_000 + i, f"M{i:04d}", case.charger)
        for i in range(120)
    ]
    statement = build_statement(MARCH, case.driver, sessions, [case.tariff], case.zone)
    assert len(statement.lines) == 120
    pdf = _write(statement, case, tmp_path)
    pages = _pages(pdf)
    assert len(pages) >= 2

    for line in statement.lines:
        local = line.started.astimezone(case.zone).strftime("%Y-%m-%d %H:%M")
        holding = [page for page in pages if local in page]
        assert len(holding) == 1, local
        row = _row(holding[0], local)
        kwh = re.escape(f"{Decimal(line.wh) / 1000:.3f}")
        assert re.search(rf"\s{line.transaction_id}\s+{kwh}\s.*\s{line.amount}$", row)
    # Each page's table has its column heads.
    for page in pages:
        assert re.search(rf"{labels.started}\s+{labels.charger}\s", page), page[:200]

    total = f"{labels.total}: "
    assert [page.count(total) for page in pages] == [0] * (len(pages) - 1) + [1]
    assert f"{statement.total_amount:.2f} NOK" in pages[-1]
    _laid_out_cleanly(pdf)
