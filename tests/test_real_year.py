"""A real year, now: the plan's year in every document, no round spent before its time, next
year's plan started clean from the units the conference announced, every plan's files its own,
`serve` checking the sheet before it promises. The clock is injected (`--at`, `at=`), never read."""

from __future__ import annotations

import datetime as dt
import email
import io
import socket
import sqlite3
import subprocess
import time
from email.policy import default
from pathlib import Path

import docx
import pytest
from typer.testing import CliRunner

from flows.cli import app
from tasks.inputs import load_inputs
from tasks.plan import load_plan
from tasks.resources import Resources
from tasks.round import Round
from tasks.settings import REPO, Settings
from tests.helpers import PLAN_PATH, local

PLAN_2027 = REPO / "config" / "plan-cum-kinh-te-2027.yaml"  # a plan of next year with its own sheet
TODAY = "2026-12-02T10:00"  # when a coordinator prepares 2027


def cli(*args: str, env: dict | None = None):
    result = CliRunner().invoke(app, list(args), env=env or {})
    return result, " ".join(result.output.split())


def docx_text(path: Path) -> str:
    d = docx.Document(io.BytesIO(path.read_bytes()))
    parts = [p.text for p in d.paragraphs] + [c.text for t in d.tables for r in t.rows for c in r.cells]
    return "\n".join([*parts, d.core_properties.title or ""])


def ledger_rows(tmp_path: Path) -> list[tuple]:
    db = tmp_path / "var" / "ledger.sqlite"
    if not db.exists():
        return []
    with sqlite3.connect(db) as conn:
        return conn.execute("select recipient, stage, status, error from deliveries").fetchall()


# -- 1. the plan's year, never the clock's ------------------------------------------------------


def test_a_2021_report_signed_in_2022_is_still_about_2021(sample, plan, tmp_path):
    from tasks.inputs import assess
    from tasks.report_files import write_docx
    from tasks.reports import compile_report

    signed = local(plan, 2022, 1, 10, 9)
    data = compile_report(plan, sample, assess(sample, signed), "midyear", signed, PLAN_PATH.parent)
    text = docx_text(write_docx(data, tmp_path / "r.docx"))
    assert "Sơ kết công tác thi đua, khen thưởng 6 tháng đầu năm 2021" in text
    assert "ngày 10 tháng 01 năm 2022" in text  # the date line alone is the day it was signed
    assert "tổng hợp đến 09:00 10/01/2022" in text.lower() or "09:00 10/01/2022" in text  # and "as of"
    rest = text.replace("ngày 10 tháng 01 năm 2022", "").replace("09:00 10/01/2022", "")
    assert "2022" not in rest


def test_the_annex_says_it_was_made_when_the_report_was_not_when_the_machine_ran(sample, plan, tmp_path):
    """The XLSX annex's File > Info carried the compiling machine's clock (openpyxl's default),
    so a replay of 2021 wrote annexes "created" in 2026 and no two runs gave the same file."""
    from openpyxl import load_workbook

    from tasks.inputs import assess
    from tasks.report_files import write_xlsx
    from tasks.reports import compile_report

    signed = local(plan, 2021, 6, 24, 8)
    data = compile_report(plan, sample, assess(sample, signed), "midyear", signed, PLAN_PATH.parent)
    props = load_workbook(write_xlsx(data, tmp_path / "a.xlsx")).properties
    assert props.created == dt.datetime(2021, 6, 24, 1, 0)  # 08:00 in Hà Nội, as UTC
    # (openpyxl stamps `modified` with the moment it saves, whatever it is told: that one is true)
    assert props.creator == plan.sender[0] and "2021" in props.title


def test_minutes_counted_after_the_plan_year_name_the_plan_year(sample, plan, tmp_path):
    from tasks.inputs import assess
    from tasks.minutes import minutes_docx, minutes_markdown, rows
    from tasks.nominations import missing_dossier
    from tasks.tally import count

    tally = count(plan, sample.data.ballots, sample.data.registrations, None)
    counted = rows(
        plan, tally, sample.data.registrations, missing_dossier(plan, assess(sample, local(plan, 2022, 1, 5)))
    )
    path = minutes_docx(plan, tally, dt.date(2022, 1, 5), tmp_path / "bb.docx", counted)
    text = docx_text(path)
    assert "Bình xét, suy tôn danh hiệu thi đua năm 2021" in text and "năm 2026" not in text
    assert "ngày 05 tháng 01 năm 2022" in text
    assert minutes_markdown(plan, tally, dt.date(2022, 1, 5), counted).startswith(
        "# Biên bản kiểm phiếu năm 2021"
    )


# -- 2. a round is spent only when its time has come ----------------------------------------------


def test_a_round_before_its_time_is_too_early_unless_asked(sample, plan):
    scheduled = local(plan, 2021, 6, 17, 8)  # so-ket before-3 (20/06 is a Sunday: rounds are on working days)
    early = Round.of(plan, "so-ket", "before-3", local(plan, 2021, 2, 1, 9))
    reason = early.too_early()
    assert reason.startswith("Chưa đến giờ: đợt nhắc trước hạn 3 ngày (before-3: Nhắc đơn vị")
    assert "17/06/2021 lúc 08:00" in reason and "--early" in reason and "--dry-run" in reason
    assert Round.of(plan, "so-ket", "before-3", scheduled).too_early() is None
    assert (
        Round.of(plan, "so-ket", "before-3", scheduled - dt.timedelta(minutes=5)).too_early() is None
    )  # a runner's prefetch
    assert Round.of(plan, "so-ket", "before-3", local(plan, 2021, 2, 1, 9), dry_run=True).too_early() is None
    assert Round.of(plan, "so-ket", "before-3", local(plan, 2021, 2, 1, 9), early=True).too_early() is None


def test_run_by_hand_today_refuses_a_round_of_next_year_and_sends_nothing(tmp_path):
    env = {"THIDUA_PLAN": str(PLAN_2027)}
    result, output = cli("run", "--milestone", "dang-ky", "--stage", "before-5", "--at", TODAY, env=env)
    assert result.exit_code == 1
    assert (
        "Chưa đến giờ: đợt nhắc trước hạn 5 ngày (before-5: " in output
        and "10/03/2027" in output
        and "Không gửi thư" in output
    )
    assert not (tmp_path / "var" / "outbox").exists() and ledger_rows(tmp_path) == []


def test_the_run_button_early_is_refused_without_an_alert_and_early_sends_once(
    prefect_server, tmp_path, monkeypatch
):
    """The UI's Run button calls the flow with its parameters: empty `at` is now, here injected."""
    from prefect.artifacts import Artifact

    from flows.milestone import milestone_round

    monkeypatch.setenv("THIDUA_PLAN", str(PLAN_2027))
    state = milestone_round("dang-ky", "before-5", at=TODAY, return_state=True)
    assert state.is_failed() and state.name == "Chưa đến giờ"  # the UI's badge
    assert state.message.startswith("Chưa đến giờ: đợt nhắc trước hạn 5 ngày")  # no Prefect wrapper
    assert not (tmp_path / "var" / "outbox").exists()  # no letter, and no alert either
    assert ledger_rows(tmp_path) == []

    sent = milestone_round("dang-ky", "before-5", at=TODAY, early=True)
    assert sent.units.sent and sent.digest_sent
    rows = ledger_rows(tmp_path)
    assert {r[2] for r in rows} == {"sent"}
    assert all(r[3] == "gửi sớm theo yêu cầu (--early) lúc 10:00 02/12/2026" for r in rows)
    banner = Artifact.get("cum-kinh-te-tn-2027-dang-ky-round").data
    assert banner.startswith(
        "> **Gửi sớm theo yêu cầu** (--early) lúc 02/12/2026 10:00 (theo lịch: 10/03/2027"
    )
    letter = next((tmp_path / "var" / "outbox").rglob("*.eml"))
    msg = email.message_from_bytes(letter.read_bytes(), policy=default)
    assert msg["Date"].datetime.date() == dt.date(2026, 12, 2)  # dated the day it really went

    at_its_time = milestone_round("dang-ky", "before-5", at="2027-03-10T07:30")
    # at its time, units still owing were reminded already: the round is spent, as asked
    assert at_its_time.units.sent == [] and at_its_time.units.already_sent
    assert set(at_its_time.units.already_sent) <= set(sent.units.sent)


# -- 3. next year starts clean ------------------------------------------------------------------


def new_plan(tmp_path: Path, *extra: str, year: int = 2027):
    out = tmp_path / f"plan-{year}.yaml"
    result, output = cli(
        "plan", "new", "--year", str(year), "--from", str(PLAN_PATH), "--out", str(out), *extra
    )
    return out, result, output


def test_plan_new_hands_the_area_to_the_new_head_and_deputies(tmp_path):
    out, result, output = new_plan(
        tmp_path, "--head", "STP-LCA", "--deputies", "STP-TQU, Cục THADS tỉnh Thái Nguyên"
    )
    assert result.exit_code == 0, output
    old, new = load_plan(PLAN_PATH), load_plan(out)
    assert new.leadership.head_unit == "STP-LCA" and new.leadership.deputy_units == ["STP-TQU", "THADS-TNG"]
    assert new.sender == ("Sở Tư pháp tỉnh Lào Cai", "stp-lca@kvtd-tuphap.example")
    assert new.place == "Lào Cai"  # the new Head's province, not last year's Yên Bái
    assert new.leadership.signer_name == "" and new.leadership.signer_title == ""
    assert [(c.unit, c.role, c.name) for c in new.contacts] == [
        ("STP-LCA", "head", ""),
        ("STP-TQU", "deputy", ""),
        ("THADS-TNG", "deputy", ""),
    ]
    people = {c.name for c in old.contacts} | {old.leadership.signer_name, "Yên Bái"}
    text = out.read_text(encoding="utf-8")
    for person in people - {"Yên Bái"}:
        assert person not in text  # nobody of last year is copied
    assert (
        "Sở Tư pháp tỉnh Tuyên Quang, Cục Thi hành án dân sự tỉnh Thái Nguyên - Phó trưởng KVTĐ;"
        in new.recipients()
    )
    assert new.spreadsheet == "bang-tinh-2027.xlsx" and new.voting.place is None
    assert new.legal_bases == old.legal_bases  # kept, and marked to review
    # comments speak of the new year, in Vietnamese; last year's are gone
    assert text.startswith("# Kế hoạch hoạt động năm 2027 của Khu vực thi đua")
    comments = [line for line in text.splitlines() if "#" in line]
    # last year is named only to say where the new year came from
    assert [c.split(" năm 2021")[0] for c in comments if "2021" in c] == [
        "# Lập bằng `thidua plan new` từ kế hoạch",
        "# Các mốc năm 2027: hạn giữ ngày, tháng của",
    ]
    assert "(a Sunday)" not in text
    assert "# TODO: họ tên người ký" in text and "Luật Thi đua, khen thưởng 2022" in text
    # a checklist, short, then the names that no longer exist
    checklist = result.output.split("Việc cần làm, theo thứ tự:")[1].split("Cảnh báo")[0]
    assert len(checklist.strip().splitlines()) <= 30
    assert (
        "Trưởng, Phó trưởng năm 2027: Sở Tư pháp tỉnh Lào Cai (Trưởng); Sở Tư pháp tỉnh Tuyên Quang" in output
        and "thidua template --out" in output
    )
    assert (
        "tỉnh Yên Bái đã hợp nhất vào tỉnh Lào Cai từ 01/07/2025: units[STP-YBA], units[THADS-YBA]" in output
    )
    assert "Tổng cục THADS nay là Cục Quản lý thi hành án dân sự" in output


def test_plan_new_without_head_says_the_leaders_are_still_last_years(tmp_path):
    out, result, output = new_plan(tmp_path)
    assert result.exit_code == 0, output
    assert "CHƯA CHỌN: vẫn là Sở Tư pháp tỉnh Yên Bái của năm trước" in output
    assert "# TODO: đơn vị Trưởng năm mới" in out.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("args", "expect"),
    [
        (["--head", "STP-XYZ"], "--head 'STP-XYZ': không phải đơn vị thành viên"),
        (["--head", "STP-LCA", "--deputies", "STP-LCA"], "Sở Tư pháp tỉnh Lào Cai đã là Trưởng (--head)"),
        (["--head", "STP-LCA", "--deputies", "STP-TQU,STP-TQU"], "một đơn vị được ghi hai lần"),
        (["--deputies", "STP-TQU"], "--deputies cần đi cùng --head"),
    ],
)
def test_plan_new_refuses_leaders_who_are_not_right(tmp_path, args, expect):
    out, result, output = new_plan(tmp_path, *args)
    assert result.exit_code == 1 and expect in output, output
    assert not out.exists()


def test_plan_new_refuses_a_year_before_the_source_and_an_existing_file(tmp_path):
    out, result, output = new_plan(tmp_path, year=2020)
    assert result.exit_code == 1 and "phải sau năm của kế hoạch gốc (2021" in output
    out.write_text("# của tôi\n", encoding="utf-8")
    out, result, output = new_plan(tmp_path, year=2020)
    assert result.exit_code == 1 and "đã có" in output and "--force" in output
    assert out.read_text(encoding="utf-8") == "# của tôi\n"


def test_the_new_plan_never_reads_last_years_sheet(tmp_path):
    out, result, _ = new_plan(tmp_path, "--head", "STP-LCA", "--deputies", "STP-TQU")
    env = {"THIDUA_PLAN": str(out)}
    result, output = cli("check", env=env)  # this year's sheet is not made yet: one line says so
    assert result.exit_code == 1
    assert "Chưa có tệp bảng tính" in output and "thidua template" in output
    assert f"'{tmp_path / 'bang-tinh-2027.xlsx'}'" in output.replace(" ", "")  # (a long path wraps)
    # pointed at last year's sheet: one message stops check and every run, not a warning per row
    env["THIDUA_SOURCE"] = str(REPO / "config" / "sample-2021.xlsx")
    result, output = cli("check", env=env)
    assert result.exit_code == 1 and output.count("nằm ngoài năm kế hoạch") == 0
    assert "thuộc năm 2021, không thuộc năm kế hoạch 2027: đây là bảng tính của năm khác" in output
    for command in (["status"], ["report", "yearend", "--at", "2027-12-01"], ["tally"]):
        result, output = cli(*command, env=env)
        assert result.exit_code == 1 and "bảng tính của năm khác" in output, command
    # made with `thidua template`, it reads
    del env["THIDUA_SOURCE"]
    made, text = cli("template", "--out", str(tmp_path / "bang-tinh-2027.xlsx"))
    assert made.exit_code == 0, text
    result, output = cli("check", env=env)
    assert result.exit_code == 0 and "0 hồ sơ" in output, output


def test_check_names_the_provinces_and_bodies_that_no_longer_exist(tmp_path):
    out, _, _ = new_plan(tmp_path, "--head", "STP-LCA", "--deputies", "STP-TQU")
    (tmp_path / "bang-tinh-2027.xlsx").write_bytes(b"")  # unreadable: the plan's warnings come first
    result, output = cli("check", env={"THIDUA_PLAN": str(out)})
    for old, new in [
        ("Yên Bái", "Lào Cai"),
        ("Hà Giang", "Tuyên Quang"),
        ("Bắc Kạn", "Thái Nguyên"),
        ("Hòa Bình", "Phú Thọ"),
        ("Bắc Giang", "Bắc Ninh"),
    ]:
        assert f"tên cũ: tỉnh {old} đã hợp nhất vào tỉnh {new} từ 01/07/2025" in output
    assert "Cục THADS tỉnh nay là Thi hành án dân sự tỉnh, thành phố" in output
    assert "Chi cục THADS cấp huyện nay được thay bằng Phòng Thi hành án dân sự khu vực" in output
    assert "tỉnh Cao Bằng" not in output  # unchanged provinces are not flagged
    assert "legal_bases[1]: căn cứ nói về năm 2021; xem lại cho năm 2027" in output
    # the 2021 plan lived before the merger: nothing to say
    result, output = cli("check")
    assert "tên cũ" not in output


# -- 4. every plan's files are its own --------------------------------------------------------------


def test_two_plans_of_one_year_keep_their_own_reports(tmp_path):
    twin = tmp_path / "plan-twin.yaml"
    twin.write_text(
        PLAN_2027.read_text(encoding="utf-8").replace("id: cum-kinh-te-tn-2027", "id: cum-hai-2027"),
        encoding="utf-8",
    )
    (tmp_path / "sample-cum-kinh-te-2027.xlsx").write_bytes(
        (REPO / "config" / "sample-cum-kinh-te-2027.xlsx").read_bytes()
    )
    settings = {plan: Settings(plan=plan, data_dir=tmp_path / "var") for plan in (PLAN_2027, twin)}
    from tasks.inputs import assess
    from tasks.report_files import report_stem
    from tasks.reports import compile_report

    stems = set()
    for path, s in settings.items():
        inputs = load_inputs(Resources(s))
        at = local(inputs.plan, 2027, 12, 1, 8)
        data = compile_report(inputs.plan, inputs, assess(inputs, at), "yearend", at, path.parent)
        stems.add(s.reports_dir(inputs.plan.id) / report_stem(data))
    assert len(stems) == 2  # same file name, each in its plan's folder
    assert {p.name for p in stems} == {"bao-cao-tong-ket-2027-du-thao"}  # before the vote: the draft


# -- 5. serve checks before it promises -------------------------------------------------------------


def test_serve_leaves_out_a_plan_whose_sheet_cannot_be_read(tmp_path):
    out, _, _ = new_plan(tmp_path, "--head", "STP-LCA", "--deputies", "STP-TQU")
    result, output = cli("serve", "--port", "1", env={"THIDUA_PLAN": str(out)})
    assert result.exit_code == 1
    assert f"Bỏ qua {out}: không đọc được bảng tính: Chưa có tệp bảng tính" in output
    assert "không có kế hoạch nào để chạy" in output and "việc" not in output.split("Bỏ qua")[0]


def test_a_port_left_in_time_wait_is_free_but_a_listening_one_is_not():
    from flows.local_server import port_in_use

    server = socket.socket()
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the Prefect server (uvicorn) binds
    server.bind(("127.0.0.1", 0))
    server.listen()
    port = server.getsockname()[1]
    client = socket.create_connection(("127.0.0.1", port))
    accepted, _ = server.accept()
    assert port_in_use(port)
    accepted.close()  # the server side closes first: its end of the connection waits in TIME-WAIT
    client.close()
    server.close()
    time.sleep(0.2)  # the FIN's acknowledgement: the connection is now in TIME-WAIT
    assert (
        "TIME-WAIT"
        in subprocess.run(["ss", "-tan", f"sport = :{port}"], capture_output=True, text=True).stdout
    )
    assert not port_in_use(port)


def test_a_row_of_last_year_in_this_years_sheet_is_listed_not_counted(plan):
    """A 2021 sheet keeping last December's and next February's rows: the plan's window counts
    late-year registrations (from 01/11 before) and late year-end documents (to 31/01 after),
    nothing else; the rest is listed with its row, never dropped silently."""
    from tasks.normalise import normalise

    header = ["Thời gian nộp", "Đơn vị", "Mốc", "Loại hồ sơ", "Số trang", "Đường dẫn", "Ghi chú"]
    rows = [
        ["15/06/2020 09:00", "STP-CBA", "so-ket", "Báo cáo sơ kết", "", "", ""],  # last year's mid-year
        ["30/11/2020 09:00", "STP-CBA", "dang-ky", "Bản đăng ký thi đua", "", "", ""],
        ["18/06/2021 09:00", "STP-LCH", "so-ket", "Báo cáo sơ kết", "", "", ""],
        ["20/01/2022 09:00", "STP-LCH", "tong-ket", "Báo cáo tổng kết", "", "", ""],
        ["15/03/2022 09:00", "STP-LCH", "tong-ket", "Báo cáo tóm tắt", "", "", ""],  # next year's
    ]
    data = normalise(plan, {"Nộp hồ sơ": [header, *rows]})
    kept = sorted(zip(data.submissions.unit, data.submissions.milestone, strict=True))
    assert kept == [("STP-CBA", "dang-ky"), ("STP-LCH", "so-ket"), ("STP-LCH", "tong-ket")]
    reasons = {f.row: f.reason for f in data.findings}
    assert reasons[2] == (
        "Thời gian nộp: ngày 15/06/2020 thuộc năm khác: kế hoạch năm 2021 chỉ tính hồ sơ nộp từ "
        "01/11/2020 đến 31/01/2022"
    )
    assert "ngày 15/03/2022 thuộc năm khác" in reasons[6]
