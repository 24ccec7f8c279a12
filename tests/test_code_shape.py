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


# exceptions that never reach a person: each is caught where it is raised and told in words
INTERNAL_EXCEPTIONS = {
    "tasks.source.WorkbookTooLarge": "source.py turns it into a SourceError naming the file",
    "tasks.addresses.InvalidAddress": "the plan's validation turns it into a PlanError line",
}


def test_every_foreseen_failure_is_one_family():
    """15 exception classes in 12 modules had unrelated bases and the CLI mapped them one by
    one; now each is a ThiduaError of one kind, or listed above with where it is translated."""
    import importlib
    import inspect

    from tasks.errors import ThiduaError

    strays = []
    for package in ("tasks", "flows"):
        for path in sorted((REPO / package).glob("*.py")):
            module = importlib.import_module(f"{package}.{path.stem}")
            for name, cls in inspect.getmembers(module, inspect.isclass):
                if cls.__module__ != module.__name__ or name.startswith("_"):
                    continue
                qualified = f"{module.__name__}.{name}"
                if (
                    issubclass(cls, Exception)
                    and not issubclass(cls, ThiduaError)
                    and qualified not in INTERNAL_EXCEPTIONS
                ):
                    strays.append(qualified)
    assert strays == []


def test_the_cli_renders_a_foreseen_failure_in_words_and_lets_a_bug_show_its_traceback(monkeypatch):
    from typer.testing import CliRunner

    from flows.cli import app
    from tasks.ledger import LedgerError

    def broken_ledger(*args, **kwargs):
        raise LedgerError("Không mở được sổ gửi thư: kiểm tra THIDUA_LEDGER_URL.")

    monkeypatch.setattr("tasks.inputs.assess", broken_ledger)
    monkeypatch.setattr("flows.cli_inspect.assess", broken_ledger)
    said = CliRunner().invoke(app, ["status", "--at", "2021-06-18T08:00"])
    assert said.exit_code == 1 and said.output.startswith("Lỗi: Không mở được sổ gửi thư")
    assert "Traceback" not in said.output and said.exception.__class__ is SystemExit

    def bug(*args, **kwargs):
        raise ZeroDivisionError("a bug")

    monkeypatch.setattr("flows.cli_inspect.assess", bug)
    crashed = CliRunner().invoke(app, ["status", "--at", "2021-06-18T08:00"])
    assert isinstance(crashed.exception, ZeroDivisionError)  # a bug is not dressed up as a user error


def test_a_reminder_round_opens_its_ledger_once(monkeypatch, tmp_path):
    """The send ledger's engine was created three times in one reminder round (recovery, the
    units' letters, the digest), each with its own pool and DDL check; now once, at the run's edge."""
    from typer.testing import CliRunner

    import tasks.ledger
    from flows.cli import app

    made = []
    real = tasks.ledger.create_engine

    def counting(*args, **kwargs):
        made.append(str(args[0]))
        return real(*args, **kwargs)

    monkeypatch.setattr(tasks.ledger, "create_engine", counting)
    done = CliRunner().invoke(
        app, ["run", "--milestone", "so-ket", "--stage", "before-1", "--at", "2021-06-18T08:00"]
    )
    assert done.exit_code == 0, done.output
    assert (
        len(list((tmp_path / "var" / "outbox").rglob("*.eml"))) == 8 + 2
    )  # seven units, the digest, and two units' own notices
    assert len(made) == 1, made


def test_the_ledger_and_the_intake_store_share_the_runs_one_engine(tmp_path):
    """Both live in the ledger's database: one engine (one pool of connections, one set of
    PostgreSQL sessions) per run, not one each."""
    from tasks.resources import Resources
    from tasks.settings import Settings

    with Resources(Settings(data_dir=tmp_path / "var")) as resources:
        assert resources.intake_store.engine is resources.ledger.engine is resources.engine
