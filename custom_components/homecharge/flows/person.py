"""The person subentry flow: who may charge at a place's chargers, when, with which cards."""

from __future__ import annotations

from typing import Any

import voluptuous as vol

from homeassistant.auth.models import User
from homeassistant.config_entries import SubentryFlowResult
from homeassistant.const import CONF_NAME
from homeassistant.helpers.selector import (
    DateTimeSelector,
    EntitySelector,
    EntitySelectorConfig,
    SelectOptionDict,
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
    TextSelector,
    TextSelectorConfig,
    TextSelectorType,
)
from homeassistant.util import dt as dt_util

from ..const import CONF_CHARGE_POINT_ID, SUBENTRY_CHARGER
from ..logic.access import (
    CONF_CARD_EXPIRY,
    CONF_CARDS,
    CONF_CHARGERS,
    CONF_EMAIL,
    CONF_MOBILE,
    CONF_PRIORITY,
    CONF_USER,
    CONF_WINDOW_END,
    CONF_WINDOW_START,
    mobile_number,
    person_errors,
)
from ..logic.allocation import Priority
from ..logic.proximity import CONF_PHONE, CONF_PHONE_ENTITY, PRESENCE_DOMAINS
from ..logic.vehicles import parse_id_tags
from ..runtime.charger_access import people_of
from .charger import PRIORITY_SELECTOR
from .named_subentry import NamedSubentryFlow


class PersonSubentryFlow(NamedSubentryFlow):
    """Add a person (family, a guest, a renter) to a place, or change one."""

    _users: list[User]

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
                vol.Optional(
                    CONF_PRIORITY, default=Priority.LOW.name.lower()
                ): PRIORITY_SELECTOR,
                vol.Optional(CONF_PHONE): TextSelector(),
                vol.Optional(CONF_PHONE_ENTITY): EntitySelector(
                    EntitySelectorConfig(domain=list(PRESENCE_DOMAINS))
                ),
                vol.Optional(CONF_USER): SelectSelector(
                    SelectSelectorConfig(
                        options=[
                            SelectOptionDict(value=user.id, label=user.name or user.id)
                            for user in self._users
                        ],
                        mode=SelectSelectorMode.DROPDOWN,
                    )
                ),
            }
        )

    async def _async_form(
        self, step_id: str, user_input: dict[str, Any] | None, key: str | None
    ) -> SubentryFlowResult:
        # A person's login is an ordinary (non-admin) user of Home Assistant;
        # the selector refuses any other.
        self._users = [
            user
            for user in await self.hass.auth.async_get_users()
            if user.is_active and not user.system_generated and not user.is_admin
        ]
        return await super()._async_form(step_id, user_input, key)

    def errors(self, user_input: dict[str, Any], key: str | None) -> dict[str, str]:
        """Each bad field with its translated error (``logic/access.py``)."""
        return person_errors(
            user_input,
            others=people_of(self._get_entry()),
            key=key,
            zone=dt_util.get_default_time_zone(),
            now=dt_util.utcnow(),
        )

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
        CONF_PHONE: str(user_input.get(CONF_PHONE) or "").strip() or None,
        CONF_PHONE_ENTITY: user_input.get(CONF_PHONE_ENTITY) or None,
        CONF_USER: user_input.get(CONF_USER) or None,
        CONF_PRIORITY: user_input.get(CONF_PRIORITY) or Priority.LOW.name.lower(),
    }
