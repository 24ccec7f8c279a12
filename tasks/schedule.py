"""The plan's schedule: every dated action of the year (triggers), and when a late one is stale."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from tasks.dates import due_instant, effective_deadline, shift_to_working_day, vn_date_weekday, vn_datetime
from tasks.plan import Plan


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


def obligation_anchor(m) -> dt.date | None:
    """The day an "N days after" deadline counts from: the day recorded as held, else the
    latest the plan allows (its deadline or the end of its period)."""
    return m.held_on or m.deadline or (m.period.end if m.period else None)


def obligation_deadline(plan: Plan, obligation) -> dt.date | None:
    """The area's own deadline: a fixed date, or N days after a milestone: after the day it was
    recorded as held, or until then after the latest day the plan allows."""
    if obligation.deadline:
        return obligation.deadline
    m = plan.milestone(obligation.after_milestone)
    anchor = obligation_anchor(m)
    if anchor is None:
        return None
    # "chậm nhất N ngày sau X": the Nth day after X is the last allowed one; written as a
    # "trước ngày" deadline that is the day after it
    extra = 1 if plan.deadline_rule == "before_day" else 0
    return anchor + dt.timedelta(days=obligation.days_after + extra)


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


def triggers(plan: Plan) -> list[Trigger]:
    """Every dated action of the year, in time order: reminder and overdue rounds of the
    milestones units owe, and reminders of the area's own obligations to its coordinators."""
    out: list[Trigger] = []
    for m in plan.milestones:
        if m.units_owe and m.deadline:
            out += _rounds(plan, m.id, m.deadline, ("reminder", "overdue"))
    for ob in plan.area_obligations:
        deadline = obligation_deadline(plan, ob)
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


def _final_report_day(plan: Plan, report) -> dt.date | None:
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


def triggers_on_day(plan: Plan, instant: dt.datetime) -> list[Trigger]:
    """The rounds the plan schedules on `instant`'s local day, up to `instant`."""
    local = instant.astimezone(plan.tz)
    return [t for t in triggers(plan) if t.at.date() == local.date() and t.at <= local]


def describe(plan: Plan, t: Trigger) -> str:
    """The action in the Vietnamese words coordinators read in the calendar, the UI and mail."""
    if t.action == "report" and t.stage == "final":
        return (
            f"Lập {plan.report_title(t.target)} sau Hội nghị (kết quả bỏ phiếu, hồ sơ đề nghị) "
            "và gửi Trưởng, Phó trưởng Khu vực"
        )
    if t.action == "report":
        return f"Lập dự thảo {plan.report_title(t.target)} và gửi Trưởng, Phó trưởng Khu vực"
    if t.action == "obligation":
        return f"Nhắc Trưởng, Phó trưởng Khu vực: {plan.obligation(t.target).name}"
    name = plan.milestone(t.target).name
    if t.action == "overdue":
        return f"Thông báo quá hạn {name} cho đơn vị còn thiếu (đồng gửi Trưởng, Phó trưởng) và bản tổng hợp"
    return f"Nhắc đơn vị còn thiếu hồ sơ {name} và gửi bản tổng hợp cho đầu mối"
