"""Parsing cells on purpose: dates and numbers as Vietnamese sheets write them."""

from __future__ import annotations

import datetime as dt
import math
import re
from zoneinfo import ZoneInfo

_SHEETS_EPOCH = dt.datetime(1899, 12, 30)
_DMY = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})(?:[ ,T]+(\d{1,2}):(\d{2})(?::(\d{2}))?)?$")
_SERIAL = re.compile(r"^\d{4,6}(?:[.,]\d+)?$")
_THOUSANDS_DOT = re.compile(r"^-?\d{1,3}(?:\.\d{3})+$")


def parse_timestamp(text: str, tz: ZoneInfo) -> dt.datetime:
    """dd/mm/yyyy[ hh:mm[:ss]] (vi_VN, Google Forms' "Dấu thời gian"), ISO 8601, or a sheet
    serial day number. A value without an offset is local time in `tz`. Raises ValueError."""
    text = text.strip()
    if not text:
        raise ValueError("ô trống")
    moment: dt.datetime | None = None
    if m := _DMY.match(text):
        day, month, year, hour, minute, second = m.groups()
        try:
            moment = dt.datetime(
                int(year), int(month), int(day), int(hour or 0), int(minute or 0), int(second or 0)
            )
        except ValueError:
            raise ValueError(f"'{text}' không phải là ngày có thật") from None
    elif _SERIAL.match(text):
        days = float(text.replace(",", "."))
        if not 20000 < days < 80000:  # 1954..2118: anything else is not a date someone meant
            raise ValueError(f"'{text}' không phải là ngày hợp lệ")
        moment = _SHEETS_EPOCH + dt.timedelta(days=days)
        moment = moment.replace(microsecond=0)
    else:
        try:
            moment = dt.datetime.fromisoformat(text)
        except ValueError:
            raise ValueError(
                f"'{text}' không phải là ngày giờ hợp lệ (viết dd/mm/yyyy hh:mm, ví dụ 18/06/2021 09:30)"
            ) from None
    try:
        return moment.replace(tzinfo=tz) if moment.tzinfo is None else moment.astimezone(tz)
    except OverflowError:
        raise ValueError(f"'{text}' không phải là ngày giờ hợp lệ") from None


def in_years(moment: dt.datetime, first: int, last: int) -> dt.datetime:
    """`moment` if its year is within first..last, else ValueError: a year-1 or year-9999 date is
    a typing error, never on time nor never due."""
    if not first <= moment.year <= last:
        raise ValueError(f"năm {moment.year} nằm ngoài năm kế hoạch (chỉ nhận {first}–{last}); gõ nhầm năm?")
    return moment


def in_range(value: float, low: float, high: float) -> float:
    if not low <= value <= high:
        raise ValueError(f"{_vn(value)} nằm ngoài khoảng hợp lý ({_vn(low)} đến {_vn(high)})")
    return value


def _vn(value: float) -> str:
    return f"{value:_.15g}".replace("_", ".") if abs(value) < 1e15 else f"{value:g}"


def parse_number(text: str) -> float:
    """A number as a vi_VN sheet shows it: decimal comma, dot for thousands ('1.234,5').
    A lone dot that is not a thousands group is read as a decimal point ('1.5')."""
    raw = text.strip().replace(" ", "").replace("\u00a0", "")
    if not raw:
        raise ValueError("ô trống")
    if "," in raw:
        raw = raw.replace(".", "").replace(",", ".")
    elif _THOUSANDS_DOT.match(raw):
        raw = raw.replace(".", "")
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"'{text}' không phải là số") from None
    if not math.isfinite(value):
        raise ValueError(f"'{text}' không phải là số")
    return value


def parse_int(text: str) -> int:
    value = parse_number(text)
    if not value.is_integer() or value < 0:
        raise ValueError(f"'{text}' không phải là số nguyên không âm")
    return int(value)
