"""
Norwegian grid companies' capacity steps (kapasitetsledd), as presets.

Pure data. Each company's household ladder from the *Fri nettleie*
collection (github.com/kraftsystemet/fri-nettleie, CC BY 4.0, data as of
2026-08-18, commit b9531c7): thresholds in kW and prices in NOK per year
without VAT, the way it gathers them from the companies' own price lists.
Only companies that bill the average of the month's three highest daily
peak hours (its method ``TRE_DØGNMAX_MND``, thresholds included), which is
the rule homecharge models, with a price list in force since mid-2025.
A place shows them per month with 25 % VAT; Nord-Norge without VAT enters
its own ladder.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from itertools import pairwise
from typing import Final

from .capacity_tariff import CapacityStep
from .place import parse_decimal

VAT: Final = 1.25
MONTHS: Final = 12


@dataclass(frozen=True, kw_only=True, slots=True)
class GridCompany:
    """A grid company's household capacity steps."""

    name: str
    valid_from: date
    # (threshold kW, NOK per year without VAT), rising from 0 kW.
    yearly: tuple[tuple[float, float], ...]

    @property
    def steps(self) -> tuple[CapacityStep, ...]:
        """Its steps per month with VAT, as the planner prices them."""
        return tuple(
            CapacityStep(
                threshold_kw=float(kw), monthly_cost=round(price / MONTHS * VAT, 2)
            )
            for kw, price in self.yearly
        )


GRID_COMPANIES: Final[dict[str, GridCompany]] = {
    "elvia": GridCompany(
        name="Elvia AS",
        valid_from=date.fromisoformat("2026-07-01"),
        yearly=(
            (0, 1440),
            (2, 2400),
            (5, 4032),
            (10, 5616),
            (15, 7248),
            (20, 8880),
            (25, 16896),
            (50, 24960),
            (75, 33024),
            (100, 65280),
        ),
    ),
    "bkk": GridCompany(
        name="BKK AS",
        valid_from=date.fromisoformat("2026-01-01"),
        yearly=(
            (0, 1488),
            (2, 2400),
            (5, 3984),
            (10, 5760),
            (15, 7392),
            (20, 9024),
            (25, 17280),
            (50, 25440),
            (75, 33600),
            (100, 66240),
        ),
    ),
    "tensio-tn": GridCompany(
        name="Tensio TN AS",
        valid_from=date.fromisoformat("2026-07-01"),
        yearly=(
            (0, 1353.6),
            (2, 2726.4),
            (5, 4915.2),
            (10, 7449.6),
            (15, 9993.6),
            (20, 12528),
            (25, 21830.4),
            (50, 34540.8),
            (75, 47241.6),
            (100, 68380.8),
            (150, 93792),
            (200, 136080),
            (300, 186883),
            (400, 237686),
            (500, 288442),
        ),
    ),
    "tensio-ts": GridCompany(
        name="Tensio TS AS",
        valid_from=date.fromisoformat("2026-07-01"),
        yearly=(
            (0, 1257.6),
            (2, 2236.8),
            (5, 3811.2),
            (10, 5616),
            (15, 7440),
            (20, 9254.4),
            (25, 15888),
            (50, 24950.4),
            (75, 34022.4),
            (100, 49123.2),
            (150, 67228.8),
            (200, 97411.2),
            (300, 133680),
            (400, 169891),
            (500, 206141),
        ),
    ),
    "lede": GridCompany(
        name="Lede AS",
        valid_from=date.fromisoformat("2026-05-01"),
        yearly=(
            (0, 2580),
            (5, 4404),
            (10, 6216),
            (15, 8040),
            (20, 9864),
            (25, 15324),
            (50, 24432),
            (75, 33528),
            (100, 47184),
            (150, 65376),
            (200, 92688),
        ),
    ),
    "glitre": GridCompany(
        name="Glitre Nett AS",
        valid_from=date.fromisoformat("2026-07-01"),
        yearly=(
            (0, 1536),
            (2, 2232),
            (5, 3744),
            (10, 7008),
            (15, 9264),
            (20, 11616),
            (25, 18096),
            (50, 28704),
            (75, 38304),
            (100, 63984),
        ),
    ),
    "lnett": GridCompany(
        name="Lnett AS",
        valid_from=date.fromisoformat("2026-01-01"),
        yearly=(
            (0, 1440),
            (2, 2400),
            (5, 3840),
            (10, 6240),
            (15, 8640),
            (20, 11040),
            (25, 20640),
            (50, 30240),
            (75, 39840),
            (100, 67200),
        ),
    ),
    "norgesnett": GridCompany(
        name="Norgesnett AS",
        valid_from=date.fromisoformat("2026-07-01"),
        yearly=(
            (0, 1344),
            (2, 2232),
            (5, 3744),
            (10, 6672),
            (15, 8976),
            (20, 10992),
            (25, 17400),
            (50, 27000),
            (75, 36600),
            (100, 58680),
        ),
    ),
    "foie": GridCompany(
        name="Føie AS",
        valid_from=date.fromisoformat("2026-01-01"),
        yearly=(
            (0, 2280),
            (2, 2820),
            (5, 4020),
            (10, 6360),
            (15, 8040),
            (20, 10320),
            (25, 13800),
            (50, 22800),
            (75, 28800),
        ),
    ),
    "linja": GridCompany(
        name="Linja AS",
        valid_from=date.fromisoformat("2026-07-01"),
        yearly=(
            (0, 2870.4),
            (2, 3580.8),
            (5, 4300.8),
            (10, 7152),
            (15, 8592),
            (20, 10022.4),
            (25, 14313.6),
            (50, 15744),
            (75, 17184),
            (100, 21465.6),
        ),
    ),
    "nettselskapet": GridCompany(
        name="Nettselskapet AS",
        valid_from=date.fromisoformat("2026-07-01"),
        yearly=(
            (0, 1560),
            (2, 2880),
            (5, 4920),
            (10, 7320),
            (15, 9480),
            (20, 11880),
            (25, 20400),
            (50, 31920),
            (75, 43560),
            (100, 62880),
            (150, 86160),
            (200, 124800),
            (300, 171240),
            (400, 217680),
            (500, 264120),
        ),
    ),
    "elinett": GridCompany(
        name="Elinett AS",
        valid_from=date.fromisoformat("2026-08-01"),
        yearly=(
            (0, 2700),
            (2, 3360),
            (5, 4020),
            (10, 6600),
            (15, 7980),
            (20, 9300),
            (25, 13260),
            (50, 14580),
            (75, 15900),
            (100, 19860),
        ),
    ),
    "linea": GridCompany(
        name="Linea AS",
        valid_from=date.fromisoformat("2025-07-01"),
        yearly=(
            (0, 2700),
            (2, 2700),
            (5, 4188),
            (10, 5892),
            (15, 7596),
            (20, 9312),
            (25, 15564),
            (50, 24096),
            (75, 32628),
            (100, 46860),
            (150, 63912),
            (200, 92316),
            (300, 126492),
            (400, 160596),
            (500, 194736),
        ),
    ),
    "vevig": GridCompany(
        name="Vevig AS",
        valid_from=date.fromisoformat("2025-07-01"),
        yearly=(
            (0, 2412),
            (2, 3132),
            (5, 4356),
            (10, 5580),
            (15, 6816),
            (20, 8016),
            (25, 9240),
            (30, 11688),
            (40, 14940),
            (50, 20196),
            (75, 26292),
            (100, 32364),
            (125, 38472),
            (150, 50640),
            (200, 70092),
            (300, 97980),
            (400, 196680),
        ),
    ),
}
# What a Norwegian place starts with: Norway's largest grid company.
DEFAULT_COMPANY: Final = "elvia"
# The place enters its own ladder.
CUSTOM: Final = "custom"
_MAX_STEPS: Final = 30


def parse_ladder(text: object) -> tuple[CapacityStep, ...] | None:
    """
    A ladder typed as "kW: price per month" pairs, one per line or ";" apart.

    "0: 150; 2: 250; 5: 420" (decimal commas welcome: "2,5: 99,50").
    Thresholds rise from 0 kW; prices are per month as the place pays them
    (with VAT where it applies). None when it is not such a ladder.
    """
    steps: list[CapacityStep] = []
    for part in str(text or "").replace("\n", ";").split(";"):
        if not part.strip():
            continue
        kw_text, colon, price_text = part.partition(":")
        kw, price = parse_decimal(kw_text), parse_decimal(price_text)
        if not colon or kw is None or price is None or price < 0:
            return None
        steps.append(CapacityStep(threshold_kw=kw, monthly_cost=price))
    thresholds = [step.threshold_kw for step in steps]
    if (
        not steps
        or len(steps) > _MAX_STEPS
        or thresholds[0] != 0
        or any(b <= a for a, b in pairwise(thresholds))
    ):
        return None
    return tuple(steps)


def ladder_text(steps: tuple[CapacityStep, ...]) -> str:
    """A ladder as the form shows it (what ``parse_ladder`` reads back)."""
    return "\n".join(f"{step.threshold_kw:g}: {step.monthly_cost:g}" for step in steps)
