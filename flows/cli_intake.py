"""`thidua intake`: what the coordinators' mailboxes hold, recognised or not."""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from flows.cli_base import app, fail, inputs_or_exit, instant_or_exit, out, settings, warn
from tasks.dates import due_instant, vn_datetime
from tasks.intake import SETTLE, MailDocument
from tasks.resources import Resources


@app.command()
def intake(
    at: Annotated[str | None, typer.Option(help="Chỉ xét thư gửi đến thời điểm này (ISO 8601).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="In JSON ra stdout.")] = False,
) -> None:
    """Hồ sơ đơn vị gửi qua thư điện tử tới hộp thư của Trưởng, Phó trưởng: thư nhận ra, chưa nhận ra."""
    s = settings()
    if not s.intake_configured:
        raise fail(
            "chưa cấu hình hộp thư: đặt THIDUA_IMAP_HOST, THIDUA_IMAP_USER, THIDUA_IMAP_PASSWORD "
            "(xem README, mục “Documents units e-mail (the intake)”)."
        )
    inputs = inputs_or_exit(Resources(s))
    plan, result = inputs.plan, inputs.intake
    assert result is not None
    instant = instant_or_exit(at, plan)
    documents = sorted(
        (d for d in result.documents if d.submitted_at <= instant), key=lambda d: (d.submitted_at, d.unit)
    )

    def late(d: MailDocument) -> bool:
        deadline = plan.milestone(d.milestone).deadline
        return deadline is not None and d.submitted_at >= due_instant(plan, deadline)

    if as_json:
        records = [
            {
                "unit": d.unit,
                "unit_name": plan.unit_names[d.unit],
                "milestone": d.milestone,
                "kind": d.kind,
                "submitted_at": d.submitted_at.isoformat(),
                "late": late(d),
                "pages": d.pages,
                "file_name": d.file_name,
                "sender": d.sender,
                "message_id": d.message_id,
            }
            for d in documents
        ]
        summary = {
            "mailboxes": result.mailboxes,
            "skipped": result.skipped,
            "fetched": result.fetched,
            "outside_plan_year": result.outside,
            "settled": result.settled,
            "recognised": records,
            "unrecognised": [u.__dict__ for u in result.unrecognised],
        }
        sys.stdout.write(json.dumps(summary, ensure_ascii=False, indent=2) + "\n")
        if result.skipped:  # a mailbox that could not be read is a failure of this command
            raise typer.Exit(1)
        return
    for reason in result.skipped:
        warn(f"không đọc được hộp thư, đợt chạy chỉ dựa vào bảng tính: {reason}")
    out.print(
        f"Đã đọc {len(result.mailboxes)} hộp thư ({', '.join(result.mailboxes) or 'không có'}): "
        f"{result.fetched} thư mới; {result.outside} thư ngoài thời gian của kế hoạch (không xét); "
        f"{result.settled} thư đã được xử lý bằng một dòng trên trang tính.",
        highlight=False,
    )
    table = Table(title=f"Hồ sơ nhận qua thư điện tử đến {vn_datetime(instant)}")
    for col in ("Thời gian", "Đơn vị", "Mốc", "Loại hồ sơ", "Trang", "Người gửi"):
        table.add_column(col, overflow="fold")
    for d in documents:
        table.add_row(
            vn_datetime(d.submitted_at) + (" (muộn)" if late(d) else ""),
            plan.unit_names[d.unit],
            plan.milestone(d.milestone).name,
            d.kind,
            "" if d.pages is None else str(d.pages),
            d.sender,
        )
    out.print(table)
    if result.unrecognised:
        out.print(
            Text(f"Thư chưa nhận ra, chưa được tính ({len(result.unrecognised)}):", style="bold yellow")
        )
        for u in result.unrecognised:
            out.print(Text(f"- {u.line()}"))
        out.print(SETTLE, highlight=False)
    if result.skipped:
        raise typer.Exit(1)
