"""Working days, Vietnamese date wording, and the plan's triggers (every dated action of the year)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cache

import holidays

from tasks.plan import Plan

WEEKDAYS = ["Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu", "Thứ Bảy", "Chủ nhật"]


def vn_date(day: dt.date) -> str:
    return day.strftime("%d/%m/%Y")


def vn_date_weekday(day: dt.date) -> str:
    """'20/06/2021 (Chủ nhật)': every deadline a unit reads carries its weekday."""
    return f"{vn_date(day)} ({WEEKDAYS[day.weekday()]})"


def vn_datetime(moment: dt.datetime) -> str:
    return moment.strftime("%H:%M %d/%m/%Y")


@cache
def _public_holidays(year: int) -> dict[dt.date, str]:
    return dict(holidays.country_holidays("VN", years=[year - 1, year, year + 1], language="vi"))


def day_off_reason(plan: Plan, day: dt.date) -> str | None:
    """Why `day` is not a working day, in Vietnamese, or None for a working day."""
    if day in plan.extra_days_off:
        return "ngày nghỉ bổ sung theo kế hoạch"
    name = _public_holidays(day.year).get(day)
    if name:
        return f"ngày lễ: {name}"
    if day.weekday() >= 5:
        return WEEKDAYS[day.weekday()]
    return None


def is_working_day(plan: Plan, day: dt.date) -> bool:
    return day_off_reason(plan, day) is None


def shift_to_working_day(plan: Plan, day: dt.date, direction: int) -> dt.date:
    """Move to the nearest working day: earlier (direction -1) or later (+1)."""
    while not is_working_day(plan, day):
        day += dt.timedelta(days=direction)
    return day


@dataclass(frozen=True, order=True)
class Trigger:
    """One dated action: a reminder round (`before-N`) or an overdue round (`overdue-N`) of a
    milestone, each followed by the coordinators' digest."""

    at: dt.datetime
    milestone: str
    stage: str
    nominal_day: dt.date  # the day the rule gives, before the working-day shift

    @property
    def kind(self) -> str:
        return "overdue" if self.stage.startswith("overdue") else "reminder"

    @property
    def shifted(self) -> bool:
        return self.at.date() != self.nominal_day


def stage_name(kind: str, days: int) -> str:
    return f"{'before' if kind == 'reminder' else 'overdue'}-{days}"


def triggers(plan: Plan) -> list[Trigger]:
    """Every reminder and overdue round of the year, in time order.

    "Before" rounds move to the previous working day, overdue rounds to the next one (moving an
    overdue notice earlier could send it before the deadline). When two rounds of one milestone
    land on the same day, only the one closer to the deadline is kept.
    """
    out: list[Trigger] = []
    send_time = plan.reminders.send_time
    for m in plan.milestones:
        if not (m.units_owe and m.deadline):
            continue
        by_day: dict[dt.date, Trigger] = {}
        rounds = [("reminder", d, -1) for d in sorted(plan.reminders.before_days, reverse=True)]
        rounds += [("overdue", d, +1) for d in sorted(plan.reminders.overdue_days)]
        for kind, days, direction in rounds:
            nominal = m.deadline + dt.timedelta(days=days * (1 if kind == "overdue" else -1))
            day = shift_to_working_day(plan, nominal, direction)
            at = dt.datetime.combine(day, send_time, tzinfo=plan.tz)
            if kind == "overdue" and at < plan.due_instant(m.deadline):
                continue
            # later rounds of the loop are closer to (or past) the deadline: they win the day
            by_day[day] = Trigger(at, m.id, stage_name(kind, days), nominal)
        out.extend(by_day.values())
    return sorted(out)


def triggers_on_day(plan: Plan, instant: dt.datetime) -> list[Trigger]:
    """The rounds the plan schedules on `instant`'s local day, up to `instant`."""
    local = instant.astimezone(plan.tz)
    return [t for t in triggers(plan) if t.at.date() == local.date() and t.at <= local]
