"""Commands that act: run, replay, serve."""

from __future__ import annotations

import datetime as dt
import signal
from collections import Counter
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from flows.cli_base import (
    _prefect,
    app,
    err,
    fail,
    inputs_or_exit,
    instant_or_exit,
    out,
    plan_or_exit,
    refuse,
    settings,
    warn,
)
from tasks.inputs import load_inputs, preloaded
from tasks.plan import Plan, PlanError, PlanLookupError, load_plan
from tasks.plan_checks import plan_is_over
from tasks.resources import Resources
from tasks.round import Action, Round, RoundResult
from tasks.schedule import Trigger, triggers, triggers_on_day
from tasks.settings import Settings
from tasks.teams import teams_by_milestone

# the plans `serve` and `deploy` take: files, or a folder of plan-*.yaml; THIDUA_PLAN when none
PlanFiles = Annotated[
    list[Path] | None,
    typer.Argument(help="Các tệp kế hoạch, hoặc thư mục chứa plan-*.yaml (mặc định: THIDUA_PLAN)."),
]

MAIL_KIND = {
    Action.REMINDER: "nhắc hạn",
    Action.OVERDUE: "thông báo quá hạn",
    Action.OBLIGATION: "nhắc hạn chung",
    Action.REPORT: "dự thảo báo cáo",
    Action.TEAMS: "nhắc đoàn kiểm tra",
}


def plans_to_serve(
    s: Settings, paths: list[Path], now: dt.datetime, read_sources: bool = False
) -> list[tuple[Plan, Path]]:
    """The plan files named (a folder means every plan-*.yaml in it), THIDUA_PLAN if none. A plan
    that is broken or whose year is over is reported and left out; the others are served.
    `read_sources`: each plan's sheet is read once now, so a schedule is never promised on a
    sheet that cannot be read (see `_source_problem`)."""
    files: list[Path] = []
    for path in paths or [s.plan]:
        files += sorted(path.glob("plan-*.yaml")) if path.is_dir() else [path]
    plans = []
    for path in files:
        try:
            plan = load_plan(path)
        except PlanError as exc:
            refuse(exc)  # this plan is left out; the others are served
            continue
        over = plan_is_over(plan, now)
        if over:
            err.print(Text.assemble(("Bỏ qua ", "yellow"), f"{path}: {over}"))
            continue
        if read_sources and (problem := _source_problem(s, plan, path)):
            err.print(Text.assemble(("Bỏ qua ", "bold red"), f"{path}: {problem}"))
            continue
        plans.append((plan, path))
    ids = [plan.id for plan, _ in plans]
    if len(set(ids)) < len(ids):
        raise fail(
            "hai tệp kế hoạch có cùng id: mỗi kế hoạch cần một id riêng (id đặt tên deployment và sổ gửi thư)"
        )
    return plans


def _source_problem(s: Settings, plan: Plan, path: Path) -> str | None:
    """Why a plan's sheet cannot serve it, or None. A sheet that is missing, not shared, of
    another year or malformed will not heal by itself: the plan is left out now, while the
    operator is watching, rather than failing its first round weeks later. A sheet that only
    did not answer in time (quota, network) is served: its rounds retry and alert if it lasts."""
    from tasks.contract import SourceError, SourceUnavailable

    try:
        load_inputs(Resources(s.model_copy(update={"plan": path})), plan)
    except SourceUnavailable as exc:
        warn(f"{path}: chưa đọc được bảng tính lúc này ({exc}); vẫn chạy theo lịch, mỗi đợt sẽ đọc lại.")
    except (SourceError, OSError) as exc:
        return f"không đọc được bảng tính: {exc}"
    return None


@app.command()
def serve(
    plan_files: PlanFiles = None,
    port: Annotated[
        int, typer.Option(help="Cổng của máy chủ Prefect cục bộ (khi chưa có PREFECT_API_URL).")
    ] = 4200,
) -> None:
    """Chạy tự động theo lịch: mỗi mốc của mỗi kế hoạch một deployment trên máy chủ Prefect."""
    import os

    if not 1 <= port <= 65535:
        raise fail(f"--port {port}: cổng phải từ 1 đến 65535 (mặc định 4200).")
    s = settings()
    plans = plans_to_serve(s, plan_files or [], dt.datetime.now(dt.UTC), read_sources=True)
    if not plans:
        raise fail("không có kế hoạch nào để chạy (xem các lỗi ở trên).")
    _prefect(s)
    from flows.local_server import announced, local_prefect_server, port_in_use

    # systemctl stop / kill send SIGTERM: leave through the same door as Ctrl+C, so that the
    # local server started below is stopped too instead of being orphaned
    signal.signal(signal.SIGTERM, _interrupt)
    if os.environ.get("PREFECT_API_URL"):
        _serve(plans, os.environ["PREFECT_API_URL"])
        _exit_stopped()
    if port_in_use(port):
        raise fail(
            f"cổng {port} trên 127.0.0.1 đang có chương trình khác dùng (một `thidua serve` khác?): "
            "dừng chương trình đó hoặc chọn --port khác."
        )
    api = f"http://127.0.0.1:{port}/api"
    # the UI is on, and asks this server (not the default port 4200) for its data
    ui = {"PREFECT_UI_ENABLED": "true", "PREFECT_UI_API_URL": api}
    with (
        local_prefect_server(port, s.data_dir / "prefect-server.log", extra_env=ui) as api_url,
        announced(s.data_dir, api_url),
    ):
        os.environ["PREFECT_API_URL"] = api_url
        _serve(plans, api_url)
    _exit_stopped()


@app.command()
def deploy(
    plan_files: PlanFiles = None,
    pool: Annotated[
        str, typer.Option(help="Tên work pool (loại process) trên máy chủ Prefect chung.")
    ] = "thidua",
) -> None:
    """Đăng ký lịch của các kế hoạch lên máy chủ Prefect chung; worker trên máy khác sẽ chạy."""
    import os

    s = settings()
    if not os.environ.get("PREFECT_API_URL"):
        raise fail(
            "chưa đặt PREFECT_API_URL (địa chỉ API của máy chủ Prefect chung, ví dụ "
            "http://may-chu:4200/api); trên một máy, dùng `thidua serve`."
        )
    plans = plans_to_serve(s, plan_files or [], dt.datetime.now(dt.UTC))
    if not plans:
        raise fail("không có kế hoạch nào để đăng ký (xem các lỗi ở trên).")
    _prefect(s)
    from flows.serve import deploy_plans

    try:
        names = deploy_plans(plans, pool)
    except Exception as exc:  # noqa: BLE001 - the server's refusal, shown in one line
        raise fail(
            f"máy chủ Prefect {os.environ['PREFECT_API_URL']} không nhận: {type(exc).__name__}: {exc}"
        ) from None
    out.print(f"[green]✓[/] Đã đăng ký {len(names)} deployment lên work pool '{pool}':", highlight=False)
    for name in names:
        out.print(f"  {name}", highlight=False)
    out.print(
        "Trên mỗi máy chạy: cùng thư mục mã nguồn này, cùng tệp .env, rồi "
        f"`prefect worker start --pool {pool}` (xem docs/deploy.md).",
        highlight=False,
    )


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _exit_stopped() -> None:
    """serve has stopped and its server is down: leave now. A stop that lands while Prefect is
    still registering deployments leaves its event-loop thread behind, which would keep the
    process alive after SIGTERM (seen once in a CI run)."""
    import os
    import sys

    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


def _serve(plans: list[tuple[Plan, Path]], api_url: str) -> None:
    from flows.serve import serve_plans

    for plan, _ in plans:
        out.print(f"Đang chạy theo lịch {plan.label}: {len(triggers(plan))} việc.", soft_wrap=True)
    out.print(
        f"Giao diện Prefect: {api_url.removesuffix('/api')}  (Ctrl+C để dừng; lịch được giữ nguyên)",
        soft_wrap=True,
        highlight=False,
    )
    try:
        serve_plans(plans)
    except KeyboardInterrupt:
        out.print("Đã dừng. Các lần chạy theo lịch vẫn được giữ trên máy chủ Prefect.")


def _print_round(t: Trigger, result: RoundResult) -> None:
    when = result.at.strftime("%d/%m/%Y %H:%M")
    head = f"{when} {t.target} {t.stage}"
    if not result.ok:
        out.print(f"[red]✗[/] {head}: {result.error}", highlight=False)
        return
    if result.stale:
        out.print(f"[yellow]–[/] {head}: bỏ qua ({result.stale})", highlight=False)
        return
    units = result.units
    if result.action == Action.REPORT:
        sent = "đã gửi Trưởng, Phó trưởng (đầu mối)" if units.sent else "không gửi thư mới"
        out.print(f"[green]✓[/] {when} báo cáo {t.target}: {result.files[0]} ({sent})", highlight=False)
        return
    if result.action == Action.OBLIGATION:
        sent = "đã nhắc Trưởng, Phó trưởng (đầu mối)" if units.sent else "đã nhắc trước đó"
        out.print(f"[green]✓[/] {when} hạn chung {t.target} {t.stage}: {sent}", highlight=False)
        return
    if result.previews:
        extra = f"chạy thử: {result.previews} thư sẽ gửi"
    else:
        extra = (
            f"{len(units.sent)} thư cho đơn vị"
            + (", 1 bản tổng hợp" if result.digest_sent else "")
            + (f", {len(units.already_sent)} đã gửi trước" if units.already_sent else "")
            + (f", {len(units.in_progress)} đang do lần chạy khác gửi" if units.in_progress else "")
        )
    if result.recovery.resent:
        extra += f"; gửi lại {len(result.recovery.resent)} thư của lần chạy bị dừng"
    out.print(f"[green]✓[/] {head}: {result.owing} đơn vị còn thiếu; {extra}", highlight=False)


@app.command()
def run(
    at: Annotated[str | None, typer.Option(help="Thời điểm ISO 8601 (mặc định: bây giờ).")] = None,
    milestone: Annotated[str | None, typer.Option(help="Chạy một đợt cụ thể: mã mốc.")] = None,
    stage: Annotated[str | None, typer.Option(help="Với --milestone: before-N hoặc overdue-N.")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Soạn thư, không gửi, không ghi sổ.")] = False,
    early: Annotated[
        bool,
        typer.Option(
            "--early",
            help="Với --milestone: gửi đợt đó trước giờ theo lịch (ghi rõ trong sổ gửi thư và artifact); "
            "đợt theo lịch sau đó sẽ không gửi lại.",
        ),
    ] = False,
) -> None:
    """Làm những việc kế hoạch định cho ngày đó đến thời điểm --at (thư nhắc, quá hạn, tổng hợp)."""
    s = settings()
    plan = plan_or_exit(s)
    instant = instant_or_exit(at, plan)
    if early and not milestone:
        raise fail("--early chỉ dùng với --milestone và --stage (một đợt cụ thể).")
    rnd = None
    if milestone or stage:
        if not (milestone and stage):
            raise fail("--milestone và --stage phải đi cùng nhau (ví dụ --milestone so-ket --stage before-3)")
        try:
            rnd = Round.of(plan, milestone, stage, instant, dry_run, early)
        except PlanLookupError as exc:
            raise fail(f"--milestone/--stage: {exc}") from None
        todo = [Trigger(instant, rnd.target, rnd.stage, instant.date(), rnd.action)]
    resources = Resources(s)  # the command's, for the rounds it runs too (`preloaded`)
    inputs = inputs_or_exit(resources, plan)
    teams = teams_by_milestone(plan, inputs.data.inspections)
    if rnd is not None and (reason := rnd.too_early(teams)):
        raise fail(reason)
    if rnd is None:
        todo = triggers_on_day(plan, instant, teams)
    if not todo:
        upcoming = [t for t in triggers(plan, teams) if t.at > instant][:3]
        out.print(f"Không có việc nào theo kế hoạch vào ngày {instant:%d/%m/%Y} đến {instant:%H:%M}.")
        for t in upcoming:
            out.print(f"  Sắp tới: {t.at:%d/%m/%Y %H:%M} {t.target} {t.stage}")
        return
    lasting = _prefect(s, runs=True, attach=True)
    from flows.replay import run_rounds

    # beside a serve (or on a shared server), the run is filed under its deployment, as from the UI
    filed_under = s.plan if lasting else None
    with resources, preloaded(inputs, resources):
        results = run_rounds(
            plan, todo, dry_run, _print_round, at=instant, early=early, filed_under=filed_under
        )
    if not all(r.ok for r in results):
        raise typer.Exit(1)


@app.command()
def replay(
    until: Annotated[str | None, typer.Option(help="Ngày cuối (ISO, ví dụ 2021-06-30).")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Soạn thư, không gửi, không ghi sổ.")] = False,
) -> None:
    """Chạy lại cả năm kế hoạch theo thứ tự thời gian trên nguồn dữ liệu (bản trình diễn)."""
    s = settings()
    _prefect(s, runs=True)  # the temporary server starts while the sheet is read
    resources = Resources(s)  # the command's, for every round of the year (`preloaded`)
    inputs = inputs_or_exit(resources)
    plan = inputs.plan
    try:
        until_day = dt.date.fromisoformat(until) if until else None
    except ValueError:
        raise fail(f"--until: '{until}' không phải ngày ISO (ví dụ 2021-06-30)") from None
    out.print(
        f"Chạy lại kế hoạch {plan.label} trên {inputs.source}; thư ghi vào "
        f"{s.outbox_dir if s.mail_transport == 'file' else s.mail_transport}"
    )
    from flows.replay import replay_year

    with resources, preloaded(inputs, resources):
        teams = teams_by_milestone(plan, inputs.data.inspections)
        results = replay_year(plan, until_day, dry_run, _print_round, teams)
    table = Table(title="Tổng kết lần chạy")
    for col in ("Mốc", "Loại thư", "Số thư mới", "Đã gửi trước", "Lỗi"):
        table.add_column(col)
    totals: Counter[tuple[str, str, str]] = Counter()
    for r in results:
        kind = MAIL_KIND[r.action]
        totals[(r.target, kind, "new")] += len(r.units.sent)
        totals[(r.target, kind, "old")] += len(r.units.already_sent)
        totals[(r.target, kind, "err")] += len(r.failed) + (not r.ok)
        if r.action in (Action.REMINDER, Action.OVERDUE):
            totals[(r.target, "tổng hợp cho đầu mối", "new")] += int(r.digest_sent)
            totals[(r.target, "tổng hợp cho đầu mối", "old")] += len(r.digest.already_sent)
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
    if not all(r.ok for r in results):
        raise typer.Exit(1)
