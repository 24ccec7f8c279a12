import datetime as dt
import unicodedata

import pytest

from tasks.parse import parse_number, parse_timestamp
from tasks.text import clean, match_key


def test_old_and_new_tone_placement_match():
    assert match_key("Sở Tư pháp tỉnh Hoà Bình") == match_key("Sở Tư pháp tỉnh Hòa Bình")
    assert match_key("Thuỷ") == match_key("Thủy")


def test_nfd_case_and_spaces_do_not_matter():
    nfd = unicodedata.normalize("NFD", "Cục Thi hành án dân sự tỉnh Sơn La")
    assert match_key(f"  {nfd.upper()}  ") == match_key("Cục Thi hành án dân sự tỉnh Sơn La")


def test_different_tones_stay_different():
    assert match_key("Lào Cai") != match_key("Lạo Cai")


def test_clean_removes_line_breaks_and_controls():
    assert clean("Sở Tư pháp\r\nBcc: x@evil.example") == "Sở Tư pháp Bcc: x@evil.example"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("20/06/2021 10:15:00", dt.datetime(2021, 6, 20, 10, 15)),  # Google Forms, vi_VN
        ("5/7/2021", dt.datetime(2021, 7, 5)),
        ("2021-06-18T09:00", dt.datetime(2021, 6, 18, 9)),
        ("44362.375", dt.datetime(2021, 6, 15, 9)),  # sheet serial number
    ],
)
def test_timestamps_in_the_forms_sheets_write(plan, text, expected):
    assert parse_timestamp(text, plan.tz) == expected.replace(tzinfo=plan.tz)


def test_timestamp_with_offset_is_converted_to_local(plan):
    moment = parse_timestamp("2021-06-19T20:00:00+00:00", plan.tz)
    assert (moment.day, moment.hour) == (20, 3)


@pytest.mark.parametrize("bad", ["31/06/2021 09:00", "hôm qua", "18/06", "12"])
def test_malformed_dates_are_refused_with_the_value(plan, bad):
    with pytest.raises(ValueError, match="không"):
        parse_timestamp(bad, plan.tz)


@pytest.mark.parametrize(
    ("text", "expected"), [("1,5", 1.5), ("1.234,5", 1234.5), ("1.234", 1234), ("95,5", 95.5), ("7", 7)]
)
def test_vietnamese_numbers(text, expected):
    assert parse_number(text) == expected


def test_not_a_number():
    with pytest.raises(ValueError, match="không phải là số"):
        parse_number("mười")
