"""Things in a valid plan a coordinator should look at (warnings of `thidua check`)."""

from __future__ import annotations

from tasks.dates import day_off_reason, vn_date_weekday
from tasks.plan import Plan


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
