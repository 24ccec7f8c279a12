"""Unattended operation against a real `prefect server start` on loopback.

The 2021 plan lies in the past and a Prefect server schedules only future runs, so the plan is
moved to the next year ahead with the same calendar as 2021 (1 January a Friday, no 29 February:
2027, then 2038): every weekday, including Sunday 20/06, is the same. The server is told to
schedule far enough ahead to reach the end of that year.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import sys
import time

import httpx
import pytest
from icalendar import Calendar

from flows.local_server import local_prefect_server
from tasks.plan import load_plan
from tasks.schedule import triggers
from tasks.settings import REPO
from tasks.source import write_template
from tests.helpers import wait_for as wait_polling
from tests.helpers import write_plan
from tests.smtp_server import free_port

# the next year ahead whose calendar is 2021's (a Friday 1 January, no 29 February)
Y = next(y for y in range(dt.date.today().year + 1, 2100) if dt.date(y, 1, 1).weekday() == 4 and y % 4)
AHEAD_DAYS = (dt.date(Y, 12, 31) - dt.date.today()).days + 30  # the scheduler must reach that year's end


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    home = tmp_path_factory.mktemp("prefect-server")
    env = {
        "PREFECT_HOME": str(home),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_SERVER_SERVICES_SCHEDULER_MAX_SCHEDULED_TIME": f"P{AHEAD_DAYS}D",
        "PREFECT_SERVER_SERVICES_SCHEDULER_LOOP_SECONDS": "2",
        "PREFECT_UI_ENABLED": "false",
    }
    with local_prefect_server(free_port(), home / "server.log", timeout=180, extra_env=env) as api:
        yield api


@pytest.fixture
def plan_ahead(tmp_path):
    # the year's own (empty) sheet: the 2021 sample would be refused as another year's
    write_template(tmp_path / "bang-tinh.xlsx")
    path = write_plan(tmp_path, lambda t: t.replace("2021", str(Y)) + "spreadsheet: bang-tinh.xlsx\n")
    return path, load_plan(path)


def api_post(api, path, body):
    response = httpx.post(f"{api}{path}", json=body, timeout=30)
    response.raise_for_status()
    return response.json()


def scheduled_runs(api):
    runs = api_post(
        api, "/flow_runs/filter", {"flow_runs": {"state": {"type": {"any_": ["SCHEDULED"]}}}, "limit": 200}
    )
    names = {d["id"]: d["name"] for d in api_post(api, "/deployments/filter", {"limit": 50})}
    return {
        (
            names[r["deployment_id"]],
            dt.datetime.fromisoformat(r["expected_start_time"]),
            json.dumps(r["parameters"], sort_keys=True),
        )
        for r in runs
    }


def start_serve(api, plan_path, data_dir):
    env = {
        **os.environ,
        "PREFECT_API_URL": api,
        "THIDUA_PLAN": str(plan_path),
        "THIDUA_DATA_DIR": str(data_dir),
        "PREFECT_LOGGING_LEVEL": "WARNING",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "flows.cli", "serve"],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def local_times(runs, tz=dt.timezone(dt.timedelta(hours=7))):
    """Scheduled runs with their times in Vietnam, as the plan writes them."""
    return {(n, at.astimezone(tz), p) for n, at, p in runs}


def wait_for(predicate, timeout=90):  # a server's scheduler: asked once a second
    return wait_polling(predicate, timeout, step=1)


def stop(process):
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


LABELS = {  # what a coordinator reads first in the deployments list
    "dang-ky": "Đăng ký thi đua",
    "so-ket": "Sơ kết 6 tháng",
    "tong-ket": "Tổng kết năm",
    "kiem-tra": "Kiểm tra",
    "obligation": "Hạn chung của Khu vực",
    "report": "Báo cáo sơ kết, tổng kết",
}


def named(key: str, plan_id: str = "") -> str:
    return f"{LABELS[key]} · {plan_id or f'kvtd-tp-mnpb-{Y}'}"


def test_serve_schedules_every_trigger_and_a_restart_loses_none(server, plan_ahead, tmp_path):
    path, plan = plan_ahead
    expected = {t for t in triggers(plan)}
    plan_file = {"plan": str(path.resolve())}
    tz = plan.tz
    want = set()
    for t in expected:
        if t.action == "report":
            want.add(
                (
                    named("report"),
                    t.at,
                    json.dumps({"kind": t.target, "stage": t.stage} | plan_file, sort_keys=True),
                )
            )
            continue
        name = named("obligation" if t.action == "obligation" else t.target)
        key = "obligation" if t.action == "obligation" else "milestone"
        want.add((name, t.at, json.dumps({key: t.target, "stage": t.stage} | plan_file, sort_keys=True)))
    serve = start_serve(server, path, tmp_path / "var")
    try:
        # the scheduler creates runs deployment by deployment: wait until every one is there
        runs = wait_for(lambda: (r := scheduled_runs(server)) and want <= local_times(r) and r)
    finally:
        stop(serve)
    deployments = {d["name"]: d for d in api_post(server, "/deployments/filter", {"limit": 50})}
    # the inspection teams' deployment: a look each working day of the season
    assert set(deployments) == {named(k) for k in LABELS}
    assert len({name[:15] for name in deployments}) == len(deployments)  # told apart at 1280 px
    assert {f"nam-{Y}", "so-ket", f"kvtd-tp-mnpb-{Y}", "nhac-han", "qua-han"} <= set(
        deployments[named("so-ket")]["tags"]
    )
    assert "bao-cao" in deployments[named("report")]["tags"]
    assert local_times(runs) == want
    # 20/06 is a Sunday that year, like 20/06/2021: "1 day before" (Saturday 19/06) moves to Friday 18/06
    before_1 = next(at for n, at, p in runs if n == named("so-ket") and '"before-1"' in p)
    assert before_1.astimezone(tz) == dt.datetime(Y, 6, 18, 8, 0, tzinfo=tz)

    # what a coordinator reads in the UI: flows, the Run dialog's fields, the upcoming runs' names
    flows = {f["name"] for f in api_post(server, "/flows/filter", {"limit": 50})}
    assert flows == {"Nhắc hạn đơn vị", "Nhắc hạn chung", "Nhắc đoàn kiểm tra", "Lập báo cáo"}
    form = deployments[named("so-ket")]["parameter_openapi_schema"]["properties"]
    assert [form[k]["title"] for k in ("milestone", "stage", "at", "dry_run", "plan", "early")] == [
        "Mốc", "Đợt", "Thời điểm", "Chạy thử", "Tệp kế hoạch", "Gửi sớm"
    ]  # fmt: skip
    assert all(form[k]["description"] for k in form)  # and each says what it does, in Vietnamese
    assert (form["at"]["type"], form["at"]["format"]) == ("string", "date-time")  # one date-time picker
    # milestone and stage: a choice of what this deployment schedules, in the order they come
    assert form["milestone"]["enum"] == ["so-ket"]
    assert form["stage"]["enum"] == ["before-7", "before-3", "before-1", "overdue-1", "overdue-3"]
    report = deployments[named("report")]["parameter_openapi_schema"]["properties"]
    assert report["kind"]["enum"] == ["midyear", "yearend"]  # a choice
    from prefect.settings import PREFECT_API_URL, temporary_settings

    from flows.serve import name_scheduled_runs

    with temporary_settings(updates={PREFECT_API_URL: server}):
        assert name_scheduled_runs([(plan, path)]) >= len(runs)
        assert name_scheduled_runs([(plan, path)]) == 0  # once named, left alone
    upcoming = api_post(
        server, "/flow_runs/filter", {"flow_runs": {"state": {"type": {"any_": ["SCHEDULED"]}}}, "limit": 200}
    )
    names = {r["name"] for r in upcoming}
    assert f"Nhắc trước hạn 1 ngày · Sơ kết 6 tháng · 18/06/{Y}" in names
    assert f"Quá hạn 1 ngày · Sơ kết 6 tháng · 21/06/{Y}" in names
    assert all(" · " in n for n in names)  # none left with Prefect's random "likable-tanuki"
    so_ket_1 = next(r for r in upcoming if r["name"].startswith("Nhắc trước hạn 1 ngày · Sơ kết"))
    assert {"before-1", "so-ket", "nhac-han", f"kvtd-tp-mnpb-{Y}"} <= set(so_ket_1["tags"])

    # after SIGTERM nothing is paused and no scheduled run was deleted
    assert not any(d["paused"] for d in api_post(server, "/deployments/filter", {"limit": 50}))
    assert scheduled_runs(server) == runs
    serve = start_serve(server, path, tmp_path / "var")
    try:
        time.sleep(8)
        # re-registering neither loses nor doubles a run: the same runs, each once (a run Prefect
        # replaces when a deployment is registered again comes back within its scheduler's loop,
        # which on a loaded machine takes longer than the 8 s above)
        wait_for(lambda: scheduled_runs(server) == runs, timeout=60)
        upcoming = api_post(
            server,
            "/flow_runs/filter",
            {"flow_runs": {"state": {"type": {"any_": ["SCHEDULED"]}}}, "limit": 200},
        )
        assert len(upcoming) == len(runs)
    finally:
        stop(serve)


def test_calendar_json_and_ics_against_the_plan(tmp_path):
    from typer.testing import CliRunner

    from flows.cli import app

    ics_path = tmp_path / "han.ics"
    result = CliRunner().invoke(app, ["calendar", "--json", "--ics", str(ics_path)])
    assert result.exit_code == 0
    items = json.loads(result.stdout)
    assert [i["at"] for i in items] == sorted(i["at"] for i in items)
    so_ket = {i["stage"]: i for i in items if i["milestone"] == "so-ket"}
    assert so_ket["before-1"]["at"] == "2021-06-18T08:00:00+07:00" and so_ket["before-1"]["shifted"]
    assert so_ket["overdue-1"]["at"] == "2021-06-21T08:00:00+07:00"
    assert {i["action"] for i in items} == {"reminder", "overdue", "obligation", "report", "teams"}
    # each inspection team's rounds, read from the Kiểm tra tab, counted from its own last day
    teams = {(i["team"], i["unit"], i["deadline"]) for i in items if i["action"] == "teams"}
    assert teams == {("Đoàn 1", "STP-YBA", "2021-09-21"), ("Đoàn 2", "STP-TQU", "2021-09-28")}
    notices = {i["team"]: i["at"] for i in items if i["stage"].endswith(".notice")}
    assert notices == {"Đoàn 1": "2021-09-06T08:00:00+07:00", "Đoàn 2": "2021-09-13T08:00:00+07:00"}
    # the area's report is due 10 days after the last team ended (22/09): before 03/10
    inspection_report = [i for i in items if i["milestone"] == "bao-cao-kiem-tra"]
    assert inspection_report[-1]["at"] == "2021-10-01T08:00:00+07:00"  # before-1 (02/10 is a Saturday)
    reports = {(i["milestone"], i["stage"]): i["at"] for i in items if i["action"] == "report"}
    assert reports == {
        ("midyear", "compile"): "2021-06-24T08:00:00+07:00",
        ("yearend", "compile"): "2021-11-16T08:00:00+07:00",  # the draft for the conference
        ("yearend", "final"): "2021-12-08T08:00:00+07:00",  # after it, a week before 15/12
    }
    area = [i for i in items if i["milestone"] == "bao-cao-so-ket-khu-vuc"]
    assert area[-1]["at"] == "2021-07-02T08:00:00+07:00"  # before 05/07 (a Monday), not the weekend

    events = {
        str(e["uid"]).split("@")[0]: e for e in Calendar.from_ical(ics_path.read_bytes()).walk("VEVENT")
    }
    assert events["so-ket"]["dtstart"].dt == dt.date(2021, 6, 19)
    assert events["dang-ky"]["dtstart"].dt == dt.date(2021, 2, 19)
    assert events["tong-ket"]["dtstart"].dt == dt.date(2021, 11, 9)
    assert events["bao-cao-tong-ket-khu-vuc"]["dtstart"].dt == dt.date(2021, 12, 14)


def test_a_late_round_follows_the_late_run_rule(prefect_server, tmp_path):
    from prefect.artifacts import Artifact

    from flows.milestone import milestone_round

    late = milestone_round("so-ket", "before-3", at="2021-06-18T09:00")  # before-1 was due at 08:00
    assert "before-1" in late.stale and late.units.sent == []
    after_deadline = milestone_round("so-ket", "before-1", at="2021-06-20T10:00")
    assert "đã qua" in after_deadline.stale
    assert not (tmp_path / "var" / "outbox").exists()
    assert "KHÔNG GỬI" in Artifact.get("kvtd-tp-mnpb-2021-so-ket-round").data
    on_time = milestone_round("so-ket", "before-1", at="2021-06-18T09:00")
    # seven units that owe, and two units' own notices (Sơn La's 5 pages, Yên Bái's report twice)
    assert on_time.stale is None and len(on_time.units.sent) == 7 + 2


def test_serve_runs_several_plans_apart_and_leaves_out_a_broken_one(server, plan_ahead, tmp_path):
    path, _ = plan_ahead
    other = tmp_path / "plan-cum.yaml"
    other.write_text(path.read_text(encoding="utf-8").replace(f"id: kvtd-tp-mnpb-{Y}", f"id: cum-thu-{Y}"))
    broken = tmp_path / "plan-hong.yaml"
    broken.write_text("id: [", encoding="utf-8")
    env = {**os.environ, "PREFECT_API_URL": server, "THIDUA_DATA_DIR": str(tmp_path / "var")}
    serve = subprocess.Popen(
        [sys.executable, "-m", "flows.cli", "serve", str(path), str(other), str(broken)],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        text=True,
    )
    wanted = {named("so-ket"), named("so-ket", f"cum-thu-{Y}"), named("report", f"cum-thu-{Y}")}
    try:
        names = wait_for(
            lambda: (
                found
                if wanted
                <= (found := {d["name"] for d in api_post(server, "/deployments/filter", {"limit": 100})})
                else None
            )
        )
    finally:
        stop(serve)
    output = serve.stdout.read()
    assert wanted <= names
    assert "Lỗi kế hoạch" in output and "plan-hong.yaml" in output  # reported, the others served
    second_plan = {"flow_runs": {"tags": {"all_": [f"cum-thu-{Y}"]}}, "limit": 5}
    runs = wait_for(lambda: api_post(server, "/flow_runs/filter", second_plan))  # the scheduler's runs
    assert all(r["parameters"]["plan"] == str(other.resolve()) for r in runs)
