"""Imports point down the layers (docs/architecture.md): a module may import its own package and
anything listed below it, never above. Function-level imports count too; a cycle hidden in a
function is still a cycle."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

BOT = Path(__file__).resolve().parents[2] / "bot"

# Top to bottom. Entries on one line are one layer and may not import each other.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("bot.__main__",),
    ("bot.emulator",),
    ("bot.app",),
    ("bot.handlers",),
    ("bot.context",),
    ("bot.ops", "bot.services"),
    ("bot.views",),
    ("bot.reports",),
    ("bot.content",),
    ("bot.storage", "bot.session", "bot.config"),
    ("bot.delivery",),
    ("bot.domain",),
    ("bot.botapi_rules", "bot.clock", "bot.jsonlog", "bot.metrics", "bot"),
)
RANK = {unit: rank for rank, layer in enumerate(LAYERS) for unit in layer}


def _unit(module: str) -> str:
    """The layer unit a module belongs to: ``bot.services.reminders`` → ``bot.services``."""
    parts = module.split(".")
    return ".".join(parts[:2]) if len(parts) > 1 else parts[0]


def _module(path: Path) -> str:
    parts = path.relative_to(BOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {name for name in found if name == "bot" or name.startswith("bot.")}


def _upward() -> list[str]:
    problems = []
    for path in sorted(BOT.rglob("*.py")):
        source = _unit(_module(path))
        for target in sorted(_unit(name) for name in _imports(path)):
            if target == source or target == "bot":
                continue
            if RANK[target] <= RANK[source]:
                problems.append(f"{path.relative_to(BOT.parent)} imports {target}")
    return problems


def test_every_package_has_a_layer() -> None:
    units = {_unit(_module(path)) for path in BOT.rglob("*.py")}
    assert units <= set(RANK), sorted(units - set(RANK))


def test_no_import_points_up_or_sideways() -> None:
    assert _upward() == []


def test_the_check_sees_an_upward_import(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The check itself can fail: a domain module that imports a service is reported.
    fake = tmp_path / "bot"
    (fake / "domain").mkdir(parents=True)
    (fake / "domain" / "rule.py").write_text("def f():\n    from bot.services.plans import X\n")
    monkeypatch.setattr(f"{__name__}.BOT", fake)
    assert _upward() == ["bot/domain/rule.py imports bot.services"]
