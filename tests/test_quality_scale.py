"""quality_scale.yaml is complete, and the cheap rules it claims hold in the code."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import yaml

ROOT = Path(__file__).parents[1]
PACKAGE = ROOT / "custom_components" / "homecharge"
SCALE = yaml.safe_load((PACKAGE / "quality_scale.yaml").read_text(encoding="utf-8"))
RULES = SCALE["rules"]
PLATFORMS = {
    "binary_sensor",
    "button",
    "calendar",
    "number",
    "select",
    "sensor",
    "switch",
    "time",
}

# Every rule of HA's integration quality scale, bronze to platinum.
ALL_RULES = {
    "action-setup",
    "appropriate-polling",
    "brands",
    "common-modules",
    "config-flow-test-coverage",
    "config-flow",
    "dependency-transparency",
    "docs-actions",
    "docs-high-level-description",
    "docs-installation-instructions",
    "docs-removal-instructions",
    "entity-event-setup",
    "entity-unique-id",
    "has-entity-name",
    "runtime-data",
    "test-before-configure",
    "test-before-setup",
    "unique-config-entry",
    "action-exceptions",
    "config-entry-unloading",
    "docs-configuration-parameters",
    "docs-installation-parameters",
    "entity-unavailable",
    "integration-owner",
    "log-when-unavailable",
    "parallel-updates",
    "reauthentication-flow",
    "test-coverage",
    "devices",
    "diagnostics",
    "discovery-update-info",
    "discovery",
    "docs-data-update",
    "docs-examples",
    "docs-known-limitations",
    "docs-supported-devices",
    "docs-supported-functions",
    "docs-troubleshooting",
    "docs-use-cases",
    "dynamic-devices",
    "entity-category",
    "entity-device-class",
    "entity-disabled-by-default",
    "entity-translations",
    "exception-translations",
    "icon-translations",
    "reconfiguration-flow",
    "repair-issues",
    "stale-devices",
    "async-dependency",
    "inject-websession",
    "strict-typing",
}


def _status(rule: str) -> str:
    value = RULES[rule]
    return value if isinstance(value, str) else value["status"]


def _tree(module: str) -> ast.Module:
    return ast.parse((PACKAGE / f"{module}.py").read_text(encoding="utf-8"))


def _top_level_names(tree: ast.Module) -> set[str]:
    names = set()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names |= {t.id for t in node.targets if isinstance(t, ast.Name)}
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
        elif isinstance(node, ast.TypeAlias):
            names.add(node.name.id)
    return names


def test_every_rule_has_a_valid_status() -> None:
    """Each rule is done, todo or exempt; exempt and todo say why."""
    assert set(RULES) == ALL_RULES
    for rule, value in RULES.items():
        status = _status(rule)
        assert status in {"done", "todo", "exempt"}, rule
        if status in {"exempt", "todo"}:
            assert isinstance(value, dict), rule
            assert value.get("comment"), rule


def _platform_modules() -> list[str]:
    return sorted(p.stem for p in PACKAGE.glob("*.py") if p.stem in PLATFORMS)


def test_parallel_updates_in_every_platform() -> None:
    """parallel-updates: every platform module sets PARALLEL_UPDATES."""
    assert _status("parallel-updates") == "done"
    assert _platform_modules(), "no platform modules found"
    for module in _platform_modules():
        assert "PARALLEL_UPDATES" in _top_level_names(_tree(module)), module


def test_runtime_data_is_typed() -> None:
    """runtime-data: HomeChargeConfigEntry = ConfigEntry[...] and it is used."""
    assert _status("runtime-data") == "done"
    init = _tree("__init__")
    alias = next(
        node
        for node in init.body
        if isinstance(node, ast.TypeAlias) and node.name.id == "HomeChargeConfigEntry"
    )
    assert isinstance(alias.value, ast.Subscript)
    assert ast.unparse(alias.value.value) == "ConfigEntry"
    for module in [*_platform_modules(), "__init__", "diagnostics"]:
        for node in ast.walk(_tree(module)):
            if isinstance(node, ast.AsyncFunctionDef) and node.name in {
                "async_setup_entry",
                "async_unload_entry",
                "async_get_config_entry_diagnostics",
            }:
                annotations = {
                    ast.unparse(a.annotation) for a in node.args.args if a.annotation
                }
                assert "HomeChargeConfigEntry" in annotations, f"{module}.{node.name}"


def test_no_hass_data_domain() -> None:
    """Runtime state lives in entry.runtime_data, never hass.data[DOMAIN]."""
    for path in PACKAGE.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Subscript)
                and ast.unparse(node.value) == "hass.data"
            ):
                assert ast.unparse(node.slice) != "DOMAIN", path.name


def test_unload_diagnostics_reconfigure_present() -> None:
    """config-entry-unloading, diagnostics and reconfiguration-flow exist."""
    assert _status("config-entry-unloading") == "done"
    assert "async_unload_entry" in _top_level_names(_tree("__init__"))
    assert _status("diagnostics") == "done"
    assert "async_get_config_entry_diagnostics" in _top_level_names(
        _tree("diagnostics")
    )
    assert _status("reconfiguration-flow") == "done"
    flow = _tree("config_flow")
    methods = {n.name for n in ast.walk(flow) if isinstance(n, ast.AsyncFunctionDef)}
    assert "async_step_reconfigure" in methods


def test_entities_have_names_and_unique_ids() -> None:
    """has-entity-name and entity-unique-id: the base entity sets both."""
    source = (PACKAGE / "entity.py").read_text(encoding="utf-8")
    assert "_attr_has_entity_name = True" in source
    assert "self._attr_unique_id" in source


def test_icon_translations_cover_every_entity() -> None:
    """icon-translations: each translated entity has an icon."""
    icons = json.loads((PACKAGE / "icons.json").read_text(encoding="utf-8"))["entity"]
    strings = json.loads(
        (ROOT / "translations" / "en.json").read_text(encoding="utf-8")
    )
    for platform, entities in strings["entity"].items():
        for key in entities:
            assert key in icons.get(platform, {}), f"{platform}.{key}"
