"""The person subentry flow: who may charge at a place's chargers, when, with which cards."""

from __future__ import annotations

import re
from typing import Any, Final

import voluptuous as vol

from homeassistant.const import CONF_NAME
from homeassistant.helpers.selector import (
    DateTimeSelector,
    SelectOptionDict,
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
    TextSelector,
    TextSelectorConfig,
    TextSelectorType,
)
from homeassistant.util import dt as dt_util

from ..const import CONF_CHARGE_POINT_ID, SUBENTRY_CHARGER, SUBENTRY_PERSON
from ..logic.access import (
    CONF_CARD_EXPIRY,
    CONF_CARDS,
    CONF_CHARGERS,
    CONF_WINDOW_END,
    CONF_WINDOW_START,
    local_instants,
    person_from,
    taken_cards,
    window_error,
    window_from,
)
from ..logic.vehicles import MAX_ID_TAG, parse_id_tags
from .named_subentry import NamedSubentryFlow

CONF_MOBILE: Final = "mobile"
CONF_EMAIL: Final = "email"

# E.164: a plus, a country code and up to 15 digits in all (spaces allowed).
_E164: Final = re.compile(r"\+[1-9]\d{6,14}")
_EMAIL: Final = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


def mobile_number(value: object) -> str | None:
    """A mobile number in E.164 (spaces and dashes dropped), or None if it is not one."""
    number = re.sub(r"[\s\-()]", "", str(value or ""))
    return number if _E164.fullmatch(number) else None


class PersonSubentryFlow(NamedSubentryFlow):
    """Add a person (family, a guest, a renter) to a place, or change one."""

    def schema(self) -> vol.Schema:
        """The person's fields; the chargers are the place's."""
        chargers = [
            SelectOptionDict(value=str(sub.data[CONF_CHARGE_POINT_ID]), label=sub.title)
            for sub in self._get_entry().subentries.values()
            if sub.subentry_type == SUBENTRY_CHARGER
        ]
        return vol.Schema(
            {
                vol.Required(CONF_NAME): TextSelector(),
                vol.Required(CONF_MOBILE): TextSelector(
                    TextSelectorConfig(type=TextSelectorType.TEL)
                ),
                vol.Optional(CONF_EMAIL): TextSelector(
                    TextSelectorConfig(type=TextSelectorType.EMAIL)
                ),
                vol.Required(CONF_CHARGERS): SelectSelector(
                    SelectSelectorConfig(
                        options=chargers,
                        multiple=True,
                        mode=SelectSelectorMode.LIST,
                    )
                ),
                vol.Optional(CONF_WINDOW_START): DateTimeSelector(),
                vol.Optional(CONF_WINDOW_END): DateTimeSelector(),
                vol.Optional(CONF_CARDS): TextSelector(
                    TextSelectorConfig(multiple=True)
                ),
                vol.Optional(CONF_CARD_EXPIRY): DateTimeSelector(),
            }
        )

    def errors(self, user_input: dict[str, Any], key: str | None) -> dict[str, str]:
        """Each bad field with its translated error."""
        errors: dict[str, str] = {}
        zone = dt_util.get_default_time_zone()
        now = dt_util.utcnow()
        if not str(user_input.get(CONF_NAME, "")).strip():
            errors[CONF_NAME] = "name_empty"
        if mobile_number(user_input.get(CONF_MOBILE)) is None:
            errors[CONF_MOBILE] = "invalid_mobile"
        email = str(user_input.get(CONF_EMAIL) or "").strip()
        if email and not _EMAIL.fullmatch(email):
            errors[CONF_EMAIL] = "invalid_email"
        if not user_input.get(CONF_CHARGERS):
            errors[CONF_CHARGERS] = "no_chargers"
        window = window_from(
            user_input.get(CONF_WINDOW_START), user_input.get(CONF_WINDOW_END), zone
        )
        if problem := window_error(window, now):
            errors[CONF_WINDOW_END] = problem
        expiry = user_input.get(CONF_CARD_EXPIRY)
        if expiry and local_instants(expiry, zone)[0] <= now:
            errors[CONF_CARD_EXPIRY] = "card_expired"
        tags = parse_id_tags(user_input.get(CONF_CARDS, ()))
        others = [
            person_from(sub.subentry_id, sub.title, sub.data, zone)
            for sub in self._get_entry().subentries.values()
            if sub.subentry_type == SUBENTRY_PERSON
        ]
        if any(len(tag) > MAX_ID_TAG for tag in tags):
            errors[CONF_CARDS] = "id_tag_too_long"
        elif taken_cards(tags, others, except_key=key):
            errors[CONF_CARDS] = "card_taken"
        return errors

    def data(self, user_input: dict[str, Any]) -> dict[str, Any]:
        """The person's data."""
        return person_data(user_input)


def person_data(user_input: dict[str, Any]) -> dict[str, Any]:
    """Subentry data of a person from the form; what was left empty is None."""
    return {
        CONF_MOBILE: mobile_number(user_input.get(CONF_MOBILE)),
        CONF_EMAIL: str(user_input.get(CONF_EMAIL) or "").strip() or None,
        CONF_CHARGERS: list(user_input.get(CONF_CHARGERS) or ()),
        CONF_WINDOW_START: user_input.get(CONF_WINDOW_START) or None,
        CONF_WINDOW_END: user_input.get(CONF_WINDOW_END) or None,
        CONF_CARDS: list(parse_id_tags(user_input.get(CONF_CARDS, ()))),
        CONF_CARD_EXPIRY: user_input.get(CONF_CARD_EXPIRY) or None,
    }
