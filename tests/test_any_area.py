"""A second plan, of another sector and level (a province's cluster of departments for 2027),
through every command an operator uses, with nothing of the Justice area in what it writes."""

from __future__ import annotations

import io
import json
import zipfile
from email import policy
from email.parser import BytesParser
from pathlib import Path

import docx
import pytest
from icalendar import Calendar
from openpyxl import load_workbook
from typer.testing import CliRunner

from flows.cli import app
from tasks.inputs import assess, load_inputs
from tasks.minutes import minutes_markdown, rows
from tasks.nominations import missing_dossier
from tasks.plan import load_plan
from tasks.report_files import to_markdown
from tasks.reports import compile_report
from tasks.resources import Resources
from tasks.settings import REPO, Settings
from tasks.tally import count
from tests.helpers import local, shown_name

PLAN2 = REPO / "config" / "plan-cum-kinh-te-2027.yaml"
# What the 2021 Justice area says of itself; none of it may reach the cluster's people.
JUSTICE_WORDS = [
    "Tư pháp",
    "TƯ PHÁP",
    "KVTĐ",
    "THADS",
    "Thi hành án",
    "Khu vực",
    "KHU VỰC",
    "Vụ Thi đua",
    "Vụ TĐKT",
    "Yên Bái",
    "miền núi",
    "MIỀN NÚI",
    "Trưởng, Phó trưởng",
]
FORM = "https://forms.example/cum-kinh-te-2027/nop-ho-so"


def thidua(*args):
    result = CliRunner().invoke(app, list(args), env={"THIDUA_PLAN": str(PLAN2)})
    return result


def justice_words(text: str) -> list[str]:
    return [w for w in JUSTICE_WORDS if w in text]


def docx_text(data: bytes) -> str:
    d = docx.Document(io.BytesIO(data))
    parts = [p.text for p in d.paragraphs]
    parts += [c.text for t in d.tables for r in t.rows for c in r.cells]
    parts += [p.text for s in d.sections for p in (*s.header.paragraphs, *s.first_page_header.paragraphs)]
    props = d.core_properties
    return "\n".join([*parts, props.author or "", props.title or "", props.subject or ""])


def xlsx_text(data: bytes) -> str:
    book = load_workbook(io.BytesIO(data))
    return "\n".join(
        f"{sheet.title} {cell.value}"
        for sheet in book
        for row in sheet.iter_rows()
        for cell in row
        if cell.value
    )


def readable(name: str, data: bytes) -> str:
    """A written file as its reader sees it: the text of a DOCX, the cells of an XLSX, the rest
    as text."""
    if name.endswith(".docx"):
        return docx_text(data)
    if name.endswith(".xlsx"):
        return xlsx_text(data)
    return data.decode("utf-8")


def eml_parts(path: Path) -> list[tuple[str, str]]:
    """(what, readable text) of every header, body and attachment of a written message."""
    msg = BytesParser(policy=policy.default).parsebytes(path.read_bytes())
    parts = [(f"{path.name} headers", "\n".join(f"{k}: {v}" for k, v in msg.items()))]
    for part in msg.walk():
        if part.is_multipart():
            continue
        name = part.get_filename() or part.get_content_type()
        payload = part.get_payload(decode=True)
        parts.append((f"{path.name}: {name}", readable(name, payload)))
    return parts


def test_status_of_the_cluster_from_its_form_fed_sheet():
    result = thidua("status", "--milestone", "so-ket", "--at", "2027-06-16T08:00", "--json")
    assert result.exit_code == 0, result.output
    by_unit = {r["unit"]: r for r in json.loads(result.stdout)}
    assert len(by_unit) == 8
    assert by_unit["STC"]["state"] == "on_time"
    # "BC so ket 6 thang" is the report's alias in the plan: only the Biểu số liệu is missing
    assert by_unit["SNNMT"]["state"] == "incomplete" and by_unit["SNNMT"]["missing"] == ["Biểu số liệu"]
    assert by_unit["KTTL"]["state"] == "missing" and by_unit["KTTL"]["overdue"]
    assert by_unit["BQL-DA"]["state"] == "missing"  # it sends on 18/06
    assert by_unit["SCT"]["problems"] == ["Biểu số liệu: 3 trang, vượt giới hạn 2 trang A4"]
    # end_of_day: the whole of Tuesday 15/06 counts; 16/06 08:00 is past it
    late = json.loads(thidua("status", "--milestone", "so-ket", "--at", "2027-06-20T08:00", "--json").stdout)
    assert {r["unit"]: r["state"] for r in late}["BQL-DA"] == "late"


def test_check_accepts_the_cluster_plan_and_says_nothing_of_the_justice_area():
    result = thidua("check")
    assert "kế hoạch" in result.output.lower() and "Traceback" not in result.output
    assert "05/KH-CTĐ" in result.output or "Cụm thi đua" in result.output
    assert justice_words(result.output) == []


def test_a_year_of_the_cluster_writes_nothing_of_the_justice_area(prefect_server, tmp_path):
    replayed = thidua("replay", "--until", "2027-12-31")
    assert replayed.exit_code == 0, replayed.output
    tallied = thidua("tally", "--day", "2027-12-10")
    assert tallied.exit_code == 0, tallied.output
    var = tmp_path / "var"
    reported = thidua("report", "midyear", "--at", "2027-06-25T08:00", "--out", str(var / "bao-cao-tay"))
    assert reported.exit_code == 0, reported.output
    assert (var / "bao-cao-tay" / "bao-cao-so-ket-2027.docx").is_file()
    written = [
        p for p in var.rglob("*") if p.is_file() and p.suffix in (".eml", ".docx", ".xlsx", ".ics", ".md")
    ]
    emls = [p for p in written if p.suffix == ".eml"]
    assert len(emls) > 20 and {p.parent.name for p in emls} >= {"before-5", "before-1", "overdue-2"}
    reports = {p.name for p in written if p.suffix in (".docx", ".xlsx")}
    assert {
        "bao-cao-so-ket-2027.docx",
        "bao-cao-tong-ket-2027-phu-luc.xlsx",
        "bien-ban-kiem-phieu-2027.docx",
    } <= reports

    texts = []
    for path in written:
        texts += (
            eml_parts(path)
            if path.suffix == ".eml"
            else [(path.name, readable(path.name, path.read_bytes()))]
        )
    # the Markdown artifacts, as the Prefect UI shows them
    settings = Settings(plan=PLAN2)
    inputs = load_inputs(Resources(settings))
    plan = inputs.plan
    for kind, day in (("midyear", (2027, 6, 25, 8)), ("yearend", (2027, 12, 11, 8))):
        at = local(plan, *day)
        texts.append((f"{kind}.md", to_markdown(compile_report(plan, inputs, assess(inputs, at), kind, at))))
    tally = count(plan, inputs.data.ballots, inputs.data.registrations, None)
    table = assess(inputs, local(plan, 2027, 12, 10, 8))
    counted = rows(plan, tally, inputs.data.registrations, missing_dossier(plan, table))
    texts.append(
        ("kiem-phieu.md", minutes_markdown(plan, tally, local(plan, 2027, 12, 10, 8).date(), counted))
    )

    leaks = {what: justice_words(text) for what, text in texts if justice_words(text)}
    assert leaks == {}
    everything = "\n".join(text for _, text in texts)
    # …and the cluster's own words are where the Justice area's were
    for own in ("Cụm trưởng, Cụm phó Cụm thi đua", "Ban Thi đua - Khen thưởng", "CỤM TRƯỞNG", "/BC-CTĐKT"):
        assert own in everything, own
    minutes = docx_text(
        (var / "reports" / "cum-kinh-te-tn-2027" / "bien-ban-kiem-phieu-2027.docx").read_bytes()
    )
    assert "Số:" in minutes and "/BB-CTĐKT" in minutes and "UBND TỈNH THÁI NGUYÊN" in minutes
    assert "Đỗ Thị Lan" in minutes and "Vũ Quang Huy" in minutes


def test_the_cluster_report_has_a_column_per_block_and_its_own_nơi_nhận(tmp_path):
    settings = Settings(plan=PLAN2)
    inputs = load_inputs(Resources(settings))
    plan = inputs.plan
    at = local(plan, 2027, 11, 20, 8)
    from tasks.report_files import write_docx, write_xlsx

    data = compile_report(plan, inputs, assess(inputs, at), "yearend", at)
    d = docx.Document(write_docx(data, tmp_path / "bc.docx"))
    indicators = next(t for t in d.tables if t.rows[0].cells[0].text == "Chỉ tiêu")
    assert [c.text for c in indicators.rows[0].cells] == [
        "Chỉ tiêu",
        "Khối Sở",
        "Khối Ban",
        "Khối Doanh nghiệp",
        "Toàn Cụm",
    ]
    grid = indicators._tbl.tblGrid.findall(
        "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}gridCol"
    )
    assert len(grid) == 5  # LibreOffice lays the table out by its grid
    signature = d.tables[-2].rows[0].cells  # the last one is the annex
    assert "Hội đồng Thi đua - Khen thưởng tỉnh;" in signature[0].text  # the yearend report's own list
    assert signature[1].text.startswith("CỤM TRƯỞNG\nGIÁM ĐỐC SỞ TÀI CHÍNH")
    assert d.core_properties.author == "Sở Tài chính tỉnh Thái Nguyên"
    header = d.tables[0].rows[0].cells[0].text
    assert header.startswith("UBND TỈNH THÁI NGUYÊN\nCỤM THI ĐUA KHỐI KINH TẾ")
    annex = load_workbook(write_xlsx(data, tmp_path / "pl.xlsx"))
    assert [c.value for c in annex["Chỉ tiêu theo khối"][2]] == [
        "Chỉ tiêu",
        "Khối Sở",
        "Khối Ban",
        "Khối Doanh nghiệp",
        "Toàn Cụm",
    ]


@pytest.fixture
def outbox(prefect_server, tmp_path):
    result = thidua("run", "--at", "2027-06-14T07:30")  # the before-1 round of Sơ kết
    assert result.exit_code == 0, result.output
    late = thidua("run", "--at", "2027-06-17T07:30")  # overdue-2: the end of 15/06 is past
    assert late.exit_code == 0, late.output
    return tmp_path / "var" / "outbox" / "cum-kinh-te-tn-2027" / "so-ket"


def parse(path: Path):
    return BytesParser(policy=policy.default).parsebytes(path.read_bytes())


def test_unit_mail_opens_with_the_deadline_the_missing_documents_and_one_link(outbox):
    msg = parse(outbox / "before-1" / "KTTL.eml")
    assert msg["From"].addresses[0].addr_spec == "cum-truong@so-tai-chinh-tn.example"
    assert shown_name(msg["From"].addresses[0]) == "Sở Tài chính tỉnh Thái Nguyên (thidua)"
    html = msg.get_body(("html",)).get_content()
    text = msg.get_body(("plain",)).get_content()
    # above the fold: the deadline, then what is missing, then the one action
    deadline, missing, link = (
        html.index(s) for s in ("hết ngày 15/06/2027", "Biểu số liệu", f'href="{FORM}"')
    )
    assert "trước ngày 15/06/2027" not in html  # the plan accepts the whole day (end_of_day)
    assert deadline < missing < link < html.index("Cách gửi")
    assert html.count(f'href="{FORM}"') == 2  # the button and the same address written out
    assert "Mở trang nộp hồ sơ" in html and 'style="' in html and "<link" not in html and "src=" not in html
    assert "<style" not in html  # inline styles only: Gmail and Outlook drop style sheets
    assert f"Nộp hồ sơ tại: {FORM}" in text
    assert text.index("hết ngày 15/06/2027") < text.index("- Biểu số liệu") < text.index(FORM)
    assert text.rstrip().endswith("xin bỏ qua thư này.")
    assert "Trân trọng.\nSở Tài chính tỉnh Thái Nguyên, đơn vị Cụm trưởng Cụm thi đua" in text
    assert "Cụm trưởng, Cụm phó Cụm thi đua" in text and "Tab" not in text and "tab " not in text


def test_the_calendar_holds_the_units_own_documents_and_never_a_past_deadline(outbox):
    def ics_of(msg):
        parts = [p for p in msg.iter_attachments() if p.get_content_type() == "text/calendar"]
        return [Calendar.from_ical(p.get_payload(decode=True)) for p in parts]

    (cal,) = ics_of(parse(outbox / "before-1" / "KTTL.eml"))
    (event,) = cal.walk("VEVENT")
    description = str(event["DESCRIPTION"])
    assert "Hồ sơ của đơn vị: Báo cáo sơ kết; Biểu số liệu." in description
    assert event.decoded("DTSTART").isoformat() == "2027-06-15"
    assert ics_of(parse(outbox / "overdue-2" / "KTTL.eml")) == []  # the deadline is already past
    assert ics_of(parse(outbox / "before-1" / "digest.eml")) == []


def test_the_year_end_calendar_names_dossier_and_optional_documents(tmp_path):
    from tasks.compose import unit_mails
    from tasks.round import Round

    plan = load_plan(PLAN2)
    inputs = load_inputs(Resources(Settings(plan=PLAN2)))
    at = local(plan, 2027, 11, 10, 7, 30)
    table = assess(inputs, at)
    mails = {m.key.recipient: m for m in unit_mails(Round.of(plan, "tong-ket", "before-5", at), table)}

    def description(code):
        (ics,) = [a for a in mails[code].attachments if a[1] == "text/calendar"]
        return str(Calendar.from_ical(ics[2]).walk("VEVENT")[0]["DESCRIPTION"])

    # XSKT registered for the Cờ thi đua: its dossier is its own; KTTL did not: none for it
    assert "Hồ sơ của đơn vị: Báo cáo tổng kết; Bảng tự chấm điểm; Hồ sơ đề nghị Cờ thi đua." in description(
        "XSKT"
    )
    assert "Hồ sơ của đơn vị: Báo cáo tổng kết; Bảng tự chấm điểm." in description("KTTL")
    assert "Không bắt buộc: Sáng kiến tiêu biểu." in description("KTTL")


def test_coordinators_are_addressed_as_themselves_and_every_letter_is_signed(outbox):
    digest = parse(outbox / "before-1" / "digest.eml").get_body(("plain",)).get_content()
    assert digest.startswith(
        "Kính gửi: đồng chí Trần Thu Hà (Chánh Văn phòng Sở Tài chính); đồng chí Lê Minh Khoa"
    )
    assert "Trân trọng.\nSở Tài chính tỉnh Thái Nguyên, đơn vị Cụm trưởng Cụm thi đua" in digest
    assert "xin bỏ qua thư này" not in digest  # the unit footer is for units only


def test_the_docx_archive_has_no_leftover_template_words(tmp_path):
    """The templates themselves carry no area's words: only tags the plan fills in."""
    for template in (REPO / "templates" / "docx").glob("*.docx"):
        with zipfile.ZipFile(template) as z:
            xml = "".join(z.read(n).decode("utf-8") for n in z.namelist() if n.endswith(".xml"))
        assert justice_words(xml) == [], template.name
    for template in (REPO / "templates" / "mail").iterdir():
        assert justice_words(template.read_text(encoding="utf-8")) == [], template.name


@pytest.mark.parametrize("plan_file", ["plan-2021.yaml", "plan-cum-kinh-te-2027.yaml"])
def test_every_unit_has_one_spelling_with_tone_marks_placed_as_current_rules_do(plan_file):
    """ "Hòa Bình", not "Hoà Bình": the plan's spelling is what every letter and document writes
    (the sheet may use either: the matching ignores the placement)."""
    import re
    import unicodedata

    plan = load_plan(REPO / "config" / plan_file)
    old_style = re.compile(r"(o[àáảãạ]|o[èéẻẽẹ]|u[ỳýỷỹỵ])(?!\w)", re.IGNORECASE)  # "toàn" is fine
    for unit in plan.units:
        name = unicodedata.normalize("NFC", unit.name)
        assert not old_style.search(name) and not old_style.search(unit.province), unit.name
