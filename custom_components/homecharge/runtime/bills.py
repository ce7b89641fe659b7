"""Energy bills a driver uploads: checked by content and kept in HA's storage.

HA's file upload keeps an upload in a temporary folder only while the flow
reads it; the bill is copied under ``.storage/homecharge_bills/`` (with the
rest of HA's private data: backed up, never served) and the subentry keeps
a reference. Diagnostics never show it (``PRIVATE_KEYS``).
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
import shutil
import time
from typing import Any, Final
import uuid

from homeassistant.components.file_upload import process_uploaded_file
from homeassistant.core import HomeAssistant

from ..const import DOMAIN, SUBENTRY_REIMBURSEMENT
from ..logic.reimbursement.bill_file import HEAD_BYTES, recognise_bill
from ..logic.reimbursement.settings import CONF_BILL

BILLS_FOLDER: Final = f"{DOMAIN}_bills"


def bills_path(hass: HomeAssistant) -> Path:
    """Where the bills are kept."""
    return Path(hass.config.path(".storage", BILLS_FOLDER))


async def async_keep_bill(hass: HomeAssistant, file_id: str) -> dict[str, Any]:
    """
    Copy an upload into the bills folder: its reference (id, kind, size).

    Raises ``BillError`` (empty, too large, not a PDF/PNG/JPEG by content)
    before anything is kept.
    """
    folder = bills_path(hass)

    def keep() -> dict[str, Any]:
        with process_uploaded_file(hass, file_id) as path:
            size = path.stat().st_size
            with path.open("rb") as file:
                kind = recognise_bill(file.read(HEAD_BYTES), size)
            folder.mkdir(parents=True, exist_ok=True)
            name = f"{uuid.uuid4().hex}.{kind.extension}"
            shutil.copyfile(path, folder / name)
        return {"file": name, "mime": kind.mime, "size": size}

    return await hass.async_add_executor_job(keep)


async def async_forget_bill(hass: HomeAssistant, bill: dict[str, Any] | None) -> None:
    """Delete a kept bill (a replaced one, or the reimbursement's on removal)."""
    if not bill or "/" in str(bill.get("file", "/")):
        return
    path = bills_path(hass) / str(bill["file"])
    await hass.async_add_executor_job(lambda: path.unlink(missing_ok=True))


# A bill younger than this is kept even when no reimbursement names it yet:
# an onboarding in progress has kept it before its subentry is saved.
_PRUNE_AFTER = timedelta(days=1)


async def async_prune_bills(hass: HomeAssistant) -> None:
    """Delete the bills no reimbursement of any place names (one removed)."""
    named = {
        str(sub.data[CONF_BILL].get("file"))
        for entry in hass.config_entries.async_entries(DOMAIN)
        for sub in entry.subentries.values()
        if sub.subentry_type == SUBENTRY_REIMBURSEMENT and sub.data.get(CONF_BILL)
    }
    folder = bills_path(hass)
    oldest = time.time() - _PRUNE_AFTER.total_seconds()

    def prune() -> None:
        if not folder.is_dir():
            return
        for path in folder.iterdir():
            if path.name not in named and path.stat().st_mtime < oldest:
                path.unlink(missing_ok=True)

    await hass.async_add_executor_job(prune)
