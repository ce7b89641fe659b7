"""
The demo place's reimbursement and its receiver, for scripts/develop.

dev/config's demo place has a reimbursement (a subentry of type
``reimbursement``): the driver "Demo Driver", a fixed tariff, covering the
Driveway charger (SIM-1), whose business sessions go as OCPI 2.2.1 CDRs to
the demo receiver (dev/demo_receiver.py) that scripts/develop starts on
127.0.0.1:$HOMECHARGE_DEV_RECEIVER_PORT with the fixed token A below.

scripts/develop runs this at every start, before Home Assistant:

    python dev/demo_reimbursement.py CONFIG_DIR HA_PORT RECEIVER_PORT

It writes, in the config folder's storage:

- Home Assistant's internal URL (core.config), http://127.0.0.1:HA_PORT: the
  receiver calls our OCPI versions URL back at the handshake, and Home
  Assistant builds that URL from it;
- the demo reimbursement's receiver (core.config_entries): the demo
  receiver's versions URL at RECEIVER_PORT and token A, without the last
  run's registration, so that Home Assistant registers with the receiver
  started for this run (the demo receiver keeps no state between runs);
- the reimbursement itself, copied from dev/config, into a config copied
  before the demo had one (once: ``MARKER`` remembers it, so one removed in
  Home Assistant stays removed). A reimbursement pointed at another
  receiver in Home Assistant is left as it is.

Prints ``true`` when the demo place has the demo reimbursement, else ``false``.
"""

from __future__ import annotations

import json
from pathlib import Path
import sys
from typing import Any, Final
from urllib.parse import urlsplit

REPO: Final = Path(__file__).resolve().parents[1]
DEV_ENTRIES: Final = REPO / "dev" / "config" / ".storage" / "core.config_entries"
DEMO_PLACE: Final = "01JDEMOH0MECHARGEPLACE00001"
REIMBURSEMENT: Final = "01JDEMOSUBENTRYREIMBURSE01"
# The demo receiver's token A (a development value, not a secret).
TOKEN_A: Final = "demo-token-a-homecharge"  # noqa: S105
VERSIONS_PATH: Final = "/ocpi/versions"
# The subentry's key of the registration (runtime/reimbursement_sync.py).
REGISTRATION: Final = "ocpi_registration"
# In the config folder: the demo reimbursement was added (or found) once.
MARKER: Final = ".demo_reimbursement"


def versions_url(port: int) -> str:
    """The demo receiver's OCPI versions URL (where the handshake starts)."""
    return f"http://127.0.0.1:{port}{VERSIONS_PATH}"


def _load(path: Path) -> dict[str, Any] | None:
    return json.loads(path.read_text()) if path.exists() else None


def _save(path: Path, store: dict[str, Any]) -> None:
    path.write_text(json.dumps(store, indent=2) + "\n")


def set_internal_url(config: Path, ha_port: int) -> None:
    """Home Assistant's internal URL: this run's address of its HTTP server."""
    path = config / ".storage" / "core.config"
    store = _load(path)
    if store is None:
        return
    url = f"http://127.0.0.1:{ha_port}"
    if store["data"].get("internal_url") != url:
        store["data"]["internal_url"] = url
        _save(path, store)


def demo_subentry() -> dict[str, Any]:
    """The demo reimbursement as dev/config has it."""
    store = json.loads(DEV_ENTRIES.read_text())
    place = next(e for e in store["data"]["entries"] if e["entry_id"] == DEMO_PLACE)
    return next(s for s in place["subentries"] if s["subentry_id"] == REIMBURSEMENT)


def _ours(data: dict[str, Any]) -> bool:
    """Whether the reimbursement still sends to a demo receiver."""
    url = urlsplit(str(data.get("receiver_url") or ""))
    return (
        data.get("receiver") == "ocpi"
        and url.scheme == "http"
        and url.hostname == "127.0.0.1"
        and url.path == VERSIONS_PATH
    )


def set_receiver(config: Path, receiver_port: int) -> bool:
    """The demo reimbursement sends to this run's receiver; whether it has one."""
    path = config / ".storage" / "core.config_entries"
    store = _load(path)
    place = (
        None
        if store is None
        else next(
            (e for e in store["data"]["entries"] if e["entry_id"] == DEMO_PLACE), None
        )
    )
    if store is None or place is None:
        return False
    marker = config / MARKER
    subentries: list[dict[str, Any]] = place.setdefault("subentries", [])
    subentry = next((s for s in subentries if s["subentry_id"] == REIMBURSEMENT), None)
    if subentry is None:
        if marker.exists():
            # Added once and removed in Home Assistant since.
            return False
        subentry = demo_subentry()
        subentries.append(subentry)
    marker.touch()
    data = subentry["data"]
    if _ours(data):
        data.update(receiver_url=versions_url(receiver_port), receiver_token=TOKEN_A)
        data.pop(REGISTRATION, None)
    _save(path, store)
    return True


def main(argv: list[str]) -> int:
    """Patch the config folder named on the command line."""
    if len(argv) != 3:
        sys.stderr.write(
            "usage: python dev/demo_reimbursement.py CONFIG_DIR HA_PORT RECEIVER_PORT\n"
        )
        return 2
    config, ha_port, receiver_port = Path(argv[0]), int(argv[1]), int(argv[2])
    set_internal_url(config, ha_port)
    has = set_receiver(config, receiver_port)
    sys.stdout.write(f"{'true' if has else 'false'}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
