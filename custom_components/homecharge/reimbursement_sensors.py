"""Sensors of a reimbursement (sensor platform), on the driver's own device.

This month's business energy and amount (what the next statement pays so
far), the last statement's amount and state, and — with an OCPI receiver —
the sync's state (up to date, N waiting, failing with the last error, or
waiting for new credentials).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from homeassistant.components.sensor import (
    SensorDeviceClass,
)
from homeassistant.config_entries import ConfigEntry, ConfigSubentry
from homeassistant.const import UnitOfEnergy
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.typing import StateType
from homeassistant.util import dt as dt_util

from .const import CONF_CHARGE_POINT_ID, SUBENTRY_REIMBURSEMENT
from .logic.reimbursement.month import Month
from .logic.reimbursement.settings import CONF_COVERED_CHARGERS, tariffs_of
from .logic.reimbursement.statement import Statement, build_statement
from .logic.reimbursement.statement_states import StatementState
from .runtime.receivers import ReceiverSync
from .runtime.reimbursement_outbox import SyncState
from .runtime.statements import StatementBook
from .subentry_sensors import SubentrySensor, SubentrySensorDescription


@dataclass(frozen=True, slots=True)
class Reimbursed:
    """What a reimbursement's sensors read: its statements, sessions, sync."""

    entry: ConfigEntry
    subentry_id: str
    book: StatementBook
    sync: ReceiverSync | None

    @property
    def subentry(self) -> ConfigSubentry:
        """The reimbursement as configured now."""
        return self.entry.subentries[self.subentry_id]

    def this_month(self) -> Statement:
        """The statement of the month so far (its finished business sessions)."""
        zone = dt_util.get_default_time_zone()
        month = Month.of(dt_util.utcnow(), zone)
        subentry = self.subentry
        charge_points = {
            str(sub.data.get(CONF_CHARGE_POINT_ID))
            for key in subentry.data.get(CONF_COVERED_CHARGERS, ())
            if (sub := self.entry.subentries.get(key)) is not None
        }
        sessions = [
            session
            for session in self.entry.runtime_data.sessions.ledger
            if session.charger in charge_points and not session.demo
        ]
        return build_statement(
            month, subentry.title, sessions, tariffs_of(subentry.data), zone
        )

    def last_statement(self) -> dict[str, Any] | None:
        """The newest statement's record."""
        made = self.book.history.get(self.subentry_id, {})
        return made[max(made)] if made else None


@dataclass(frozen=True, kw_only=True)
class ReimbursementSensorDescription(SubentrySensorDescription):
    """A figure of a reimbursement."""

    value_fn: Callable[[Reimbursed], StateType]
    attributes_fn: Callable[[Reimbursed], dict[str, Any] | None] = lambda _: None
    # Only with an OCPI receiver.
    sync: bool = False


def _amount(statement: Statement) -> float | None:
    return float(statement.total_amount) if statement.complete else None


def _last_amount(reimbursed: Reimbursed) -> float | None:
    record = reimbursed.last_statement()
    return None if record is None else float(record["amount"])


def _last_state(reimbursed: Reimbursed) -> str | None:
    record = reimbursed.last_statement()
    return None if record is None else str(record["state"])


def _last_attributes(reimbursed: Reimbursed) -> dict[str, Any] | None:
    record = reimbursed.last_statement()
    if record is None:
        return None
    return {key: record.get(key) for key in ("month", "sessions", "pdf", "csv")}


def _sync_state(reimbursed: Reimbursed) -> str | None:
    return None if reimbursed.sync is None else reimbursed.sync.status.state.value


def _sync_attributes(reimbursed: Reimbursed) -> dict[str, Any] | None:
    if reimbursed.sync is None:
        return None
    status = reimbursed.sync.status
    return {
        "waiting": status.waiting,
        "refused": len(status.rejected),
        "last_error": status.last_error,
    }


REIMBURSEMENT_SENSORS: tuple[ReimbursementSensorDescription, ...] = (
    ReimbursementSensorDescription(
        key="business_energy_this_month",
        translation_key="business_energy_this_month",
        device_class=SensorDeviceClass.ENERGY,
        native_unit_of_measurement=UnitOfEnergy.KILO_WATT_HOUR,
        suggested_display_precision=1,
        value_fn=lambda r: round(r.this_month().total_wh / 1000, 3),
    ),
    ReimbursementSensorDescription(
        key="business_amount_this_month",
        translation_key="business_amount_this_month",
        device_class=SensorDeviceClass.MONETARY,
        suggested_display_precision=2,
        value_fn=lambda r: _amount(r.this_month()),
        money=True,
    ),
    ReimbursementSensorDescription(
        key="last_statement_amount",
        translation_key="last_statement_amount",
        device_class=SensorDeviceClass.MONETARY,
        suggested_display_precision=2,
        value_fn=_last_amount,
        attributes_fn=_last_attributes,
        money=True,
    ),
    ReimbursementSensorDescription(
        key="last_statement_state",
        translation_key="last_statement_state",
        device_class=SensorDeviceClass.ENUM,
        options=[state.value for state in StatementState],
        value_fn=_last_state,
    ),
    ReimbursementSensorDescription(
        key="sync_status",
        translation_key="sync_status",
        device_class=SensorDeviceClass.ENUM,
        options=[state.value for state in SyncState],
        value_fn=_sync_state,
        attributes_fn=_sync_attributes,
        sync=True,
    ),
)


def add_reimbursement_sensors(
    entry: ConfigEntry, async_add_entities: AddConfigEntryEntitiesCallback
) -> None:
    """Each reimbursement's sensors, on the driver's own device."""
    runtime = entry.runtime_data
    syncs = {sync.subentry_id: sync for sync in runtime.syncs}
    for subentry in entry.subentries.values():
        if subentry.subentry_type != SUBENTRY_REIMBURSEMENT:
            continue
        reimbursed = Reimbursed(
            entry,
            subentry.subentry_id,
            runtime.statements,
            syncs.get(subentry.subentry_id),
        )
        async_add_entities(
            (
                ReimbursementSensor(reimbursed, description)
                for description in REIMBURSEMENT_SENSORS
                if not description.sync or reimbursed.sync is not None
            ),
            config_subentry_id=subentry.subentry_id,
        )


class ReimbursementSensor(SubentrySensor):
    """A figure of a reimbursement."""

    entity_description: ReimbursementSensorDescription

    def __init__(
        self, reimbursed: Reimbursed, description: ReimbursementSensorDescription
    ) -> None:
        """On the driver's device, below the place."""
        super().__init__(reimbursed.entry, reimbursed.subentry_id, description)
        self._reimbursed = reimbursed

    async def async_added_to_hass(self) -> None:
        """Follow the statements and the sync too."""
        await super().async_added_to_hass()
        reimbursed = self._reimbursed
        self.async_on_remove(reimbursed.book.async_add_listener(self._changed))
        if reimbursed.sync is not None:
            self.async_on_remove(
                reimbursed.sync.async_add_status_listener(self._changed)
            )

    @property
    def native_value(self) -> StateType:
        """The figure now."""
        return self.entity_description.value_fn(self._reimbursed)

    @property
    def extra_state_attributes(self) -> dict[str, Any] | None:
        """The details a card or an automation may want."""
        return self.entity_description.attributes_fn(self._reimbursed)
