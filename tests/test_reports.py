"""The compiled reports, opened back as a reader would: DOCX (python-docx), XLSX (openpyxl), PDF."""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import subprocess
import threading
import zipfile
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import docx
import pytest
from openpyxl import load_workbook
from pypdf import PdfReader, PdfWriter

from tasks.inputs import assess
from tasks.pages import count_pages
from tasks.plan import load_plan
from tasks.report_files import to_markdown, write_docx, write_xlsx
from tasks.reports import compile_report
from tasks.settings import REPO
from tasks.text import vn_sort_key
from tests.helpers import SAMPLE, local, write_plan


@pytest.fixture(scope="module")
def yearend(sample, plan):
    at = local(plan, 2021, 11, 16, 8)
    return compile_report(plan, sample, assess(sample, at), "yearend", at)


@pytest.fixture(scope="module")
def yearend_docx(yearend, tmp_path_factory):
    return write_docx(yearend, tmp_path_factory.mktemp("r") / "bao-cao-tong-ket-2021.docx")


def all_text(document) -> str:
    parts = [p.text for p in document.paragraphs]
    parts += [c.text for t in document.tables for row in t.rows for c in row.cells]
    return "\n".join(parts)


def table_with(document, header: str):
    return next(t for t in document.tables if t.rows[0].cells[0].text == header)


def test_header_block_and_layout_of_nghi_dinh_30(yearend_docx):
    d = docx.Document(yearend_docx)
    section = d.sections[0]
    assert round(section.page_width.cm, 1) == 21.0 and round(section.page_height.cm, 1) == 29.7
    margins = [round(m.cm, 1) for m in (section.top_margin, section.left_margin, section.right_margin)]
    assert 2.0 <= margins[0] <= 2.5 and 3.0 <= margins[1] <= 3.5 and 1.5 <= margins[2] <= 2.0
    assert d.styles["Normal"].font.name == "Times New Roman" and d.styles["Normal"].font.size.pt in (13, 14)
    left, right = (c.text.rstrip("\n") for c in d.tables[0].rows[0].cells)  # the rule lines are empty
    # the issuer's name on the lines the plan breaks it into, where its phrases end (issue 24:
    # "the letterhead broken between words"; LibreOffice broke "KHỐI / CƠ QUAN" by the cell's width)
    assert "\nKHU VỰC THI ĐUA\nKHỐI CƠ QUAN TƯ PHÁP\nCÁC TỈNH MIỀN NÚI PHÍA BẮC" in left
    assert right == "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM\nĐộc lập - Tự do - Hạnh phúc"
    number, place = (c.text for c in d.tables[0].rows[1].cells)
    assert number.startswith("Số:") and number.endswith("/BC-KVTĐ")
    assert place == "Yên Bái, ngày 16 tháng 11 năm 2021"
    assert d.tables[0].rows[1].cells[1].paragraphs[0].runs[0].italic
    text = all_text(d)
    assert "BÁO CÁO" in text and "TRƯỞNG KHU VỰC THI ĐUA" in text and "Nơi nhận:" in text
    assert "- Lưu: VT, VP." in text
    assert "{{" not in text and "{%" not in text
    assert len(d.inline_shapes) == 1  # the timeliness chart


W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


def test_the_docx_follows_nghi_dinh_30_in_its_xml(yearend, yearend_docx):
    """Rule lines, page numbers from page 2, repeated header rows, rows kept whole, headings and
    the signature kept with what follows, and properties naming the issuing unit."""
    d = docx.Document(yearend_docx)
    left, right = d.tables[0].rows[0].cells
    for cell, text in ((left, "CÁC TỈNH MIỀN NÚI PHÍA BẮC"), (right, "Độc lập - Tự do - Hạnh phúc")):
        paragraphs = cell.paragraphs
        ruled = [i for i, p in enumerate(paragraphs) if p._p.find(f"{W}pPr/{W}pBdr/{W}top") is not None]
        assert len(ruled) == 1 and paragraphs[ruled[0]].text == ""  # one line, under `text`
        assert text in paragraphs[ruled[0] - 1].text
    # the line under the motto is as long as the motto, the one under the issuer shorter
    indent = [cell.paragraphs[-1].paragraph_format.left_indent.cm for cell in (left, right)]
    assert 1.5 < indent[0] < 2.5 and 1.5 < indent[1] < 2.2
    section = d.sections[0]
    assert section.different_first_page_header_footer
    assert not "".join(p.text for p in section.first_page_header.paragraphs).strip()
    fields = section.header._element.findall(f".//{W}fldSimple")
    assert [f.get(f"{W}instr").strip() for f in fields] == ["PAGE"]
    assert section.header.paragraphs[0].alignment == 1  # centred
    units = table_with(d, "Khối")
    assert units.rows[0]._tr.find(f"{W}trPr/{W}tblHeader") is not None
    assert all(r._tr.find(f"{W}trPr/{W}cantSplit") is not None for r in units.rows)
    assert len(units.rows) == 29  # header + 28 units: the loop row kept its properties
    headings = [p for p in d.paragraphs if p.text.startswith(("I. ", "II. ", "III. ", "IV. ", "V. "))]
    assert len(headings) == 5 and all(p.paragraph_format.keep_with_next for p in headings)
    closing = next(p for p in d.paragraphs if p.text.startswith("Trên đây là"))
    assert closing.paragraph_format.keep_with_next
    signature = d.tables[-2]  # the last one is the annex
    assert signature.rows[0]._tr.find(f"{W}trPr/{W}cantSplit") is not None
    props = d.core_properties
    assert props.author == "Sở Tư pháp tỉnh Yên Bái"
    assert props.title == "Báo cáo tổng kết công tác thi đua, khen thưởng năm 2021"
    assert props.created.date() == yearend.instant.date()  # the compiling round's day, not 2013


def test_discipline_figures_match_the_sample(yearend):
    blocks = {b["block"]: b for b in yearend.discipline_blocks}
    assert blocks["Sở Tư pháp"] == {
        "block": "Sở Tư pháp",
        "total": 14,
        "on_time": 12,
        "late": 1,
        "incomplete": 0,
        "missing": 1,
    }
    assert blocks["Cục Thi hành án dân sự"] == {
        "block": "Cục Thi hành án dân sự",
        "total": 14,
        "on_time": 12,
        "late": 0,
        "incomplete": 1,
        "missing": 1,
    }


def test_indicator_sums_match_the_sheet(yearend_docx):
    # hand computation straight from the workbook's cells, independent of normalise
    book = load_workbook(SAMPLE, read_only=True)
    rows = list(book["Số liệu"].iter_rows(values_only=True))[1:]
    expected = {"so-tu-phap": 0, "cuc-thads": 0}
    for unit, milestone, indicator, value in rows:
        if milestone == "tong-ket" and indicator == "Số tập thể được khen thưởng":
            expected["so-tu-phap" if unit.startswith("STP") else "cuc-thads"] += int(value)
    table = table_with(docx.Document(yearend_docx), "Chỉ tiêu")
    row = next(
        [c.text for c in r.cells] for r in table.rows if r.cells[0].text == "Số tập thể được khen thưởng"
    )
    assert row[1:] == [str(expected["so-tu-phap"]), str(expected["cuc-thads"]), str(sum(expected.values()))]
    rate = next([c.text for c in r.cells] for r in table.rows if r.cells[0].text.startswith("Tỷ lệ"))
    assert rate[0].endswith("(bình quân)") and "," in rate[3]  # a rate is averaged, decimal comma


def test_the_draft_before_the_conference_lists_candidates_and_decides_nothing(yearend, yearend_docx):
    """16/11, before the conference votes: candidates with their proposers and dossiers, self-
    scores for information only, and no place decided by a self-score."""
    assert not yearend.final and yearend.nominations and not yearend.results
    lca = next(
        c
        for c in yearend.nominations
        if c["name"] == "Cục Thi hành án dân sự tỉnh Lào Cai" and c["title"] == "Cờ thi đua ngành Tư pháp"
    )
    assert lca["dossier"] == "Thiếu: Biên bản họp Hội đồng thi đua, khen thưởng"
    assert lca["proposed_by"] == "Cục Thi hành án dân sự tỉnh Lào Cai" and lca["score"] == "88,8"
    # a score without its scoring table is shown, flagged, never ranked
    ranked = {r["unit"] for r in yearend.ranking}
    assert "Sở Tư pháp tỉnh Lai Châu" not in ranked and "Cục Thi hành án dân sự tỉnh Điện Biên" not in ranked
    assert any(
        f.startswith("Sở Tư pháp tỉnh Lai Châu: 83 điểm — chưa gửi Bảng tự chấm điểm")
        for f in yearend.score_flags
    )
    text = all_text(docx.Document(yearend_docx))
    assert "Đề xuất" not in text and "Ngoài chỉ tiêu" not in text and "Đề nghị\n" not in text
    assert "Danh sách ứng viên trình Hội nghị tổng kết bình xét" in text
    assert "Thiếu: Biên bản họp Hội đồng thi đua, khen thưởng" in text
    assert "Không xếp thứ tự (chưa gửi Bảng tự chấm điểm)" in text
    assert "[PHẦN DO TRƯỞNG KHU VỰC THI ĐUA VIẾT" in text


def conference_on(tmp_path, day: str):
    """The shipped plan with the conference's day written (voting.day)."""
    return load_plan(write_plan(tmp_path, lambda t: t.replace("  day: null ", f"  day: {day} ")))


def test_the_final_report_is_compiled_only_once_the_conference_is_recorded_held_and_its_ballots_are_in(
    sample, plan, tmp_path
):
    """Issue 24: "The final report is compiled only once the conference is recorded held and its
    ballots are in". The sample's ballots are typed in; December has begun (the conference's
    month), but until the plan records its day the year-end report stays the draft."""
    import dataclasses

    at = local(plan, 2021, 12, 8, 8)
    table = assess(sample, at)
    unrecorded = compile_report(plan, sample, table, "yearend", at)
    assert not unrecorded.final and unrecorded.nominations
    assert unrecorded.not_final.startswith("chưa ghi ngày tổ chức Hội nghị (held_on của mốc hoi-nghi")
    assert "Chưa lập bản sau Hội nghị: chưa ghi ngày tổ chức Hội nghị" in to_markdown(unrecorded)
    ahead = compile_report(conference_on(tmp_path, "2021-12-10"), sample, table, "yearend", at)
    assert not ahead.final and ahead.not_final == "Hội nghị tổ chức ngày 10/12/2021 (Thứ Sáu), chưa diễn ra"
    held = load_plan(
        write_plan(
            tmp_path,
            lambda t: t.replace(
                "held_on: null                 # the conference's", "held_on: 2021-12-07 # the conference's"
            ),
        )
    )
    assert held.conference_recorded == dt.date(2021, 12, 7)
    no_ballots = dataclasses.replace(
        sample, data=dataclasses.replace(sample.data, ballots=sample.data.ballots.iloc[0:0])
    )
    empty = compile_report(held, no_ballots, table, "yearend", at)
    assert not empty.final and empty.not_final == "trang tính Phiếu bầu chưa có phiếu nào"
    final = compile_report(held, sample, table, "yearend", at)
    assert final.final and final.not_final == "" and final.results


def test_the_final_report_and_the_minutes_come_from_one_count_and_agree(sample, plan, tmp_path):
    """After the conference (ballots counted): the results as "X/N phiếu", the selected within
    quotas, and a selected candidate's missing dossier named; the vote minutes say the same."""
    from tasks.minutes import minutes_docx, rows
    from tasks.nominations import missing_dossier
    from tasks.tally import count

    at = local(plan, 2021, 12, 21, 8)
    table = assess(sample, at)
    final = compile_report(conference_on(tmp_path, "2021-12-17"), sample, table, "yearend", at)
    assert final.final and final.results and not final.nominations
    lca = {r["category"]: r for r in final.results if r["name"] == "Cục Thi hành án dân sự tỉnh Lào Cai"}
    assert lca["Cờ thi đua ngành Tư pháp"]["votes"] == "24/26 phiếu"
    assert lca["Cờ thi đua của Chính phủ"]["votes"] == "16/26 phiếu"
    for row in lca.values():
        assert row["outcome"] == "Đề nghị"
        assert row["dossier"] == "Thiếu: Biên bản họp Hội đồng thi đua, khen thưởng"

    tally = count(plan, sample.data.ballots, sample.data.registrations)
    counted = rows(plan, tally, sample.data.registrations, missing_dossier(plan, table))
    minutes = all_text(docx.Document(minutes_docx(plan, tally, at.date(), tmp_path / "bb.docx", counted)))
    report = all_text(docx.Document(write_docx(final, tmp_path / "bc.docx")))
    for r in final.results:  # every outcome of the report is the minutes' outcome, word for word
        m = next(x for x in counted if (x["category"], x["name"]) == (r["category"], r["name"]))
        assert (m["votes"], m["outcome"].split(" (")[0]) == (r["votes"], r["outcome"])
    assert "Đề nghị (hồ sơ còn thiếu: Biên bản họp Hội đồng thi đua, khen thưởng)" in minutes
    assert "Kết quả bình xét, suy tôn tại Hội nghị tổng kết" in report and "24/26 phiếu" in report
    assert "Chưa đủ hồ sơ" not in report


def test_xlsx_annex(yearend, tmp_path):
    path = write_xlsx(yearend, tmp_path / "phu-luc.xlsx")
    book = load_workbook(path)
    assert book.sheetnames == [
        "Tình trạng gửi",
        "Chỉ tiêu theo khối",
        "Chỉ tiêu theo đơn vị",
        "Chế độ báo cáo",
        "Tự chấm điểm",
        "Ứng viên",
    ]
    # each sheet printable as it is: a title row, the header repeated on every page, landscape A4
    # fitted to the width (issue 24: "the XLSX annex with a title row, print set-up")
    for sheet in book:
        assert (
            sheet["A1"].value
            == f"Báo cáo tổng kết công tác thi đua, khen thưởng năm 2021 – Phụ lục: {sheet.title}"
        )
        assert sheet.print_title_rows == "$2:$2" and sheet.page_setup.orientation == "landscape"
        assert sheet.page_setup.fitToWidth == 1 and sheet.page_setup.fitToHeight == 0
        assert sheet.sheet_properties.pageSetUpPr.fitToPage
    status = list(book["Tình trạng gửi"].iter_rows(min_row=2, values_only=True))
    assert status[0] == ("Khối", "Đơn vị", "Tình trạng", "Ngày gửi", "Còn thiếu") and len(status) == 29
    hgi = ("Sở Tư pháp", "Sở Tư pháp tỉnh Hà Giang", "Nộp muộn", dt.datetime(2021, 11, 12), None)
    assert hgi in status
    # a clerk's sheet: typed dates and numbers, a bold frozen header, units as a Vietnamese reader
    # sorts them (Đ after D, blocks in the plan's order)
    sheet = book["Tình trạng gửi"]
    assert sheet.freeze_panes == "A3" and all(c.font.bold for c in sheet[2])
    date_cell = next(c for c in sheet["D"][2:] if c.value is not None)
    assert date_cell.is_date and date_cell.number_format == "dd/mm/yyyy"
    stp = [r[1] for r in status[1:] if r[0] == "Sở Tư pháp"]
    assert stp == sorted(stp, key=vn_sort_key) and stp.index("Sở Tư pháp tỉnh Điện Biên") < stp.index(
        "Sở Tư pháp tỉnh Hà Giang"
    )
    assert [r[0] for r in status[1:]] == ["Sở Tư pháp"] * 14 + ["Cục Thi hành án dân sự"] * 14
    scores = list(book["Tự chấm điểm"].iter_rows(min_row=3, values_only=True))
    assert all(isinstance(r[3], (int, float)) and isinstance(r[1], int) for r in scores)  # no text
    indicators = book["Chỉ tiêu theo khối"]
    assert all(c.data_type == "n" for row in indicators.iter_rows(min_row=3, min_col=2) for c in row)
    per_unit = list(book["Chỉ tiêu theo đơn vị"].iter_rows(min_row=2, values_only=True))
    assert per_unit[0][:2] == ("Khối", "Đơn vị") and len(per_unit) == 29
    nominees = list(book["Ứng viên"].iter_rows(min_row=2, values_only=True))
    assert nominees[0] == (
        "Danh hiệu",
        "Khối",
        "Ứng viên",
        "Đơn vị đề nghị",
        "Điểm tự chấm của đơn vị đề nghị (tham khảo)",  # whose: a Chi cục shows its Cục's
        "Hồ sơ đề nghị",
    )
    assert any(r[2] == "Cục Thi hành án dân sự tỉnh Lào Cai" and r[5].startswith("Thiếu") for r in nominees)


def test_midyear_report_has_no_yearend_sections_and_shows_units_notes(sample, plan, tmp_path, yearend_docx):
    at = local(plan, 2021, 6, 24, 8)
    data = compile_report(plan, sample, assess(sample, at), "midyear", at)
    text = all_text(docx.Document(write_docx(data, tmp_path / "so-ket.docx")))
    # the title does not say the document's type twice (Nghị định 30/2020), nor the sentence after it
    assert "BÁO CÁO\nSơ kết công tác thi đua, khen thưởng 6 tháng đầu năm 2021" in text
    assert "báo cáo sơ kết công tác thi đua, khen thưởng 6 tháng đầu năm 2021 như sau" in text
    assert "báo cáo báo cáo" not in text.lower()
    for document in (docx.Document(write_docx(data, tmp_path / "a.docx")), docx.Document(yearend_docx)):
        for paragraph in document.paragraphs:  # no word or pair of words said twice in a row
            assert not re.search(r"\b(\w+(?: \w+)?) \1\b", paragraph.text, re.IGNORECASE), paragraph.text
    assert "KẾT QUẢ TỰ CHẤM ĐIỂM" not in text and "Cờ thi đua" not in text
    assert "Cục Thi hành án dân sự tỉnh Yên Bái (Báo cáo sơ kết): Bản sửa lại, thay bản trước" in text
    assert "0913483228" not in text  # a phone number in Ghi chú is not a note for the report
    assert "Sở Tư pháp tỉnh Sơn La: Báo cáo tóm tắt 5 trang (đơn vị khai), vượt giới hạn 3 trang A4" in text


def make_pdf(path, pages):
    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=595, height=842)
    with open(path, "wb") as f:
        writer.write(f)


def test_pages_are_counted_from_local_and_downloadable_files(tmp_path):
    make_pdf(tmp_path / "tom-tat.pdf", 5)
    d = docx.Document()
    d.add_paragraph("x")
    d.core_properties.title = "Tham luận"
    d.save(tmp_path / "tham-luan.docx")
    # Word records the page count in docProps/app.xml; python-docx does not, so write it as Word would
    with (
        zipfile.ZipFile(tmp_path / "tham-luan.docx") as src,
        zipfile.ZipFile(tmp_path / "w.docx", "w") as dst,
    ):
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "docProps/app.xml":
                data = b"<Properties><Pages>4</Pages></Properties>"
            dst.writestr(item, data)
    (tmp_path / "w.docx").replace(tmp_path / "tham-luan.docx")
    assert count_pages(str(tmp_path / "tom-tat.pdf")) == 5
    assert count_pages("tom-tat.pdf", base_dir=tmp_path) == 5
    assert count_pages((tmp_path / "tham-luan.docx").as_uri()) == 4
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(SimpleHTTPRequestHandler, directory=str(tmp_path)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        base = f"http://127.0.0.1:{server.server_port}"
        assert count_pages(f"{base}/tom-tat.pdf") == 5
        assert count_pages(f"{base}/khong-co.pdf") is None
    finally:
        server.shutdown()
    (tmp_path / "hong.pdf").write_bytes(b"%PDF-1.4 broken")
    assert count_pages(str(tmp_path / "hong.pdf")) is None
    assert count_pages("") is None


def test_measured_pages_override_the_declared_count(sample, plan, tmp_path):
    from tasks.inputs import Inputs
    from tasks.normalise import normalise

    make_pdf(tmp_path / "tom-tat.pdf", 5)
    header = ["Thời gian nộp", "Đơn vị", "Mốc", "Loại hồ sơ", "Số trang", "Đường dẫn", "Ghi chú"]
    raw = {
        "Nộp hồ sơ": [
            header,
            [
                "10/06/2021 09:00",
                "STP-YBA",
                "so-ket",
                "Báo cáo tóm tắt",
                "2",
                str(tmp_path / "tom-tat.pdf"),
                "",
            ],
        ]
    }
    inputs = Inputs(plan, normalise(plan, raw), "test", {})
    at = local(plan, 2021, 6, 24)
    data = compile_report(plan, inputs, assess(inputs, at), "midyear", at)
    assert data.page_problems == [
        "Sở Tư pháp tỉnh Yên Bái: Báo cáo tóm tắt 5 trang (đếm từ tệp), vượt giới hạn 3 trang A4"
    ]


def test_docx_converts_to_pdf_with_libreoffice(yearend_docx, tmp_path):
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        if os.environ.get("CI"):
            pytest.fail("LibreOffice (soffice) is missing: .ci/run must install it")
        pytest.skip("LibreOffice not installed here (CI installs it)")
    subprocess.run(
        [
            soffice,
            "--headless",
            f"-env:UserInstallation=file://{tmp_path}/lo",
            "--convert-to",
            "pdf",
            "--outdir",
            str(tmp_path),
            str(yearend_docx),
        ],
        check=True,
        capture_output=True,
        timeout=180,
    )
    pdf = PdfReader(tmp_path / "bao-cao-tong-ket-2021.pdf")
    assert len(pdf.pages) >= 3
    # pypdf splits Vietnamese letters from their stacked marks, so check text without them
    text = " ".join(page.extract_text() for page in pdf.pages)
    assert "184/KH-KVT" in text and "VT, VP." in text and "/BC-KVT" in text and "YÊN BÁI" in text
    first = pdf.pages[0].extract_text()
    assert not first.lstrip().startswith("1")  # no number on the first page
    for number, page in enumerate(pdf.pages[1:], start=2):
        assert page.extract_text().lstrip().startswith(str(number))  # centred at the top
    # the signature is never alone on a page: the closing sentence goes with it; the annex follows
    pages = [page.extract_text() for page in pdf.pages]
    closing = next(i for i, t in enumerate(pages) if "Trên đây là" in t)
    assert "Nguy n Huy C ng" in pages[closing].split("Trên đây là")[1]  # pypdf drops marks
    assert "TÌNH HÌNH TH" in pages[closing + 1] and pdf.pages[closing + 1].mediabox.width > 800  # landscape


def test_report_flow_mails_the_draft_to_head_and_deputies(prefect_server, tmp_path, plan):
    import email
    from email.policy import default

    from prefect.artifacts import Artifact

    from flows.report import area_report

    result = area_report("yearend", at="2021-11-16T08:00")
    assert result.units.sent == ["report"]
    (mail,) = (tmp_path / "var" / "outbox").rglob("report.eml")
    msg = email.message_from_bytes(mail.read_bytes(), policy=default)
    assert sorted(a.addr_spec for a in msg["To"].addresses) == sorted(
        str(c.email) for c in plan.active_contacts
    )
    assert "trước ngày 15/12/2021 (Thứ Tư)" in msg["Subject"]
    names = sorted(p.get_filename() for p in msg.iter_attachments())
    # before the vote it is the conference's draft, named so
    assert names == ["bao-cao-tong-ket-2021-du-thao-phu-luc.xlsx", "bao-cao-tong-ket-2021-du-thao.docx"]
    body = msg.get_body(("plain",)).get_content()
    assert "để trình Hội nghị tổng kết" in body
    assert "Cục Thi hành án dân sự tỉnh Lào Cai (Cờ thi đua ngành Tư pháp): hồ sơ đề nghị còn thiếu" in body
    assert "Ứng viên trình Hội nghị" in Artifact.get("kvtd-tp-mnpb-2021-yearend").data
    again = area_report("yearend", at="2021-11-16T08:00")
    assert again.units.sent == []  # the ledger: the draft is sent once
    # the final round finds the conference not recorded held: it sends nothing and says why
    unrecorded = area_report("yearend", at="2021-12-21T08:00", stage="final")
    assert unrecorded.units.sent == [] and "chưa ghi ngày tổ chức Hội nghị" in unrecorded.stale
    # recorded, the final report is a second letter, sent once too
    held = write_plan(tmp_path, lambda t: t.replace("  day: null ", "  day: 2021-12-17 "))
    final = area_report("yearend", at="2021-12-21T08:00", stage="final", plan=str(held))
    assert final.units.sent == ["report"]
    (letter,) = [p for p in (tmp_path / "var" / "outbox").rglob("report.eml") if p != mail]
    text = email.message_from_bytes(letter.read_bytes(), policy=default).get_body(("plain",)).get_content()
    assert "sau Hội nghị: kết quả bình xét theo số phiếu" in text
    # the final is written beside the draft, never over it, in the plan's own folder
    folder = tmp_path / "var" / "reports" / "kvtd-tp-mnpb-2021"
    assert {"bao-cao-tong-ket-2021-du-thao.docx", "bao-cao-tong-ket-2021.docx"} <= {
        p.name for p in folder.iterdir()
    }
    assert (
        "Cục Thi hành án dân sự tỉnh Lào Cai (Cờ thi đua ngành Tư pháp): được đề nghị, hồ sơ còn thiếu"
        in text
    )


def test_the_final_report_is_scheduled_after_the_conference_in_time_for_vu_tdkt(tmp_path, plan):
    from tasks.schedule import triggers
    from tests.helpers import write_plan

    def finals(p):
        return [(t.target, t.at) for t in triggers(p) if t.stage == "final"]

    # the conference's day unknown: a week before the report is due to Vụ TĐKT (15/12)
    assert finals(plan) == [("yearend", local(plan, 2021, 12, 8, 8))]
    # known (Friday 10/12): the next working day, Monday 13/12
    dated = load_plan(write_plan(tmp_path, lambda t: t.replace("  day: null ", "  day: 2021-12-10 ")))
    assert finals(dated) == [("yearend", local(dated, 2021, 12, 13, 8))]


def test_the_chart_counts_units_whole_and_the_docx_has_no_blank_thumbnail(sample, plan, yearend_docx):
    """Issue 24: "chart axes in whole units"; "DOCX without python-docx's blank thumbnail" (the
    preview a file browser or Outlook shows was an empty page)."""
    import dataclasses

    from matplotlib import pyplot as plt

    from tasks.report_files import timeliness_figure

    at = local(plan, 2021, 6, 24, 8)
    data = compile_report(plan, sample, assess(sample, at), "midyear", at)
    few = [
        {**b, "total": 3, "on_time": 2, "late": 1, "incomplete": 0, "missing": 0}
        for b in data.discipline_blocks
    ]
    fig = timeliness_figure(dataclasses.replace(data, discipline_blocks=few))
    ticks = fig.axes[0].get_xticks()
    plt.close(fig)
    assert len(ticks) > 1 and all(float(t).is_integer() for t in ticks)  # matplotlib alone: 0, 0.5, 1, …
    for path in (yearend_docx, REPO / "templates" / "docx" / "bao-cao.docx"):
        names = zipfile.ZipFile(path).namelist()
        assert not any("thumbnail" in n for n in names)
        assert "thumbnail" not in zipfile.ZipFile(path).read("_rels/.rels").decode()


def test_a_table_that_fits_a_page_is_kept_on_one_and_a_long_one_breaks(yearend_docx):
    """Issue 24: "tables kept on one page when they fit". The registrations' table (a row per
    title) keeps every row with the next; the units' table (28 rows) may break, its header row
    repeated, rather than leave half a page blank before it."""
    d = docx.Document(yearend_docx)

    def kept(table):
        return [
            all(p.paragraph_format.keep_with_next for c in r.cells for p in c.paragraphs) for r in table.rows
        ]

    registrations = table_with(d, "Danh hiệu")
    assert kept(registrations)[:-1] == [True] * (len(registrations.rows) - 1)
    assert not any(kept(table_with(d, "Khối"))[1:])


def test_the_drafts_registration_counts_agree_with_its_candidate_lists(yearend, yearend_docx):
    """Issue 24: "The draft's registration counts agree with its candidate lists"; "Cờ thi đua
    của Chính phủ: không quá 02 tập thể" is one quota for the whole area, and a self-score beside
    a Chi cục or a person says whose score it is."""
    from collections import Counter

    per_title = Counter(c["title"] for c in yearend.nominations)
    rows = {r["title"]: r for r in yearend.registrations}
    assert rows["Cờ thi đua ngành Tư pháp"]["candidates"] == str(per_title["Cờ thi đua ngành Tư pháp"]) == "8"
    assert rows["Cờ thi đua của Chính phủ"] == {
        "title": "Cờ thi đua của Chính phủ",
        "registered": 0,  # nobody registers for it: it is chosen among the Cờ ngành candidates
        "candidates": f"{per_title['Cờ thi đua của Chính phủ']} (trong số ứng viên Cờ thi đua ngành Tư pháp)",
    }
    assert rows["Tập thể lao động xuất sắc"]["candidates"] == "không bình xét tại Hội nghị"
    text = all_text(docx.Document(yearend_docx))
    assert (
        "Cờ thi đua của Chính phủ: toàn Khu vực 2, trong số tập thể được suy tôn Cờ thi đua ngành Tư pháp"
        in text
    )
    assert "mọi khối" not in text
    assert "điểm tự chấm là của đơn vị đề nghị" in text
    table = table_with(docx.Document(yearend_docx), "Danh hiệu")
    assert [c.text for c in table.rows[0].cells] == ["Danh hiệu", "Số đăng ký", "Ứng viên trình Hội nghị"]


def test_check_warns_when_the_conference_falls_after_the_areas_deadline_to_report(plan, tmp_path):
    """Issue 24: "`check` warns when the conference day falls after the area's deadline to
    report" — the year-end report to Vụ TĐKT is due "trước ngày 15/12/2021"; the conference is
    held "tháng 12"."""
    from tasks.plan_checks import conference_after_report_due

    unset = conference_after_report_due(plan)
    assert (
        unset and "có thể họp đến 31/12/2021 (Thứ Sáu), sau hạn" in unset and "trước ngày 15/12/2021" in unset
    )
    late = conference_after_report_due(conference_on(tmp_path, "2021-12-16"))
    assert late and late.startswith("voting.day: Hội nghị tổng kết ngày 16/12/2021 (Thứ Năm), không kịp")
    assert conference_after_report_due(conference_on(tmp_path, "2021-12-10")) is None
