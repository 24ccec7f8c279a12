"""The `thidua` command as an operator types it."""

import json

import pytest
from typer.testing import CliRunner

from flows.cli import app
from tests.helpers import wait_for, write_plan

runner = CliRunner()


def thidua(*args, **env):
    return runner.invoke(app, list(args), env={k: str(v) for k, v in env.items()})


def test_status_json_lists_all_28_units_with_the_contract_fields():
    result = thidua("status", "--milestone", "so-ket", "--at", "2021-06-18T08:00", "--json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert len(rows) == 28
    assert {"unit", "unit_name", "milestone", "state", "overdue", "missing", "problems"} <= set(rows[0])
    by_unit = {r["unit"]: r for r in rows}
    assert by_unit["STP-LCH"]["state"] == "missing"
    assert by_unit["STP-BKA"] == {
        **by_unit["STP-BKA"],
        "state": "incomplete",
        "missing": ["Báo cáo tóm tắt"],
        "overdue": False,
    }
    assert by_unit["STP-YBA"]["state"] == "on_time"
    assert by_unit["STP-SLA"]["problems"] == ["Báo cáo tóm tắt: 5 trang, vượt giới hạn 3 trang A4"]


def test_naive_at_is_vietnam_time():
    # 19/06 23:30 in Hà Nội is before the deadline; the same wall time in UTC would be after it
    local = json.loads(thidua("status", "--milestone", "so-ket", "--at", "2021-06-19T23:30", "--json").stdout)
    utc = json.loads(
        thidua("status", "--milestone", "so-ket", "--at", "2021-06-19T23:30+00:00", "--json").stdout
    )
    assert not any(r["overdue"] for r in local)
    assert any(r["overdue"] for r in utc)


def test_status_table_in_vietnamese():
    result = thidua("status", "--milestone", "so-ket", "--at", "2021-06-18T08:00")
    assert result.exit_code == 0
    assert "Sơ kết 6 tháng" in result.stdout and "Chưa nộp" in result.stdout


def test_unknown_milestone_and_bad_instant_are_clear_errors():
    bad = thidua("status", "--milestone", "so-kett")
    assert bad.exit_code == 1 and "không có mốc 'so-kett'" in bad.output and "Traceback" not in bad.output
    bad = thidua("status", "--at", "18/06/2021")
    assert bad.exit_code == 1 and "ISO 8601" in bad.output


def test_check_passes_on_the_sample_and_warns_about_rows_and_days_off():
    result = thidua("check")
    assert result.exit_code == 0, result.output
    out = " ".join(result.output.split())
    assert "dòng 81" in out and "Hà Tây" in out
    # "trước ngày 20/06" ends on Saturday 19/06: check says the very sentence the reminders carry
    note = "Lưu ý: ngày cuối cùng của hạn, 19/06/2021 (Thứ Bảy), là ngày nghỉ cuối tuần"
    assert f"thư nhắc sẽ ghi: {note}" in out
    assert thidua("check", "--strict").exit_code == 1


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("code: STP-TQU", "code: STP-HGI", "trùng STP-HGI"),
        ("year: 2021", "year: [2021", "không phải YAML hợp lệ"),
        ("owed_by: units", "owed_by: everyone", "milestones.0.owed_by"),
    ],
)
def test_check_on_a_broken_plan_exits_1_without_traceback(tmp_path, old, new, message):
    path = write_plan(tmp_path, lambda t: t.replace(old, new, 1))
    result = thidua("check", THIDUA_PLAN=path)
    assert result.exit_code == 1
    assert message in " ".join(result.output.split()) and str(path) in result.output.replace("\n", "")
    assert "Traceback" not in result.output


def test_plan_deadline_outside_the_year_is_flagged(tmp_path):
    path = write_plan(tmp_path, lambda t: t.replace("deadline: 2021-03-10", "deadline: 2020-03-10"))
    result = thidua("check", THIDUA_PLAN=path)
    assert result.exit_code == 0
    assert "nằm ngoài năm kế hoạch 2021" in " ".join(result.output.split())


def test_missing_workbook_is_a_clear_error(tmp_path):
    result = thidua("status", THIDUA_SOURCE=tmp_path / "khong-co.xlsx")
    assert result.exit_code == 1 and "Chưa có tệp bảng tính" in result.output


def test_broken_setting_is_named():
    result = thidua("status", THIDUA_MAIL_TRANSPORT="pigeon")
    assert result.exit_code == 1 and "THIDUA_MAIL_TRANSPORT" in result.output


def test_run_on_a_day_without_triggers_says_what_comes_next():
    result = thidua("run", "--at", "2021-06-12T09:00")
    assert result.exit_code == 0
    assert "Không có việc nào" in result.output and "17/06/2021 08:00 so-ket before-3" in result.output


def flow_runs():
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        return client.read_flow_runs(limit=200)


def task_runs_of(flow_run_id):
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    with get_client(sync_client=True) as client:
        return client.read_task_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id])))


def test_replay_writes_mail_once(prefect_server, tmp_path):
    before = {r.id for r in flow_runs()}
    first = thidua("replay", "--until", "2021-06-30")
    assert first.exit_code == 0, first.output
    # the year replayed is one run in the UI, its rounds inside it (a run per round made a replay
    # a minute of Prefect's bookkeeping; the schedule's own runs stay one per round)
    (replayed,) = [r for r in flow_runs() if r.id not in before]
    assert replayed.name == "Chạy lại năm 2021 · 184/KH-KVTĐ" and replayed.state.is_completed()
    assert {"kvtd-tp-mnpb-2021", "nam-2021", "chay-lai"} <= set(replayed.tags)
    # each round one step of it, named by its slug and day (the run's graph cannot draw
    # Vietnamese letters); a round's own steps (read, assess, send, publish) are not task runs
    # of their own: 230 made the replay slow
    rounds = [line for line in first.output.splitlines() if line.startswith("✓ ")]
    # (the server records task runs from events, a moment after the run ends)
    steps = wait_for(lambda: len(runs := task_runs_of(replayed.id)) == len(rounds) and runs)
    steps = sorted(steps, key=lambda r: r.expected_start_time)
    assert len(steps) == len(rounds) > 10 and all(r.state.is_completed() for r in steps)
    assert steps[0].name == "dang-ky-before-7 · 09/02/2021"
    outbox = tmp_path / "var" / "outbox"
    files = {p: p.stat().st_mtime_ns for p in outbox.rglob("*.eml")}
    kinds = {p.parent.name for p in files}
    assert {"before-7", "before-3", "before-1", "overdue-1", "overdue-3"} <= kinds
    assert len([p for p in files if p.stem == "digest"]) == 10  # one per round, 2 milestones
    assert not any("tong-ket" in str(p) for p in files)  # --until stops before November
    assert "Tổng kết lần chạy" in first.output

    second = thidua("replay", "--until", "2021-06-30")
    assert second.exit_code == 0
    assert {p: p.stat().st_mtime_ns for p in outbox.rglob("*.eml")} == files


def test_run_at_an_instant_sends_that_days_rounds(prefect_server, tmp_path):
    result = thidua("run", "--at", "2021-06-21T09:00")
    assert result.exit_code == 0, result.output
    sent = sorted(p.stem for p in (tmp_path / "var/outbox/kvtd-tp-mnpb-2021/so-ket/overdue-1").glob("*.eml"))
    assert sent == sorted(["STP-BKA", "STP-CBA", "STP-LCH", "STP-PTH", "THADS-BGI", "THADS-DBI", "digest"])


def test_check_against_a_google_sheet_lists_tabs_and_headers(tmp_path):
    from tasks.source import WorkbookSource
    from tests.helpers import SAMPLE
    from tests.sheets_standin import SPREADSHEET_ID, SheetsStandIn

    tabs = WorkbookSource(SAMPLE).read_tabs()
    del tabs["Phiếu bầu"]
    tabs["Đăng ký"] = [row[:2] for row in tabs["Đăng ký"]]  # no "Tập thể / cá nhân" column
    with SheetsStandIn(tabs) as standin:
        env = standin.env(tmp_path)
        result = thidua("check", **env)
        status = thidua("status", "--milestone", "so-ket", "--at", "2021-06-18T08:00", "--json", **env)
    assert result.exit_code == 0, result.output
    out = " ".join(result.output.split())
    assert f"Nguồn Google Sheet {SPREADSHEET_ID} đọc được" in out
    assert "trang tính 'Nộp hồ sơ': Thời gian nộp · Đơn vị · Mốc" in out
    assert "không có trang tính 'Phiếu bầu' (tuỳ chọn, bỏ qua)" in out
    assert "trang tính 'Đăng ký' thiếu cột: Tập thể / cá nhân" in out
    assert len(json.loads(status.stdout)) == 28


def test_unshared_sheet_is_a_clear_error_naming_the_account(tmp_path):
    from tests.sheets_standin import SheetsStandIn

    with SheetsStandIn({}) as standin:
        standin.fail(403)
        result = thidua("check", **standin.env(tmp_path))
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "thidua-reader@thidua-test.iam.gserviceaccount.com" in result.output.replace("\n", "")


def test_template_workbook_is_a_valid_source(tmp_path):
    path = tmp_path / "mau.xlsx"
    assert thidua("template", "--out", path).exit_code == 0
    result = thidua("check", THIDUA_SOURCE=path)
    assert result.exit_code == 0 and "0 hồ sơ" in result.output


def test_a_replayed_round_that_hits_a_bug_is_reported_and_the_year_goes_on(
    prefect_server, tmp_path, monkeypatch
):
    """A bug in one round (here the digest of 17/02) fails that round's step of the replay, with
    its own words in the summary (not Prefect's English wrapper), and the rounds after it run."""
    import flows.milestone

    real = flows.milestone.digest_mail

    def broken(rnd, *args, **kwargs):
        if rnd.stage == "before-3":
            raise RuntimeError("lỗi giả lập trong bản tổng hợp")
        return real(rnd, *args, **kwargs)

    monkeypatch.setattr(flows.milestone, "digest_mail", broken)
    before = {r.id for r in flow_runs()}
    result = thidua("replay", "--until", "2021-02-28")
    assert result.exit_code == 1
    lines = [" ".join(line.split()) for line in result.output.splitlines()]
    assert "✗ 17/02/2021 08:00 dang-ky before-3: lỗi giả lập trong bản tổng hợp" in lines
    assert any(line.startswith("✓ 19/02/2021 08:00 dang-ky before-1") for line in lines)
    (replayed,) = [r for r in flow_runs() if r.id not in before]
    rounds = len([line for line in lines if line.startswith(("✓", "✗"))])

    def recorded():
        runs = task_runs_of(replayed.id)
        return len(runs) == rounds and all(r.state.is_final() for r in runs) and runs

    failed = [r.name for r in wait_for(recorded) if r.state.is_failed()]
    assert failed == ["dang-ky-before-3 · 17/02/2021"]
