"""OCPP 1.6J: frames to charger events, commands to frames."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
import logging
from typing import Any

from ocpp.v16 import ChargePoint, call, call_result
from ocpp.v16.enums import (
    Action,
    AuthorizationStatus,
    AvailabilityType,
    DataTransferStatus,
    RegistrationStatus,
    ResetType,
    UpdateType,
)

from .meter_values import parse_meter_values, wh_from_meter_register
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

_LOGGER = logging.getLogger(__name__)

# Accepted chargers send a heartbeat this often; the websocket's own pings
# find a dead socket sooner. Pending ones retry their boot this often.
HEARTBEAT_INTERVAL_S = 300
PENDING_RETRY_S = 10


class Session16(SessionBase, ChargePoint):  # type: ignore[misc]
    """One connected OCPP 1.6J charger."""

    version = OcppVersion.V16

    # Charger → us

    # Huawei boots with an empty vendor, which the schema rejects forever.
    @handles(Action.boot_notification, skip_schema_validation=True)
    def _on_boot(self, **payload: Any) -> call_result.BootNotification:
        boot = BootInfo(
            vendor=clean_text(payload.get("charge_point_vendor")) or "",
            model=clean_text(payload.get("charge_point_model")) or "",
            serial=clean_text(payload.get("charge_point_serial_number"))
            or clean_text(payload.get("charge_box_serial_number")),
            firmware=clean_text(payload.get("firmware_version")),
        )
        accepted = self._events().on_boot(boot)
        return call_result.BootNotification(
            current_time=now_iso(),
            interval=HEARTBEAT_INTERVAL_S if accepted else PENDING_RETRY_S,
            status=RegistrationStatus.accepted
            if accepted
            else RegistrationStatus.pending,
        )

    @handles(Action.heartbeat)
    def _on_heartbeat(self) -> call_result.Heartbeat:
        self._events().on_heartbeat()
        return call_result.Heartbeat(current_time=now_iso())

    @handles(Action.status_notification)
    def _on_status(
        self, connector_id: int, error_code: str, status: str, **extra: Any
    ) -> call_result.StatusNotification:
        self._events().on_status(
            StatusReport(
                connector_id=connector_id,
                status=status,
                error_code=error_code,
                vendor_error_code=clean_text(extra.get("vendor_error_code")),
                info=clean_text(extra.get("info")),
                timestamp=parse_timestamp(extra.get("timestamp")),
            )
        )
        return call_result.StatusNotification()

    @handles(Action.meter_values)
    def _on_meter_values(
        self,
        connector_id: int,
        meter_value: list[Any],
        transaction_id: int | None = None,
    ) -> call_result.MeterValues:
        self._events().on_meter_values(
            connector_id,
            None if transaction_id is None else str(transaction_id),
            parse_meter_values(meter_value),
        )
        return call_result.MeterValues()

    @handles(Action.start_transaction)
    def _on_start_transaction(
        self, connector_id: int, id_tag: str, meter_start: int, timestamp: str, **_: Any
    ) -> call_result.StartTransaction:
        transaction_id = self._events().on_transaction_started(
            connector_id,
            id_tag,
            wh_from_meter_register(meter_start),
            parse_timestamp(timestamp),
            None,
        )
        # Not accepted: the charger stops it (StopTransactionOnInvalidId).
        return call_result.StartTransaction(
            transaction_id=int(transaction_id),
            id_tag_info={"status": self._events().on_authorize(id_tag)},
        )

    @handles(Action.stop_transaction)
    def _on_stop_transaction(
        self, meter_stop: int, timestamp: str, transaction_id: int, **extra: Any
    ) -> call_result.StopTransaction:
        self._events().on_transaction_ended(
            str(transaction_id),
            wh_from_meter_register(meter_stop),
            parse_timestamp(timestamp),
            clean_text(extra.get("reason")),
        )
        if extra.get("id_tag") is None:
            return call_result.StopTransaction()
        return call_result.StopTransaction(
            id_tag_info={"status": AuthorizationStatus.accepted}
        )

    @handles(Action.authorize)
    def _on_authorize(self, id_tag: str) -> call_result.Authorize:
        return call_result.Authorize(
            id_tag_info={"status": self._events().on_authorize(id_tag)}
        )

    @handles(Action.data_transfer)
    def _on_data_transfer(self, vendor_id: str, **_: Any) -> call_result.DataTransfer:
        return call_result.DataTransfer(status=DataTransferStatus.unknown_vendor_id)

    @handles(Action.firmware_status_notification)
    def _on_firmware_status(
        self, status: str
    ) -> call_result.FirmwareStatusNotification:
        return call_result.FirmwareStatusNotification()

    @handles(Action.diagnostics_status_notification)
    def _on_diagnostics_status(
        self, status: str
    ) -> call_result.DiagnosticsStatusNotification:
        return call_result.DiagnosticsStatusNotification()

    # Us → charger

    async def set_profile(self, request: ProfileRequest) -> bool:
        """Send a charging profile; True when accepted."""
        result = await self._call(
            call.SetChargingProfile(
                connector_id=request.target_id, cs_charging_profiles=request.profile
            )
        )
        return bool(result.status == "Accepted")

    async def remote_start(self, connector_id: int, id_tag: str) -> bool:
        """Ask the charger to start charging."""
        result = await self._call(
            call.RemoteStartTransaction(id_tag=id_tag, connector_id=connector_id)
        )
        return bool(result.status == "Accepted")

    async def remote_stop(self, transaction_id: str) -> bool:
        """Ask the charger to stop a transaction."""
        result = await self._call(
            call.RemoteStopTransaction(transaction_id=int(transaction_id))
        )
        return bool(result.status == "Accepted")

    async def change_availability(self, connector_id: int, operative: bool) -> bool:
        """Enable or disable; Scheduled (after the session) counts as done."""
        kind = AvailabilityType.operative if operative else AvailabilityType.inoperative
        result = await self._call(
            call.ChangeAvailability(connector_id=connector_id, type=kind)
        )
        return result.status in {"Accepted", "Scheduled"}

    async def reset(self, hard: bool) -> str:
        """Restart the charger; its answer (Accepted or Rejected)."""
        result = await self._call(
            call.Reset(type=ResetType.hard if hard else ResetType.soft)
        )
        return str(result.status)

    async def trigger(self, message: str, connector_id: int | None) -> bool:
        """Ask the charger to send a message now (status, meter values)."""
        result = await self._call(
            call.TriggerMessage(requested_message=message, connector_id=connector_id)
        )
        return bool(result.status == "Accepted")

    async def clear_profile(self, profile_id: int) -> bool:
        """Remove one of our charging profiles; False when it had none."""
        result = await self._call(call.ClearChargingProfile(id=profile_id))
        return bool(result.status == "Accepted")

    async def unlock(self, connector_id: int) -> bool:
        """Release the cable."""
        result = await self._call(call.UnlockConnector(connector_id=connector_id))
        return bool(result.status == "Unlocked")

    async def get_configuration(self, keys: list[str] | None) -> dict[str, Any]:
        """Configuration values by key; unknown keys are left out."""
        result = await self._call(call.GetConfiguration(key=keys))
        return {
            item["key"]: item.get("value")
            for item in result.configuration_key or []
            if isinstance(item, dict) and "key" in item
        }

    async def change_configuration(self, key: str, value: str) -> str:
        """Write a configuration key; the charger's status word."""
        result = await self._call(call.ChangeConfiguration(key=key, value=value))
        return str(result.status)

    async def send_local_list(
        self, version: int, cards: Mapping[str, datetime | None]
    ) -> str:
        """Replace the local authorization list (Accepted, Failed, NotSupported …)."""
        result = await self._call(
            call.SendLocalList(
                list_version=version,
                update_type=UpdateType.full,
                # Empty: left out (2.0.1 wants at least one item; Full clears).
                local_authorization_list=[
                    {"id_tag": tag, "id_tag_info": _accepted_until(expiry)}
                    for tag, expiry in cards.items()
                ]
                or None,
            )
        )
        return str(result.status)


def _accepted_until(expiry: datetime | None) -> dict[str, Any]:
    info: dict[str, Any] = {"status": AuthorizationStatus.accepted}
    if expiry is not None:
        info["expiry_date"] = expiry.astimezone(UTC).isoformat()
    return info
