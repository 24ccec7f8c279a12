"""The shape the code keeps: no import circle between project modules, and tasks/ never
reaches into flows/ (flows wire tasks; tasks think)."""

from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).parents[1]


def project_imports() -> dict[str, set[str]]:
    """module -> the project modules it imports (anywhere in the file, functions included)."""
    graph: dict[str, set[str]] = {}
    for package in ("tasks", "flows"):
        for path in (REPO / package).glob("*.py"):
            module = f"{package}.{path.stem}"
            found = set()
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                names = []
                if isinstance(node, ast.ImportFrom) and node.module:
                    names = [node.module]
                elif isinstance(node, ast.Import):
                    names = [a.name for a in node.names]
                found |= {n for n in names if n.split(".")[0] in ("tasks", "flows") and n.count(".") == 1}
            graph[module] = found - {module}
    return graph


def test_no_import_circle_between_project_modules():
    graph = project_imports()
    cycles = []

    def visit(node: str, path: list[str]) -> None:
        for nxt in sorted(graph.get(node, ())):
            if nxt in path:
                cycles.append(" -> ".join([*path[path.index(nxt) :], nxt]))
            elif len(path) < 30:
                visit(nxt, [*path, nxt])

    for module in sorted(graph):
        visit(module, [module])
    assert cycles == []


def test_tasks_never_import_flows():
    graph = project_imports()
    assert {
        m: sorted(i for i in deps if i.startswith("flows."))
        for m, deps in graph.items()
        if m.startswith("tasks.")
    } == {m: [] for m in graph if m.startswith("tasks.")}
