"""Assist's sentences for homecharge's intents, copied into the user's config.

Home Assistant's own conversation agent reads sentences only from
``<config>/custom_sentences/<language>/*.yaml`` (and ``conversation:`` in
configuration.yaml); an integration cannot hand it sentences. So the files
ship in ``sentences/<language>/homecharge.yaml`` and a repair issue offers to
copy them there (``flows/sentences.py``) — with the user's consent, once.

A file we wrote starts with a header holding the hash of what follows it. A
file there without our header, or whose text no longer matches its hash (the
user edited it), is the user's: never overwritten. Ours, unchanged, is
replaced when homecharge ships newer sentences.
"""

from __future__ import annotations

from enum import StrEnum
import hashlib
import logging
from pathlib import Path
from typing import Final

from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import issue_registry as ir

from ..const import DOMAIN

_LOGGER = logging.getLogger(__name__)

SOURCE: Final = Path(__file__).parents[1] / "sentences"
FOLDER: Final = "custom_sentences"
FILE_NAME: Final = "homecharge.yaml"
SENTENCES_ISSUE: Final = "install_sentences"
CONVERSATION: Final = "conversation"
MARK: Final = "# homecharge voice sentences sha256="
HEADER: Final = (
    "# Written by the homecharge integration. While this file is unchanged,\n"
    "# homecharge replaces it with newer sentences; once you edit it, it is\n"
    "# yours and homecharge never touches it again. To keep your own sentences\n"
    "# apart, put them in another file of this folder.\n"
)


class Installed(StrEnum):
    """A language's sentence file in the user's config."""

    MISSING = "missing"
    CURRENT = "current"
    OUTDATED = "outdated"
    USERS = "users"


def shipped() -> dict[str, str]:
    """The sentences homecharge ships, by language (read in the executor)."""
    return {
        path.parent.name: path.read_text(encoding="utf-8")
        for path in sorted(SOURCE.glob(f"*/{FILE_NAME}"))
    }


def _digest(body: str) -> str:
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def marked(body: str) -> str:
    """A shipped file as we write it: our header, then the sentences."""
    return f"{MARK}{_digest(body)}\n{HEADER}{body}"


def state_of(text: str | None, body: str) -> Installed:
    """What a file found there (None: none) is, against what we ship."""
    if text is None:
        return Installed.MISSING
    first, _newline, rest = text.partition("\n")
    if not first.startswith(MARK) or not rest.startswith(HEADER):
        return Installed.USERS
    written = rest[len(HEADER) :]
    if _digest(written) != first[len(MARK) :].strip():
        return Installed.USERS
    return Installed.CURRENT if written == body else Installed.OUTDATED


def _target(config_dir: Path, language: str) -> Path:
    return config_dir / FOLDER / language / FILE_NAME


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError):
        # Unreadable: not ours to replace.
        return ""


def states(config_dir: Path) -> dict[str, Installed]:
    """Each shipped language's file in the user's config (executor)."""
    return {
        language: state_of(_read(_target(config_dir, language)), body)
        for language, body in shipped().items()
    }


def install(config_dir: Path) -> dict[str, Installed]:
    """
    Write the missing and outdated files of ours; the user's stay (executor).

    Returns each language's state before: what was written is every
    MISSING or OUTDATED one.
    """
    found: dict[str, Installed] = {}
    for language, body in shipped().items():
        path = _target(config_dir, language)
        # Read again right before writing: never overwrite what appeared since.
        found[language] = state = state_of(_read(path), body)
        if state in (Installed.MISSING, Installed.OUTDATED):
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(marked(body), encoding="utf-8")
    return found


def to_write(found: dict[str, Installed]) -> list[str]:
    """The languages whose file would be (or was) written."""
    return [
        language
        for language, state in found.items()
        if state in (Installed.MISSING, Installed.OUTDATED)
    ]


async def async_check(hass: HomeAssistant) -> None:
    """Offer the sentences (a repair issue) when Assist runs and they are not there."""
    if CONVERSATION not in hass.config.components:
        return
    found = await hass.async_add_executor_job(states, Path(hass.config.config_dir))
    if not (languages := to_write(found)):
        ir.async_delete_issue(hass, DOMAIN, SENTENCES_ISSUE)
        return
    ir.async_create_issue(
        hass,
        DOMAIN,
        SENTENCES_ISSUE,
        is_fixable=True,
        is_persistent=False,
        severity=ir.IssueSeverity.WARNING,
        translation_key=SENTENCES_ISSUE,
        translation_placeholders={
            "languages": ", ".join(languages),
            "folder": f"{FOLDER}/<language>/{FILE_NAME}",
        },
    )


async def async_install(hass: HomeAssistant) -> dict[str, Installed]:
    """Copy the sentences (the user said yes) and have Assist read them."""
    found = await hass.async_add_executor_job(install, Path(hass.config.config_dir))
    ir.async_delete_issue(hass, DOMAIN, SENTENCES_ISSUE)
    if to_write(found) and hass.services.has_service(CONVERSATION, "reload"):
        try:
            await hass.services.async_call(CONVERSATION, "reload", {}, blocking=True)
        except HomeAssistantError as err:
            # Written all the same: Assist reads them at the next start.
            _LOGGER.warning("Assist did not reload its sentences: %s", err)
    return found
