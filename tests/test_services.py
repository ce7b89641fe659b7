"""Actions on chargers, against simulated chargers over real websockets."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from typing import Any

import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    MockUser,
    async_fire_time_changed,
)

from custom_components.homecharge.central.server import CENTRAL
from custom_components.homecharge.const import DOMAIN
from homeassistant.config_entries import ConfigSubentryData
from homeassistant.core import Context, HomeAssistant
from homeassistant.exceptions import (
    HomeAssistantError,
    ServiceValidationError,
    Unauthorized,
)
from homeassistant.helpers import device_registry as dr
from homeassistant.util import dt as dt_util

from .conftest import PLACE_DATA
from .simulators.charger import SimulatedCharger
from .test_central import PASSWORD
from .test_charger_runtime import _until

IDS = ("CP-A", "CP-B", "CP-C")


@pytest.fixture
async def place(hass: HomeAssistant) -> MockConfigEntry:
    """A place with three chargers."""
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="Home",
        data=PLACE_DATA,
        subentries_data=[
            ConfigSubentryData(
                data={
                    "charge_point_id": charge_point_id,
                    "circuit_fuse": 32.0,
                    "phases": 3,
                    "connectors": 1,
                    "password": PASSWORD,
                },
                subentry_type="charger",
                title=charge_point_id,
                unique_id=charge_point_id,
            )
            for charge_point_id in IDS
        ],
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    return entry


@pytest.fixture
async def online(
    hass: HomeAssistant, place: MockConfigEntry
) -> AsyncIterator[Callable[[str], SimulatedCharger]]:
    """CP-A online, CP-B online but refusing resets, CP-C offline."""
    chargers = {
        "CP-A": SimulatedCharger(
            url=f"ws://127.0.0.1:{hass.data[CENTRAL].port}",
            charge_point_id="CP-A",
            password=PASSWORD,
            meter_interval_s=0.1,
            reset_delay_s=0.3,
            reconnect_interval_s=0.2,
        ),
        "CP-B": SimulatedCharger(
            url=f"ws://127.0.0.1:{hass.data[CENTRAL].port}",
            charge_point_id="CP-B",
            password=PASSWORD,
            meter_interval_s=0.1,
            refuses_reset=True,
        ),
    }
    for charger in chargers.values():
        await charger.start()
    await _until(
        hass,
        lambda: all(
            c.session is not None and c.data.limit_sent_at is not None
            for c in place.runtime_data.chargers.values()
            if c.config.charge_point_id in chargers
        ),
    )
    yield chargers.__getitem__
    for charger in chargers.values():
        await charger.stop()


def _device(hass: HomeAssistant, charge_point_id: str) -> str:
    device = dr.async_get(hass).async_get_device(
        identifiers={(DOMAIN, charge_point_id)}
    )
    assert device is not None
    return device.id


async def _call(
    hass: HomeAssistant, service: str, data: dict[str, Any], **kwargs: Any
) -> Any:
    return await hass.services.async_call(
        DOMAIN, service, data, blocking=True, **kwargs
    )


async def test_restart_many(
    hass: HomeAssistant,
    online: Callable[[str], SimulatedCharger],
    hass_admin_user: MockUser,
) -> None:
    """Online chargers restart; offline and refusing ones are reported."""
    response = await _call(
        hass,
        "restart",
        {"device_id": [_device(hass, cp) for cp in IDS]},
        return_response=True,
        context=Context(user_id=hass_admin_user.id),
    )
    assert response == {"restarted": ["CP-A"], "offline": ["CP-C"], "refused": ["CP-B"]}
    assert hass.states.get("sensor.cp_a_status").state == "restarting"
    assert hass.states.get("sensor.cp_b_status").state == "ready"
    assert online("CP-A").received_calls("Reset")[0]["type"] == "Soft"
    await _until(hass, lambda: online("CP-A").boots == 2)
    await _until(hass, lambda: hass.states.get("sensor.cp_a_status").state == "ready")


async def test_restart_is_for_administrators(
    hass: HomeAssistant,
    online: Callable[[str], SimulatedCharger],
    hass_read_only_user: MockUser,
) -> None:
    """A non-admin user cannot restart chargers."""
    with pytest.raises(Unauthorized):
        await _call(
            hass,
            "restart",
            {"device_id": [_device(hass, "CP-A")]},
            return_response=True,
            context=Context(user_id=hass_read_only_user.id),
        )
    assert not online("CP-A").received_calls("Reset")


async def test_start_stop_and_unlock(
    hass: HomeAssistant, online: Callable[[str], SimulatedCharger]
) -> None:
    """Start and stop charging, unlock the cable."""
    charger = online("CP-A")
    charger.plug_in()
    await _call(hass, "start_charging", {"device_id": [_device(hass, "CP-A")]})
    await _until(
        hass, lambda: hass.states.get("sensor.cp_a_status").state == "charging"
    )
    await _call(hass, "stop_charging", {"device_id": _device(hass, "CP-A")})
    await _until(hass, lambda: hass.states.get("switch.cp_a_charging").state == "off")
    await _call(hass, "unlock_connector", {"device_id": [_device(hass, "CP-A")]})
    assert charger.received_calls("UnlockConnector") == [{"connector_id": 1}]
    with pytest.raises(HomeAssistantError) as err:
        await _call(hass, "start_charging", {"device_id": [_device(hass, "CP-C")]})
    assert err.value.translation_key == "charger_unreachable"


async def test_set_current_limit_for_a_while(
    hass: HomeAssistant, online: Callable[[str], SimulatedCharger]
) -> None:
    """A limit with a duration holds, then the next lowest applies again."""
    charger = online("CP-A")
    await _call(
        hass,
        "set_current_limit",
        {
            "device_id": [_device(hass, "CP-A")],
            "current": 8,
            "duration": {"minutes": 30},
        },
    )
    await _until(hass, lambda: charger.current_limit_a == 8)
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(minutes=31))
    await _until(hass, lambda: charger.current_limit_a == 32)

    with pytest.raises(ServiceValidationError) as err:
        await _call(
            hass,
            "set_current_limit",
            {"device_id": [_device(hass, "CP-A")], "current": 3},
        )
    assert err.value.translation_key == "current_below_minimum"


async def test_configuration(
    hass: HomeAssistant,
    online: Callable[[str], SimulatedCharger],
    hass_admin_user: MockUser,
) -> None:
    """Read and write OCPP configuration keys."""
    response = await _call(
        hass,
        "get_configuration",
        {"device_id": _device(hass, "CP-A"), "keys": ["ChargeProfileMaxStackLevel"]},
        return_response=True,
    )
    assert response == {"configuration": {"ChargeProfileMaxStackLevel": "8"}}
    response = await _call(
        hass,
        "change_configuration",
        {
            "device_id": _device(hass, "CP-A"),
            "key": "MeterValueSampleInterval",
            "value": "30",
        },
        return_response=True,
        context=Context(user_id=hass_admin_user.id),
    )
    assert response == {"status": "Accepted"}
    with pytest.raises(HomeAssistantError):
        await _call(
            hass,
            "get_configuration",
            {"device_id": _device(hass, "CP-C")},
            return_response=True,
        )


async def test_not_a_charger(hass: HomeAssistant, place: MockConfigEntry) -> None:
    """The place's own device, or nonsense, is refused clearly."""
    place_device = dr.async_get(hass).async_get_device(
        identifiers={(DOMAIN, place.entry_id)}
    )
    assert place_device is not None
    for device_id in (place_device.id, "nonsense"):
        with pytest.raises(ServiceValidationError) as err:
            await _call(hass, "stop_charging", {"device_id": [device_id]})
        assert err.value.translation_key == "not_a_charger"
