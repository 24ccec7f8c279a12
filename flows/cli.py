"""The `thidua` command line (typer + rich). Commands live in the cli_* modules by what they do;
importing them registers them, in the order `thidua --help` lists them."""
# isort: skip_file

import sys
from pathlib import Path

from flows.prefect_env import start_before_imports

if Path(sys.argv[0]).name in ("thidua", "cli.py"):  # the command line, not a test importing `app`
    start_before_imports(sys.argv[1:])

from flows import cli_inspect  # noqa: F401  (check, status, calendar, template)
from flows import cli_run  # noqa: F401  (run, replay, serve)
from flows import cli_documents  # noqa: F401  (report, tally)
from flows import cli_plan  # noqa: F401  (plan new)
from flows import cli_intake  # noqa: F401  (intake)
from flows import cli_publish  # noqa: F401  (publish)
from flows.cli_base import app

__all__ = ["app"]

if __name__ == "__main__":
    app()
