"""Copy Assist's sentences into the config: the repair issue's fix flow.

Nothing is written before the user confirms; his own files stay as they are
(``runtime/sentences.py``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import voluptuous as vol

from homeassistant.components.repairs import RepairsFlow
from homeassistant.data_entry_flow import FlowResult

from ..runtime.sentences import (
    FILE_NAME,
    FOLDER,
    Installed,
    async_install,
    states,
    to_write,
)


class SentencesFixFlow(RepairsFlow):
    """Say what will be written and what is kept; write on confirm."""

    async def async_step_init(
        self, user_input: dict[str, str] | None = None
    ) -> FlowResult:
        """Straight to the confirmation."""
        return await self.async_step_confirm()

    async def async_step_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> FlowResult:
        """The languages written and the user's files kept; copy on submit."""
        if user_input is not None:
            await async_install(self.hass)
            return self.async_create_entry(data={})
        found = await self.hass.async_add_executor_job(
            states, Path(self.hass.config.config_dir)
        )
        if not (languages := to_write(found)):
            return self.async_abort(reason="nothing_to_install")
        kept = [lang for lang, state in found.items() if state is Installed.USERS]
        return self.async_show_form(
            step_id="confirm",
            data_schema=vol.Schema({}),
            description_placeholders={
                "languages": ", ".join(languages),
                "kept": ", ".join(kept) or "—",
                "folder": f"{FOLDER}/<language>/{FILE_NAME}",
            },
        )
