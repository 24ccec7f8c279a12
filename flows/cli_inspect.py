"""Commands that look: check, status, calendar, template."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from flows.cli_base import (
    STATE_STYLE,
    app,
    err,
    fail,
    inputs_or_exit,
    instant_or_exit,
    intake_notice,
    out,
    plan_or_exit,
    settings,
    warn,
    write_or_exit,
)
from tasks.completeness import STATE_LABELS, State, state_counts, status_records
from tasks.contract import COLUMNS, REQUIRED_TABS, TABS, SourceError, missing_columns
from tasks.dates import WEEKDAYS, by_day, deadline_words
from tasks.inputs import assess, load_inputs
from tasks.plan import PlanLookupError
from tasks.plan_checks import plan_warnings
from tasks.resources import Resources
from tasks.schedule import describe, triggers
from tasks.teams import DAILY, team_table, teams, teams_by_milestone


@app.command()
def check(strict: Annotated[bool, typer.Option(help="Coi dòng lỗi trong bảng tính là lỗi.")] = False) -> None:
    """Kiểm tra kế hoạch và bảng tính; mã thoát 1 nếu có lỗi phải sửa."""
    s = settings()
    plan = plan_or_exit(s)
    out.print(
        f"[green]✓[/] Kế hoạch {s.plan}: {plan.label}, {len(plan.units)} đơn vị, "
        f"{len(plan.milestones)} mốc, {len(plan.active_contacts)} đầu mối đang hoạt động"
    )
    for w in plan_warnings(plan):
        warn(f"{s.plan}: {w}")
    inputs = inputs_or_exit(Resources(s), plan)
    data = inputs.data
    out.print(
        f"[green]✓[/] Nguồn {inputs.source} đọc được: {len(data.submissions)} hồ sơ, "
        f"{len(data.registrations)} đăng ký, {len(data.scores)} bảng điểm, "
        f"{len(data.indicators)} số liệu"
    )
    for tab in TABS:
        if tab in inputs.headers:
            header = " · ".join(h for h in inputs.headers[tab] if h.strip()) or "(trống)"
            out.print(Text(f"  trang tính '{tab}': {header}"))
            absent = missing_columns(inputs.plan, tab, inputs.headers[tab])
            if absent:
                warn(f"trang tính '{tab}' thiếu cột: " + " · ".join(absent))
        else:
            needed = "bắt buộc" if tab in REQUIRED_TABS else "tuỳ chọn, bỏ qua"
            warn(f"không có trang tính '{tab}' ({needed}); cột cần có: " + " · ".join(COLUMNS[tab]))
    for f in data.findings:
        what = "bỏ qua dòng" if f.dropped else "dòng vẫn được tính"
        warn(f"trang tính '{f.tab}', dòng {f.row}: {f.reason} ({what}). Sửa trên bảng tính.")
    if inputs.intake and inputs.intake.mailboxes:
        found = inputs.intake
        out.print(
            f"[green]✓[/] Hộp thư {', '.join(found.mailboxes)} đọc được: {len(found.documents)} hồ sơ "
            f"nhận ra, {len(found.unrecognised)} thư chưa nhận ra",
            highlight=False,
        )
    intake_notice(inputs)
    if strict and data.findings:
        raise typer.Exit(1)


@app.command()
def calendar(
    as_json: Annotated[bool, typer.Option("--json", help="In JSON ra stdout.")] = False,
    ics: Annotated[str | None, typer.Option("--ics", help="Ghi tệp .ics các hạn để nhập vào lịch.")] = None,
) -> None:
    """Mọi việc theo lịch của năm kế hoạch, theo thứ tự thời gian."""
    s = settings()
    plan = plan_or_exit(s)
    all_teams = None
    if any(m.teams_owe for m in plan.milestones):
        try:  # the teams' own rounds come from the Kiểm tra tab
            all_teams = teams_by_milestone(plan, load_inputs(Resources(s), plan).data.inspections)
        except (SourceError, OSError) as exc:
            # on stderr: `--json` keeps stdout for the JSON
            err.print(
                Text.assemble(
                    ("Cảnh báo ", "yellow"),
                    f"không đọc được bảng tính ({exc}): lịch thiếu các đợt nhắc của đoàn kiểm tra.",
                )
            )
    schedule = [t for t in triggers(plan, all_teams) if t.stage != DAILY]
    team_of = {(m, team.slug): team for m, listed in (all_teams or {}).items() for team in listed}
    items = []
    for t in schedule:
        item = {
            "at": t.at.isoformat(),
            "milestone": t.target,  # the JSON contract keeps its key; it holds the target
            "action": t.action,
            "stage": t.stage,
            "nominal_day": t.nominal_day.isoformat(),
            "shifted": t.shifted,
            "description": describe(plan, t, all_teams),
        }
        team = team_of.get((t.target, t.stage.partition(".")[0])) if t.action == "teams" else None
        if team:
            item |= {"team": team.name, "unit": team.lead, "deadline": team.deadline.isoformat()}
        items.append(item)
    if ics:
        from tasks.ics import deadlines_ics

        data = deadlines_ics(plan)
        write_or_exit("--ics", Path(ics), lambda path: path.write_bytes(data), "han.ics")
        err.print(f"Đã ghi {ics}")
    if as_json:
        sys.stdout.write(json.dumps(items, ensure_ascii=False, indent=2) + "\n")
        return
    table = Table(title=f"Lịch việc năm {plan.year} ({plan.label})")
    for col in ("Thời điểm", "Mốc", "Đợt", "Việc"):
        table.add_column(col, overflow="fold")
    for t in schedule:
        when = f"{t.at:%d/%m/%Y %H:%M} ({WEEKDAYS[t.at.weekday()]})"
        if t.shifted:
            when += f"\n[dim]dời từ {t.nominal_day:%d/%m}[/]"
        table.add_row(when, t.target, t.stage, describe(plan, t, all_teams))
    out.print(table)


@app.command()
def template(
    out_file: Annotated[
        str | None, typer.Option("--out", help="Ghi một tệp .xlsx mẫu có đủ các tab.")
    ] = None,
) -> None:
    """In dòng tiêu đề của từng tab (hoặc ghi bảng tính mẫu) để lập bảng tính chung."""
    if out_file is None:
        for tab, columns in COLUMNS.items():
            out.print(Text(f"{tab}\t" + "\t".join(columns)))
        return
    from tasks.source import write_template

    write_or_exit("--out", Path(out_file), write_template, "bang-tinh.xlsx")
    out.print(
        f"Đã ghi {out_file}: tải lên Google Drive và mở bằng Google Sheets để dùng làm bảng tính chung."
    )


@app.command()
def status(
    milestone: Annotated[str | None, typer.Option(help="Mã mốc, ví dụ so-ket.")] = None,
    at: Annotated[str | None, typer.Option(help="Thời điểm ISO 8601; không múi giờ = giờ VN.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="In JSON ra stdout.")] = False,
) -> None:
    """Bảng tình trạng hồ sơ của từng đơn vị ở từng mốc, tại một thời điểm."""
    s = settings()
    inputs = inputs_or_exit(Resources(s))
    plan = inputs.plan
    wanted = None
    if milestone:
        try:
            wanted = [plan.milestone(milestone).id]
        except PlanLookupError as exc:
            raise fail(f"--milestone: {exc}") from None
        chosen = plan.milestone(wanted[0])
        if not (chosen.units_owe or chosen.teams_owe):
            raise fail(f"--milestone: mốc '{wanted[0]}' không do các đơn vị hay đoàn kiểm tra nộp hồ sơ")
    instant = instant_or_exit(at, plan)
    if wanted and plan.milestone(wanted[0]).teams_owe:  # a row per team, against its own deadline
        m = plan.milestone(wanted[0])
        table = team_table(plan, m, teams(plan, m, inputs.data.inspections), inputs.data.submissions, instant)
    else:
        table = assess(inputs, instant, wanted)
    if as_json:
        sys.stdout.write(json.dumps(status_records(table), ensure_ascii=False, indent=2) + "\n")
        return
    for mid, rows in table.groupby("milestone", sort=False):
        m = plan.milestone(mid)
        t = Table(title=f"{m.name} — {deadline_words(plan, m.deadline)} — tại {instant:%d/%m/%Y %H:%M}")
        for col in ("Mã", "Đơn vị", "Tình trạng", "Còn thiếu", "Vấn đề"):
            t.add_column(col, overflow="fold")
        for r in rows.itertuples():
            label = STATE_LABELS[State(r.state)] + (" · quá hạn" if r.overdue else "")
            t.add_row(
                r.unit,
                r.unit_name
                + (f" ({r.team}, hạn {by_day(plan)} {r.deadline:%d/%m})" if hasattr(r, "team") else ""),
                f"[{STATE_STYLE[r.state]}]{label}[/]",
                "; ".join(r.missing),
                "; ".join([*r.problems, *(f"nhận qua {v}" for v in r.via_mail)]),
            )
        out.print(t)
        counts = state_counts(rows)
        out.print("  " + " · ".join(f"{STATE_LABELS[x]}: {counts[x.value]}" for x in State))
    if inputs.data.findings:
        out.print(f"[yellow]{len(inputs.data.findings)} dòng bảng tính có vấn đề: xem `thidua check`.")
    intake_notice(inputs)
