"""Reading robustly and validating at the edges (the Reliability 2 issue): each bad input gets
one clear message and exit 1, or a finding, and never a crash or a silent loss."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from flows.cli import app
from tasks.contract import MAX_CELL_CHARS, SourceError
from tasks.normalise import normalise
from tasks.resources import Resources
from tasks.round import Round
from tasks.source import WorkbookSource
from tests.helpers import HEADER, SAMPLE, local, write_plan

REPO = Path(__file__).parents[1]


def cli(*args: str, env: dict | None = None):
    result = CliRunner().invoke(app, list(args), env=env or {})
    return result, " ".join(result.output.split())


def rewrite_sheet_xml(src: Path, dst: Path, edit) -> None:
    """A copy of an .xlsx whose worksheets' XML went through `edit(xml) -> xml`."""
    with zipfile.ZipFile(src) as z:
        parts = {n: z.read(n) for n in z.namelist()}
    with zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in parts.items():
            if name.startswith("xl/worksheets/sheet"):
                data = edit(data.decode("utf-8")).encode("utf-8")
            z.writestr(name, data)


# -- reading ---------------------------------------------------------------------------------


def test_a_stale_dimension_gives_the_same_table_as_the_intact_workbook(tmp_path, plan):
    stale = tmp_path / "stale.xlsx"
    rewrite_sheet_xml(
        SAMPLE, stale, lambda xml: re.sub(r'<dimension ref="[^"]*"/>', '<dimension ref="A1:D3"/>', xml)
    )
    with zipfile.ZipFile(stale) as z:
        assert all(
            b'<dimension ref="A1:D3"/>' in z.read(n)
            for n in z.namelist()
            if n.startswith("xl/worksheets/sheet")
        )
    intact = normalise(plan, WorkbookSource(SAMPLE).read_tabs())
    read = normalise(plan, WorkbookSource(stale).read_tabs())
    assert len(read.submissions) == len(intact.submissions) > 100
    assert read.submissions.equals(intact.submissions)
    assert read.findings == intact.findings


def test_a_stray_cell_at_the_sheets_far_corner_costs_nothing(tmp_path):
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = "Nộp hồ sơ"
    sheet.append(HEADER)
    sheet.append(["18/06/2021 09:00", "STP-YBA", "so-ket", "Báo cáo sơ kết", "", "", ""])
    sheet["XFD1048576"] = " "
    book.save(tmp_path / "far.xlsx")
    started = time.monotonic()
    rows = WorkbookSource(tmp_path / "far.xlsx").read_tabs()["Nộp hồ sơ"]
    assert len(rows) == 2 and rows[1][1] == "STP-YBA"  # trailing blank rows are not kept
    assert time.monotonic() - started < 30  # was: 7.8 GB and MemoryError


@pytest.mark.parametrize(
    "tab", [[], [["", "", ""], ["18/06/2021 09:00", "STP-YBA", "so-ket", "Báo cáo sơ kết"]]]
)
def test_a_submissions_tab_without_its_header_row_stops_the_run(plan, tab):
    with pytest.raises(SourceError, match="dòng tiêu đề"):
        normalise(plan, {"Nộp hồ sơ": tab})


def test_a_malformed_sheet_xml_is_a_clear_error(tmp_path):
    broken = tmp_path / "hong.xlsx"
    rewrite_sheet_xml(SAMPLE, broken, lambda xml: xml.replace("</sheetData>", "<row r='x'><c r=", 1))
    with pytest.raises(SourceError, match="hỏng|không đọc được"):
        WorkbookSource(broken).read_tabs()


def test_absurd_numbers_and_dates_become_findings_and_the_round_still_runs(plan):
    huge = "x" * 50_000_000
    raw = {
        "Nộp hồ sơ": [
            HEADER,
            ["18/06/2021 09:00", "STP-YBA", "so-ket", "Báo cáo sơ kết", "1e20", "", ""],
            ["01/01/0001 09:00", "STP-LCA", "so-ket", "Báo cáo sơ kết", "", "", ""],
            ["31/12/9999 09:00", "STP-SLA", "so-ket", "Báo cáo sơ kết", "", "", ""],
            ["18/06/2021 09:00", huge, "so-ket", "Báo cáo sơ kết", "", "", ""],
        ],
        "Chấm điểm": [["Đơn vị", "Tổng điểm tự chấm"], ["STP-YBA", "nan"], ["STP-LCA", "-5"]],
    }
    data = normalise(plan, raw)
    reasons = {(f.tab, f.row): f.reason for f in data.findings}
    assert "nằm ngoài khoảng hợp lý" in reasons[("Nộp hồ sơ", 2)]
    assert "năm 1 nằm ngoài năm kế hoạch" in reasons[("Nộp hồ sơ", 3)]
    assert "năm 9999 nằm ngoài năm kế hoạch" in reasons[("Nộp hồ sơ", 4)]
    assert "không phải là số" in reasons[("Chấm điểm", 2)] and "nằm ngoài" in reasons[("Chấm điểm", 3)]
    assert list(data.submissions["unit"]) == ["STP-YBA"]  # the row with the page count counts
    assert data.submissions["pages"].isna().all()
    assert all(len(f.reason) + len(f.value) < 3 * MAX_CELL_CHARS for f in data.findings)

    from tasks.compose import digest_mail, unit_mails
    from tasks.inputs import Inputs, assess
    from tasks.outcomes import Outcome

    instant = local(plan, 2021, 6, 18, 10)  # after the rows' 09:00
    rnd = Round.of(plan, "so-ket", "before-1", instant)
    table = assess(Inputs(plan, data, "thử", {}), instant, ["so-ket"])
    mails = {m.key.recipient: m for m in unit_mails(rnd, table)}
    assert len(mails) == 28  # nobody sent both documents; nothing crashed
    assert table.set_index("unit").loc["STP-YBA", "missing"] == ["Báo cáo tóm tắt"]
    digest = digest_mail(rnd, table, [], [], Outcome(), [f.__dict__ for f in data.findings])
    assert len(digest.html.encode()) + len(digest.text.encode()) < 200_000


# -- the plan --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("edit", "expect"),
    [
        (lambda t: t.replace("id: bao-cao-phat-dong", "id: ../../ra-ngoai"), "area_obligations.3.id"),
        (
            lambda t: t.replace("before_days: [7, 3, 1]", "before_days: [1000000, 3, 1]"),
            "reminders.before_days.0",
        ),
        (lambda t: t.replace("before_days: [7, 3, 1]", "before_days: [-7, 3, 1]"), "reminders.before_days.0"),
        (lambda t: t.replace("deadline: 2021-06-20", "deadline: 9999-06-20"), "milestones[so-ket].deadline"),
        (
            lambda t: t.replace(
                "name: Sở Tư pháp tỉnh Hà Giang, email",
                "name: Sở Tư pháp tỉnh Hà Giang, aliases: [STP-TQU], email",
            ),
            "units[STP-HGI].aliases: 'STP-TQU' đã là cách gọi của đơn vị STP-TQU",
        ),
        (
            lambda t: t.replace(
                "name: Sở Tư pháp tỉnh Hà Giang, email",
                "name: Sở Tư pháp tỉnh Hà Giang, aliases: [Cục THADS Lào Cai], email",
            ),
            "units[STP-HGI].aliases: 'Cục THADS Lào Cai' đã là cách gọi của đơn vị THADS-LCA",
        ),
    ],
    ids=[
        "obligation-id-a-path",
        "a-million-days",
        "negative-days",
        "year-9999",
        "alias-is-a-code",
        "alias-is-a-name",
    ],
)
def test_check_refuses_what_would_misfire_later(tmp_path, edit, expect):
    path = write_plan(tmp_path, edit)
    assert path.read_text(encoding="utf-8") != write_plan(tmp_path / "..", lambda t: t).read_text(
        encoding="utf-8"
    )
    result, output = cli("check", env={"THIDUA_PLAN": str(path)})
    assert result.exit_code == 1 and expect in output, output
    assert "Traceback" not in output


def test_a_line_break_in_the_plan_reaches_no_header_nor_ics_line(tmp_path):
    path = write_plan(
        tmp_path,
        lambda t: t.replace(
            "area_short_name: KVTĐ Tư pháp miền núi phía Bắc", 'area_short_name: "KVTĐ\\r\\nX-Evil: 1"'
        ),
    )
    env = {"THIDUA_PLAN": str(path)}
    assert cli("check", env=env)[0].exit_code == 0
    result, _ = cli("calendar", "--ics", str(tmp_path / "han.ics"), env=env)
    assert result.exit_code == 0
    ics = (tmp_path / "han.ics").read_bytes()
    assert b"\r\nX-Evil" not in ics and b"KVT\xc4\x90 X-Evil: 1" in ics  # one line, the break folded away


def test_a_plan_nested_too_deeply_is_one_message(tmp_path):
    path = tmp_path / "sau.yaml"
    path.write_text("[" * 5000, encoding="utf-8")
    result, output = cli("check", env={"THIDUA_PLAN": str(path)})
    assert result.exit_code == 1 and "lồng nhau quá sâu" in output and "Traceback" not in output


# -- the CLI and the environment ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "expect"),
    [
        (["tally", "--present", "-1"], "--present"),
        (["tally", "--present", "29"], "từ 1 đến 28"),
        (["tally", "--day", "2021-13-45"], "--day"),
    ],
)
def test_tally_refuses_impossible_arguments(args, expect):
    result, output = cli(*args)
    assert result.exit_code == 1 and expect in output


def test_an_unusable_ledger_url_names_the_variable(tmp_path):
    result, output = cli("run", "--at", "2021-06-18T08:00", env={"THIDUA_LEDGER_URL": "khong-phai://x"})
    assert result.exit_code == 1 and "THIDUA_LEDGER_URL" in output and "Traceback" not in output


def test_an_unreachable_ledger_sends_nothing_and_says_so(settings, sample, plan, tmp_path):
    from tasks.delivery import send
    from tasks.ledger import LedgerError
    from tests.helpers import round_mails

    locked = tmp_path / "khoa"
    locked.mkdir()
    broken = settings.model_copy(update={"ledger_url": f"sqlite:///{locked}"})  # a folder, not a file
    mails, instant = round_mails(sample, plan)
    with pytest.raises(LedgerError, match="THIDUA_LEDGER_URL"):
        send(mails, Resources(broken), instant)
    assert not settings.outbox_dir.exists()


def test_a_binary_credentials_file_is_a_clear_error(tmp_path):
    from tasks.gsheet import load_service_account

    key = tmp_path / "khoa.json"
    key.write_bytes(bytes(range(256)) * 4)
    with pytest.raises(SourceError, match="THIDUA_GOOGLE_CREDENTIALS"):
        load_service_account(key, None)


def test_a_killed_runs_temporary_prefect_server_is_stopped_at_the_next_start(tmp_path):
    """`thidua run` starts Prefect's temporary server; SIGKILL the run and that server lives on,
    re-parented. The next command's start stops it."""
    from flows.prefect_env import EPHEMERAL_APP, stop_orphaned_servers

    home = tmp_path / "var" / "prefect"
    env = {**os.environ, "THIDUA_DATA_DIR": str(tmp_path / "var"), "PREFECT_HOME": str(home)}
    env.pop("PREFECT_API_URL", None)
    thidua = shutil.which("thidua", path=str(Path(sys.executable).parent))
    run = subprocess.Popen(
        [thidua, "run", "--at", "2021-06-18T08:00", "--dry-run"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
    )

    def servers() -> list[int]:
        found = []
        for entry in Path("/proc").iterdir():
            try:
                if (
                    entry.name.isdigit()
                    and EPHEMERAL_APP in (entry / "cmdline").read_bytes()
                    and f"PREFECT_HOME={home}".encode() in (entry / "environ").read_bytes().split(b"\0")
                ):
                    found.append(int(entry.name))
            except OSError:
                pass
        return found

    try:
        deadline = time.monotonic() + 120
        while not servers():
            assert run.poll() is None, "the run ended before its server was seen"
            assert time.monotonic() < deadline
            time.sleep(0.2)
        assert stop_orphaned_servers(str(home)) == []  # its run is alive: left alone
    finally:
        run.send_signal(signal.SIGKILL)
        run.wait()
    orphans = servers()
    assert orphans, "the temporary server should have outlived the killed run"
    assert sorted(stop_orphaned_servers(str(home))) == sorted(orphans)
    deadline = time.monotonic() + 30
    while servers():
        assert time.monotonic() < deadline, "the orphaned server did not stop"
        time.sleep(0.2)


def test_a_trickling_web_server_cannot_hold_a_page_count(tmp_path):
    """A link whose server sends one byte every 0.3 s: each read succeeds, so only the total
    deadline ends the download; the declared page count is used instead."""
    import socket
    import threading

    from tasks.pages import count_pages

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    stop = threading.Event()

    def trickle() -> None:
        conn, _ = listener.accept()
        with conn:
            conn.recv(4096)
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n%PDF")
            while not stop.wait(0.3):
                try:
                    conn.sendall(b"x")
                except OSError:
                    return

    threading.Thread(target=trickle, daemon=True).start()
    started = time.monotonic()
    try:
        assert count_pages(f"http://127.0.0.1:{listener.getsockname()[1]}/bao-cao.pdf", total=2) is None
    finally:
        stop.set()
        listener.close()
    assert time.monotonic() - started < 5


@pytest.mark.parametrize(
    ("args", "expect"),
    [
        (["template", "--out", "/khong-co/bang-tinh.xlsx"], "--out: thư mục /khong-co không có"),
        (["calendar", "--ics", "/khong-co/han.ics"], "--ics: thư mục /khong-co không có"),
        (["calendar", "--ics", "."], "là một thư mục; ghi cả tên tệp, ví dụ"),
        (
            ["template", "--out", "/proc/bang-tinh.xlsx"],
            "--out: không ghi được /proc/bang-tinh.xlsx (không có",
        ),
        (["serve", "--port", "99999"], "--port 99999: cổng phải từ 1 đến 65535"),
        (["report", "midyear", "--out", "/etc/passwd"], "--out: /etc/passwd là một tệp, không phải thư mục"),
    ],
)
def test_an_output_or_port_that_cannot_be_used_is_one_line_not_a_traceback(args, expect):
    result, output = cli(*args)
    assert result.exit_code == 1 and expect in output, output
    assert "Traceback" not in output and "Error" not in output


@pytest.mark.parametrize(
    ("setting", "expect"),
    [
        ({"THIDUA_IMAP_HOST": "imap.example"}, "THIDUA_IMAP_HOST đã đặt nhưng thiếu THIDUA_IMAP_USER"),
        ({"THIDUA_SMTP_PORT": "70000"}, "THIDUA_SMTP_PORT: không được quá 65535"),
        ({"THIDUA_SMTP_PORT": "-1"}, "THIDUA_SMTP_PORT: phải từ 1 trở lên"),
        ({"THIDUA_IMAP_PORT": "abc"}, "THIDUA_IMAP_PORT: phải là số nguyên"),
        ({"THIDUA_SHEETS_MAX_WAIT": "-1"}, "THIDUA_SHEETS_MAX_WAIT: phải từ 0.0 trở lên"),
        (
            {"THIDUA_UI_URL": "javascript:alert(1)"},
            "THIDUA_UI_URL: 'javascript:alert(1)' không phải địa chỉ web",
        ),
    ],
)
def test_a_bad_setting_is_one_vietnamese_line(setting, expect):
    result, output = cli("check", env=setting)
    assert result.exit_code == 1 and expect in output, output
    assert "Traceback" not in output and "Input should" not in output and "Value error" not in output


@pytest.mark.parametrize(
    ("edit", "expect"),
    [
        (lambda t: t.replace("year: 2021\n", "year: 2021\nyear: 2022\n", 1), "khoá 'year' ghi hai lần (dòng"),
        (lambda t: t.replace("so-tu-phap: 4,", "so-tu-phap: -4,", 1), "phải từ 0 trở lên"),
        (
            lambda t: t.replace("max_pages: 3", "max_pages: 1000000000000000000000000000000", 1),
            "không được quá 1000",
        ),
        (lambda t: t.replace("name: Sơ kết 6 tháng", "name: " + "x" * 5_000_001, 1), "dài 5.000.001 ký tự"),
    ],
)
def test_a_plan_that_cannot_be_meant_is_refused_by_check(tmp_path, edit, expect):
    plan = write_plan(tmp_path, edit)
    result, output = cli("check", env={"THIDUA_PLAN": str(plan)})
    assert result.exit_code == 1 and expect in output, output[:2000]
    assert "Traceback" not in output


@pytest.mark.parametrize(
    ("content", "expect"),
    [
        (
            b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
            + b"\0" * 600
            + "EncryptionInfo".encode("utf-16-le")
            + b"\0" * 600,
            "tệp có đặt mật khẩu",
        ),
        (
            b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600 + "Workbook".encode("utf-16-le"),
            "tệp Excel cũ (.xls)",
        ),
        (b"Don vi,Moc\nSTP-LCH,so-ket\n", "tệp không phải bảng tính"),
    ],
)
def test_a_workbook_that_is_not_an_xlsx_says_what_it_is(tmp_path, content, expect):
    book = tmp_path / "bang-tinh.xlsx"
    book.write_bytes(content)
    result, output = cli("check", env={"THIDUA_SOURCE": str(book)})
    assert result.exit_code == 1 and expect in output, output
    assert "BadZipFile" not in output and "zip" not in output
