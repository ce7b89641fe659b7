"""A place's subentry that is a named thing with a form: added, and changed the same way.

Vehicles and people are each one form: the name is the subentry's title, the
rest its data; the reconfigure step shows what was saved. A flow gives its
schema, its checks and how the form becomes data.
"""

from __future__ import annotations

from typing import Any

import voluptuous as vol

from homeassistant.config_entries import ConfigSubentryFlow, SubentryFlowResult
from homeassistant.const import CONF_NAME

from ..logic.vehicles import MAX_ID_TAG


class NamedSubentryFlow(ConfigSubentryFlow):
    """Add a named subentry to a place, or change one, through one form."""

    async def async_step_user(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """Ask for it."""
        return await self._async_form("user", user_input, None)

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """Change it."""
        return await self._async_form(
            "reconfigure", user_input, self._get_reconfigure_subentry().subentry_id
        )

    def schema(self) -> vol.Schema:
        """The form's fields."""
        raise NotImplementedError

    def errors(self, user_input: dict[str, Any], key: str | None) -> dict[str, str]:
        """Field errors of the form (``key``: the subentry being changed)."""
        raise NotImplementedError

    def data(self, user_input: dict[str, Any]) -> dict[str, Any]:
        """The subentry's data from the form."""
        raise NotImplementedError

    async def _async_form(
        self, step_id: str, user_input: dict[str, Any] | None, key: str | None
    ) -> SubentryFlowResult:
        errors: dict[str, str] = {}
        if user_input is not None:
            errors = self.errors(user_input, key)
            if not errors:
                title = str(user_input[CONF_NAME]).strip()
                data = self.data(user_input)
                if key is None:
                    return self.async_create_entry(title=title, data=data)
                return self.async_update_and_abort(
                    self._get_entry(),
                    self._get_reconfigure_subentry(),
                    title=title,
                    data=data,
                )
        suggested: dict[str, Any] = user_input or {}
        if key is not None and user_input is None:
            subentry = self._get_reconfigure_subentry()
            suggested = {CONF_NAME: subentry.title, **subentry.data}
        return self.async_show_form(
            step_id=step_id,
            data_schema=self.add_suggested_values_to_schema(self.schema(), suggested),
            errors=errors,
            description_placeholders={"max_tag": str(MAX_ID_TAG)},
        )
