"""Config flow for homecharge: add, reconfigure and tune a place."""

from __future__ import annotations

from dataclasses import asdict
from types import MappingProxyType
from typing import Any

import voluptuous as vol

from homeassistant.config_entries import (
    SOURCE_RECONFIGURE,
    ConfigEntry,
    ConfigEntryState,
    ConfigFlowResult,
    ConfigSubentry,
    ConfigSubentryFlow,
)
from homeassistant.const import (
    CONF_HOST,
    CONF_NAME,
    CONF_PORT,
    UnitOfElectricCurrent,
    UnitOfEnergy,
)
from homeassistant.core import callback
from homeassistant.helpers.selector import (
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
    SelectOptionDict,
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
    TextSelector,
)

from . import settings_of
from .central.server import (
    CENTRAL,
    ServerSettings,
    async_load_settings,
    async_save_settings,
    settings_errors,
    tls_file_errors,
)
from .const import (
    CONF_CERTIFICATE,
    CONF_CHARGE_POINT_ID,
    CONF_CONNECTORS,
    CONF_COST_BASIS,
    CONF_COUNTRY,
    CONF_FIXED_PRICE,
    CONF_GRID_TYPE,
    CONF_MAIN_FUSE,
    CONF_MANUFACTURER,
    CONF_MODEL,
    CONF_PASSWORD,
    CONF_PHASES,
    CONF_PLACE,
    CONF_PRICE_AREA,
    CONF_PRIVATE_KEY,
    CONF_SERIAL,
    CONF_SPOT_MARKUP,
    CONF_VAT_PERCENT,
    DOMAIN,
    SUBENTRY_CHARGER,
)
from .flows.charger import (
    CHARGER_FIELDS,
    ChargerSubentryFlow,
    charger_data,
    charger_errors,
    charger_in_use,
)
from .flows.meter import MeterDiscoveryFlow, MeterOptionsFlow
from .flows.plan import PlanOptionsFlow
from .logic.place import (
    MAX_MAIN_FUSE,
    MIN_MAIN_FUSE,
    CostBasis,
    GridType,
    countries,
    default_vat_percent,
    parse_decimal,
    parse_price,
    price_areas,
    suggest_country,
    suggest_price_area,
    validate_place,
)


class _ChoiceSelector(SelectSelector):
    """
    A dropdown whose value the step validates itself.

    A plain select rejects an unknown value in the schema, with an untranslated
    message; the steps check the choice and answer with our translated error.
    """

    def __call__(self, data: Any) -> str:
        """Accept any text; the step decides whether it is a valid choice."""
        return str(data)


def _choice(
    options: list[str], translation_key: str, *, sort: bool = False
) -> SelectSelector:
    return _ChoiceSelector(
        SelectSelectorConfig(
            options=options,
            translation_key=translation_key,
            mode=SelectSelectorMode.DROPDOWN,
            sort=sort,
        )
    )


PLACE_SCHEMA = vol.Schema(
    {
        vol.Required(CONF_NAME): TextSelector(),
        vol.Required(CONF_COUNTRY): _choice(countries(), CONF_COUNTRY, sort=True),
        vol.Required(CONF_COST_BASIS): SelectSelector(
            SelectSelectorConfig(
                options=[basis.value for basis in CostBasis],
                translation_key=CONF_COST_BASIS,
                mode=SelectSelectorMode.LIST,
            )
        ),
        # Range checked in the step, so a wrong size gets our own translated error.
        vol.Required(CONF_MAIN_FUSE): NumberSelector(
            NumberSelectorConfig(
                mode=NumberSelectorMode.BOX,
                step=1,
                unit_of_measurement=UnitOfElectricCurrent.AMPERE,
            )
        ),
        vol.Required(CONF_GRID_TYPE): SelectSelector(
            SelectSelectorConfig(
                options=[grid.value for grid in GridType],
                translation_key=CONF_GRID_TYPE,
                mode=SelectSelectorMode.LIST,
            )
        ),
    }
)


def _price_area_schema(country: str) -> vol.Schema:
    return vol.Schema(
        {
            vol.Required(CONF_PRICE_AREA): _choice(
                list(price_areas(country)), CONF_PRICE_AREA
            )
        }
    )


def _price_schema(currency: str, *fields: str) -> vol.Schema:
    # Prices are typed as text so both "1,25" and "1.25" are understood.
    suffix = f"{currency}/{UnitOfEnergy.KILO_WATT_HOUR}"
    return vol.Schema(
        {vol.Required(field): TextSelector({"suffix": suffix}) for field in fields}
    )


SERVER_SCHEMA = vol.Schema(
    {
        vol.Required(CONF_HOST): TextSelector(),
        vol.Required(CONF_PORT): NumberSelector(
            NumberSelectorConfig(mode=NumberSelectorMode.BOX, step=1)
        ),
        vol.Optional(CONF_CERTIFICATE): TextSelector(),
        vol.Optional(CONF_PRIVATE_KEY): TextSelector(),
    }
)


def _as_text(value: float | None) -> str | None:
    return None if value is None else f"{value:g}"


class HomeChargeConfigFlow(MeterDiscoveryFlow, domain=DOMAIN):
    """
    Add a place, or reconfigure one.

    Both paths share the steps: place → price area → fixed price (only for a
    fixed cost basis); the last step creates the entry or updates it.
    """

    VERSION = 1

    def __init__(self) -> None:
        """Start with nothing collected."""
        self._data: dict[str, Any] = {}
        self._discovery: dict[str, Any] = {}

    @staticmethod
    @callback
    def async_get_options_flow(config_entry: ConfigEntry) -> PlaceOptionsFlow:
        """Options: what a kWh costs on top of the spot price."""
        return PlaceOptionsFlow()

    @classmethod
    @callback
    def async_get_supported_subentry_types(
        cls, config_entry: ConfigEntry
    ) -> dict[str, type[ConfigSubentryFlow]]:
        """What can be added to a place."""
        return {SUBENTRY_CHARGER: ChargerSubentryFlow}

    async def async_step_integration_discovery(
        self, discovery_info: dict[str, Any]
    ) -> ConfigFlowResult:
        """An unknown charger connected while a place accepts new chargers."""
        charge_point_id = discovery_info[CONF_CHARGE_POINT_ID]
        await self.async_set_unique_id(f"{SUBENTRY_CHARGER}:{charge_point_id}")
        if charger_in_use(self.hass, charge_point_id):
            return self.async_abort(reason="charger_exists")
        self._discovery = discovery_info
        described = " ".join(
            str(discovery_info[key])
            for key in (CONF_MANUFACTURER, CONF_MODEL, CONF_SERIAL)
            if discovery_info.get(key)
        )
        self.context["title_placeholders"] = {"name": described or charge_point_id}
        return await self.async_step_discovery_confirm()

    async def async_step_discovery_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Add the discovered charger to a place that accepts new chargers."""
        places = {
            entry.entry_id: entry
            for entry in self._async_current_entries(include_ignore=False)
            if entry.state is ConfigEntryState.LOADED
            and settings_of(entry).accept_new_chargers
        }
        if not places:
            return self.async_abort(reason="not_accepting")
        info = self._discovery
        errors: dict[str, str] = {}
        if user_input is not None:
            errors = charger_errors(user_input)
            if user_input[CONF_PLACE] not in places:
                errors[CONF_PLACE] = "unknown_place"
            if not errors:
                entry = places[user_input[CONF_PLACE]]
                name = str(user_input[CONF_NAME]).strip()
                self.hass.config_entries.async_add_subentry(
                    entry,
                    ConfigSubentry(
                        data=MappingProxyType(
                            {
                                CONF_CHARGE_POINT_ID: info[CONF_CHARGE_POINT_ID],
                                CONF_PASSWORD: None,
                                **charger_data(user_input),
                                **{
                                    key: info.get(key)
                                    for key in (
                                        CONF_MANUFACTURER,
                                        CONF_MODEL,
                                        CONF_SERIAL,
                                    )
                                },
                            }
                        ),
                        subentry_type=SUBENTRY_CHARGER,
                        title=name,
                        unique_id=info[CONF_CHARGE_POINT_ID],
                    ),
                )
                return self.async_abort(
                    reason="charger_added",
                    description_placeholders={"name": name, "place": entry.title},
                )
        schema = vol.Schema(
            {
                vol.Required(CONF_PLACE): _ChoiceSelector(
                    SelectSelectorConfig(
                        options=[
                            SelectOptionDict(value=entry_id, label=entry.title)
                            for entry_id, entry in places.items()
                        ],
                        mode=SelectSelectorMode.DROPDOWN,
                    )
                )
            }
        ).extend(CHARGER_FIELDS.schema)
        suggested = user_input or {
            CONF_PLACE: next(iter(places)),
            CONF_NAME: " ".join(
                str(info[key])
                for key in (CONF_MANUFACTURER, CONF_MODEL)
                if info.get(key)
            )
            or info[CONF_CHARGE_POINT_ID],
            CONF_PHASES: "3",
            CONF_CONNECTORS: 1,
        }
        return self.async_show_form(
            step_id="discovery_confirm",
            data_schema=self.add_suggested_values_to_schema(schema, suggested),
            errors=errors,
            description_placeholders={
                "charge_point_id": info[CONF_CHARGE_POINT_ID],
                "manufacturer": info.get(CONF_MANUFACTURER) or "?",
                "model": info.get(CONF_MODEL) or "?",
                "serial": info.get(CONF_SERIAL) or "?",
            },
        )

    async def async_step_user(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask for the place."""
        suggested = {
            CONF_NAME: self.hass.config.location_name,
            CONF_COUNTRY: suggest_country(self.hass.config.country),
            CONF_COST_BASIS: CostBasis.SPOT,
            CONF_GRID_TYPE: GridType.THREE_PHASE_400_TN,
        }
        return await self._async_step_place("user", user_input, suggested)

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Change any field of an existing place."""
        entry = self._get_reconfigure_entry()
        if not self._data:
            self._data = dict(entry.data)
        return await self._async_step_place("reconfigure", user_input, self._data)

    async def _async_step_place(
        self, step_id: str, user_input: dict[str, Any] | None, suggested: dict[str, Any]
    ) -> ConfigFlowResult:
        errors: dict[str, str] = {}
        if user_input is not None:
            user_input[CONF_NAME] = user_input[CONF_NAME].strip()
            errors = validate_place(user_input)
            if not errors and self._name_taken(user_input[CONF_NAME]):
                errors[CONF_NAME] = "name_exists"
            if not errors:
                if user_input[CONF_COUNTRY] != self._data.get(CONF_COUNTRY):
                    self._data.pop(CONF_PRICE_AREA, None)
                self._data.update(user_input)
                return await self.async_step_price_area()
        return self.async_show_form(
            step_id=step_id,
            data_schema=self.add_suggested_values_to_schema(
                PLACE_SCHEMA, user_input or suggested
            ),
            errors=errors,
            description_placeholders={
                "min_fuse": str(MIN_MAIN_FUSE),
                "max_fuse": str(MAX_MAIN_FUSE),
            },
        )

    def _name_taken(self, name: str) -> bool:
        """Whether another place already has this name (case-insensitive)."""
        own = (
            self._get_reconfigure_entry().entry_id
            if self.source == SOURCE_RECONFIGURE
            else None
        )
        return any(
            entry.title.casefold() == name.casefold()
            for entry in self._async_current_entries(include_ignore=False)
            if entry.entry_id != own
        )

    async def async_step_price_area(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask for the price area; skipped when the country has only one."""
        country = self._data[CONF_COUNTRY]
        areas = price_areas(country)
        if user_input is None and len(areas) == 1:
            user_input = {CONF_PRICE_AREA: areas[0]}
        errors: dict[str, str] = {}
        if user_input is not None:
            errors = validate_place({CONF_COUNTRY: country, **user_input})
            if not errors:
                self._data.update(user_input)
                if self._data[CONF_COST_BASIS] == CostBasis.FIXED:
                    return await self.async_step_fixed_price()
                return self._async_finish()
        suggested = self._data.get(CONF_PRICE_AREA) or suggest_price_area(
            country, self.hass.config.latitude, self.hass.config.longitude
        )
        return self.async_show_form(
            step_id="price_area",
            data_schema=self.add_suggested_values_to_schema(
                _price_area_schema(country), {CONF_PRICE_AREA: suggested}
            ),
            errors=errors,
        )

    async def async_step_fixed_price(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask for the fixed price per kWh."""
        errors: dict[str, str] = {}
        if user_input is not None:
            price = parse_price(user_input[CONF_FIXED_PRICE])
            if price is None:
                errors[CONF_FIXED_PRICE] = "invalid_price"
            else:
                self._data[CONF_FIXED_PRICE] = price
                return self._async_finish()
        suggested = user_input or {
            CONF_FIXED_PRICE: _as_text(self._data.get(CONF_FIXED_PRICE))
        }
        return self.async_show_form(
            step_id="fixed_price",
            data_schema=self.add_suggested_values_to_schema(
                _price_schema(self.hass.config.currency, CONF_FIXED_PRICE), suggested
            ),
            errors=errors,
            description_placeholders={"currency": self.hass.config.currency},
        )

    @callback
    def _async_finish(self) -> ConfigFlowResult:
        data = {**self._data, CONF_MAIN_FUSE: float(self._data[CONF_MAIN_FUSE])}
        if self.source == SOURCE_RECONFIGURE:
            return self.async_update_reload_and_abort(
                self._get_reconfigure_entry(), title=data[CONF_NAME], data=data
            )
        return self.async_create_entry(title=data[CONF_NAME], data=data)


class PlaceOptionsFlow(MeterOptionsFlow, PlanOptionsFlow):
    """Prices, smart charging, meter and load balancing; the shared OCPP server."""

    async def async_step_init(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Choose what to change."""
        return self.async_show_menu(
            step_id="init",
            menu_options=[
                "prices",
                "smart_charging",
                "meter",
                "load_balancing",
                "ocpp_server",
            ],
        )

    async def async_step_prices(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """What a spot-priced kWh costs: the supplier's markup and VAT."""
        settings = settings_of(self.config_entry)
        errors: dict[str, str] = {}
        if user_input is not None:
            markup = parse_decimal(user_input[CONF_SPOT_MARKUP])
            vat = parse_decimal(user_input[CONF_VAT_PERCENT])
            if markup is None or abs(markup) > 100:
                errors[CONF_SPOT_MARKUP] = "invalid_price"
            if vat is None or not 0 <= vat <= 100:
                errors[CONF_VAT_PERCENT] = "invalid_vat"
            if not errors:
                return self.async_create_entry(
                    data={
                        **self.config_entry.options,
                        CONF_SPOT_MARKUP: markup,
                        CONF_VAT_PERCENT: vat,
                    }
                )
        currency = self.hass.config.currency
        schema = _price_schema(currency, CONF_SPOT_MARKUP).extend(
            {vol.Required(CONF_VAT_PERCENT): TextSelector({"suffix": "%"})}
        )
        suggested = user_input or {
            CONF_SPOT_MARKUP: _as_text(settings.spot_markup),
            CONF_VAT_PERCENT: _as_text(settings.vat_percent),
        }
        return self.async_show_form(
            step_id="prices",
            data_schema=self.add_suggested_values_to_schema(schema, suggested),
            errors=errors,
            description_placeholders={
                "currency": currency,
                "default_vat": _as_text(
                    default_vat_percent(settings.country, settings.price_area)
                )
                or "0",
            },
        )

    async def async_step_ocpp_server(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Where the OCPP server listens, and its TLS certificate (profile 2)."""
        errors: dict[str, str] = {}
        placeholders = {"error": ""}
        if user_input is not None:
            settings = ServerSettings(
                host=str(user_input[CONF_HOST]).strip(),
                port=int(user_input[CONF_PORT]),
                certificate=str(user_input.get(CONF_CERTIFICATE) or "").strip() or None,
                private_key=str(user_input.get(CONF_PRIVATE_KEY) or "").strip() or None,
            )
            errors = settings_errors(
                settings
            ) or await self.hass.async_add_executor_job(tls_file_errors, settings)
            if not errors:
                try:
                    if (central := self.hass.data.get(CENTRAL)) is not None:
                        await central.async_restart(settings)
                except OSError as err:
                    errors["base"] = "server_failed"
                    placeholders["error"] = f" ({err})"
                else:
                    await async_save_settings(self.hass, settings)
                    return self.async_create_entry(data=dict(self.config_entry.options))
        current = asdict(await async_load_settings(self.hass))
        return self.async_show_form(
            step_id="ocpp_server",
            data_schema=self.add_suggested_values_to_schema(
                SERVER_SCHEMA, user_input or current
            ),
            errors=errors,
            description_placeholders=placeholders,
        )
