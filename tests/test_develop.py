"""scripts/develop serves Home Assistant with the demo place, and stops cleanly.

Runs the real command a newcomer runs, on a free port in a scratch folder: logs
in with the credentials it prints, reads /api/states, then presses Ctrl-C.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
import re
import signal
import socket
import subprocess
import time
from typing import Any
import urllib.error
from urllib.parse import urlencode
import urllib.request

import pytest

ROOT = Path(__file__).parents[1]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _request(
    url: str, data: Any = None, token: str | None = None, form: bool = False
) -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    body = None
    if data is not None:
        if form:
            body = urlencode(data).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        else:
            body = json.dumps(data).encode()
            headers["Content-Type"] = "application/json"
    request = urllib.request.Request(url, data=body, headers=headers)  # noqa: S310
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        return json.loads(response.read())


def _login(base: str, username: str, password: str) -> str:
    """Log in the way the frontend does: login flow, then the token endpoint."""
    client_id = f"{base}/"
    flow = _request(
        f"{base}/auth/login_flow",
        {
            "client_id": client_id,
            "handler": ["homeassistant", None],
            "redirect_uri": client_id,
        },
    )
    result = _request(
        f"{base}/auth/login_flow/{flow['flow_id']}",
        {"client_id": client_id, "username": username, "password": password},
    )
    assert result["type"] == "create_entry", result
    tokens = _request(
        f"{base}/auth/token",
        {
            "grant_type": "authorization_code",
            "code": result["result"],
            "client_id": client_id,
        },
        form=True,
    )
    token: str = tokens["access_token"]
    return token


@pytest.mark.usefixtures("socket_enabled")
def test_develop_serves_the_demo_place(tmp_path: Path) -> None:
    """The demo place's device is up, helpers run, Ctrl-C stops everything."""
    port = _free_port()
    helper_pid = tmp_path / "helper.pid"
    helpers = tmp_path / "helpers"
    helpers.write_text(f"# a stand-in helper\necho $$ > {helper_pid}; exec sleep 600\n")
    env = {
        **os.environ,
        "HOMECHARGE_DEV_PORT": str(port),
        "HOMECHARGE_DEV_DIR": str(tmp_path / "config"),
        "HOMECHARGE_DEV_HELPERS": str(helpers),
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
        login = None
        for line in process.stdout:
            output.append(line)
            if match := re.search(r"Login:\s+(\S+) / (\S+)", line):
                login = match.groups()
                break
        assert login, "".join(output)
        assert f"http://127.0.0.1:{port}" in "".join(output)

        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 120
        states = None
        while time.monotonic() < deadline:
            try:
                token = _login(base, *login)
                states = {
                    s["entity_id"]: s
                    for s in _request(f"{base}/api/states", token=token)
                }
                if "number.demo_home_main_fuse" in states:
                    break
            except OSError:
                pass
            time.sleep(1)
        assert states is not None, "Home Assistant never answered"
        assert states["number.demo_home_main_fuse"]["state"] == "63.0"
        assert states["select.demo_home_basis_for_electricity_costs"]["state"] == "spot"
        assert helper_pid.is_file()
        pid = int(helper_pid.read_text())
        os.kill(pid, 0)  # the helper runs
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=60)
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    with pytest.raises(urllib.error.URLError, match="Connection refused"):
        _request(f"http://127.0.0.1:{port}/api/")
