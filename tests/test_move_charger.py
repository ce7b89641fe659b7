"""Moving a charger to another place: the same charger, still connected."""

from __future__ import annotations

from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.homecharge.central.server import CENTRAL
from custom_components.homecharge.const import DOMAIN
from custom_components.homecharge.logic.sessions.model import Flag
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType

from .conftest import PLACE_DATA
from .simulators.charger import SimulatedCharger
from .test_central import FLAT_TARIFF, PASSWORD, place_with_charger
from .test_charger_runtime import _until


async def test_a_charger_moves_without_a_reconnect(hass: HomeAssistant) -> None:
    """Its identity, password, state and socket go along; nothing is let go."""
    home = place_with_charger("CP-1")
    cabin = MockConfigEntry(
        domain=DOMAIN,
        title="Cabin",
        data={**PLACE_DATA, "name": "Cabin"},
        options=FLAT_TARIFF,
    )
    for entry in (home, cabin):
        entry.add_to_hass(hass)
        assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    charger = SimulatedCharger(
        url=f"ws://127.0.0.1:{hass.data[CENTRAL].port}",
        charge_point_id="CP-1",
        password=PASSWORD,
        meter_interval_s=0.1,
    )
    await charger.start()
    try:
        charger.plug_in()
        await charger.start_transaction()
        before = next(iter(home.runtime_data.chargers.values()))
        # Enough charged at home to tell where each watt-hour is counted.
        await _until(hass, lambda: (before.data.energy_wh or 0) > 5)
        subentry_id = before.subentry_id

        result = await hass.config_entries.subentries.async_init(
            (home.entry_id, "charger"),
            context={"source": "reconfigure", "subentry_id": subentry_id},
        )
        assert result["type"] is FlowResultType.FORM
        result = await hass.config_entries.subentries.async_configure(
            result["flow_id"],
            {
                "place": cabin.entry_id,
                "name": "Cabin charger",
                "circuit_fuse": 16,
                "phases": "3",
                "connectors": 1,
                "phase": "1",
                "priority": "normal",
            },
        )
        assert result["type"] is FlowResultType.ABORT
        assert result["reason"] == "charger_moved"
        assert result["description_placeholders"] == {
            "name": "Cabin charger",
            "place": "Cabin",
        }
        await hass.async_block_till_done()

        assert not home.subentries
        (moved,) = cabin.subentries.values()
        assert moved.title == "Cabin charger"
        assert moved.data["password"] == PASSWORD
        assert moved.data["circuit_fuse"] == 16.0
        after = next(iter(cabin.runtime_data.chargers.values()))
        await _until(hass, lambda: after.session is not None)
        # Still the same socket: no reconnect, no discovery, nothing let go.
        assert charger.boots == 1
        assert not charger.received_calls("RemoteStopTransaction")
        assert not charger.received_calls("ClearChargingProfile")
        assert after.data.transaction_id is not None
        assert (after.data.energy_wh or 0) >= (before.data.energy_wh or 0)
        await _until(hass, lambda: charger.current_limit_a == 16.0)
        assert not hass.data[CENTRAL].moving

        # The session charged at home ends there; the cabin goes on from its
        # last register: every kWh counted at one place, none twice.
        (left,) = list(home.runtime_data.sessions.ledger)
        assert left.stopped is not None
        assert Flag.STOP_INFERRED in left.flags
        (going_on,) = list(cabin.runtime_data.sessions.ledger)
        assert going_on.transaction_id == left.transaction_id
        assert going_on.stopped is None
        assert left.meter_start_wh is not None
        # Home's last register is where the cabin's session starts.
        last_at_home = left.meter_start_wh + sum(left.slots.values())
        assert going_on.meter_start_wh == last_at_home
        await charger.stop_transaction()
        await _until(hass, lambda: going_on.stopped is not None)
        assert going_on.meter_stop_wh is not None
        charged = going_on.meter_stop_wh - left.meter_start_wh
        assert sum(going_on.slots.values()) == going_on.meter_stop_wh - last_at_home
        assert sum(left.slots.values()) + sum(going_on.slots.values()) == charged
    finally:
        await charger.stop()
