"""System test: business sessions reach the employer once, across restarts.

A real Home Assistant process with a place, its charger CP-1 and Kari's
reimbursement, whose receiver is the fake employer's backend
(``ocpi_receiver``: a real aiohttp server on 127.0.0.1, in this process,
that checks every CDR against OCPI 2.2.1's rules). A simulated 1.6 charger
charges on a real websocket; sessions are made business through Home
Assistant's REST API (``homecharge.classify_session``), as a user's
automation would. The receiver misbehaves in turn — a 500, a dropped
connection, a slow answer, an acknowledgement lost after it kept the CDR,
a request that hangs until Home Assistant is killed, our token refused —
and Home Assistant is killed (SIGKILL) and stopped (SIGTERM) while CDRs
wait. In the end each business session's CDR arrived, its content is the
ledger's (energy, start and stop, kWh × unit rate incl. VAT, the charger),
each CDR is valid, and no CDR was accepted twice except the one whose
acknowledgement was lost (then the same CDR, byte for byte). The webhook
receiver goes through the same. The last test: a classification made just
before a clean stop is kept (Home Assistant writes the pending saves at its
final write; it does not unload the entries).

The outbox waits 0–10 s after a first failure (full jitter, doubling): each
CDR here fails at most once or twice before it goes, so waits stay short.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
import json
import os
from pathlib import Path
import signal
import time
from typing import Any, Final

import aiohttp
from aiohttp import web
import jsonschema
import pytest
import yaml

from custom_components.homecharge.logic.reimbursement.priced import digest

from .ha_process import (
    HomeAssistantProcess,
    free_port,
    place_entry,
    until,
    write_config,
)
from .ocpi_receiver import FakeReceiver
from .simulators.charger import SimulatedCharger

PLACE: Final = "01REIMBURSESYSTEMPLACE0000"
CHARGER: Final = "01REIMBURSESYSTEMCHARGER00"
REIMBURSEMENT: Final = "01REIMBURSESYSTEMKARI00000"
RATE: Final = Decimal("2.50")
TARIFF: Final = {
    "effective_from": "2020-01-01",
    "basis": "fixed",
    "tariff_name": "Fastpris",
    "currency": "NOK",
    "unit_rate": str(RATE),
    "vat_percent": "25",
}
ADDRESS: Final = {
    "street": "Storgata 1",
    "postal_code": "0155",
    "city": "Oslo",
    "address_country": "NO",
}
# Each session charges at least this much (22 kW: a few seconds).
SESSION_WH: Final = 15
WAIT_S: Final = 90
# The employer's tokens after it rotates them.
NEW_TOKEN_A: Final = "token-a-2"  # noqa: S105 - a test token
NEW_TOKEN_C: Final = "token-c-2"  # noqa: S105 - a test token
OPENAPI: Final = yaml.safe_load(
    (Path(__file__).parents[1] / "docs" / "receiver-openapi.yaml").read_text()
)


# The employer's backend ------------------------------------------------------


@asynccontextmanager
async def _serving(receiver: FakeReceiver) -> AsyncIterator[FakeReceiver]:
    """The receiver on 127.0.0.1; a request whose client is gone is cancelled."""
    runner = web.AppRunner(
        receiver.app(), handler_cancellation=True, shutdown_timeout=1
    )
    await runner.setup()
    port = free_port()
    site = web.TCPSite(runner, "127.0.0.1", port)
    await site.start()
    receiver.base = f"http://127.0.0.1:{port}"
    try:
        yield receiver
    finally:
        await runner.cleanup()


def _contract(path: str, message: Any) -> list[str]:
    """What docs/receiver-openapi.yaml says is wrong with a webhook message."""
    name = "StatementMessage" if path.endswith("statements") else "SessionMessage"
    validator = jsonschema.Draft202012Validator(
        {"$ref": f"#/components/schemas/{name}", "components": OPENAPI["components"]}
    )
    return [error.message for error in validator.iter_errors(message)]


# Home Assistant's config folder -----------------------------------------------


def _configure(
    directory: Path, *, http_port: int, ocpp_port: int, receiver: dict[str, Any]
) -> None:
    """A place with CP-1 and Kari's reimbursement of it; HA's own URL known."""
    place = place_entry(
        entry_id=PLACE,
        name="Home",
        main_fuse=63.0,
        grid_type="3p_400_tn",
        chargers=[
            {
                "charge_point_id": "CP-1",
                "circuit_fuse": 32.0,
                "phases": 3,
                "subentry_id": CHARGER,
            }
        ],
    )
    place["subentries"].append(
        {
            "data": {
                "chargers": [CHARGER],
                **ADDRESS,
                "tariffs": [TARIFF],
                **receiver,
            },
            "subentry_id": REIMBURSEMENT,
            "subentry_type": "reimbursement",
            "title": "Kari Nordmann",
            "unique_id": None,
        }
    )
    write_config(
        directory,
        ocpp_port=ocpp_port,
        http_port=http_port,
        places=[place],
        homecharge_log_level="debug",
    )
    # The OCPI receiver calls our versions endpoint back: HA says where it is.
    configuration = directory / "configuration.yaml"
    configuration.write_text(
        f"homeassistant:\n  internal_url: http://127.0.0.1:{http_port}\n"
        + configuration.read_text()
    )


def _stored(directory: Path, key: str) -> Any:
    """A Store's data as on disk now (None: not written yet)."""
    try:
        return json.loads((directory / ".storage" / key).read_text())["data"]
    except (FileNotFoundError, ValueError, KeyError):
        return None


def _outbox(directory: Path) -> dict[str, Any]:
    """The reimbursement's outbox as on disk."""
    found = _stored(directory, f"homecharge.{REIMBURSEMENT}.reimbursement_outbox")
    return found or {"queue": [], "delivered": [], "rejected": [], "paused": None}


def _queued(directory: Path) -> list[str]:
    return [entry["cdr_id"] for entry in _outbox(directory)["queue"]]


def _business_on_disk(directory: Path) -> set[str]:
    """The transactions the ledger's month files keep as business."""
    found: set[str] = set()
    prefix = f"homecharge.{PLACE}.sessions."
    for path in (directory / ".storage").glob(prefix + "*"):
        data = _stored(directory, path.name) or {}
        found |= {
            item["t"]
            for item in data.get("sessions", ())
            if item.get("cl") == "business"
        }
    return found


def _reimbursement_on_disk(directory: Path) -> dict[str, Any]:
    """Kari's reimbursement's data as core.config_entries keeps it."""
    entries = _stored(directory, "core.config_entries") or {"entries": []}
    for entry in entries["entries"]:
        for subentry in entry.get("subentries", ()):
            if subentry["subentry_id"] == REIMBURSEMENT:
                data: dict[str, Any] = subentry["data"]
                return data
    return {}


# Talking to Home Assistant ----------------------------------------------------


async def _wait(
    check: Callable[[], bool], what: str, hass: HomeAssistantProcess
) -> None:
    """``until`` with Home Assistant's log in the failure."""
    try:
        await until(check, WAIT_S, what)
    except AssertionError as err:
        raise AssertionError(f"{err}\n{hass.log_tail(60)}") from None


async def _sessions(hass: HomeAssistantProcess) -> dict[str, dict[str, Any]]:
    """The ledger's sessions by id tag (one tag per session here)."""
    response = await hass.request(
        "POST",
        "/api/services/homecharge/get_sessions?return_response",
        {"config_entry_id": PLACE},
    )
    return {row["id_tag"]: row for row in response["service_response"]["sessions"]}


async def _charger_device(hass: HomeAssistantProcess) -> str:
    """CP-1's device id (a template: the REST API has no device registry)."""
    template = (
        "{% for d in integration_entities('homecharge') | map('device_id') "
        "| reject('none') | unique %}{{ d }}={{ device_attr(d, 'name') }};"
        "{% endfor %}"
    )
    token = await hass.login()
    async with (
        aiohttp.ClientSession(hass.base_url) as session,
        session.post(
            "/api/template",
            json={"template": template},
            headers={"Authorization": f"Bearer {token}"},
        ) as response,
    ):
        response.raise_for_status()
        text = await response.text()
    devices = dict(item.split("=", 1) for item in text.split(";") if item)
    (device,) = [key for key, name in devices.items() if name == "CP-1"]
    return device


async def _classify(
    hass: HomeAssistantProcess, device: str, row: dict[str, Any], what: str
) -> None:
    await hass.request(
        "POST",
        "/api/services/homecharge/classify_session",
        {
            "device_id": device,
            "transaction_id": row["transaction_id"],
            "classification": what,
        },
    )


async def _sync_state(hass: HomeAssistantProcess) -> str | None:
    """Kari's sync status sensor."""
    for entity_id, state in (await hass.states()).items():
        if entity_id.startswith("sensor.kari_nordmann") and entity_id.endswith("_sync"):
            found: str = state["state"]
            return found
    return None


async def _until_async(
    check: Callable[[], Any], what: str, hass: HomeAssistantProcess
) -> None:
    """Poll an async check (a REST call) every half second."""
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        if await check():
            return
        await asyncio.sleep(0.5)
    raise AssertionError(f"not within {WAIT_S} s: {what}\n{hass.log_tail(60)}")


async def _kill(hass: HomeAssistantProcess) -> None:
    """SIGKILL: no shutdown, no last save."""
    os.killpg(hass.pid, signal.SIGKILL)
    await until(lambda: not hass.running, 30, "Home Assistant gone")
    await hass.async_stop()


# The charger --------------------------------------------------------------------


async def _charge_sessions(
    hass: HomeAssistantProcess, charger: SimulatedCharger, tags: list[str]
) -> dict[str, dict[str, Any]]:
    """One finished session per tag, the car plugged in; the ledger's rows.

    Smart charging off ("charge full now", until the car leaves): it would
    plan each next session what CP-1 usually charges (a few watt-hours
    here) and hold it at 0 A.
    """
    await hass.request(
        "POST",
        "/api/services/switch/turn_off",
        {"entity_id": "switch.cp_1_smart_charging"},
    )
    for tag in tags:
        start = charger.energy_wh
        await charger.start_transaction(tag)
        await until(
            lambda start=start: charger.energy_wh >= start + SESSION_WH,
            60,
            f"{tag} charging",
        )
        await charger.stop_transaction("Local")
    rows: dict[str, dict[str, Any]] = {}

    async def finished() -> bool:
        nonlocal rows
        rows = await _sessions(hass)
        return all(tag in rows and rows[tag]["stopped"] for tag in tags)

    await _until_async(finished, "the sessions in the ledger", hass)
    return rows


# What arrived -----------------------------------------------------------------


def _utc(local: str) -> str:
    """A ledger row's time as OCPI writes it (UTC, whole seconds)."""
    return datetime.fromisoformat(local).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _energy_wh(row: dict[str, Any]) -> int:
    """The session's energy from the charger's register, as the ledger has it."""
    return round((row["meter_stop_kwh"] - row["meter_start_kwh"]) * 1000)


def _cost(wh: int) -> Decimal:
    """kWh × the unit rate (VAT included), to the cent, halves up."""
    return (Decimal(wh) / 1000 * RATE).quantize(Decimal("0.01"), ROUND_HALF_UP)


def _check_cdr(cdr: dict[str, Any], row: dict[str, Any]) -> None:
    """The CDR says what the ledger says of its session."""
    wh = _energy_wh(row)
    assert wh >= SESSION_WH
    assert cdr["total_energy"] == wh / 1000
    assert cdr["total_energy"] == pytest.approx(row["energy_kwh"], abs=0.0005)
    volumes = [
        dimension["volume"]
        for period in cdr["charging_periods"]
        for dimension in period["dimensions"]
        if dimension["type"] == "ENERGY"
    ]
    assert sum(volumes) == pytest.approx(wh / 1000, abs=1e-9)
    assert Decimal(str(cdr["total_cost"]["incl_vat"])) == _cost(wh)
    assert cdr["total_cost"]["excl_vat"] == pytest.approx(
        float(_cost(wh)) / 1.25, abs=0.006
    )
    assert cdr["currency"] == "NOK"
    assert cdr["start_date_time"] == _utc(row["started"])
    assert cdr["end_date_time"] == _utc(row["stopped"])
    assert cdr["cdr_location"]["evse_uid"] == "CP-1"
    assert cdr["cdr_location"]["connector_id"] == "1"
    assert cdr["cdr_token"]["uid"] == row["id_tag"]
    assert cdr["session_id"] == digest(PLACE, "CP-1", row["transaction_id"])
    assert cdr["home_charging_compensation"] is True
    assert not cdr.get("credit")


def _check_message(message: dict[str, Any], row: dict[str, Any]) -> None:
    """The webhook message says what the ledger says of its session."""
    wh = _energy_wh(row)
    assert wh >= SESSION_WH
    assert message["type"] == "session"
    assert message["reimbursement_id"] == REIMBURSEMENT
    assert message["charger_id"] == "CP-1"
    assert message["transaction_id"] == row["transaction_id"]
    assert message["energy_wh"] == wh
    assert sum(slot["energy_wh"] for slot in message["slots"]) == wh
    assert Decimal(str(message["total_cost"]["incl_vat"])) == _cost(wh)
    assert message["currency"] == "NOK"
    assert message["start"] == _utc(row["started"])
    assert message["end"] == _utc(row["stopped"])


def _cdr_by_tag(receiver: FakeReceiver, tag: str) -> dict[str, Any] | None:
    return next(
        (cdr for cdr in receiver.cdrs.values() if cdr["cdr_token"]["uid"] == tag), None
    )


def _cdr_id(receiver: FakeReceiver, tag: str) -> str:
    cdr = _cdr_by_tag(receiver, tag)
    assert cdr is not None, tag
    found: str = cdr["id"]
    return found


# The tests ----------------------------------------------------------------------


def _ocpi(receiver: FakeReceiver) -> dict[str, Any]:
    return {
        "receiver": "ocpi",
        "receiver_url": receiver.versions_url,
        "receiver_token": receiver.token_a,
    }


@asynccontextmanager
async def _running(
    tmp_path: Path, receiver: dict[str, Any], tags: list[str]
) -> AsyncIterator[tuple[HomeAssistantProcess, SimulatedCharger, dict[str, Any]]]:
    """Home Assistant up, CP-1's sessions made (personal); both stopped after."""
    ocpp_port, http_port = free_port(), free_port()
    directory = tmp_path / "config"
    _configure(directory, http_port=http_port, ocpp_port=ocpp_port, receiver=receiver)
    hass = HomeAssistantProcess(directory, http_port=http_port, ocpp_port=ocpp_port)
    charger = SimulatedCharger(
        url=f"ws://127.0.0.1:{ocpp_port}",
        charge_point_id="CP-1",
        meter_interval_s=1.0,
        reconnect_interval_s=1.0,
        max_current=32.0,
        initial_energy_wh=4_321_000.0,
    )
    hass.start()
    try:
        await hass.wait_ready()
        if receiver["receiver"] == "ocpi":
            # The credentials handshake: the receiver called us back.
            await _wait(
                lambda: "ocpi_registration" in _reimbursement_on_disk(directory),
                "registered",
                hass,
            )
        await charger.start()
        rows = await _charge_sessions(hass, charger, tags)
        yield hass, charger, rows
    except BaseException:
        print(hass.log_tail(200))  # noqa: T201
        raise
    finally:
        await charger.stop()
        await hass.async_stop()


async def _settled(hass: HomeAssistantProcess) -> None:
    """The sync status says nothing waits."""

    async def check() -> bool:
        return await _sync_state(hass) == "up_to_date"

    await _until_async(check, "nothing left to send", hass)


@pytest.mark.usefixtures("socket_enabled")
async def test_cdrs_reach_an_ocpi_receiver_once_across_faults_and_restarts(
    tmp_path: Path,
) -> None:
    """500, drop, slow, lost acknowledgement, a hang killed, a clean stop."""
    directory = tmp_path / "config"
    tags = [f"TAG-{n}" for n in range(1, 10)]
    async with (
        _serving(FakeReceiver()) as receiver,
        _running(tmp_path, _ocpi(receiver), tags) as (hass, charger, rows),
    ):
        assert receiver.callback_status == 200
        device = await _charger_device(hass)
        # Personal: nothing leaves the house.
        assert receiver.posts == []

        # A 500, a drop, a slow answer, a lost acknowledgement: each CDR
        # fails once at most (head of line: in this order).
        receiver.faults = ["500", None, "drop", None, "slow", "lost_ack"]
        for tag in tags[:4]:
            await _classify(hass, device, rows[tag], "business")
        await _wait(
            lambda: all(_cdr_by_tag(receiver, t) for t in tags[:4])
            and len(receiver.order) == 5,
            "four CDRs through the faults",
            hass,
        )
        assert receiver.faults == []
        lost_ack = _cdr_id(receiver, "TAG-4")
        assert [post[0] for post in receiver.posts] == [
            _cdr_id(receiver, tag) for tag in ("TAG-1",) * 2 + ("TAG-2",) * 2
        ] + [_cdr_id(receiver, "TAG-3"), lost_ack, lost_ack]

        # A CDR hangs at the receiver when Home Assistant is killed; another
        # waits behind it. Both are on disk (and the ledger has them
        # business), the four before are delivered on disk.
        delivered = set(receiver.order)
        receiver.faults, receiver.hang_s = ["hang"], 600.0
        for tag in tags[4:6]:
            await _classify(hass, device, rows[tag], "business")
        await _wait(
            lambda: len(receiver.posts) == 8
            and len(_queued(directory)) == 2
            and set(_outbox(directory)["delivered"]) == delivered
            and {rows[t]["transaction_id"] for t in tags[:6]}
            <= _business_on_disk(directory),
            "a CDR in flight, two on disk",
            hass,
        )
        hanging = receiver.posts[-1][0]
        assert hanging == _queued(directory)[0]
        await _kill(hass)
        assert len(receiver.posts) == 8
        assert hanging not in receiver.cdrs
        hass.start()
        await hass.wait_ready()
        await _wait(
            lambda: all(_cdr_by_tag(receiver, t) for t in tags[:6]),
            "the two CDRs after the restart",
            hass,
        )
        assert _cdr_id(receiver, "TAG-5") == hanging

        # A clean stop while a CDR fails (500), once the ledger's change is
        # on disk (within its 15 s).
        await until(lambda: charger.connected, 60, "the charger back")
        receiver.faults, receiver.fault = [None], "500"
        for tag in tags[6:8]:
            await _classify(hass, device, rows[tag], "business")
        await _wait(
            lambda: _cdr_by_tag(receiver, "TAG-7") is not None
            and len(receiver.posts) >= 12
            and {rows[t]["transaction_id"] for t in tags[:8]}
            <= _business_on_disk(directory)
            and len(_queued(directory)) == 1,
            "one delivered, one failing, on disk",
            hass,
        )
        await hass.async_stop()
        receiver.fault = None
        hass.start()
        await hass.wait_ready()
        await _wait(
            lambda: _cdr_by_tag(receiver, "TAG-8") is not None,
            "the failing CDR after the restart",
            hass,
        )
        await _settled(hass)
        final = await _sessions(hass)

    # Every business session's CDR, as the ledger has it; spec-valid.
    assert all(not problems for problems in receiver.problems), receiver.problems
    business = tags[:8]
    assert {final[tag]["classification"] for tag in business} == {"business"}
    assert final["TAG-9"]["classification"] == "personal"
    assert len(receiver.cdrs) == len(business)
    for tag in business:
        cdr = _cdr_by_tag(receiver, tag)
        assert cdr is not None, tag
        _check_cdr(cdr, final[tag])
    # Accepted once each; the lost acknowledgement twice, the same CDR.
    counts = Counter(receiver.order)
    assert {cdr for cdr, n in counts.items() if n > 1} == {lost_ack}
    assert counts[lost_ack] == 2
    first, again = [cdr for cdr in receiver.accepted if cdr["id"] == lost_ack]
    assert first == again


@pytest.mark.usefixtures("socket_enabled")
async def test_a_refused_token_waits_for_a_new_one_then_sends_once(
    tmp_path: Path,
) -> None:
    """401: sending stops, across a restart; the repair's new token A resumes it."""
    directory = tmp_path / "config"
    tags = ["TAG-1", "TAG-2", "TAG-3"]
    async with (
        _serving(FakeReceiver()) as receiver,
        _running(tmp_path, _ocpi(receiver), tags) as (hass, _charger, rows),
    ):
        device = await _charger_device(hass)
        await _classify(hass, device, rows["TAG-1"], "business")
        await _wait(lambda: _cdr_by_tag(receiver, "TAG-1"), "TAG-1 sent", hass)

        # The employer rotates its tokens: our token C is refused.
        old_a, new_a = receiver.token_a, NEW_TOKEN_A
        receiver.token_a, receiver.token_c = new_a, NEW_TOKEN_C
        for tag in tags[1:]:
            await _classify(hass, device, rows[tag], "business")
        await _wait(
            lambda: _outbox(directory)["paused"] is not None
            and len(_queued(directory)) == 2
            and {rows[t]["transaction_id"] for t in tags}
            <= _business_on_disk(directory),
            "sending paused, two waiting on disk",
            hass,
        )
        assert await _sync_state(hass) == "reauth"
        # Still paused after a restart (nothing tried with the old token).
        await hass.async_restart()
        assert await _sync_state(hass) == "reauth"
        assert list(receiver.cdrs) == [_cdr_id(receiver, "TAG-1")]

        # The repair issue's fix flow: the old token A is refused in the
        # form, the new one registers (token C from the receiver) at once.
        flow = await hass.request(
            "POST",
            "/api/repairs/issues/fix",
            {"handler": "homecharge", "issue_id": f"receiver_reauth_{REIMBURSEMENT}"},
        )
        assert flow["type"] == "form", flow
        answer = {"receiver_url": receiver.versions_url, "receiver_token": old_a}
        path = f"/api/repairs/issues/fix/{flow['flow_id']}"
        refused = await hass.request("POST", path, answer)
        assert refused["type"] == "form", refused
        assert refused["errors"], refused
        done = await hass.request(
            "POST", path, {**answer, "receiver_token": receiver.token_a}
        )
        assert done["type"] == "create_entry", done
        await _wait(
            lambda: all(_cdr_by_tag(receiver, t) for t in tags),
            "what waited, sent",
            hass,
        )
        await _settled(hass)
        # The new token A is kept (core.config_entries, written within 1 s).
        await _wait(
            lambda: _reimbursement_on_disk(directory)["receiver_token"] == new_a,
            "the new token A on disk",
            hass,
        )
        final = await _sessions(hass)

    assert receiver.registered is not None
    assert all(not problems for problems in receiver.problems), receiver.problems
    for tag in tags:
        cdr = _cdr_by_tag(receiver, tag)
        assert cdr is not None, tag
        _check_cdr(cdr, final[tag])
    assert sorted(Counter(receiver.order).values()) == [1, 1, 1]
    # Every CDR that got through carried the token C of its time.
    tokens = {post[1]["Authorization"] for post in receiver.posts}
    assert len(tokens) == 2


@pytest.mark.usefixtures("socket_enabled")
async def test_session_messages_reach_a_webhook_once_across_a_kill(
    tmp_path: Path,
) -> None:
    """500, lost acknowledgement, then killed with two waiting: each once."""
    directory = tmp_path / "config"
    tags = ["TAG-1", "TAG-2", "TAG-3", "TAG-4"]
    async with _serving(FakeReceiver(webhook_check=_contract)) as receiver:
        webhook = {
            "receiver": "webhook",
            "receiver_url": f"{receiver.base}/webhook",
            "receiver_token": receiver.webhook_token,
        }
        async with _running(tmp_path, webhook, tags) as (hass, _charger, rows):
            device = await _charger_device(hass)
            assert receiver.webhook_posts == []
            receiver.faults = ["500", None, "lost_ack"]
            for tag in tags[:2]:
                await _classify(hass, device, rows[tag], "business")
            await _wait(
                lambda: len(receiver.webhook_order) == 3, "two through faults", hass
            )
            lost_ack = receiver.webhook_order[-1]

            # The receiver is down; two wait on disk; Home Assistant killed.
            receiver.down = True
            delivered = set(receiver.webhook_order)
            for tag in tags[2:]:
                await _classify(hass, device, rows[tag], "business")
            await _wait(
                lambda: len(_queued(directory)) == 2
                and set(_outbox(directory)["delivered"]) == delivered
                and {rows[t]["transaction_id"] for t in tags}
                <= _business_on_disk(directory),
                "two waiting on disk",
                hass,
            )
            await _kill(hass)
            receiver.down = False
            hass.start()
            await hass.wait_ready()
            await _wait(lambda: len(receiver.webhook_messages) == 4, "all four", hass)
            await _settled(hass)
            final = await _sessions(hass)

    by_transaction = {
        m["transaction_id"]: m for m in receiver.webhook_messages.values()
    }
    for tag in tags:
        _check_message(by_transaction[final[tag]["transaction_id"]], final[tag])
    counts = Counter(receiver.webhook_order)
    assert {key for key, n in counts.items() if n > 1} == {lost_ack}
    assert counts[lost_ack] == 2
    first, again = [m for m in receiver.webhook_accepted if m["id"] == lost_ack]
    assert first == again
    # Each POST's Idempotency-Key was its message's id (else a 422).
    assert all(
        key in receiver.webhook_messages for _p, key, _h in receiver.webhook_posts
    )


@pytest.mark.usefixtures("socket_enabled")
async def test_a_clean_stop_keeps_what_was_just_classified(tmp_path: Path) -> None:
    """Classified business, sent, then a clean restart within 15 s: kept."""
    tags = ["TAG-1", "TAG-2"]
    async with (
        _serving(FakeReceiver()) as receiver,
        _running(tmp_path, _ocpi(receiver), tags) as (hass, _charger, _rows),
    ):
        await hass.request(
            "POST",
            "/api/services/homecharge/classify_sessions",
            {"config_entry_id": PLACE, "classification": "business", "id_tag": tags},
        )
        await _wait(
            lambda: len(receiver.cdrs) == len(tags), "both CDRs delivered", hass
        )
        await hass.async_restart()
        await _settled(hass)
        final = await _sessions(hass)
        # Checked with HA still up: a failure prints its log (CI once saw a
        # CDR sent three times here).
        assert [final[tag]["classification"] for tag in tags] == ["business"] * 2
        assert not [cdr["id"] for cdr in receiver.accepted if cdr.get("credit")]
        assert sorted(Counter(receiver.order).values()) == [1, 1], receiver.order
