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


def deadline_words(day: dt.date | None) -> str:
    """'hạn trước ngày 20/06/2021 (Chủ nhật)', as the plan words its deadlines."""
    return f"hạn trước ngày {vn_date_weekday(day)}" if day else "chưa ấn định hạn"


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


def last_day(plan: Plan, deadline: dt.date) -> dt.date:
    """The last day a submission is on time ("trước ngày X" means by the day before X)."""
    return (plan.due_instant(deadline) - dt.timedelta(seconds=1)).date()


def working_day_note(plan: Plan, deadline: dt.date) -> str | None:
    """When the last allowed day is a day off, the last working day before it, in words."""
    day = last_day(plan, deadline)
    if is_working_day(plan, day):
        return None
    return vn_date_weekday(shift_to_working_day(plan, day, -1))
