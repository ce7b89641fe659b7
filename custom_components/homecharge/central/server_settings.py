"""The OCPP server's settings: where it listens and with which certificate.

One set for the whole Home Assistant (every place shares the server), kept in
HA's Store and checked for the options flow.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from ipaddress import ip_address
from pathlib import Path
import ssl
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.helpers.storage import Store

from ..const import DOMAIN

SETTINGS_STORE_KEY = f"{DOMAIN}.server"


@dataclass(frozen=True, kw_only=True, slots=True)
class ServerSettings:
    """Where the server listens."""

    host: str = "0.0.0.0"  # noqa: S104 - chargers are on the LAN
    port: int = 9000
    certificate: str | None = None
    private_key: str | None = None

    @property
    def scheme(self) -> str:
        """ws, or wss with a certificate (security profile 2)."""
        return "wss" if self.certificate else "ws"


def server_ssl_context(certificate: str, private_key: str) -> ssl.SSLContext:
    """The TLS context of a server with this certificate and key (blocking I/O)."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(certificate, private_key)
    return context


def settings_errors(settings: ServerSettings) -> dict[str, str]:
    """What is wrong with server settings, by field (files not checked)."""
    errors: dict[str, str] = {}
    try:
        ip_address(settings.host)
    except ValueError:
        errors["host"] = "invalid_host"
    if not 1 <= settings.port <= 65535:
        errors["port"] = "invalid_port"
    if bool(settings.certificate) != bool(settings.private_key):
        errors["base"] = "tls_incomplete"
    return errors


def tls_file_errors(settings: ServerSettings) -> dict[str, str]:
    """Certificate and key files that are missing or unusable (blocking I/O)."""
    if not settings.certificate or not settings.private_key:
        return {}
    for field, path in (
        ("certificate", settings.certificate),
        ("private_key", settings.private_key),
    ):
        if not Path(path).is_file():
            return {field: "file_not_found"}
    try:
        server_ssl_context(settings.certificate, settings.private_key)
    except (ssl.SSLError, ValueError):
        return {"base": "tls_invalid"}
    return {}


def settings_store(hass: HomeAssistant) -> Store[dict[str, Any]]:
    """Where the server settings live: one set for the whole Home Assistant."""
    return Store(hass, 1, SETTINGS_STORE_KEY)


async def async_load_settings(hass: HomeAssistant) -> ServerSettings:
    """The saved server settings, or the defaults."""
    data = await settings_store(hass).async_load() or {}
    return ServerSettings(
        **{k: v for k, v in data.items() if k in ServerSettings.__slots__}
    )


async def async_save_settings(hass: HomeAssistant, settings: ServerSettings) -> None:
    """Save the server settings (they apply when the server next starts)."""
    await settings_store(hass).async_save(asdict(settings))
