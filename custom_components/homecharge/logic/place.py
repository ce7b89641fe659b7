"""
What a place is: its settings and the rules they must obey.

Pure logic, no Home Assistant imports: config flows, entities and the runtime all
validate and interpret a place through this module.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
import math
import re
from typing import Any, Final, Self

MIN_MAIN_FUSE: Final = 1
MAX_MAIN_FUSE: Final = 400
MAX_FIXED_PRICE: Final = 100.0


class CostBasis(StrEnum):
    """What a kWh costs at the place."""

    SPOT = "spot"
    FIXED = "fixed"


class GridType(StrEnum):
    """How the place is connected to the grid."""

    ONE_PHASE_230 = "1p_230"
    THREE_PHASE_230_IT = "3p_230_it"
    THREE_PHASE_400_TN = "3p_400_tn"

    @property
    def phases(self) -> int:
        """Number of phase conductors the main fuse protects."""
        return 1 if self is GridType.ONE_PHASE_230 else 3


# Day-ahead bidding zones per country (ISO 3166-1 alpha-2), as Nord Pool and
# ENTSO-E name them. Order matters: the first area is the country's default.
PRICE_AREAS: Final[dict[str, tuple[str, ...]]] = {
    "NO": ("NO1", "NO2", "NO3", "NO4", "NO5"),
    "SE": ("SE1", "SE2", "SE3", "SE4"),
    "DK": ("DK1", "DK2"),
    "FI": ("FI",),
    "EE": ("EE",),
    "LV": ("LV",),
    "LT": ("LT",),
    "NL": ("NL",),
    "BE": ("BE",),
    "FR": ("FR",),
    "DE": ("DE-LU",),
    "LU": ("DE-LU",),
    "AT": ("AT",),
    "PL": ("PL",),
    "GB": ("GB",),
}

# Standard VAT on household electricity, percent: the options flow's default.
# Northern Norway (NO4) is exempt for households.
DEFAULT_VAT_PERCENT: Final[dict[str, float]] = {
    "NO": 25.0,
    "SE": 25.0,
    "DK": 25.0,
    "FI": 25.5,
    "EE": 24.0,
    "LV": 21.0,
    "LT": 21.0,
    "NL": 21.0,
    "BE": 6.0,
    "FR": 20.0,
    "DE": 19.0,
    "LU": 8.0,
    "AT": 20.0,
    "PL": 23.0,
    "GB": 5.0,
}
VAT_EXEMPT_AREAS: Final = frozenset({"NO4"})


def countries() -> list[str]:
    """Countries a place can be in."""
    return list(PRICE_AREAS)


def price_areas(country: str) -> tuple[str, ...]:
    """Price areas of a country; empty for a country we do not know."""
    return PRICE_AREAS.get(country, ())


def suggest_country(country: str | None) -> str | None:
    """The home country when we know it, for prefilling the form."""
    return country if country in PRICE_AREAS else None


def suggest_price_area(country: str, latitude: float, longitude: float) -> str | None:
    """
    Best guess of the price area from a location; None for an unknown country.

    The boundaries are coarse (the zones follow grid bottlenecks, not lines of
    latitude) but right for the large towns; the user confirms the guess.
    """
    areas = price_areas(country)
    if not areas:
        return None
    if country == "NO":
        if latitude >= 65.0:
            return "NO4"
        if latitude >= 62.2:
            return "NO3"
        if longitude < 7.6 and latitude >= 59.7:
            return "NO5"
        if latitude < 59.6 and longitude < 9.4:
            return "NO2"
        return "NO1"
    if country == "SE":
        if latitude >= 65.5:
            return "SE1"
        if latitude >= 61.6:
            return "SE2"
        if latitude >= 57.4:
            return "SE3"
        return "SE4"
    if country == "DK":
        # Jutland and Funen (DK1) lie west of the Great Belt.
        return "DK1" if longitude < 10.95 else "DK2"
    return areas[0]


def default_vat_percent(country: str, price_area: str) -> float:
    """VAT a household pays on electricity in this area."""
    if price_area in VAT_EXEMPT_AREAS:
        return 0.0
    return DEFAULT_VAT_PERCENT.get(country, 0.0)


def fuse_in_range(amps: float) -> bool:
    """Whether a main fuse size is one a home or cabin can have."""
    return math.isfinite(amps) and MIN_MAIN_FUSE <= amps <= MAX_MAIN_FUSE


_NUMBER = re.compile(r"^[+-]?(\d+([.,]\d*)?|[.,]\d+)$")


def parse_decimal(text: str | float | None) -> float | None:
    """
    Read a number typed the Nordic way ("1,25") or the English way ("1.25").

    Returns None for anything that is not a plain finite number.
    """
    if isinstance(text, (int, float)):
        return float(text) if math.isfinite(text) else None
    if text is None:
        return None
    cleaned = text.strip().replace("\u00a0", "").replace(" ", "")
    if not _NUMBER.match(cleaned):
        return None
    return float(cleaned.replace(",", "."))


def parse_price(text: str | float | None) -> float | None:
    """A price per kWh, or None when it is not a number or out of range."""
    value = parse_decimal(text)
    if value is None or not 0 <= value <= MAX_FIXED_PRICE:
        return None
    return value


@dataclass(frozen=True, kw_only=True, slots=True)
class PlaceSettings:
    """Everything that defines a place, read from its config entry."""

    name: str
    country: str
    price_area: str
    cost_basis: CostBasis
    fixed_price: float | None
    main_fuse: float
    grid_type: GridType
    spot_markup: float = 0.0
    vat_percent: float = 0.0
    accept_new_chargers: bool = False

    @classmethod
    def from_config(cls, data: dict[str, Any], options: dict[str, Any]) -> Self:
        """Build the settings from a config entry's data and options."""
        return cls(
            name=data["name"],
            country=data["country"],
            price_area=data["price_area"],
            cost_basis=CostBasis(data["cost_basis"]),
            fixed_price=data.get("fixed_price"),
            main_fuse=float(data["main_fuse"]),
            grid_type=GridType(data["grid_type"]),
            accept_new_chargers=bool(data.get("accept_new_chargers", False)),
            spot_markup=float(options.get("spot_markup", 0.0)),
            vat_percent=float(
                options.get(
                    "vat_percent",
                    default_vat_percent(data["country"], data["price_area"]),
                )
            ),
        )

    def energy_price(self, spot_price: float | None) -> float | None:
        """
        What one kWh costs the household, VAT included.

        A spot-priced place pays the spot price plus the supplier's markup; a
        fixed-price place pays its fixed price (already what the contract says).
        """
        if self.cost_basis is CostBasis.FIXED:
            return self.fixed_price
        if spot_price is None:
            return None
        return (spot_price + self.spot_markup) * (1 + self.vat_percent / 100)


def validate_place(data: dict[str, Any], *, complete: bool = False) -> dict[str, str]:
    """
    Check a place's config data; maps each bad field to its error key.

    Only the fields present are checked, so a flow step can validate what it
    asked; with ``complete`` the data is a whole place and a fixed cost basis
    must also have its price.
    """
    errors: dict[str, str] = {}
    if "name" in data and not str(data["name"]).strip():
        errors["name"] = "name_empty"
    if "main_fuse" in data:
        fuse = parse_decimal(data["main_fuse"])
        if fuse is None or not fuse_in_range(fuse):
            errors["main_fuse"] = "fuse_out_of_range"
    if "country" in data and data["country"] not in PRICE_AREAS:
        errors["country"] = "unknown_country"
    elif "price_area" in data and data["price_area"] not in price_areas(
        data.get("country", "")
    ):
        errors["price_area"] = "unknown_price_area"
    price = data.get("fixed_price")
    fixed = complete and data.get("cost_basis") == CostBasis.FIXED
    if (fixed or price is not None) and parse_price(price) is None:
        errors["fixed_price"] = "invalid_price"
    return errors
