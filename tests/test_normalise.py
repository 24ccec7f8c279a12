"""Each messy case of the sample workbook, and the sheet contract's header rules."""

import unicodedata

import pytest

from config.make_sample_workbook import main as make_sample
from tasks.normalise import normalise
from tasks.source import SourceError, WorkbookSource
from tests.helpers import HEADER, SAMPLE


def rows_of(sample, unit, milestone="so-ket"):
    s = sample.data.submissions
    return s[(s.unit == unit) & (s.milestone == milestone)]


def test_shipped_sample_is_what_the_script_writes(tmp_path):
    fresh = tmp_path / "sample.xlsx"
    make_sample(fresh)
    assert WorkbookSource(fresh).read_tabs() == WorkbookSource(SAMPLE).read_tabs()


def test_unknown_unit_is_rejected_with_its_row(sample):
    finding = next(f for f in sample.data.findings if "Hà Tây" in f.reason)
    assert finding.tab == "Nộp hồ sơ" and finding.dropped
    raw = WorkbookSource(SAMPLE).read_tabs()["Nộp hồ sơ"]
    assert raw[finding.row - 1][1] == "Sở Tư pháp tỉnh Hà Tây"


def test_malformed_date_is_rejected_not_dropped_silently(sample):
    finding = next(f for f in sample.data.findings if "31/06/2021" in f.reason)
    assert "Thời gian nộp" in finding.reason
    assert finding.value == "Sở Tư pháp tỉnh Cao Bằng"
    assert set(rows_of(sample, "STP-CBA").kind) == {"Báo cáo sơ kết"}


def test_nfd_unit_name_is_resolved(sample):
    raw = WorkbookSource(SAMPLE).read_tabs()["Nộp hồ sơ"]
    assert any(
        unicodedata.is_normalized("NFD", r[1]) and not r[1].isascii()
        for r in raw[1:]
        if "Sơn La" in unicodedata.normalize("NFC", r[1])
    )
    assert len(rows_of(sample, "THADS-SLA")) == 2


def test_tone_mark_spellings_and_codes_are_resolved(sample):
    assert len(rows_of(sample, "STP-HBI")) == 2  # written "Hòa Bình"
    assert len(rows_of(sample, "THADS-HBI")) == 2  # written "Cục THADS tỉnh Hoà Bình"
    assert len(rows_of(sample, "STP-LSO")) == 2  # written by its code


def test_phone_number_keeps_its_leading_zero(sample):
    assert "0913483228" in set(rows_of(sample, "STP-LCA").note)


def test_serial_and_iso_timestamps(sample, plan):
    lca = rows_of(sample, "THADS-LCA").submitted_at.iloc[0]
    assert (lca.day, lca.month, lca.hour) == (15, 6, 9)
    tng = rows_of(sample, "STP-TNG").submitted_at.iloc[0]
    assert (tng.day, tng.hour, tng.minute) == (16, 10, 30)


def test_decimal_comma(sample):
    scores = sample.data.scores.set_index("unit")["score"]
    assert scores["STP-YBA"] == 95.5
    ind = sample.data.indicators
    rate = ind[(ind.unit == "STP-YBA") & (ind.indicator.str.startswith("Tỷ lệ"))]["value"]
    assert list(rate) == [1.5, 1.5]


def test_headers_match_whatever_the_case_form_or_spacing(plan):
    header = [f"  {unicodedata.normalize('NFD', h.upper())} " for h in HEADER]
    raw = {"Nộp hồ sơ": [header, ["18/06/2021 09:00", "STP-YBA", "so-ket", "báo cáo sơ kết", "12", "", ""]]}
    data = normalise(plan, raw)
    assert data.findings == []
    assert list(data.submissions.kind) == ["Báo cáo sơ kết"]


def test_google_form_question_titles_map_through_the_plan(plan):
    header = ["Dấu thời gian", "Tên đơn vị", "Mốc", "Loại hồ sơ"]
    raw = {
        "Nộp hồ sơ": [
            header,
            ["18/06/2021 09:00:00", "Sở Tư pháp tỉnh Yên Bái", "Sơ kết 6 tháng", "Báo cáo tóm tắt"],
        ]
    }
    data = normalise(plan, raw)
    assert list(data.submissions.unit) == ["STP-YBA"]


def test_missing_submissions_tab_is_a_clear_error(plan):
    with pytest.raises(SourceError, match="không có trang tính 'Nộp hồ sơ'"):
        normalise(plan, {"Đăng ký": [["Đơn vị", "Danh hiệu"]]})


def test_missing_and_duplicated_headers_are_named(plan):
    with pytest.raises(SourceError, match="thiếu cột 'Loại hồ sơ'"):
        normalise(plan, {"Nộp hồ sơ": [["Thời gian nộp", "Đơn vị", "Mốc"]]})
    with pytest.raises(SourceError, match="'Đơn vị' bị trùng"):
        normalise(plan, {"Nộp hồ sơ": [[*HEADER, "Đơn vị"]]})


def test_bad_page_count_keeps_the_row_and_says_so(plan):
    raw = {"Nộp hồ sơ": [HEADER, ["18/06/2021 09:00", "STP-YBA", "so-ket", "Báo cáo sơ kết", "mười", "", ""]]}
    data = normalise(plan, raw)
    assert len(data.submissions) == 1
    assert not data.findings[0].dropped and "Số trang" in data.findings[0].reason


def test_unknown_document_kind_lists_the_accepted_ones(plan):
    raw = {"Nộp hồ sơ": [HEADER, ["18/06/2021 09:00", "STP-YBA", "so-ket", "Bảng tự chấm điểm", "", "", ""]]}
    (finding,) = normalise(plan, raw).findings
    assert "Báo cáo sơ kết; Báo cáo tóm tắt" in finding.reason and finding.row == 2


def test_broken_workbook_file(tmp_path):
    bad = tmp_path / "broken.xlsx"
    bad.write_bytes(b"not a zip")
    with pytest.raises(SourceError, match="Không đọc được"):
        WorkbookSource(bad).read_tabs()
