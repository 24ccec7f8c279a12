"""Units see their own status where they already look: a tab of the shared Google Sheet (the real
gspread client against the stand-in, read back), or a page and an .xlsx beside the embedded
workbook, which is never written. Every reminder links to the unit's own row or section."""

from __future__ import annotations

import hashlib
import json
from email import policy
from email.parser import BytesParser
from pathlib import Path

import gspread
import pytest
from google.oauth2.service_account import Credentials
from openpyxl import load_workbook
from typer.testing import CliRunner

from flows.cli import app
from tasks.source import WorkbookSource
from tasks.unit_status import HEADER
from tests.helpers import SAMPLE, write_plan
from tests.sheets_standin import SPREADSHEET_ID, WRITE_SCOPE, SheetsStandIn

AT = "2021-06-18T08:00"  # the mid-year review's last working day before its deadline (Sunday 20/06)
TAB = "Tình trạng nộp hồ sơ"


def thidua(*args: str, **env: object):
    return CliRunner().invoke(app, list(args), env={k: str(v) for k, v in env.items()})


def letters(outbox: Path) -> dict[str, str]:
    """The plain text of every letter, by its first recipient."""
    out = {}
    for path in outbox.rglob("*.eml"):
        letter = BytesParser(policy=policy.default).parsebytes(path.read_bytes())
        body = letter.get_body(("plain",))
        out[str(letter["To"]).split(",")[0]] = str(body.get_content()) if body is not None else ""
    return out


def test_beside_the_workbook_a_page_and_an_xlsx_and_the_workbook_untouched(tmp_path):
    before = hashlib.sha256(SAMPLE.read_bytes()).hexdigest()
    done = thidua("publish", "--at", AT)
    assert done.exit_code == 0, done.output
    assert hashlib.sha256(SAMPLE.read_bytes()).hexdigest() == before  # the source is never written
    folder = tmp_path / "var" / "status"
    sheet = load_workbook(folder / "kvtd-tp-mnpb-2021.xlsx").active
    rows = [[c or "" for c in row] for row in sheet.iter_rows(values_only=True)]
    assert rows[0] == HEADER and len(rows) == 1 + 28  # one row per unit: only the mid-year review is open
    by_unit = {r[0]: dict(zip(HEADER, r, strict=True)) for r in rows[1:]}
    lai_chau = by_unit["Sở Tư pháp tỉnh Lai Châu"]
    assert lai_chau["Tình trạng"] == "Chưa nộp" and lai_chau["Còn thiếu"] == "Báo cáo sơ kết; Báo cáo tóm tắt"
    assert lai_chau["Thời gian còn lại"] == "hôm nay là ngày làm việc cuối cùng trước hạn"
    assert lai_chau["Cập nhật lúc"] == "08:00 18/06/2021"
    son_la = by_unit["Sở Tư pháp tỉnh Sơn La"]  # its summary is 5 pages against 3
    assert "Báo cáo tóm tắt: 5 trang, vượt giới hạn 3 trang A4" in son_la["Vấn đề với hồ sơ đã gửi"]
    assert "(bảng tính)" in son_la["Đã nhận"]
    assert sheet.freeze_panes == "A2" and sheet.page_setup.orientation == "landscape"
    page = (folder / "kvtd-tp-mnpb-2021.html").read_text(encoding="utf-8")
    assert page.count("<section id=") == 28 and 'id="STP-LCH"' in page and 'href="#STP-LCH"' in page
    assert "<script" not in page and "<link" not in page and "src=" not in page  # self-contained
    assert "http://" not in page and "https://" not in page
    assert 'name="viewport"' in page  # readable on a phone


def test_with_the_plans_status_url_each_reminder_links_to_its_units_section(tmp_path):
    plan = write_plan(
        tmp_path, lambda t: t + '\nstatus_url: "https://sotuphap.example.gov.vn/thi-dua/tinh-trang"\n'
    )
    done = thidua("run", "--milestone", "so-ket", "--stage", "before-1", "--at", AT, THIDUA_PLAN=plan)
    assert done.exit_code == 0, done.output
    texts = letters(tmp_path / "var" / "outbox")
    lai_chau = next(t for to, t in texts.items() if "Lai Châu" in to)
    link = "https://sotuphap.example.gov.vn/thi-dua/tinh-trang/kvtd-tp-mnpb-2021.html#STP-LCH"
    assert f"Xem tình trạng hồ sơ của đơn vị: {link}" in lai_chau
    assert (tmp_path / "var" / "status" / "kvtd-tp-mnpb-2021.html").is_file()  # published by the round


def test_without_a_status_url_no_letter_carries_a_link_to_a_page_units_cannot_reach(tmp_path):
    done = thidua("run", "--milestone", "so-ket", "--stage", "before-1", "--at", AT)
    assert done.exit_code == 0, done.output
    assert not any("Xem tình trạng hồ sơ" in t for t in letters(tmp_path / "var" / "outbox").values())


@pytest.fixture
def shared_sheet(tmp_path):
    tabs = WorkbookSource(SAMPLE).read_tabs()
    with SheetsStandIn(tabs) as standin:
        yield standin, standin.env(tmp_path)


def read_back(standin: SheetsStandIn, title: str) -> list[list[str]]:
    """A tab as gspread reads it, with its own credentials."""
    creds = Credentials.from_service_account_info(standin.service_account, scopes=[WRITE_SCOPE])
    client = gspread.Client(auth=creds)
    client.http_client.session.mount("https://sheets.googleapis.com", _to(standin.base_url))
    return client.open_by_key(SPREADSHEET_ID).worksheet(title).get_values()


def _to(base_url: str):
    from tasks.gsheet import _Adapter

    return _Adapter(base_url)


def test_a_tab_of_its_own_in_the_shared_sheet_read_back_units_tabs_untouched(shared_sheet):
    standin, env = shared_sheet
    units_tabs = json.dumps(standin.tabs, ensure_ascii=False)
    done = thidua("publish", "--at", AT, **env)
    assert done.exit_code == 0, done.output
    assert json.dumps({t: v for t, v in standin.tabs.items() if t != TAB}, ensure_ascii=False) == units_tabs
    assert standin.write_requests == 2  # the new tab; then its content, format and protection
    reads = [p for p in standin.api_requests if not p.endswith(":batchUpdate")]
    assert len(reads) == 2  # the round's own read of the units' tabs, and one of the sheet's tabs
    tab = read_back(standin, TAB)
    assert tab[0] == HEADER and len(tab) == 29
    row = next(r for r in tab if r[0] == "Sở Tư pháp tỉnh Lai Châu")
    assert row[4] == "Chưa nộp"
    grid = standin.grids[TAB]
    assert grid["frozenRowCount"] == 1 and grid["columnCount"] == len(HEADER)
    (protection,) = standin.protected[TAB]
    assert protection["warningOnly"] is True  # a warning: coordinators may still fix by hand
    assert standin.formats[TAB][(0, 0)]["textFormat"]["bold"] is True
    lai_chau = tab.index(row)
    assert standin.formats[TAB][(lai_chau, 4)]["backgroundColor"]["red"] > 0.9  # "Chưa nộp" in red
    assert standin.widths[TAB][0] >= 200
    assert any(WRITE_SCOPE in t.get("scope", "") for t in standin.token_requests)


def test_a_second_publish_replaces_the_first_and_links_point_at_each_units_row(shared_sheet, tmp_path):
    standin, env = shared_sheet
    assert thidua("publish", "--at", "2021-06-01T08:00", **env).exit_code == 0
    standin.tabs[TAB].append(["dòng ai đó gõ vào"] + [""] * 8)  # typed into it despite the warning
    writes = standin.write_requests
    done = thidua("run", "--milestone", "so-ket", "--stage", "before-1", "--at", AT, **env)
    assert done.exit_code == 0, done.output
    assert standin.write_requests == writes + 1  # the tab exists: one write replaces it
    tab = read_back(standin, TAB)
    assert len(tab) == 29 and all("dòng ai đó gõ vào" not in r for r in tab)
    assert {r[-1] for r in tab[1:]} == {"08:00 18/06/2021"}  # every row of the later instant
    assert len(standin.protected[TAB]) == 1  # not one more protection per publish
    sheet_id = standin.sheet_ids[TAB]
    texts = letters(tmp_path / "var" / "outbox")
    lai_chau = next(t for to, t in texts.items() if "Lai Châu" in to)
    link = next(line for line in lai_chau.splitlines() if line.startswith("Xem tình trạng hồ sơ"))
    row_number = int(link.rsplit("range=A", 1)[1])
    assert f"/d/{SPREADSHEET_ID}/edit#gid={sheet_id}&range=A" in link
    assert tab[row_number - 1][0] == "Sở Tư pháp tỉnh Lai Châu"  # the link lands on its own row


def test_a_reader_only_account_gets_one_line_on_granting_edit_and_the_round_still_reminds(
    shared_sheet, tmp_path
):
    standin, env = shared_sheet
    standin.can_edit = False
    refused = thidua("publish", "--at", AT, **env)
    assert refused.exit_code == 1 and "Traceback" not in refused.output
    said = " ".join(refused.output.split())
    assert "chỉ được đọc Google Sheet" in said and "Người chỉnh sửa (Editor)" in said
    assert TAB not in standin.tabs
    done = thidua("run", "--milestone", "so-ket", "--stage", "before-1", "--at", AT, **env)
    assert done.exit_code == 0, done.output
    texts = letters(tmp_path / "var" / "outbox")
    # seven units that owe something, the digest, and two units' own notices (Sơn La's 5 pages,
    # Yên Bái's report sent twice): publishing never blocks mail
    assert len(texts) == 8 + 2
    assert not any("Xem tình trạng hồ sơ" in t for t in texts.values())


def test_a_status_tab_named_like_a_units_tab_is_refused_not_written(shared_sheet, tmp_path):
    standin, env = shared_sheet
    plan = write_plan(tmp_path, lambda t: t + '\nstatus_tab: "Nộp hồ sơ"\n')
    before = json.dumps(standin.tabs, ensure_ascii=False)
    refused = thidua("publish", "--at", AT, THIDUA_PLAN=plan, **env)
    assert refused.exit_code == 1 and "trùng tên một trang tính đơn vị nhập liệu" in " ".join(
        refused.output.split()
    )
    assert json.dumps(standin.tabs, ensure_ascii=False) == before and standin.write_requests == 0


def test_out_of_season_the_page_says_what_comes_next(tmp_path):
    done = thidua("publish", "--at", "2021-04-20T08:00")
    assert done.exit_code == 0, done.output
    page = (tmp_path / "var" / "status" / "kvtd-tp-mnpb-2021.html").read_text(encoding="utf-8")
    assert "Hiện không có mốc nào đang nhận hồ sơ. Mốc tới: Sơ kết 6 tháng, hạn 20/06/2021." in page


def test_a_round_run_by_hand_reads_the_shared_sheet_once(shared_sheet):
    """The command reads the sheet to know what is due; the round's flow, in the same process,
    reuses that reading (a context variable, not a parameter: parameters are JSON) instead of
    spending a second request of the quota."""
    standin, env = shared_sheet
    done = thidua("run", "--milestone", "so-ket", "--stage", "before-1", "--at", AT, **env)
    assert done.exit_code == 0, done.output
    assert sum(p.endswith("values:batchGet") for p in standin.api_requests) == 1
