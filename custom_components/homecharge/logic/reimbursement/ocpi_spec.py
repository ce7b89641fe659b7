"""OCPI 2.2.1's rules for a CDR and its response envelope, as the spec states.

Read from the specification (ocpi/ocpi, tag 2.2.1): ``mod_cdrs.asciidoc``
(the CDR, CdrToken, CdrLocation, ChargingPeriod, CdrDimension and AuthMethod
tables), ``mod_tariffs.asciidoc`` (Tariff, TariffElement, PriceComponent,
TariffDimensionType), ``mod_locations.asciidoc`` (GeoLocation,
ConnectorType, ConnectorFormat, PowerType), ``mod_tokens.asciidoc``
(TokenType), ``types.asciidoc`` (CiString: printable ASCII; string:
printable UTF-8; DateTime: RFC 3339 in UTC; Price) and
``status_codes.asciidoc``. A CDR we build is checked against these before
it is queued, so a receiver never has to refuse one of ours.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
import json
import re
from typing import Any, Final

# (name, kind, required, max length); kinds: ci (CiString), str, num, int,
# bool, dt (DateTime), or an object/list checker below.
type Field = tuple[str, str, bool, int | None]

CDR_FIELDS: Final[tuple[Field, ...]] = (
    ("country_code", "ci", True, 2),
    ("party_id", "ci", True, 3),
    ("id", "ci", True, 39),
    ("start_date_time", "dt", True, None),
    ("end_date_time", "dt", True, None),
    ("session_id", "ci", False, 36),
    ("cdr_token", "token", True, None),
    ("auth_method", "auth", True, None),
    ("authorization_reference", "ci", False, 36),
    ("cdr_location", "location", True, None),
    ("meter_id", "str", False, 255),
    ("currency", "currency", True, None),
    ("tariffs", "tariffs", False, None),
    ("charging_periods", "periods", True, None),
    ("total_cost", "price", True, None),
    ("total_fixed_cost", "price", False, None),
    ("total_energy", "num", True, None),
    ("total_energy_cost", "price", False, None),
    ("total_time", "num", True, None),
    ("total_time_cost", "price", False, None),
    ("total_parking_time", "num", False, None),
    ("total_parking_cost", "price", False, None),
    ("total_reservation_cost", "price", False, None),
    ("remark", "str", False, 255),
    ("invoice_reference_id", "ci", False, 39),
    ("credit", "bool", False, None),
    ("credit_reference_id", "ci", False, 39),
    ("home_charging_compensation", "bool", False, None),
    ("last_updated", "dt", True, None),
)
TOKEN_FIELDS: Final[tuple[Field, ...]] = (
    ("country_code", "ci", True, 2),
    ("party_id", "ci", True, 3),
    ("uid", "ci", True, 36),
    ("type", "token_type", True, None),
    ("contract_id", "ci", True, 36),
)
LOCATION_FIELDS: Final[tuple[Field, ...]] = (
    ("id", "ci", True, 36),
    ("name", "str", False, 255),
    ("address", "str", True, 45),
    ("city", "str", True, 45),
    ("postal_code", "str", False, 10),
    ("state", "str", False, 20),
    ("country", "alpha3", True, None),
    ("coordinates", "geo", True, None),
    ("evse_uid", "ci", True, 36),
    ("evse_id", "ci", True, 48),
    ("connector_id", "ci", True, 36),
    ("connector_standard", "connector", True, None),
    ("connector_format", "format", True, None),
    ("connector_power_type", "power", True, None),
)
TARIFF_FIELDS: Final[tuple[Field, ...]] = (
    ("country_code", "ci", True, 2),
    ("party_id", "ci", True, 3),
    ("id", "ci", True, 36),
    ("currency", "currency", True, None),
    ("elements", "elements", True, None),
    ("last_updated", "dt", True, None),
)
PERIOD_FIELDS: Final[tuple[Field, ...]] = (
    ("start_date_time", "dt", True, None),
    ("dimensions", "dimensions", True, None),
    ("tariff_id", "ci", False, 36),
)

AUTH_METHODS: Final = frozenset({"AUTH_REQUEST", "COMMAND", "WHITELIST"})
TOKEN_TYPES: Final = frozenset({"AD_HOC_USER", "APP_USER", "OTHER", "RFID"})
# CdrDimensionType without the "Session only" ones.
CDR_DIMENSIONS: Final = frozenset(
    {"ENERGY", "MAX_CURRENT", "MIN_CURRENT", "MAX_POWER", "MIN_POWER"}
    | {"PARKING_TIME", "RESERVATION_TIME", "TIME"}
)
TARIFF_DIMENSIONS: Final = frozenset({"ENERGY", "FLAT", "PARKING_TIME", "TIME"})
CONNECTOR_FORMATS: Final = frozenset({"SOCKET", "CABLE"})
POWER_TYPES: Final = frozenset(
    {"AC_1_PHASE", "AC_2_PHASE", "AC_2_PHASE_SPLIT", "AC_3_PHASE", "DC"}
)
CONNECTOR_TYPES: Final = frozenset(
    {"CHADEMO", "CHAOJI", "GBT_AC", "GBT_DC", "TESLA_R", "TESLA_S"}
    | {f"DOMESTIC_{letter}" for letter in "ABCDEFGHIJKLMNO"}
    | {"IEC_60309_2_single_16", "IEC_60309_2_three_16", "IEC_60309_2_three_32"}
    | {"IEC_60309_2_three_64", "IEC_62196_T1", "IEC_62196_T1_COMBO"}
    | {"IEC_62196_T2", "IEC_62196_T2_COMBO", "IEC_62196_T3A", "IEC_62196_T3C"}
    | {f"NEMA_{n}" for n in ("5_20", "6_30", "6_50", "10_30", "10_50")}
    | {"NEMA_14_30", "NEMA_14_50", "PANTOGRAPH_BOTTOM_UP", "PANTOGRAPH_TOP_DOWN"}
)
# Normal CDR ids are at most 36; 39 leaves room for a credit's suffix.
MAX_CDR_ID: Final = 36

_DATETIME: Final = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z?")
_LATITUDE: Final = re.compile(r"-?[0-9]{1,2}\.[0-9]{5,7}")
_LONGITUDE: Final = re.compile(r"-?[0-9]{1,3}\.[0-9]{5,7}")


PRICE_FIELDS: Final[tuple[Field, ...]] = (
    ("excl_vat", "num", True, None),
    ("incl_vat", "num", False, None),
)
DIMENSION_FIELDS: Final[tuple[Field, ...]] = (
    ("type", "dimension", True, None),
    ("volume", "num", True, None),
)
ELEMENT_FIELDS: Final[tuple[Field, ...]] = (
    ("price_components", "components", True, None),
)
COMPONENT_FIELDS: Final[tuple[Field, ...]] = (
    ("type", "tariff_dimension", True, None),
    ("price", "num", True, None),
    ("vat", "num", False, None),
    ("step_size", "int", True, None),
)
_OBJECTS: Final[dict[str, tuple[Field, ...]]] = {
    "price": PRICE_FIELDS,
    "token": TOKEN_FIELDS,
    "location": LOCATION_FIELDS,
}
# Lists of objects, and whether one may be empty (card. * rather than +).
_LISTS: Final[dict[str, tuple[tuple[Field, ...], bool]]] = {
    "tariffs": (TARIFF_FIELDS, True),
    "periods": (PERIOD_FIELDS, False),
    "dimensions": (DIMENSION_FIELDS, False),
    "elements": (ELEMENT_FIELDS, False),
    "components": (COMPONENT_FIELDS, False),
}
_ENUMS: Final[dict[str, frozenset[str]]] = {
    "auth": AUTH_METHODS,
    "token_type": TOKEN_TYPES,
    "connector": CONNECTOR_TYPES,
    "format": CONNECTOR_FORMATS,
    "power": POWER_TYPES,
    "dimension": CDR_DIMENSIONS,
    "tariff_dimension": TARIFF_DIMENSIONS,
}
_PATTERNS: Final[dict[str, tuple[re.Pattern[str], str]]] = {
    "dt": (_DATETIME, "not an OCPI DateTime"),
    "currency": (re.compile(r"[A-Z]{3}"), "not an ISO 4217 code"),
    "alpha3": (re.compile(r"[A-Z]{3}"), "not an ISO 3166-1 alpha-3 code"),
}


def _scalar(value: object, kind: str, length: int | None) -> str | None:
    """What is wrong with a plain value of the kind, if anything."""
    if kind in ("ci", "str"):
        if not isinstance(value, str):
            return "not a string"
        if length is not None and len(value) > length:
            return f"longer than {length}"
        if kind == "ci" and not all(" " <= c <= "~" for c in value):
            return "not printable ASCII"
        return None if value.isprintable() else "not printable"
    if kind in _PATTERNS:
        pattern, problem = _PATTERNS[kind]
        if not isinstance(value, str) or not pattern.fullmatch(value):
            return problem
        return "longer than 25" if kind == "dt" and len(value) > 25 else None
    if kind in ("num", "int"):
        number = isinstance(value, int | float) and not isinstance(value, bool)
        return (
            None
            if number and (kind == "num" or isinstance(value, int))
            else ("not a number")
        )
    if kind == "bool":
        return None if isinstance(value, bool) else "not a boolean"
    if kind in _ENUMS:
        return None if value in _ENUMS[kind] else f"{value!r} is not allowed"
    if kind == "geo":
        if not isinstance(value, Mapping):
            return "not an object"
        lat, lon = value.get("latitude"), value.get("longitude")
        if not (isinstance(lat, str) and _LATITUDE.fullmatch(lat)) or not (
            isinstance(lon, str) and _LONGITUDE.fullmatch(lon)
        ):
            return "latitude/longitude not in decimal degrees as OCPI writes them"
        return None
    raise ValueError(kind)


def _check_object(
    value: object, fields: tuple[Field, ...], where: str, problems: list[str]
) -> None:
    if not isinstance(value, Mapping):
        problems.append(f"{where or 'CDR'}: not an object")
        return
    for name, kind, required, length in fields:
        path = f"{where}.{name}" if where else name
        if value.get(name) is None:
            if required:
                problems.append(f"{path}: required")
            continue
        _check_value(value[name], kind, length, path, problems)


def _check_value(
    value: object, kind: str, length: int | None, path: str, problems: list[str]
) -> None:
    if kind in _OBJECTS:
        _check_object(value, _OBJECTS[kind], path, problems)
    elif kind in _LISTS:
        fields, may_be_empty = _LISTS[kind]
        if not isinstance(value, list):
            problems.append(f"{path}: not a list")
            return
        if not value and not may_be_empty:
            problems.append(f"{path}: at least one")
        for i, entry in enumerate(value):
            _check_object(entry, fields, f"{path}[{i}]", problems)
    elif (problem := _scalar(value, kind, length)) is not None:
        problems.append(f"{path}: {problem}")


def cdr_problems(cdr: object) -> list[str]:
    """What makes the CDR not one OCPI 2.2.1 allows (empty when it is)."""
    problems: list[str] = []
    if not isinstance(cdr, Mapping):
        return ["CDR: not an object"]
    _check_object(cdr, CDR_FIELDS, "", problems)
    credit = cdr.get("credit") is True
    if credit and not cdr.get("credit_reference_id"):
        problems.append("credit_reference_id: required for a credit CDR")
    if not credit and cdr.get("credit_reference_id"):
        problems.append("credit_reference_id: only for a credit CDR")
    if not credit and isinstance(cdr.get("id"), str) and len(cdr["id"]) > MAX_CDR_ID:
        problems.append(f"id: longer than {MAX_CDR_ID} for a CDR that is no credit")
    tariff_ids = {
        t.get("id") for t in cdr.get("tariffs") or [] if isinstance(t, Mapping)
    }
    for i, period in enumerate(cdr.get("charging_periods") or []):
        if (
            isinstance(period, Mapping)
            and period.get("tariff_id") is not None
            and period["tariff_id"] not in tariff_ids
        ):
            problems.append(f"charging_periods[{i}].tariff_id: no such tariff")
    return problems


class StatusClass(StrEnum):
    """What an OCPI response's status_code says (status_codes.asciidoc)."""

    SUCCESS = "success"  # 1xxx
    CLIENT_ERROR = "client_error"  # 2xxx: what we sent cannot be processed
    SERVER_ERROR = "server_error"  # 3xxx
    HUB_ERROR = "hub_error"  # 4xxx: a hub could not route it
    INVALID = "invalid"  # no OCPI envelope at all


@dataclass(frozen=True, slots=True)
class OcpiResponse:
    """An OCPI response envelope, read (transport_and_format.asciidoc)."""

    status: StatusClass
    status_code: int | None
    message: str
    data: Any


def parse_response(body: bytes | str) -> OcpiResponse:
    """Read a response body; anything but an envelope with a code is INVALID."""
    try:
        envelope = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return OcpiResponse(StatusClass.INVALID, None, "not JSON", None)
    code = envelope.get("status_code") if isinstance(envelope, dict) else None
    if not isinstance(code, int) or isinstance(code, bool) or not 1000 <= code <= 4999:
        return OcpiResponse(StatusClass.INVALID, None, "no OCPI status_code", None)
    status = (
        StatusClass.SUCCESS,
        StatusClass.CLIENT_ERROR,
        StatusClass.SERVER_ERROR,
        StatusClass.HUB_ERROR,
    )[code // 1000 - 1]
    message = envelope.get("status_message")
    return OcpiResponse(
        status,
        code,
        message if isinstance(message, str) else "",
        envelope.get("data"),
    )
