"""Operating a real year: `plan new`, the plan cited with its date, `serve` with the UI on, a past
plan refused, alerts in Vietnamese, runs tagged."""

from __future__ import annotations

import datetime as dt
import email
import os
import signal
import socket
import subprocess
import sys
import time
from email.policy import default
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from flows.cli import app
from tasks.plan import load_plan
from tasks.schedule import triggers
from tests.helpers import PLAN_PATH, local, round_mails, with_sheet
from tests.smtp_server import free_port

REPO = Path(__file__).parents[1]


def cli(*args: str, env: dict | None = None):
    result = CliRunner().invoke(app, list(args), env=env or {})
    return result, " ".join(result.output.split())


def new_plan(tmp_path: Path, year: int, *extra: str) -> Path:
    out = tmp_path / f"plan-{year}.yaml"
    result, output = cli(
        "plan", "new", "--year", str(year), "--from", str(PLAN_PATH), "--out", str(out), *extra
    )
    assert result.exit_code == 0, output
    return out


def filled(path: Path, number: str, issued: str) -> Path:
    """The coordinator fills in what `plan new` left to fill."""
    text = path.read_text(encoding="utf-8")
    text = text.replace("document_number: ''", f"document_number: {number}").replace(
        "issued:", f"issued: {issued}", 1
    )
    path.write_text(text, encoding="utf-8")
    return path


# -- plan new --------------------------------------------------------------------------------


@pytest.mark.parametrize("year", [2022, 2027])
def test_plan_new_keeps_day_and_month_rules_and_comments(tmp_path, year):
    path = new_plan(tmp_path, year)
    old, new = load_plan(PLAN_PATH), load_plan(path)
    assert new.year == year and new.id == f"kvtd-tp-mnpb-{year}" and new.title.endswith(f"năm {year}")
    for m_old, m_new in zip(old.milestones, new.milestones, strict=True):
        if m_old.deadline:
            assert (m_new.deadline.day, m_new.deadline.month, m_new.deadline.year) == (
                m_old.deadline.day,
                m_old.deadline.month,
                year,
            )
        if m_old.period:
            assert m_new.period.start == m_old.period.start.replace(year=year)
    phat_dong = new.obligation("bao-cao-phat-dong")
    assert (phat_dong.after_milestone, phat_dong.days_after) == ("phat-dong", 5)  # relative rules kept
    assert new.reminders == old.reminders and new.units == old.units and new.awards == old.awards
    text = path.read_text(encoding="utf-8")
    # last year's notes spoke of last year: the new ones speak of the new year, in Vietnamese
    assert '"trước ngày 20/6/2021" (a Sunday)' not in text
    assert f"# Các mốc năm {year}: hạn giữ ngày, tháng của năm 2021" in text
    assert text.index("milestones:") < text.index("units:")  # the order of keys stays
    assert new.document_number == "" and new.issued is None and new.citation is None
    result, output = cli("check", env={"THIDUA_PLAN": str(with_sheet(path))})
    assert result.exit_code == 0, output
    assert "document_number: chưa điền số kế hoạch" in output and "issued: chưa điền ngày ban hành" in output


def test_plan_new_shows_deadlines_on_days_off_and_where_rounds_move(tmp_path):
    out = tmp_path / "plan-2026.yaml"
    result, output = cli("plan", "new", "--year", "2026", "--from", str(PLAN_PATH), "--out", str(out))
    assert result.exit_code == 0, output
    # 20/02/2026 is inside Tết: the plan's registration deadline falls on a holiday
    assert (
        "- Đăng ký thi đua: 20/02/2026 (Thứ Sáu) là ngày nghỉ, ngày lễ: Mùng bốn Tết Nguyên Đán; "
        "đợt nhắc dời: before-1 sang Thứ Sáu 13/02" in output
    )
    assert "- Sơ kết 6 tháng: 20/06/2026 (Thứ Bảy) là ngày nghỉ" in output
    dang_ky = [t for t in triggers(load_plan(out)) if t.target == "dang-ky" and t.action == "reminder"]
    # the "3 days before" round (17/02, Tết) and "1 day before" (19/02, Tết) move to Friday 13/02,
    # the last working day before Tết; of rounds on the same day the one closest to the deadline stays
    assert [(t.stage, t.at.date()) for t in dang_ky] == [("before-1", dt.date(2026, 2, 13))]
    y2027 = load_plan(new_plan(tmp_path, 2027))
    before_7 = next(t for t in triggers(y2027) if t.target == "dang-ky" and t.stage == "before-7")
    assert (before_7.nominal_day, before_7.at.date()) == (
        dt.date(2027, 2, 13),
        dt.date(2027, 2, 12),
    )  # Sat -> Fri


@pytest.mark.parametrize(
    ("args", "expect"),
    [
        (["--year", "2021"], "phải sau năm của kế hoạch gốc (2021"),
        (["--year", "2020"], "phải sau năm của kế hoạch gốc (2021"),
        (["--year", "2027", "--from", "khong-co.yaml"], "không tìm thấy tệp"),
        (
            ["--year", "2027", "--from", str(REPO / "tests" / "broken_plans" / "unknown-key.yaml")],
            "Lỗi kế hoạch gốc",
        ),
    ],
)
def test_plan_new_refuses_bad_input_and_writes_nothing(tmp_path, args, expect):
    out = tmp_path / "moi.yaml"
    result, output = cli("plan", "new", *args, "--out", str(out))
    assert result.exit_code == 1 and expect in output, output
    assert not out.exists()


def test_plan_new_never_overwrites_without_force(tmp_path):
    out = new_plan(tmp_path, 2027)
    out.write_text("# ghi chú của tôi\n", encoding="utf-8")
    result, output = cli("plan", "new", "--year", "2027", "--from", str(PLAN_PATH), "--out", str(out))
    assert result.exit_code == 1 and "--force" in output
    assert out.read_text(encoding="utf-8") == "# ghi chú của tôi\n"
    assert (
        new_plan(tmp_path, 2027, "--force")
        .read_text(encoding="utf-8")
        .startswith("# Kế hoạch hoạt động năm 2027")
    )


# -- the plan cited with its date, and not before it -----------------------------------------


def test_mail_cites_the_plan_with_its_date_only_from_the_day_it_was_issued(sample, plan):
    (after, *_), _ = round_mails(sample, plan)
    assert "Thực hiện Kế hoạch số 184/KH-KVTĐ ngày 28/02/2021 của Khu vực thi đua" in after.text
    assert "gửi tự động theo Kế hoạch số 184/KH-KVTĐ ngày 28/02/2021" in after.text

    from tasks.compose import unit_mails
    from tasks.round import Round
    from tests.helpers import table_at

    instant = local(plan, 2021, 2, 17, 8)  # registration reminders go out before the plan is signed
    (before, *_) = unit_mails(
        Round.of(plan, "dang-ky", "before-3", instant), table_at(plan, sample.data, instant)
    )
    assert "Kế hoạch số" not in before.text and "Kế hoạch số" not in before.html
    assert (
        "Khu vực thi đua khối cơ quan Tư pháp các tỉnh miền núi phía Bắc đề nghị các đơn vị gửi hồ sơ"
        in before.text
    )
    assert "trước ngày 20/02/2021 (Thứ Bảy)" in before.text


# -- serve -----------------------------------------------------------------------------------


def test_serve_refuses_a_plan_whose_year_is_over():
    result, output = cli("serve")
    assert result.exit_code == 1
    assert "Kế hoạch năm 2021 đã hết" in output and "thidua plan new --year" in output
    result, output = cli("check")
    assert "Kế hoạch năm 2021 đã hết" in output  # check warns too


def test_serve_refuses_a_busy_port(tmp_path):
    path = filled(
        with_sheet(new_plan(tmp_path, dt.date.today().year + 1)),
        "1/KH-KVTĐ",
        f"{dt.date.today().year + 1}-01-05",
    )
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result, output = cli("serve", "--port", str(port), env={"THIDUA_PLAN": str(path)})
    assert result.exit_code == 1 and f"cổng {port}" in output


def test_serve_starts_the_ui_on_any_port_and_sigterm_stops_both(tmp_path):
    """Next year's plan made with `plan new`, served by `thidua serve` on a port that is not
    Prefect's 4200: the UI answers at the printed address, asks the served API for its data, and
    the deployments have runs scheduled ahead. SIGTERM stops serve and its server."""
    today = dt.date.today()
    year = today.year + 1
    ahead = (dt.date(year, 12, 31) - today).days
    path = filled(with_sheet(new_plan(tmp_path, year)), "1/KH-KVTĐ", f"{year}-01-05")
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "THIDUA_"))}
    env.update(
        {
            "THIDUA_PLAN": str(path),
            "THIDUA_DATA_DIR": str(tmp_path / "var"),
            "PREFECT_HOME": str(tmp_path / "prefect"),
            # next year's rounds can be more than Prefect's default 100 days ahead
            "PREFECT_SERVER_SERVICES_SCHEDULER_MAX_SCHEDULED_TIME": f"P{ahead}D",
            "PREFECT_SERVER_SERVICES_SCHEDULER_LOOP_SECONDS": "2",
        }
    )
    serve = subprocess.Popen(
        [sys.executable, "-m", "flows.cli", "serve", "--port", str(port)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        line = serve.stdout.readline()
        while "Giao diện Prefect" not in line:
            assert line, "serve ended before printing the UI address"
            line = serve.stdout.readline()
        assert base in line
        page = httpx.get(f"{base}/", timeout=10)
        assert page.status_code == 200 and "<html" in page.text.lower()
        assert httpx.get(f"{base}/ui-settings", timeout=10).json()["api_url"] == f"{base}/api"
        deadline = time.monotonic() + 120
        while True:
            runs = httpx.post(
                f"{base}/api/flow_runs/filter",
                json={"flow_runs": {"state": {"type": {"any_": ["SCHEDULED"]}}}, "limit": 50},
                timeout=10,
            ).json()
            if runs:
                break
            assert time.monotonic() < deadline, "no run scheduled ahead"
            time.sleep(1)
        assert all(dt.datetime.fromisoformat(r["expected_start_time"]).year == year for r in runs)
        while True:  # deployments are registered one by one: the first runs may come before all
            deployments = httpx.post(f"{base}/api/deployments/filter", json={"limit": 50}, timeout=10).json()
            so_ket = next(
                (d for d in deployments if d["name"] == f"Sơ kết 6 tháng · kvtd-tp-mnpb-{year}"), None
            )
            if so_ket:
                break
            assert time.monotonic() < deadline, "the so-ket deployment was never registered"
            time.sleep(1)
        assert "Lịch chạy:" in so_ket["description"] and " lúc 08:00: " in so_ket["description"]
        assert any(
            day in so_ket["description"] for day in ("Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu")
        )
        assert {f"nam-{year}", "so-ket", f"kvtd-tp-mnpb-{year}"} <= set(so_ket["tags"])
        # a coordinator's `thidua run` beside it runs on the served server, not a temporary one
        started = time.monotonic()
        run = subprocess.run(
            [sys.executable, "-m", "flows.cli", "run", "--milestone", "so-ket", "--stage", "before-3"]
            + ["--at", f"{year}-06-17T08:00", "--dry-run"],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert run.returncode == 0, run.stdout + run.stderr
        done = httpx.post(
            f"{base}/api/flow_runs/filter",
            json={"flow_runs": {"state": {"type": {"any_": ["COMPLETED"]}}}, "limit": 50},
            timeout=10,
        ).json()
        assert any("so-ket" in r["tags"] and r["start_time"] for r in done), "the run is not in the served UI"
        # filed under its deployment, named as the schedule names it, as if started from the UI
        (by_hand,) = [r for r in done if r["deployment_id"] == so_ket["id"]]
        assert by_hand["name"] == f"Nhắc trước hạn 3 ngày · Sơ kết 6 tháng · 17/06/{year}"
        assert by_hand["run_count"] == 1  # carried out once, here: the serve's runner left it alone
        print(f"served round: {time.monotonic() - started:.1f} s")
        # the UI's Run button on the deployment: the serve's runner picks the run up and runs it
        clicked = time.monotonic()
        button = httpx.post(
            f"{base}/api/deployments/{so_ket['id']}/create_flow_run",
            json={"parameters": {"stage": "before-1", "at": f"{year}-06-18T08:00", "dry_run": True}},
            timeout=10,
        ).json()
        while (state := httpx.get(f"{base}/api/flow_runs/{button['id']}", timeout=10).json())["state"][
            "type"
        ] not in ("COMPLETED", "FAILED", "CRASHED"):
            assert time.monotonic() - clicked < 120, f"the Run button's run stayed {state['state']['type']}"
            time.sleep(0.2)
        assert state["state"]["type"] == "COMPLETED" and state["run_count"] == 1
        assert state["name"] == f"Nhắc trước hạn 1 ngày · Sơ kết 6 tháng · 18/06/{year}"
        waited = dt.datetime.fromisoformat(state["start_time"]) - dt.datetime.fromisoformat(button["created"])
        print(
            f"Run button: started after {waited.total_seconds():.1f} s, done {time.monotonic() - clicked:.1f}"
        )
    finally:
        serve.send_signal(signal.SIGTERM)
        try:
            serve.wait(timeout=60)
        except subprocess.TimeoutExpired:
            serve.kill()
            _kill_server_on(port)  # serve's own server runs in its own session: stop it by pid
            raise
    with pytest.raises(httpx.HTTPError):  # the server went with it
        httpx.get(f"{base}/api/health", timeout=2)
    assert not (tmp_path / "var" / "prefect-served.json").exists()  # nobody is sent to a dead server


# -- alerts and tags -------------------------------------------------------------------------


def _alert(tmp_path):
    (alert,) = (tmp_path / "var" / "outbox").rglob("alert-*.eml")
    msg = email.message_from_bytes(alert.read_bytes(), policy=default)
    return msg, msg.get_body(("plain",)).get_content(), msg.get_body(("html",)).get_content()


def test_an_alert_is_vietnamese_cause_first_and_links_only_through_the_public_ui_address(
    prefect_server, tmp_path, monkeypatch
):
    from flows.milestone import milestone_round

    monkeypatch.setenv("THIDUA_SOURCE", str(tmp_path / "mat-tep.xlsx"))
    monkeypatch.setenv("PREFECT_UI_URL", "http://127.0.0.1:4200")  # the server's own, loopback view
    assert milestone_round("so-ket", "before-1", at="2021-06-18T08:00", return_state=True).is_failed()
    msg, text, html = _alert(tmp_path)
    assert msg["Subject"].endswith(
        "LỖI: đợt nhắc trước hạn 1 ngày, Sơ kết 6 tháng (Thứ Sáu 18/06/2021) không chạy xong"
    )
    lines = text.split("\n")
    assert lines[2] == (  # what was not done first, from the ledger: nothing of this round went out
        "Việc chưa xong: đợt nhắc trước hạn 1 ngày, Sơ kết 6 tháng, lịch ngày Thứ Sáu 18/06/2021. "
        "Chưa gửi thư nào của đợt này: các đơn vị còn thiếu hồ sơ chưa được nhắc."
    )
    assert lines[4].startswith("Nguyên nhân: Chưa có tệp bảng tính 'mat-tep.xlsx'")  # then why
    assert lines[6].startswith("Việc cần làm: sửa nguyên nhân trên, rồi chạy lại đợt này")  # then what to do
    assert str(tmp_path) not in text and str(tmp_path) not in html  # no server path in a letter
    assert msg["Date"].endswith("+0700")  # like every other letter
    for english in ("Failed", "Flow run", "encountered", "exception", "SourceError", "state"):
        assert english not in text and english not in msg["Subject"], english
    assert "127.0.0.1" not in text and "127.0.0.1" not in html and "mục Runs" in text
    assert text.startswith("Kính gửi: đồng chí Phạm Thị Minh Lý")  # the coordinators, by name
    assert "Trân trọng.\nSở Tư pháp tỉnh Yên Bái, đơn vị Trưởng Khu vực thi đua" in text  # signed

    for alert in (tmp_path / "var" / "outbox").rglob("alert-*.eml"):
        alert.unlink()
    monkeypatch.setenv("THIDUA_UI_URL", "https://thidua.kvtd-tuphap.example")
    milestone_round("so-ket", "before-3", at="2021-06-17T08:00", return_state=True)
    msg, text, html = _alert(tmp_path)
    assert "https://thidua.kvtd-tuphap.example/runs/flow-run/" in text
    assert 'href="https://thidua.kvtd-tuphap.example/runs/flow-run/' in html


def test_every_run_is_tagged_with_plan_year_target_and_stage(prefect_server, plan):
    from prefect.client.orchestration import get_client

    from flows.milestone import milestone_round

    state = milestone_round("so-ket", "before-1", at="2021-06-18T08:00", dry_run=True, return_state=True)
    with get_client(sync_client=True) as client:
        run = client.read_flow_run(state.state_details.flow_run_id)
    assert {plan.id, "nam-2021", "so-ket", "before-1", "nhac-han"} <= set(run.tags)
    assert run.name == "Nhắc trước hạn 1 ngày · Sơ kết 6 tháng · 18/06/2021"  # named as a person reads it


def _kill_server_on(port: int) -> None:
    """Stop the `prefect server start … --port <port>` a killed serve left behind."""
    wanted = f"--port\0{port}".encode()
    for entry in Path("/proc").iterdir():
        try:
            if (
                entry.name.isdigit()
                and b"server\0start" in (cmd := (entry / "cmdline").read_bytes())
                and wanted in cmd
            ):
                os.kill(int(entry.name), signal.SIGKILL)
        except OSError:
            pass
