"""Dates as Vietnamese documents write them, and working days (weekends, public holidays with
lunar Tết, the plan's extra days off)."""

from __future__ import annotations

import datetime as dt
from functools import cache

import holidays

from tasks.plan import Plan

WEEKDAYS = ["Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu", "Thứ Bảy", "Chủ nhật"]


def vn_date(day: dt.date) -> str:
    return day.strftime("%d/%m/%Y")


def vn_date_weekday(day: dt.date) -> str:
    """'20/06/2021 (Chủ nhật)': every deadline a unit reads carries its weekday."""
    return f"{vn_date(day)} ({WEEKDAYS[day.weekday()]})"


def by_day(plan: Plan) -> str:
    """How the plan words a deadline's day: "trước ngày" (by the day before), or "hết ngày" for
    a plan whose deadlines include their day (`deadline_rule: end_of_day`)."""
    return "hết ngày" if plan.deadline_rule == "end_of_day" else "trước ngày"


def deadline_words(plan: Plan, day: dt.date | None) -> str:
    """'hạn trước ngày 20/06/2021 (Chủ nhật)' or 'hạn hết ngày …', as the plan words its deadlines."""
    return f"hạn {by_day(plan)} {vn_date_weekday(day)}" if day else "chưa ấn định hạn"


def vn_weekday_datetime(moment: dt.datetime) -> str:
    """'Thứ Sáu 18/06/2021 lúc 08:00': a scheduled moment as a coordinator reads it."""
    return f"{WEEKDAYS[moment.weekday()]} {moment:%d/%m/%Y} lúc {moment:%H:%M}"


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


def deadline_after(plan: Plan, anchor: dt.date, days: int) -> dt.date:
    """ "Chậm nhất N ngày sau X" as a deadline of the plan's rule: the Nth day after X is the last
    allowed one (a "trước ngày" deadline is the day after it)."""
    return anchor + dt.timedelta(days=days + (1 if plan.deadline_rule == "before_day" else 0))


def written_last_day(plan: Plan, deadline: dt.date) -> dt.date:
    """The last allowed day as the plan writes it: "trước ngày X" is by the day before X."""
    return deadline - dt.timedelta(days=1) if plan.deadline_rule == "before_day" else deadline


def effective_deadline(plan: Plan, deadline: dt.date) -> dt.date:
    """The deadline as the plan's day-off rule reads it: unchanged, or with the civil code, moved
    as far as its last allowed day moves when that day is a day off (to the next working day)."""
    if plan.day_off_rule != "civil_code":
        return deadline
    written = written_last_day(plan, deadline)
    return deadline + (shift_to_working_day(plan, written, +1) - written)


def due_instant(plan: Plan, deadline: dt.date) -> dt.datetime:
    """The first instant at which a submission for this deadline is late."""
    day = effective_deadline(plan, deadline)
    if plan.deadline_rule == "end_of_day":
        day += dt.timedelta(days=1)
    return dt.datetime.combine(day, dt.time(0, 0), tzinfo=plan.tz)


def last_day(plan: Plan, deadline: dt.date) -> dt.date:
    """The last day a submission is on time, the day-off rule applied."""
    return (due_instant(plan, deadline) - dt.timedelta(seconds=1)).date()


def deadline_note(plan: Plan, deadline: dt.date) -> str | None:
    """What a unit must know when the written last day is a day off, or None: the last working
    day before it (literal reading), or the period's end moved by the civil code. `check` says
    the same sentence, so what it promises is what units read."""
    written = written_last_day(plan, deadline)
    reason = day_off_reason(plan, written)
    if reason is None:
        return None
    kind = "ngày nghỉ cuối tuần" if reason in WEEKDAYS else f"ngày nghỉ ({reason})"
    head = f"Lưu ý: ngày cuối cùng của hạn, {vn_date_weekday(written)}, là {kind}; "
    if plan.day_off_rule == "civil_code":
        return head + (
            "theo Điều 148 Bộ luật Dân sự 2015, hạn kéo dài đến hết ngày "
            f"{vn_date_weekday(last_day(plan, deadline))}."
        )
    return (
        head
        + f"ngày làm việc cuối cùng trước hạn là {vn_date_weekday(shift_to_working_day(plan, written, -1))}."
    )


def time_left_words(plan: Plan, deadline: dt.date, today: dt.date) -> str:
    """How long a unit still has, counted to the last allowed day: "hôm nay là ngày cuối cùng",
    "còn 10 ngày, trong đó 3 ngày làm việc" when days off fall in between."""
    last = last_day(plan, deadline)
    days = (last - today).days
    if days <= 0:
        return "hôm nay là ngày cuối cùng" if days == 0 else "đã quá hạn"
    working = sum(is_working_day(plan, today + dt.timedelta(days=k)) for k in range(1, days + 1))
    if working == 0:
        return "hôm nay là ngày làm việc cuối cùng trước hạn"
    if working < days:
        return f"còn {days} ngày, trong đó {working} ngày làm việc"
    return f"còn {days} ngày"


def vn_time_words(moment: dt.datetime) -> str:
    """'08 giờ 00 ngày 09/02/2021': a moment inside a sentence of a letter."""
    return f"{moment:%H} giờ {moment:%M} ngày {moment:%d/%m/%Y}"
