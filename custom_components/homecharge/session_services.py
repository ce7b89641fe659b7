"""Session actions: report, export and annotate a place's charging sessions."""

from __future__ import annotations

import csv
from datetime import date, datetime, time, timedelta
import json
from pathlib import Path
from typing import Any, Final

import voluptuous as vol

from homeassistant.const import ATTR_DEVICE_ID
from homeassistant.core import HomeAssistant, ServiceCall, ServiceResponse
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import config_validation as cv
from homeassistant.util import dt as dt_util, slugify
from homeassistant.util.json import JsonValueType

from .const import DOMAIN
from .logic.reimbursement.month import Month
from .logic.sessions.model import Classification, Session
from .logic.sessions.reports import (
    COLUMNS,
    GroupBy,
    Outlet,
    SessionFilter,
    Totals,
    at_outlets,
    grouped,
    row,
    slot_totals,
)
from .runtime.place import loaded_place
from .runtime.sessions import PlaceSessions

ATTR_CONFIG_ENTRY: Final = "config_entry_id"
ATTR_START: Final = "start"
ATTR_END: Final = "end"
ATTR_ID_TAG: Final = "id_tag"
ATTR_PERSON: Final = "person"
ATTR_CLASSIFICATION: Final = "classification"
ATTR_GROUP_BY: Final = "group_by"
ATTR_INCLUDE_SESSIONS: Final = "include_sessions"
ATTR_FORMAT: Final = "format"
ATTR_TRANSACTION: Final = "transaction_id"
ATTR_NOTE: Final = "note"
ATTR_MONTH: Final = "month"
ATTR_VEHICLE: Final = "vehicle"

EXPORT_FOLDER: Final = ("homecharge", "exports")


def _moment(value: Any) -> date | datetime:
    """A date (a whole local day) or a date and time."""
    if isinstance(value, datetime | date):
        return value
    text = str(value)
    if (day := dt_util.parse_date(text)) is not None:
        return day
    if (moment := dt_util.parse_datetime(text)) is not None:
        return moment
    raise vol.Invalid(f"not a date or time: {text}")


FILTER: Final = {
    vol.Required(ATTR_CONFIG_ENTRY): cv.string,
    vol.Optional(ATTR_DEVICE_ID): vol.All(cv.ensure_list, [cv.string]),
    vol.Optional(ATTR_START): _moment,
    vol.Optional(ATTR_END): _moment,
    vol.Optional(ATTR_ID_TAG): vol.All(cv.ensure_list, [cv.string]),
    vol.Optional(ATTR_PERSON): vol.All(cv.ensure_list, [cv.string]),
    vol.Optional(ATTR_CLASSIFICATION): vol.In([c.value for c in Classification]),
}
GET_SESSIONS_SCHEMA: Final = vol.Schema(
    {
        **FILTER,
        vol.Optional(ATTR_GROUP_BY): vol.In([g.value for g in GroupBy]),
        vol.Optional(ATTR_INCLUDE_SESSIONS, default=True): cv.boolean,
    }
)
EXPORT_SESSIONS_SCHEMA: Final = vol.Schema(
    {**FILTER, vol.Optional(ATTR_FORMAT, default="csv"): vol.In(["csv", "json"])}
)
UPDATE_SESSION_SCHEMA: Final = vol.Schema(
    {
        vol.Required(ATTR_DEVICE_ID): cv.string,
        vol.Required(ATTR_TRANSACTION): cv.string,
        vol.Optional(ATTR_CLASSIFICATION): vol.In([c.value for c in Classification]),
        vol.Optional(ATTR_NOTE): vol.All(cv.string, vol.Length(max=500)),
    }
)


CLASSIFY_SESSION_SCHEMA: Final = vol.Schema(
    {
        vol.Required(ATTR_DEVICE_ID): cv.string,
        vol.Required(ATTR_TRANSACTION): cv.string,
        vol.Required(ATTR_CLASSIFICATION): vol.In([c.value for c in Classification]),
    }
)


def _month(value: Any) -> Month:
    try:
        return Month.parse(str(value))
    except ValueError as err:
        raise vol.Invalid(f"not a month (YYYY-MM): {value}") from err


CLASSIFY_SESSIONS_SCHEMA: Final = vol.Schema(
    {
        vol.Required(ATTR_CONFIG_ENTRY): cv.string,
        vol.Required(ATTR_CLASSIFICATION): vol.In([c.value for c in Classification]),
        vol.Optional(ATTR_MONTH): _month,
        vol.Optional(ATTR_DEVICE_ID): vol.All(cv.ensure_list, [cv.string]),
        vol.Optional(ATTR_VEHICLE): vol.All(cv.ensure_list, [cv.string]),
        vol.Optional(ATTR_ID_TAG): vol.All(cv.ensure_list, [cv.string]),
    }
)


def place_sessions(hass: HomeAssistant, entry_id: str) -> PlaceSessions:
    """A loaded place's sessions; else a clear error."""
    return loaded_place(hass, entry_id).sessions


def _bound(value: date | datetime | None, *, end: bool) -> datetime | None:
    """A filter's bound in UTC; an end date includes its whole day."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return dt_util.as_utc(
            value if value.tzinfo else value.replace(tzinfo=dt_util.DEFAULT_TIME_ZONE)
        )
    day = value + timedelta(days=1) if end else value
    return dt_util.as_utc(
        datetime.combine(day, time.min, tzinfo=dt_util.get_default_time_zone())
    )


async def _select(
    call: ServiceCall, chargers: frozenset[Outlet] | None, only: str | None = None
) -> tuple[list[Session], SessionFilter]:
    data = call.data
    start = _bound(data.get(ATTR_START), end=False)
    end = _bound(data.get(ATTR_END), end=True)
    if start is not None and end is not None and end <= start:
        raise ServiceValidationError(
            translation_domain=DOMAIN, translation_key="period_reversed"
        )
    wanted = SessionFilter(
        start=start,
        end=end,
        chargers=chargers,
        id_tags=frozenset(data[ATTR_ID_TAG]) if ATTR_ID_TAG in data else None,
        people=frozenset([only])
        if only is not None
        else frozenset(data[ATTR_PERSON])
        if ATTR_PERSON in data
        else None,
        classification=Classification(data[ATTR_CLASSIFICATION])
        if ATTR_CLASSIFICATION in data
        else None,
    )
    sessions = await place_sessions(call.hass, data[ATTR_CONFIG_ENTRY]).async_sessions(
        start, end
    )
    return [s for s in sessions if wanted.matches(s)], wanted


def _totals(totals: Totals) -> dict[str, JsonValueType]:
    return {
        "sessions": totals.sessions,
        "energy_kwh": round(totals.wh / 1000, 3),
        "cost": round(totals.cost, 2),
        "cost_complete": totals.complete,
    }


async def async_get_sessions(
    call: ServiceCall, chargers: frozenset[Outlet] | None, only: str | None = None
) -> ServiceResponse:
    """The sessions that match, their totals, and groups if asked for.

    ``only``: a person whose sessions alone are shown (a guest asking).
    """
    sessions, _wanted = await _select(call, chargers, only)
    zone = dt_util.get_default_time_zone()
    total = Totals()
    for session in sessions:
        total += slot_totals(session)
    response: dict[str, JsonValueType] = {"totals": _totals(total)}
    if by := call.data.get(ATTR_GROUP_BY):
        response["groups"] = {
            key: _totals(value)
            for key, value in grouped(sessions, GroupBy(by), zone).items()
        }
    if call.data[ATTR_INCLUDE_SESSIONS]:
        response["sessions"] = [row(session, zone) for session in sessions]
    return response


async def async_export_sessions(
    call: ServiceCall, chargers: frozenset[Outlet] | None
) -> ServiceResponse:
    """Write the sessions that match to a file under the config folder."""
    sessions, wanted = await _select(call, chargers)
    zone = dt_util.get_default_time_zone()
    rows = [row(session, zone) for session in sessions]
    entry = call.hass.config_entries.async_get_entry(call.data[ATTR_CONFIG_ENTRY])
    title = entry.title if entry is not None else "place"
    fmt = call.data[ATTR_FORMAT]
    first = wanted.start or (sessions[0].started if sessions else dt_util.utcnow())
    last = wanted.end or dt_util.utcnow()
    name = "_".join(
        [
            "sessions",
            slugify(title),
            dt_util.as_local(first).strftime("%Y%m%d"),
            dt_util.as_local(last).strftime("%Y%m%d"),
        ]
    )
    path = Path(call.hass.config.path(*EXPORT_FOLDER, f"{name}.{fmt}"))
    await call.hass.async_add_executor_job(_write, path, rows, fmt)
    return {"path": str(path), "sessions": len(rows)}


def _write(path: Path, rows: list[dict[str, Any]], fmt: str) -> None:
    """Write the rows (in the executor), replacing the file whole."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(f"{path.suffix}.part")
    with partial.open("w", encoding="utf-8", newline="") as file:
        if fmt == "json":
            json.dump(rows, file, ensure_ascii=False, indent=1)
        else:
            writer = csv.DictWriter(file, fieldnames=COLUMNS)
            writer.writeheader()
            writer.writerows(rows)
    partial.replace(path)


def update_session(
    call: ServiceCall, sessions: PlaceSessions, charge_point_id: str
) -> ServiceResponse:
    """Classify or annotate a session; the change is listed with who made it."""
    key = (charge_point_id, call.data[ATTR_TRANSACTION])
    if sessions.ledger.get(key) is None:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="unknown_session",
            translation_placeholders={"transaction_id": key[1]},
        )
    fields = {
        name: call.data[name]
        for name in (ATTR_CLASSIFICATION, ATTR_NOTE)
        if name in call.data
    }
    session = sessions.amend(key, by=call.context.user_id, **fields)
    return row(session, dt_util.get_default_time_zone())


def classify_sessions(
    call: ServiceCall, sessions: PlaceSessions, chargers: frozenset[Outlet] | None
) -> ServiceResponse:
    """
    Classify a month's finished sessions at once (a charger's, a vehicle's).

    The month is this one unless given; only this month's and last month's
    sessions can change (older ones are archived, as a statement keeps them).
    Vehicles are matched by their name. Sessions already classified so stay
    as they are (their history is not padded with changes to the same).
    """
    zone = dt_util.get_default_time_zone()
    now = Month.of(dt_util.utcnow(), zone)
    month: Month = call.data.get(ATTR_MONTH, now)
    if month not in (now, now.previous()):
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="month_archived",
            translation_placeholders={"month": str(month)},
        )
    wanted = Classification(call.data[ATTR_CLASSIFICATION])
    vehicles = _vehicle_names(sessions, call.data.get(ATTR_VEHICLE))
    tags = {tag.casefold() for tag in call.data.get(ATTR_ID_TAG, ())}
    changed: list[JsonValueType] = []
    for session in list(sessions.ledger):
        if (
            not session.finished
            or session.classification is wanted
            or not month.contains(session.started, zone)
            or not at_outlets(session, chargers)
            or (
                vehicles is not None
                and (session.vehicle or "").casefold() not in vehicles
            )
            or (tags and (session.id_tag or "").casefold() not in tags)
        ):
            continue
        sessions.amend(session.key, by=call.context.user_id, classification=wanted)
        changed.append(session.transaction_id)
    return {"month": str(month), "classification": wanted.value, "changed": changed}


def _vehicle_names(
    sessions: PlaceSessions, names: list[str] | None
) -> frozenset[str] | None:
    """The vehicles named, case-folded (a clear error for one not of the place)."""
    if names is None:
        return None
    known = {vehicle.name.casefold() for vehicle in sessions.vehicles}
    if unknown := [name for name in names if name.casefold() not in known]:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="unknown_vehicle",
            translation_placeholders={"vehicle": ", ".join(unknown)},
        )
    return frozenset(name.casefold() for name in names)
