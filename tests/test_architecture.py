"""The import rules of ARCHITECTURE.md, checked on every Python file of the kit."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
VAEKIT_LEAVES = {"vaekit.registry", "vaekit.regions", "vaekit.paths", "vaekit.codefolder", "vaekit.io",
                 "vaekit.gradient_variance"}
LIBRARIES = {"numpy", "autograd", "torch", "__future__"}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path) -> set[str]:
    """Absolute names of every module ``path`` imports (relative imports resolved)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = _module_name(path).split(".")
    if path.name != "__init__.py":
        package = package[:-1]
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            module = ".".join([*base, *([node.module] if node.module else [])])
            found.add(module)
            found |= {f"{module}.{alias.name}" for alias in node.names}
    return found


def _files(*folders: str) -> list[Path]:
    return sorted(p for folder in folders for p in (ROOT / folder).rglob("*.py") if "__pycache__" not in p.parts)


def _first_party(name: str) -> bool:
    return name.split(".")[0] in {"grader", "vaekit", "solutions", "exercises", "tests", "benchmarks", "scripts"}


def _is_module(name: str) -> bool:
    """Whether ``name`` is a module of the kit (``from pkg import name`` may name a function instead)."""
    path = ROOT / Path(*name.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


@pytest.mark.parametrize("path", _files("grader/worker"), ids=lambda p: p.name)
def test_the_worker_imports_only_libraries_and_itself(path):
    bad = {n for n in imports_of(path) if _first_party(n) and not n.startswith("grader.worker")}
    assert not bad, f"{path.relative_to(ROOT)} imports {sorted(bad)}: the worker sees only grader/worker/ in the sandbox"


@pytest.mark.parametrize("path", [p for p in _files("grader") if "worker" not in p.relative_to(ROOT).parts],
                         ids=lambda p: p.relative_to(ROOT).as_posix())
def test_the_judge_imports_only_vaekits_leaf_modules(path):
    bad = {n for n in imports_of(path) if n.startswith("vaekit") and _is_module(n)
           and not any(n == leaf or n.startswith(leaf + ".") for leaf in VAEKIT_LEAVES) and n != "vaekit"}
    assert not bad, f"{path.relative_to(ROOT)} imports {sorted(bad)}; the judge may import only {sorted(VAEKIT_LEAVES)}"
    assert not {n for n in imports_of(path) if n.startswith(("solutions", "exercises", "tests"))}


@pytest.mark.parametrize("path", [p for p in _files("vaekit") if p.relative_to(ROOT).parts[1] not in ("grading", "commands")],
                         ids=lambda p: p.relative_to(ROOT).as_posix())
def test_support_code_never_imports_the_grader(path):
    bad = {n for n in imports_of(path) if n.split(".")[0] in ("grader", "tests", "benchmarks", "scripts")}
    assert not bad, f"{path.relative_to(ROOT)} imports {sorted(bad)}"


@pytest.mark.parametrize("leaf", sorted(VAEKIT_LEAVES))
def test_vaekits_leaf_modules_import_no_other_part_of_the_kit(leaf):
    path = ROOT / Path(*leaf.split(".")).with_suffix(".py")
    bad = {n for n in imports_of(path) if _first_party(n) and _is_module(n)
           and not any(n == x or n.startswith(x + ".") for x in VAEKIT_LEAVES) and n != "vaekit"}
    assert not bad, f"{leaf} imports {sorted(bad)}"


def test_the_checker_resolves_relative_imports():
    assert "grader.worker.wire" in imports_of(ROOT / "grader" / "worker" / "serve.py")
    assert "grader.scoring" in imports_of(ROOT / "grader" / "conftest.py")
