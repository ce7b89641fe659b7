"""
The OCPP 2.0.1 side of the simulated charger (``ocpp.v201``): a smaller subset.

Each EVSE has one connector (connectorId 1); the station itself is EVSE 0.

Sends BootNotification (reason PowerUp, RemoteReset after a Reset, Triggered),
StatusNotification (Available / Occupied / Unavailable / Faulted per EVSE),
Heartbeat, TransactionEvent (Started with the id token, Updated on a charging
state change and every meter interval, Ended with the stopped reason; meter values
as numbers; transaction ids made by the station) and MeterValues outside
transactions.

Answers RequestStartTransaction, RequestStopTransaction, SetChargingProfile
(ChargingStationMaxProfile on EVSE 0, TxDefaultProfile, TxProfile; the first
schedule of a profile is used), ClearChargingProfile, ChangeAvailability, Reset
(Immediate; OnIdle → Scheduled while a transaction runs), UnlockConnector,
TriggerMessage, DataTransfer, and GetVariables/SetVariables for ``VARIABLES``
(Actual attribute only; BasicAuthPassword is write-only). Not covered: Authorize,
local authorization lists, reservations, display messages, device model reports
(GetBaseReport), security profiles 2/3, firmware, ISO 15118.
"""

from __future__ import annotations

import asyncio
from typing import Any, Final
import uuid

from ocpp.exceptions import NotSupportedError
from ocpp.v201 import (  # type: ignore[import-untyped, unused-ignore]
    call,
    call_result,
)

from .base import (
    SessionBase,
    after,
    iso,
    on,
    parse_time,
    utcnow,
)
from .model import ChargingProfile, Connector, Period, allowed_units

# (component, variable) → the 1.6 configuration key the charger keeps it under.
VARIABLES: Final[dict[tuple[str, str], str]] = {
    ("SmartChargingCtrlr", "RateUnit"): "ChargingScheduleAllowedChargingRateUnit",
    ("SmartChargingCtrlr", "ProfileStackLevel"): "ChargeProfileMaxStackLevel",
    ("SmartChargingCtrlr", "PeriodsPerSchedule"): "ChargingScheduleMaxPeriods",
    ("OCPPCommCtrlr", "HeartbeatInterval"): "HeartbeatInterval",
    ("SampledDataCtrlr", "TxUpdatedInterval"): "MeterValueSampleInterval",
    ("SecurityCtrlr", "BasicAuthPassword"): "AuthorizationKey",
    ("ChargingStation", "SupplyPhases"): "SupplyPhases",
    ("TxCtrlr", "StopTxOnEVSideDisconnect"): "StopTransactionOnEVSideDisconnect",
}
TRIGGERS: Final = frozenset(
    {"BootNotification", "Heartbeat", "MeterValues", "StatusNotification"}
)
_CONNECTOR_STATUS: Final = {
    "Available": "Available",
    "Unavailable": "Unavailable",
    "Faulted": "Faulted",
    "Reserved": "Reserved",
}
_CHARGING_STATE: Final = {
    "Charging": "Charging",
    "SuspendedEV": "SuspendedEV",
    "SuspendedEVSE": "SuspendedEVSE",
    "Faulted": "SuspendedEVSE",
    "Preparing": "EVConnected",
    "Finishing": "EVConnected",
}
# 1.6 stop reasons (the charger's words) → (triggerReason, stoppedReason).
_STOP: Final = {
    "Local": ("StopAuthorized", "Local"),
    "Remote": ("RemoteStop", "Remote"),
    "EVDisconnected": ("EVCommunicationLost", "EVDisconnected"),
    "HardReset": ("ResetCommand", "ImmediateReset"),
    "SoftReset": ("ResetCommand", "ImmediateReset"),
    "Reboot": ("ResetCommand", "Reboot"),
    "DeAuthorized": ("Deauthorized", "DeAuthorized"),
    "UnlockCommand": ("UnlockCommand", "Other"),
    "EmergencyStop": ("AbnormalCondition", "EmergencyStop"),
    "PowerLoss": ("AbnormalCondition", "PowerLoss"),
}


def profile_from_v201(evse_id: int, data: dict[str, Any]) -> ChargingProfile:
    """A 2.0.1 ``chargingProfile`` (snake_case); only its first schedule counts."""
    schedule = data["charging_schedule"][0]
    duration = schedule.get("duration")
    return ChargingProfile(
        id=int(data["id"]),
        connector_id=evse_id,
        stack_level=int(data["stack_level"]),
        purpose=str(data["charging_profile_purpose"]),
        kind=str(data["charging_profile_kind"]),
        unit=str(schedule["charging_rate_unit"]),
        periods=tuple(
            sorted(
                (
                    Period(
                        float(period["start_period"]),
                        float(period["limit"]),
                        period.get("number_phases"),
                    )
                    for period in schedule["charging_schedule_period"]
                ),
                key=lambda period: period.start_s,
            )
        ),
        start_schedule=parse_time(schedule.get("start_schedule")),
        duration_s=None if duration is None else float(duration),
        valid_from=parse_time(data.get("valid_from")),
        valid_to=parse_time(data.get("valid_to")),
        recurrency=data.get("recurrency_kind"),
        transaction_id=data.get("transaction_id"),
        raw=data,
    )


class V201Session(SessionBase):
    """One OCPP 2.0.1 connection of the simulated charger."""

    _call = call
    _call_result = call_result
    _ocpp_version = "2.0.1"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        """A session; what was last told per EVSE: connector status, charging state."""
        super().__init__(*args, **kwargs)
        self._told_status: dict[int, str] = {}
        self._told_state: dict[int, str] = {}

    # To the CSMS --------------------------------------------------------------

    async def boot(self, reason: str) -> tuple[str, int]:
        """Send BootNotification."""
        charger = self.charger
        result = await self.request(
            call.BootNotification(
                charging_station={
                    "model": charger.model,
                    "vendor_name": charger.vendor,
                    "serial_number": charger.serial,
                    "firmware_version": charger.firmware,
                },
                reason=reason,
            )
        )
        return str(result.status), int(result.interval)

    async def heartbeat(self) -> None:
        """Send Heartbeat."""
        await self.request(call.Heartbeat())

    def sync(self, connector: Connector, *, force: bool = False) -> None:
        """StatusNotification on a connector status change; TransactionEvent
        Updated on a charging state change during a transaction."""
        if not connector.id:
            return
        status = _CONNECTOR_STATUS.get(connector.status, "Occupied")
        if force or self._told_status.get(connector.id) != status:
            self._told_status[connector.id] = status
            self.submit(
                call.StatusNotification(
                    timestamp=iso(),
                    connector_status=status,
                    evse_id=connector.id,
                    connector_id=1,
                )
            )
        state = _CHARGING_STATE.get(connector.status, "Idle")
        if (
            connector.transaction_id is not None
            and self._told_state.get(connector.id) != state
        ):
            self.submit(self._event(connector, "Updated", "ChargingStateChanged"))

    def send_meter_values(self, connector: Connector, context: str) -> None:
        """TransactionEvent Updated during a transaction, else MeterValues."""
        if connector.transaction_id is not None:
            trigger = "Trigger" if context == "Trigger" else "MeterValuePeriodic"
            self.submit(self._event(connector, "Updated", trigger, context=context))
            return
        self.submit(
            call.MeterValues(
                evse_id=connector.id,
                meter_value=[self._meter_value(connector, context)],
            )
        )

    def _meter_value(self, connector: Connector, context: str) -> dict[str, Any]:
        sampled = []
        for measurand, value, unit, phase in self.charger.samples(connector):
            item: dict[str, Any] = {
                "value": round(value, 4),
                "context": context,
                "measurand": measurand,
                "location": "Outlet",
                "unit_of_measure": {"unit": unit},
            }
            if phase is not None:
                item["phase"] = phase
            sampled.append(item)
        return {"timestamp": iso(), "sampled_value": sampled}

    def _event(
        self,
        connector: Connector,
        event_type: str,
        trigger: str,
        *,
        context: str = "Sample.Periodic",
        stopped_reason: str | None = None,
    ) -> Any:
        """A TransactionEvent for the connector's transaction (counts seqNo)."""
        if event_type == "Ended":
            state = "EVConnected" if connector.plugged else "Idle"
            self._told_state.pop(connector.id, None)
        else:
            state = _CHARGING_STATE.get(self.charger._status_for(connector), "Idle")
            self._told_state[connector.id] = state
        info: dict[str, Any] = {
            "transaction_id": str(connector.transaction_id),
            "charging_state": state,
        }
        if stopped_reason is not None:
            info["stopped_reason"] = stopped_reason
        if event_type == "Started" and connector.remote_start_id is not None:
            info["remote_start_id"] = connector.remote_start_id
        seq_no = connector.seq_no
        connector.seq_no += 1
        return call.TransactionEvent(
            event_type=event_type,
            timestamp=iso(),
            trigger_reason=trigger,
            seq_no=seq_no,
            transaction_info=info,
            evse={"id": connector.id, "connector_id": 1},
            id_token=(
                {"id_token": connector.id_tag, "type": connector.id_token_type}
                if event_type == "Started" and connector.id_tag
                else None
            ),
            meter_value=[self._meter_value(connector, context)],
        )

    async def authorize(self, id_tag: str) -> str:
        """Authorize a card (an ISO 14443 RFID token); the CSMS's status for it."""
        result = await self.request(
            call.Authorize(id_token={"id_token": id_tag, "type": "ISO14443"})
        )
        return str(result.id_token_info["status"])

    async def start_transaction(self, connector: Connector) -> bool:
        """TransactionEvent Started; authorized unless the answer says otherwise."""
        connector.transaction_id = str(uuid.uuid4())
        connector.tx_started = utcnow()
        connector.seq_no = 0
        trigger = (
            "RemoteStart" if connector.remote_start_id is not None else "Authorized"
        )
        result = await self.request(
            self._event(connector, "Started", trigger, context="Transaction.Begin")
        )
        info = result.id_token_info
        return info is None or info.get("status") == "Accepted"

    def stop_transaction(
        self, connector: Connector, reason: str
    ) -> asyncio.Future[Any]:
        """TransactionEvent Ended; ``reason`` in 1.6 words (2.0.1 words pass as-is)."""
        trigger, stopped = _STOP.get(reason, ("AbnormalCondition", reason))
        return self.submit(
            self._event(
                connector,
                "Ended",
                trigger,
                context="Transaction.End",
                stopped_reason=stopped,
            )
        )

    # From the CSMS ------------------------------------------------------------

    @on("SendLocalList")
    def on_send_local_list(self, **payload: Any) -> Any:
        """Kept (Full replaces, Differential updates); a CallError without one."""
        self.record("SendLocalList", payload)
        charger = self.charger
        if not charger.supports_local_list:
            raise NotSupportedError(description="no local authorization list")
        if payload["update_type"] == "Full":
            charger.local_list.clear()
        for item in payload.get("local_authorization_list") or []:
            tag = item["id_token"]["id_token"]
            info = item.get("id_token_info")
            if info is None:
                charger.local_list.pop(tag, None)
            else:
                charger.local_list[tag] = info.get("cache_expiry_date_time")
        charger.local_list_version = payload["version_number"]
        return call_result.SendLocalList(status="Accepted")

    @on("RequestStartTransaction")
    def on_request_start_transaction(self, call_unique_id: str, **payload: Any) -> Any:
        """Accepted when the EVSE is free (it starts once a car is plugged in)."""
        self.record("RequestStartTransaction", payload)
        charger = self.charger
        connector = charger._pick_connector(payload.get("evse_id"))
        data = payload.get("charging_profile")
        profile = None
        if data is not None:
            profile = profile_from_v201(connector.id if connector else 0, data)
        if connector is None or (
            profile is not None
            and charger._check_profile(profile, remote_start=True) is not None
        ):
            return call_result.RequestStartTransaction(status="Rejected")
        token = payload["id_token"]

        def start() -> None:
            connector.id_token_type = token.get("type", "ISO14443")
            charger._remote_start(
                connector, token["id_token"], profile, payload["remote_start_id"]
            )

        self.defer(call_unique_id, start)
        return call_result.RequestStartTransaction(status="Accepted")

    @after("RequestStartTransaction")
    def after_request_start_transaction(self, call_unique_id: str, **_: Any) -> None:
        """Start (or wait for the car)."""
        self.run_deferred(call_unique_id)

    @on("RequestStopTransaction")
    def on_request_stop_transaction(self, call_unique_id: str, **payload: Any) -> Any:
        """Accepted for a running transaction."""
        self.record("RequestStopTransaction", payload)
        connector = self.charger._transaction_connector(payload["transaction_id"])
        if connector is None:
            return call_result.RequestStopTransaction(status="Rejected")
        self.defer(
            call_unique_id, lambda: self.charger._end_transaction(connector, "Remote")
        )
        return call_result.RequestStopTransaction(status="Accepted")

    @after("RequestStopTransaction")
    def after_request_stop_transaction(self, call_unique_id: str, **_: Any) -> None:
        """Stop the transaction."""
        self.run_deferred(call_unique_id)

    @on("SetChargingProfile")
    def on_set_charging_profile(self, call_unique_id: str, **payload: Any) -> Any:
        """Accepted or Rejected per the charger's quirks."""
        self.record("SetChargingProfile", payload)
        profile = profile_from_v201(payload["evse_id"], payload["charging_profile"])
        if not self.charger._install_profile(profile):
            return call_result.SetChargingProfile(status="Rejected")
        self.defer(call_unique_id, self.charger._refresh)
        return call_result.SetChargingProfile(status="Accepted")

    @after("SetChargingProfile")
    def after_set_charging_profile(self, call_unique_id: str, **_: Any) -> None:
        """Apply the new limit."""
        self.run_deferred(call_unique_id)

    @on("ClearChargingProfile")
    def on_clear_charging_profile(self, call_unique_id: str, **payload: Any) -> Any:
        """Accepted when something was cleared, else Unknown."""
        self.record("ClearChargingProfile", payload)
        criteria = payload.get("charging_profile_criteria") or {}
        cleared = self.charger._clear_profiles(
            payload.get("charging_profile_id"),
            criteria.get("evse_id"),
            criteria.get("charging_profile_purpose"),
            criteria.get("stack_level"),
        )
        self.defer(call_unique_id, self.charger._refresh)
        return call_result.ClearChargingProfile(
            status="Accepted" if cleared else "Unknown"
        )

    @after("ClearChargingProfile")
    def after_clear_charging_profile(self, call_unique_id: str, **_: Any) -> None:
        """Apply what is left."""
        self.run_deferred(call_unique_id)

    @on("ChangeAvailability")
    def on_change_availability(self, call_unique_id: str, **payload: Any) -> Any:
        """Accepted, or Scheduled while a transaction runs."""
        self.record("ChangeAvailability", payload)
        evse = payload.get("evse") or {}
        status = self.charger._change_availability(
            evse.get("id", 0), payload["operational_status"] == "Operative"
        )
        self.defer(call_unique_id, self.charger._refresh)
        return call_result.ChangeAvailability(status=status)

    @after("ChangeAvailability")
    def after_change_availability(self, call_unique_id: str, **_: Any) -> None:
        """Report the new statuses."""
        self.run_deferred(call_unique_id)

    @on("Reset")
    def on_reset(self, call_unique_id: str, **payload: Any) -> Any:
        """Immediate: Accepted, reboot. OnIdle: Scheduled while charging."""
        self.record("Reset", payload)
        status = self.charger._reset(when_idle=payload["type"] == "OnIdle")
        if status == "Accepted":
            self.defer(
                call_unique_id,
                lambda: self.charger._spawn(self.charger._reboot("HardReset"), "reset"),
            )
        return call_result.Reset(status=status)

    @after("Reset")
    def after_reset(self, call_unique_id: str, **_: Any) -> None:
        """Reboot."""
        self.run_deferred(call_unique_id)

    @on("UnlockConnector")
    def on_unlock_connector(self, **payload: Any) -> Any:
        """Unlocked, unless a transaction runs there or there is no such EVSE."""
        self.record("UnlockConnector", payload)
        evse_id = payload["evse_id"]
        if (
            not evse_id
            or evse_id > self.charger.connectors
            or payload["connector_id"] != 1
        ):
            return call_result.UnlockConnector(status="UnknownConnector")
        if self.charger.connector(evse_id).transaction_id is not None:
            return call_result.UnlockConnector(status="OngoingAuthorizedTransaction")
        return call_result.UnlockConnector(status="Unlocked")

    @on("GetVariables")
    def on_get_variables(self, **payload: Any) -> Any:
        """The ``VARIABLES`` (Actual only)."""
        self.record("GetVariables", payload)
        # The device model's phases, beside the 1.6 keys the variables map to.
        table = {
            **self.charger._config_table(),
            "SupplyPhases": (str(self.charger.phases), True),
        }
        results = []
        for item in payload["get_variable_data"]:
            key, status = self._lookup(item)
            result = {
                "component": item["component"],
                "variable": item["variable"],
                "attribute_status": status,
            }
            if key is not None and key not in table:
                result["attribute_status"] = "Rejected"  # write-only
            elif key is not None:
                value = table[key][0]
                if key == "ChargingScheduleAllowedChargingRateUnit":
                    value = ",".join(sorted(allowed_units(value)))
                result["attribute_value"] = value
            results.append(result)
        return call_result.GetVariables(get_variable_result=results)

    @on("SetVariables")
    def on_set_variables(self, **payload: Any) -> Any:
        """Writable: HeartbeatInterval, TxUpdatedInterval, BasicAuthPassword."""
        self.record("SetVariables", payload)
        results = []
        for item in payload["set_variable_data"]:
            key, status = self._lookup(item)
            if key is not None:
                answer = self.charger._set_config(key, item["attribute_value"])
                status = "Accepted" if answer == "Accepted" else "Rejected"
            results.append(
                {
                    "component": item["component"],
                    "variable": item["variable"],
                    "attribute_status": status,
                }
            )
        return call_result.SetVariables(set_variable_result=results)

    @staticmethod
    def _lookup(item: dict[str, Any]) -> tuple[str | None, str]:
        """The config key behind a Get/SetVariables item, or why there is none."""
        component = item["component"]["name"]
        variable = item["variable"]["name"]
        if item.get("attribute_type", "Actual") != "Actual":
            return None, "NotSupportedAttributeType"
        if (component, variable) in VARIABLES:
            return VARIABLES[component, variable], "Accepted"
        if any(component == known for known, _ in VARIABLES):
            return None, "UnknownVariable"
        return None, "UnknownComponent"

    @on("TriggerMessage")
    def on_trigger_message(self, call_unique_id: str, **payload: Any) -> Any:
        """Accepted for Boot/Status/MeterValues/Heartbeat, then sent."""
        self.record("TriggerMessage", payload)
        message = payload["requested_message"]
        evse_id = (payload.get("evse") or {}).get("id")
        if message not in TRIGGERS:
            return call_result.TriggerMessage(status="NotImplemented")
        if evse_id is not None and evse_id > self.charger.connectors:
            return call_result.TriggerMessage(status="Rejected")
        self.defer(call_unique_id, lambda: self.charger._trigger(message, evse_id))
        return call_result.TriggerMessage(status="Accepted")

    @after("TriggerMessage")
    def after_trigger_message(self, call_unique_id: str, **_: Any) -> None:
        """Send the triggered message."""
        self.run_deferred(call_unique_id)

    @on("DataTransfer")
    def on_data_transfer(self, **payload: Any) -> Any:
        """No vendor extensions here."""
        self.record("DataTransfer", payload)
        return call_result.DataTransfer(status="UnknownVendorId")
