"""The statement actions: make a month's statements, and move one on."""

from __future__ import annotations

from typing import Final

import voluptuous as vol

from homeassistant.config_entries import ConfigSubentry
from homeassistant.core import ServiceCall, ServiceResponse
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import config_validation as cv
from homeassistant.util import dt as dt_util
from homeassistant.util.json import JsonValueType

from .const import DOMAIN
from .logic.reimbursement.month import Month
from .logic.reimbursement.statement_states import StatementState
from .runtime.statements import StatementBook
from .session_services import ATTR_CONFIG_ENTRY, ATTR_MONTH, _month

ATTR_REIMBURSEMENT: Final = "reimbursement"
ATTR_STATE: Final = "state"
ATTR_REFERENCE: Final = "reference"
MAKE_STATEMENT_SCHEMA: Final = vol.Schema(
    {
        vol.Required(ATTR_CONFIG_ENTRY): cv.string,
        vol.Optional(ATTR_REIMBURSEMENT): cv.string,
        vol.Optional(ATTR_MONTH): _month,
    }
)
SET_STATEMENT_STATE_SCHEMA: Final = vol.Schema(
    {
        vol.Required(ATTR_CONFIG_ENTRY): cv.string,
        vol.Required(ATTR_REIMBURSEMENT): cv.string,
        vol.Required(ATTR_MONTH): _month,
        vol.Optional(ATTR_STATE, default=StatementState.PAID.value): vol.In(
            [StatementState.ACCEPTED.value, StatementState.PAID.value]
        ),
        vol.Optional(ATTR_REFERENCE): vol.All(cv.string, vol.Length(max=100)),
    }
)


def _reimbursement(book: StatementBook, name: str) -> ConfigSubentry:
    """A reimbursement by its driver's name; else a clear error."""
    found = book.reimbursement(name)
    if found is None:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="unknown_reimbursement",
            translation_placeholders={"reimbursement": name},
        )
    return found


async def make_statements(call: ServiceCall, book: StatementBook) -> ServiceResponse:
    """A month's statements (last month's unless given), one driver's or all."""
    zone = dt_util.get_default_time_zone()
    month: Month = call.data.get(
        ATTR_MONTH, Month.of(dt_util.utcnow(), zone).previous()
    )
    if (name := call.data.get(ATTR_REIMBURSEMENT)) is not None:
        chosen = [_reimbursement(book, name)]
    else:
        chosen = book.reimbursements()
    records: list[JsonValueType] = []
    for subentry in chosen:
        record = await book.async_make(subentry, month)
        records.append({"reimbursement": subentry.title, **record})
    return {"statements": records}


async def set_statement_state(call: ServiceCall, book: StatementBook) -> None:
    """A made statement accepted or paid, as the user says (never back)."""
    subentry = _reimbursement(book, call.data[ATTR_REIMBURSEMENT])
    month: Month = call.data[ATTR_MONTH]
    record = await book.async_report(
        subentry,
        month,
        StatementState(call.data[ATTR_STATE]),
        call.data.get(ATTR_REFERENCE),
    )
    if record is None:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="unknown_statement",
            translation_placeholders={
                "reimbursement": subentry.title,
                "month": str(month),
            },
        )
