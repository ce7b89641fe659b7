"""The layers of docs/architecture.md hold in the code: who may import whom."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).parents[1] / "custom_components" / "homecharge"
NAME = "custom_components.homecharge"

# What each folder may import from the package; anything else is a layering
# error. The root (platforms, flows' entry point, services, entity) may import all.
ALLOWED: dict[str, set[str]] = {
    # Pure decisions: nothing but other pure decisions.
    "logic": {"logic"},
    # The OCPP edge: pure logic and constants, never the HA side.
    "central": {"central", "logic", "const"},
    "feeds": {"feeds", "logic", "const"},
    "runtime": {"runtime", "central", "feeds", "logic", "const"},
    "flows": {"flows", "central", "logic", "const", "runtime"},
}


def _module(path: Path) -> tuple[str, bool]:
    """The module's dotted name inside the package, and whether it is one."""
    parts = list(path.relative_to(PACKAGE).with_suffix("").parts)
    is_package = parts[-1] == "__init__"
    if is_package:
        parts = parts[:-1]
    return ".".join(parts), is_package


def _imports(path: Path, source: str) -> list[tuple[int, str]]:
    """Every import of the file, as (line, dotted name relative to the root).

    Absolute imports keep their full name; relative ones are resolved
    against the package (``""`` is the package itself).
    """
    module, is_package = _module(path)
    here = module.split(".") if module else []
    if not is_package:
        here = here[:-1]
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, f"/{alias.name}") for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0:
                found.append((node.lineno, f"/{node.module}"))
                continue
            base = here[: len(here) - (node.level - 1)]
            target = ".".join([*base, *([node.module] if node.module else [])])
            if node.module is None:
                # "from . import x": x may be a module of that package.
                folder = PACKAGE.joinpath(*base)
                found.extend(
                    (node.lineno, ".".join(filter(None, [target, alias.name])))
                    if (folder / f"{alias.name}.py").exists()
                    or (folder / alias.name).is_dir()
                    else (node.lineno, target)
                    for alias in node.names
                )
            else:
                found.append((node.lineno, target))
    return found


def _layer(name: str) -> str:
    return name.split(".")[0]


SOURCES = sorted(PACKAGE.rglob("*.py"))


def test_the_layers_exist() -> None:
    """The folders the rule speaks of are there, with modules in them."""
    for folder in ALLOWED:
        assert any(path.parent.name == folder for path in SOURCES), folder


@pytest.mark.parametrize(
    "path",
    [p for p in SOURCES if _module(p)[0].split(".")[0] in ALLOWED],
    ids=lambda p: str(p.relative_to(PACKAGE)),
)
def test_imports_follow_the_layers(path: Path) -> None:
    """A folder imports only the layers below it; logic/ imports no HA at all."""
    wrong = _violations(path, path.read_text(encoding="utf-8"))
    assert not wrong, f"{path.relative_to(PACKAGE)} imports across layers: {wrong}"


def _violations(path: Path, source: str) -> list[str]:
    layer = _layer(_module(path)[0])
    wrong = []
    for line, name in _imports(path, source):
        if name.startswith("/"):
            top = name[1:].split(".")[0]
            if top == "homeassistant" and layer == "logic":
                wrong.append(f"{line}: {name[1:]} (Home Assistant in pure logic)")
            if name[1:].startswith(NAME):
                wrong.append(f"{line}: {name[1:]} (use a relative import)")
            continue
        target = _layer(name) if name else ""
        if target not in ALLOWED[layer]:
            wrong.append(f"{line}: .{name or ' (the package root)'}")
    return wrong


def test_the_rule_catches_a_violation() -> None:
    """The checker itself: each kind of crossing is reported."""
    logic = PACKAGE / "logic" / "probe.py"
    central = PACKAGE / "central" / "probe.py"
    assert _violations(logic, "import math\nfrom .place import GridType\n") == []
    assert _violations(logic, "from homeassistant.core import HomeAssistant\n") == [
        "1: homeassistant.core (Home Assistant in pure logic)"
    ]
    assert _violations(logic, "from ..runtime.charger import X\n") == [
        "1: .runtime.charger"
    ]
    assert _violations(logic, "from .. import HomeChargeConfigEntry\n") == [
        "1: . (the package root)"
    ]
    assert _violations(
        central, "from ..sensor import X\nfrom ..logic import grid\n"
    ) == ["1: .sensor"]
    assert _violations(
        central, "from custom_components.homecharge.logic import grid\n"
    ) == ["1: custom_components.homecharge.logic (use a relative import)"]
