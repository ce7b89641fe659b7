"""A real Home Assistant process with homecharge, for system tests and benchmarks.

Not the pytest harness: ``python -m homeassistant`` in its own process group,
on a scratch config folder, so a test can restart it, kill it, or measure it.

    directory = tmp_path / "config"
    http_port, ocpp_port = free_port(), free_port()
    write_config(
        directory,
        ocpp_port=ocpp_port,
        http_port=http_port,
        places=[place_entry(entry_id="01HOME", name="Home", main_fuse=63,
                            grid_type="3p_230_it", chargers=[])],
        mqtt=(broker.host, broker.port),    # optional: HA's MQTT integration
    )
    async with HomeAssistantProcess(directory, http_port=http_port,
                                    ocpp_port=ocpp_port) as hass:
        states = await hass.states()        # entity_id -> state object
        await hass.async_restart()          # SIGTERM, start again, wait ready
    # stopped: SIGTERM to the process group, SIGKILL after the timeout

Home Assistant's own output (stdout and stderr) goes to ``ha-process.log`` in
the config folder, appended across restarts: ``hass.log_tail()`` for a failing
test. ``write_config(..., with_auth=True)`` (the default) copies the user of
dev/config (``dev`` / ``homecharge``), so the REST API can be used; benchmarks
pass ``with_auth=False`` and readiness is then only "both ports listen".
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from contextlib import suppress
import json
import os
from pathlib import Path
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from types import TracebackType
from typing import Any, Final, Self

import aiohttp

ROOT: Final = Path(__file__).parents[1]
DEV_STORAGE: Final = ROOT / "dev" / "config" / ".storage"
USERNAME: Final = "dev"
PASSWORD: Final = "homecharge"  # noqa: S105 - dev/config's documented login
LOG_FILE: Final = "ha-process.log"
CREATED: Final = "2026-11-21T12:00:00+00:00"
MQTT_ENTRY_ID: Final = "01HAPROCESSMQTTBROKER00000"
_HTTP_TIMEOUT: Final = aiohttp.ClientTimeout(total=10)


async def until(check: Callable[[], bool], seconds: float, what: str) -> float:
    """Wait (wall clock) until ``check`` holds; how long it took."""
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        if check():
            return time.monotonic() - started
        await asyncio.sleep(0.05)
    raise AssertionError(f"not within {seconds} s: {what}")


def free_port() -> int:
    """A free TCP port on loopback."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


async def _listening(port: int) -> bool:
    with suppress(OSError):
        _, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.close()
        await writer.wait_closed()
        return True
    return False


async def wait_for_port(port: int, seconds: float = 120) -> None:
    """Until something listens on the port."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with suppress(OSError):
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.close()
            return
        await asyncio.sleep(0.5)
    raise TimeoutError(f"nothing listens on {port}")


def place_entry(
    *,
    entry_id: str,
    name: str,
    main_fuse: float,
    grid_type: str,
    chargers: list[dict[str, Any]],
    options: dict[str, Any] | None = None,
    country: str = "NO",
    price_area: str = "NO1",
    data: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A homecharge place as stored in core.config_entries, with its chargers.

    Each charger needs ``charge_point_id``, ``circuit_fuse`` and ``phases``;
    ``title`` (default: the id), ``connectors`` (1), ``password`` (None) and
    ``subentry_id`` (random) are optional, and any other key (``phase``,
    ``priority``, ...) goes into the subentry's data as it is. ``data`` adds
    keys to the place's own data (``accept_new_chargers``, ``cost_basis``...);
    ``options`` are the place's options (meter feed, balancing). Places here
    have no spot prices, a flat grid tariff and no capacity tariff unless
    ``options`` say otherwise,
    so smart charging charges at once whatever the day and hour.
    """
    return {
        "created_at": CREATED,
        "modified_at": CREATED,
        "data": {
            "name": name,
            "country": country,
            "price_area": price_area,
            "cost_basis": "spot",
            "main_fuse": float(main_fuse),
            "grid_type": grid_type,
            **(data or {}),
        },
        "discovery_keys": {},
        "disabled_by": None,
        "domain": "homecharge",
        "entry_id": entry_id,
        "minor_version": 1,
        "options": {
            "grid_day_price": 0.0,
            "capacity_tariff": False,
            **(options or {}),
        },
        "pref_disable_new_entities": False,
        "pref_disable_polling": False,
        "source": "user",
        "subentries": [_charger_subentry(charger) for charger in chargers],
        "title": name,
        "unique_id": None,
        "version": 1,
    }


def _charger_subentry(charger: Mapping[str, Any]) -> dict[str, Any]:
    extra = dict(charger)
    charge_point_id: str = extra.pop("charge_point_id")
    title: str = extra.pop("title", charge_point_id)
    subentry_id: str = extra.pop("subentry_id", None) or secrets.token_hex(13)
    return {
        "data": {
            "charge_point_id": charge_point_id,
            "circuit_fuse": float(extra.pop("circuit_fuse")),
            "phases": extra.pop("phases"),
            "connectors": extra.pop("connectors", 1),
            "password": extra.pop("password", None),
            **extra,
        },
        "subentry_id": subentry_id,
        "subentry_type": "charger",
        "title": title,
        "unique_id": charge_point_id,
    }


def mqtt_entry(host: str, port: int, *, discovery: bool = False) -> dict[str, Any]:
    """HA's MQTT integration on a broker, as its config flow stores it (v2.1).

    The broker step stores only ``broker`` and ``port`` (no login, plain TCP);
    discovery, birth and will live in the options since 2026.1. Discovery is
    off by default: homecharge subscribes to its own topics only.
    """
    return {
        "created_at": CREATED,
        "modified_at": CREATED,
        "data": {"broker": host, "port": port},
        "discovery_keys": {},
        "disabled_by": None,
        "domain": "mqtt",
        "entry_id": MQTT_ENTRY_ID,
        "minor_version": 1,
        "options": {"discovery": discovery},
        "pref_disable_new_entities": False,
        "pref_disable_polling": False,
        "source": "user",
        "subentries": [],
        "title": host,
        "unique_id": None,
        "version": 2,
    }


def write_config(
    directory: Path,
    *,
    ocpp_port: int,
    http_port: int,
    places: list[dict[str, Any]],
    mqtt: tuple[str, int] | None = None,
    log_level: str = "warning",
    homecharge_log_level: str | None = None,
    with_auth: bool = True,
) -> None:
    """A Home Assistant config folder: onboarded, homecharge linked, the places.

    HTTP on 127.0.0.1:``http_port``, the OCPP server on 127.0.0.1:``ocpp_port``,
    ``places`` (see ``place_entry``) and, given ``(host, port)`` as ``mqtt``,
    the MQTT integration on that broker. ``with_auth`` copies dev/config's
    user (``USERNAME`` / ``PASSWORD``) for ``HomeAssistantProcess.login``.
    """
    storage = directory / ".storage"
    storage.mkdir(parents=True)
    (directory / "custom_components").mkdir()
    (directory / "custom_components" / "homecharge").symlink_to(
        ROOT / "custom_components" / "homecharge"
    )
    logs = (
        f"  logs:\n    custom_components.homecharge: {homecharge_log_level}\n"
        if homecharge_log_level
        else ""
    )
    (directory / "configuration.yaml").write_text(
        f"http:\n  server_host: 127.0.0.1\n  server_port: {http_port}\n"
        f"logger:\n  default: {log_level}\n{logs}"
    )

    def store(key: str, data: Any, version: int = 1, minor: int = 1) -> None:
        payload = {"version": version, "minor_version": minor, "key": key, "data": data}
        (storage / key).write_text(json.dumps(payload))

    store("homecharge.server", {"host": "127.0.0.1", "port": ocpp_port})
    store(
        "onboarding", {"done": ["user", "core_config", "analytics", "integration"]}, 4
    )
    entries = list(places)
    if mqtt is not None:
        entries.append(mqtt_entry(*mqtt))
    store("core.config_entries", {"entries": entries}, 1, 5)
    if with_auth:
        for key in ("auth", "auth_provider.homeassistant"):
            shutil.copyfile(DEV_STORAGE / key, storage / key)


class HomeAssistantProcess:
    """``python -m homeassistant`` on a config folder written by ``write_config``.

    ``start``/``stop``/``restart`` (``async_stop``/``async_restart`` from async
    code: they wait for the process in a thread); as a context manager it is
    started (and, with ``async with``, ready) and always stopped.
    """

    def __init__(
        self,
        directory: Path,
        *,
        http_port: int,
        ocpp_port: int | None = None,
        username: str = USERNAME,
        password: str = PASSWORD,
    ) -> None:
        """Nothing runs until ``start``; ``ocpp_port`` None: no place, no check."""
        self.directory = directory
        self.http_port = http_port
        self.ocpp_port = ocpp_port
        self.username = username
        self.password = password
        self.process: subprocess.Popen[bytes] | None = None
        self._token: str | None = None
        self._ticks = os.sysconf("SC_CLK_TCK")

    @property
    def base_url(self) -> str:
        """http://127.0.0.1:port."""
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def log_path(self) -> Path:
        """Home Assistant's stdout and stderr, appended across restarts."""
        return self.directory / LOG_FILE

    @property
    def pid(self) -> int:
        """The process id (also its process group's); RuntimeError if not started."""
        if self.process is None:
            raise RuntimeError("Home Assistant is not started")
        return self.process.pid

    @property
    def running(self) -> bool:
        """True while the process is alive."""
        return self.process is not None and self.process.poll() is None

    def start(self) -> Self:
        """Start Home Assistant (not waiting for it: ``wait_ready``); idempotent."""
        if self.running:
            return self
        with self.log_path.open("ab") as log:
            log.write(f"--- ha_process: starting at {time.ctime()}\n".encode())
            log.flush()
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "homeassistant",
                    "--config",
                    str(self.directory),
                    "--skip-pip",
                ],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        return self

    def stop(self, timeout: float = 60) -> None:
        """SIGTERM to the process group, SIGKILL after ``timeout`` s; idempotent."""
        process, self.process = self.process, None
        if process is None:
            return
        if process.poll() is None:
            with suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                with suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        else:
            process.wait()

    def restart(self, timeout: float = 60) -> None:
        """Stop, then start again on the same config and ports."""
        self.stop(timeout)
        self.start()

    # A timeout argument, not asyncio.timeout: the errors carry the log's tail.
    async def async_stop(self, timeout: float = 60) -> None:  # noqa: ASYNC109
        """``stop`` without blocking the event loop."""
        await asyncio.to_thread(self.stop, timeout)

    async def async_restart(
        self,
        timeout: float = 60,  # noqa: ASYNC109
        ready_timeout: float = 120,
    ) -> None:
        """Stop, start and ``wait_ready``, without blocking the event loop."""
        await self.async_stop(timeout)
        self.start()
        await self.wait_ready(ready_timeout)

    async def wait_ready(self, timeout: float = 120) -> None:  # noqa: ASYNC109
        """Until HTTP and the OCPP server listen and, with auth, HA is RUNNING.

        TimeoutError, or RuntimeError if the process exits or (with auth) a
        config entry failed to set up; all with the log's tail.
        """
        deadline = time.monotonic() + timeout
        ports = [self.http_port] + ([self.ocpp_port] if self.ocpp_port else [])
        auth = (self.directory / ".storage" / "auth_provider.homeassistant").exists()
        while True:
            if not self.running:
                code = None if self.process is None else self.process.returncode
                raise RuntimeError(
                    f"Home Assistant is not running (exit code {code}):\n"
                    f"{self.log_tail()}"
                )
            if all([await _listening(port) for port in ports]) and (
                not auth or await self._core_state() == "RUNNING"
            ):
                if auth:
                    await self._check_entries()
                return
            if time.monotonic() >= deadline:
                raise TimeoutError(
                    f"Home Assistant not ready within {timeout} s:\n{self.log_tail()}"
                )
            await asyncio.sleep(0.5)

    async def _core_state(self) -> str | None:
        try:
            config = await self.request("GET", "/api/config")
        except (aiohttp.ClientError, OSError, TimeoutError):
            return None
        state: str | None = config.get("state")
        return state

    async def _check_entries(self) -> None:
        entries = await self.request("GET", "/api/config/config_entries/entry")
        if failed := [
            f"{entry['domain']} {entry['title']!r}: {entry['state']}"
            for entry in entries
            if entry["state"] in {"setup_error", "migration_error"}
        ]:
            raise RuntimeError(
                f"config entries failed: {', '.join(failed)}\n{self.log_tail()}"
            )

    async def login(self) -> str:
        """An access token, logging in the way the frontend does."""
        client_id = f"{self.base_url}/"
        async with aiohttp.ClientSession(
            self.base_url, timeout=_HTTP_TIMEOUT, raise_for_status=True
        ) as session:
            async with session.post(
                "/auth/login_flow",
                json={
                    "client_id": client_id,
                    "handler": ["homeassistant", None],
                    "redirect_uri": client_id,
                },
            ) as response:
                flow = await response.json()
            async with session.post(
                f"/auth/login_flow/{flow['flow_id']}",
                json={
                    "client_id": client_id,
                    "username": self.username,
                    "password": self.password,
                },
            ) as response:
                result = await response.json()
            if result.get("type") != "create_entry":
                raise RuntimeError(f"login failed: {result}")
            async with session.post(
                "/auth/token",
                data={
                    "grant_type": "authorization_code",
                    "code": result["result"],
                    "client_id": client_id,
                },
            ) as response:
                tokens = await response.json()
        token: str = tokens["access_token"]
        self._token = token
        return token

    async def request(self, method: str, path: str, data: Any = None) -> Any:
        """One REST API call (``data`` sent as JSON), logged in; its JSON answer.

        Logs in on first use and again when the token is refused (after a
        restart that lost it); other HTTP errors raise ClientResponseError.
        """
        for attempt in range(2):
            token = self._token or await self.login()
            async with (
                aiohttp.ClientSession(self.base_url, timeout=_HTTP_TIMEOUT) as session,
                session.request(
                    method,
                    path,
                    json=data,
                    headers={"Authorization": f"Bearer {token}"},
                ) as response,
            ):
                if response.status == 401 and attempt == 0:
                    self._token = None
                    continue
                response.raise_for_status()
                return await response.json()
        raise AssertionError("unreachable")  # pragma: no cover

    async def states(self) -> dict[str, dict[str, Any]]:
        """Every entity's state object, by entity id (GET /api/states)."""
        return {
            state["entity_id"]: state
            for state in await self.request("GET", "/api/states")
        }

    def cpu_seconds(self) -> float:
        """User and system CPU time the process used so far, from /proc."""
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / self._ticks

    def rss_mib(self) -> float:
        """Resident memory, from /proc."""
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return float("nan")

    def log_tail(self, lines: int = 80) -> str:
        """The last ``lines`` lines Home Assistant printed."""
        try:
            text = self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def __enter__(self) -> Self:
        """Start Home Assistant."""
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Stop Home Assistant."""
        self.stop()

    async def __aenter__(self) -> Self:
        """Start Home Assistant and wait until it is ready (stopped if it is not)."""
        self.start()
        try:
            await self.wait_ready()
        except BaseException:
            await self.async_stop()
            raise
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Stop Home Assistant."""
        await self.async_stop()

    def __repr__(self) -> str:
        """Where it serves and whether it runs."""
        state = f"pid {self.pid}" if self.running else "stopped"
        return f"<HomeAssistantProcess {self.base_url} {state}>"
