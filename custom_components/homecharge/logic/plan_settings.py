"""A place's smart-charging options: where prices come from, tariffs, plan rules."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from .capacity_presets import CUSTOM, DEFAULT_COMPANY, GRID_COMPANIES, parse_ladder
from .capacity_tariff import DEFAULT_RULE, CapacityRule, CapacityStep
from .grid_tariff import (
    CONF_GRID_DAY_PRICE,
    NORWEGIAN_ENERGY_TARIFF,
    EnergyTariff,
    from_options as tariff_from_options,
)
from .place import parse_decimal

CONF_PRICE_ENTITY: Final = "price_entity"
CONF_CAPACITY_TARIFF: Final = "capacity_tariff"
CONF_CAPACITY_PEAKS: Final = "capacity_peaks"
# The grid company whose steps apply (capacity_presets.py), or "custom" with
# the place's own ladder in capacity_steps.
CONF_CAPACITY_COMPANY: Final = "capacity_company"
CONF_CAPACITY_STEPS: Final = "capacity_steps"
CONF_CONTINUOUS: Final = "continuous"
CONF_PRICE_CAP: Final = "price_cap"
CONF_DEFAULT_ENERGY: Final = "default_energy_kwh"
# Charger subentry: the car's state of charge and battery, when known.
CONF_SOC_ENTITY: Final = "soc_entity"
CONF_BATTERY: Final = "battery_kwh"
CONF_TARGET_SOC: Final = "target_soc"
CONF_READY_BY: Final = "ready_by"
CONF_READY_BY_DAYS: Final = "ready_by_days"
CONF_READY_BY_ONCE: Final = "ready_by_once"

DEFAULT_ENERGY_KWH: Final = 20.0
DEFAULT_READY_BY: Final = "07:00"
RANGES: Final[dict[str, tuple[float, float]]] = {
    CONF_DEFAULT_ENERGY: (1.0, 200.0),
    CONF_PRICE_CAP: (-10.0, 100.0),
    CONF_BATTERY: (1.0, 250.0),
    CONF_TARGET_SOC: (10.0, 100.0),
    CONF_CAPACITY_PEAKS: (1.0, 10.0),
}


@dataclass(frozen=True, kw_only=True, slots=True)
class PlanSettings:
    """How a place plans: prices, grid tariff, capacity rule and plan options."""

    price_entity: str | None
    energy_tariff: EnergyTariff
    capacity: CapacityRule | None
    continuous: bool
    price_cap: float | None
    default_energy_kwh: float

    @classmethod
    def from_options(cls, options: Mapping[str, Any], country: str) -> PlanSettings:
        """
        Read the options.

        Norwegian places have the capacity tariff and Elvia's energy part
        until the user saves a tariff of their own.
        """
        capacity = options.get(CONF_CAPACITY_TARIFF, country == "NO")
        peaks = int(options.get(CONF_CAPACITY_PEAKS, DEFAULT_RULE.peaks))
        cap = options.get(CONF_PRICE_CAP)
        return cls(
            price_entity=options.get(CONF_PRICE_ENTITY) or None,
            energy_tariff=tariff_from_options(options)
            if CONF_GRID_DAY_PRICE in options or country != "NO"
            else NORWEGIAN_ENERGY_TARIFF,
            capacity=CapacityRule(steps=capacity_steps(options), peaks=peaks)
            if capacity
            else None,
            continuous=bool(options.get(CONF_CONTINUOUS, False)),
            price_cap=parse_decimal(cap) if cap not in (None, "") else None,
            default_energy_kwh=float(
                options.get(CONF_DEFAULT_ENERGY, DEFAULT_ENERGY_KWH)
            ),
        )


def capacity_steps(options: Mapping[str, Any]) -> tuple[CapacityStep, ...]:
    """The place's capacity steps: its grid company's, or its own ladder."""
    company = options.get(CONF_CAPACITY_COMPANY, DEFAULT_COMPANY)
    if company == CUSTOM:
        return parse_ladder(options.get(CONF_CAPACITY_STEPS)) or DEFAULT_RULE.steps
    preset = GRID_COMPANIES.get(str(company))
    return preset.steps if preset is not None else DEFAULT_RULE.steps


def validate_plan_options(user_input: Mapping[str, Any]) -> dict[str, str]:
    """Field → error key for values out of range (only the fields given)."""
    errors: dict[str, str] = {}
    for key, (low, high) in RANGES.items():
        if key not in user_input or user_input[key] in (None, ""):
            continue
        value = parse_decimal(user_input[key])
        if value is None or not low <= value <= high:
            errors[key] = "out_of_range"
    return errors
