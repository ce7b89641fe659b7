"""A charger's transactions and readings: into the place's ledger and its state.

Every transaction event and register reading goes to the sessions ledger
(runtime/sessions.py), which puts it in the right session however late it
comes. The charger's live state (what the entities show, what the planner
reads) follows only the connector's latest transaction: a queued start or
stop of an earlier one changes the ledger, not what runs now.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from homeassistant.util import dt as dt_util

from ..central.meter_values import MeterSample
from .charger_sessions import end_transaction, start_transaction

if TYPE_CHECKING:
    from .charger import ChargerCoordinator


class ChargerTransactions:
    """The transaction events of one charger (its station coordinator)."""

    def __init__(self, charger: ChargerCoordinator) -> None:
        """Belong to a charger."""
        self._charger = charger

    def meter_values(
        self, connector_id: int, transaction_id: str | None, samples: list[MeterSample]
    ) -> None:
        """Readings in: energy, power, currents; the 0 A check counts currents.

        Connector 0's readings are the whole charger's: those of its only
        connector, but nobody's where it has several.
        """
        charger = self._charger
        if connector_id == 0 and charger.config.connectors > 1:
            return
        connector = max(connector_id, 1)
        if charger.sessions is not None:
            charger.sessions.readings(
                charger.config.charge_point_id, connector, transaction_id, samples
            )
        if (outlet := charger.routing.outlet(connector)) is not None:
            outlet.record_readings(samples)

    def started(
        self,
        connector_id: int,
        id_tag: str | None,
        meter_start_wh: float | None,
        timestamp: datetime | None,
        transaction_id: str | None,
    ) -> str:
        """A session began (maybe while HA was down: its own time is kept).

        1.6 transactions are numbered per charger, whichever connector; a
        start the charger sends again gets the id it got the first time.
        """
        charger = self._charger
        charge_point_id = charger.config.charge_point_id
        connector = max(connector_id, 1)
        started = timestamp or dt_util.utcnow()
        sessions = charger.sessions
        if transaction_id is None:
            transaction_id = (
                sessions.transaction_id(
                    charge_point_id,
                    connector,
                    started,
                    meter_start_wh,
                    charger.data.next_transaction_id,
                    id_tag,
                )
                if sessions is not None
                else str(charger.data.next_transaction_id)
            )
            if transaction_id.isdecimal():
                charger.data.next_transaction_id = max(
                    charger.data.next_transaction_id, int(transaction_id) + 1
                )
        latest = True
        if sessions is not None:
            session = sessions.started(
                charge_point_id,
                connector,
                transaction_id,
                started,
                meter_start_wh,
                id_tag,
            )
            latest = session is sessions.running(charge_point_id, connector)
        outlet = charger.routing.outlet(connector)
        if outlet is None or not latest:
            # A late start of a transaction the connector is past: ledger only.
            charger.changed(persist=True)
            return transaction_id
        start_transaction(
            outlet.data,
            meter_start_wh=meter_start_wh,
            started=started,
            transaction_id=transaction_id,
            now=dt_util.utcnow(),
        )
        charger.access.transaction_started(outlet, id_tag)
        outlet.changed(persist=True)
        if outlet is not charger:
            charger.changed(persist=True)
        return transaction_id

    def ended(
        self,
        transaction_id: str,
        meter_stop_wh: float | None,
        timestamp: datetime | None,
        reason: str | None,
    ) -> None:
        """A session ended; a late stop of an earlier one goes to the ledger only."""
        charger = self._charger
        outlet = next(
            (o for o in charger.outlets if o.data.transaction_id == transaction_id),
            None,
        )
        if charger.sessions is not None:
            charger.sessions.stopped(
                charger.config.charge_point_id,
                outlet.connector_id if outlet is not None else 1,
                transaction_id,
                timestamp or dt_util.utcnow(),
                meter_stop_wh,
                reason,
            )
        if outlet is None:
            charger.changed(persist=True)
            return
        end_transaction(outlet.data, transaction_id, meter_stop_wh, reason)
        outlet.changed(persist=True)
