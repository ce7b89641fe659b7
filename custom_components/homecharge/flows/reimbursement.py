"""The reimbursement subentry flow: a driver's onboarding, a few steps long.

Consent first (what leaves the house, to whom, when), then the driver, the
vehicle, the chargers covered, the tariff and its bill, the payout and the
receiver. Reconfigure (a move, a new tariff) walks the same steps from what
was saved; a tariff with a new start date is added, so earlier sessions
keep theirs. The checks are ``logic/reimbursement``'s (codes → translated
errors); the bill is kept by ``runtime/bills.py``.
"""

from __future__ import annotations

from typing import Any

import voluptuous as vol

from homeassistant.config_entries import ConfigSubentryFlow, SubentryFlowResult
from homeassistant.const import CONF_NAME
from homeassistant.helpers.selector import (
    BooleanSelector,
    CountrySelector,
    DateSelector,
    FileSelector,
    FileSelectorConfig,
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
    SelectOptionDict,
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
    TextSelector,
    TextSelectorConfig,
    TextSelectorType,
)
from homeassistant.util import dt as dt_util

from ..const import (
    CONF_COUNTRY,
    CONF_MANUFACTURER,
    CONF_MODEL,
    CONF_SERIAL,
    SUBENTRY_CHARGER,
    SUBENTRY_VEHICLE,
)
from ..logic.reimbursement.contact import normalise_mobile
from ..logic.reimbursement.errors import InputError
from ..logic.reimbursement.settings import (
    CONF_ACCOUNT_HOLDER,
    CONF_ACCOUNT_NUMBER,
    CONF_ADDRESS_COUNTRY,
    CONF_BASIS,
    CONF_BILL,
    CONF_CITY,
    CONF_CONSENT,
    CONF_COVERED_CHARGERS,
    CONF_DRIVER_MOBILE,
    CONF_EFFECTIVE_FROM,
    CONF_IBAN,
    CONF_NOTIFY,
    CONF_PAYMENT_METHOD,
    CONF_PAYOUT,
    CONF_POSTAL_CODE,
    CONF_RECEIVER,
    CONF_RECEIVER_TOKEN,
    CONF_RECEIVER_URL,
    CONF_RULE_CARDS,
    CONF_RULE_FROM,
    CONF_RULE_VEHICLES,
    CONF_RULES,
    CONF_STREET,
    CONF_SUPPLIER,
    CONF_TARIFF_NAME,
    CONF_TARIFF_VAT,
    CONF_TARIFFS,
    CONF_UNIT_RATE,
    CONF_VEHICLE,
    CONF_VEHICLE_MAKE,
    CONF_VEHICLE_MODEL,
    CONF_VEHICLE_REGISTRATION,
    TYPED_VEHICLE,
    Payout,
    ReceiverKind,
    add_tariff,
    payout_from_form,
    receiver_from_form,
    rule_from_form,
    tariff_data,
    tariff_from_form,
    tariffs_of,
    text,
)
from ..logic.reimbursement.tariff import TariffBasis
from ..runtime.bills import async_forget_bill, async_keep_bill
from ..runtime.reimbursement_sync import CONF_REGISTRATION
from .reimbursement_rules import CONF_ANOTHER_RULE, rule_form_values, rules_schema

_BILL_ACCEPT = ".pdf,.png,.jpg,.jpeg,application/pdf,image/png,image/jpeg"
_TEL = TextSelector(TextSelectorConfig(type=TextSelectorType.TEL))
SECRET = TextSelector(TextSelectorConfig(type=TextSelectorType.PASSWORD))
URL = TextSelector(TextSelectorConfig(type=TextSelectorType.URL))


def _choice(options: list[str], key: str) -> SelectSelector:
    """A translated list of ``options``."""
    return SelectSelector(
        SelectSelectorConfig(
            options=options, mode=SelectSelectorMode.LIST, translation_key=key
        )
    )


def driver_schema(phones: list[str]) -> vol.Schema:
    """The driver's fields; ``phones``: the Companion apps' notify services."""
    return vol.Schema(
        {
            vol.Required(CONF_NAME): TextSelector(),
            vol.Required(CONF_STREET): TextSelector(),
            vol.Required(CONF_POSTAL_CODE): TextSelector(),
            vol.Required(CONF_CITY): TextSelector(),
            vol.Required(CONF_ADDRESS_COUNTRY): CountrySelector(),
            vol.Required(CONF_DRIVER_MOBILE): _TEL,
            vol.Optional(CONF_NOTIFY): SelectSelector(
                SelectSelectorConfig(
                    options=phones,
                    custom_value=True,
                    mode=SelectSelectorMode.DROPDOWN,
                )
            ),
        }
    )


TARIFF_SCHEMA = vol.Schema(
    {
        vol.Required(CONF_BASIS, default=TariffBasis.FIXED.value): _choice(
            [basis.value for basis in TariffBasis], "reimbursement_basis"
        ),
        # No min/max: out of range gets our translated error.
        vol.Optional(CONF_UNIT_RATE): NumberSelector(
            NumberSelectorConfig(mode=NumberSelectorMode.BOX, step="any")
        ),
        vol.Optional(CONF_TARIFF_VAT, default=25): NumberSelector(
            NumberSelectorConfig(mode=NumberSelectorMode.BOX, step=0.1)
        ),
        vol.Required(CONF_TARIFF_NAME): TextSelector(),
        vol.Optional(CONF_SUPPLIER): TextSelector(),
        vol.Optional(CONF_ACCOUNT_NUMBER): TextSelector(),
        vol.Optional(CONF_PAYMENT_METHOD): TextSelector(),
        vol.Required(CONF_EFFECTIVE_FROM): DateSelector(),
    }
)
PAYOUT_SCHEMA = vol.Schema(
    {
        vol.Required(CONF_PAYOUT, default=Payout.SUPPLIER.value): _choice(
            [payout.value for payout in Payout], "reimbursement_payout"
        ),
        vol.Optional(CONF_IBAN): TextSelector(),
        vol.Optional(CONF_ACCOUNT_HOLDER): TextSelector(),
    }
)
RECEIVER_SCHEMA = vol.Schema(
    {
        vol.Required(CONF_RECEIVER, default=ReceiverKind.NONE.value): _choice(
            [kind.value for kind in ReceiverKind], "reimbursement_receiver"
        ),
        vol.Optional(CONF_RECEIVER_URL): URL,
        vol.Optional(CONF_RECEIVER_TOKEN): SECRET,
    }
)


class ReimbursementSubentryFlow(ConfigSubentryFlow):
    """A driver's reimbursement at a place: added, or changed after a move."""

    def __init__(self) -> None:
        """Nothing asked yet."""
        self._data: dict[str, Any] = {}
        # The rules given so far in this flow (the step repeats per rule).
        self._rules: list[dict[str, Any]] = []
        self._title = ""
        self._reconfiguring = False

    async def async_step_user(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """Consent: what leaves the house, to whom and when."""
        errors: dict[str, str] = {}
        if user_input is not None:
            if user_input.get(CONF_CONSENT) is True:
                self._data[CONF_CONSENT] = dt_util.utcnow().isoformat()
                return await self.async_step_driver()
            errors[CONF_CONSENT] = "consent_required"
        return self.async_show_form(
            step_id="user",
            data_schema=vol.Schema(
                {vol.Required(CONF_CONSENT, default=False): BooleanSelector()}
            ),
            errors=errors,
        )

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """Change it: the same steps, from what was saved."""
        subentry = self._get_reconfigure_subentry()
        self._data = dict(subentry.data)
        self._title = subentry.title
        self._reconfiguring = True
        return await self.async_step_driver()

    async def async_step_driver(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """The driver: name, home address, mobile."""
        errors: dict[str, str] = {}
        if user_input is not None:
            errors = _checked(user_input, self._take_driver)
            if not errors:
                return await self.async_step_vehicle()
        phones = sorted(
            f"notify.{name}"
            for name in self.hass.services.async_services_for_domain("notify")
            if name.startswith("mobile_app_")
        )
        return self._form("driver", driver_schema(phones), user_input, errors)

    def _take_driver(self, values: dict[str, Any]) -> None:
        driver = {
            CONF_STREET: text(values.get(CONF_STREET), "address_empty"),
            CONF_POSTAL_CODE: text(values.get(CONF_POSTAL_CODE), "address_empty"),
            CONF_CITY: text(values.get(CONF_CITY), "address_empty"),
            CONF_ADDRESS_COUNTRY: text(
                values.get(CONF_ADDRESS_COUNTRY), "address_empty"
            ),
            CONF_DRIVER_MOBILE: normalise_mobile(
                str(values.get(CONF_DRIVER_MOBILE) or "")
            ),
            CONF_NOTIFY: self._notify(values.get(CONF_NOTIFY)),
        }
        self._title = text(values.get(CONF_NAME), "name_empty")
        self._data.update(driver)

    def _notify(self, value: Any) -> str | None:
        """A notify service of this Home Assistant, or none."""
        service = str(value or "").strip()
        if not service:
            return None
        if not self.hass.services.has_service(
            "notify", service.removeprefix("notify.")
        ):
            raise InputError("notify_unknown")
        return service

    async def async_step_vehicle(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """The vehicle: one of the place's, or typed in."""
        errors: dict[str, str] = {}
        if user_input is not None:
            errors = _checked(user_input, self._take_vehicle)
            if not errors:
                return await self.async_step_chargers()
        vehicles = [
            SelectOptionDict(value=sub.subentry_id, label=sub.title)
            for sub in self._get_entry().subentries.values()
            if sub.subentry_type == SUBENTRY_VEHICLE
        ]
        schema = vol.Schema(
            {
                vol.Required(CONF_VEHICLE, default=TYPED_VEHICLE): SelectSelector(
                    SelectSelectorConfig(
                        options=[
                            *vehicles,
                            SelectOptionDict(value=TYPED_VEHICLE, label=TYPED_VEHICLE),
                        ],
                        mode=SelectSelectorMode.DROPDOWN,
                        translation_key="reimbursement_vehicle",
                    )
                ),
                vol.Optional(CONF_VEHICLE_MAKE): TextSelector(),
                vol.Optional(CONF_VEHICLE_MODEL): TextSelector(),
                vol.Optional(CONF_VEHICLE_REGISTRATION): TextSelector(),
            }
        )
        return self._form("vehicle", schema, user_input, errors)

    def _take_vehicle(self, values: dict[str, Any]) -> None:
        vehicle = str(values.get(CONF_VEHICLE) or TYPED_VEHICLE)
        typed = vehicle == TYPED_VEHICLE
        registration = text(
            values.get(CONF_VEHICLE_REGISTRATION), "vehicle_text", required=typed
        )
        self._data.update(
            {
                CONF_VEHICLE: vehicle,
                CONF_VEHICLE_MAKE: text(
                    values.get(CONF_VEHICLE_MAKE), "vehicle_text", required=False
                ),
                CONF_VEHICLE_MODEL: text(
                    values.get(CONF_VEHICLE_MODEL), "vehicle_text", required=False
                ),
                CONF_VEHICLE_REGISTRATION: registration,
            }
        )

    async def async_step_chargers(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """The chargers whose business sessions are paid back."""
        chargers = {
            sub.subentry_id: sub
            for sub in self._get_entry().subentries.values()
            if sub.subentry_type == SUBENTRY_CHARGER
        }
        if not chargers:
            return self.async_abort(reason="no_chargers")
        errors: dict[str, str] = {}
        if user_input is not None:
            chosen = list(user_input.get(CONF_COVERED_CHARGERS) or ())
            if chosen and all(key in chargers for key in chosen):
                self._data[CONF_COVERED_CHARGERS] = chosen
                return await self.async_step_rules()
            errors[CONF_COVERED_CHARGERS] = "chargers_required"
        options = [
            SelectOptionDict(
                value=key,
                # Make, model and serial as the charger told them at boot.
                label=" · ".join(
                    str(part)
                    for part in (
                        sub.title,
                        sub.data.get(CONF_MANUFACTURER),
                        sub.data.get(CONF_MODEL),
                        sub.data.get(CONF_SERIAL),
                    )
                    if part
                ),
            )
            for key, sub in chargers.items()
        ]
        schema = vol.Schema(
            {
                vol.Required(CONF_COVERED_CHARGERS): SelectSelector(
                    SelectSelectorConfig(
                        options=options, multiple=True, mode=SelectSelectorMode.LIST
                    )
                )
            }
        )
        return self._form("chargers", schema, user_input, errors)

    async def async_step_rules(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """A rule that makes sessions business by themselves; empty: no more."""
        errors: dict[str, str] = {}
        saved = self._data.get(CONF_RULES) or []
        number = len(self._rules)
        vehicles = {
            sub.subentry_id: sub.title
            for sub in self._get_entry().subentries.values()
            if sub.subentry_type == SUBENTRY_VEHICLE
        }
        # A saved rule's vehicles that were removed since: kept (they match
        # nothing), or a rule for a vehicle would become one for any.
        removed = [
            key
            for key in (saved[number] if number < len(saved) else {}).get(
                CONF_RULE_VEHICLES
            )
            or ()
            if key not in vehicles
        ]
        if user_input is not None:
            try:
                rule = rule_from_form(
                    {
                        **user_input,
                        CONF_RULE_VEHICLES: [
                            *(user_input.get(CONF_RULE_VEHICLES) or ()),
                            *removed,
                        ],
                    }
                )
            except InputError as err:
                errors[field_of(err.code)] = err.code
            else:
                if rule is not None:
                    self._rules.append(rule)
                if rule is None or not user_input.get(CONF_ANOTHER_RULE):
                    self._data[CONF_RULES] = self._rules
                    return await self.async_step_tariff()
                return await self.async_step_rules()
        suggested = user_input or (
            rule_form_values(saved[number], more=number + 1 < len(saved))
            if number < len(saved)
            else {}
        )
        if CONF_RULE_VEHICLES in suggested:
            suggested = {
                **suggested,
                CONF_RULE_VEHICLES: [
                    key for key in suggested[CONF_RULE_VEHICLES] if key in vehicles
                ],
            }
        options = [
            SelectOptionDict(value=key, label=title) for key, title in vehicles.items()
        ]
        return self.async_show_form(
            step_id="rules",
            data_schema=self.add_suggested_values_to_schema(
                rules_schema(options), suggested
            ),
            errors=errors,
            description_placeholders={"number": str(number + 1)},
        )

    async def async_step_tariff(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """The tariff from the bill, or the place's own slot costs; from a date."""
        errors: dict[str, str] = {}
        if user_input is not None:
            try:
                tariff = tariff_from_form(user_input, self.hass.config.currency)
            except InputError as err:
                errors[field_of(err.code)] = err.code
            else:
                self._data[CONF_TARIFFS] = add_tariff(self._data, tariff)
                if tariff.basis is TariffBasis.FIXED:
                    return await self.async_step_bill()
                return await self.async_step_payout()
        suggested: dict[str, Any] = {CONF_EFFECTIVE_FROM: dt_util.now().date()}
        if tariffs := tariffs_of(self._data):
            suggested = {**tariff_data(tariffs[-1]), **suggested}
        return self._form("tariff", TARIFF_SCHEMA, user_input or suggested, errors)

    async def async_step_bill(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """The latest energy bill: a PDF, PNG or JPEG (kept one stays if none)."""
        errors: dict[str, str] = {}
        if user_input is not None:
            file_id = user_input.get(CONF_BILL)
            if file_id:
                try:
                    kept = await async_keep_bill(self.hass, str(file_id))
                except InputError as err:
                    errors[CONF_BILL] = err.code
                else:
                    await async_forget_bill(self.hass, self._data.get(CONF_BILL))
                    self._data[CONF_BILL] = kept
            elif not self._data.get(CONF_BILL):
                errors[CONF_BILL] = "bill_required"
            if not errors:
                return await self.async_step_payout()
        # Optional for the schema: a missing bill gets our translated error.
        schema = vol.Schema(
            {
                vol.Optional(CONF_BILL): FileSelector(
                    FileSelectorConfig(accept=_BILL_ACCEPT)
                )
            }
        )
        return self.async_show_form(step_id="bill", data_schema=schema, errors=errors)

    async def async_step_payout(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """Where the money goes: the energy supplier, or a bank account."""
        errors: dict[str, str] = {}
        if user_input is not None:
            try:
                self._data.update(payout_from_form(user_input))
            except InputError as err:
                errors[field_of(err.code)] = err.code
            else:
                return await self.async_step_receiver()
        return self._form("payout", PAYOUT_SCHEMA, user_input, errors)

    async def async_step_receiver(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """Who gets the sessions: the employer's OCPI backend, a webhook, no one."""
        errors: dict[str, str] = {}
        if user_input is not None:
            try:
                receiver = receiver_from_form(user_input)
            except InputError as err:
                errors[field_of(err.code)] = err.code
            else:
                if any(receiver[key] != self._data.get(key) for key in receiver):
                    # Another receiver (or token A): registered anew.
                    self._data.pop(CONF_REGISTRATION, None)
                self._data.update(receiver)
                return self._finish()
        return self._form("receiver", RECEIVER_SCHEMA, user_input, errors)

    def _finish(self) -> SubentryFlowResult:
        if not self._reconfiguring:
            return self.async_create_entry(title=self._title, data=self._data)
        return self.async_update_and_abort(
            self._get_entry(),
            self._get_reconfigure_subentry(),
            title=self._title,
            data=self._data,
        )

    def _form(
        self,
        step_id: str,
        schema: vol.Schema,
        user_input: dict[str, Any] | None,
        errors: dict[str, str],
    ) -> SubentryFlowResult:
        """A step's form, filled with what was typed or saved."""
        # A new driver's home is in the place's country (not the list's first).
        country = self._get_entry().data.get(CONF_COUNTRY) or self.hass.config.country
        suggested = user_input or {
            CONF_ADDRESS_COUNTRY: country,
            CONF_NAME: self._title,
            **self._data,
        }
        return self.async_show_form(
            step_id=step_id,
            data_schema=self.add_suggested_values_to_schema(schema, suggested),
            errors=errors,
        )


def _checked(values: dict[str, Any], take: Any) -> dict[str, str]:
    """``take(values)``, or the field errors its ``InputError`` names."""
    try:
        take(values)
    except InputError as err:
        return {field_of(err.code): err.code}
    return {}


# The field each error code belongs to (the rest: the form as a whole).
_FIELDS = {
    "name_empty": CONF_NAME,
    "address_empty": CONF_STREET,
    "phone_format": CONF_DRIVER_MOBILE,
    "notify_unknown": CONF_NOTIFY,
    "vehicle_text": CONF_VEHICLE_REGISTRATION,
    "tariff_rate": CONF_UNIT_RATE,
    "tariff_vat": CONF_TARIFF_VAT,
    "tariff_name": CONF_TARIFF_NAME,
    "tariff_text": CONF_SUPPLIER,
    "tariff_date": CONF_EFFECTIVE_FROM,
    "holder_empty": CONF_ACCOUNT_HOLDER,
    "receiver_url": CONF_RECEIVER_URL,
    "receiver_not_https": CONF_RECEIVER_URL,
    "receiver_token": CONF_RECEIVER_TOKEN,
    "rule_card": CONF_RULE_CARDS,
    "rule_window": CONF_RULE_FROM,
}


def field_of(code: str) -> str:
    """The field an error code is shown at."""
    if code.startswith("iban_"):
        return CONF_IBAN
    return _FIELDS.get(code, "base")
