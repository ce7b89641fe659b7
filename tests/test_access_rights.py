"""A guest's Home Assistant user, over HA's websocket API: his chargers, his window, his sessions."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from pytest_homeassistant_custom_component.common import CLIENT_ID, MockConfigEntry
from pytest_homeassistant_custom_component.typing import WebSocketGenerator

from custom_components.homecharge.const import DOMAIN
from custom_components.homecharge.logic.access import person_tag
from homeassistant.core import HomeAssistant

from .test_access_runtime import _local, _person, _place
from .test_charger_runtime import _until


async def _guest_client(
    hass: HomeAssistant, ws: WebSocketGenerator, name: str
) -> tuple[Any, str]:
    """A real non-admin user of HA, logged in over the websocket API."""
    user = await hass.auth.async_create_user(name, group_ids=["system-users"])
    refresh = await hass.auth.async_create_refresh_token(user, CLIENT_ID)
    token = hass.auth.async_create_access_token(refresh)
    return await ws(hass, access_token=token), user.id


async def _call(client: Any, domain: str, service: str, **data: Any) -> dict[str, Any]:
    await client.send_json_auto_id(
        {
            "type": "call_service",
            "domain": domain,
            "service": service,
            "service_data": data,
            **(
                {"return_response": True}
                if domain == DOMAIN and service == "get_sessions"
                else {}
            ),
        }
    )
    answer: dict[str, Any] = await client.receive_json()
    return answer


def _with_user(entry: MockConfigEntry, name: str, user_id: str) -> None:
    person = next(s for s in entry.subentries.values() if s.title == name)
    object.__setattr__(person, "data", {**person.data, "user": user_id})


async def test_a_guest_charges_inside_his_window_and_nothing_else(
    hass: HomeAssistant,
    connect: Callable[..., Any],
    hass_ws_client: WebSocketGenerator,
) -> None:
    """Start and stop and smart charging on his charger; no settings, no other's sessions."""
    client, user_id = await _guest_client(hass, hass_ws_client, "Kari")
    entry = _place(
        "restricted",
        _person("Kari", window_start=_local(-timedelta(hours=1))),
        _person("Ola", cards=["OLA-1"]),
    )
    _with_user(entry, "Kari", user_id)
    charger = await connect(entry)
    charger.plug_in()
    await _until(hass, lambda: charger.status == "Preparing")

    answer = await _call(
        client, "switch", "turn_on", entity_id="switch.garage_charging"
    )
    assert answer["success"], answer
    await _until(hass, lambda: charger.status == "Charging")
    (start,) = charger.received_calls("RemoteStartTransaction")
    kari = next(s for s in entry.subentries.values() if s.title == "Kari")
    assert start["id_tag"] == person_tag(kari.subentry_id)
    ledger = entry.runtime_data.sessions.ledger
    await _until(hass, lambda: any(s.person == "Kari" for s in ledger))

    answer = await _call(
        client, "switch", "turn_off", entity_id="switch.garage_smart_charging"
    )
    assert answer["success"], answer
    answer = await _call(
        client, "number", "set_value", entity_id="number.garage_max_current", value=10
    )
    assert not answer["success"]
    assert answer["error"]["translation_key"] == "guest_not_allowed"
    answer = await _call(
        client, DOMAIN, "set_current_limit", device_id=[_device(hass)], current=10
    )
    assert answer["error"]["translation_key"] == "guest_not_allowed"

    # Ola's session is not Kari's to see.
    answer = await _call(
        client, "switch", "turn_off", entity_id="switch.garage_charging"
    )
    assert answer["success"], answer
    await _until(hass, lambda: all(s.stopped for s in ledger))
    charger.unplug()
    await charger.start_transaction("OLA-1")
    await _until(hass, lambda: len(list(ledger)) == 2)
    answer = await _call(client, DOMAIN, "get_sessions", config_entry_id=entry.entry_id)
    assert answer["success"], answer
    rows = answer["result"]["response"]["sessions"]
    assert [row["person"] for row in rows] == ["Kari"]


async def test_a_guest_is_refused_outside_his_window_and_elsewhere(
    hass: HomeAssistant,
    connect: Callable[..., Any],
    hass_ws_client: WebSocketGenerator,
) -> None:
    """A renter whose stay begins tomorrow cannot start today."""
    client, user_id = await _guest_client(hass, hass_ws_client, "Renter")
    entry = _place(
        "restricted",
        _person(
            "Renter",
            window_start=_local(timedelta(days=1)),
            window_end=_local(timedelta(days=3)),
        ),
    )
    _with_user(entry, "Renter", user_id)
    charger = await connect(entry)
    charger.plug_in()
    answer = await _call(
        client, "switch", "turn_on", entity_id="switch.garage_charging"
    )
    assert not answer["success"]
    assert answer["error"]["translation_key"] == "guest_outside_window"
    assert "Renter" in answer["error"]["message"]
    assert not charger.received_calls("RemoteStartTransaction")


def _device(hass: HomeAssistant) -> str:
    from homeassistant.helpers import device_registry as dr  # noqa: PLC0415

    device = dr.async_get(hass).async_get_device(identifiers={(DOMAIN, "CP-1")})
    assert device is not None
    return device.id
