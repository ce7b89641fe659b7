"""The receiver reports a statement's state: accepted, or paid.

``POST /api/homecharge/reimbursement/<reimbursement>/statements/<YYYY-MM>``
with ``{"state": "paid", "reference": "…"}`` (or ``"accepted"``), and the
receiver's own credentials: an OCPI receiver ``Authorization: Token
<token B>``, as it calls our OCPI endpoints; a webhook receiver ``Bearer
<token>``, the one we post to it with. Answers: 200 with the state now,
400 for a body we cannot read, 401, 404 for a month without a statement.
A statement never moves back (``statement_states.advanced``).
"""

from __future__ import annotations

from http import HTTPStatus
from typing import TYPE_CHECKING, Any, Final

from aiohttp import web

from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers.http import KEY_HASS, HomeAssistantView
from homeassistant.util.hass_dict import HassKey

from ..const import DOMAIN
from ..logic.reimbursement.month import Month
from ..logic.reimbursement.statement_states import StatementState

if TYPE_CHECKING:
    from .receivers import ReceiverSync

REPORTERS: HassKey[dict[str, ReceiverSync]] = HassKey(f"{DOMAIN}_statement_reports")
# What a receiver may report (made and sent are ours to say).
REPORTABLE: Final = (StatementState.ACCEPTED, StatementState.PAID)


@callback
def async_register_statement_reports(
    hass: HomeAssistant, sync: ReceiverSync
) -> CALLBACK_TYPE:
    """Take ``sync``'s receiver's reports; returns the undo (for unload)."""
    if REPORTERS not in hass.data:
        hass.data[REPORTERS] = {}
        hass.http.register_view(StatementStateView())
    reporters = hass.data[REPORTERS]
    reporters[sync.subentry_id] = sync

    @callback
    def _remove() -> None:
        if reporters.get(sync.subentry_id) is sync:
            del reporters[sync.subentry_id]

    return _remove


class StatementStateView(HomeAssistantView):
    """A statement's state from its receiver (its token, not a HA login)."""

    url = f"/api/{DOMAIN}/reimbursement/{{subentry_id}}/statements/{{month}}"
    name = f"api:{DOMAIN}:statement_state"
    requires_auth = False

    async def post(
        self, request: web.Request, subentry_id: str, month: str
    ) -> web.Response:
        """Move the statement on."""
        sync = request.app[KEY_HASS].data.get(REPORTERS, {}).get(subentry_id)
        if sync is None or not sync.accepts(request.headers.get("Authorization")):
            return self.json_message("Unauthorized", HTTPStatus.UNAUTHORIZED)
        try:
            state, reference = _report(await request.json())
            which = Month.parse(month)
        except (ValueError, KeyError, TypeError, AttributeError):
            return self.json_message(
                'Expected {"state": "accepted" | "paid", "reference": "…"} '
                "and a month YYYY-MM",
                HTTPStatus.BAD_REQUEST,
            )
        record = await sync.async_report(which, state, reference)
        if record is None:
            return self.json_message(
                "No statement for that month", HTTPStatus.NOT_FOUND
            )
        return self.json({"month": record["month"], "state": record["state"]})


def _report(body: Any) -> tuple[StatementState, str | None]:
    """The state and reference a report's body gives (a ValueError if not)."""
    state = StatementState(body["state"])
    reference = body.get("reference")
    if state not in REPORTABLE or not isinstance(reference, str | None):
        raise ValueError(state)
    return state, reference
