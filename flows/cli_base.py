"""The `thidua` command line: the Typer app and what every command shares."""

from __future__ import annotations

import datetime as dt
import errno
import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.text import Text
from typer.models import CommandFunctionType

from tasks.errors import ThiduaError, UsageError
from tasks.inputs import Inputs, load_inputs
from tasks.plan import Plan, error_words, load_plan
from tasks.resources import Resources
from tasks.round import parse_instant
from tasks.settings import Settings, private_data_dir


class Typer(typer.Typer):
    """Every command's foreseen failure (a ThiduaError, raised anywhere below it) is rendered here
    and nowhere else: its lines, then its exit code; a bug keeps its traceback."""

    def command(  # the same options as typer.Typer.command, passed through unchanged
        self, *args: Any, **kwargs: Any
    ) -> Callable[[CommandFunctionType], CommandFunctionType]:
        register = super().command(*args, **kwargs)

        def decorator(fn: CommandFunctionType) -> CommandFunctionType:
            @functools.wraps(fn)
            def run(*a: Any, **k: Any) -> Any:
                try:
                    return fn(*a, **k)
                except ThiduaError as exc:
                    raise refuse(exc) from None

            register(run)
            return fn

        return decorator


def refuse(exc: ThiduaError, label: str | None = None) -> typer.Exit:
    for line in exc.lines():
        err.print(Text.assemble((label or exc.label, "bold red"), line))
    return typer.Exit(exc.exit_code)


app = Typer(
    help="thidua: chạy kế hoạch năm của một khu vực, cụm, khối thi đua (nhắc hạn, tổng hợp, báo cáo).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
out = Console()
err = Console(stderr=True)

STATE_STYLE = {"on_time": "green", "late": "yellow", "incomplete": "red", "missing": "bold red"}


def fail(message: str, code: int = 1) -> typer.Exit:
    err.print(Text.assemble(("Lỗi: ", "bold red"), message))
    return typer.Exit(code)


def warn(message: str) -> None:
    out.print(Text.assemble(("Cảnh báo ", "yellow"), message))


def settings() -> Settings:
    try:
        s = Settings()
        private_data_dir(s)
        return s
    except ValidationError as exc:
        problems = "; ".join(
            (f"THIDUA_{'_'.join(map(str, e['loc'])).upper()}: " if e["loc"] else "") + error_words(e)
            for e in exc.errors()
        )
        raise UsageError(f"cấu hình không hợp lệ ({problems}). Sửa biến môi trường hoặc tệp .env.") from None


def plan_or_exit(s: Settings) -> Plan:
    return load_plan(s.plan)


def inputs_or_exit(resources: Resources, plan: Plan | None = None) -> Inputs:
    """Plan and source, read once for the whole command with the command's resources (flows it
    runs reuse both: `preloaded`)."""
    return load_inputs(resources, plan or load_plan(resources.settings.plan))


_OS_WORDS = {
    errno.ENOENT: "không có đường dẫn này",
    errno.EACCES: "không có quyền ghi",
    errno.EPERM: "không có quyền ghi",
    errno.EROFS: "ổ đĩa chỉ cho đọc",
    errno.ENOSPC: "hết chỗ trên đĩa",
}


def parent_or_exit(option: str, path: Path) -> None:
    """An output a person named must go into a folder that exists."""
    if not path.parent.is_dir():
        raise fail(f"{option}: thư mục {path.parent} không có; tạo thư mục trước hoặc chọn chỗ khác.")


def write_or_exit(option: str, path: Path, write: Callable[[Path], object], example: str) -> None:
    """Write an output file a person named: a missing folder, a folder instead of a file or a
    refusal of the system is one line naming the option, the path and what to do."""
    if path.is_dir():
        raise fail(f"{option}: {path} là một thư mục; ghi cả tên tệp, ví dụ {path / example}")
    parent_or_exit(option, path)
    try:
        write(path)
    except OSError as exc:
        why = _OS_WORDS.get(exc.errno or 0, f"lỗi hệ thống {exc.errno}")
        raise fail(f"{option}: không ghi được {path} ({why}); chọn chỗ ghi khác.") from None


def instant_or_exit(text: str | None, plan: Plan) -> dt.datetime:
    try:
        return parse_instant(text, plan)
    except ValueError as exc:
        raise fail(f"--at: {exc}") from None


def _prefect(s: Settings, *, runs: bool = False, attach: bool = False) -> bool:
    """Prefect's settings for this process. `runs`: the command runs flows here, and needs a
    server for them: without one (PREFECT_API_URL), a temporary one starts now while the
    command goes on (`on_temporary_server` runs the flows on it). `attach`: run on the
    server of a `thidua serve` running on this machine instead, so the runs show in its UI and
    no temporary server is started. Returns whether the runs go to a lasting server
    (configured or served), where deployments may file them."""
    import os

    from flows.prefect_env import configure, start_temporary_server

    if attach and not os.environ.get("PREFECT_API_URL"):
        from flows.local_server import served_api

        if api_url := served_api(s.data_dir):
            os.environ["PREFECT_API_URL"] = api_url
    lasting = bool(os.environ.get("PREFECT_API_URL"))
    configure(s.data_dir)
    if runs:
        start_temporary_server()
    return lasting


def intake_notice(inputs: Inputs) -> None:
    """One or two lines after status and check: mailboxes not read, messages not recognised."""
    intake = inputs.intake
    if intake is None:
        return
    for reason in intake.skipped:
        warn(f"bỏ qua hộp thư (chỉ dùng bảng tính): {reason}")
    if intake.unrecognised:
        warn(f"{len(intake.unrecognised)} thư chưa nhận ra, chưa được tính: xem `thidua intake`.")
