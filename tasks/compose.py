"""Who gets which message for a round, and its words (Jinja2 templates in templates/mail)."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from functools import cache
from pathlib import Path
from typing import Any

import pandas as pd
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from tasks.completeness import PAGES_OVER, mail_lines, state_counts
from tasks.dates import (
    WEEKDAYS,
    by_day,
    deadline_note,
    effective_deadline,
    time_left_words,
    vn_date_weekday,
    vn_datetime,
    vn_time_words,
)
from tasks.ics import milestone_ics
from tasks.intake import SETTLE, IntakeResult
from tasks.mime import Mail
from tasks.nominations import lacking_words
from tasks.outcomes import Key, Outcome
from tasks.plan import AreaObligation, Milestone, Plan, Requirement, Unit
from tasks.reports import ReportData
from tasks.round import COMPILE, DIGEST, FINAL, Action, Round, owing, resolve
from tasks.schedule import obligation_deadline, stage_words
from tasks.settings import REPO
from tasks.teams import NOTICE, Team, last_team_day
from tasks.text import in_sentence

TEMPLATES = REPO / "templates" / "mail"
DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MAX_FINDINGS_IN_MAIL = 30  # a sheet full of junk must not become a mail of 10,000 lines


@cache
def _env() -> Environment:
    return Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        trim_blocks=False,
        keep_trailing_newline=True,
    )


def render(kind: str, context: dict[str, Any]) -> tuple[str, str, str]:
    env = _env()
    subject = env.get_template(f"{kind}.subject.txt").render(context).strip()
    context = {**context, "subject": subject}
    return (
        subject,
        env.get_template(f"{kind}.txt").render(context),
        env.get_template(f"{kind}.html").render(context),
    )


def _doc_label(m: Milestone, kind: str) -> str:
    doc = m.document(kind)
    return f"{kind} (không quá {doc.max_pages} trang A4)" if doc and doc.max_pages else kind


def _base_context(plan: Plan, m: Milestone, instant: dt.datetime) -> dict[str, Any]:
    local = instant.astimezone(plan.tz)
    return {
        "area_name": plan.area_name,
        "area_short_name": plan.area_short_name,
        "plan_ref": plan.cited_on(local.date()),
        "milestone_name": m.name,
        "milestone_phrase": in_sentence(m.name),
        "deadline": vn_date_weekday(m.deadline) if m.deadline else "(chưa ấn định)",
        "deadline_note": deadline_note(plan, m.deadline) if m.deadline else None,
        "as_of": vn_time_words(local),
        "as_of_short": vn_datetime(local),
        "instructions": plan.submission_instructions,
        "contacts": plan.active_contacts,
        "ctx": letter_context(plan, local),
    }


def letter_context(plan: Plan, local: dt.datetime) -> dict[str, Any]:
    """What every letter says of its sender and the area, in the plan's own words."""
    words = plan.identity
    return {
        # letters come from the Head's unit: an area has no office of its own
        "signer": f"{plan.sender[0]}, đơn vị {words.head}",
        "area_name": plan.area_name,
        "kind": words.kind,
        "self_word": words.self_word,
        "head": words.head,
        "leaders": words.leaders,
        "superior": words.superior,
        "superior_brief": words.superior_brief,
        "link": plan.submission_link,
        "coordinators": [
            {"name": c.name, "title": c.title} for c in plan.active_contacts if c.role in ("head", "deputy")
        ],
        "plan_ref": plan.cited_on(local.date()),
        "as_of": vn_time_words(local),
        "by_day": by_day(plan),  # "trước ngày" or "hết ngày" before a deadline's date
    }


def _sender(plan: Plan) -> tuple[str, str]:
    """The From of every letter: the Head's unit, for the area (and the system that wrote it)."""
    name, address = plan.sender
    return f"{name} (thidua)", address


def _coordinators_letter(
    plan: Plan,
    key: Key,
    kind: str,
    context: dict[str, Any],
    attachments: tuple[tuple[str, str, bytes], ...] = (),
) -> Mail:
    """A letter of `kind` to the active Head and Deputy contacts, from the Head's unit."""
    subject, text, html = render(kind, context)
    return Mail(
        key=key,
        kind=kind,
        sender=_sender(plan),
        to=_coordinators(plan),
        subject=subject,
        text=text,
        html=html,
        attachments=attachments,
    )


def _contact_addresses(plan: Plan, roles: set[str]) -> tuple[tuple[str, str], ...]:
    return tuple((c.name, str(c.email)) for c in plan.active_contacts if c.role in roles)


def _unit_addresses(plan: Plan, unit: Unit) -> tuple[tuple[str, str], ...]:
    """Where a unit's letter goes: its address; for the unit whose address every letter is
    from (the Head's), its contact persons in the plan instead, or the letter would be from and
    to one mailbox, which mail clients file as sent, not received."""
    if str(unit.email).lower() != plan.sender[1].lower():
        return ((unit.name, str(unit.email)),)
    own = tuple((c.name or c.title, str(c.email)) for c in plan.active_contacts if c.unit == unit.code)
    return own or ((unit.name, str(unit.email)),)


def _coordinators(plan: Plan) -> tuple[tuple[str, str], ...]:
    return _contact_addresses(plan, {"head", "deputy"})


def unit_mails(rnd: Round, table: pd.DataFrame, status_links: dict[str, str] | None = None) -> list[Mail]:
    """One reminder (or overdue notice, copying Head and Deputies) per unit that owes something.
    Recipients come only from the plan, never from the sheet. `status_links`: each unit's row or
    section of the published status, when units can reach it."""
    plan, m = rnd.plan, rnd.milestone
    # an inspection team's stage is "<team>.overdue-1": what kind of letter is in its last part
    kind = "overdue" if rnd.stage.rpartition(".")[2].startswith("overdue") else "reminder"
    base = _base_context(plan, m, rnd.instant)
    local_day = rnd.local.date()
    mails = []
    for row in owing(table, rnd).itertuples():
        unit = plan.unit(str(row.unit))
        deadline = row.deadline if isinstance(row.deadline, dt.date) else m.deadline  # a team's own
        context = {
            **base,
            "unit_name": unit.name,
            "team": getattr(row, "team", None),
            "inspected": list(getattr(row, "inspected", None) or []),  # a team's: whom it inspected
            "missing": [_doc_label(m, k) for k in row.missing],
            # the plan's "nếu có" documents not yet received: named, never counted as missing
            "optional": [
                _doc_label(m, d.kind)
                for d in m.documents
                if d.requirement == Requirement.OPTIONAL and d.kind not in row.submitted
            ],
            "submitted": list(row.submitted),
            "problems": list(row.problems),
            "time_left": time_left_words(plan, deadline, local_day) if deadline else None,
            # after the fact, "the last working day was Friday" helps nobody; an extension does
            "deadline_note": (deadline_note(plan, deadline) if deadline else None)
            if kind == "reminder" or plan.day_off_rule == "civil_code"
            else None,
            "days_late": (local_day - effective_deadline(plan, deadline)).days if deadline else 0,
            "status_link": (status_links or {}).get(unit.code),
        }
        if deadline:
            context["deadline"] = vn_date_weekday(deadline)
        if context["inspected"]:
            # a team's deadline is the area's choice, not the plan's: the plan is cited for what it
            # says (the area's own report, N days after the inspection), never for this day
            area = plan.area_report_on(m)
            context["team_plan_ref"], context["plan_ref"] = context["plan_ref"], None
            context["area_days"] = area.days_after if area else None
        subject, text, html = render(kind, context)
        attachments: tuple[tuple[str, str, bytes], ...] = ()
        if deadline and kind == "reminder":  # a deadline already past has no place in a calendar
            ics = milestone_ics(plan, m.id, deadline, list(row.required), context["team"])
            attachments = ((f"han-{m.id}-{plan.year}.ics", "text/calendar", ics),)
        mails.append(
            Mail(
                key=rnd.key(unit.code),
                kind=kind,
                sender=_sender(plan),
                to=(to := _unit_addresses(plan, unit)),
                cc=tuple(c for c in _coordinators(plan) if c not in to) if kind == "overdue" else (),
                reply_to=_contact_addresses(plan, {"head"}),
                subject=subject,
                text=text,
                html=html,
                attachments=attachments,
            )
        )
    return mails


PROBLEMS = "problems"  # a unit's notice of what is wrong with documents it has all sent


def problem_notices(rnd: Round, table: pd.DataFrame) -> list[Mail]:
    """A unit that owes nothing more but whose documents have something wrong (a summary over its
    page limit, sent late, sent twice) learns it in a letter of its own, with the limit and the
    count; units that still owe something read their problems in their reminder. Keyed by what
    it says, not by the round: each distinct notice goes once, however many rounds see it."""
    plan, m = rnd.plan, rnd.milestone
    rows = rnd.rows(table)
    rows = rows[(rows["missing"].map(len) == 0) & (rows["problems"].map(len) > 0)]
    base = _base_context(plan, m, rnd.instant)
    mails = []
    for row in rows.itertuples():
        unit = plan.unit(str(row.unit))
        problems = list(row.problems)
        said = hashlib.sha256("\n".join(problems).encode()).hexdigest()[:10]
        context = {
            **base,
            "unit_name": unit.name,
            "problems": problems,
            "submitted": list(row.submitted),
            "over_pages": any(PAGES_OVER in p for p in problems),
        }
        subject, text, html = render(PROBLEMS, context)
        mails.append(
            Mail(
                key=Key(plan.id, m.id, unit.code, f"{PROBLEMS}-{said}"),
                kind=PROBLEMS,
                sender=_sender(plan),
                to=_unit_addresses(plan, unit),
                reply_to=_contact_addresses(plan, {"head"}),
                subject=subject,
                text=text,
                html=html,
            )
        )
    return mails


def inspection_notices(rnd: Round, team: Team) -> list[Mail]:
    """Before a team's visits, each unit it inspects is told when, by whom, and what the plan asks
    of it: "Các đơn vị thuộc đối tượng kiểm tra có trách nhiệm chuẩn bị báo cáo bằng văn bản …".
    The team's leading unit is copied; replies go to it, as it arranges the visit."""
    plan, m = rnd.plan, rnd.milestone
    lead = plan.unit(team.lead)
    lead_addresses = _unit_addresses(plan, lead)
    base = {**_base_context(plan, m, rnd.instant), "team": team.name, "lead_name": lead.name}
    mails = []
    for visit in team.visits:
        if visit.unit == team.lead:
            continue  # the lead hears of its own team's visits as the team: no notice to itself
        unit = plan.unit(visit.unit)
        context = {
            **base,
            "unit_name": unit.name,
            "start": vn_date_weekday(visit.start),
            "end": vn_date_weekday(visit.end),
            "one_day": visit.start == visit.end,
        }
        subject, text, html = render(NOTICE, context)
        to = _unit_addresses(plan, unit)
        mails.append(
            Mail(
                key=rnd.key(unit.code),
                kind=NOTICE,
                sender=_sender(plan),
                to=to,
                cc=tuple(a for a in lead_addresses if a not in to),
                reply_to=lead_addresses,
                subject=subject,
                text=text,
                html=html,
            )
        )
    return mails


def intake_context(rows: pd.DataFrame, intake: IntakeResult | None) -> dict[str, Any]:
    """What the mailboxes added to a round: documents received by mail (with sender and
    Message-ID), messages not recognised (with why), mailboxes that could not be read."""
    if intake is None:
        return {"by_mail": [], "unrecognised": [], "intake_skipped": [], "more_unrecognised": 0, "settle": ""}
    by_mail = mail_lines(rows)
    return {
        "by_mail": by_mail,
        "unrecognised": [u.line() for u in intake.unrecognised[:MAX_FINDINGS_IN_MAIL]],
        "more_unrecognised": max(0, len(intake.unrecognised) - MAX_FINDINGS_IN_MAIL),
        "intake_skipped": intake.skipped,
        "settle": SETTLE,
    }


def digest_mail(
    rnd: Round,
    table: pd.DataFrame,
    reminded: list[str],
    earlier: list[str],
    units: Outcome,
    findings: list[Any],
    intake: IntakeResult | None = None,
    noticed: list[str] | None = None,
) -> Mail:
    """The coordinators' digest after a round: who was reminded (confirmed deliveries only, this
    run's and earlier runs'), who is complete, what failed, which units that owe nothing were
    sent a notice of a problem with what they sent (`noticed`, this run's; replies to it come to
    the Head, who should know it went)."""
    plan = rnd.plan
    rows = rnd.rows(table)
    counts = state_counts(rows)
    names = plan.unit_names
    by_unit = {r.unit: r for r in rows.itertuples()}
    context = {
        **_base_context(plan, rnd.milestone, rnd.instant),
        "kind": "overdue" if rnd.action == Action.OVERDUE else "reminder",
        "stage_label": stage_words(rnd.stage),
        "counts": counts,
        "unit_count": len(rows),
        "complete_count": counts["on_time"] + counts["late"],
        "reminded": [
            {"unit_name": names[c], "missing": list(by_unit[c].missing) if c in by_unit else []}
            for c in reminded
        ],
        "skipped": [names[c] for c in earlier],
        "failed": units.failed,
        "partial": units.partial,
        "complete": [r.unit_name for r in rows.itertuples() if not r.missing],
        "problems": [f"{r.unit_name}: {p}" for r in rows.itertuples() for p in r.problems],
        "noticed": [names[c] for c in noticed or []],
        "findings": findings[:MAX_FINDINGS_IN_MAIL],
        "more_findings": max(0, len(findings) - MAX_FINDINGS_IN_MAIL),
        **intake_context(rows, intake),
    }
    return _coordinators_letter(plan, rnd.key(DIGEST), "digest", context)


def _counted_from(plan: Plan, ob: AreaObligation, teams: dict[str, Any] | None = None) -> str | None:
    """Where a relative deadline comes from, said in the mail: the recorded day, the last team's
    last day, or the latest day the plan allows until the real one is known."""
    if not ob.after_milestone:
        return None
    m = plan.milestone(ob.after_milestone)
    phrase = in_sentence(m.name)
    ended = last_team_day(teams, m.id)
    if ended and not m.held_on:  # the same order as obligation_anchor: held_on, teams, the plan
        return (
            f"Hạn này tính {ob.days_after} ngày kể từ ngày {vn_date_weekday(ended)}, ngày kết thúc "
            "kiểm tra của đoàn cuối cùng (trang tính Kiểm tra)."
        )
    if m.held_on:
        return (
            f"Hạn này tính {ob.days_after} ngày kể từ ngày {vn_date_weekday(m.held_on)} "
            f"({phrase}, theo ngày đã ghi trong kế hoạch)."
        )
    return (
        f"Hạn này tính từ ngày muộn nhất kế hoạch cho phép của mốc {phrase}; khi mốc diễn ra, "
        f"ghi ngày thực tế vào held_on của mốc {m.id} trong tệp kế hoạch để hạn tính đúng."
    )


def obligation_mail(rnd: Round, table: pd.DataFrame | None, teams: dict[str, Any] | None = None) -> Mail:
    """Reminds the coordinators of what the area itself owes the Ministry, with the units' state
    of the milestone the obligation compiles (`teams`: the inspection teams, read from the sheet,
    for a deadline counted from their last day)."""
    plan = rnd.plan
    ob = plan.obligation(rnd.target)
    deadline = obligation_deadline(plan, ob, teams)
    assert deadline is not None  # only dated obligations are scheduled
    context = {
        **_base_context(plan, rnd.milestone, rnd.instant),
        "obligation_name": ob.name,
        "plan_says": ob.plan_says,
        "deadline": vn_date_weekday(deadline),
        "deadline_note": deadline_note(plan, deadline),
        "time_left": time_left_words(plan, deadline, rnd.local.date()),
        "counted_from": _counted_from(plan, ob, teams),
        "about_name": plan.milestone(ob.about).name if ob.about else "",
        "counts": None,
        "owing": [],
    }
    if ob.about and table is not None:
        rows = table[table["milestone"] == ob.about]
        context["counts"] = state_counts(rows)
        context["owing"] = [r.unit_name for r in rows.itertuples() if r.missing]
    return _coordinators_letter(plan, Key(plan.id, ob.id, "area", rnd.stage), "obligation", context)


def round_words(plan: Plan, target: str, stage: str) -> str:
    """The round as coordinators name it: 'đợt nhắc trước hạn 1 ngày, Sơ kết 6 tháng'."""
    try:
        action, ident = resolve(plan, target, stage)
    except KeyError:  # an alert for a run the plan no longer knows
        return f"{target} {stage}".strip()
    if action == Action.REPORT:
        return f"lập dự thảo {plan.report_title(ident)}"
    if action == Action.OBLIGATION:
        return f"nhắc hạn của {plan.identity.self_word}: {plan.obligation(ident).name}"
    name = plan.milestone(ident).name
    return f"đợt {stage_words(stage)}, {name}" if re.fullmatch(r"(before|overdue)-\d+", stage) else name


def alert_mail(
    plan: Plan,
    target: str,
    stage: str,
    run_id: str,
    run_name: str,
    state: str,
    error: str,
    run_url: str | None,
    round_at: dt.datetime,
    instant: dt.datetime,
    sent: int | None = None,
) -> Mail:
    """Tells the active coordinators that a scheduled run failed: what was not done (the round by
    its Vietnamese name and date, and how many of its letters had gone: `sent`, from the ledger),
    why, what to do, and where to look (a link only through THIDUA_UI_URL: the server's own
    loopback address means nothing on the recipient's computer)."""
    local = round_at.astimezone(plan.tz)
    context = {
        "ctx": letter_context(plan, instant.astimezone(plan.tz)),
        "area_short_name": plan.area_short_name,
        "what": round_words(plan, target, stage),
        "round_day": f"{WEEKDAYS[local.weekday()]} {local:%d/%m/%Y}",
        "run_name": run_name,
        "state": state,
        "error": error[:1500],
        "run_url": run_url,
        "as_of": vn_datetime(instant.astimezone(plan.tz)),
        "sent": sent,
    }
    key = Key(plan.id, target, f"alert-{run_id}"[:50], stage or "run")
    return _coordinators_letter(plan, key, "alert", context)


def _report_stage(data: ReportData) -> str:
    if not data.yearend:
        return ""
    if data.final:
        return "sau Hội nghị: kết quả bình xét theo số phiếu"
    return "để trình Hội nghị tổng kết: danh sách ứng viên, chưa có kết quả bỏ phiếu"


def report_mail(rnd: Round, data: ReportData, docx_path: Path, xlsx_path: Path) -> Mail:
    """The compiled draft, as attachments, to the active Head and Deputy contacts."""
    plan = rnd.plan
    deadline = obligation_deadline(plan, plan.obligation(data.report.obligation))
    if data.final:
        flagged = [
            f"{r['name']} ({r['category']}): được đề nghị, {lacking_words(r['lacking'])}"
            for r in data.results
            if r["lacking"]
        ]
        flagged += data.vote_problems
    else:
        flagged = [
            f"{c['name']} ({c['title']}): hồ sơ đề nghị còn thiếu: {c['dossier'].removeprefix('Thiếu: ')}"
            for c in data.nominations
            if c["dossier"] != "Đủ"
        ]
        flagged += data.score_flags
    context = {
        **_base_context(plan, rnd.milestone, rnd.instant),
        "report_name": data.report.name,
        "stage_words": _report_stage(data),
        "stage_tag": ("sau Hội nghị" if data.final else "trình Hội nghị") if data.yearend else "",
        "year": plan.year,
        "deadline": vn_date_weekday(deadline) if deadline else "(chưa ấn định)",
        "docx_name": docx_path.name,
        "xlsx_name": xlsx_path.name,
        "blocks": data.discipline_blocks,
        "flagged": flagged + data.page_problems,
    }
    attachments = (
        (docx_path.name, DOCX_TYPE, docx_path.read_bytes()),
        (xlsx_path.name, XLSX_TYPE, xlsx_path.read_bytes()),
    )
    # the draft and the final year-end report are two letters, each sent once, whichever run
    # (scheduled or `thidua report --send`) compiles it first
    key = Key(plan.id, data.report.kind, "report", FINAL if data.final else COMPILE)
    return _coordinators_letter(plan, key, "report", context, attachments)
