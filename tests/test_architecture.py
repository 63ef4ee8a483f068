"""The house keeps its shape: the flow of folders, no import cycle, no oversized module.

Imports are read statically (``ast``): imports inside functions and under ``TYPE_CHECKING``
count like any other, so a cycle cannot be hidden by importing late.
"""

from __future__ import annotations

import ast
from pathlib import Path

import networkx as nx

PACKAGE = Path(__file__).resolve().parents[1] / "gitops_analysis"

# The flow, upstream first: a folder may import only folders before it (and itself).
FLOW = ["core", "load", "render", "live", "analysis", "rules", "fix", "diff", "views", "cli"]
MAX_LINES = 500


def _module_name(path: Path) -> str:
    rel = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    here = _module_name(path).split(".")
    package = here if path.name == "__init__.py" else here[:-1]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            found.add(mod)
            # ``from pkg import module`` imports the module too
            found.update(f"{mod}.{a.name}" for a in node.names)
    return {m for m in found if m == "gitops_analysis" or m.startswith("gitops_analysis.")}


def _graph() -> nx.DiGraph:
    modules = {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}
    g = nx.DiGraph()
    g.add_nodes_from(modules)
    for name, path in modules.items():
        for target in sorted(_imports(path)):
            if target in modules and target != name:
                g.add_edge(name, target)
    return g


def _folder(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in FLOW else None


def test_no_import_cycle():
    cycles = sorted(sorted(c) for c in nx.simple_cycles(_graph()))
    assert cycles == []


def test_folders_import_only_upstream():
    wrong = []
    for a, b in sorted(_graph().edges):
        fa, fb = _folder(a), _folder(b)
        if fa and fb and FLOW.index(fb) > FLOW.index(fa):
            wrong.append(f"{a} -> {b}")
    assert wrong == []


def test_every_module_sits_in_a_folder_of_the_flow():
    loose = sorted(_module_name(p) for p in PACKAGE.glob("*.py")
                   if p.name not in ("__init__.py",))
    assert loose == []


def test_no_module_over_the_size_limit():
    big = {_module_name(p): n for p in sorted(PACKAGE.rglob("*.py"))
           if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert big == {}


def test_the_checker_sees_late_imports(tmp_path):
    # the walk finds an import inside a function and one under TYPE_CHECKING
    src = tmp_path / "gitops_analysis" / "core" / "x.py"
    src.parent.mkdir(parents=True)
    src.write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
                   "    from gitops_analysis.cli import main\n"
                   "def f():\n    from ..views import plots\n")
    global PACKAGE
    saved, PACKAGE = PACKAGE, tmp_path / "gitops_analysis"
    try:
        assert _imports(src) >= {"gitops_analysis.cli.main", "gitops_analysis.views.plots"}
    finally:
        PACKAGE = saved
