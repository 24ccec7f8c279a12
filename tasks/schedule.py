"""The plan's schedule: every dated action of the year (triggers), and when a late one is stale."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from tasks.dates import (
    deadline_after,
    due_instant,
    effective_deadline,
    is_working_day,
    shift_to_working_day,
    vn_date_weekday,
    vn_datetime,
    written_last_day,
)
from tasks.plan import AreaObligation, Milestone, Plan, Report
from tasks.teams import DAILY, NOTICE, Team, last_team_day
from tasks.text import as_sentence


@dataclass(frozen=True, order=True)
class Trigger:
    """One dated action: a reminder round (`before-N`) or an overdue round (`overdue-N`) of a
    milestone, each followed by the coordinators' digest; a reminder to the coordinators of
    something the area itself owes the Ministry (`obligation`); or a report's compilation."""

    at: dt.datetime
    target: str  # the milestone id, the area obligation's id, or the report kind
    stage: str
    nominal_day: dt.date  # the day the rule gives, before the working-day shift
    action: str = "reminder"  # reminder | overdue | obligation | report (tasks.round.Action)

    @property
    def shifted(self) -> bool:
        return self.at.date() != self.nominal_day


def obligation_anchor(plan: Plan, m: Milestone, teams: dict[str, list[Team]] | None = None) -> dt.date | None:
    """The day an "N days after" deadline counts from (the count starts the day after it, Bộ
    luật Dân sự 2015, Điều 147): the day recorded as held, the last day of the last inspection
    team (read from the Kiểm tra tab), else the last day the plan allows: the day before a
    "trước ngày" deadline ("xong trước ngày 10/3": 09/03), or the end of its period."""
    held = m.held_on or last_team_day(teams, m.id)
    if held:
        return held
    if m.deadline:
        return written_last_day(plan, m.deadline)
    return m.period.end if m.period else None


def obligation_deadline(
    plan: Plan, obligation: AreaObligation, teams: dict[str, list[Team]] | None = None
) -> dt.date | None:
    """The area's own deadline: a fixed date, or N days after a milestone: after the day it was
    recorded as held (or its teams' last day), or until then after the latest day allowed."""
    if obligation.deadline:
        return obligation.deadline
    assert obligation.after_milestone  # the plan's validation: a deadline, or N days after one
    m = plan.milestone(obligation.after_milestone)
    anchor = obligation_anchor(plan, m, teams)
    return deadline_after(plan, anchor, obligation.days_after or 0) if anchor else None


def _rounds(plan: Plan, ident: str, deadline: dt.date, kinds: tuple[str, ...]) -> list[Trigger]:
    """ "Before" rounds move to the previous working day, overdue rounds to the next one (moving an
    overdue notice earlier could send it before the deadline). When two rounds land on the same
    day, only the one closer to the deadline is kept."""
    by_day: dict[dt.date, Trigger] = {}
    rounds = [("before", d, -1) for d in sorted(plan.reminders.before_days, reverse=True)]
    if "overdue" in kinds:
        rounds += [("overdue", d, +1) for d in sorted(plan.reminders.overdue_days)]
    late_from = effective_deadline(plan, deadline)  # overdue rounds count from the real end
    for kind, days, direction in rounds:
        if kind == "overdue":
            nominal = late_from + dt.timedelta(days=days)
        else:
            nominal = deadline - dt.timedelta(days=days)
        day = shift_to_working_day(plan, nominal, direction)
        at = dt.datetime.combine(day, plan.reminders.send_time, tzinfo=plan.tz)
        if kind == "overdue" and at < due_instant(plan, deadline):
            continue
        action = kinds[0] if kind == "before" else "overdue"
        # later rounds of the loop are closer to (or past) the deadline: they win the day
        by_day[day] = Trigger(at, ident, f"{kind}-{days}", nominal, action)
    return list(by_day.values())


def triggers(plan: Plan, teams: dict[str, list[Team]] | None = None) -> list[Trigger]:
    """Every dated action of the year, in time order: reminder and overdue rounds of the
    milestones units owe, the inspection teams' rounds (each team's own, when the Kiểm tra tab
    was read into `teams`; else a look every working day of the season, for a served schedule
    made before any team is known), and reminders of the area's own obligations."""
    out: list[Trigger] = []
    for m in plan.milestones:
        if m.units_owe and m.deadline:
            out += _rounds(plan, m.id, m.deadline, ("reminder", "overdue"))
        if m.teams_owe:
            out += team_triggers(plan, m, teams[m.id]) if teams and m.id in teams else _daily_looks(plan, m)
    for ob in plan.area_obligations:
        anchor = plan.milestone(ob.after_milestone) if ob.after_milestone else None
        if anchor and anchor.teams_owe and not anchor.held_on and not (teams and anchor.id in teams):
            # due after the teams' last day, which only the sheet knows: look every working day
            out += [
                Trigger(t.at, ob.id, DAILY, t.nominal_day, "obligation")
                for t in _daily_looks(plan, anchor, ob.days_after or 0)
            ]
            continue
        deadline = obligation_deadline(plan, ob, teams)
        if deadline:
            out += _rounds(plan, ob.id, deadline, ("obligation",))
    for report in plan.reports:
        mine = [t for t in out if t.target == report.milestone]
        if mine:
            nominal = max(t.at for t in mine).date() + dt.timedelta(days=1)
            day = shift_to_working_day(plan, nominal, +1)
            at = dt.datetime.combine(day, plan.reminders.send_time, tzinfo=plan.tz)
            out.append(Trigger(at, report.kind, "compile", nominal, "report"))
        if report.kind == "yearend" and (final := _final_report_day(plan, report)):
            at = dt.datetime.combine(final, plan.reminders.send_time, tzinfo=plan.tz)
            out.append(Trigger(at, report.kind, "final", final, "report"))
    return sorted(out)


def team_triggers(plan: Plan, milestone: Milestone, all_teams: list[Team]) -> list[Trigger]:
    """Each team's reminder and overdue rounds, counted from its own deadline; the stage names
    the team ("doan-1.before-3") so that two teams' letters are two ledger entries."""
    out = []
    for team in all_teams:
        notice = team.first_day - dt.timedelta(days=notice_days(plan))
        day = shift_to_working_day(plan, notice, -1)
        at = dt.datetime.combine(day, plan.reminders.send_time, tzinfo=plan.tz)
        out.append(Trigger(at, milestone.id, f"{team.slug}.{NOTICE}", notice, "teams"))
        for t in _rounds(plan, milestone.id, team.deadline, ("reminder", "overdue")):
            if t.at.date() <= team.last_day:
                continue  # a reminder to send the inspection's report while the team still inspects
            out.append(Trigger(t.at, t.target, f"{team.slug}.{t.stage}", t.nominal_day, "teams"))
    return out


def notice_days(plan: Plan) -> int:
    """How long before its first visit a team's inspected units are told to prepare: as far
    ahead as the plan's first reminder goes."""
    return max(plan.reminders.before_days, default=7)


def team_rounds_due(
    plan: Plan, milestone: Milestone, all_teams: list[Team], stage: str, instant: dt.datetime
) -> list[Trigger]:
    """The team rounds a run at `instant` is for: one named round, or (the served daily look)
    every team round scheduled on that local day up to that moment."""
    rounds = team_triggers(plan, milestone, all_teams)
    if stage != DAILY:
        return [t for t in rounds if t.stage == stage]
    local = instant.astimezone(plan.tz)
    return [t for t in rounds if t.at.date() == local.date() and t.at <= local]


def _daily_looks(plan: Plan, milestone: Milestone, days_after: int | None = None) -> list[Trigger]:
    """Every working day from the start of the inspection season until the last round counted
    from a team ending on its last day could fall: the served flow reads the Kiểm tra tab then."""
    if milestone.period is None:
        return []
    days = plan.team_days(milestone) if days_after is None else days_after
    tail = (days or 0) + max(plan.reminders.overdue_days, default=0) + 7
    # from the notice before a visit on the season's first day (moved back over a long holiday)
    out, day = [], milestone.period.start - dt.timedelta(days=notice_days(plan) + 5)
    while day <= milestone.period.end + dt.timedelta(days=tail):
        if is_working_day(plan, day):
            at = dt.datetime.combine(day, plan.reminders.send_time, tzinfo=plan.tz)
            out.append(Trigger(at, milestone.id, DAILY, day, "teams"))
        day += dt.timedelta(days=1)
    return out


def _final_report_day(plan: Plan, report: Report) -> dt.date | None:
    """The year-end report after the vote: the working day after the conference when its date
    is known, else a week before the report is due to Vụ TĐKT (the draft then says no ballots
    have been counted yet, and `thidua report yearend --send` after the vote does the rest)."""
    if plan.voting.day:
        return shift_to_working_day(plan, plan.voting.day + dt.timedelta(days=1), +1)
    due = obligation_deadline(plan, plan.obligation(report.obligation))
    return shift_to_working_day(plan, due - dt.timedelta(days=7), -1) if due else None


def stale_reason(plan: Plan, target: str, stage: str, now: dt.datetime) -> str | None:
    """Why a round that runs late (after a restart, a queue) should not act any more, or None.

    A round is stale once the next round of the same milestone is due, and a "before" round once
    the deadline has passed: a unit must not get "3 days left" after the "1 day left" mail.
    """
    if stage == DAILY:
        return None  # a daily look only decides which rounds are due
    done = next((o.done_on for o in plan.area_obligations if o.id == target), None)
    if done and now.astimezone(plan.tz).date() >= done:
        return f"đã hoàn thành ngày {vn_date_weekday(done)} (done_on trong kế hoạch), không nhắc nữa"
    mine = sorted(t for t in triggers(plan) if t.target == target)
    current = next((t for t in mine if t.stage == stage), None)
    if current is None:
        return None
    later = [t for t in mine if t.at > current.at and t.at <= now]
    if later:
        newer = later[-1]
        return f"đợt {newer.stage} lúc {vn_datetime(newer.at)} đã đến hạn, đợt {stage} không còn ý nghĩa"
    deadline = _deadline_of(plan, target)
    if stage.startswith("before") and deadline and now >= due_instant(plan, deadline):
        return f"hạn {vn_date_weekday(deadline)} đã qua, không gửi thư nhắc trước hạn"
    return None


def _deadline_of(plan: Plan, ident: str) -> dt.date | None:
    if any(r.kind == ident for r in plan.reports):
        return None  # a report drafted late is still worth having
    if any(ob.id == ident for ob in plan.area_obligations):
        return obligation_deadline(plan, plan.obligation(ident))
    return plan.milestone(ident).deadline


def triggers_on_day(
    plan: Plan, instant: dt.datetime, teams: dict[str, list[Team]] | None = None
) -> list[Trigger]:
    """The rounds the plan schedules on `instant`'s local day, up to `instant`."""
    local = instant.astimezone(plan.tz)
    return [t for t in triggers(plan, teams) if t.at.date() == local.date() and t.at <= local]


ACTION_TAGS = {  # the kind of action, as a tag the Prefect UI filters by
    "reminder": "nhac-han",
    "overdue": "qua-han",
    "obligation": "han-chung",
    "report": "bao-cao",
    "teams": "doan-kiem-tra",
}


def stage_words(stage: str) -> str:
    """A stage as a person reads it: 'nhắc trước hạn 3 ngày', 'quá hạn 1 ngày', 'lập dự thảo'; a
    team's stage without its slug (the team is named beside it)."""
    stage = stage.partition(".")[2] or stage
    kind, _, days = stage.partition("-")
    if kind == "before" and days.isdigit():
        return f"nhắc trước hạn {days} ngày"
    if kind == "overdue" and days.isdigit():
        return f"quá hạn {days} ngày"
    words = {
        "compile": "lập dự thảo",
        "final": "lập bản sau Hội nghị",
        DAILY: "xem hằng ngày",
        NOTICE: "báo đơn vị được kiểm tra chuẩn bị",
    }
    return words.get(stage, stage)


def team_name(stage: str, teams: dict[str, list[Team]] | None, milestone: str) -> str | None:
    """The team a team stage ("doan-1.before-3") is about, as the Kiểm tra tab writes it."""
    slug = stage.partition(".")[0] if "." in stage else None
    found = next((t.name for t in (teams or {}).get(milestone, []) if t.slug == slug), None)
    return found or slug


def run_title(plan: Plan, target: str, stage: str, at: dt.datetime) -> str:
    """The name a run carries in the Prefect UI: what it does, about what, and the day —
    "Nhắc trước hạn 3 ngày · Đăng ký thi đua · 17/02/2027"."""
    words = stage_words(stage)
    if any(r.kind == target for r in plan.reports):
        about = plan.report_title(target)
    elif any(o.id == target for o in plan.area_obligations):
        words = f"{plan.identity.self_word}: {words}"
        about = plan.obligation(target).name
    else:
        about = next((m.name for m in plan.milestones if m.id == target), target)
        if "." in stage:
            about += f" ({team_name(stage, None, target)})"
    return f"{as_sentence(words)} · {about} · {at.astimezone(plan.tz):%d/%m/%Y}"


def describe(plan: Plan, t: Trigger, teams: dict[str, list[Team]] | None = None) -> str:
    """The action in the Vietnamese words coordinators read in the calendar, the UI and mail
    (`teams`, read from the Kiểm tra tab, names a team's rounds by the team's own name)."""
    if t.action == "report" and t.stage == "final":
        return (
            f"Lập {plan.report_title(t.target)} sau Hội nghị (kết quả bỏ phiếu, hồ sơ đề nghị) "
            f"và gửi {plan.identity.leaders}"
        )
    if t.action == "report":
        return f"Lập dự thảo {plan.report_title(t.target)} và gửi {plan.identity.leaders}"
    if t.action == "obligation" and t.stage == DAILY:
        return (
            f"Xem trang tính Kiểm tra: nhắc {plan.identity.leaders} khi đến đợt nhắc hạn "
            f"{plan.obligation(t.target).name}"
        )
    if t.action == "obligation":
        return f"Nhắc {plan.identity.leaders}: {plan.obligation(t.target).name}"
    if t.action == "teams" and t.stage == DAILY:
        return (
            "Xem trang tính Kiểm tra: báo đơn vị sắp được kiểm tra, nhắc đơn vị trưởng đoàn có đợt nhắc "
            "hoặc quá hạn trong ngày"
        )
    if t.action == "teams" and t.stage.endswith(f".{NOTICE}"):
        team = team_name(t.stage, teams, t.target)
        return f"Báo các đơn vị {team} sẽ kiểm tra chuẩn bị báo cáo bằng văn bản"
    if t.action == "teams":
        team = team_name(t.stage, teams, t.target)
        words = "Thông báo quá hạn" if t.stage.partition(".")[2].startswith("overdue") else "Nhắc"
        return f"{words} đơn vị trưởng đoàn của {team} gửi báo cáo, biên bản kiểm tra"
    name = plan.milestone(t.target).name
    if t.action == "overdue":
        leaders = plan.identity.leaders
        return f"Thông báo quá hạn {name} cho đơn vị còn thiếu (đồng gửi {leaders}) và bản tổng hợp"
    return f"Nhắc đơn vị còn thiếu hồ sơ {name} và gửi bản tổng hợp cho đầu mối"
