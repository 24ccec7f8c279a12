"""Inspection teams (issue 12, item 1; issue 24, item 3): each team's documents are due 5 days
after its own last day (the area's choice, leaving the Head five more before the area's own
report, due "chậm nhất là 10 ngày sau khi kết thúc kiểm tra", counted from the last team), its
leading unit is reminded, and the units it inspects are told beforehand to prepare.
The sample's Kiểm tra tab has two teams: Đoàn 1 (STP-YBA, 13–15/09/2021, sent its report and the
Biên bản for STP-LCA on 24/09, late) and Đoàn 2 (STP-TQU, 20–22/09/2021, sent nothing)."""

from __future__ import annotations

import datetime as dt
import email
from email.policy import default

from typer.testing import CliRunner

from flows.cli import app
from tasks.delivery import from_address
from tasks.normalise import normalise
from tasks.schedule import triggers
from tasks.teams import team_table, teams, teams_by_milestone
from tests.helpers import HEADER, local

KIEM_TRA = "kiem-tra"


def table(plan, data, *when):
    m = plan.milestone(KIEM_TRA)
    return team_table(plan, m, teams(plan, m, data.inspections), data.submissions, local(plan, *when))


def test_each_team_is_due_five_days_after_its_own_last_day(sample, plan):
    (one, two) = teams(plan, plan.milestone(KIEM_TRA), sample.data.inspections)
    assert (one.name, one.lead, one.inspected) == ("Đoàn 1", "STP-YBA", ("STP-LCA", "THADS-LCA"))
    assert (one.last_day, one.deadline) == (dt.date(2021, 9, 15), dt.date(2021, 9, 21))  # 20/09 allowed
    assert (two.lead, two.deadline) == ("STP-TQU", dt.date(2021, 9, 28))
    rows = table(plan, sample.data, 2021, 9, 27, 8).set_index("team")
    # on Monday 27/09 the first team is overdue, the second is not
    assert rows.loc["Đoàn 1", "overdue"] and not rows.loc["Đoàn 2", "overdue"]
    assert rows.loc["Đoàn 1", "missing"] == ["Biên bản kiểm tra (Cục Thi hành án dân sự tỉnh Lào Cai)"]
    assert rows.loc["Đoàn 2", "state"] == "missing" and len(rows.loc["Đoàn 2", "missing"]) == 3


def test_a_biên_bản_counts_for_the_unit_it_names(plan):
    raw = {
        "Nộp hồ sơ": [
            HEADER,
            *(
                [when, "STP-YBA", KIEM_TRA, kind, "3", "", "", inspected]
                for when, kind, inspected in (
                    ("24/09/2021 10:00", "Báo cáo kết quả kiểm tra", ""),
                    ("24/09/2021 10:05", "Biên bản kiểm tra", "Cục THADS tỉnh Lào Cai"),
                    ("27/09/2021 09:00", "Biên bản kiểm tra", "STP Lào Cai"),
                    ("24/09/2021 11:00", "Biên bản kiểm tra", "Sở Tư pháp tỉnh Hà Tây"),
                )
            ),
        ],
        "Kiểm tra": [
            ["Đoàn kiểm tra", "Đơn vị trưởng đoàn", "Đơn vị được kiểm tra", "Ngày bắt đầu", "Ngày kết thúc"],
            ["Đoàn 1", "STP-YBA", "STP-LCA", "13/09/2021", "15/09/2021"],
            ["Đoàn 1", "STP-YBA", "THADS-LCA", "13/09/2021", "15/09/2021"],
        ],
    }
    data = normalise(plan, raw)
    # a unit that is not a member is a finding; the row still counts, unnamed (it fills no one's place
    # here, since both named ones arrived)
    assert any(
        "Đơn vị được kiểm tra" in f.reason and "Hà Tây" in f.reason and not f.dropped for f in data.findings
    )
    row = table(plan, data, 2021, 9, 28, 8).iloc[0]
    assert row.missing == [] and row.state == "late"  # the Biên bản came on 24/09 and 27/09, after 20/09
    assert any("Sở Tư pháp tỉnh Lào Cai" in p and "nộp muộn" in p for p in row.problems)


def test_rounds_go_to_the_leading_unit_of_each_team(prefect_server, tmp_path, sample, plan):
    from flows.inspection import inspection_round

    rounds = {t.stage: t.at for t in triggers(plan, teams_by_milestone(plan, sample.data.inspections))}
    assert rounds["doan-1.overdue-1"] == local(plan, 2021, 9, 22, 8)
    assert rounds["doan-2.before-3"] == local(plan, 2021, 9, 24, 8)
    # the served daily look on Wednesday 22/09: Đoàn 1's overdue notice, nothing for Đoàn 2
    result = inspection_round(KIEM_TRA, "daily", at="2021-09-22T08:00")
    assert result.units.sent == ["STP-YBA"]
    (mail,) = (tmp_path / "var" / "outbox").rglob("STP-YBA.eml")
    msg = email.message_from_bytes(mail.read_bytes(), policy=default)
    # Đoàn 1's lead is the Head's own unit, whose mailbox every letter is from: its contact person
    assert [a.addr_spec for a in msg["To"].addresses] == ["dau-moi.truong-khu-vuc@kvtd-tuphap.example"]
    assert msg["From"].addresses[0].addr_spec == "stp-yba@kvtd-tuphap.example"
    assert msg["Cc"] is not None  # an overdue notice copies the Deputies (the Head's contact is in To)
    text = msg.get_body(("plain",)).get_content()
    assert "Kính gửi: Sở Tư pháp tỉnh Yên Bái (đơn vị trưởng Đoàn 1)" in text
    assert (
        "trước ngày 21/09/2021 (Thứ Ba)" in text
        and "Biên bản kiểm tra (Cục Thi hành án dân sự tỉnh Lào Cai)" in text
    )
    # the plan: the teams send "báo cáo kết quả kiểm tra kèm theo Biên bản kiểm tra đối với từng đơn
    # vị gửi các đơn vị được kiểm tra và gửi Trưởng, Phó Trưởng Khu vực thi đua để tổng hợp chung"
    assert (
        "đến các đơn vị được kiểm tra (Sở Tư pháp tỉnh Lào Cai, Cục Thi hành án dân sự tỉnh Lào Cai) và "
        "đến Trưởng, Phó trưởng Khu vực thi đua để tổng hợp chung" in " ".join(text.split())
    )
    # the team's day is the area's choice: the plan is cited for what it says, not for 21/09
    flat = " ".join(text.split())
    assert (
        "Theo đề nghị của Khu vực thi đua khối cơ quan Tư pháp các tỉnh miền núi phía Bắc, hồ sơ kiểm tra "
        "phải gửi về Trưởng, Phó trưởng Khu vực thi đua trước ngày 21/09/2021" in flat
    )
    assert "chậm nhất 10 ngày sau khi kết thúc kiểm tra; hạn của đoàn do Khu vực chọn để kịp tổng hợp" in flat
    again = inspection_round(KIEM_TRA, "daily", at="2021-09-22T09:00")
    assert again.units.sent == [] and again.units.already_sent == ["STP-YBA"]


def test_the_areas_report_reminder_counts_from_the_last_team_and_names_vu_tdkt(prefect_server, tmp_path):
    from flows.obligation import obligation_round

    quiet = obligation_round("bao-cao-kiem-tra", "daily", at="2021-09-29T08:00")
    assert quiet.units.sent == []  # no round of this obligation that day (before-3 is on 30/09)
    result = obligation_round("bao-cao-kiem-tra", "daily", at="2021-10-01T08:00")
    assert result.stage == "before-1" and result.units.sent
    (mail,) = (tmp_path / "var" / "outbox").rglob("bao-cao-kiem-tra/before-1/*.eml")
    text = email.message_from_bytes(mail.read_bytes(), policy=default).get_body(("plain",)).get_content()
    assert "Báo cáo kết quả kiểm tra của Khu vực gửi Vụ Thi đua - Khen thưởng, trước ngày 03/10/2021" in text
    assert "kể từ ngày 22/09/2021 (Thứ Tư), ngày kết thúc kiểm tra của đoàn cuối cùng" in text


def test_status_and_calendar_per_team_and_a_calendar_without_the_sheet(tmp_path):
    status = CliRunner().invoke(
        app, ["status", "--milestone", KIEM_TRA, "--at", "2021-09-27T08:00", "--json"]
    )
    assert status.exit_code == 0, status.output
    assert '"team": "Đoàn 1"' in status.stdout and '"overdue": true' in status.stdout
    blind = CliRunner().invoke(
        app, ["calendar", "--json"], env={"THIDUA_SOURCE": str(tmp_path / "none.xlsx")}
    )
    assert blind.exit_code == 0
    assert "thiếu các đợt nhắc của đoàn kiểm tra" in blind.stderr
    assert '"teams"' not in blind.stdout and '"so-ket"' in blind.stdout


def test_the_sheet_template_knows_the_inspected_unit_column():
    result = CliRunner().invoke(app, ["template"])
    assert "Đơn vị được kiểm tra" in result.stdout.split("Đăng ký")[0]  # in Nộp hồ sơ's header


def test_a_dead_runs_team_letter_is_left_for_the_teams_own_flow(sample, plan):
    """The units' rounds and the teams' flow hold different tables: a team's letter a dead run
    left unconfirmed is neither resent nor abandoned by a units' round, and is resent by the
    teams' flow, which can tell it is still due."""
    import time

    from flows.common import recover_task
    from tasks.compose import unit_mails
    from tasks.ledger import Ledger
    from tasks.mime import build, message_id
    from tasks.resources import Resources
    from tasks.round import Action, Round
    from tasks.settings import Settings
    from tests.helpers import table_at

    settings = Settings().model_copy(update={"claim_lease": 0.5})
    instant = local(plan, 2021, 9, 27, 8)
    rows = table(plan, sample.data, 2021, 9, 27, 8)
    team_round = Round(plan, Action.TEAMS, KIEM_TRA, "doan-1.overdue-1", instant)
    (mail,) = unit_mails(team_round, rows[rows["team"] == "Đoàn 1"])
    sender = from_address(settings, mail)
    out = build(mail, sender, "thidua", message_id(mail.key, sender), None, None)
    ledger = Ledger(settings.ledger)
    ledger.claim(out.key, out.message_id, out.kind, out.subject, "", out.envelope_to, out.data)
    time.sleep(0.6)  # the run is dead: its lease lapsed

    units_round = Round.of(plan, "so-ket", "overdue-3", instant)
    left = recover_task.fn(units_round, table_at(plan, sample.data, instant), Resources(settings))
    assert left.resent == [] and left.abandoned == []
    mine = recover_task.fn(Round.of(plan, KIEM_TRA, "daily", instant), rows, Resources(settings))
    assert mine.resent == ["kiem-tra doan-1.overdue-1 STP-YBA"]


def test_a_replay_through_the_inspection_season_sends_the_teams_letters(prefect_server, tmp_path):
    """The quick start's replay runs the teams' rounds and sums them up (it once stopped at the
    summary: the teams' rounds had no name there)."""
    result = CliRunner().invoke(app, ["replay", "--until", "2021-10-08"])
    assert result.exit_code == 0, result.output
    assert "nhắc đoàn kiểm tra" in result.output
    letters = {p.parent.name for p in (tmp_path / "var" / "outbox").rglob("*.eml") if "kiem-tra" in str(p)}
    assert {"doan-1.overdue-1", "doan-2.before-3"} <= letters


def test_each_teams_calendar_event_has_a_uid_of_its_own(sample, plan):
    """Two teams' deadlines (26/09 and 03/10) imported into one calendar stay two events: the
    iCalendar UID names the team (both were `kiem-tra@…`, the second replacing the first)."""
    from tasks.compose import unit_mails
    from tasks.round import Round

    instant = local(plan, 2021, 9, 13, 8)
    rows = table(plan, sample.data, 2021, 9, 13, 8)
    uids = {}
    for team, name in (("doan-1", "Đoàn 1"), ("doan-2", "Đoàn 2")):
        mine = rows[rows["team"] == name]  # as the teams' flow hands each team its own row
        (mail,) = unit_mails(Round.of(plan, KIEM_TRA, f"{team}.before-7", instant), mine)
        (ics,) = [content for name, kind, content in mail.attachments if kind == "text/calendar"]
        uids[team] = [line for line in ics.decode().splitlines() if line.startswith("UID:")]
    assert uids == {
        "doan-1": [f"UID:kiem-tra.doan-1@{plan.id}.thidua"],
        "doan-2": [f"UID:kiem-tra.doan-2@{plan.id}.thidua"],
    }


def test_a_team_led_by_the_heads_own_unit_is_written_to_its_contact_not_from_and_to_one_mailbox(sample, plan):
    """Đoàn 1 is led by Sở Tư pháp Yên Bái, the Head's unit, whose address every letter is from:
    its reminder goes to the unit's contact person in the plan (an overdue notice copies the
    other coordinators once each)."""
    from tasks.compose import unit_mails
    from tasks.round import Round

    assert plan.sender[1] == "stp-yba@kvtd-tuphap.example"
    contacts = [(c.name, str(c.email)) for c in plan.active_contacts if c.unit == "STP-YBA"]
    assert contacts
    for stage, when in (("doan-1.before-7", (2021, 9, 13, 8)), ("doan-1.overdue-1", (2021, 9, 27, 8))):
        rows = table(plan, sample.data, *when)
        (mail,) = unit_mails(
            Round.of(plan, KIEM_TRA, stage, local(plan, *when)), rows[rows["team"] == "Đoàn 1"]
        )
        assert list(mail.to) == contacts and plan.sender[1] not in mail.recipients
        assert len(mail.recipients) == len(set(mail.recipients))


def test_cac_don_vi_thuoc_doi_tuong_kiem_tra_are_told_to_prepare_their_written_report(
    prefect_server, tmp_path, sample, plan
):
    """The plan: "Các đơn vị thuộc đối tượng kiểm tra có trách nhiệm chuẩn bị báo cáo bằng văn bản
    theo nội dung trong Kế hoạch kiểm tra …". A week before a team's first visit (Đoàn 1 from
    13/09: Monday 06/09), each unit it inspects is told when and by whom, the team's lead copied."""
    from flows.inspection import inspection_round

    rounds = {t.stage: t.at for t in triggers(plan, teams_by_milestone(plan, sample.data.inspections))}
    assert rounds["doan-1.notice"] == local(plan, 2021, 9, 6, 8)
    assert rounds["doan-2.notice"] == local(plan, 2021, 9, 13, 8)
    result = inspection_round(KIEM_TRA, "daily", at="2021-09-06T08:00")
    assert sorted(result.units.sent) == ["STP-LCA", "THADS-LCA"]
    assert result.owing == 0  # told of a visit, they owe nothing (the run's line said "2 còn thiếu")
    (mail,) = (tmp_path / "var" / "outbox").rglob("doan-1.notice/STP-LCA.eml")
    msg = email.message_from_bytes(mail.read_bytes(), policy=default)
    assert [a.addr_spec for a in msg["To"].addresses] == ["stp-lca@kvtd-tuphap.example"]
    lead = ["dau-moi.truong-khu-vuc@kvtd-tuphap.example"]  # Đoàn 1's lead: the Head's unit's contact
    assert (
        [a.addr_spec for a in msg["Cc"].addresses] == lead == [a.addr_spec for a in msg["Reply-To"].addresses]
    )
    assert (
        msg["Subject"]
        == "[KVTĐ Tư pháp miền núi phía Bắc] Đoàn 1 kiểm tra đơn vị từ 13/09/2021 (Thứ Hai): chuẩn bị "
        "báo cáo bằng văn bản"
    )
    text = " ".join(msg.get_body(("plain",)).get_content().split())
    assert "Kính gửi: Sở Tư pháp tỉnh Lào Cai" in text
    assert "Đoàn 1 do Sở Tư pháp tỉnh Yên Bái làm trưởng đoàn sẽ kiểm tra" in text
    assert "từ ngày 13/09/2021 (Thứ Hai) đến ngày 15/09/2021 (Thứ Tư)" in text
    assert (
        "các đơn vị thuộc đối tượng kiểm tra chuẩn bị báo cáo bằng văn bản theo nội dung trong Kế hoạch "
        "kiểm tra" in text
    )
    # once the visits have begun, a late run of the notice sends nothing
    late = inspection_round(KIEM_TRA, "doan-2.notice", at="2021-09-20T09:00")
    assert late.units.sent == []


def test_a_teams_deadline_must_leave_the_head_time_to_compile_the_areas_report(tmp_path):
    """The area reports to Vụ TĐKT "chậm nhất là 10 ngày sau khi kết thúc kiểm tra", compiling the
    teams' reports: a team given as long is refused by `check` (and by every command, as a plan
    error), and a plan that sets nothing gives the teams five days fewer than the area."""
    import pytest

    from tasks.plan import PlanError, load_plan
    from tests.helpers import write_plan

    as_long = write_plan(tmp_path, lambda t: t.replace("days_after_end: 5", "days_after_end: 10"))
    with pytest.raises(PlanError) as info:
        load_plan(as_long)
    assert any(
        line.startswith(
            "milestones[kiem-tra].days_after_end: 10 ngày sau khi đoàn kết thúc kiểm tra, không sớm hơn"
        )
        and "ví dụ 5 ngày" in line
        for line in info.value.problems
    )
    check = CliRunner().invoke(app, ["check"], env={"THIDUA_PLAN": str(as_long)})
    assert check.exit_code != 0 and "days_after_end: 10 ngày" in check.output
    unset = load_plan(write_plan(tmp_path, lambda t: t.replace("    days_after_end: 5\n", "")))
    assert unset.team_days(unset.milestone(KIEM_TRA)) == 5


def test_a_team_is_not_reminded_of_its_report_while_it_still_inspects(sample, plan):
    """Đoàn 1 inspects until 15/09 and owes its report by 20/09: the round seven days before
    (14/09) would ask for a report of visits not yet ended. Its reminders start after its last
    day; only the notice to the inspected units comes before."""
    found = teams_by_milestone(plan, sample.data.inspections)
    for team in found[KIEM_TRA]:
        mine = [t for t in triggers(plan, found) if t.stage.startswith(f"{team.slug}.")]
        early = [t.stage for t in mine if t.at.date() <= team.last_day]
        assert early == [f"{team.slug}.notice"]
        assert any(t.stage.endswith(".before-3") for t in mine)  # the next reminders stay
