"""
The OCPP 1.6 side of the simulated charger (``ocpp.v16``).

Sends BootNotification, StatusNotification (connector 0 and each connector),
Heartbeat, StartTransaction, StopTransaction and MeterValues (values as strings,
in the charger's configured units). Answers RemoteStartTransaction,
RemoteStopTransaction, SetChargingProfile, ClearChargingProfile,
ChangeAvailability, Reset, UnlockConnector, GetConfiguration, ChangeConfiguration,
TriggerMessage and DataTransfer. Decisions live in the charger; this module
translates payloads. Follow-ups (start charging after RemoteStart, reboot after
Reset …) run from ``@after`` hooks, once the answer has gone out.
"""

from __future__ import annotations

import asyncio
from typing import Any, Final

from ocpp.v16 import (  # type: ignore[import-untyped, unused-ignore]
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
from .model import ChargingProfile, Connector, Period

TRIGGERS: Final = frozenset(
    {"BootNotification", "Heartbeat", "MeterValues", "StatusNotification"}
)
_DECIMALS: Final = {"Wh": 1, "kWh": 4, "W": 0, "kW": 3, "A": 1, "V": 1}


def profile_from_v16(connector_id: int, data: dict[str, Any]) -> ChargingProfile:
    """A 1.6 ``csChargingProfiles`` (snake_case, as ``ocpp`` hands it over)."""
    schedule = data["charging_schedule"]
    duration = schedule.get("duration")
    return ChargingProfile(
        id=int(data["charging_profile_id"]),
        connector_id=connector_id,
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


class V16Session(SessionBase):
    """One OCPP 1.6 connection of the simulated charger."""

    _call = call
    _call_result = call_result
    _ocpp_version = "1.6"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        """A session; ``_told`` is the status last sent per connector."""
        super().__init__(*args, **kwargs)
        self._told: dict[int, str] = {}

    # To the CSMS --------------------------------------------------------------

    async def boot(self, reason: str) -> tuple[str, int]:
        """Send BootNotification (1.6 has no reason field)."""
        charger = self.charger
        result = await self.request(
            call.BootNotification(
                charge_point_model=charger.model,
                charge_point_vendor=charger.vendor,
                charge_point_serial_number=charger.serial,
                charge_box_serial_number=charger.serial,
                firmware_version=charger.firmware,
                meter_type="Simulated",
            )
        )
        return str(result.status), int(result.interval)

    async def heartbeat(self) -> None:
        """Send Heartbeat."""
        await self.request(call.Heartbeat())

    def sync(self, connector: Connector, *, force: bool = False) -> None:
        """StatusNotification when the status changed (or when forced)."""
        if not force and self._told.get(connector.id) == connector.status:
            return
        self._told[connector.id] = connector.status
        self.submit(
            call.StatusNotification(
                connector_id=connector.id,
                error_code=connector.error_code,
                status=connector.status,
                timestamp=iso(),
            )
        )

    def send_meter_values(self, connector: Connector, context: str) -> None:
        """MeterValues, with the transaction id while one runs."""
        transaction_id = connector.transaction_id
        self.submit(
            call.MeterValues(
                connector_id=connector.id,
                transaction_id=transaction_id
                if isinstance(transaction_id, int)
                else None,
                meter_value=[self._meter_value(connector, context)],
            )
        )

    def _meter_value(self, connector: Connector, context: str) -> dict[str, Any]:
        sampled = []
        for measurand, value, unit, phase in self.charger.samples(connector):
            item = {
                "value": f"{value:.{_DECIMALS[unit]}f}",
                "context": context,
                "format": "Raw",
                "measurand": measurand,
                "location": "Outlet",
                "unit": unit,
            }
            if phase is not None:
                item["phase"] = phase
            sampled.append(item)
        return {"timestamp": iso(), "sampled_value": sampled}

    async def authorize(self, id_tag: str) -> str:
        """Authorize a card; the CSMS's status for it."""
        result = await self.request(call.Authorize(id_tag=id_tag))
        return str(result.id_tag_info["status"])

    async def start_transaction(self, connector: Connector) -> bool:
        """StartTransaction; the CSMS's answer gives the transaction id."""
        result = await self.request(
            call.StartTransaction(
                connector_id=connector.id,
                id_tag=connector.id_tag or "",
                meter_start=round(connector.energy_wh),
                timestamp=iso(),
            )
        )
        connector.transaction_id = int(result.transaction_id)
        connector.tx_started = utcnow()
        connector.seq_no = 0
        return bool((result.id_tag_info or {}).get("status") == "Accepted")

    def stop_transaction(
        self, connector: Connector, reason: str
    ) -> asyncio.Future[Any]:
        """StopTransaction with the meter reading and ``reason``."""
        return self.submit(
            call.StopTransaction(
                meter_stop=round(connector.energy_wh),
                timestamp=iso(),
                transaction_id=int(connector.transaction_id or 0),
                reason=reason,
                id_tag=connector.id_tag,
            )
        )

    # From the CSMS ------------------------------------------------------------

    @on("RemoteStartTransaction")
    def on_remote_start_transaction(self, call_unique_id: str, **payload: Any) -> Any:
        """Accepted when a connector is free (it starts once a car is plugged in)."""
        self.record("RemoteStartTransaction", payload)
        charger = self.charger
        connector = charger._pick_connector(payload.get("connector_id"))
        data = payload.get("charging_profile")
        profile = None
        if data is not None:
            profile = profile_from_v16(connector.id if connector else 0, data)
        if connector is None or (
            profile is not None
            and charger._check_profile(profile, remote_start=True) is not None
        ):
            return call_result.RemoteStartTransaction(status="Rejected")
        self.defer(
            call_unique_id,
            lambda: charger._remote_start(connector, payload["id_tag"], profile, None),
        )
        return call_result.RemoteStartTransaction(status="Accepted")

    @after("RemoteStartTransaction")
    def after_remote_start_transaction(self, call_unique_id: str, **_: Any) -> None:
        """Start (or wait for the car)."""
        self.run_deferred(call_unique_id)

    @on("RemoteStopTransaction")
    def on_remote_stop_transaction(self, call_unique_id: str, **payload: Any) -> Any:
        """Accepted for a running transaction."""
        self.record("RemoteStopTransaction", payload)
        connector = self.charger._transaction_connector(payload["transaction_id"])
        if connector is None:
            return call_result.RemoteStopTransaction(status="Rejected")
        self.defer(
            call_unique_id, lambda: self.charger._end_transaction(connector, "Remote")
        )
        return call_result.RemoteStopTransaction(status="Accepted")

    @after("RemoteStopTransaction")
    def after_remote_stop_transaction(self, call_unique_id: str, **_: Any) -> None:
        """Stop the transaction."""
        self.run_deferred(call_unique_id)

    @on("SetChargingProfile")
    async def on_set_charging_profile(self, call_unique_id: str, **payload: Any) -> Any:
        """Accepted or Rejected per the charger's quirks and the 1.6 rules."""
        self.record("SetChargingProfile", payload)
        profile = profile_from_v16(
            payload["connector_id"], payload["cs_charging_profiles"]
        )
        if not self.charger._install_profile(profile):
            return call_result.SetChargingProfile(status="Rejected")
        self.defer(call_unique_id, self.charger._refresh)
        # A slow answer: the new limit holds before the CSMS hears so.
        await asyncio.sleep(self.charger.profile_answer_delay_s)
        return call_result.SetChargingProfile(status="Accepted")

    @after("SetChargingProfile")
    def after_set_charging_profile(self, call_unique_id: str, **_: Any) -> None:
        """Apply the new limit."""
        self.run_deferred(call_unique_id)

    @on("ClearChargingProfile")
    def on_clear_charging_profile(self, call_unique_id: str, **payload: Any) -> Any:
        """Accepted when something was cleared, else Unknown."""
        self.record("ClearChargingProfile", payload)
        cleared = self.charger._clear_profiles(
            payload.get("id"),
            payload.get("connector_id"),
            payload.get("charging_profile_purpose"),
            payload.get("stack_level"),
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
        status = self.charger._change_availability(
            payload["connector_id"], payload["type"] == "Operative"
        )
        self.defer(call_unique_id, self.charger._refresh)
        return call_result.ChangeAvailability(status=status)

    @after("ChangeAvailability")
    def after_change_availability(self, call_unique_id: str, **_: Any) -> None:
        """Report the new statuses."""
        self.run_deferred(call_unique_id)

    @on("Reset")
    def on_reset(self, call_unique_id: str, **payload: Any) -> Any:
        """Accepted (then reboot) unless the charger refuses resets."""
        self.record("Reset", payload)
        status = self.charger._reset()
        if status == "Accepted":
            reason = "SoftReset" if payload["type"] == "Soft" else "HardReset"
            self.defer(
                call_unique_id,
                lambda: self.charger._spawn(self.charger._reboot(reason), "reset"),
            )
        return call_result.Reset(status=status)

    @after("Reset")
    def after_reset(self, call_unique_id: str, **_: Any) -> None:
        """Reboot."""
        self.run_deferred(call_unique_id)

    @on("UnlockConnector")
    def on_unlock_connector(self, call_unique_id: str, **payload: Any) -> Any:
        """Unlocked (ending a running transaction); NotSupported for no such connector."""
        self.record("UnlockConnector", payload)
        connector_id = payload["connector_id"]
        if not connector_id or connector_id > self.charger.connectors:
            return call_result.UnlockConnector(status="NotSupported")
        connector = self.charger.connector(connector_id)
        self.defer(
            call_unique_id,
            lambda: self.charger._end_transaction(connector, "UnlockCommand"),
        )
        return call_result.UnlockConnector(status="Unlocked")

    @after("UnlockConnector")
    def after_unlock_connector(self, call_unique_id: str, **_: Any) -> None:
        """End the transaction."""
        self.run_deferred(call_unique_id)

    @on("GetConfiguration")
    def on_get_configuration(self, **payload: Any) -> Any:
        """The known keys; AuthorizationKey is write-only."""
        self.record("GetConfiguration", payload)
        known, unknown = self.charger._get_config(payload.get("key"))
        return call_result.GetConfiguration(
            configuration_key=known, unknown_key=unknown or None
        )

    @on("SendLocalList")
    def on_send_local_list(self, **payload: Any) -> Any:
        """Kept (Full replaces, Differential updates) unless it has no local list."""
        self.record("SendLocalList", payload)
        charger = self.charger
        if not charger.supports_local_list:
            return call_result.SendLocalList(status="NotSupported")
        if payload["update_type"] == "Full":
            charger.local_list.clear()
        for item in payload.get("local_authorization_list") or []:
            info = item.get("id_tag_info")
            if info is None:
                charger.local_list.pop(item["id_tag"], None)
            else:
                charger.local_list[item["id_tag"]] = info.get("expiry_date")
        charger.local_list_version = payload["list_version"]
        return call_result.SendLocalList(status="Accepted")

    @on("ChangeConfiguration")
    def on_change_configuration(self, **payload: Any) -> Any:
        """Accepted, Rejected (read-only or bad value) or NotSupported (unknown)."""
        self.record("ChangeConfiguration", payload)
        status = self.charger._set_config(payload["key"], payload["value"])
        return call_result.ChangeConfiguration(status=status)

    @on("TriggerMessage")
    def on_trigger_message(self, call_unique_id: str, **payload: Any) -> Any:
        """Accepted for Boot/Status/MeterValues/Heartbeat, then sent."""
        self.record("TriggerMessage", payload)
        message = payload["requested_message"]
        connector_id = payload.get("connector_id")
        if message not in TRIGGERS:
            return call_result.TriggerMessage(status="NotImplemented")
        if connector_id is not None and connector_id > self.charger.connectors:
            return call_result.TriggerMessage(status="Rejected")
        self.defer(call_unique_id, lambda: self.charger._trigger(message, connector_id))
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
