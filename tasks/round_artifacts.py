"""The Markdown summary of a round, published as a Prefect artifact for coordinators."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from tasks.completeness import STATE_LABELS, State, mail_lines, state_counts
from tasks.dates import by_day, deadline_words, vn_datetime, vn_weekday_datetime
from tasks.inputs import Inputs
from tasks.intake import SETTLE
from tasks.markdown import md, md_row
from tasks.plan import Plan
from tasks.round import Round, RoundResult
from tasks.schedule import describe, stage_words, triggers


def _owed_or_noted(row: pd.Series) -> str:
    """What a letter of the round was about: what the unit still owes, or, for a unit that owes
    nothing, the problems its own notice told it of."""
    if row["missing"]:
        return "; ".join(row["missing"])
    return "không (thư lưu ý: " + "; ".join(row["problems"]) + ")"


def round_markdown(inputs: Inputs, table: pd.DataFrame, rnd: Round, result: RoundResult) -> str:
    """The round as coordinators read it in the Prefect UI: counts, who got mail (confirmed
    deliveries only), who is still being sent to by another run, failures, problems, findings."""
    plan, m = rnd.plan, rnd.milestone
    rows = rnd.rows(table)
    names = plan.unit_names
    units, digest = result.units, result.digest
    lines = [
        f"# {md(m.name)}: đợt {stage_words(rnd.stage)}",
        "",
        f"Thời điểm: {vn_datetime(rnd.local)} · {deadline_words(rnd.plan, m.deadline)} · "
        f"nguồn: {md(inputs.source)}" + (" · **CHẠY THỬ: không gửi thư**" if rnd.dry_run else ""),
        "",
        "| Tình trạng | Số đơn vị |",
        "|---|---|",
    ]
    counts = state_counts(rows)
    lines += [md_row(STATE_LABELS[s], counts[s.value]) for s in State]
    lines += ["", "## Đã gửi thư" if not rnd.dry_run else "## Sẽ gửi thư (chạy thử)", ""]
    recipients = [p.key.recipient for p in units.previews] if rnd.dry_run else units.sent
    by_unit = rows.set_index("unit")
    if recipients:
        lines += ["| Đơn vị | Còn thiếu |", "|---|---|"]
        lines += [md_row(names[c], _owed_or_noted(by_unit.loc[c])) for c in recipients]
    else:
        lines.append("Không có thư mới.")
    if units.already_sent:
        lines += [
            "",
            "Không gửi lại (đã gửi trước đó): " + md(", ".join(names[c] for c in units.already_sent)),
        ]
    if units.in_progress:
        lines += ["", "Đang gửi bởi lần chạy khác: " + md(", ".join(names[c] for c in units.in_progress))]
    recovery = result.recovery
    if recovery.resent:
        lines += ["", "## Gửi lại thư của lần chạy bị dừng", ""] + [f"- {md(r)}" for r in recovery.resent]
    if recovery.abandoned:
        lines += ["", "## Thư của lần chạy bị dừng, không còn cần gửi", ""]
        lines += [f"- {md(r)}" for r in recovery.abandoned]
    failures = units.failed + digest.failed + recovery.failed
    if failures:
        lines += ["", "## Gửi không thành công", ""] + [f"- {md(f)}" for f in failures]
    if units.partial:
        lines += ["", "## Đã gửi, một số địa chỉ từ chối nhận", ""] + [f"- {md(f)}" for f in units.partial]
    complete = [r.unit_name for r in rows.itertuples() if not r.missing]
    lines += ["", f"## Đã đủ hồ sơ ({len(complete)})", "", md(", ".join(complete)) or "(chưa có)"]
    problems = [f"- {md(r.unit_name)}: {md(p)}" for r in rows.itertuples() for p in r.problems]
    if problems:
        lines += ["", "## Vấn đề trong hồ sơ", "", *problems]
    lines += intake_markdown(inputs, rows)
    findings = inputs.data.findings
    if findings:
        lines += [
            "",
            "## Dòng bảng tính không đọc được",
            "",
            "| Trang tính | Dòng | Lý do |",
            "|---|---|---|",
        ]
        lines += [md_row(f.tab, f.row, f.reason) for f in findings[:200]]
        if len(findings) > 200:
            lines.append(f"\n… và {len(findings) - 200} dòng khác (xem `thidua check`).")
    return "\n".join(lines) + "\n"


def intake_markdown(inputs: Inputs, rows: pd.DataFrame) -> list[str]:
    """The round's mail intake: documents received by mail, messages not recognised, mailboxes
    not read (the round then counted the sheet alone)."""
    intake = inputs.intake
    if intake is None:
        return []
    lines: list[str] = []
    if intake.skipped:
        lines += ["", "## Không đọc được hộp thư (đợt này chỉ dựa vào bảng tính)", ""]
        lines += [f"- {md(r)}" for r in intake.skipped]
    by_mail = [f"- {md(line)}" for line in mail_lines(rows)]
    if by_mail:
        lines += ["", f"## Hồ sơ nhận qua thư điện tử ({len(by_mail)})", "", *by_mail]
    if intake.unrecognised:
        lines += ["", f"## Thư chưa nhận ra, chưa được tính ({len(intake.unrecognised)})", ""]
        lines += [f"- {md(u.line())}" for u in intake.unrecognised[:200]]
        lines += ["", md(SETTLE)]
    return lines


def skipped_markdown(rnd: Round, reason: str) -> str:
    return (
        f"# {md(rnd.milestone.name)}: đợt {stage_words(rnd.stage)} — KHÔNG GỬI\n\n"
        f"Lần chạy lúc {vn_datetime(rnd.local)} bị trễ so với lịch: {md(reason)}. "
        "Không có thư nào được gửi.\n"
    )


def year_overview(plan: Plan, table: pd.DataFrame, instant: dt.datetime) -> str:
    """The latest state of every milestone of the year, and what comes next."""
    local = instant.astimezone(plan.tz)
    lines = [
        f"# {md(plan.area_short_name)}: tổng quan năm {plan.year}",
        "",
        f"Cập nhật lúc {vn_datetime(local)}.",
        "",
        # six narrow columns: the Prefect UI shows about 700 px of a table at 1280 px
        f"| Mốc | Hạn {by_day(plan)} | Đủ hồ sơ | Chưa đủ | Chưa nộp | Quá hạn |",
        "|---|---|---|---|---|---|",
    ]
    for m in plan.milestones:
        rows = table[table["milestone"] == m.id]
        if rows.empty:
            continue
        c = state_counts(rows)
        complete = c["on_time"] + c["late"]
        lines.append(
            md_row(
                m.name,
                f"{m.deadline:%d/%m/%Y}" if m.deadline else "chưa ấn định",
                f"{complete} ({c['late']} muộn)" if c["late"] else complete,
                c["incomplete"],
                c["missing"],
                int(rows["overdue"].sum()),
            )
        )
    upcoming = [t for t in triggers(plan) if t.at > local][:5]
    if upcoming:
        lines += ["", "## Sắp tới", ""]
        lines += [f"- {vn_weekday_datetime(t.at)}: {md(describe(plan, t))}" for t in upcoming]
    return "\n".join(lines) + "\n"
