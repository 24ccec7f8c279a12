"""What a coordinator reads in the Prefect UI, without a server: run names, stage words, team
names instead of slugs, a failure's cause without a library's words, an overview that fits.
(Names, tags and the Run form read back from a real served server: tests/test_schedule.py.)"""

from __future__ import annotations

import datetime as dt

from flows.common import for_people
from tasks.inputs import assess
from tasks.round_artifacts import year_overview
from tasks.schedule import Trigger, describe, run_title, stage_words
from tasks.teams import Team, Visit
from tests.helpers import local


def test_runs_are_named_by_what_they_do_about_what_and_when(plan):
    at = local(plan, 2021, 2, 17, 8)
    assert (
        run_title(plan, "dang-ky", "before-3", at) == "Nhắc trước hạn 3 ngày · Đăng ký thi đua · 17/02/2021"
    )
    assert run_title(plan, "so-ket", "overdue-1", at) == "Quá hạn 1 ngày · Sơ kết 6 tháng · 17/02/2021"
    assert (
        run_title(plan, "yearend", "final", at)
        == "Lập bản sau Hội nghị · Báo cáo tổng kết công tác thi đua, khen thưởng năm 2021 · 17/02/2021"
    )
    assert run_title(plan, "bao-cao-so-ket-khu-vuc", "before-7", at).startswith(
        "Khu vực: nhắc trước hạn 7 ngày · Báo cáo sơ kết 6 tháng của Khu vực"
    )
    # an instant in UTC is named by its day in Vietnam
    assert run_title(plan, "so-ket", "before-1", dt.datetime(2021, 6, 17, 20, tzinfo=dt.UTC)).endswith(
        "18/06/2021"
    )


def test_stages_are_words_never_codes():
    assert [stage_words(s) for s in ("before-7", "overdue-3", "compile", "daily", "doan-1.overdue-1")] == [
        "nhắc trước hạn 7 ngày",
        "quá hạn 3 ngày",
        "lập dự thảo",
        "xem hằng ngày",
        "quá hạn 1 ngày",
    ]


def test_a_team_is_named_as_the_sheet_writes_it(plan):
    team = Team(
        name="Đoàn số 1",
        slug="doan-so-1",
        lead="STP-LCA",
        visits=(Visit("STP-YBA", dt.date(2021, 9, 8), dt.date(2021, 9, 10)),),
        last_day=dt.date(2021, 9, 10),
        deadline=dt.date(2021, 9, 20),
    )
    t = Trigger(local(plan, 2021, 9, 13, 8), "kiem-tra", "doan-so-1.before-7", dt.date(2021, 9, 13), "teams")
    words = describe(plan, t, {"kiem-tra": [team]})
    assert words == "Nhắc đơn vị trưởng đoàn của Đoàn số 1 gửi báo cáo, biên bản kiểm tra"
    assert "doan-so-1" not in words


def test_a_failures_cause_reads_without_class_names_or_server_paths():
    raw = (
        "Không đọc được '/srv/thidua/config/bang-tinh-2027.xlsx' như một tệp .xlsx (BadZipFile: File is not "
        "a zip file). Mở tệp bằng Excel/LibreOffice và lưu lại dạng .xlsx."
    )
    assert for_people(raw) == (
        "Không đọc được 'bang-tinh-2027.xlsx' như một tệp .xlsx. "
        "Mở tệp bằng Excel/LibreOffice và lưu lại dạng .xlsx."
    )
    kept = "Đặt THIDUA_SOURCE (ví dụ https://docs.google.com/spreadsheets/d/abc/edit) rồi chạy lại."
    assert for_people(kept) == kept  # settings, examples and links stay


def test_the_years_overview_fits_the_ui(plan, sample):
    at = local(plan, 2021, 7, 1, 9)
    text = year_overview(plan, assess(sample, at), at)
    header = next(line for line in text.splitlines() if line.startswith("| Mốc"))
    assert header.count("|") - 1 == 6  # six columns: a seventh was cut at 1280 px ("Quá hạ…")
    so_ket = next(line for line in text.splitlines() if line.startswith("| Sơ kết 6 tháng"))
    assert "| 20/06/2021 |" in so_ket and "muộn)" in so_ket
