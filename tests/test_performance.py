"""The fast paths give what the slow ones gave: the calamine reader the same text as openpyxl's,
and the quick commands stay quick to start. (Speed itself is measured in bench/, not here.)"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import pytest
from openpyxl import Workbook

from tasks.completeness import status_records
from tasks.contract import MAX_COLUMNS
from tasks.inputs import Inputs, assess
from tasks.normalise import normalise
from tasks.source import MAX_DENSE_CELLS, WorkbookSource, read_fast, read_streaming, worksheet_extents
from tests.helpers import HEADER, SAMPLE

AT = [dt.datetime(2021, m, d, 8) for m, d in ((2, 22), (6, 21), (11, 11), (12, 31))]


def states(plan, raw) -> list[list[dict]]:
    inputs = Inputs(plan, normalise(plan, raw), "", {}, SAMPLE)
    return [status_records(assess(inputs, at.replace(tzinfo=plan.tz))) for at in AT]


def test_the_sample_reads_the_same_through_calamine_and_openpyxl(plan):
    fast, streamed = read_fast(WorkbookSource(SAMPLE)), read_streaming(WorkbookSource(SAMPLE))
    assert fast == streamed and len(fast["Nộp hồ sơ"]) > 150
    assert states(plan, fast) == states(plan, streamed)
    # the sample's messy cases are among what is compared: a phone number with its leading zero,
    # an impossible date, a unit that is not a member, a sheet-serial date
    cells = {cell for row in fast["Nộp hồ sơ"] for cell in row}
    assert "0913483228" in " ".join(cells) and "31/06/2021 09:00" in cells


def test_typed_cells_read_the_same_through_both_readers(tmp_path, plan):
    """What a clerk's Excel holds besides text: real dates and times, numbers, a phone number
    kept as text, a decimal comma typed as text, a boolean, blank rows, trailing formatting."""
    book = Workbook()
    sheet = book.active
    sheet.title = "Nộp hồ sơ"
    sheet.append(HEADER)
    doc = ["so-ket", "Báo cáo sơ kết"]
    sheet.append([dt.datetime(2021, 6, 18, 9, 30), "STP-YBA", *doc, 4, "", "0913483228"])
    sheet.append([dt.datetime(2021, 6, 18), "STP-LCA", *doc, 4.0, "", True])
    sheet.append([])
    sheet.append([dt.date(2021, 6, 19), " Sở Tư pháp  tỉnh Hoà Bình ", "Sơ kết 6 tháng", doc[1], "3,0"])
    sheet.append([44365.5, "STP-TNG", *doc, 2.5, "", dt.time(9, 30)])
    sheet.append(["18/06/2021 07:00", "STP-BGI", *doc, "", "", 83.7])
    sheet.cell(row=40, column=3).number_format = "0.00"  # formatting only: not a row
    scores = book.create_sheet("Chấm điểm")
    scores.append(["Đơn vị", "Tổng điểm tự chấm"])
    scores.append(["STP-YBA", 91.25])
    scores.append(["STP-LCA", "90,5"])
    path = tmp_path / "typed.xlsx"
    book.save(path)
    fast, streamed = read_fast(WorkbookSource(path)), read_streaming(WorkbookSource(path))
    assert fast == streamed
    assert fast["Nộp hồ sơ"][1][:1] == ["18/06/2021 09:30:00"] and fast["Nộp hồ sơ"][2][6] == "True"
    assert len(fast["Nộp hồ sơ"]) == 7  # the formatted cell of row 40 adds no row
    assert states(plan, fast) == states(plan, streamed)


def test_a_sheet_sprawling_past_the_dense_budget_is_streamed_not_loaded_whole(tmp_path):
    """calamine holds a sheet's bounding box in memory: a cell far out would abort the process.
    The scan sees it first and the workbook is read by openpyxl's streaming reader."""
    book = Workbook()
    sheet = book.active
    sheet.title = "Nộp hồ sơ"
    sheet.append(HEADER)
    sheet.append(["18/06/2021 09:00", "STP-YBA", "so-ket", "Báo cáo sơ kết"])
    sheet["CV60000"] = "x"  # column 100, the last one read
    book.save(tmp_path / "far.xlsx")
    (rows, columns), *_ = [e for e in worksheet_extents(tmp_path / "far.xlsx") if e != (0, 0)]
    assert (rows, columns) == (60_000, 100) and rows * columns > MAX_DENSE_CELLS
    tab = WorkbookSource(tmp_path / "far.xlsx").read_tabs()["Nộp hồ sơ"]
    assert tab[1][1] == "STP-YBA" and tab[-1][MAX_COLUMNS - 1] == "x" and len(tab) == 60_000


@pytest.mark.parametrize("command", [["status", "--json"], ["check"], ["calendar"]])
def test_quick_commands_import_neither_prefect_nor_the_document_and_mail_stacks(tmp_path, command):
    probe = f"""
import sys
from typer.testing import CliRunner
from flows.cli import app
result = CliRunner().invoke(app, {command!r})
assert result.exit_code == 0, result.output
heavy = {{"prefect", "sqlalchemy", "matplotlib", "docx", "docxtpl", "requests", "gspread", "yagmail"}}
print(sorted({{m.split(".")[0] for m in sys.modules}} & heavy))
"""
    env = {"THIDUA_DATA_DIR": str(tmp_path / "var"), "PATH": "/usr/bin:/bin"}
    done = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def servers_on(prefect_home: Path) -> list[int]:
    """The temporary Prefect servers running on this PREFECT_HOME."""
    from flows.prefect_env import EPHEMERAL_APP

    found = []
    for entry in Path("/proc").iterdir():
        try:
            mine = f"PREFECT_HOME={prefect_home}".encode() in (entry / "environ").read_bytes().split(b"\0")
            if mine and EPHEMERAL_APP in (entry / "cmdline").read_bytes():
                found.append(int(entry.name))
        except OSError:
            continue
    return found


def test_a_command_that_refuses_says_why_and_leaves_no_server_running(tmp_path):
    """`thidua report` starts its temporary Prefect server before the command line imports its
    modules (it boots meanwhile); the command then refuses a kind the plan does not have, in its
    own words, and the server it started for nothing is stopped when it exits."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("THIDUA_", "PREFECT_"))}
    env["THIDUA_DATA_DIR"] = str(tmp_path / "var")
    done = subprocess.run(
        [sys.executable, "-m", "flows.cli", "report", "quy-3"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1 and "quy-3" in done.stdout + done.stderr, done.stdout + done.stderr
    home = (tmp_path / "var" / "prefect").resolve()
    assert home.is_dir()  # made by the early start: the command refused before its own set-up
    assert servers_on(home) == []
