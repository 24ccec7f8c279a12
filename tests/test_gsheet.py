"""The Google Sheet source: the real gspread client and google-auth flow against a local stand-in."""

import json
import unicodedata

import pytest

from tasks.contract import SourceUnavailable
from tasks.gsheet import GoogleSheetSource, load_service_account
from tasks.inputs import load_inputs
from tasks.normalise import normalise
from tasks.resources import Resources
from tasks.settings import Settings
from tasks.sheet_key import spreadsheet_key
from tasks.source import SourceError, WorkbookSource
from tests.helpers import HEADER, SAMPLE, local, table_at
from tests.sheets_standin import SPREADSHEET_ID, SheetsStandIn
from tests.slow_proxy import SlowProxy


@pytest.fixture
def sample_tabs():
    return WorkbookSource(SAMPLE).read_tabs()


def source(standin, max_wait=60.0, timeout=30.0, tab_titles=None):
    waits = []
    src = GoogleSheetSource(
        SPREADSHEET_ID,
        standin.service_account,
        standin.base_url,
        tab_titles=tab_titles,
        max_wait=max_wait,
        timeout=timeout,
        sleep=waits.append,
    )
    return src, waits


def test_all_tabs_in_one_request_with_a_real_token_exchange(sample_tabs):
    with SheetsStandIn(sample_tabs) as standin:
        src, _ = source(standin)
        tabs = src.read_tabs()
    assert standin.api_requests == [f"/v4/spreadsheets/{SPREADSHEET_ID}/values:batchGet"]
    (token,) = standin.token_requests
    assert token["grant_type"] == "urn:ietf:params:oauth:grant-type:jwt-bearer"
    assert token["scope"] == "https://www.googleapis.com/auth/spreadsheets.readonly"
    assert token["iss"] == "thidua-reader@thidua-test.iam.gserviceaccount.com"
    assert set(tabs) == set(sample_tabs)


def test_sheet_and_workbook_give_the_same_completeness_table(sample_tabs, plan, tmp_path):
    with SheetsStandIn(sample_tabs) as standin:
        key_file = tmp_path / "sa.json"
        key_file.write_text(json.dumps(standin.service_account))
        settings = Settings(
            source=f"https://docs.google.com/spreadsheets/d/{SPREADSHEET_ID}/edit#gid=0",
            google_credentials=key_file,
            sheets_api_url=standin.base_url,
        )
        from_sheet = load_inputs(Resources(settings))
    from_book = load_inputs(Resources(Settings(source=str(SAMPLE))))
    instant = local(plan, 2021, 12, 31)
    tables = [table_at(plan, i.data, instant) for i in (from_sheet, from_book)]
    assert tables[0].equals(tables[1])
    assert from_sheet.data.findings == from_book.data.findings
    assert from_sheet.source == f"Google Sheet {SPREADSHEET_ID}"


def test_429_then_success(sample_tabs):
    with SheetsStandIn(sample_tabs) as standin:
        standin.fail(429, times=2)
        src, waits = source(standin)
        tabs = src.read_tabs()
    assert len(standin.api_requests) == 3 and waits == [1.0, 2.0]
    assert "Nộp hồ sơ" in tabs


def test_retry_after_is_honoured(sample_tabs):
    with SheetsStandIn(sample_tabs) as standin:
        standin.fail(429, retry_after="7")
        src, waits = source(standin)
        src.read_tabs()
    assert waits == [7.0]


def test_500_repeatedly_fails_clearly_within_the_cap(sample_tabs):
    with SheetsStandIn(sample_tabs) as standin:
        standin.fail(500, times=100)
        src, waits = source(standin, max_wait=20)
        with pytest.raises(SourceError) as info:
            src.read_tabs()
    assert sum(waits) <= 20 and len(standin.api_requests) == len(waits) + 1
    assert "500 INTERNAL" in str(info.value) and "Chạy lại sau" in str(info.value)


def test_quota_exhausted_says_so(sample_tabs):
    with SheetsStandIn(sample_tabs) as standin:
        standin.fail(429, times=100)
        src, _ = source(standin, max_wait=10)
        with pytest.raises(SourceError, match="Hết hạn mức đọc"):
            src.read_tabs()


def test_timeout_is_retried(sample_tabs):
    with SheetsStandIn(sample_tabs) as standin:
        standin.stall(2.0)
        src, waits = source(standin, timeout=0.5)
        assert "Nộp hồ sơ" in src.read_tabs()
    assert waits == [1.0]


def test_403_names_the_account_to_share_with(sample_tabs):
    with SheetsStandIn(sample_tabs) as standin:
        standin.fail(403)
        src, _ = source(standin)
        with pytest.raises(SourceError) as info:
            src.read_tabs()
    assert "thidua-reader@thidua-test.iam.gserviceaccount.com" in str(info.value)
    assert "Chia sẻ (Share)" in str(info.value)


def test_404_unknown_spreadsheet(sample_tabs):
    with SheetsStandIn(sample_tabs) as standin:
        src = GoogleSheetSource("1NoSuchSheet0000000000000000000", standin.service_account, standin.base_url)
        with pytest.raises(SourceError, match="Không tìm thấy Google Sheet có khoá '1NoSuchSheet"):
            src.read_tabs()


def test_missing_optional_tab_is_reported_and_the_rest_read(sample_tabs):
    del sample_tabs["Phiếu bầu"]
    with SheetsStandIn(sample_tabs) as standin:
        src, _ = source(standin)
        tabs = src.read_tabs()
    assert "Phiếu bầu" not in tabs and "Nộp hồ sơ" in tabs
    assert src.missing_tabs == ["Phiếu bầu"]
    assert len(standin.api_requests) == 3  # refused batch, tab list, batch of the tabs that exist


def test_renamed_tab_matched_by_its_vietnamese_key(sample_tabs, plan):
    sample_tabs[unicodedata.normalize("NFD", " NỘP HỒ SƠ")] = sample_tabs.pop("Nộp hồ sơ")
    with SheetsStandIn(sample_tabs) as standin:
        tabs = source(standin)[0].read_tabs()
    assert len(normalise(plan, tabs).submissions) > 100


def test_missing_submissions_tab_is_a_clear_error(sample_tabs, plan):
    del sample_tabs["Nộp hồ sơ"]
    with SheetsStandIn(sample_tabs) as standin:
        tabs = source(standin)[0].read_tabs()
    with pytest.raises(SourceError, match="không có trang tính 'Nộp hồ sơ'"):
        normalise(plan, tabs)


def test_blank_header_cells_are_ignored_duplicates_refused(plan):
    row = ["20/06/2021 10:15:00", "STP-YBA", "so-ket", "Báo cáo sơ kết", "", "", "", "x"]
    with SheetsStandIn({"Nộp hồ sơ": [[*HEADER, ""], row]}) as standin:
        assert len(normalise(plan, source(standin)[0].read_tabs()).submissions) == 1
    with (
        SheetsStandIn({"Nộp hồ sơ": [[*HEADER, "", "", "Mốc"], row]}) as standin,
        pytest.raises(SourceError, match="'Mốc' bị trùng"),
    ):
        normalise(plan, source(standin)[0].read_tabs())


def test_nothing_mangled(plan):
    nfd = unicodedata.normalize("NFD", "Cục Thi hành án dân sự tỉnh Sơn La")
    tabs = {
        "Nộp hồ sơ": [
            HEADER,
            ["20/06/2021 10:15:00", nfd, "Sơ kết 6 tháng", "Báo cáo sơ kết", "12", "", "0913483228"],
            ["44362.375", "STP-YBA", "so-ket", "Báo cáo sơ kết", "9", "", ""],
        ],
        "Số liệu": [["Đơn vị", "Mốc", "Chỉ tiêu", "Giá trị"], ["STP-YBA", "so-ket", "Tỷ lệ", "1,5"]],
    }
    with SheetsStandIn(tabs) as standin:
        data = normalise(plan, source(standin)[0].read_tabs())
    s = data.submissions.set_index("unit")
    assert s.loc["THADS-SLA", "note"] == "0913483228"
    assert s.loc["THADS-SLA", "submitted_at"] == local(plan, 2021, 6, 20, 10, 15)
    assert s.loc["STP-YBA", "submitted_at"] == local(plan, 2021, 6, 15, 9)
    assert data.indicators["value"].tolist() == [1.5]


def test_google_form_response_tab(plan):
    form = {
        "Câu trả lời biểu mẫu 1": [
            ["Dấu thời gian", "Tên đơn vị", "Mốc", "Loại hồ sơ"],
            ["18/06/2021 9:05:12", "Sở Tư pháp tỉnh Yên Bái", "Sơ kết 6 tháng", "Báo cáo tóm tắt"],
        ]
    }
    with SheetsStandIn(form) as standin:
        src, _ = source(standin, tab_titles={"Nộp hồ sơ": "Câu trả lời biểu mẫu 1"})
        data = normalise(plan, src.read_tabs())
    assert data.submissions.iloc[0]["submitted_at"] == local(plan, 2021, 6, 18, 9, 5, 12)


def test_spreadsheet_key_from_url_or_key():
    assert spreadsheet_key(f"https://docs.google.com/spreadsheets/d/{SPREADSHEET_ID}/edit") == SPREADSHEET_ID
    assert spreadsheet_key(SPREADSHEET_ID) == SPREADSHEET_ID
    assert spreadsheet_key("bang-tinh.ods") is None


def test_credentials_missing_or_invalid(tmp_path):
    with pytest.raises(SourceError, match="chưa có khoá tài khoản dịch vụ"):
        load_service_account(None, None)
    with pytest.raises(SourceError, match="Không tìm thấy tệp khoá"):
        load_service_account(tmp_path / "none.json", None)
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(SourceError, match="không phải JSON hợp lệ"):
        load_service_account(bad, None)
    bad.write_text(json.dumps({"type": "authorized_user"}))
    with pytest.raises(SourceError, match="không phải khoá tài khoản dịch vụ"):
        load_service_account(bad, None)


def test_credentials_from_a_prefect_secret_block(prefect_server, sample_tabs):
    from prefect.blocks.system import Secret

    with SheetsStandIn(sample_tabs) as standin:
        Secret(value=json.dumps(standin.service_account)).save("thidua-google-test", overwrite=True)
        info = load_service_account(None, "thidua-google-test")
        assert info["client_email"] == standin.service_account["client_email"]
        src = GoogleSheetSource(SPREADSHEET_ID, info, standin.base_url)
        assert "Nộp hồ sơ" in src.read_tabs()
    with pytest.raises(SourceError, match="Không đọc được Secret block 'khong-co'"):
        load_service_account(None, "khong-co")


@pytest.mark.parametrize("slow", ["the API's answer", "the token exchange"])
def test_a_sheet_trickling_its_answer_ends_at_the_deadline_with_one_clear_line(sample_tabs, slow):
    """A byte every half second restarts every per-read timeout (requests' read timeout is
    between bytes): the read used to wait for ever. One deadline covers the whole read."""
    with SheetsStandIn(sample_tabs) as standin:
        proxy = SlowProxy(standin.server.server_port, fast_bytes=0)
        proxied = f"http://127.0.0.1:{proxy.port}"
        account = dict(standin.service_account)
        base = standin.base_url
        if slow == "the token exchange":
            account["token_uri"] = proxied + "/token"
        else:
            base = proxied
        try:
            src = GoogleSheetSource(SPREADSHEET_ID, account, base, deadline=3, sleep=lambda _: None)
            with pytest.raises(SourceUnavailable) as failed:
                src.read_tabs()
        finally:
            proxy.stop()
    assert "sau 3 giây (THIDUA_SHEETS_DEADLINE)" in str(failed.value)
