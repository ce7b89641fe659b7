"""OCPP 2.0.1: frames to charger events, commands to frames.

2.0.1 speaks of EVSEs, a connector status (Available, Occupied, …) and a
transaction's charging state; both are folded into the 1.6 status words the
runtime knows (charger_status.status_from_ocpp201), so one runtime serves both.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from itertools import count
from typing import Any

from ocpp.v201 import ChargePoint, call, call_result
from ocpp.v201.enums import (
    Action,
    AuthorizationStatusEnumType,
    DataTransferStatusEnumType,
    OperationalStatusEnumType,
    RegistrationStatusEnumType,
    ResetEnumType,
    UpdateEnumType,
)

from ..logic.charger_status import status_from_ocpp201
from .meter_values import MeterSample, parse_meter_values
from .profile import (
    OcppVersion,
    ProfileRequest,
)
from .session import (
    BootInfo,
    SessionBase,
    StatusReport,
    clean_text,
    handles,
    now_iso,
    parse_timestamp,
)
from .v16 import HEARTBEAT_INTERVAL_S, PENDING_RETRY_S

# 1.6 configuration keys our runtime uses, as 2.0.1 device-model variables.
VARIABLES = {
    "AuthorizationKey": ("SecurityCtrlr", "BasicAuthPassword"),
    "ChargingScheduleAllowedChargingRateUnit": ("SmartChargingCtrlr", "RateUnit"),
    "ChargeProfileMaxStackLevel": ("SmartChargingCtrlr", "ProfileStackLevel"),
    "HeartbeatInterval": ("OCPPCommCtrlr", "HeartbeatInterval"),
    "MeterValueSampleInterval": ("SampledDataCtrlr", "TxUpdatedInterval"),
    "StopTransactionOnEVSideDisconnect": ("TxCtrlr", "StopTxOnEVSideDisconnect"),
}


def variable(key: str) -> tuple[str, str]:
    """A key as (component, variable): a 1.6 name, or "Component.Variable"."""
    if key in VARIABLES:
        return VARIABLES[key]
    component, _, name = key.partition(".")
    return (component, name) if name else ("OCPPCommCtrlr", key)


def _energy_wh(samples: list[MeterSample]) -> float | None:
    readings = [sample.energy_wh for sample in samples if sample.energy_wh is not None]
    return readings[-1] if readings else None


class Session201(SessionBase, ChargePoint):  # type: ignore[misc]
    """One connected OCPP 2.0.1 charging station."""

    version = OcppVersion.V201

    def __init__(self, *args: Any) -> None:
        """Also remember each EVSE's connector status and charging state."""
        super().__init__(*args)
        self._connector_status: dict[int, str] = {}
        self._charging_state: dict[int, str | None] = {}
        self._remote_start_ids = count(1)

    def _report(self, evse_id: int, timestamp: Any = None) -> None:
        status = status_from_ocpp201(
            self._connector_status.get(evse_id), self._charging_state.get(evse_id)
        )
        if status is not None:
            self._events().on_status(
                StatusReport(
                    connector_id=evse_id,
                    status=status,
                    timestamp=parse_timestamp(timestamp),
                )
            )

    # Station → us

    @handles(Action.boot_notification, skip_schema_validation=True)
    def _on_boot(self, **payload: Any) -> call_result.BootNotification:
        station = payload.get("charging_station")
        station = station if isinstance(station, dict) else {}
        accepted = self._events().on_boot(
            BootInfo(
                vendor=clean_text(station.get("vendor_name")) or "",
                model=clean_text(station.get("model")) or "",
                serial=clean_text(station.get("serial_number")),
                firmware=clean_text(station.get("firmware_version")),
            )
        )
        return call_result.BootNotification(
            current_time=now_iso(),
            interval=HEARTBEAT_INTERVAL_S if accepted else PENDING_RETRY_S,
            status=RegistrationStatusEnumType.accepted
            if accepted
            else RegistrationStatusEnumType.pending,
        )

    @handles(Action.heartbeat)
    def _on_heartbeat(self) -> call_result.Heartbeat:
        self._events().on_heartbeat()
        return call_result.Heartbeat(current_time=now_iso())

    @handles(Action.status_notification)
    def _on_status(
        self,
        timestamp: str,
        connector_status: str,
        evse_id: int,
        connector_id: int,
        **_: Any,
    ) -> call_result.StatusNotification:
        self._connector_status[evse_id] = connector_status
        if connector_status != "Occupied":
            self._charging_state[evse_id] = None
        self._report(evse_id, timestamp)
        return call_result.StatusNotification()

    @handles(Action.transaction_event)
    def _on_transaction_event(
        self,
        event_type: str,
        timestamp: str,
        trigger_reason: str,
        seq_no: int,
        transaction_info: dict[str, Any],
        **extra: Any,
    ) -> call_result.TransactionEvent:
        evse = extra.get("evse") or {}
        evse_id = int(evse.get("id", 1))
        transaction_id = str(transaction_info["transaction_id"])
        samples = parse_meter_values(extra.get("meter_value") or [])
        events = self._events()
        moment = parse_timestamp(timestamp)
        if event_type == "Started":
            token = extra.get("id_token") or {}
            events.on_transaction_started(
                evse_id,
                token.get("id_token"),
                _energy_wh(samples),
                moment,
                transaction_id,
            )
        if samples:
            events.on_meter_values(evse_id, transaction_id, samples)
        if state := transaction_info.get("charging_state"):
            self._charging_state[evse_id] = state
        if event_type == "Ended":
            self._charging_state[evse_id] = "Idle"
            events.on_transaction_ended(
                transaction_id,
                _energy_wh(samples),
                moment,
                clean_text(transaction_info.get("stopped_reason")),
            )
        self._report(evse_id, timestamp)
        if token := extra.get("id_token"):
            # A card that ends a transaction is not judged, only one that starts.
            status = (
                AuthorizationStatusEnumType.accepted
                if event_type == "Ended"
                else events.on_authorize(str(token.get("id_token", "")))
            )
            return call_result.TransactionEvent(id_token_info={"status": status})
        return call_result.TransactionEvent()

    @handles(Action.meter_values)
    def _on_meter_values(
        self, evse_id: int, meter_value: list[Any], **_: Any
    ) -> call_result.MeterValues:
        self._events().on_meter_values(evse_id, None, parse_meter_values(meter_value))
        return call_result.MeterValues()

    @handles(Action.authorize)
    def _on_authorize(
        self, id_token: dict[str, Any], **_: Any
    ) -> call_result.Authorize:
        status = self._events().on_authorize(str(id_token.get("id_token", "")))
        return call_result.Authorize(id_token_info={"status": status})

    @handles(Action.data_transfer)
    def _on_data_transfer(self, vendor_id: str, **_: Any) -> call_result.DataTransfer:
        return call_result.DataTransfer(
            status=DataTransferStatusEnumType.unknown_vendor_id
        )

    @handles(Action.notify_report)
    def _on_notify_report(self, **_: Any) -> call_result.NotifyReport:
        return call_result.NotifyReport()

    @handles(Action.notify_event)
    def _on_notify_event(self, **_: Any) -> call_result.NotifyEvent:
        return call_result.NotifyEvent()

    @handles(Action.security_event_notification)
    def _on_security_event(self, **_: Any) -> call_result.SecurityEventNotification:
        return call_result.SecurityEventNotification()

    @handles(Action.firmware_status_notification)
    def _on_firmware_status(self, **_: Any) -> call_result.FirmwareStatusNotification:
        return call_result.FirmwareStatusNotification()

    # Us → station

    async def set_profile(self, request: ProfileRequest) -> bool:
        """Send a charging profile; True when accepted."""
        result = await self._call(
            call.SetChargingProfile(
                evse_id=request.target_id, charging_profile=request.profile
            )
        )
        return bool(result.status == "Accepted")

    async def remote_start(self, connector_id: int, id_tag: str) -> bool:
        """Ask the station to start charging on an EVSE."""
        result = await self._call(
            call.RequestStartTransaction(
                id_token={"idToken": id_tag, "type": "Central"},
                remote_start_id=next(self._remote_start_ids),
                evse_id=connector_id,
            )
        )
        return bool(result.status == "Accepted")

    async def remote_stop(self, transaction_id: str) -> bool:
        """Ask the station to stop a transaction."""
        result = await self._call(
            call.RequestStopTransaction(transaction_id=transaction_id)
        )
        return bool(result.status == "Accepted")

    async def change_availability(self, connector_id: int, operative: bool) -> bool:
        """Enable or disable an EVSE (0: the whole station)."""
        status = (
            OperationalStatusEnumType.operative
            if operative
            else OperationalStatusEnumType.inoperative
        )
        result = await self._call(
            call.ChangeAvailability(
                operational_status=status,
                evse={"id": connector_id} if connector_id else None,
            )
        )
        return result.status in {"Accepted", "Scheduled"}

    async def reset(self, hard: bool) -> str:
        """Restart now (hard) or when idle (soft); Scheduled: after the session."""
        result = await self._call(
            call.Reset(type=ResetEnumType.immediate if hard else ResetEnumType.on_idle)
        )
        return str(result.status)

    async def trigger(self, message: str, connector_id: int | None) -> bool:
        """Ask the station to send a message now (status, meter values)."""
        evse: dict[str, int] | None = None
        if message == "StatusNotification":
            # 2.0.1 reports status per connector: name one (EVSE 1's, by default).
            evse = {"id": connector_id or 1, "connectorId": 1}
        elif connector_id is not None:
            evse = {"id": connector_id}
        result = await self._call(
            call.TriggerMessage(requested_message=message, evse=evse)
        )
        return bool(result.status == "Accepted")

    async def clear_profile(self, profile_id: int) -> bool:
        """Remove one of our charging profiles; False when it had none."""
        result = await self._call(
            call.ClearChargingProfile(charging_profile_id=profile_id)
        )
        return bool(result.status == "Accepted")

    async def unlock(self, connector_id: int) -> bool:
        """Release the cable of an EVSE."""
        result = await self._call(
            call.UnlockConnector(evse_id=connector_id, connector_id=1)
        )
        return bool(result.status == "Unlocked")

    async def get_configuration(self, keys: list[str] | None) -> dict[str, Any]:
        """Variables by key (1.6 names or "Component.Variable")."""
        names = keys or list(VARIABLES)
        result = await self._call(
            call.GetVariables(
                get_variable_data=[
                    {
                        "component": {"name": variable(key)[0]},
                        "variable": {"name": variable(key)[1]},
                    }
                    for key in names
                ]
            )
        )
        values: dict[str, Any] = {}
        for key, item in zip(names, result.get_variable_result or [], strict=False):
            if isinstance(item, dict) and item.get("attribute_status") == "Accepted":
                values[key] = item.get("attribute_value")
        return values

    async def change_configuration(self, key: str, value: str) -> str:
        """Set a variable; the station's status word."""
        component, name = variable(key)
        result = await self._call(
            call.SetVariables(
                set_variable_data=[
                    {
                        "attribute_value": value,
                        "component": {"name": component},
                        "variable": {"name": name},
                    }
                ]
            )
        )
        (item,) = result.set_variable_result
        return str(item.get("attribute_status"))

    async def send_local_list(
        self, version: int, cards: Mapping[str, datetime | None]
    ) -> str:
        """Replace the local authorization list (Accepted, Failed, VersionMismatch).

        Cards are RFID cards (ISO 14443), the kind a station matches them as.
        """
        result = await self._call(
            call.SendLocalList(
                version_number=version,
                update_type=UpdateEnumType.full,
                # Empty: left out (2.0.1 wants at least one item; Full clears).
                local_authorization_list=[
                    {
                        "id_token": {"id_token": tag, "type": "ISO14443"},
                        "id_token_info": _accepted_until(expiry),
                    }
                    for tag, expiry in cards.items()
                ]
                or None,
            )
        )
        return str(result.status)


def _accepted_until(expiry: datetime | None) -> dict[str, Any]:
    info: dict[str, Any] = {"status": AuthorizationStatusEnumType.accepted}
    if expiry is not None:
        info["cache_expiry_date_time"] = expiry.astimezone(UTC).isoformat()
    return info
