"""iCalendar (.ics) files of the plan's deadlines, for units and coordinators to import."""

from __future__ import annotations

import datetime as dt

from icalendar import Alarm, Calendar, Event

from tasks.dates import by_day, last_day, vn_date_weekday
from tasks.plan import Milestone, Plan, Requirement
from tasks.schedule import obligation_deadline
from tasks.teams import slug


def _calendar(plan: Plan) -> Calendar:
    cal = Calendar()
    cal.add("prodid", "-//thidua//thidua//VI")
    cal.add("version", "2.0")
    cal.add("x-wr-calname", f"{plan.area_short_name}: hạn {plan.year}")
    cal.add("x-wr-timezone", plan.timezone)
    return cal


def _event(plan: Plan, uid: str, summary: str, deadline: dt.date, description: str) -> Event:
    day = last_day(plan, deadline)
    event = Event()
    event.add("uid", f"{uid}@{plan.id}.thidua")
    event.add("summary", summary)
    event.add("dtstart", day)
    event.add("dtend", day + dt.timedelta(days=1))
    event.add("dtstamp", dt.datetime(plan.year, 1, 1, tzinfo=dt.UTC))  # stable across runs
    event.add("description", description)
    alarm = Alarm()
    alarm.add("action", "DISPLAY")
    alarm.add("description", summary)
    alarm.add("trigger", dt.timedelta(days=-1))
    event.add_component(alarm)
    return event


def milestone_event(
    plan: Plan,
    m: Milestone,
    deadline: dt.date | None = None,
    owed: list[str] | None = None,
    team: str | None = None,
) -> Event:
    """The deadline of milestone `m` (or inspection team `team`'s own `deadline`: an event, and
    a UID, of its own, so that a calendar holding two teams' deadlines keeps both); with
    `owed`, the documents one unit owes are listed, the optional ones marked as such."""
    deadline = deadline or m.deadline
    assert deadline is not None  # only dated milestones have an event
    if owed is None:
        docs = "; ".join(d.kind for d in m.documents)
        what = f"Hồ sơ: {docs}."
    else:
        optional = [d.kind for d in m.documents if d.requirement == Requirement.OPTIONAL]
        what = f"Hồ sơ của đơn vị: {'; '.join(owed)}."
        if optional:
            what += f" Không bắt buộc: {'; '.join(optional)}."
    return _event(
        plan,
        f"{m.id}.{slug(team)}" if team else m.id,
        f"Hạn gửi hồ sơ {m.name} ({plan.area_short_name})",
        deadline,
        f"Theo {plan.citation or plan.area_name}: gửi về {plan.identity.leaders} {by_day(plan)} "
        f"{vn_date_weekday(deadline)}. {what}",
    )


def milestone_ics(
    plan: Plan,
    milestone: str,
    deadline: dt.date | None = None,
    owed: list[str] | None = None,
    team: str | None = None,
) -> bytes:
    cal = _calendar(plan)
    cal.add_component(milestone_event(plan, plan.milestone(milestone), deadline, owed, team))
    return bytes(cal.to_ical())


def deadlines_ics(plan: Plan, include_area: bool = True) -> bytes:
    """Every dated deadline units owe, and (for coordinators) the area's own obligations."""
    cal = _calendar(plan)
    for m in plan.milestones:
        if m.units_owe and m.deadline:
            cal.add_component(milestone_event(plan, m))
    if include_area:
        for ob in plan.area_obligations:
            deadline = obligation_deadline(plan, ob)
            if deadline:
                cal.add_component(
                    _event(
                        plan,
                        ob.id,
                        f"Hạn của {plan.identity.self_word}: {ob.name}",
                        deadline,
                        f"{plan.identity.head} thực hiện {by_day(plan)} {vn_date_weekday(deadline)}."
                        + (
                            f" Kế hoạch định thực hiện {ob.plan_says}; "
                            f"ngày này do {plan.identity.self_word} chọn."
                            if ob.plan_says
                            else ""
                        ),
                    )
                )
    return bytes(cal.to_ical())
