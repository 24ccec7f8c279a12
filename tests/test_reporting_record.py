"""The annex "Tình hình thực hiện chế độ thông tin, báo cáo" (issue 24, item 6): each unit's
documents of the period — on time, late by how many days, not sent, sent by e-mail — with its
totals and the area's, the same numbers `status` gives, in the DOCX and its XLSX annex."""

from __future__ import annotations

import dataclasses
import datetime as dt

import docx
import pandas as pd
import pytest
from openpyxl import load_workbook

from tasks.inputs import assess
from tasks.normalise import MAIL_ROW
from tasks.report_files import RECORD_SHEET, write_docx, write_xlsx
from tasks.reporting_record import LATE, MISSING, ON_TIME
from tasks.reports import compile_report
from tests.helpers import local


@pytest.fixture(scope="module")
def yearend(sample, plan):
    at = local(plan, 2021, 11, 16, 8)
    return compile_report(plan, sample, assess(sample, at), "yearend", at)


def annex_table(document):
    return next(t for t in document.tables if t.rows[0].cells[0].text == "STT")


def unit_row(record, name):
    return next(u.row() for u in record.units if u.unit == name)


def test_the_year_end_report_annexes_how_each_unit_kept_its_reporting_duties(yearend, tmp_path):
    d = docx.Document(write_docx(yearend, tmp_path / "bao-cao.docx"))
    text = "\n".join(p.text for p in d.paragraphs)
    assert "TÌNH HÌNH THỰC HIỆN CHẾ ĐỘ THÔNG TIN, BÁO CÁO CỦA CÁC ĐƠN VỊ" in text
    assert "(Đăng ký thi đua, Sơ kết 6 tháng, Tổng kết năm)" in text
    assert d.sections[-1].page_width > d.sections[-1].page_height  # its own landscape page
    rows = [[c.text for c in r.cells] for r in annex_table(d).rows]
    assert rows[0][:3] == ["STT", "Đơn vị", "Phải gửi"] and len(rows) == 1 + 28 + 1
    by_unit = {r[1]: r for r in rows[1:]}
    # the sample's Hà Giang sent its three year-end documents on 12/11 for "trước ngày 10/11"
    assert by_unit["Sở Tư pháp tỉnh Hà Giang"][2:8] == ["6", "3", "3", "9", "0", "0"]
    assert by_unit["Sở Tư pháp tỉnh Hà Giang"][8] == "Tổng kết năm: muộn 3 ngày (cả 3 văn bản)"
    assert by_unit["Sở Tư pháp tỉnh Lai Châu"][2:8] == ["6", "0", "0", "0", "6", "0"]
    total = rows[-1]
    assert total[1] == "Cộng" and total[2:8] == [str(sum(int(r[i]) for r in rows[1:-1])) for i in range(2, 8)]
    # units in the same order as every other table of the report and its XLSX annex
    assert [r[1] for r in rows[1:-1]] == [u["unit"] for u in yearend.discipline_units]


def test_late_by_how_many_days_counts_from_the_last_day_on_time(yearend, sample, plan):
    """ "trước ngày 20/02/2021" (a Saturday; the plan reads it literally): the last day on time is
    19/02; a registration first sent on 22/02 is three days late."""
    docs = [d for d in yearend.record.documents if d.unit == "Sở Tư pháp tỉnh Điện Biên"]
    registration = next(d for d in docs if d.document == "Bản đăng ký thi đua")
    subs = sample.data.submissions
    first = subs[
        (subs["unit"] == plan.unit_named("Sở Tư pháp tỉnh Điện Biên").code) & (subs["milestone"] == "dang-ky")
    ]
    sent = first["submitted_at"].min().astimezone(plan.tz).date()
    assert registration.last_day == dt.date(2021, 2, 19)
    assert registration.sent == sent and registration.state == LATE
    assert registration.days_late == (sent - dt.date(2021, 2, 19)).days == 3


def test_the_annex_gives_the_numbers_status_gives(yearend, sample, plan):
    """A document late in the annex is one `status` says "nộp muộn"; a missing one is in its
    "còn thiếu"; a unit owes what `status` says it owes."""
    table = assess(sample, yearend.instant)
    names = {m.name: m.id for m in plan.milestones}
    for row in table[table["milestone"].isin([names[n] for n in yearend.record.milestones])].itertuples():
        docs = [
            d
            for d in yearend.record.documents
            if d.unit == row.unit_name and names[d.milestone] == row.milestone
        ]
        assert sorted(d.document for d in docs) == sorted(row.required)
        assert sorted(d.document for d in docs if d.state == MISSING) == sorted(row.missing)
        late = {p.split(":")[0] for p in row.problems if "nộp muộn" in p}
        assert {d.document for d in docs if d.state == LATE} == late & set(row.required)
        on_time = row.state == "on_time"
        assert on_time == all(d.state == ON_TIME for d in docs)


def test_the_mid_year_annex_covers_its_half_only(sample, plan, tmp_path):
    at = local(plan, 2021, 6, 24, 8)
    data = compile_report(plan, sample, assess(sample, at), "midyear", at)
    assert data.record.milestones == ["Đăng ký thi đua", "Sơ kết 6 tháng"]
    d = docx.Document(write_docx(data, tmp_path / "so-ket.docx"))
    rows = [[c.text for c in r.cells] for r in annex_table(d).rows]
    assert {r[2] for r in rows[1:-1]} == {"3"}  # a registration, a report and its summary
    assert not any("Tổng kết" in r[8] for r in rows)


def test_a_document_found_in_a_mail_is_counted_as_sent_by_email(sample, plan, tmp_path):
    lai_chau = plan.unit_named("Sở Tư pháp tỉnh Lai Châu").code
    mailed = {
        "row": MAIL_ROW,
        "submitted_at": local(plan, 2021, 6, 25, 9, 30),
        "unit": lai_chau,
        "milestone": "so-ket",
        "kind": "Báo cáo sơ kết",
        "pages": None,
        "link": "",
        "note": "",
        "inspected": "",
        "origin": "thư điện tử của vanthu@laichau.example, <1@laichau.example>",
    }
    subs = pd.concat([sample.data.submissions, pd.DataFrame([mailed])], ignore_index=True)
    inputs = dataclasses.replace(sample, data=dataclasses.replace(sample.data, submissions=subs))
    at = local(plan, 2021, 6, 30, 8)
    data = compile_report(plan, inputs, assess(inputs, at), "midyear", at)
    row = unit_row(data.record, "Sở Tư pháp tỉnh Lai Châu")
    assert (row["late"], row["days_late"], row["by_mail"], row["missing"]) == (1, 6, 1, 2)
    assert "Sơ kết 6 tháng – Báo cáo sơ kết: muộn 6 ngày" in row["notes"]
    book = load_workbook(write_xlsx(data, tmp_path / "phu-luc.xlsx"))
    lines = list(book[RECORD_SHEET].iter_rows(min_row=2, values_only=True))
    assert lines[0] == (
        "Khối",
        "Đơn vị",
        "Mốc",
        "Văn bản",
        "Hạn cuối (ngày)",
        "Ngày gửi",
        "Tình trạng",
        "Số ngày muộn",
        "Cách gửi",
    )
    mine = [r for r in lines if r[1] == "Sở Tư pháp tỉnh Lai Châu" and r[3] == "Báo cáo sơ kết"]
    assert mine == [
        (
            "Sở Tư pháp",
            "Sở Tư pháp tỉnh Lai Châu",
            "Sơ kết 6 tháng",
            "Báo cáo sơ kết",
            dt.datetime(2021, 6, 19),
            dt.datetime(2021, 6, 25),
            "Muộn",
            6,
            "thư điện tử",
        )
    ]
