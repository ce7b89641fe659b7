"""A driver's reimbursement as a place's subentry keeps it: read, checked, written.

The onboarding (``flows/reimbursement.py``) asks for it step by step; this
module holds the keys, turns the form's values into checked data and the
data back into values (``Tariff``, the payout, the receiver). Errors carry
a code the form shows translated (``InputError``).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, time
from decimal import Decimal, InvalidOperation
from enum import StrEnum
import ipaddress
from typing import Any, Final
from urllib.parse import urlsplit

from ..sessions.model import Classification
from .errors import InputError
from .iban import normalise_iban
from .rules import Rule
from .tariff import Tariff, TariffBasis, with_tariff

CONF_CONSENT: Final = "consent"
CONF_STREET: Final = "street"
CONF_POSTAL_CODE: Final = "postal_code"
CONF_CITY: Final = "city"
CONF_ADDRESS_COUNTRY: Final = "address_country"
CONF_DRIVER_MOBILE: Final = "mobile"
# The driver's phone (a Companion app notify service): asked after each
# session, and sent the statement.
CONF_NOTIFY: Final = "notify_service"
CONF_VEHICLE: Final = "vehicle"
CONF_VEHICLE_MAKE: Final = "vehicle_make"
CONF_VEHICLE_MODEL: Final = "vehicle_model"
CONF_VEHICLE_REGISTRATION: Final = "vehicle_registration"
CONF_COVERED_CHARGERS: Final = "chargers"
CONF_TARIFFS: Final = "tariffs"
CONF_BASIS: Final = "basis"
CONF_UNIT_RATE: Final = "unit_rate"
CONF_TARIFF_VAT: Final = "vat_percent"
CONF_TARIFF_NAME: Final = "tariff_name"
CONF_SUPPLIER: Final = "supplier"
CONF_ACCOUNT_NUMBER: Final = "account_number"
CONF_PAYMENT_METHOD: Final = "payment_method"
CONF_EFFECTIVE_FROM: Final = "effective_from"
CONF_BILL: Final = "bill"
CONF_PAYOUT: Final = "payout"
CONF_IBAN: Final = "iban"
CONF_ACCOUNT_HOLDER: Final = "account_holder"
CONF_RECEIVER: Final = "receiver"
CONF_RECEIVER_URL: Final = "receiver_url"
CONF_RECEIVER_TOKEN: Final = "receiver_token"  # noqa: S105 - a key
# The driver's rules: which sessions are business without being asked.
CONF_RULES: Final = "rules"
CONF_RULE_VEHICLES: Final = "rule_vehicles"
CONF_RULE_CARDS: Final = "rule_cards"
CONF_RULE_WEEKDAYS: Final = "rule_weekdays"
CONF_RULE_FROM: Final = "rule_from"
CONF_RULE_UNTIL: Final = "rule_until"
# The weekdays as the shared ``weekdays`` selector names them, Monday first.
WEEKDAY_KEYS: Final = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# The vehicle typed in rather than one of the place's vehicles.
TYPED_VEHICLE: Final = "typed"
# What diagnostics never show of a reimbursement (personal or secret).
PRIVATE_KEYS: Final = frozenset(
    {
        CONF_STREET,
        CONF_POSTAL_CODE,
        CONF_CITY,
        CONF_DRIVER_MOBILE,
        CONF_VEHICLE_REGISTRATION,
        CONF_ACCOUNT_NUMBER,
        CONF_BILL,
        CONF_IBAN,
        CONF_ACCOUNT_HOLDER,
        CONF_RECEIVER_URL,
        CONF_RECEIVER_TOKEN,
    }
)
_LONGEST_TEXT: Final = 100


class Payout(StrEnum):
    """Where the employer pays the money back to."""

    SUPPLIER = "supplier"
    BANK_ACCOUNT = "bank_account"


class ReceiverKind(StrEnum):
    """Who gets the sessions and statements besides the driver."""

    NONE = "none"
    OCPI = "ocpi"
    WEBHOOK = "webhook"


def text(value: Any, code: str, *, required: bool = True) -> str:
    """A trimmed text field (``code`` if required and empty, or too long)."""
    found = str(value or "").strip()
    if (required and not found) or len(found) > _LONGEST_TEXT:
        raise InputError(code)
    return found


def tariff_from_form(values: Mapping[str, Any], currency: str) -> Tariff:
    """The tariff step's values as a checked ``Tariff``."""
    basis = TariffBasis(values.get(CONF_BASIS, TariffBasis.FIXED))
    rate = values.get(CONF_UNIT_RATE)
    try:
        unit_rate = None if rate in (None, "") else Decimal(str(rate))
        vat = Decimal(str(values.get(CONF_TARIFF_VAT) or 0))
    except InvalidOperation as err:
        raise InputError("tariff_rate") from err
    if basis is TariffBasis.SLOT_COSTS:
        unit_rate = None
    try:
        effective = date.fromisoformat(str(values.get(CONF_EFFECTIVE_FROM)))
    except ValueError as err:
        raise InputError("tariff_date") from err
    return Tariff(
        effective_from=effective,
        basis=basis,
        name=text(values.get(CONF_TARIFF_NAME), "tariff_name"),
        currency=currency,
        unit_rate=unit_rate,
        vat_percent=vat,
        supplier=text(values.get(CONF_SUPPLIER), "tariff_text", required=False),
        account_number=text(
            values.get(CONF_ACCOUNT_NUMBER), "tariff_text", required=False
        ),
        payment_method=text(
            values.get(CONF_PAYMENT_METHOD), "tariff_text", required=False
        ),
    )


def tariff_data(tariff: Tariff) -> dict[str, Any]:
    """A tariff as subentry data (JSON: decimals and dates as text)."""
    return {
        CONF_EFFECTIVE_FROM: tariff.effective_from.isoformat(),
        CONF_BASIS: tariff.basis.value,
        CONF_TARIFF_NAME: tariff.name,
        "currency": tariff.currency,
        CONF_UNIT_RATE: None if tariff.unit_rate is None else str(tariff.unit_rate),
        CONF_TARIFF_VAT: str(tariff.vat_percent),
        CONF_SUPPLIER: tariff.supplier,
        CONF_ACCOUNT_NUMBER: tariff.account_number,
        CONF_PAYMENT_METHOD: tariff.payment_method,
    }


def tariffs_of(data: Mapping[str, Any]) -> list[Tariff]:
    """The tariffs a reimbursement's data holds, oldest first."""
    found = [
        Tariff(
            effective_from=date.fromisoformat(item[CONF_EFFECTIVE_FROM]),
            basis=TariffBasis(item[CONF_BASIS]),
            name=item[CONF_TARIFF_NAME],
            currency=item["currency"],
            unit_rate=None
            if item.get(CONF_UNIT_RATE) is None
            else Decimal(item[CONF_UNIT_RATE]),
            vat_percent=Decimal(item.get(CONF_TARIFF_VAT) or 0),
            supplier=item.get(CONF_SUPPLIER, ""),
            account_number=item.get(CONF_ACCOUNT_NUMBER, ""),
            payment_method=item.get(CONF_PAYMENT_METHOD, ""),
        )
        for item in data.get(CONF_TARIFFS, ())
    ]
    return sorted(found, key=lambda tariff: tariff.effective_from)


def add_tariff(data: Mapping[str, Any], tariff: Tariff) -> list[dict[str, Any]]:
    """The tariffs with ``tariff`` from its date on (one of that date replaced)."""
    return [tariff_data(kept) for kept in with_tariff(tariffs_of(data), tariff)]


def payout_from_form(values: Mapping[str, Any]) -> dict[str, Any]:
    """The payout step's values, the IBAN checked (``iban_…`` codes)."""
    payout = Payout(values.get(CONF_PAYOUT, Payout.SUPPLIER))
    if payout is Payout.SUPPLIER:
        return {CONF_PAYOUT: payout.value, CONF_IBAN: None, CONF_ACCOUNT_HOLDER: None}
    return {
        CONF_PAYOUT: payout.value,
        CONF_IBAN: normalise_iban(str(values.get(CONF_IBAN) or "")),
        CONF_ACCOUNT_HOLDER: text(values.get(CONF_ACCOUNT_HOLDER), "holder_empty"),
    }


def receiver_url(value: Any) -> str:
    """
    The receiver's URL: https, or http on a loopback host (tests, a proxy).

    The token and the sessions go there: never in clear over a network.
    """
    url = str(value or "").strip()
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
    except ValueError as err:
        raise InputError("receiver_url") from err
    if parts.scheme not in ("http", "https") or not host:
        raise InputError("receiver_url")
    if parts.scheme == "http" and not _loopback(host):
        raise InputError("receiver_not_https")
    return url


def _loopback(host: str) -> bool:
    """Whether ``host`` is this machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def receiver_from_form(values: Mapping[str, Any]) -> dict[str, Any]:
    """The receiver step's values, checked (``receiver_…`` codes)."""
    kind = ReceiverKind(values.get(CONF_RECEIVER, ReceiverKind.NONE))
    if kind is ReceiverKind.NONE:
        return {
            CONF_RECEIVER: kind.value,
            CONF_RECEIVER_URL: None,
            CONF_RECEIVER_TOKEN: None,
        }
    token = str(values.get(CONF_RECEIVER_TOKEN) or "").strip()
    if not token or len(token) > 255:
        raise InputError("receiver_token")
    return {
        CONF_RECEIVER: kind.value,
        CONF_RECEIVER_URL: receiver_url(values.get(CONF_RECEIVER_URL)),
        CONF_RECEIVER_TOKEN: token,
    }


def rule_from_form(values: Mapping[str, Any]) -> dict[str, Any] | None:
    """
    One rule of the rules step, as data; None when nothing is set.

    An empty rule would make every session business: it ends the list
    instead. A time window needs both ends (``rule_window``).
    """
    cards = sorted(
        {
            card.strip()
            for card in str(values.get(CONF_RULE_CARDS) or "").split(",")
            if card.strip()
        }
    )
    if any(len(card) > 20 for card in cards):
        # OCPP 1.6's IdToken is CiString20.
        raise InputError("rule_card")
    weekdays = [
        day for day in WEEKDAY_KEYS if day in values.get(CONF_RULE_WEEKDAYS, ())
    ]
    start, end = values.get(CONF_RULE_FROM), values.get(CONF_RULE_UNTIL)
    if (start is None) != (end is None):
        raise InputError("rule_window")
    rule = {
        CONF_RULE_VEHICLES: sorted(set(values.get(CONF_RULE_VEHICLES) or ())),
        CONF_RULE_CARDS: cards,
        CONF_RULE_WEEKDAYS: weekdays,
        CONF_RULE_FROM: None if start is None else _clock(start),
        CONF_RULE_UNTIL: None if end is None else _clock(end),
    }
    return rule if any(rule.values()) else None


def _clock(value: Any) -> str:
    """A time selector's "HH:MM[:SS]" as "HH:MM" (``rule_window`` if not)."""
    try:
        return time.fromisoformat(str(value)).strftime("%H:%M")
    except ValueError as err:
        raise InputError("rule_window") from err


def rules_of(data: Mapping[str, Any], vehicle_names: Mapping[str, str]) -> list[Rule]:
    """
    The reimbursement's rules, for ``rules.classify``; each makes business.

    The form keeps vehicles by their subentry; a session names its vehicle,
    so ``vehicle_names`` (subentry id → name now) turns one into the other.
    A removed vehicle matches nothing.
    """
    found = []
    for item in data.get(CONF_RULES, ()):
        vehicles = item.get(CONF_RULE_VEHICLES) or ()
        cards = item.get(CONF_RULE_CARDS) or ()
        weekdays = item.get(CONF_RULE_WEEKDAYS) or ()
        start, end = item.get(CONF_RULE_FROM), item.get(CONF_RULE_UNTIL)
        found.append(
            Rule(
                classification=Classification.BUSINESS,
                vehicles=frozenset(
                    vehicle_names[key] for key in vehicles if key in vehicle_names
                )
                if vehicles
                else None,
                id_tags=frozenset(cards) if cards else None,
                weekdays=frozenset(WEEKDAY_KEYS.index(day) for day in weekdays)
                if weekdays
                else None,
                window=None
                if start is None or end is None
                else (time.fromisoformat(start), time.fromisoformat(end)),
            )
        )
    return found
