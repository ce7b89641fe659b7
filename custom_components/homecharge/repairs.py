"""Repair flows: the fixable repair issues' forms."""

from __future__ import annotations

from homeassistant.components.repairs import RepairsFlow
from homeassistant.core import HomeAssistant

from .flows.receiver_reauth import ReceiverReauthFlow
from .flows.sentences import SentencesFixFlow
from .runtime.receivers import REAUTH_ISSUE
from .runtime.sentences import SENTENCES_ISSUE


async def async_create_fix_flow(
    hass: HomeAssistant,
    issue_id: str,
    data: dict[str, str | int | float | None] | None,
) -> RepairsFlow:
    """The fix flow of a fixable issue: a receiver's refused token, Assist's sentences."""
    if issue_id == SENTENCES_ISSUE:
        return SentencesFixFlow()
    if not issue_id.startswith(REAUTH_ISSUE) or data is None:
        raise ValueError(f"{issue_id} has no fix flow")
    return ReceiverReauthFlow(str(data["entry_id"]), str(data["subentry_id"]))
