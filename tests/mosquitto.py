"""
A real Mosquitto broker on loopback, for tests that need MQTT end to end.

    with Mosquitto() as broker:            # starts it, waits until it listens
        client.connect(broker.host, broker.port)
        broker.restart()                   # same port: clients reconnect
        await broker.async_restart()       # the same from async code
    # stopped: SIGTERM, SIGKILL after 5 s, always reaped (no zombie)

or, in a test (the fixture needs pytest-socket's ``socket_enabled``, which it
requests itself, because Home Assistant's test plugin blocks sockets):

    async def test_something(mosquitto_broker: Mosquitto) -> None: ...

The broker is the Debian ``mosquitto`` binary (``scripts/setup`` installs it),
found in PATH or /usr/sbin. It gets a generated configuration in a temporary
directory: one listener on 127.0.0.1 and a free port, anonymous access, no
persistence, log to stderr, which goes to ``mosquitto.log`` in that directory
(``broker.log_text()``; kept in ``broker.last_log`` after stopping). Run as
root it stays root (``user root``): the default would switch to the
``mosquitto`` user.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator, Sequence
import contextlib
import os
from pathlib import Path
import shutil
import socket
import subprocess
import tempfile
import time
from types import TracebackType
from typing import IO, Final, Self

import pytest

SEARCH_DIRS: Final = ("/usr/sbin", "/usr/local/sbin", "/sbin", "/usr/bin")
_PORT_ATTEMPTS: Final = 3


class MosquittoError(RuntimeError):
    """The broker is missing, would not start, or would not listen."""


def find_mosquitto() -> str:
    """The mosquitto binary's path; MosquittoError saying how to install it."""
    if found := shutil.which("mosquitto"):
        return found
    for folder in SEARCH_DIRS:
        candidate = Path(folder) / "mosquitto"
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    raise MosquittoError(
        "the mosquitto broker is not installed (looked in PATH and "
        f"{', '.join(SEARCH_DIRS)}): run scripts/setup, which installs the "
        "Debian package mosquitto"
    )


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        port: int = probe.getsockname()[1]
        return port


class Mosquitto:
    """One mosquitto process; ``start``/``stop`` or use it as a context manager."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int | None = None,
        binary: str | None = None,
        startup_timeout: float = 10.0,
        stop_timeout: float = 5.0,
        extra_config: Sequence[str] = (),
    ) -> None:
        """Configure the broker (nothing runs until ``start``).

        ``port`` None picks a free one (and retries with another if it was
        taken in the meantime); ``extra_config`` lines go at the end of the
        configuration file.
        """
        self.host = host
        self._fixed_port = port
        self.port = port or 0
        self.binary = binary
        self.startup_timeout = startup_timeout
        self.stop_timeout = stop_timeout
        self.extra_config = tuple(extra_config)
        self.process: subprocess.Popen[bytes] | None = None
        self.last_log = ""
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        self._log: IO[bytes] | None = None

    # Public API ---------------------------------------------------------------

    @property
    def pid(self) -> int | None:
        """The broker's process id while it runs (also after it died, until stop)."""
        return self.process.pid if self.process is not None else None

    @property
    def running(self) -> bool:
        """True while the process is alive."""
        return self.process is not None and self.process.poll() is None

    @property
    def url(self) -> str:
        """mqtt://host:port."""
        return f"mqtt://{self.host}:{self.port}"

    def start(self) -> Self:
        """Start the broker and wait until it accepts connections; idempotent."""
        if self.running:
            return self
        self.stop()
        binary = self.binary or find_mosquitto()
        attempts = 1 if self._fixed_port or self.port else _PORT_ATTEMPTS
        error: MosquittoError | None = None
        for _ in range(attempts):
            if not self.port:
                self.port = free_port(self.host)
            try:
                self._launch(binary)
            except MosquittoError as err:
                error = err
                self.stop()
                if "Address already in use" not in self.last_log:
                    raise
                if not self._fixed_port:
                    self.port = 0
            else:
                return self
        assert error is not None
        raise error

    def stop(self) -> None:
        """Stop the broker (SIGTERM, SIGKILL after ``stop_timeout``); idempotent.

        The port stays the same, so ``start`` brings the broker back where its
        clients reconnect.
        """
        process, self.process = self.process, None
        if process is not None:
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(self.stop_timeout)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
            else:
                process.wait()
        if self._log is not None:
            self._log.close()
            self._log = None
        if self._tmp is not None:
            self.last_log = self.log_text()
            self._tmp.cleanup()
            self._tmp = None

    def restart(self) -> None:
        """Stop and start again on the same port (clients see the broker go away)."""
        self.stop()
        self.start()

    async def async_start(self) -> Self:
        """``start`` in a worker thread, for async tests (it waits and polls)."""
        return await asyncio.to_thread(self.start)

    async def async_stop(self) -> None:
        """``stop`` in a worker thread, for async tests (it waits for the process)."""
        await asyncio.to_thread(self.stop)

    async def async_restart(self) -> None:
        """``restart`` in a worker thread, for async tests."""
        await asyncio.to_thread(self.restart)

    def log_text(self) -> str:
        """What the broker logged so far (or, once stopped, until it stopped)."""
        if self._tmp is None:
            return self.last_log
        path = Path(self._tmp.name) / "mosquitto.log"
        try:
            return path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def __enter__(self) -> Self:
        """Start the broker."""
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Stop the broker."""
        self.stop()

    def __repr__(self) -> str:
        """Where the broker listens and whether it runs."""
        state = f"pid {self.pid}" if self.running else "stopped"
        return f"<Mosquitto {self.host}:{self.port} {state}>"

    # Internals ----------------------------------------------------------------

    def _config(self, folder: Path) -> Path:
        lines = [
            f"listener {self.port} {self.host}",
            "allow_anonymous true",
            "persistence false",
            "log_dest stderr",
            "log_type error",
            "log_type warning",
            "log_type notice",
            "log_type information",
            "connection_messages true",
            "log_timestamp true",
        ]
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            lines.append("user root")  # else it switches to the mosquitto user
        lines.extend(self.extra_config)
        path = folder / "mosquitto.conf"
        path.write_text("\n".join(lines) + "\n")
        return path

    def _launch(self, binary: str) -> None:
        self._tmp = tempfile.TemporaryDirectory(prefix="mosquitto-")
        folder = Path(self._tmp.name)
        config = self._config(folder)
        self._log = (folder / "mosquitto.log").open("wb")
        self.process = subprocess.Popen(
            [binary, "-c", str(config)],
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            cwd=folder,
        )
        self._wait_listening()

    def _wait_listening(self) -> None:
        assert self.process is not None
        deadline = time.monotonic() + self.startup_timeout
        while True:
            if (code := self.process.poll()) is not None:
                raise MosquittoError(
                    f"mosquitto exited with code {code} while starting on "
                    f"{self.host}:{self.port}:\n{self.log_text()[-2000:]}"
                )
            with (
                contextlib.suppress(OSError),
                socket.create_connection((self.host, self.port), timeout=0.2),
            ):
                return
            if time.monotonic() >= deadline:
                raise MosquittoError(
                    f"mosquitto did not listen on {self.host}:{self.port} within "
                    f"{self.startup_timeout} s:\n{self.log_text()[-2000:]}"
                )
            time.sleep(0.02)


@pytest.fixture
def mosquitto_broker(socket_enabled: None) -> Iterator[Mosquitto]:
    """A running broker on 127.0.0.1 and a free port; stopped after the test."""
    with Mosquitto() as broker:
        yield broker
