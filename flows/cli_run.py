"""Commands that act: run, replay, serve."""

from __future__ import annotations

import datetime as dt
import signal
from collections import Counter
from typing import Annotated

import typer
from rich.table import Table

from flows.cli_base import (
    _prefect,
    app,
    fail,
    inputs_or_exit,
    instant_or_exit,
    out,
    plan_or_exit,
    settings,
)
from tasks.plan import Plan
from tasks.schedule import triggers, triggers_on_day


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

    # systemctl stop / kill send SIGTERM: leave through the same door as Ctrl+C, so that the
    # local server started below is stopped too instead of being orphaned
    signal.signal(signal.SIGTERM, _interrupt)
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


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


def _serve(plan: Plan, api_url: str) -> None:
    from flows.serve import serve_plan

    out.print(f"Đang chạy theo lịch {plan.document_number}: {len(triggers(plan))} việc.", soft_wrap=True)
    out.print(
        f"Giao diện Prefect: {api_url.removesuffix('/api')}  (Ctrl+C để dừng; lịch được giữ nguyên)",
        soft_wrap=True,
        highlight=False,
    )
    try:
        serve_plan(plan)
    except KeyboardInterrupt:
        out.print("Đã dừng. Các lần chạy theo lịch vẫn được giữ trên máy chủ Prefect.")


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
    if t.action == "obligation":
        sent = "đã nhắc Trưởng, Phó trưởng Khu vực" if result["sent"] else "đã nhắc trước đó"
        out.print(f"[green]✓[/] {when} hạn của Khu vực {t.milestone} {t.stage}: {sent}", highlight=False)
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
        from tasks.schedule import Trigger

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
