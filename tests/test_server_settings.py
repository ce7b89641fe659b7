"""The OCPP server's settings: address, port, and TLS (security profile 2)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from ipaddress import ip_address
from pathlib import Path
import socket
import ssl
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.homecharge.central.server import CENTRAL
from custom_components.homecharge.central.server_settings import async_load_settings
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType

from .simulators.charger import SimulatedCharger
from .test_central import PASSWORD, place_with_charger
from .test_config_flow import assert_form_translated


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _certificate(directory: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1, as a home user would make one."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "homecharge test")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


async def _server_form(hass: HomeAssistant, entry: MockConfigEntry) -> Any:
    result = await hass.config_entries.options.async_init(entry.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"next_step_id": "ocpp_server"}
    )
    assert_form_translated(result, "options")
    return result


@pytest.fixture
async def place(hass: HomeAssistant) -> MockConfigEntry:
    """A loaded place with charger CP-1."""
    entry = place_with_charger("CP-1")
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    return entry


async def test_tls_profile_2(
    hass: HomeAssistant, place: MockConfigEntry, tmp_path: Path
) -> None:
    """With a certificate the server speaks wss; a charger trusting it connects."""
    cert, key = _certificate(tmp_path)
    port = _free_port()
    result = await _server_form(hass, place)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {
            "host": "127.0.0.1",
            "port": port,
            "certificate": str(cert),
            "private_key": str(key),
        },
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    central = hass.data[CENTRAL]
    assert central.settings.scheme == "wss"
    assert central.port == port
    assert (await async_load_settings(hass)).certificate == str(cert)

    charger = SimulatedCharger(
        url=f"wss://127.0.0.1:{port}",
        charge_point_id="CP-1",
        password=PASSWORD,
        ssl_context=ssl.create_default_context(cafile=str(cert)),
        meter_interval_s=0.1,
    )
    try:
        await charger.start()
        assert charger.booted
    finally:
        await charger.stop()


@pytest.mark.parametrize(
    ("user_input", "errors"),
    [
        ({"host": "everywhere", "port": 9000}, {"host": "invalid_host"}),
        ({"host": "127.0.0.1", "port": 70000}, {"port": "invalid_port"}),
        (
            {"host": "127.0.0.1", "port": 9000, "certificate": "/x.pem"},
            {"base": "tls_incomplete"},
        ),
        (
            {
                "host": "127.0.0.1",
                "port": 9000,
                "certificate": "/no/cert.pem",
                "private_key": "/no/key.pem",
            },
            {"certificate": "file_not_found"},
        ),
    ],
)
async def test_server_settings_errors(
    hass: HomeAssistant,
    place: MockConfigEntry,
    user_input: dict[str, Any],
    errors: dict[str, str],
) -> None:
    """Bad settings are refused on the field; the server keeps running as it was."""
    port = hass.data[CENTRAL].port
    result = await _server_form(hass, place)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], user_input
    )
    assert result["errors"] == errors
    assert hass.data[CENTRAL].port == port


async def test_missing_key_file_and_bad_pair(
    hass: HomeAssistant, place: MockConfigEntry, tmp_path: Path
) -> None:
    """A missing key file, or a key that is not the certificate's, is refused."""
    cert, _key = _certificate(
        tmp_path / "a" if (tmp_path / "a").mkdir() is None else tmp_path
    )
    _, other_key = _certificate(tmp_path)
    result = await _server_form(hass, place)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {
            "host": "127.0.0.1",
            "port": 9000,
            "certificate": str(cert),
            "private_key": "/no/key",
        },
    )
    assert result["errors"] == {"private_key": "file_not_found"}
    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {
            "host": "127.0.0.1",
            "port": 9000,
            "certificate": str(cert),
            "private_key": str(other_key),
        },
    )
    assert result["errors"] == {"base": "tls_invalid"}


async def test_busy_port_keeps_the_old_server(
    hass: HomeAssistant, place: MockConfigEntry
) -> None:
    """A port in use: an error, and the server goes on where it was."""
    port = hass.data[CENTRAL].port
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        result = await _server_form(hass, place)
        result = await hass.config_entries.options.async_configure(
            result["flow_id"], {"host": "127.0.0.1", "port": busy.getsockname()[1]}
        )
    assert result["errors"] == {"base": "server_failed"}
    assert result["description_placeholders"]["error"]
    assert hass.data[CENTRAL].port == port


async def test_settings_saved_while_no_place_runs(
    hass: HomeAssistant, hass_storage: dict[str, Any]
) -> None:
    """With no place loaded the settings are saved for the next start."""
    entry = place_with_charger("CP-1")
    entry.add_to_hass(hass)
    port = _free_port()
    result = await _server_form(hass, entry)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"host": "127.0.0.1", "port": port}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert (await async_load_settings(hass)).port == port
    assert await hass.config_entries.async_setup(entry.entry_id)
    assert hass.data[CENTRAL].port == port
