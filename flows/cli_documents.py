"""Commands that write documents: report, tally."""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from flows.cli_base import (
    _prefect,
    app,
    fail,
    inputs_or_exit,
    instant_or_exit,
    out,
    parent_or_exit,
    plan_or_exit,
    settings,
    warn,
)
from tasks.inputs import preloaded
from tasks.resources import Resources
from tasks.round import COMPILE, Round, RoundResult


@app.command()
def report(
    kind: Annotated[str, typer.Argument(help="midyear (sơ kết 6 tháng) hoặc yearend (tổng kết năm).")],
    at: Annotated[str | None, typer.Option(help="Tổng hợp đến thời điểm này (ISO 8601).")] = None,
    out_dir: Annotated[
        str | None, typer.Option("--out", help="Thư mục ghi báo cáo (mặc định var/reports).")
    ] = None,
    send: Annotated[
        bool, typer.Option(help="Gửi dự thảo cho Trưởng, Phó trưởng (đầu mối trong kế hoạch).")
    ] = False,
    early: Annotated[
        bool,
        typer.Option(
            "--early", help="Với --send: gửi dự thảo trước ngày theo lịch (ghi rõ trong sổ gửi thư)."
        ),
    ] = False,
) -> None:
    """Lập dự thảo báo cáo sơ kết / tổng kết (DOCX + phụ lục XLSX)."""
    s = settings()
    plan = plan_or_exit(s)
    plan.report(kind)  # a kind the plan does not have: one line, by the CLI's renderer
    instant = instant_or_exit(at, plan)
    folder = Path(out_dir) if out_dir else None
    if folder is not None and folder.exists() and not folder.is_dir():
        raise fail(f"--out: {folder} là một tệp, không phải thư mục; ghi tên một thư mục để đặt báo cáo.")
    if folder is not None and not folder.exists():
        parent_or_exit("--out", folder)
    if send and (reason := Round.of(plan, kind, COMPILE, instant, early=early).too_early()):
        raise fail(reason)
    resources = Resources(s)  # the command's, for the flow it runs too (`preloaded`)
    inputs = inputs_or_exit(resources, plan)
    _prefect(s, runs=True)
    from flows.common import cause
    from flows.prefect_env import on_temporary_server
    from flows.report import area_report

    with on_temporary_server(), resources, preloaded(inputs, resources):
        state = area_report(kind, at=instant, out_dir=out_dir, send_mail=send, early=early, return_state=True)
    if not state.is_completed():
        raise fail(cause(state.message or "lập báo cáo không thành công"))
    result = state.result()
    if not isinstance(result, RoundResult):  # a flow returns a State only when it refuses
        raise fail(cause(state.message or "lập báo cáo không thành công"))
    docx, xlsx = result.files
    out.print(f"Đã ghi {docx} và {xlsx}")


ROLES = ("tổ trưởng", "thư ký", "thành viên")


def _teller(text: str) -> dict[str, Any]:
    name, _, role = text.rpartition(":") if ":" in text else (text, "", "thành viên")
    role = role.strip().lower() or "thành viên"
    if not name.strip() or role not in ROLES:
        raise fail(f'--to-kiem-phieu: \'{text}\' phải là "Họ tên" hoặc "Họ tên:vai trò" ({", ".join(ROLES)})')
    return {"name": name.strip(), "role": role}


@app.command()
def tally(
    as_json: Annotated[bool, typer.Option("--json", help="In JSON ra stdout.")] = False,
    day: Annotated[str | None, typer.Option(help="Ngày hội nghị (ISO), ghi trên biên bản.")] = None,
    present: Annotated[int | None, typer.Option(help="Số đơn vị thành viên có mặt.")] = None,
    to_kiem_phieu: Annotated[
        list[str] | None,
        typer.Option(
            "--to-kiem-phieu",
            help='Thành viên Tổ kiểm phiếu ký biên bản, mỗi người một lần: "Họ tên:tổ trưởng", '
            '"Họ tên:thư ký" hoặc "Họ tên" (thành viên). Mặc định: voting.counting_team của kế hoạch.',
        ),
    ] = None,
) -> None:
    """Kiểm phiếu bình xét thi đua (trang tính Phiếu bầu) và lập biên bản kiểm phiếu."""
    s = settings()
    resources = Resources(s)  # the command's, for the flow it runs too (`preloaded`)
    inputs = inputs_or_exit(resources)
    plan = inputs.plan
    if day is not None:
        try:
            dt.date.fromisoformat(day)
        except ValueError:
            raise fail(f"--day: '{day}' không phải ngày ISO có thật (ví dụ 2021-12-20)") from None
    if present is not None and not 1 <= present <= len(plan.units):
        raise fail(
            f"--present: {present} đơn vị có mặt, phải từ 1 đến {len(plan.units)} (số đơn vị thành viên)"
        )
    team = [_teller(text) for text in to_kiem_phieu or []]
    if not team and not plan.voting.counting_team and not as_json:
        warn(
            "chưa có tên Tổ kiểm phiếu (voting.counting_team hoặc --to-kiem-phieu): biên bản để trống "
            "chỗ ký để ký tay."
        )
    _prefect(s, runs=True)
    from flows.common import cause
    from flows.conference import TallyResult, conference_tally
    from flows.prefect_env import on_temporary_server

    with on_temporary_server(), resources, preloaded(inputs, resources):
        state = conference_tally(
            day=day,
            units_present=present,
            counting_team=team or None,
            at=dt.datetime.now(plan.tz),  # the one instant of this command
            return_state=True,
        )
    if not state.is_completed():
        raise fail(cause(state.message or "kiểm phiếu không thành công"))
    tallied = state.result()
    if not isinstance(tallied, TallyResult):  # a flow returns a State only when it fails in words
        raise fail(cause(state.message or "kiểm phiếu không thành công"))
    result = tallied.tally.as_json()
    if as_json:
        sys.stdout.write(json.dumps(result, ensure_ascii=False, indent=2) + "\n")
        return
    for title, blocks in result["categories"].items():
        table = Table(title=title)
        for col in ("Khối", "Ứng viên", "Số phiếu", "Đạt", "Đề nghị"):
            table.add_column(col)
        for block, r in blocks.items():
            for c in r["candidates"]:
                table.add_row(
                    plan.block_name(block),
                    c["unit_name"],
                    f"{c['votes']}/{c['of']}",
                    "✓" if c["passed"] else "",
                    "✓" if c["selected"] else "",
                )
        out.print(table)
    for b in result["invalid_ballots"]:
        warn(f"phiếu số {b['number']} ({b['category']}) không hợp lệ: {b['reason']}")
    for p in result["problems"]:
        warn(p)
    for t in result["ties"]:
        warn(f"bỏ phiếu lại: {t['category']}, {t['unit_name']} ({t['votes']} phiếu)")
    out.print(f"Biên bản: {tallied.docx}")
