"""The reimbursement's rules step: which sessions are business by themselves.

One rule a form: the vehicles, the cards, the weekdays and a time window of
the session's start (``logic/reimbursement/rules.py`` says how they match).
"Another rule" asks for the next; an empty form ends the list. Changing a
reimbursement shows its rules again, one by one.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

import voluptuous as vol

from homeassistant.helpers.selector import (
    BooleanSelector,
    SelectOptionDict,
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
    TextSelector,
    TimeSelector,
)

from ..logic.reimbursement.settings import (
    CONF_RULE_CARDS,
    CONF_RULE_FROM,
    CONF_RULE_UNTIL,
    CONF_RULE_VEHICLES,
    CONF_RULE_WEEKDAYS,
    WEEKDAY_KEYS,
)

CONF_ANOTHER_RULE: Final = "another_rule"


def rules_schema(vehicles: list[SelectOptionDict]) -> vol.Schema:
    """One rule's fields (the vehicles only if the place has some)."""
    fields: dict[Any, Any] = {}
    if vehicles:
        fields[vol.Optional(CONF_RULE_VEHICLES)] = SelectSelector(
            SelectSelectorConfig(
                options=vehicles, multiple=True, mode=SelectSelectorMode.LIST
            )
        )
    fields |= {
        vol.Optional(CONF_RULE_CARDS): TextSelector(),
        vol.Optional(CONF_RULE_WEEKDAYS): SelectSelector(
            SelectSelectorConfig(
                options=list(WEEKDAY_KEYS),
                multiple=True,
                mode=SelectSelectorMode.LIST,
                translation_key="weekdays",
            )
        ),
        vol.Optional(CONF_RULE_FROM): TimeSelector(),
        vol.Optional(CONF_RULE_UNTIL): TimeSelector(),
        vol.Optional(CONF_ANOTHER_RULE, default=False): BooleanSelector(),
    }
    return vol.Schema(fields)


def rule_form_values(rule: Mapping[str, Any], *, more: bool) -> dict[str, Any]:
    """A saved rule as the form shows it; ``more``: another follows it."""
    values: dict[str, Any] = {
        CONF_RULE_VEHICLES: list(rule.get(CONF_RULE_VEHICLES) or ()),
        CONF_RULE_CARDS: ", ".join(rule.get(CONF_RULE_CARDS) or ()),
        CONF_RULE_WEEKDAYS: list(rule.get(CONF_RULE_WEEKDAYS) or ()),
        CONF_ANOTHER_RULE: more,
    }
    for key in (CONF_RULE_FROM, CONF_RULE_UNTIL):
        if rule.get(key) is not None:
            values[key] = f"{rule[key]}:00"
    return values
