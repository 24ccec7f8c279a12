"""Things in a valid plan a coordinator should look at (warnings of `thidua check`)."""

from __future__ import annotations

import datetime as dt
import re

from tasks.dates import by_day, deadline_note, deadline_words, vn_date_weekday, written_last_day
from tasks.plan import Plan
from tasks.schedule import triggers


def plan_is_over(plan: Plan, now: dt.datetime) -> str | None:
    """Why serving this plan would do nothing (every action is in the past), or None."""
    actions = triggers(plan)
    if actions and max(t.at for t in actions) > now:
        return None
    next_year = max(now.year if now.month < 10 else now.year + 1, plan.year + 1)  # late in a year: the next
    return (
        f"Kế hoạch năm {plan.year} đã hết: mọi việc trong lịch đều đã qua, không còn gì để chạy. "
        f"Tạo kế hoạch năm mới bằng `thidua plan new --year {next_year}`, điền số và ngày ban hành, "
        "rồi đặt THIDUA_PLAN là tệp mới."
    )


def placeholders(plan: Plan) -> list[str]:
    """What a plan made by `thidua plan new` still lacks."""
    out = []
    if not plan.document_number:
        example = f"12/{plan.symbol('KH')}"
        out.append(
            f"document_number: chưa điền số kế hoạch (ví dụ {example}); thư và báo cáo chưa trích dẫn được"
        )
    if plan.issued is None:
        out.append("issued: chưa điền ngày ban hành kế hoạch; thư chưa lấy kế hoạch làm căn cứ")
    lead = plan.leadership
    if not lead.signer_title or not lead.signer_name:
        out.append(
            "leadership.signer_title, signer_name: chưa điền chức vụ, họ tên người ký; "
            "văn bản để trống chỗ ký"
        )
    for i, c in enumerate(plan.contacts):
        if c.active and not c.name:
            out.append(
                f"contacts[{i}].name: chưa có họ tên đầu mối của {plan.unit_names.get(c.unit, c.unit)}"
            )
    for i, basis in enumerate(plan.legal_bases):
        older = sorted({int(y) for y in re.findall(r"năm (\d{4})", basis) if int(y) < plan.year})
        if older:
            out.append(
                f"legal_bases[{i}]: căn cứ nói về năm {', '.join(map(str, older))}; "
                f"xem lại cho năm {plan.year}"
            )
    return out


def outdated(plan: Plan) -> list[str]:
    """Bodies and provinces a plan of 2026 or later still names though they no longer exist (the
    2025 merger of provinces and reorganisation of THADS); nothing for the years before."""
    if plan.year < 2026:
        return []
    from tasks.admin_units import outdated_names  # the provinces' data: only when it applies

    return [f"tên cũ: {line}" for line in outdated_names(plan)]


def conference_after_report_due(plan: Plan) -> str | None:
    """The year-end report after the vote is due to the superior body on a fixed day: a
    conference held on or after that day (or one whose month runs past it while no day is set)
    makes it late whatever the program does."""
    report = next((r for r in plan.reports if r.kind == "yearend"), None)
    obligation = plan.obligation(report.obligation) if report else None
    due = obligation.deadline if obligation else None
    if obligation is None or due is None:
        return None
    last = written_last_day(plan, due)
    held = plan.conference_recorded
    conference = plan.conference_milestone
    to_whom = f"{obligation.name} ({deadline_words(plan, due)})"
    if held is not None and held >= last:
        return (
            f"voting.day: Hội nghị tổng kết ngày {vn_date_weekday(held)}, không kịp trước hạn {to_whom}: "
            "báo cáo sau Hội nghị sẽ muộn; chọn ngày Hội nghị sớm hơn"
        )
    if held is None and conference and conference.period and conference.period.end >= last:
        return (
            f"voting.day: chưa có ngày Hội nghị tổng kết; Hội nghị có thể họp đến "
            f"{vn_date_weekday(conference.period.end)}, sau hạn {to_whom}: ghi voting.day trước hạn đó "
            "(đến khi có, bản sau Hội nghị chỉ được lập khi Hội nghị được ghi là đã tổ chức)"
        )
    return None


def plan_warnings(plan: Plan, now: dt.datetime | None = None) -> list[str]:
    """Things in a valid plan a coordinator should look at: what is still to fill, a plan whose
    year is over, deadlines on days off or outside the plan year, milestones with no date."""
    warnings = placeholders(plan) + outdated(plan)
    over = plan_is_over(plan, now or dt.datetime.now(plan.tz))
    if over:
        warnings.append(over)
    dated = [(f"milestones[{m.id}].deadline", m.deadline) for m in plan.milestones]
    dated += [(f"area_obligations[{o.id}].deadline", o.deadline) for o in plan.area_obligations]
    for key, day in dated:
        if day is None:
            continue
        if day.year != plan.year:
            warnings.append(f"{key}: {day:%d/%m/%Y} nằm ngoài năm kế hoạch {plan.year} (gõ nhầm năm?)")
        note = deadline_note(plan, day)
        if note:  # the very sentence the reminders carry
            warnings.append(f"{key}: hạn {by_day(plan)} {vn_date_weekday(day)}; thư nhắc sẽ ghi: {note}")
    if late := conference_after_report_due(plan):
        warnings.append(late)
    for m in plan.milestones:
        if m.units_owe and m.deadline is None:
            warnings.append(
                f"milestones[{m.id}].deadline: chưa có hạn, nên chưa có thư nhắc; điền ngày khi có "
                "hướng dẫn cụ thể"
            )
    return warnings
