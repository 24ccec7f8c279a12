"""The Markdown summary of a round, published as a Prefect artifact for coordinators."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from tasks.completeness import STATE_LABELS, State, state_counts
from tasks.compose import stage_label
from tasks.dates import deadline_words, vn_date_weekday, vn_datetime
from tasks.schedule import triggers


def _cell(text: object) -> str:
    """Sheet text inside a Markdown table: inert (no table breaks, no HTML)."""
    return str(text).replace("|", "\\|").replace("\n", " ").replace("<", "&lt;").replace(">", "&gt;")


def round_markdown(
    inputs,
    table: pd.DataFrame,
    milestone: str,
    stage: str,
    instant: dt.datetime,
    units,
    digest,
    dry_run: bool,
) -> str:
    plan = inputs.plan
    m = plan.milestone(milestone)
    rows = table[table["milestone"] == milestone]
    names = {u.code: u.name for u in plan.units}
    lines = [
        f"# {m.name}: đợt {stage_label(stage)}",
        "",
        f"Thời điểm: {vn_datetime(instant.astimezone(plan.tz))} · {deadline_words(m.deadline)} · "
        f"nguồn: {inputs.source}" + (" · **CHẠY THỬ: không gửi thư**" if dry_run else ""),
        "",
        "| Tình trạng | Số đơn vị |",
        "|---|---|",
    ]
    counts = state_counts(rows)
    lines += [f"| {STATE_LABELS[s]} | {counts[s.value]} |" for s in State]
    lines += ["", "## Đã gửi thư" if not dry_run else "## Sẽ gửi thư (chạy thử)", ""]
    recipients = [p.mail.key.recipient for p in units.previews] if dry_run else units.sent
    by_unit = rows.set_index("unit")
    if recipients:
        lines += ["| Đơn vị | Còn thiếu |", "|---|---|"]
        lines += [
            f"| {_cell(names[c])} | {_cell('; '.join(by_unit.loc[c, 'missing']))} |" for c in recipients
        ]
    else:
        lines.append("Không có thư mới.")
    if units.skipped:
        lines += ["", "Không gửi lại (đã gửi trước đó): " + ", ".join(names[c] for c in units.skipped)]
    failures = units.failed + digest.failed
    if failures:
        lines += ["", "## Gửi không thành công", ""] + [f"- {_cell(f)}" for f in failures]
    if units.partial:
        lines += ["", "## Đã gửi, một số địa chỉ từ chối nhận", ""] + [f"- {_cell(f)}" for f in units.partial]
    complete = [r.unit_name for r in rows.itertuples() if not r.missing]
    lines += ["", f"## Đã đủ hồ sơ ({len(complete)})", "", ", ".join(complete) or "(chưa có)"]
    problems = [f"- {_cell(r.unit_name)}: {_cell(p)}" for r in rows.itertuples() for p in r.problems]
    if problems:
        lines += ["", "## Vấn đề trong hồ sơ", "", *problems]
    findings = inputs.data.findings
    if findings:
        lines += ["", "## Dòng bảng tính không đọc được", "", "| Tab | Dòng | Lý do |", "|---|---|---|"]
        lines += [f"| {_cell(f.tab)} | {f.row} | {_cell(f.reason)} |" for f in findings[:200]]
        if len(findings) > 200:
            lines.append(f"\n… và {len(findings) - 200} dòng khác (xem `thidua check`).")
    return "\n".join(lines) + "\n"


def skipped_markdown(plan, milestone: str, stage: str, instant: dt.datetime, reason: str) -> str:
    m = plan.milestone(milestone)
    return (
        f"# {m.name}: đợt {stage_label(stage)} — KHÔNG GỬI\n\n"
        f"Lần chạy lúc {vn_datetime(instant.astimezone(plan.tz))} bị trễ so với lịch: {reason}. "
        "Không có thư nào được gửi.\n"
    )


def year_overview(plan, table: pd.DataFrame, instant: dt.datetime) -> str:
    """The latest state of every milestone of the year, and what comes next."""
    local = instant.astimezone(plan.tz)
    lines = [
        f"# {plan.area_short_name}: tổng quan năm {plan.year}",
        "",
        f"Cập nhật lúc {vn_datetime(local)}.",
        "",
        "| Mốc | Hạn | Đúng hạn | Muộn | Chưa đủ | Chưa nộp | Quá hạn |",
        "|---|---|---|---|---|---|---|",
    ]
    for m in plan.milestones:
        rows = table[table["milestone"] == m.id]
        if rows.empty:
            continue
        c = state_counts(rows)
        deadline = vn_date_weekday(m.deadline) if m.deadline else "chưa ấn định hạn"
        lines.append(
            f"| {m.name} | {deadline} | {c['on_time']} | {c['late']} | {c['incomplete']} | {c['missing']} | "
            f"{int(rows['overdue'].sum())} |"
        )
    upcoming = [t for t in triggers(plan) if t.at > local][:5]
    if upcoming:
        lines += ["", "## Sắp tới", ""]
        lines += [f"- {vn_datetime(t.at)}: {t.milestone} {t.stage}" for t in upcoming]
    return "\n".join(lines) + "\n"
