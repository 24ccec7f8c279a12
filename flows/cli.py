"""The `thidua` command line: check, status, run, replay."""

from __future__ import annotations

import datetime as dt
import json
import sys
from collections import Counter
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.table import Table
from rich.text import Text

from tasks.calendar import WEEKDAYS, day_off_reason, triggers, triggers_on_day, vn_date_weekday
from tasks.completeness import STATE_LABELS, State
from tasks.normalise import COLUMNS, REQUIRED_TABS
from tasks.plan import Plan, PlanError, load_plan
from tasks.rounds import Inputs, assess, load_inputs, parse_instant, status_records
from tasks.settings import Settings
from tasks.source import TABS, SourceError

app = typer.Typer(
    help="thidua: chạy kế hoạch năm của Khu vực thi đua (nhắc hạn, tổng hợp, báo cáo).",
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
        return Settings()
    except ValidationError as exc:
        problems = "; ".join(
            f"THIDUA_{'_'.join(map(str, e['loc'])).upper()}: {e['msg']}" for e in exc.errors()
        )
        raise fail(f"cấu hình không hợp lệ ({problems}). Sửa biến môi trường hoặc tệp .env.") from None


def plan_or_exit(s: Settings) -> Plan:
    try:
        return load_plan(s.plan)
    except PlanError as exc:
        for problem in exc.problems:
            err.print(Text.assemble(("Lỗi kế hoạch ", "bold red"), f"{exc.path}: {problem}"))
        raise typer.Exit(1) from None


def inputs_or_exit(s: Settings) -> Inputs:
    plan_or_exit(s)
    try:
        return load_inputs(s)
    except SourceError as exc:
        raise fail(str(exc)) from None


def instant_or_exit(text: str | None, plan: Plan) -> dt.datetime:
    try:
        return parse_instant(text, plan)
    except ValueError as exc:
        raise fail(f"--at: {exc}") from None


def plan_warnings(plan: Plan) -> list[str]:
    """Things in a valid plan a coordinator should look at: deadlines on days off or outside
    the plan year, milestones with no date."""
    warnings = []
    dated = [(f"milestones[{m.id}].deadline", m.deadline) for m in plan.milestones]
    dated += [(f"area_obligations[{o.id}].deadline", o.deadline) for o in plan.area_obligations]
    for key, day in dated:
        if day is None:
            continue
        if day.year != plan.year:
            warnings.append(f"{key}: {day:%d/%m/%Y} nằm ngoài năm kế hoạch {plan.year} (gõ nhầm năm?)")
        reason = day_off_reason(plan, day)
        if reason:
            warnings.append(
                f"{key}: hạn {vn_date_weekday(day)} rơi vào ngày nghỉ ({reason}); hạn giữ nguyên, "
                "thư nhắc sẽ lưu ý đơn vị"
            )
    for m in plan.milestones:
        if m.units_owe and m.deadline is None:
            warnings.append(
                f"milestones[{m.id}].deadline: chưa có hạn, nên chưa có thư nhắc; điền ngày khi có "
                "hướng dẫn cụ thể"
            )
    return warnings


@app.command()
def check(strict: Annotated[bool, typer.Option(help="Coi dòng lỗi trong bảng tính là lỗi.")] = False):
    """Kiểm tra kế hoạch và bảng tính; mã thoát 1 nếu có lỗi phải sửa."""
    s = settings()
    plan = plan_or_exit(s)
    out.print(
        f"[green]✓[/] Kế hoạch {s.plan}: {plan.document_number}, {len(plan.units)} đơn vị, "
        f"{len(plan.milestones)} mốc, {len(plan.active_contacts)} đầu mối đang hoạt động"
    )
    for w in plan_warnings(plan):
        warn(f"{s.plan}: {w}")
    inputs = inputs_or_exit(s)
    data = inputs.data
    out.print(
        f"[green]✓[/] Nguồn {inputs.source} đọc được: {len(data.submissions)} hồ sơ, "
        f"{len(data.registrations)} đăng ký, {len(data.scores)} bảng điểm, "
        f"{len(data.indicators)} số liệu"
    )
    for tab in TABS:
        if tab in inputs.tabs:
            header = " · ".join(h for h in inputs.tabs[tab] if h.strip()) or "(trống)"
            out.print(Text(f"  tab '{tab}': {header}"))
        else:
            needed = "bắt buộc" if tab in REQUIRED_TABS else "tuỳ chọn, bỏ qua"
            warn(f"không có tab '{tab}' ({needed}); cột cần có: " + " · ".join(COLUMNS[tab]))
    for f in data.findings:
        what = "bỏ qua dòng" if f.dropped else "dòng vẫn được tính"
        warn(f"tab '{f.tab}', dòng {f.row}: {f.reason} ({what}). Sửa trên bảng tính.")
    if strict and data.findings:
        raise typer.Exit(1)


@app.command()
def calendar(
    as_json: Annotated[bool, typer.Option("--json", help="In JSON ra stdout.")] = False,
    ics: Annotated[str | None, typer.Option("--ics", help="Ghi tệp .ics các hạn để nhập vào lịch.")] = None,
):
    """Mọi việc theo lịch của năm kế hoạch, theo thứ tự thời gian."""
    s = settings()
    plan = plan_or_exit(s)
    items = [
        {
            "at": t.at.isoformat(),
            "milestone": t.milestone,
            "action": t.action,
            "stage": t.stage,
            "nominal_day": t.nominal_day.isoformat(),
            "shifted": t.shifted,
            "description": describe_trigger(plan, t),
        }
        for t in triggers(plan)
    ]
    if ics:
        from tasks.ics import deadlines_ics

        Path(ics).write_bytes(deadlines_ics(plan))
        err.print(f"Đã ghi {ics}")
    if as_json:
        sys.stdout.write(json.dumps(items, ensure_ascii=False, indent=2) + "\n")
        return
    table = Table(title=f"Lịch việc năm {plan.year} ({plan.document_number})")
    for col in ("Thời điểm", "Mốc", "Đợt", "Việc"):
        table.add_column(col, overflow="fold")
    for t, item in zip(triggers(plan), items, strict=True):
        when = f"{t.at:%d/%m/%Y %H:%M} ({WEEKDAYS[t.at.weekday()]})"
        if t.shifted:
            when += f"\n[dim]dời từ {t.nominal_day:%d/%m}[/]"
        table.add_row(when, t.milestone, t.stage, item["description"])
    out.print(table)


def describe_trigger(plan: Plan, t) -> str:
    if t.action == "report":
        report = next(r for r in plan.reports if r.kind == t.milestone)
        return f"Lập dự thảo {report.name} và gửi Trưởng, Phó trưởng Khu vực"
    if t.action == "obligation":
        ob = next(o for o in plan.area_obligations if o.id == t.milestone)
        return f"Nhắc Trưởng, Phó trưởng Khu vực: {ob.name}"
    m = plan.milestone(t.milestone)
    if t.action == "overdue":
        return (
            f"Thông báo quá hạn {m.name} cho đơn vị còn thiếu (đồng gửi Trưởng, Phó trưởng) và bản tổng hợp"
        )
    return f"Nhắc đơn vị còn thiếu hồ sơ {m.name} và gửi bản tổng hợp cho đầu mối"


@app.command()
def serve(
    port: Annotated[
        int, typer.Option(help="Cổng của máy chủ Prefect cục bộ (khi chưa có PREFECT_API_URL).")
    ] = 4200,
):
    """Chạy tự động theo lịch: mỗi mốc một deployment trên máy chủ Prefect."""
    import os

    s = settings()
    plan = plan_or_exit(s)
    _prefect(s)
    from flows.local_server import ServerError, local_prefect_server

    if os.environ.get("PREFECT_API_URL"):
        _serve(plan, os.environ["PREFECT_API_URL"])
        return
    try:
        with local_prefect_server(port, s.data_dir / "prefect-server.log") as api_url:
            os.environ["PREFECT_API_URL"] = api_url
            os.environ.setdefault("PREFECT_UI_URL", api_url.removesuffix("/api"))
            _serve(plan, api_url)
    except ServerError as exc:
        raise fail(str(exc)) from None


def _serve(plan: Plan, api_url: str) -> None:
    from flows.serve import deployments, serve_plan

    count = sum(len(d.schedules or []) for d in deployments(plan))
    out.print(
        f"Đang chạy theo lịch {plan.document_number}: {count} việc. Giao diện Prefect: "
        f"{api_url.removesuffix('/api')}  (Ctrl+C để dừng; lịch được giữ nguyên)"
    )
    serve_plan(plan)


@app.command()
def report(
    kind: Annotated[str, typer.Argument(help="midyear (sơ kết 6 tháng) hoặc yearend (tổng kết năm).")],
    at: Annotated[str | None, typer.Option(help="Tổng hợp đến thời điểm này (ISO 8601).")] = None,
    out_dir: Annotated[
        str | None, typer.Option("--out", help="Thư mục ghi báo cáo (mặc định var/reports).")
    ] = None,
    send: Annotated[bool, typer.Option(help="Gửi dự thảo cho Trưởng, Phó trưởng Khu vực.")] = False,
):
    """Lập dự thảo báo cáo sơ kết / tổng kết của Khu vực (DOCX + phụ lục XLSX)."""
    s = settings()
    plan = plan_or_exit(s)
    if kind not in {r.kind for r in plan.reports}:
        raise fail(
            f"loại báo cáo '{kind}' không có trong kế hoạch (có: {', '.join(r.kind for r in plan.reports)})"
        )
    inputs_or_exit(s)
    instant = instant_or_exit(at, plan)
    _prefect(s)
    from flows.report import area_report

    state = area_report(kind, at=instant.isoformat(), out_dir=out_dir, send=send, return_state=True)
    if not state.is_completed():
        raise fail(state.message or "lập báo cáo không thành công")
    result = state.result()
    out.print(f"Đã ghi {result['docx']} và {result['xlsx']}")


@app.command()
def tally(
    as_json: Annotated[bool, typer.Option("--json", help="In JSON ra stdout.")] = False,
    day: Annotated[str | None, typer.Option(help="Ngày hội nghị (ISO), ghi trên biên bản.")] = None,
    present: Annotated[int | None, typer.Option(help="Số đơn vị thành viên có mặt.")] = None,
):
    """Kiểm phiếu bình xét thi đua (tab Phiếu bầu) và lập biên bản kiểm phiếu."""
    s = settings()
    plan_or_exit(s)
    inputs_or_exit(s)
    _prefect(s)
    from flows.conference import conference_tally
    from tasks.tally import BLOCK_NAMES

    state = conference_tally(day=day, units_present=present, return_state=True)
    if not state.is_completed():
        raise fail(state.message or "kiểm phiếu không thành công")
    result = state.result()
    if as_json:
        sys.stdout.write(
            json.dumps({k: v for k, v in result.items() if k != "docx"}, ensure_ascii=False, indent=2) + "\n"
        )
        return
    for title, blocks in result["categories"].items():
        table = Table(title=title)
        for col in ("Khối", "Ứng viên", "Số phiếu", "Đạt", "Đề nghị"):
            table.add_column(col)
        for block, r in blocks.items():
            for c in r["candidates"]:
                table.add_row(
                    BLOCK_NAMES[block],
                    c["unit_name"],
                    f"{c['votes']}/{c['of']}",
                    "✓" if c["passed"] else "",
                    "✓" if c["selected"] else "",
                )
        out.print(table)
    for b in result["invalid_ballots"]:
        warn(f"phiếu số {b['number']} ({b['category']}) không hợp lệ: {b['reason']}")
    for t in result["ties"]:
        warn(f"bỏ phiếu lại: {t['category']}, {t['unit_name']} ({t['votes']} phiếu)")
    out.print(f"Biên bản: {result['docx']}")


@app.command()
def template(
    out_file: Annotated[
        str | None, typer.Option("--out", help="Ghi một tệp .xlsx mẫu có đủ các tab.")
    ] = None,
):
    """In dòng tiêu đề của từng tab (hoặc ghi bảng tính mẫu) để lập bảng tính chung."""
    if out_file is None:
        for tab, columns in COLUMNS.items():
            out.print(Text(f"{tab}\t" + "\t".join(columns)))
        return
    from openpyxl import Workbook

    book = Workbook()
    book.remove(book.active)
    for tab, columns in COLUMNS.items():
        sheet = book.create_sheet(tab)
        sheet.append(list(columns))
        sheet.freeze_panes = "A2"
        for cell in sheet[1]:
            cell.number_format = "@"
    book.save(out_file)
    out.print(
        f"Đã ghi {out_file}: tải lên Google Drive và mở bằng Google Sheets để dùng làm bảng tính chung."
    )


@app.command()
def status(
    milestone: Annotated[str | None, typer.Option(help="Mã mốc, ví dụ so-ket.")] = None,
    at: Annotated[str | None, typer.Option(help="Thời điểm ISO 8601; không múi giờ = giờ VN.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="In JSON ra stdout.")] = False,
):
    """Bảng tình trạng hồ sơ của từng đơn vị ở từng mốc, tại một thời điểm."""
    s = settings()
    inputs = inputs_or_exit(s)
    plan = inputs.plan
    wanted = None
    if milestone:
        try:
            wanted = [plan.milestone(milestone).id]
        except KeyError as exc:
            raise fail(f"--milestone: {exc.args[0]}") from None
        if not plan.milestone(wanted[0]).units_owe:
            raise fail(f"--milestone: mốc '{wanted[0]}' không do các đơn vị nộp hồ sơ")
    instant = instant_or_exit(at, plan)
    table = assess(inputs, instant, wanted)
    if as_json:
        sys.stdout.write(json.dumps(status_records(table), ensure_ascii=False, indent=2) + "\n")
        return
    for mid, rows in table.groupby("milestone", sort=False):
        m = plan.milestone(mid)
        deadline = vn_date_weekday(m.deadline) if m.deadline else "chưa ấn định"
        t = Table(title=f"{m.name} — hạn trước ngày {deadline} — tại {instant:%d/%m/%Y %H:%M}")
        for col in ("Mã", "Đơn vị", "Tình trạng", "Còn thiếu", "Vấn đề"):
            t.add_column(col, overflow="fold")
        for r in rows.itertuples():
            label = STATE_LABELS[State(r.state)] + (" · quá hạn" if r.overdue else "")
            t.add_row(
                r.unit,
                r.unit_name,
                f"[{STATE_STYLE[r.state]}]{label}[/]",
                "; ".join(r.missing),
                "; ".join(r.problems),
            )
        out.print(t)
        counts = Counter(rows["state"])
        out.print("  " + " · ".join(f"{STATE_LABELS[x]}: {counts.get(x.value, 0)}" for x in State))
    if inputs.data.findings:
        out.print(f"[yellow]{len(inputs.data.findings)} dòng bảng tính có vấn đề: xem `thidua check`.")


def _print_round(t, result: dict) -> None:
    when = dt.datetime.fromisoformat(result["at"]).strftime("%d/%m/%Y %H:%M")
    if not result["ok"]:
        out.print(f"[red]✗[/] {when} {t.milestone} {t.stage}: {result['error']}", highlight=False)
        return
    if result.get("docx"):
        sent = "đã gửi Trưởng, Phó trưởng" if result["sent"] else "không gửi thư mới"
        out.print(f"[green]✓[/] {when} báo cáo {t.milestone}: {result['docx']} ({sent})", highlight=False)
        return
    if result.get("stale"):
        out.print(f"[yellow]–[/] {when} {t.milestone} {t.stage}: bỏ qua ({result['stale']})", highlight=False)
        return
    sent = len(result["sent"])
    previews = result.get("previews", 0)
    extra = (
        f"chạy thử: {previews} thư sẽ gửi"
        if previews
        else (
            f"{sent} thư cho đơn vị"
            + (", 1 bản tổng hợp" if result["digest_sent"] else "")
            + (f", {len(result['skipped'])} đã gửi trước" if result["skipped"] else "")
        )
    )
    out.print(
        f"[green]✓[/] {when} {t.milestone} {t.stage}: {result['owing']} đơn vị còn thiếu; {extra}",
        highlight=False,
    )


def _prefect(s: Settings) -> None:
    from flows.prefect_env import configure

    configure(s.data_dir)


@app.command()
def run(
    at: Annotated[str | None, typer.Option(help="Thời điểm ISO 8601 (mặc định: bây giờ).")] = None,
    milestone: Annotated[str | None, typer.Option(help="Chạy một đợt cụ thể: mã mốc.")] = None,
    stage: Annotated[str | None, typer.Option(help="Với --milestone: before-N hoặc overdue-N.")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Soạn thư, không gửi, không ghi sổ.")] = False,
):
    """Làm những việc kế hoạch định cho ngày đó đến thời điểm --at (thư nhắc, quá hạn, tổng hợp)."""
    s = settings()
    plan = plan_or_exit(s)
    instant = instant_or_exit(at, plan)
    if milestone or stage:
        if not (milestone and stage):
            raise fail("--milestone và --stage phải đi cùng nhau (ví dụ --milestone so-ket --stage before-3)")
        from tasks.calendar import Trigger

        todo = [Trigger(instant, plan.milestone(milestone).id, stage, instant.date())]
    else:
        todo = triggers_on_day(plan, instant)
    if not todo:
        upcoming = [t for t in triggers(plan) if t.at > instant][:3]
        out.print(f"Không có việc nào theo kế hoạch vào ngày {instant:%d/%m/%Y} đến {instant:%H:%M}.")
        for t in upcoming:
            out.print(f"  Sắp tới: {t.at:%d/%m/%Y %H:%M} {t.milestone} {t.stage}")
        return
    _prefect(s)
    from flows.replay import run_rounds

    results = run_rounds(todo, dry_run, _print_round, at=instant.isoformat())
    if not all(r["ok"] for r in results):
        raise typer.Exit(1)


@app.command()
def replay(
    until: Annotated[str | None, typer.Option(help="Ngày cuối (ISO, ví dụ 2021-06-30).")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Soạn thư, không gửi, không ghi sổ.")] = False,
):
    """Chạy lại cả năm kế hoạch theo thứ tự thời gian trên nguồn dữ liệu (bản trình diễn)."""
    s = settings()
    plan = plan_or_exit(s)
    inputs = inputs_or_exit(s)
    try:
        until_day = dt.date.fromisoformat(until) if until else None
    except ValueError:
        raise fail(f"--until: '{until}' không phải ngày ISO (ví dụ 2021-06-30)") from None
    out.print(
        f"Chạy lại kế hoạch {plan.document_number} trên {inputs.source}; thư ghi vào "
        f"{s.outbox_dir if s.mail_transport == 'file' else s.mail_transport}"
    )
    _prefect(s)
    from flows.replay import replay_year

    results = replay_year(plan, until_day, dry_run, _print_round)
    table = Table(title="Tổng kết lần chạy")
    for col in ("Mốc", "Loại thư", "Số thư mới", "Đã gửi trước", "Lỗi"):
        table.add_column(col)
    totals: Counter = Counter()
    for r in results:
        kind = "thông báo quá hạn" if r["stage"].startswith("overdue") else "nhắc hạn"
        if r["stage"] == "compile":
            kind = "dự thảo báo cáo"
        elif r["milestone"] not in {m.id for m in plan.milestones}:
            kind = "nhắc hạn của Khu vực"
        totals[(r["milestone"], kind, "new")] += len(r.get("sent", []))
        totals[(r["milestone"], kind, "old")] += len(r.get("skipped", []))
        totals[(r["milestone"], kind, "err")] += len(r.get("failed", [])) + (not r["ok"])
        if kind not in ("nhắc hạn của Khu vực", "dự thảo báo cáo"):
            totals[(r["milestone"], "tổng hợp cho đầu mối", "new")] += int(r.get("digest_sent", False))
    keys = dict.fromkeys((m, k) for m, k, _ in totals)
    for m, k in keys:
        table.add_row(
            m, k, str(totals[(m, k, "new")]), str(totals[(m, k, "old")]), str(totals[(m, k, "err")])
        )
    out.print(table)
    findings = inputs.data.findings
    out.print(
        f"Dòng bảng tính bị bỏ qua: {sum(f.dropped for f in findings)}; "
        f"ô bị bỏ qua: {sum(not f.dropped for f in findings)} (chi tiết: `thidua check`)."
    )
    if not all(r["ok"] for r in results):
        raise typer.Exit(1)


if __name__ == "__main__":
    app()
