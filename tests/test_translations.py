"""Translations: the source files, the synced copy, and every key the code uses."""

from __future__ import annotations

import ast
import json
from pathlib import Path
import re
import string
from typing import Any

import pytest
import yaml

from custom_components.homecharge.logic.place import PRICE_AREAS, CostBasis, GridType

ROOT = Path(__file__).parents[1]
PACKAGE = ROOT / "custom_components" / "homecharge"
SOURCE = ROOT / "translations"
LANGUAGES = ("en", "nb", "da", "nl", "sv")


def _load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def _flatten(tree: dict[str, Any], prefix: str = "") -> dict[str, str]:
    flat: dict[str, str] = {}
    for key, value in tree.items():
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


EN = _flatten(_load(SOURCE / "en.json"))


def _placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_required_languages_exist() -> None:
    """The seeds' languages are all there."""
    for lang in LANGUAGES:
        assert (SOURCE / f"{lang}.json").is_file(), lang


@pytest.mark.parametrize("path", sorted(SOURCE.glob("*.json")), ids=lambda p: p.name)
def test_synced_copy_is_identical(path: Path) -> None:
    """What HA loads is what translators edited (run scripts/sync-translations)."""
    copy = PACKAGE / "translations" / path.name
    assert copy.is_file(), f"{path.name} not synced"
    assert copy.read_bytes() == path.read_bytes(), f"{path.name} differs: sync it"


def test_no_stale_synced_copy() -> None:
    """No language in the package that translators no longer have."""
    synced = {p.name for p in (PACKAGE / "translations").glob("*.json")}
    assert synced == {p.name for p in SOURCE.glob("*.json")}


@pytest.mark.parametrize("path", sorted(SOURCE.glob("*.json")), ids=lambda p: p.name)
def test_language_has_every_key_and_placeholder(path: Path) -> None:
    """Each language has exactly en's keys, with the same placeholders."""
    other = _flatten(_load(path))
    assert set(other) - set(EN) == set(), "keys en does not have"
    assert set(EN) - set(other) == set(), "keys missing"
    for key, text in EN.items():
        assert _placeholders(other[key]) == _placeholders(text), key
        assert other[key].strip(), key


def _modules() -> dict[str, ast.Module]:
    return {
        str(path.relative_to(PACKAGE).with_suffix("")): ast.parse(
            path.read_text(encoding="utf-8")
        )
        for path in PACKAGE.rglob("*.py")
    }


def _keyword_strings(node: ast.AST, name: str) -> list[str]:
    return [
        keyword.value.value
        for call in ast.walk(node)
        if isinstance(call, ast.Call)
        for keyword in call.keywords
        if keyword.arg == name
        and isinstance(keyword.value, ast.Constant)
        and isinstance(keyword.value.value, str)
    ]


def _used_keys() -> set[str]:
    """Translation keys the code refers to, read from its syntax tree."""
    modules = _modules()
    consts = {
        target.id: node.value.value
        for node in ast.walk(modules["const"])
        if isinstance(node, ast.AnnAssign | ast.Assign)
        and isinstance(node.value, ast.Constant)
        for target in (
            [node.target] if isinstance(node, ast.AnnAssign) else node.targets
        )
        if isinstance(target, ast.Name)
    }
    keys: set[str] = set()
    platforms = (
        "number",
        "select",
        "sensor",
        "switch",
        "button",
        "binary_sensor",
        "time",
        "calendar",
    )
    for platform in platforms:
        if platform not in modules:
            continue
        for call in ast.walk(modules[platform]):
            if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Name)):
                continue
            if not call.func.id.endswith("Description"):
                continue
            for keyword in call.keywords:
                if keyword.arg != "translation_key":
                    continue
                value = keyword.value
                if isinstance(value, ast.Constant):
                    key = value.value
                elif isinstance(value, ast.Name) and value.id in consts:
                    key = consts[value.id]
                else:  # an f-string: the test below checks those by value
                    continue
                keys.add(f"entity.{platform}.{key}.name")
    # Errors: a place rule's show in the flows and as entity exceptions; the
    # options flow (with the meter and smart-charging checks it calls) has its
    # own section; the config flow's "which place?" step is the config flow's.
    assert any(
        isinstance(node, ast.ClassDef) and node.name == "PlaceOptionsFlow"
        for node in ast.walk(modules["flows/options"])
    )
    for key in _error_keys(modules["logic/place"]):
        keys |= {f"config.error.{key}", f"exceptions.{key}.message"}
    for name in ("flows/options", "flows/meter", "flows/plan"):
        keys |= {f"options.error.{key}" for key in _error_keys(modules[name])}
    for name in ("config_flow", "flows/place_choice"):
        keys |= {f"config.error.{key}" for key in _error_keys(modules[name])}
    # Charger errors show when adding one by hand; charger_errors' also in a
    # discovery.
    charger_flow = modules["flows/charger"]
    for key in _error_keys(charger_flow):
        keys.add(f"config_subentries.charger.error.{key}")
    shared = next(
        node
        for node in ast.walk(charger_flow)
        if isinstance(node, ast.FunctionDef) and node.name == "charger_errors"
    )
    keys |= {f"config.error.{key}" for key in _error_keys(shared)}
    for name in ("config_flow", "flows/charger"):
        section = "config_subentries.charger" if name == "flows/charger" else "config"
        keys |= {
            f"{section}.abort.{reason}"
            for reason in _keyword_strings(modules[name], "reason")
        }
    for module in modules.values():
        keys |= {f"exceptions.{key}.message" for key in _exception_keys(module)}
    return keys


def _exception_keys(module: ast.AST) -> set[str]:
    """Literal translation keys of exceptions raised (…Error, …NotReady)."""
    return {
        keyword.value.value
        for call in ast.walk(module)
        if isinstance(call, ast.Call)
        and isinstance(call.func, ast.Name)
        and call.func.id.endswith(("Error", "NotReady", "Failed"))
        for keyword in call.keywords
        if keyword.arg == "translation_key"
        and isinstance(keyword.value, ast.Constant)
        and isinstance(keyword.value.value, str)
    }


def _error_keys(node: ast.AST) -> set[str]:
    """String constants assigned to errors[...] below a node."""
    return {
        child.value.value
        for child in ast.walk(node)
        if isinstance(child, ast.Assign)
        and isinstance(child.targets[0], ast.Subscript)
        and isinstance(child.targets[0].value, ast.Name)
        and child.targets[0].value.id == "errors"
        and isinstance(child.value, ast.Constant)
    }


def test_keys_used_in_code_exist_in_en() -> None:
    """Every key the code uses is in en.json."""
    used = _used_keys()
    # The scan finds what it should.
    assert {
        "entity.number.main_fuse.name",
        "options.error.invalid_vat",
        "config.error.name_exists",
        "exceptions.fuse_out_of_range.message",
    } <= used
    missing = {key for key in used if key not in EN}
    # Abort reasons HA itself provides.
    missing -= {"config.abort.reconfigure_successful"}
    assert not missing


def test_selector_options_are_translated() -> None:
    """Every option of every translated select has a label."""
    expected = {
        "country": set(PRICE_AREAS),
        "price_area": {area for areas in PRICE_AREAS.values() for area in areas},
        "cost_basis": {basis.value for basis in CostBasis},
        "grid_type": {grid.value for grid in GridType},
        "phases": {"1", "3"},
    }
    for selector, options in expected.items():
        labels = {
            key.rsplit(".", 1)[1]
            for key in EN
            if key.startswith(f"selector.{selector}.options.")
        }
        assert labels == options, selector
    states = {
        key.rsplit(".", 1)[1]
        for key in EN
        if key.startswith("entity.select.cost_basis.state.")
    }
    assert states == expected["cost_basis"]


def test_every_flow_field_has_a_description() -> None:
    """Every field a step labels is also described."""
    for key in EN:
        match = re.fullmatch(
            r"(config|options|config_subentries\.\w+)\.step\.(\w+)\.data\.(\w+)", key
        )
        if match:
            section, step, field = match.groups()
            assert f"{section}.step.{step}.data_description.{field}" in EN, key


def test_services_are_translated() -> None:
    """Each action in services.yaml has a name, description and field labels."""
    path = PACKAGE / "services.yaml"
    services = yaml.safe_load(path.read_text(encoding="utf-8")) if path.exists() else {}
    for service, spec in (services or {}).items():
        assert f"services.{service}.name" in EN
        assert f"services.{service}.description" in EN
        for field in (spec or {}).get("fields", {}):
            assert f"services.{service}.fields.{field}.name" in EN
            assert f"services.{service}.fields.{field}.description" in EN
