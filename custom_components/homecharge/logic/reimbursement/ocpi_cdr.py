"""A business session as an OCPI 2.2.1 CDR, sent by us (the CPO side).

homecharge is the charge point operator of the household's chargers; the
employer's or fleet's backend is the receiver (the eMSP side), which owns
the driver's token. One CDR per business session, with a charging period
per 15-minute slot (its energy) and ``home_charging_compensation`` set.

OCPI has no idempotency key, so a CDR's id is derived from the session (a
resend after a lost answer is the same CDR, never a second one). CDRs are
immutable: a session withdrawn after it was sent gets a credit CDR — the
same CDR with ``credit``, ``credit_reference_id`` and its ``total_cost``
negated, and the original id with "-C" appended, as the spec suggests; a
session billed again after a credit is a new revision with a new id.

Prices in an OCPI tariff are per unit *without* VAT, with the VAT
percentage beside them. A fixed unit rate is one tariff with one ENERGY
price; slot costs are one tariff per distinct slot price, each period
pointing at its own, so the receiver can check the total from the periods
(mod_cdrs: "enough information to allow the eMSP to validate the total
cost"). Every CDR is checked against the spec's rules before it leaves.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
import copy
from dataclasses import dataclass
from datetime import datetime, time, timedelta, tzinfo
from decimal import Decimal
import re
from typing import Any, Final

from ..sessions.model import Session
from .ocpi_spec import cdr_problems
from .priced import digest as _digest, slot_rate, utc_text as _utc
from .tariff import Tariff, session_cost

CREDIT_SUFFIX: Final = "-C"
# ISO 3166 alpha-2 → alpha-3, for OCPI's CdrLocation.
ALPHA3: Final = {
    "AT": "AUT", "BE": "BEL", "CH": "CHE", "DE": "DEU", "DK": "DNK",
    "EE": "EST", "ES": "ESP", "FI": "FIN", "FR": "FRA", "GB": "GBR",
    "IE": "IRL", "IS": "ISL", "IT": "ITA", "LT": "LTU", "LU": "LUX",
    "LV": "LVA", "NL": "NLD", "NO": "NOR", "PL": "POL", "PT": "PRT",
    "SE": "SWE",
}  # fmt: skip
# An ENERGY step is 1 Wh: every watt-hour is paid, none rounded up.
ENERGY_STEP_WH: Final = 1
_EMI3_OUTLET: Final = re.compile(r"[^A-Z0-9]")


class CdrError(ValueError):
    """A session that cannot be a CDR (yet), or a CDR OCPI would refuse."""


@dataclass(frozen=True, slots=True)
class Party:
    """An OCPI party: ISO 3166 alpha-2 country and a 3-character party id."""

    country_code: str
    party_id: str


@dataclass(frozen=True, kw_only=True, slots=True)
class CdrSite:
    """The home as OCPI's CdrLocation wants it (coordinates are required)."""

    location_id: str
    address: str
    city: str
    postal_code: str | None
    # ISO 3166-1 alpha-3 ("NOR", "DNK", "NLD").
    country: str
    latitude: float
    longitude: float
    name: str | None = None
    connector_standard: str = "IEC_62196_T2"
    connector_format: str = "SOCKET"
    power_type: str = "AC_3_PHASE"


@dataclass(frozen=True, kw_only=True, slots=True)
class CdrDriver:
    """The driver's token as the receiver knows it."""

    receiver: Party
    contract_id: str


def cdr_id(sender: Party, site: CdrSite, session: Session, revision: int = 0) -> str:
    """
    The session's CDR id (32 characters): the same for every resend.

    Its start is part of it: a transaction id may come again (a charger
    reset to factory, a restored backup), a session's start does not.
    """
    return _digest(
        sender.country_code,
        sender.party_id,
        site.location_id,
        session.charger,
        session.transaction_id,
        _utc(session.started),
        revision,
    )


def _ocpi_id(value: str) -> str:
    """A CiString(36) id: the value if it is one, else a digest of it."""
    if len(value) <= 36 and all(" " <= char <= "~" for char in value):
        return value
    return _digest(value)


def _evse_id(sender: Party, charger: str) -> str:
    """An eMI3 EVSE id: country*operator*E and an outlet id (≤ 31 chars)."""
    outlet = _EMI3_OUTLET.sub("", charger.upper())
    if not outlet or len(outlet) > 31:
        outlet = _digest(charger, size=24)
    return f"{sender.country_code}*{sender.party_id}*E{outlet}"


def _number(amount: Decimal, places: int = 4) -> float:
    return float(round(amount, places))


def _tariff(
    sender: Party, tariff: Tariff, price_incl_vat: Decimal, zone: tzinfo
) -> dict[str, Any]:
    vat = tariff.vat_percent
    excl = price_incl_vat * 100 / (100 + vat)
    since = datetime.combine(tariff.effective_from, time(), zone)
    return {
        "country_code": sender.country_code,
        "party_id": sender.party_id,
        "id": "T" + _digest(tariff.currency, vat, price_incl_vat, size=20),
        "currency": tariff.currency,
        "elements": [
            {
                "price_components": [
                    {
                        "type": "ENERGY",
                        "price": _number(excl),
                        "vat": _number(vat, 2),
                        "step_size": ENERGY_STEP_WH,
                    }
                ]
            }
        ],
        "last_updated": _utc(since),
    }


@dataclass(frozen=True, kw_only=True, slots=True)
class Payable:
    """An ended session, all priced: what a receiver can be sent."""

    tariff: Tariff
    stopped: datetime
    wh: int
    # VAT included, and without.
    amount: Decimal
    amount_excl_vat: Decimal


def payable_cost(
    session: Session,
    tariffs: Iterable[Tariff],
    zone: tzinfo,
    error: type[CdrError] = CdrError,
) -> Payable:
    """
    The session's cost under its tariff, once it can be sent.

    ``error`` (a CdrError) if it has not ended, or a slot has no price, or
    no tariff was in force.
    """
    if session.stopped is None:
        raise error("the session has not ended")
    if session.stopped < session.started:
        raise error("the session ends before it starts")
    cost = session_cost(session, tariffs, zone)
    if cost.tariff is None or cost.amount is None or cost.amount_excl_vat is None:
        raise error(f"the cost is missing ({cost.missing_wh} Wh unpriced)")
    return Payable(
        tariff=cost.tariff,
        stopped=session.stopped,
        wh=cost.wh,
        amount=cost.amount,
        amount_excl_vat=cost.amount_excl_vat,
    )


def build_cdr(
    session: Session,
    *,
    sender: Party,
    driver: CdrDriver,
    site: CdrSite,
    tariffs: tuple[Tariff, ...],
    zone: tzinfo,
    now: datetime,
    revision: int = 0,
) -> dict[str, Any]:
    """The session's CDR, JSON-ready; a CdrError if it cannot be one."""
    cost = payable_cost(session, tariffs, zone)
    tariff, stopped = cost.tariff, cost.stopped
    ocpi_tariffs: dict[str, dict[str, Any]] = {}
    periods = []
    for slot in sorted(session.slots):
        # Priced unless it has no energy (session_cost checked that).
        price = slot_rate(session, tariff, slot)
        period: dict[str, Any] = {
            "start_date_time": _utc(max(slot, session.started)),
            "dimensions": [{"type": "ENERGY", "volume": session.slots[slot] / 1000}],
        }
        if price is not None:
            entry = _tariff(sender, tariff, price, zone)
            ocpi_tariffs.setdefault(entry["id"], entry)
            period["tariff_id"] = entry["id"]
        periods.append(period)
    if not periods:
        # A session without energy still has its one period.
        periods.append(
            {
                "start_date_time": _utc(session.started),
                "dimensions": [{"type": "ENERGY", "volume": 0}],
            }
        )
    uid = session.id_tag or driver.contract_id
    cdr: dict[str, Any] = {
        "country_code": sender.country_code,
        "party_id": sender.party_id,
        "id": cdr_id(sender, site, session, revision),
        "start_date_time": _utc(session.started),
        "end_date_time": _utc(stopped),
        "session_id": _digest(
            site.location_id, session.charger, session.transaction_id
        ),
        "cdr_token": {
            "country_code": driver.receiver.country_code,
            "party_id": driver.receiver.party_id,
            "uid": _ocpi_id(uid),
            "type": "RFID" if session.id_tag else "OTHER",
            "contract_id": driver.contract_id,
        },
        "auth_method": "WHITELIST",
        "cdr_location": {
            "id": _ocpi_id(site.location_id),
            **({"name": site.name} if site.name else {}),
            "address": site.address,
            "city": site.city,
            **({"postal_code": site.postal_code} if site.postal_code else {}),
            "country": site.country,
            "coordinates": {
                "latitude": f"{site.latitude:.6f}",
                "longitude": f"{site.longitude:.6f}",
            },
            "evse_uid": _ocpi_id(session.charger),
            "evse_id": _evse_id(sender, session.charger),
            "connector_id": str(session.connector),
            "connector_standard": site.connector_standard,
            "connector_format": site.connector_format,
            "connector_power_type": site.power_type,
        },
        "currency": tariff.currency,
        "tariffs": list(ocpi_tariffs.values()),
        "charging_periods": periods,
        "total_cost": {
            "excl_vat": _number(cost.amount_excl_vat),
            "incl_vat": _number(cost.amount),
        },
        "total_energy": cost.wh / 1000,
        "total_time": round((stopped - session.started) / timedelta(hours=1), 4),
        "home_charging_compensation": True,
        "last_updated": _utc(now),
    }
    _checked(cdr)
    return cdr


def credit_cdr(original: Mapping[str, Any], *, now: datetime) -> dict[str, Any]:
    """The credit CDR for one sent: the same, its total cost negated."""
    if original.get("credit"):
        raise CdrError("a credit CDR is not credited")
    credit = copy.deepcopy(dict(original))
    credit["id"] = original["id"] + CREDIT_SUFFIX
    credit["credit"] = True
    credit["credit_reference_id"] = original["id"]
    credit["total_cost"] = {
        name: -value for name, value in original["total_cost"].items()
    }
    credit["last_updated"] = _utc(now)
    _checked(credit)
    return credit


def _checked(cdr: dict[str, Any]) -> None:
    if problems := cdr_problems(cdr):
        raise CdrError("; ".join(problems))


def cdr_due(
    business: bool, known: Callable[[str], bool], id_of: Callable[[int], str]
) -> tuple[int, bool] | None:
    """
    What a session's history needs sent: (revision, credit), or None.

    ``id_of(revision)`` is the session's CDR id in a revision; ``known``
    says whether an id was queued or sent. A revision whose CDR and credit
    are both known is closed; in the open one a business session needs its
    CDR, a personal one whose CDR went needs the credit.
    """
    revision = 0
    while known(ident := id_of(revision)) and known(ident + CREDIT_SUFFIX):
        revision += 1
    sent = known(ident)
    if business == sent:
        return None
    return revision, not business
