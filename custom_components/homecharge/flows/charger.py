"""
Adding a charger to a place, by hand or from a discovery, and changing it.

ChargerSubentryFlow holds the steps of adding one by hand and changing one.
A discovered charger is confirmed by the config flow (a discovery cannot start
a subentry flow); the functions here build what both forms show and save.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import suppress
import math
from types import MappingProxyType
from typing import Any
from urllib.parse import urlparse

import voluptuous as vol

from homeassistant.components.sensor import SensorDeviceClass
from homeassistant.config_entries import (
    ConfigEntry,
    ConfigSubentry,
    ConfigSubentryFlow,
    SubentryFlowResult,
)
from homeassistant.const import (
    CONF_NAME,
    PERCENTAGE,
    UnitOfElectricCurrent,
    UnitOfEnergy,
    UnitOfLength,
    UnitOfTime,
)
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import section
from homeassistant.helpers.network import NoURLAvailableError, get_url
from homeassistant.helpers.selector import (
    EntitySelector,
    EntitySelectorConfig,
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
    TextSelector,
)
from homeassistant.util import dt as dt_util

from ..central.identity import valid_charge_point_id
from ..central.server import CENTRAL
from ..const import (
    CONF_CHARGE_POINT_ID,
    CONF_CIRCUIT_FUSE,
    CONF_CONNECTORS,
    CONF_MANUFACTURER,
    CONF_MAX_CURRENT,
    CONF_MODEL,
    CONF_PASSWORD,
    CONF_PHASE,
    CONF_PHASES,
    CONF_PLACE,
    CONF_PRIORITY,
    CONF_SERIAL,
    DOMAIN,
    MAX_CONNECTORS,
    SUBENTRY_CHARGER,
)
from ..logic.access import CONF_ACCESS_MODE, AccessMode
from ..logic.allocation import Priority
from ..logic.grid import IEC_MIN_AMPS
from ..logic.place import parse_decimal
from ..logic.plan_settings import (
    CONF_BATTERY,
    CONF_SOC_ENTITY,
    CONF_TARGET_SOC,
    validate_plan_options,
)
from ..logic.proximity import (
    CONF_AWAY_DISTANCE,
    CONF_AWAY_SECONDS,
    CONF_NEAR_DISTANCE,
    CONF_NEAR_SECONDS,
    CONF_PROXIMITY,
    CONF_SCANNER,
    Thresholds,
    proximity_data,
    proximity_error,
)
from ..runtime.charger_state import MAX_CIRCUIT_FUSE, new_password
from .place_choice import PlaceChoice

DEFAULT_TARGET_SOC = 100
# The circuit fuse suggested when the charger does not say what it can take: a
# common home circuit, and never 0 (which the form refuses).
DEFAULT_CIRCUIT_FUSE = 16

_DEFAULT_THRESHOLDS = Thresholds()
# Who keeps charging when there is not enough for every car (a charger's, a
# person's while his session runs).
PRIORITY_SELECTOR = SelectSelector(
    SelectSelectorConfig(
        options=[priority.name.lower() for priority in Priority],
        translation_key=CONF_PRIORITY,
        mode=SelectSelectorMode.DROPDOWN,
    )
)


def _metres_or_seconds(unit: str) -> NumberSelector:
    return NumberSelector(
        NumberSelectorConfig(
            mode=NumberSelectorMode.BOX, step=1, unit_of_measurement=unit
        )
    )


PROXIMITY_FIELDS = vol.Schema(
    {
        vol.Optional(
            CONF_NEAR_DISTANCE, default=_DEFAULT_THRESHOLDS.near_m
        ): _metres_or_seconds(UnitOfLength.METERS),
        vol.Optional(
            CONF_NEAR_SECONDS, default=_DEFAULT_THRESHOLDS.near_s
        ): _metres_or_seconds(UnitOfTime.SECONDS),
        vol.Optional(
            CONF_AWAY_DISTANCE, default=_DEFAULT_THRESHOLDS.away_m
        ): _metres_or_seconds(UnitOfLength.METERS),
        vol.Optional(
            CONF_AWAY_SECONDS, default=_DEFAULT_THRESHOLDS.away_s
        ): _metres_or_seconds(UnitOfTime.SECONDS),
        vol.Optional(CONF_SCANNER): TextSelector(),
    }
)
CHARGER_FIELDS = vol.Schema(
    {
        vol.Required(CONF_NAME): TextSelector(),
        vol.Required(CONF_CIRCUIT_FUSE): NumberSelector(
            NumberSelectorConfig(
                mode=NumberSelectorMode.BOX,
                step=1,
                unit_of_measurement=UnitOfElectricCurrent.AMPERE,
            )
        ),
        vol.Required(CONF_PHASES): SelectSelector(
            SelectSelectorConfig(
                options=["1", "3"],
                translation_key=CONF_PHASES,
                mode=SelectSelectorMode.LIST,
            )
        ),
        # No min/max on the number: out of range gets our translated error.
        vol.Required(CONF_CONNECTORS): NumberSelector(
            NumberSelectorConfig(step=1, mode=NumberSelectorMode.BOX)
        ),
        # Load balancing: the house phase a 1-phase charger is wired to, and
        # who keeps charging when there is not enough for every car.
        vol.Optional(CONF_PHASE, default="1"): SelectSelector(
            SelectSelectorConfig(
                options=["1", "2", "3"],
                translation_key=CONF_PHASE,
                mode=SelectSelectorMode.DROPDOWN,
            )
        ),
        vol.Optional(
            CONF_PRIORITY, default=Priority.NORMAL.name.lower()
        ): PRIORITY_SELECTOR,
        # Open to everyone, or only to the place's people (logic/access.py).
        vol.Optional(CONF_ACCESS_MODE, default=AccessMode.OPEN.value): SelectSelector(
            SelectSelectorConfig(
                options=[mode.value for mode in AccessMode],
                translation_key=CONF_ACCESS_MODE,
                mode=SelectSelectorMode.LIST,
            )
        ),
        # When a phone counts as near a restricted charger (logic/proximity.py).
        vol.Optional(CONF_PROXIMITY): section(PROXIMITY_FIELDS, {"collapsed": True}),
    }
)
DEVICE_FIELDS = vol.Schema(
    {
        vol.Optional(CONF_MANUFACTURER): TextSelector(),
        vol.Optional(CONF_MODEL): TextSelector(),
        vol.Optional(CONF_SERIAL): TextSelector(),
    }
)
# The car usually charged here: its battery level sensor and size, and how
# full smart charging makes it. No min/max on the numbers: out of range gets
# our translated error, not voluptuous's English one.
VEHICLE_FIELDS = vol.Schema(
    {
        vol.Optional(CONF_SOC_ENTITY): EntitySelector(
            EntitySelectorConfig(
                domain="sensor", device_class=SensorDeviceClass.BATTERY
            )
        ),
        vol.Optional(CONF_BATTERY): NumberSelector(
            NumberSelectorConfig(
                mode=NumberSelectorMode.BOX,
                step=0.1,
                unit_of_measurement=UnitOfEnergy.KILO_WATT_HOUR,
            )
        ),
        vol.Optional(CONF_TARGET_SOC, default=DEFAULT_TARGET_SOC): NumberSelector(
            NumberSelectorConfig(
                mode=NumberSelectorMode.BOX, step=1, unit_of_measurement=PERCENTAGE
            )
        ),
    }
)


def charger_in_use(hass: HomeAssistant, charge_point_id: str) -> bool:
    """Whether any place already has a charger with this id."""
    return any(
        subentry.subentry_type == SUBENTRY_CHARGER
        and subentry.data[CONF_CHARGE_POINT_ID].casefold() == charge_point_id.casefold()
        for entry in hass.config_entries.async_entries(DOMAIN)
        for subentry in entry.subentries.values()
    )


def charger_errors(data: dict[str, Any]) -> dict[str, str]:
    """Field errors of a charger's settings."""
    errors: dict[str, str] = {}
    if not str(data.get(CONF_NAME, "")).strip():
        errors[CONF_NAME] = "name_empty"
    fuse = parse_decimal(data.get(CONF_CIRCUIT_FUSE))
    if fuse is None or not IEC_MIN_AMPS <= fuse <= MAX_CIRCUIT_FUSE:
        errors[CONF_CIRCUIT_FUSE] = "circuit_fuse_out_of_range"
    connectors = parse_decimal(data.get(CONF_CONNECTORS))
    if (
        connectors is None
        or not connectors.is_integer()
        or not 1 <= connectors <= MAX_CONNECTORS
    ):
        errors[CONF_CONNECTORS] = "connectors_out_of_range"
    if problem := proximity_error(data.get(CONF_PROXIMITY) or {}):
        errors["base"] = problem
    return errors


def server_url(hass: HomeAssistant) -> str:
    """The address a charger connects to, without its id."""
    host = "<home-assistant>"
    with suppress(NoURLAvailableError):
        url = get_url(hass, allow_external=False, allow_cloud=False)
        host = urlparse(url).hostname or host
    central = hass.data.get(CENTRAL)
    scheme = central.settings.scheme if central else "ws"
    port = central.port if central else 9000
    return f"{scheme}://{host}:{port}"


def vehicle_errors(data: dict[str, Any]) -> dict[str, str]:
    """Field errors of the car's battery size and target level."""
    checked = {key: data.get(key) for key in (CONF_BATTERY, CONF_TARGET_SOC)}
    return {key: f"{key}_out_of_range" for key in validate_plan_options(checked)}


def vehicle_data(user_input: dict[str, Any]) -> dict[str, Any]:
    """Subentry data of the car from the form; what was left empty is None."""
    battery = user_input.get(CONF_BATTERY)
    return {
        CONF_SOC_ENTITY: user_input.get(CONF_SOC_ENTITY) or None,
        CONF_BATTERY: None if battery is None else float(battery),
        CONF_TARGET_SOC: float(user_input.get(CONF_TARGET_SOC, DEFAULT_TARGET_SOC)),
    }


def charger_data(user_input: dict[str, Any]) -> dict[str, Any]:
    """Subentry data from the form (numbers as numbers)."""
    return {
        CONF_CIRCUIT_FUSE: float(user_input[CONF_CIRCUIT_FUSE]),
        CONF_PHASES: int(user_input[CONF_PHASES]),
        CONF_CONNECTORS: int(user_input[CONF_CONNECTORS]),
        CONF_PHASE: int(user_input.get(CONF_PHASE, 1)),
        CONF_PRIORITY: user_input.get(CONF_PRIORITY, Priority.NORMAL.name.lower()),
        CONF_ACCESS_MODE: AccessMode(
            user_input.get(CONF_ACCESS_MODE, AccessMode.OPEN)
        ).value,
        CONF_PROXIMITY: proximity_data(user_input.get(CONF_PROXIMITY) or {}),
    }


def _described(info: Mapping[str, Any], *keys: str) -> str:
    return " ".join(str(info[key]) for key in keys if info.get(key))


def discovery_title(info: Mapping[str, Any]) -> str:
    """How a discovered charger is named in the list of discoveries."""
    described = _described(info, CONF_MANUFACTURER, CONF_MODEL, CONF_SERIAL)
    return described or str(info[CONF_CHARGE_POINT_ID])


def _reported_number(value: Any) -> float | None:
    """A positive, finite number the charger reported; None for anything else."""
    if isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) and number > 0 else None


def suggested_circuit_fuse(max_current: Any = None) -> int:
    """The circuit fuse to suggest, in the whole amps the field takes.

    The most the charger says it can take (rounded to the nearest amp: 11 kW
    on 3 phases is 15.9 A, a 16 A circuit), within what a circuit fuse may be;
    16 A, a common home circuit, when it says nothing.
    """
    amps = _reported_number(max_current)
    if amps is None:
        return DEFAULT_CIRCUIT_FUSE
    whole = math.floor(amps + 0.5)
    return int(min(max(whole, IEC_MIN_AMPS), MAX_CIRCUIT_FUSE))


def _reported_phases(value: Any) -> str | None:
    """The charger's own "1" or "3" phases as the form's option; None if unsure."""
    number = _reported_number(value)
    return str(int(number)) if number in {1.0, 3.0} else None


def discovery_suggestion(info: Mapping[str, Any]) -> dict[str, Any]:
    """What the confirm form suggests for a discovered charger.

    Phases only as the charger reports them (no guess: the user chooses), and
    the circuit fuse from the current it reports, else 16 A.
    """
    suggestion: dict[str, Any] = {
        CONF_NAME: _described(info, CONF_MANUFACTURER, CONF_MODEL)
        or info[CONF_CHARGE_POINT_ID],
        CONF_CIRCUIT_FUSE: suggested_circuit_fuse(info.get(CONF_MAX_CURRENT)),
        CONF_CONNECTORS: info.get(CONF_CONNECTORS) or 1,
    }
    if (phases := _reported_phases(info.get(CONF_PHASES))) is not None:
        suggestion[CONF_PHASES] = phases
    return suggestion


def discovery_placeholders(info: Mapping[str, Any]) -> dict[str, str]:
    """What the confirm form says about a discovered charger."""
    return {
        "charge_point_id": info[CONF_CHARGE_POINT_ID],
        "manufacturer": info.get(CONF_MANUFACTURER) or "?",
        "model": info.get(CONF_MODEL) or "?",
        "serial": info.get(CONF_SERIAL) or "?",
    }


def discovered_charger(
    info: Mapping[str, Any], user_input: dict[str, Any]
) -> ConfigSubentry:
    """The subentry of a discovered charger; it connects without a password."""
    return ConfigSubentry(
        data=MappingProxyType(
            {
                CONF_CHARGE_POINT_ID: info[CONF_CHARGE_POINT_ID],
                CONF_PASSWORD: None,
                **charger_data(user_input),
                **{
                    key: info.get(key)
                    for key in (CONF_MANUFACTURER, CONF_MODEL, CONF_SERIAL)
                },
            }
        ),
        subentry_type=SUBENTRY_CHARGER,
        title=str(user_input[CONF_NAME]).strip(),
        unique_id=info[CONF_CHARGE_POINT_ID],
    )


class ChargerSubentryFlow(ConfigSubentryFlow):
    """Add a charger by its OCPP identity, or change one."""

    def __init__(self) -> None:
        """Start with nothing collected."""
        self._data: dict[str, Any] = {}
        self._title = ""

    async def async_step_user(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """Ask for the charger's identity and circuit."""
        errors: dict[str, str] = {}
        # The identity the form's text asks for, right after the name.
        schema = vol.Schema(
            {
                vol.Required(CONF_NAME): TextSelector(),
                vol.Required(CONF_CHARGE_POINT_ID): TextSelector(),
                **{
                    key: value
                    for key, value in CHARGER_FIELDS.schema.items()
                    if key != CONF_NAME
                },
            }
        )
        if user_input is not None:
            charge_point_id = str(user_input[CONF_CHARGE_POINT_ID]).strip()
            errors = charger_errors(user_input)
            if not valid_charge_point_id(charge_point_id):
                errors[CONF_CHARGE_POINT_ID] = "invalid_charge_point_id"
            elif charger_in_use(self.hass, charge_point_id):
                errors[CONF_CHARGE_POINT_ID] = "charger_exists"
            if not errors:
                self._title = str(user_input[CONF_NAME]).strip()
                self._data = {
                    CONF_CHARGE_POINT_ID: charge_point_id,
                    CONF_PASSWORD: new_password(),
                    **charger_data(user_input),
                }
                return await self.async_step_connect()
        return self.async_show_form(
            step_id="user",
            data_schema=self.add_suggested_values_to_schema(
                schema,
                user_input
                or {
                    CONF_CIRCUIT_FUSE: suggested_circuit_fuse(),
                    CONF_PHASES: "3",
                    CONF_CONNECTORS: 1,
                },
            ),
            errors=errors,
            description_placeholders={"max_fuse": f"{MAX_CIRCUIT_FUSE:g}"},
        )

    async def async_step_connect(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """Show what to enter in the charger's OCPP settings, then add it."""
        if user_input is not None:
            return self.async_create_entry(
                title=self._title,
                data=self._data,
                unique_id=self._data[CONF_CHARGE_POINT_ID],
            )
        return self.async_show_form(
            step_id="connect",
            data_schema=vol.Schema({}),
            description_placeholders={
                "url": server_url(self.hass),
                "charge_point_id": self._data[CONF_CHARGE_POINT_ID],
                "password": self._data[CONF_PASSWORD],
            },
        )

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """Change the charger's name, circuit, device details, car — and place."""
        entry = self._get_entry()
        subentry = self._get_reconfigure_subentry()
        # Its own place, and every loaded place it could move to.
        places = PlaceChoice.of(
            self.hass.config_entries.async_entries(DOMAIN, include_ignore=False),
            lambda other: other.entry_id != entry.entry_id,
        )
        places = PlaceChoice({entry.entry_id: entry, **places.places})
        schema = (
            CHARGER_FIELDS.extend(DEVICE_FIELDS.schema)
            .extend(VEHICLE_FIELDS.schema)
            .extend(places.optional_schema.schema)
        )
        errors: dict[str, str] = {}
        if user_input is not None:
            user_input = {CONF_PLACE: entry.entry_id, **user_input}
            errors = (
                charger_errors(user_input)
                | vehicle_errors(user_input)
                | places.errors(user_input)
            )
            if not errors:
                details = {
                    key: str(user_input[key]).strip() or None
                    for key in (CONF_MANUFACTURER, CONF_MODEL, CONF_SERIAL)
                    if key in user_input
                }
                title = str(user_input[CONF_NAME]).strip()
                data = {
                    **subentry.data,
                    **charger_data(user_input),
                    **details,
                    **vehicle_data(user_input),
                }
                target = places.chosen(user_input)
                if target.entry_id != entry.entry_id:
                    move_charger(self.hass, entry, subentry, target, title, data)
                    return self.async_abort(
                        reason="charger_moved",
                        description_placeholders={
                            "name": title,
                            "place": target.title,
                        },
                    )
                return self.async_update_and_abort(
                    entry, subentry, title=title, data=data
                )
        current = {
            CONF_PLACE: entry.entry_id,
            CONF_NAME: subentry.title,
            **subentry.data,
            CONF_PHASES: str(subentry.data.get(CONF_PHASES, 3)),
            CONF_PHASE: str(subentry.data.get(CONF_PHASE, 1)),
            CONF_TARGET_SOC: subentry.data.get(CONF_TARGET_SOC, DEFAULT_TARGET_SOC),
        }
        return self.async_show_form(
            step_id="reconfigure",
            data_schema=self.add_suggested_values_to_schema(
                schema, user_input or current
            ),
            errors=errors,
            description_placeholders={"max_fuse": f"{MAX_CIRCUIT_FUSE:g}"},
        )


def move_charger(
    hass: HomeAssistant,
    source: ConfigEntry,
    subentry: ConfigSubentry,
    target: ConfigEntry,
    title: str,
    data: dict[str, Any],
) -> None:
    """
    Move a charger to another place, as the user sees it: the same charger.

    Its identity, password and settings go along, and so does its live
    state (register; a running session ends here and goes on there from its
    last register, so each place keeps what was charged there); its socket stays open — the central system
    hands it from one place to the other without a reconnect or discovery.
    """
    charge_point_id = str(subentry.data[CONF_CHARGE_POINT_ID])
    place = getattr(source, "runtime_data", None)
    runtime = place.chargers.get(subentry.subentry_id) if place else None
    if place is not None and runtime is not None:
        place.sessions.moved_away(charge_point_id)
    if (central := hass.data.get(CENTRAL)) is not None:
        now = dt_util.utcnow()
        central.moving[charge_point_id] = (
            {
                outlet.device_key: outlet.data.handed_over(now)
                for outlet in runtime.outlets
            }
            if runtime
            else {}
        )
    hass.config_entries.async_remove_subentry(source, subentry.subentry_id)
    hass.config_entries.async_add_subentry(
        target,
        ConfigSubentry(
            data=MappingProxyType(data),
            subentry_type=SUBENTRY_CHARGER,
            title=title,
            unique_id=subentry.unique_id,
        ),
    )
