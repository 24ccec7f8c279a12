"""`thidua plan new`: next year's plan from an existing one, handed to the new Head and Deputies."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from flows.cli_base import Typer, app, fail, out, parent_or_exit, refuse, settings, warn
from tasks.dates import WEEKDAYS, day_off_reason, vn_date_weekday
from tasks.plan import PlanError
from tasks.plan_checks import outdated
from tasks.plan_new import Rollover, roll_forward
from tasks.schedule import obligation_deadline, triggers

plan_app = Typer(help="Lập kế hoạch năm mới từ kế hoạch có sẵn.", no_args_is_help=True)
app.add_typer(plan_app, name="plan")


@plan_app.command("new")
def new(
    year: Annotated[int, typer.Option(help="Năm của kế hoạch mới, ví dụ 2027.")],
    head: Annotated[
        str | None,
        typer.Option(help="Đơn vị Trưởng năm mới (mã hoặc tên), do Hội nghị tổng kết công bố."),
    ] = None,
    deputies: Annotated[
        str | None,
        typer.Option(help="Các đơn vị Phó trưởng năm mới, cách nhau bằng dấu phẩy (mã hoặc tên)."),
    ] = None,
    source: Annotated[
        Path | None, typer.Option("--from", help="Kế hoạch gốc (mặc định: THIDUA_PLAN).")
    ] = None,
    out_file: Annotated[
        Path | None,
        typer.Option("--out", help="Tệp kế hoạch mới (mặc định: plan-<năm>.yaml cạnh kế hoạch gốc)."),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Ghi đè tệp đã có.")] = False,
) -> None:
    """Kế hoạch năm mới: giữ ngày, tháng của các hạn và các quy tắc; giao cho Trưởng, Phó trưởng mới;
    để trống những gì năm mới phải tự điền (số, ngày ban hành, người ký, đầu mối, bảng tính)."""
    source = source or settings().plan
    target = out_file or source.parent / f"plan-{year}.yaml"
    if target.exists() and not force:
        raise fail(f"{target} đã có; chọn --out khác hoặc thêm --force để ghi đè.")
    parent_or_exit("--out", target)
    named = [d.strip() for d in (deputies or "").split(",") if d.strip()]
    try:
        rollover = roll_forward(source, year, head, named)
    except PlanError as exc:
        raise refuse(exc, "Lỗi kế hoạch gốc ") from None
    target.write_text(rollover.text, encoding="utf-8")
    plan = rollover.plan
    out.print(f"[green]✓[/] Đã ghi {target}: kế hoạch năm {year} ({plan.id}).", highlight=False)
    for line in checklist(rollover, target):
        out.print(line, highlight=False, soft_wrap=True)
    for line in outdated(plan):
        warn(line)


def checklist(rollover: Rollover, target: Path) -> list[str]:
    """What the author fills or confirms, in the order of the work (at most about 30 lines)."""
    plan = rollover.plan
    lead = plan.leadership
    deputies = ", ".join(plan.unit(c).name for c in lead.deputy_units)
    sheet = target.parent / (plan.spreadsheet or "")
    if rollover.handed_over:
        leaders = f"{plan.unit(lead.head_unit).name} (Trưởng); {deputies or 'không có'} (Phó trưởng)"
    else:
        leaders = (
            f"CHƯA CHỌN: vẫn là {rollover.old_head} của năm trước. Chạy lại với --head … --deputies … "
            "(đơn vị Hội nghị tổng kết công bố), thêm --force"
        )
    days_off = []
    dated = [(m.id, m.name, m.deadline) for m in plan.milestones]
    dated += [(o.id, o.name, obligation_deadline(plan, o)) for o in plan.area_obligations]
    schedule = triggers(plan)
    for ident, name, day in dated:
        reason = day_off_reason(plan, day) if day else None
        if day and reason:
            why = "" if reason in WEEKDAYS else f", {reason}"
            moved = [
                f"{t.stage} sang {WEEKDAYS[t.at.weekday()]} {t.at:%d/%m}"
                for t in schedule
                if t.target == ident and t.shifted and t.action != "report"
            ]
            rounds = f"; đợt nhắc dời: {', '.join(moved)}" if moved else ""
            days_off.append(f"     - {name}: {vn_date_weekday(day)} là ngày nghỉ{why}{rounds}")
    lines = [
        "Việc cần làm, theo thứ tự:",
        f"  1. Trưởng, Phó trưởng năm {plan.year}: {leaders}.",
        "  2. Người ký (leadership.signer_title, signer_name) và đầu mối liên hệ (contacts: họ tên, chức vụ, "
        "điện thoại, thư): đang để trống.",
        "  3. Số và ngày ban hành kế hoạch (document_number, issued): điền khi kế hoạch được ký.",
        "  4. Căn cứ (legal_bases), Nơi nhận (letterhead.recipients), danh hiệu và chỉ tiêu khen thưởng "
        "(titles, awards): xem lại theo quy định hiện hành (Luật Thi đua, khen thưởng 2022).",
        "  5. Đơn vị thành viên (units): tên, địa chỉ thư; các tên cũ sau sắp xếp năm 2025 liệt kê ở dưới.",
        f"  6. Hạn của các mốc (giữ ngày, tháng năm trước); ngày nghỉ bù năm {plan.year} (extra_days_off).",
        *days_off,
        f"  7. Bảng tính năm {plan.year}: `thidua template --out {sheet}` (hoặc một Google Sheet mới, ghi "
        "vào spreadsheet).",
        f"  8. `THIDUA_PLAN={target} thidua check` đến khi không còn lỗi; lịch cả năm: `thidua calendar`.",
        f"  9. Đặt THIDUA_PLAN={target} trong .env, rồi `thidua serve`.",
    ]
    return lines
