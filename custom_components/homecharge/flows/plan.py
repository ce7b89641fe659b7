"""
A place's smart charging: what the options flow's smart-charging step calls.

Where the spot prices come from (a price sensor, or Home Assistant's own
Nord Pool integration when none is chosen), the grid company's energy and
capacity tariff, and the rules a plan follows. Prices and energy are typed
as text so both "1,25" and "1.25" are understood.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

import voluptuous as vol

from homeassistant.const import UnitOfEnergy
from homeassistant.core import HomeAssistant
from homeassistant.helpers.selector import (
    BooleanSelector,
    EntitySelector,
    EntitySelectorConfig,
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
    TextSelector,
    TextSelectorConfig,
)

from ..logic.capacity_presets import (
    CUSTOM,
    DEFAULT_COMPANY,
    GRID_COMPANIES,
    ladder_text,
    parse_ladder,
)
from ..logic.capacity_tariff import DEFAULT_RULE
from ..logic.grid_tariff import (
    CONF_GRID_DAY_PRICE,
    CONF_GRID_NIGHT_END,
    CONF_GRID_NIGHT_PRICE,
    CONF_GRID_NIGHT_START,
    CONF_GRID_WEEKEND_NIGHT,
    NORWEGIAN_ENERGY_TARIFF,
    EnergyTariff,
    from_options as tariff_from_options,
    validate_tariff,
)
from ..logic.place import parse_decimal
from ..logic.plan_settings import (
    CONF_CAPACITY_COMPANY,
    CONF_CAPACITY_PEAKS,
    CONF_CAPACITY_STEPS,
    CONF_CAPACITY_TARIFF,
    CONF_CONTINUOUS,
    CONF_DEFAULT_ENERGY,
    CONF_PRICE_CAP,
    CONF_PRICE_ENTITY,
    PlanSettings,
    capacity_steps,
    validate_plan_options,
)
from ..logic.prices import detect_format
from .place import as_text

NORWAY: Final = "NO"
_TARIFF_FIELDS: Final = (
    CONF_GRID_DAY_PRICE,
    CONF_GRID_NIGHT_PRICE,
    CONF_GRID_NIGHT_START,
    CONF_GRID_NIGHT_END,
)
_PLAN_FIELDS: Final = (CONF_CAPACITY_PEAKS, CONF_PRICE_CAP, CONF_DEFAULT_ENERGY)
# validate_tariff's keys are shared with the fixed price; the grid's has its own text.
_TARIFF_ERRORS: Final = {"invalid_price": "invalid_grid_price"}


def _blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def smart_charging_schema(currency: str) -> vol.Schema:
    """The form: price sensor, grid tariff, capacity tariff and plan rules."""
    per_kwh = TextSelectorConfig(suffix=f"{currency}/{UnitOfEnergy.KILO_WATT_HOUR}")
    # No min/max on the numbers: out of range gets our translated error,
    # not voluptuous's English one.
    hour = NumberSelector(NumberSelectorConfig(mode=NumberSelectorMode.BOX, step=1))
    return vol.Schema(
        {
            vol.Optional(CONF_PRICE_ENTITY): EntitySelector(
                EntitySelectorConfig(domain="sensor")
            ),
            vol.Required(CONF_GRID_DAY_PRICE): TextSelector(per_kwh),
            vol.Optional(CONF_GRID_NIGHT_PRICE): TextSelector(per_kwh),
            vol.Required(CONF_GRID_NIGHT_START): hour,
            vol.Required(CONF_GRID_NIGHT_END): hour,
            vol.Required(CONF_GRID_WEEKEND_NIGHT): BooleanSelector(),
            vol.Required(CONF_CAPACITY_TARIFF): BooleanSelector(),
            vol.Required(
                CONF_CAPACITY_COMPANY, default=DEFAULT_COMPANY
            ): SelectSelector(
                SelectSelectorConfig(
                    options=[*GRID_COMPANIES, CUSTOM],
                    translation_key=CONF_CAPACITY_COMPANY,
                    mode=SelectSelectorMode.DROPDOWN,
                )
            ),
            vol.Optional(CONF_CAPACITY_STEPS): TextSelector(
                TextSelectorConfig(multiline=True)
            ),
            vol.Required(CONF_CAPACITY_PEAKS): NumberSelector(
                NumberSelectorConfig(mode=NumberSelectorMode.BOX, step=1)
            ),
            vol.Required(CONF_CONTINUOUS): BooleanSelector(),
            vol.Optional(CONF_PRICE_CAP): TextSelector(per_kwh),
            vol.Required(CONF_DEFAULT_ENERGY): TextSelector(
                TextSelectorConfig(suffix=UnitOfEnergy.KILO_WATT_HOUR)
            ),
        }
    )


def current_values(options: Mapping[str, Any], country: str) -> dict[str, Any]:
    """
    What the form shows: the saved options, else the country's defaults.

    Until the grid tariff is saved a Norwegian place is offered Elvia's
    energy part (NORWEGIAN_ENERGY_TARIFF) and the capacity tariff; other
    places a grid price of 0 with no night price.
    """
    plan = PlanSettings.from_options(options, country)
    if CONF_GRID_DAY_PRICE in options:
        tariff = tariff_from_options(options)
    elif country == NORWAY:
        tariff = NORWEGIAN_ENERGY_TARIFF
    else:
        tariff = EnergyTariff()
    return {
        CONF_PRICE_ENTITY: plan.price_entity,
        CONF_GRID_DAY_PRICE: as_text(tariff.day_price),
        CONF_GRID_NIGHT_PRICE: as_text(tariff.night_price),
        CONF_GRID_NIGHT_START: tariff.night_start,
        CONF_GRID_NIGHT_END: tariff.night_end,
        CONF_GRID_WEEKEND_NIGHT: tariff.weekend_is_night,
        CONF_CAPACITY_TARIFF: plan.capacity is not None,
        CONF_CAPACITY_COMPANY: options.get(CONF_CAPACITY_COMPANY, DEFAULT_COMPANY),
        # The steps in force (a company's, or the place's own), to start a
        # ladder of one's own from.
        CONF_CAPACITY_STEPS: ladder_text(capacity_steps(options)),
        # Kept while the capacity tariff is off, for when it is turned on.
        CONF_CAPACITY_PEAKS: int(options.get(CONF_CAPACITY_PEAKS, DEFAULT_RULE.peaks)),
        CONF_CONTINUOUS: plan.continuous,
        CONF_PRICE_CAP: as_text(plan.price_cap),
        CONF_DEFAULT_ENERGY: as_text(plan.default_energy_kwh),
    }


def smart_charging_errors(user_input: Mapping[str, Any]) -> dict[str, str]:
    """Field → translated error key for the smart-charging form."""
    # Blank is empty: a night price of spaces is a flat tariff, not an error.
    tariff = {
        key: None if _blank(value := user_input.get(key)) else value
        for key in _TARIFF_FIELDS
    }
    errors = {
        key: _TARIFF_ERRORS.get(error, error)
        for key, error in validate_tariff(tariff).items()
    }
    plan = {key: user_input.get(key) for key in _PLAN_FIELDS}
    for key in validate_plan_options(plan):
        errors[key] = f"{key}_out_of_range"
    peaks = parse_decimal(user_input.get(CONF_CAPACITY_PEAKS))
    if peaks is not None and not peaks.is_integer():
        errors[CONF_CAPACITY_PEAKS] = "capacity_peaks_out_of_range"
    if user_input.get(CONF_CAPACITY_COMPANY) == CUSTOM and (
        parse_ladder(user_input.get(CONF_CAPACITY_STEPS)) is None
    ):
        errors[CONF_CAPACITY_STEPS] = "capacity_steps_invalid"
    # Required, so an empty one is not "not given".
    if _blank(user_input.get(CONF_DEFAULT_ENERGY)):
        errors[CONF_DEFAULT_ENERGY] = "default_energy_kwh_out_of_range"
    return errors


def smart_charging_options(user_input: Mapping[str, Any]) -> dict[str, Any]:
    """The options to save from a valid form (numbers as numbers)."""

    def number(key: str) -> float | None:
        value = user_input.get(key)
        return None if _blank(value) else parse_decimal(value)

    return {
        CONF_PRICE_ENTITY: user_input.get(CONF_PRICE_ENTITY) or None,
        CONF_GRID_DAY_PRICE: number(CONF_GRID_DAY_PRICE),
        CONF_GRID_NIGHT_PRICE: number(CONF_GRID_NIGHT_PRICE),
        CONF_GRID_NIGHT_START: int(user_input[CONF_GRID_NIGHT_START]),
        CONF_GRID_NIGHT_END: int(user_input[CONF_GRID_NIGHT_END]),
        CONF_GRID_WEEKEND_NIGHT: bool(user_input[CONF_GRID_WEEKEND_NIGHT]),
        CONF_CAPACITY_TARIFF: bool(user_input[CONF_CAPACITY_TARIFF]),
        CONF_CAPACITY_COMPANY: user_input.get(CONF_CAPACITY_COMPANY, DEFAULT_COMPANY),
        # Kept only as the place's own ladder.
        CONF_CAPACITY_STEPS: (user_input.get(CONF_CAPACITY_STEPS) or "").strip()
        if user_input.get(CONF_CAPACITY_COMPANY) == CUSTOM
        else None,
        CONF_CAPACITY_PEAKS: int(user_input[CONF_CAPACITY_PEAKS]),
        CONF_CONTINUOUS: bool(user_input[CONF_CONTINUOUS]),
        CONF_PRICE_CAP: number(CONF_PRICE_CAP),
        CONF_DEFAULT_ENERGY: number(CONF_DEFAULT_ENERGY),
    }


def is_price_sensor(hass: HomeAssistant, entity_id: str) -> bool:
    """Whether the entity's attributes hold prices in a format we read."""
    state = hass.states.get(entity_id)
    return state is not None and detect_format(state.attributes) is not None
