"""
The place's own form: its fields, its price area, and prices typed as text.

Shared by the config flow (adding or reconfiguring a place) and the options
flow (what a spot-priced kWh costs). Prices are typed as text so both "1,25"
and "1.25" are understood.
"""

from __future__ import annotations

from typing import Any, Final

import voluptuous as vol

from homeassistant.const import CONF_NAME, UnitOfElectricCurrent, UnitOfEnergy
from homeassistant.helpers.selector import (
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
    SelectOptionDict,
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
    TextSelector,
)

from ..const import (
    CONF_COST_BASIS,
    CONF_COUNTRY,
    CONF_GRID_TYPE,
    CONF_MAIN_FUSE,
    CONF_PRICE_AREA,
)
from ..logic.place import CostBasis, GridType, countries, price_areas


class ChoiceSelector(SelectSelector):
    """
    A dropdown whose value the step validates itself.

    A plain select rejects an unknown value in the schema, with an untranslated
    message; the steps check the choice and answer with our translated error.
    """

    def __call__(self, data: Any) -> str:
        """Accept any text; the step decides whether it is a valid choice."""
        return str(data)


def choice_selector(
    options: list[str] | list[SelectOptionDict],
    translation_key: str | None = None,
    *,
    sort: bool = False,
) -> ChoiceSelector:
    """A dropdown of ``options`` that the step validates (see ChoiceSelector)."""
    config = SelectSelectorConfig(
        options=options, mode=SelectSelectorMode.DROPDOWN, sort=sort
    )
    if translation_key is not None:
        config["translation_key"] = translation_key
    return ChoiceSelector(config)


PLACE_SCHEMA: Final = vol.Schema(
    {
        vol.Required(CONF_NAME): TextSelector(),
        vol.Required(CONF_COUNTRY): choice_selector(
            countries(), CONF_COUNTRY, sort=True
        ),
        vol.Required(CONF_COST_BASIS): SelectSelector(
            SelectSelectorConfig(
                options=[basis.value for basis in CostBasis],
                translation_key=CONF_COST_BASIS,
                mode=SelectSelectorMode.LIST,
            )
        ),
        # Range checked in the step, so a wrong size gets our own translated error.
        vol.Required(CONF_MAIN_FUSE): NumberSelector(
            NumberSelectorConfig(
                mode=NumberSelectorMode.BOX,
                step=1,
                unit_of_measurement=UnitOfElectricCurrent.AMPERE,
            )
        ),
        vol.Required(CONF_GRID_TYPE): SelectSelector(
            SelectSelectorConfig(
                options=[grid.value for grid in GridType],
                translation_key=CONF_GRID_TYPE,
                mode=SelectSelectorMode.LIST,
            )
        ),
    }
)


def price_area_schema(country: str) -> vol.Schema:
    """The price area field: the country's areas."""
    return vol.Schema(
        {
            vol.Required(CONF_PRICE_AREA): choice_selector(
                list(price_areas(country)), CONF_PRICE_AREA
            )
        }
    )


def price_schema(currency: str, *fields: str) -> vol.Schema:
    """Price fields, per kWh in ``currency``, typed as text."""
    suffix = f"{currency}/{UnitOfEnergy.KILO_WATT_HOUR}"
    return vol.Schema(
        {vol.Required(field): TextSelector({"suffix": suffix}) for field in fields}
    )


def as_text(value: float | None) -> str | None:
    """A number as the form shows it ("0.049", "25"); None stays empty."""
    return None if value is None else f"{value:g}"
