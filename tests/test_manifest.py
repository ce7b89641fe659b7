"""manifest.json, hacs.json and the brand files follow hassfest's and HACS's rules."""

from __future__ import annotations

import json
from pathlib import Path
import re
import struct

from awesomeversion import AwesomeVersion

import homeassistant.components as core_components
from homeassistant.const import __version__ as ha_version

ROOT = Path(__file__).parents[1]
PACKAGE = ROOT / "custom_components" / "homecharge"
MANIFEST = json.loads((PACKAGE / "manifest.json").read_text(encoding="utf-8"))
HACS = json.loads((ROOT / "hacs.json").read_text(encoding="utf-8"))


def _pins(path: Path) -> dict[str, str]:
    pins = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if "==" in line and not line.startswith("#"):
            name, version = line.split("==")
            pins[name.strip().lower()] = version.strip()
    return pins


def test_manifest_keys() -> None:
    """The keys hassfest requires of a custom integration, with valid values."""
    assert MANIFEST["domain"] == PACKAGE.name == "homecharge"
    assert MANIFEST["name"] == "homecharge"
    # hassfest: domain and name first, then the rest sorted.
    keys = list(MANIFEST)
    assert keys[:2] == ["domain", "name"]
    assert keys[2:] == sorted(keys[2:])
    assert AwesomeVersion(MANIFEST["version"]).valid
    assert MANIFEST["version"] == "0.1.0"
    assert MANIFEST["config_flow"] is True
    assert (PACKAGE / "config_flow.py").is_file()
    assert MANIFEST["integration_type"] == "hub"
    assert MANIFEST["iot_class"] == "local_push"
    assert MANIFEST["documentation"].startswith("https://")
    assert MANIFEST["issue_tracker"].startswith("https://")
    assert MANIFEST["codeowners"]
    assert all(owner.startswith("@") for owner in MANIFEST["codeowners"])


def test_requirements_are_pinned_and_installed() -> None:
    """Every requirement is pinned, and the dev environment has the same pin."""
    runtime = _pins(ROOT / "requirements.txt")
    for requirement in MANIFEST["requirements"]:
        assert re.fullmatch(r"[A-Za-z0-9_.\-]+==[0-9][0-9A-Za-z.]*", requirement)
        name, version = requirement.split("==")
        assert runtime[name.lower()] == version
    assert runtime["homeassistant"] == ha_version


def test_dependencies_are_core_integrations() -> None:
    """Dependencies name integrations Home Assistant ships."""
    core = Path(core_components.__file__).parent
    for domain in MANIFEST.get("dependencies", []) + MANIFEST["after_dependencies"]:
        assert (core / domain / "manifest.json").is_file(), domain
    # The meter feed can be HA sensors too: MQTT must not be a hard dependency.
    assert "mqtt" not in MANIFEST.get("dependencies", [])
    assert {"mqtt", "bluetooth_adapters"} <= set(MANIFEST["after_dependencies"])


def test_hacs() -> None:
    """hacs.json names the integration and a Home Assistant we support."""
    assert HACS["name"] == "homecharge"
    assert AwesomeVersion(HACS["homeassistant"]) <= AwesomeVersion(ha_version)
    assert HACS["homeassistant"] == "2026.2.0"
    assert (ROOT / "README.md").is_file()
    integrations = [p for p in (ROOT / "custom_components").iterdir() if p.is_dir()]
    assert [p.name for p in integrations if not p.name.startswith("__")] == [
        "homecharge"
    ]


def test_brand_icons() -> None:
    """Square PNG icons in the sizes Home Assistant's brand images use."""
    for name, size in (("icon.png", 256), ("icon@2x.png", 512)):
        data = (PACKAGE / "brand" / name).read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n", name
        width, height = struct.unpack(">II", data[16:24])
        assert (width, height) == (size, size), name
