"""Layering and public-surface rules of shared/design/architecture.md, checked on the source."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import patchwire
import patchwire.errors

SRC = Path(__file__).resolve().parents[1] / "src" / "patchwire"
PURE_LAYERS = ("protocol", "model")
BANNED_IN_PURE = {"asyncio", "zmq", "socket", "selectors", "threading", "time", "subprocess"}
# Who may import whom inside patchwire (lower layers only).
ALLOWED = {
    "errors": set(),
    "protocol": {"errors", "model", "protocol"},
    "model": {"errors", "model"},
    "runtime": {"errors", "model", "protocol", "runtime", "_version"},
    "cli": {"errors", "model", "protocol", "runtime", "cli", "_version", "agent", "sync"},
}


def _imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.append(node.module)
    return names


def _modules(layer: str) -> list[Path]:
    base = SRC / layer
    if base.is_dir():
        return sorted(base.rglob("*.py"))
    module = SRC / f"{layer}.py"
    return [module] if module.exists() else []


@pytest.mark.parametrize("layer", PURE_LAYERS)
def test_pure_layers_do_no_io(layer: str) -> None:
    offenders = [
        f"{path.relative_to(SRC)} imports {name}"
        for path in _modules(layer)
        for name in _imports(path)
        if name.split(".")[0] in BANNED_IN_PURE
    ]
    assert offenders == []


@pytest.mark.parametrize("layer", sorted(ALLOWED))
def test_layers_import_only_downwards(layer: str) -> None:
    offenders = []
    for path in _modules(layer):
        for name in _imports(path):
            parts = name.split(".")
            if parts[0] == "patchwire" and len(parts) > 1 and parts[1] not in ALLOWED[layer]:
                offenders.append(f"{path.relative_to(SRC)} imports {name}")
    assert offenders == []


def test_public_names_are_exported_once() -> None:
    assert len(patchwire.__all__) == len(set(patchwire.__all__))
    for name in patchwire.__all__:
        assert hasattr(patchwire, name), name


def test_every_public_exception_is_exported() -> None:
    assert set(patchwire.errors.__all__) <= set(patchwire.__all__)
    for name in patchwire.errors.__all__:
        assert issubclass(getattr(patchwire, name), patchwire.PatchwireError)


def test_timeout_error_is_also_the_builtin() -> None:
    assert issubclass(patchwire.TimeoutError, TimeoutError)
    assert issubclass(patchwire.NetworkError, OSError)
