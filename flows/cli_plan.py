"""`thidua plan new`: next year's plan from an existing one."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from flows.cli_base import app, fail, out, plan_problems, settings, warn
from tasks.dates import WEEKDAYS, day_off_reason, vn_date_weekday
from tasks.plan import PlanError
from tasks.plan_checks import placeholders
from tasks.plan_new import PlanNewError, roll_forward
from tasks.schedule import describe, obligation_deadline, triggers

plan_app = typer.Typer(help="Lập kế hoạch năm mới từ kế hoạch có sẵn.", no_args_is_help=True)
app.add_typer(plan_app, name="plan")


@plan_app.command("new")
def new(
    year: Annotated[int, typer.Option(help="Năm của kế hoạch mới, ví dụ 2027.")],
    source: Annotated[
        Path | None, typer.Option("--from", help="Kế hoạch gốc (mặc định: THIDUA_PLAN).")
    ] = None,
    out_file: Annotated[
        Path | None,
        typer.Option("--out", help="Tệp kế hoạch mới (mặc định: plan-<năm>.yaml cạnh kế hoạch gốc)."),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Ghi đè tệp đã có.")] = False,
):
    """Kế hoạch năm mới: giữ ngày và tháng của mọi hạn, giữ các quy tắc; xoá số, ngày ban hành."""
    source = source or settings().plan
    target = out_file or source.parent / f"plan-{year}.yaml"
    if target.exists() and not force:
        raise fail(f"{target} đã có; chọn --out khác hoặc thêm --force để ghi đè.")
    try:
        rollover = roll_forward(source, year)
    except PlanError as exc:
        plan_problems(exc, "Lỗi kế hoạch gốc")
        raise typer.Exit(1) from None
    except PlanNewError as exc:
        raise fail(str(exc)) from None
    if not target.parent.is_dir():
        raise fail(f"--out: thư mục {target.parent} không có.")
    target.write_text(rollover.text, encoding="utf-8")
    plan = rollover.plan
    out.print(f"[green]✓[/] Đã ghi {target}: kế hoạch năm {year} ({plan.id}).", highlight=False)
    for line in placeholders(plan):
        warn(f"{target}: cần điền {line}")
    deadlines: list[tuple[str, dt.date | None]] = [(m.name, m.deadline) for m in plan.milestones]
    deadlines += [(o.name, obligation_deadline(plan, o)) for o in plan.area_obligations]
    for name, day in deadlines:
        reason = day_off_reason(plan, day) if day else None
        if day and reason:
            why = "" if reason in WEEKDAYS else f" ({reason})"
            warn(f"hạn {name}: {vn_date_weekday(day)} rơi vào ngày nghỉ{why}; xem lại hạn trong {target}")
    table = Table(title=f"Lịch việc năm {year}: các đợt nhắc vào ngày làm việc")
    for col in ("Ngày", "Việc"):
        table.add_column(col, overflow="fold")
    for t in triggers(plan):
        when = f"{WEEKDAYS[t.at.weekday()]} {t.at:%d/%m/%Y %H:%M}"
        if t.shifted:
            when += f" (dời từ {t.nominal_day:%d/%m}: {day_off_reason(plan, t.nominal_day)})"
        table.add_row(when, describe(plan, t))
    out.print(table)
    out.print(f"Tiếp theo: điền các mục trên, rồi `THIDUA_PLAN={target} thidua check`.", highlight=False)
