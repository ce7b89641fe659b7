"""A new token A for a receiver that refuses ours: the repair issue's fix flow.

The receiver answered 401/403 to a CDR (or to the handshake): sending has
stopped and a repair issue says so (``runtime/reimbursement_sync.py``). The
user asks the employer for a new token A (and, if it moved, the versions
URL); the handshake is made here, while the form is open, so a token that
does not work is said at once. On success what waited goes out.
"""

from __future__ import annotations

from typing import Any

import voluptuous as vol

from homeassistant.components.repairs import RepairsFlow
from homeassistant.config_entries import ConfigEntryState
from homeassistant.data_entry_flow import FlowResult

from ..logic.reimbursement.errors import InputError
from ..logic.reimbursement.settings import (
    CONF_RECEIVER,
    CONF_RECEIVER_TOKEN,
    CONF_RECEIVER_URL,
    ReceiverKind,
    receiver_from_form,
)
from .reimbursement import SECRET, URL, field_of

REAUTH_SCHEMA = vol.Schema(
    {
        vol.Required(CONF_RECEIVER_URL): URL,
        vol.Required(CONF_RECEIVER_TOKEN): SECRET,
    }
)


class ReceiverReauthFlow(RepairsFlow):
    """Ask for a new token A and register with it."""

    def __init__(self, entry_id: str, subentry_id: str) -> None:
        """The reimbursement whose receiver refuses our token."""
        self._entry_id = entry_id
        self._subentry_id = subentry_id

    async def async_step_init(
        self, user_input: dict[str, str] | None = None
    ) -> FlowResult:
        """Straight to the form."""
        return await self.async_step_confirm()

    async def async_step_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> FlowResult:
        """The receiver's URL and its new token A; registered at once."""
        entry = self.hass.config_entries.async_get_entry(self._entry_id)
        if (
            entry is None
            or entry.state is not ConfigEntryState.LOADED
            or (subentry := entry.subentries.get(self._subentry_id)) is None
        ):
            return self.async_abort(reason="not_loaded")
        sync = next(
            (s for s in entry.runtime_data.syncs if s.subentry_id == self._subentry_id),
            None,
        )
        if sync is None:
            # The receiver is no longer OCPI (reconfigured): nothing to fix.
            return self.async_abort(reason="not_loaded")
        errors: dict[str, str] = {}
        if user_input is not None:
            try:
                receiver = receiver_from_form(
                    {**user_input, CONF_RECEIVER: ReceiverKind.OCPI}
                )
                await sync.async_reregister(
                    receiver[CONF_RECEIVER_URL], receiver[CONF_RECEIVER_TOKEN]
                )
            except InputError as err:
                errors[field_of(err.code)] = err.code
            else:
                return self.async_create_entry(data={})
        suggested = user_input or {
            CONF_RECEIVER_URL: subentry.data.get(CONF_RECEIVER_URL)
        }
        return self.async_show_form(
            step_id="confirm",
            data_schema=self.add_suggested_values_to_schema(REAUTH_SCHEMA, suggested),
            errors=errors,
            description_placeholders={"reimbursement": subentry.title},
        )
