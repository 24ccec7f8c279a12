"""The Markdown summary of a round, published as a Prefect artifact for coordinators."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from tasks.calendar import vn_date_weekday, vn_datetime
from tasks.completeness import STATE_LABELS, State
from tasks.compose import stage_label


def _cell(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


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
    deadline = vn_date_weekday(m.deadline) if m.deadline else "chưa ấn định"
    lines = [
        f"# {m.name}: đợt {stage_label(stage)}",
        "",
        f"Thời điểm: {vn_datetime(instant.astimezone(plan.tz))} · hạn trước ngày {deadline} · "
        f"nguồn: {inputs.source}" + (" · **CHẠY THỬ: không gửi thư**" if dry_run else ""),
        "",
        "| Tình trạng | Số đơn vị |",
        "|---|---|",
    ]
    counts = rows["state"].value_counts()
    lines += [f"| {STATE_LABELS[s]} | {int(counts.get(s.value, 0))} |" for s in State]
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
    complete = [r.unit_name for r in rows.itertuples() if not r.missing]
    lines += ["", f"## Đã đủ hồ sơ ({len(complete)})", "", ", ".join(complete) or "(chưa có)"]
    problems = [f"- {_cell(r.unit_name)}: {_cell(p)}" for r in rows.itertuples() for p in r.problems]
    if problems:
        lines += ["", "## Vấn đề trong hồ sơ", "", *problems]
    findings = inputs.data.findings
    if findings:
        lines += ["", "## Dòng bảng tính không đọc được", "", "| Tab | Dòng | Lý do |", "|---|---|---|"]
        lines += [f"| {_cell(f.tab)} | {f.row} | {_cell(f.reason)} |" for f in findings]
    return "\n".join(lines) + "\n"
