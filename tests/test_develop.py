"""scripts/develop serves Home Assistant with the demo place, and stops cleanly.

Runs the real command a newcomer runs, on free ports in a scratch folder: logs
in with the credentials it prints, reads /api/states, follows the demo car's
plan from the sample prices and overrides it, raises the simulated house load
over the private MQTT broker, then presses Ctrl-C. The sample prices
themselves (dev/demo_prices.py) are checked without Home Assistant first, and
so is the demo reimbursement's config (dev/demo_reimbursement.py); a second
run sends a business session of the demo charger to the demo receiver
(dev/demo_receiver.py) as an OCPI CDR.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta
from itertools import pairwise
import json
import os
from pathlib import Path
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from typing import IO, Any
import urllib.error
from urllib.parse import urlencode
import urllib.request
from zoneinfo import ZoneInfo

from paho.mqtt import publish
import pytest
import yaml

from custom_components.homecharge.logic.prices import slots_from_attributes
from custom_components.homecharge.logic.reimbursement.settings import (
    receiver_from_form,
    tariffs_of,
)
from custom_components.homecharge.logic.sessions.chain import broken_links
from custom_components.homecharge.logic.sessions.codec import decode
from dev import demo_prices, demo_reimbursement, demo_sessions
from dev.ha_client import commands, login, request

ROOT = Path(__file__).parents[1]
OSLO = ZoneInfo("Europe/Oslo")
# The fixture day's first and third hour (00:00 and 02:00 CET), EUR/MWh.
MIDNIGHT_EUR_MWH, TWO_EUR_MWH = 46.97, 43.04
# A plan's statuses once a car is plugged in and smart charging is on.
PLANNED = {"waiting", "charging", "done"}
# A token B a last run kept (kept again: only the registration is dropped).
TOKEN_B = "token-b-of-a-last-run"  # noqa: S105 - a test token


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _processes_with(text: str) -> list[int]:
    """Processes whose command line contains ``text``."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            except OSError:
                continue
            if text in cmdline:
                found.append(int(entry.name))
    return found


async def _websocket(base: str, token: str, command: dict[str, Any]) -> Any:
    """One command over HA's websocket API, as the frontend sends it."""
    (result,) = await commands(base, token, command)
    return result


def _number(state: dict[str, Any]) -> float:
    try:
        return float(state["state"])
    except ValueError:
        return 0.0


def _service(
    base: str, token: str, domain: str, service: str, data: dict[str, Any]
) -> Any:
    return request(f"{base}/api/services/{domain}/{service}", data, token=token)


def _limits(base: str, token: str, entry_id: str, charge_point_id: str) -> Any:
    """A charger's limits by source, from the place's diagnostics."""
    diagnostics = request(
        f"{base}/api/diagnostics/config_entry/{entry_id}", token=token
    )
    return diagnostics["data"]["chargers"][charge_point_id]["state"]["limits"]


def _drain(stream: IO[str], lines: list[str]) -> None:
    """Read ``stream`` to its end, a line at a time (``lines`` grows as it goes)."""
    lines.extend(stream)


def _wait_for(check: Any, seconds: float = 120) -> Any:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if result := check():
                return result
        except OSError:
            pass
        time.sleep(0.5)
    raise AssertionError("timed out")


def _midnight(day: date, zone: ZoneInfo) -> datetime:
    """A local day's start, in UTC: times of one zone subtract as wall times."""
    return datetime.combine(day, datetime.min.time(), zone).astimezone(UTC)


def _instants(hours: list[dict[str, Any]]) -> list[tuple[datetime, datetime]]:
    return [
        (datetime.fromisoformat(hour["start"]), datetime.fromisoformat(hour["end"]))
        for hour in hours
    ]


@pytest.mark.parametrize(
    ("day", "count", "hours"),
    [
        (date(2026, 11, 21), 24, list(range(24))),
        # Spring forward: no 02:00; autumn: 02:00 twice, at the same price.
        (date(2026, 3, 29), 23, [0, 1, *range(3, 24)]),
        (date(2026, 10, 25), 25, [0, 1, 2, 2, *range(3, 24)]),
    ],
)
def test_demo_prices_follow_local_hours(
    day: date, count: int, hours: list[int]
) -> None:
    """Each local hour of the day gets the fixture's price of that hour."""
    hourly = demo_prices.fixture_prices()
    prices = demo_prices.price_days(day, OSLO, "EUR", hourly, count=1)
    assert list(prices) == [day.isoformat()]
    entries = prices[day.isoformat()]
    assert len(entries) == count
    spans = _instants(entries)
    assert [start.hour for start, _ in spans] == hours
    assert [entry["price"] for entry in entries] == [
        round(hourly[hour] / 1000, 5) for hour in hours
    ]
    # Back to back, an hour each, from local midnight to the next.
    assert all(end - start == timedelta(hours=1) for start, end in spans)
    assert all(a[1] == b[0] for a, b in pairwise(spans))
    assert spans[0][0] == datetime(day.year, day.month, day.day, tzinfo=OSLO)
    following = day + timedelta(days=1)
    assert spans[-1][1] == datetime(
        following.year, following.month, following.day, tzinfo=OSLO
    )


def test_demo_prices_file(tmp_path: Path) -> None:
    """A week from today in HA's zone and currency, in a format homecharge reads."""
    (tmp_path / ".storage").mkdir()
    for name in ("configuration.yaml", ".storage/core.config"):
        (tmp_path / name).write_bytes((ROOT / "dev" / "config" / name).read_bytes())
    # 23:30 UTC is already the next day in Oslo.
    path = demo_prices.write(tmp_path, datetime(2026, 3, 28, 23, 30, tzinfo=UTC))
    assert path == tmp_path / "demo_prices.yaml"
    (section,) = yaml.safe_load(path.read_text())
    (sensor,) = section["sensor"]
    assert sensor["unit_of_measurement"] == "NOK/kWh"
    days = section["variables"]["days"]
    assert list(days) == [
        (date(2026, 3, 29) + timedelta(days=n)).isoformat() for n in range(7)
    ]
    assert days["2026-03-29"][0] == {
        "start": "2026-03-29T00:00:00+01:00",
        "end": "2026-03-29T01:00:00+01:00",
        "price": round(MIDNIGHT_EUR_MWH * demo_prices.EUR_RATES["NOK"] / 1000, 5),
    }
    assert days["2026-03-30"][2]["price"] == round(
        TWO_EUR_MWH * demo_prices.EUR_RATES["NOK"] / 1000, 5
    )
    # What the sensor's prices attribute holds: today and tomorrow.
    slots = slots_from_attributes(
        {
            "prices": days["2026-03-29"] + days["2026-03-30"],
            "unit_of_measurement": sensor["unit_of_measurement"],
        }
    )
    assert len(slots) == (23 + 24) * 4
    assert slots[0].start == datetime(2026, 3, 28, 23, tzinfo=UTC)
    assert slots[0].price == days["2026-03-29"][0]["price"]
    # dev/config reads it; a config without the sensor is told apart.
    assert not demo_prices.uses_prices(tmp_path)
    (tmp_path / ".storage" / "core.config_entries").write_bytes(
        (ROOT / "dev" / "config" / ".storage" / "core.config_entries").read_bytes()
    )
    assert demo_prices.uses_prices(tmp_path)


@pytest.mark.usefixtures("socket_enabled")
def test_demo_sessions_are_a_sealed_month_marked_as_demo(tmp_path: Path) -> None:
    """A month of SIM-1's evenings and the renter's weekends, priced, in the chain."""
    config = tmp_path / "config"
    shutil.copytree(ROOT / "dev" / "config", config)
    now = datetime(2026, 12, 7, 12, tzinfo=UTC)
    written = demo_sessions.write(config, now)
    assert 15 + 4 <= written <= 30 + 4
    storage = config / ".storage"
    key = f"homecharge.{demo_prices.DEMO_PLACE}.sessions"
    index = json.loads((storage / key).read_text())["data"]
    assert index["months"] == ["2026-11", "2026-12"]
    sessions = [
        decode(item)
        for month in index["months"]
        for item in json.loads((storage / f"{key}.{month}").read_text())["data"][
            "sessions"
        ]
    ]
    assert len(sessions) == written == index["seq"]
    assert all(s.demo for s in sessions)
    renter = [s for s in sessions if s.charger == "SIM-3"]
    assert len(renter) == 4
    assert {s.person for s in renter} == {"Cabin renter"}
    assert {s.charger for s in sessions} == {"SIM-1", "SIM-3"}
    assert all(s.cost_complete and s.energy_wh > 0 for s in sessions)
    assert all(s.started < now - timedelta(hours=12) for s in sessions)
    assert broken_links(sessions) == []
    # Sessions the place has are never touched.
    assert demo_sessions.write(config, now + timedelta(days=3)) == 0


def test_develop_serves_the_demo(tmp_path: Path) -> None:
    """Demo place, prices and plans, its meter and load balancing; Ctrl-C stops all."""
    port, ocpp_port, mqtt_port = _free_port(), _free_port(), _free_port()
    receiver_port = _free_port()
    simulators = f"--url ws://127.0.0.1:{ocpp_port} "
    broker = str(tmp_path / "config" / "mosquitto.conf")
    env = {
        **os.environ,
        "HOMECHARGE_DEV_PORT": str(port),
        "HOMECHARGE_DEV_OCPP_PORT": str(ocpp_port),
        "HOMECHARGE_DEV_MQTT_PORT": str(mqtt_port),
        "HOMECHARGE_DEV_RECEIVER_PORT": str(receiver_port),
        "HOMECHARGE_DEV_DIR": str(tmp_path / "config"),
    }
    process = subprocess.Popen(
        [str(ROOT / "scripts" / "develop")],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    output: list[str] = []
    try:
        assert process.stdout is not None
        credentials = None
        for line in process.stdout:
            output.append(line)
            if match := re.search(r"Login:\s+(\S+) / (\S+)", line):
                credentials = match.groups()
                break
        assert credentials, "".join(output)
        assert f"http://127.0.0.1:{port}" in "".join(output)
        # Keep reading, or a full pipe would block Home Assistant's logging.
        threading.Thread(
            target=_drain, args=(process.stdout, output), daemon=True
        ).start()
        base = f"http://127.0.0.1:{port}"
        token = _wait_for(lambda: login(base, *credentials))

        def states() -> dict[str, Any]:
            return {
                s["entity_id"]: s for s in request(f"{base}/api/states", token=token)
            }

        def plan_status(charger: str) -> str | None:
            state = states().get(f"sensor.{charger}_smart_charging")
            return None if state is None else str(state["state"])

        def plan_events(hours: float = 48) -> Any:
            now = datetime.now(UTC)
            window = {
                "start": now.isoformat(),
                "end": (now + timedelta(hours=hours)).isoformat(),
            }
            return request(
                f"{base}/api/calendars/calendar.demo_home_charging_plan?"
                + urlencode(window),
                token=token,
            )

        # (Retried: HA may still be setting up its config and api components.)
        entry_id = _wait_for(
            lambda: next(
                (
                    entry["entry_id"]
                    for entry in request(
                        f"{base}/api/config/config_entries/entry", token=token
                    )
                    if entry["domain"] == "homecharge"
                ),
                None,
            )
        )
        zone = ZoneInfo(
            _wait_for(lambda: request(f"{base}/api/config", token=token))["time_zone"]
        )

        # The demo place's sample prices: a template sensor with today's and
        # tomorrow's hours in HA's time zone, its state the hour now's price.
        spot = _wait_for(
            lambda: (state := states().get("sensor.demo_spot_price"))
            and _number(state) > 0
            and state
        )
        hours = spot["attributes"]["prices"]
        assert spot["attributes"]["unit_of_measurement"] == "NOK/kWh"
        today = datetime.now(zone).date()
        # 48 hours, one less or more over a daylight saving change.
        two_days = _midnight(today + timedelta(days=2), zone) - _midnight(today, zone)
        assert len(hours) == two_days / timedelta(hours=1) >= 47
        assert {
            datetime.fromisoformat(hour["start"]).astimezone(zone).date()
            for hour in hours
        } == {today, today + timedelta(days=1)}
        assert float(spot["state"]) in {hour["price"] for hour in hours}
        # The place reads them: its current price, VAT and grid tariff in.
        _wait_for(
            lambda: _number(
                states().get("sensor.demo_home_current_price", {"state": ""})
            )
            > _number(spot),
            30,
        )

        # The Driveway's car plugs in and gets a plan. Ready 10 h from now,
        # whatever the time of day: its 12 kWh fit (at 07:00, they might not).
        _wait_for(lambda: plan_status("driveway") in {*PLANNED, "cannot_finish"})
        ready_by = (datetime.now(zone) + timedelta(hours=10)).strftime("%H:%M:00")
        _service(
            base,
            token,
            "time",
            "set_value",
            {"entity_id": "time.driveway_ready_by", "time": ready_by},
        )
        _wait_for(lambda: states()["time.driveway_ready_by"]["state"] == ready_by, 30)
        status = _wait_for(
            lambda: (found := plan_status("driveway")) in PLANNED and found, 30
        )
        if status != "done":
            events = plan_events()
            assert events, status
            assert all(event["summary"].startswith("Driveway: ") for event in events)
            assert states()["sensor.driveway_planned_start"]["state"] not in (
                "unknown",
                "unavailable",
            )

        # The charger follows the plan: 0 A while waiting; in its slots no
        # planner limit of its own: the demo has a meter, so the balancer
        # shares the slot's planned power.
        def follows_plan() -> bool:
            status = plan_status("driveway")
            planner: float | None = _limits(base, token, entry_id, "SIM-1").get(
                "planner"
            )
            if status == "waiting":
                return planner == 0
            if status == "charging":
                return planner is None
            return status == "done"

        _wait_for(follows_plan, 30)
        if plan_status("driveway") == "waiting":
            _wait_for(
                lambda: states()["sensor.driveway_offered_current"]["state"] == "0.0",
                30,
            )
            # The device page says why: the plan waits for cheaper power.
            _wait_for(
                lambda: states()["sensor.driveway_limited_by"]["state"] == "plan", 30
            )
        else:
            limited = states()["sensor.driveway_limited_by"]
            assert limited["state"] in limited["attributes"]["options"]

        # "Charge full now": smart charging off lifts the planner's limit.
        _service(
            base,
            token,
            "switch",
            "turn_off",
            {"entity_id": "switch.driveway_smart_charging"},
        )
        _wait_for(lambda: plan_status("driveway") == "charge_now", 30)
        _wait_for(lambda: "planner" not in _limits(base, token, entry_id, "SIM-1"), 30)
        assert plan_events() == []
        _wait_for(
            lambda: states().get("sensor.driveway_status", {}).get("state")
            == "charging"
        )
        now = states()
        assert now["number.demo_home_main_fuse"]["state"] == "40.0"
        assert now["switch.demo_home_accept_new_chargers"]["state"] == "on"
        _wait_for(lambda: _number(states()["sensor.driveway_power"]) > 0)
        # The history is not empty: a month of demo sessions (marked so), and
        # SIM-1's charge in the sessions calendar while it runs.
        assert _number(now["sensor.driveway_energy_last_month"]) >= 0
        assert _number(now["sensor.driveway_last_session_energy"]) > 0

        def session_events() -> Any:
            moment = datetime.now(UTC)
            window = {
                "start": (moment - timedelta(days=31)).isoformat(),
                "end": (moment + timedelta(hours=1)).isoformat(),
            }
            return request(
                f"{base}/api/calendars/calendar.demo_home_charging_sessions?"
                + urlencode(window),
                token=token,
            )

        running = _wait_for(
            lambda: [
                e
                for e in session_events()
                if datetime.fromisoformat(e["end"]["dateTime"]) > datetime.now(UTC)
            ]
        )
        assert running[0]["summary"].startswith("Driveway: ")
        assert len(session_events()) > 10
        report = _service(
            base,
            token,
            "homecharge",
            "get_sessions?return_response",
            {"config_entry_id": entry_id, "include_sessions": True},
        )["service_response"]
        assert any(row["demo"] for row in report["sessions"])
        assert not report["sessions"][-1]["demo"]

        # Guests: the Cabin is restricted; its car waits, locked, until the
        # renter's phone is near (the demo proxy, switched from the CLI).
        assert states()["binary_sensor.cabin_access"]["state"] == "off"
        assert states()["switch.cabin_charging"]["state"] == "off"
        subprocess.run(
            [
                sys.executable,
                "-m",
                "tests.simulators.phone",
                "--port",
                str(mqtt_port),
                "near",
            ],
            cwd=ROOT,
            check=True,
            timeout=30,
        )
        _wait_for(lambda: states()["binary_sensor.cabin_access"]["state"] == "on", 30)
        _wait_for(lambda: states()["switch.cabin_charging"]["state"] == "on", 30)
        renter = _service(
            base,
            token,
            "homecharge",
            "guest_report?return_response",
            {"config_entry_id": entry_id, "person": "Cabin renter"},
        )["service_response"]
        assert renter["sessions"][-1]["charger"] == "SIM-3"
        # The meter and both chargers run in one site process, the broker too.
        assert len(_processes_with(simulators)) == 1
        assert len(_processes_with(broker)) == 1

        # SIM-2 is new: a discovery, confirmed the way the frontend does it.
        flow = _wait_for(
            lambda: next(
                (
                    f
                    for f in asyncio.run(
                        _websocket(
                            base, token, {"type": "config_entries/flow/progress"}
                        )
                    )
                    if f["handler"] == "homecharge"
                ),
                None,
            )
        )
        assert (
            flow["context"]["title_placeholders"]["name"]
            == "Homecharge Sim SIM-11 SIM-0002"
        )
        result = request(
            f"{base}/api/config/config_entries/flow/{flow['flow_id']}",
            {
                "place": entry_id,
                "name": "Carport",
                "circuit_fuse": 16,
                "phases": "1",
                "connectors": 1,
            },
            token=token,
        )
        assert result["reason"] == "charger_added"
        # Smart charging plans the new charger too; charged now, it charges.
        _wait_for(lambda: plan_status("carport") in {*PLANNED, "cannot_finish"})
        assert plan_status("driveway") == "charge_now"
        _service(
            base,
            token,
            "switch",
            "turn_off",
            {"entity_id": "switch.carport_smart_charging"},
        )
        # A demo house-load pulse (2 of every 4 minutes) plus the balancer's
        # raise delay can keep the later car paused for up to ~3 minutes.
        _wait_for(
            lambda: states().get("sensor.carport_status", {}).get("state")
            == "charging",
            300,
        )
        _wait_for(
            lambda: float(states()["sensor.carport_session_energy"]["state"] or 0) > 0
        )

        # The demo meter, on the private broker: online, with phase currents.
        _wait_for(lambda: states()["binary_sensor.demo_home_meter"]["state"] == "on")
        _wait_for(lambda: _number(states()["sensor.demo_home_grid_current_l1"]) > 0, 20)
        # Load balancing: a higher house load takes the Driveway's current down
        # with the next meter message (38 A of 40 leaves no room: paused).
        before = _wait_for(
            lambda: _number(states()["sensor.driveway_offered_current"]), 40
        )
        publish.single(
            "amsreader/sim/house/set", "38,38,38", hostname="127.0.0.1", port=mqtt_port
        )
        assert before > 0
        _wait_for(
            lambda: states()["sensor.driveway_offered_current"]["state"] == "0.0", 15
        )
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=60)
    assert _processes_with(simulators) == []
    assert _processes_with(broker) == []
    assert _processes_with(f"dev.demo_receiver --port {receiver_port} ") == []
    with pytest.raises(urllib.error.URLError, match="Connection refused"):
        request(f"http://127.0.0.1:{port}/api/")
    with pytest.raises(OSError, match="refused"):
        socket.create_connection(("127.0.0.1", mqtt_port), timeout=5).close()


def _entries(config: Path) -> dict[str, Any]:
    store: dict[str, Any] = json.loads(
        (config / ".storage" / "core.config_entries").read_text()
    )
    return store


def _reimbursements(config: Path) -> list[dict[str, Any]]:
    (place,) = (
        entry
        for entry in _entries(config)["data"]["entries"]
        if entry["entry_id"] == demo_prices.DEMO_PLACE
    )
    return [s for s in place["subentries"] if s["subentry_type"] == "reimbursement"]


def test_demo_reimbursement_follows_the_ports_and_is_added_once(
    tmp_path: Path,
) -> None:
    """The demo receiver of this run, HA's URL; added once to an older config."""
    config = tmp_path / "config"
    shutil.copytree(ROOT / "dev" / "config", config)
    (subentry,) = _reimbursements(config)
    data = subentry["data"]
    assert subentry["title"] == "Demo Driver"
    # Data the integration reads: a fixed tariff, a valid receiver, and the
    # demo place's Driveway (SIM-1) covered.
    (tariff,) = tariffs_of(data)
    assert tariff.basis == "fixed"
    assert tariff.unit_rate is not None
    assert tariff.unit_rate > 0
    assert receiver_from_form(data)["receiver"] == "ocpi"
    (place,) = (
        e for e in _entries(config)["data"]["entries"] if e["domain"] == "homecharge"
    )
    chargers = {
        s["subentry_id"]: s["data"]["charge_point_id"]
        for s in place["subentries"]
        if s["subentry_type"] == "charger"
    }
    assert [chargers[key] for key in data["chargers"]] == ["SIM-1"]
    assert data["receiver_token"] == demo_reimbursement.TOKEN_A

    def run(ha_port: int, receiver_port: int) -> str:
        code = demo_reimbursement.main([str(config), str(ha_port), str(receiver_port)])
        assert code == 0
        return "true" if _reimbursements(config) else "false"

    # This run's ports; the last run's registration is dropped.
    assert run(18124, 18841) == "true"
    core = json.loads((config / ".storage" / "core.config").read_text())
    assert core["data"]["internal_url"] == "http://127.0.0.1:18124"
    (subentry,) = _reimbursements(config)
    assert subentry["data"]["receiver_url"] == "http://127.0.0.1:18841/ocpi/versions"
    store = _entries(config)
    next(
        s
        for e in store["data"]["entries"]
        for s in e["subentries"]
        if s["subentry_id"] == demo_reimbursement.REIMBURSEMENT
    )["data"].update({"ocpi_registration": {"token": "C"}, "ocpi_token_b": TOKEN_B})
    (config / ".storage" / "core.config_entries").write_text(json.dumps(store))
    assert run(18125, 18842) == "true"
    (subentry,) = _reimbursements(config)
    assert subentry["data"]["receiver_url"] == "http://127.0.0.1:18842/ocpi/versions"
    assert "ocpi_registration" not in subentry["data"]
    assert subentry["data"]["ocpi_token_b"] == TOKEN_B

    # A config copied before the demo had a reimbursement gets it, once.
    store = _entries(config)
    for entry in store["data"]["entries"]:
        entry["subentries"] = [
            s for s in entry["subentries"] if s["subentry_type"] != "reimbursement"
        ]
    (config / ".storage" / "core.config_entries").write_text(json.dumps(store))
    (config / demo_reimbursement.MARKER).unlink()
    assert run(18124, 18841) == "true"
    assert run(18124, 18841) == "true"
    (added,) = _reimbursements(config)
    assert added["subentry_id"] == demo_reimbursement.REIMBURSEMENT
    # Removed in Home Assistant since: not added again.
    (config / ".storage" / "core.config_entries").write_text(json.dumps(store))
    assert run(18124, 18841) == "false"
    # Pointed at another receiver in Home Assistant: left as it is.
    shutil.rmtree(config)
    shutil.copytree(ROOT / "dev" / "config", config)
    store = _entries(config)
    elsewhere = {
        "receiver_url": "https://fleet.example/ocpi/versions",
        "receiver_token": "theirs",
        "ocpi_registration": {"token": "C"},
    }
    next(
        s
        for e in store["data"]["entries"]
        for s in e["subentries"]
        if s["subentry_id"] == demo_reimbursement.REIMBURSEMENT
    )["data"].update(elsewhere)
    (config / ".storage" / "core.config_entries").write_text(json.dumps(store))
    assert run(18124, 18841) == "true"
    (subentry,) = _reimbursements(config)
    assert elsewhere.items() <= subentry["data"].items()


def test_develop_sends_a_business_session_to_the_demo_receiver(
    tmp_path: Path,
) -> None:
    """The demo reimbursement registers with the demo receiver; a CDR reaches it."""
    port, ocpp_port, mqtt_port = _free_port(), _free_port(), _free_port()
    receiver_port = _free_port()
    config = tmp_path / "config"
    env = {
        **os.environ,
        "HOMECHARGE_DEV_PORT": str(port),
        "HOMECHARGE_DEV_OCPP_PORT": str(ocpp_port),
        "HOMECHARGE_DEV_MQTT_PORT": str(mqtt_port),
        "HOMECHARGE_DEV_RECEIVER_PORT": str(receiver_port),
        "HOMECHARGE_DEV_DIR": str(config),
    }
    process = subprocess.Popen(
        [str(ROOT / "scripts" / "develop")],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    receiver = f"http://127.0.0.1:{receiver_port}"
    output: list[str] = []
    try:
        assert process.stdout is not None
        for line in process.stdout:
            output.append(line)
            if "Ctrl-C stops" in line:
                break
        # The summary: the receiver's page, and how a session becomes business.
        for line in process.stdout:
            output.append(line)
            if "classify_session" in line:
                break
        summary = "".join(output)
        assert f"Demo receiver:  {receiver}/" in summary, summary
        assert "select.driveway_last_session" in summary
        threading.Thread(
            target=_drain, args=(process.stdout, output), daemon=True
        ).start()
        base = f"http://127.0.0.1:{port}"
        token = _wait_for(lambda: login(base, "dev", "homecharge"))

        def states() -> dict[str, Any]:
            return {
                s["entity_id"]: s for s in request(f"{base}/api/states", token=token)
            }

        def status() -> Any:
            return request(f"{receiver}/cdrs.json")

        entry_id = _wait_for(
            lambda: next(
                (
                    entry["entry_id"]
                    for entry in request(
                        f"{base}/api/config/config_entries/entry", token=token
                    )
                    if entry["domain"] == "homecharge"
                ),
                None,
            )
        )
        # The demo place has the reimbursement (one).
        subentries = asyncio.run(
            _websocket(
                base,
                token,
                {"type": "config_entries/subentries/list", "entry_id": entry_id},
            )
        )
        assert [
            s["title"] for s in subentries if s["subentry_type"] == "reimbursement"
        ] == ["Demo Driver"]
        # The handshake: the receiver called our versions URL back (200).
        registered = _wait_for(lambda: (found := status())["registered"] and found)
        assert registered["sender_versions_url"].startswith(
            f"{base}/api/homecharge/ocpi/{demo_reimbursement.REIMBURSEMENT}/"
        )
        _wait_for(
            lambda: states().get("sensor.demo_driver_sync", {}).get("state")
            == "up_to_date",
            60,
        )
        assert status()["cdrs"] == []

        # A session of the Driveway charges now (not waiting for its plan),
        # ends, and is made business with its Last session select.
        _wait_for(lambda: "switch.driveway_smart_charging" in states())
        _service(
            base,
            token,
            "switch",
            "turn_off",
            {"entity_id": "switch.driveway_smart_charging"},
        )
        _wait_for(
            lambda: _number(states()["sensor.driveway_session_energy"]) >= 0.01, 300
        )
        _service(
            base, token, "switch", "turn_off", {"entity_id": "switch.driveway_charging"}
        )
        _wait_for(lambda: states()["switch.driveway_charging"]["state"] == "off", 60)
        assert states()["select.driveway_last_session"]["state"] == "personal"
        _service(
            base,
            token,
            "select",
            "select_option",
            {"entity_id": "select.driveway_last_session", "option": "business"},
        )
        (cdr,) = _wait_for(lambda: status()["cdrs"], 60)
        assert cdr["accepted"], cdr
        assert cdr["charger"] == "SIM-1"
        assert not cdr["credit"]
        assert cdr["currency"] == "NOK"
        assert cdr["kwh"] >= 0.01
        assert cdr["kwh"] == pytest.approx(
            _number(states()["sensor.driveway_last_session_energy"]), abs=0.002
        )
        # The demo tariff: 2.50 NOK/kWh, VAT (25 %) included.
        assert cdr["incl_vat"] == pytest.approx(cdr["kwh"] * 2.5, abs=0.011)
        assert cdr["excl_vat"] == pytest.approx(cdr["kwh"] * 2.0, abs=0.011)
        with urllib.request.urlopen(f"{receiver}/", timeout=10) as response:  # noqa: S310
            page = response.read().decode()
        assert cdr["id"] in page
        assert "Registered at" in page
        log = (config / "demo_receiver.log").read_text()
        assert f"CDR {cdr['id']} accepted" in log
        assert "Registered homecharge Demo home" in log
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=60)
    assert _processes_with(f"dev.demo_receiver --port {receiver_port} ") == []
    with pytest.raises(OSError, match="refused"):
        socket.create_connection(("127.0.0.1", receiver_port), timeout=5).close()
