"""Who gets which message for a round, and its words (Jinja2 templates in templates/mail)."""

from __future__ import annotations

import datetime as dt
from functools import cache

import pandas as pd
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from tasks.completeness import state_counts
from tasks.dates import vn_date_weekday, vn_datetime, working_day_note
from tasks.ics import milestone_ics
from tasks.ledger import Key
from tasks.mime import Mail
from tasks.plan import Plan
from tasks.schedule import obligation_deadline
from tasks.settings import REPO

TEMPLATES = REPO / "templates" / "mail"
DIGEST = "digest"  # the ledger's recipient for the coordinators' digest
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


def render(kind: str, context: dict) -> tuple[str, str, str]:
    env = _env()
    subject = env.get_template(f"{kind}.subject.txt").render(context).strip()
    context = {**context, "subject": subject}
    return (
        subject,
        env.get_template(f"{kind}.txt").render(context),
        env.get_template(f"{kind}.html").render(context),
    )


def stage_label(stage: str) -> str:
    kind, days = stage.split("-")
    return f"nhắc trước hạn {days} ngày" if kind == "before" else f"quá hạn {days} ngày"


def _doc_label(plan: Plan, milestone: str, kind: str) -> str:
    doc = plan.milestone(milestone).document(kind)
    return f"{kind} (không quá {doc.max_pages} trang A4)" if doc and doc.max_pages else kind


def _base_context(plan: Plan, milestone: str, instant: dt.datetime) -> dict:
    m = plan.milestone(milestone)
    local = instant.astimezone(plan.tz)
    return {
        "area_name": plan.area_name,
        "area_short_name": plan.area_short_name,
        "document_number": plan.document_number,
        "milestone_name": m.name,
        "deadline": vn_date_weekday(m.deadline) if m.deadline else "(chưa ấn định)",
        "last_working_day": working_day_note(plan, m.deadline) if m.deadline else None,
        "as_of": vn_datetime(local),
        "instructions": plan.submission_instructions,
        "contacts": plan.active_contacts,
        "ctx": {
            "area_name": plan.area_name,
            "document_number": plan.document_number,
            "as_of": vn_datetime(local),
        },
    }


def _contact_addresses(plan: Plan, roles: set[str]) -> tuple[tuple[str, str], ...]:
    return tuple((c.name, str(c.email)) for c in plan.active_contacts if c.role in roles)


def owing(table: pd.DataFrame, milestone: str, stage: str) -> pd.DataFrame:
    """Units that still owe something for this milestone: they, and only they, get this round."""
    rows = table[(table["milestone"] == milestone) & (table["missing"].map(len) > 0)]
    if stage.startswith("overdue"):
        rows = rows[rows["overdue"]]
    return rows


def unit_mails(
    plan: Plan, table: pd.DataFrame, milestone: str, stage: str, instant: dt.datetime
) -> list[Mail]:
    """One reminder (or overdue notice, copying Head and Deputies) per unit that owes something.
    Recipients come only from the plan, never from the sheet."""
    kind = "overdue" if stage.startswith("overdue") else "reminder"
    base = _base_context(plan, milestone, instant)
    m = plan.milestone(milestone)
    local_day = instant.astimezone(plan.tz).date()
    ics = milestone_ics(plan, milestone) if m.deadline else None
    mails = []
    for row in owing(table, milestone, stage).itertuples():
        unit = plan.unit(row.unit)
        context = {
            **base,
            "unit_name": unit.name,
            "missing": [_doc_label(plan, milestone, k) for k in row.missing],
            "submitted": list(row.submitted),
            "problems": list(row.problems),
            "days_left": (m.deadline - local_day).days if m.deadline else None,
            "days_late": (local_day - m.deadline).days if m.deadline else 0,
        }
        subject, text, html = render(kind, context)
        cc = _contact_addresses(plan, {"head", "deputy"}) if kind == "overdue" else ()
        attachments = ((f"han-{milestone}-{plan.year}.ics", "text/calendar", ics),) if ics else ()
        mails.append(
            Mail(
                key=Key(plan.id, milestone, unit.code, stage),
                kind=kind,
                to=((unit.name, str(unit.email)),),
                cc=cc,
                reply_to=_contact_addresses(plan, {"head"}),
                subject=subject,
                text=text,
                html=html,
                attachments=attachments,
            )
        )
    return mails


def digest_mail(
    plan: Plan,
    table: pd.DataFrame,
    milestone: str,
    stage: str,
    instant: dt.datetime,
    outcome: dict,
    findings: list,
) -> Mail:
    """The coordinators' digest after a round: who was reminded, who is complete, what failed."""
    rows = table[table["milestone"] == milestone]
    counts = state_counts(rows)
    names = {u.code: u.name for u in plan.units}
    reminded = [
        {"unit_name": r.unit_name, "missing": list(r.missing)}
        for r in rows.itertuples()
        if r.unit in set(outcome.get("sent", []))
    ]
    context = {
        **_base_context(plan, milestone, instant),
        "kind": "overdue" if stage.startswith("overdue") else "reminder",
        "stage_label": stage_label(stage),
        "counts": counts,
        "unit_count": len(rows),
        "complete_count": counts["on_time"] + counts["late"],
        "reminded": reminded,
        "skipped": [names[c] for c in outcome.get("skipped", [])],
        "failed": outcome.get("failed", []),
        "partial": outcome.get("partial", []),
        "complete": [r.unit_name for r in rows.itertuples() if not r.missing],
        "problems": [f"{r.unit_name}: {p}" for r in rows.itertuples() for p in r.problems],
        "findings": findings[:MAX_FINDINGS_IN_MAIL],
        "more_findings": max(0, len(findings) - MAX_FINDINGS_IN_MAIL),
    }
    subject, text, html = render("digest", context)
    to = _contact_addresses(plan, {"head", "deputy"})
    return Mail(Key(plan.id, milestone, DIGEST, stage), "digest", to, (), (), subject, text, html)


def obligation_mail(
    plan: Plan, obligation_id: str, stage: str, instant: dt.datetime, table: pd.DataFrame | None
) -> Mail:
    """Reminds the coordinators of what the area itself owes the Ministry, with the units' state
    of the milestone the obligation compiles."""
    ob = next(o for o in plan.area_obligations if o.id == obligation_id)
    deadline = obligation_deadline(plan, ob)
    local_day = instant.astimezone(plan.tz).date()
    context = {
        **_base_context(plan, ob.about or plan.milestones[0].id, instant),
        "obligation_name": ob.name,
        "deadline": vn_date_weekday(deadline),
        "last_working_day": working_day_note(plan, deadline),
        "days_left": (deadline - local_day).days,
        "estimated": plan.milestone(ob.after_milestone).name if ob.after_milestone else None,
        "about_name": plan.milestone(ob.about).name if ob.about else "",
        "counts": None,
        "owing": [],
    }
    if ob.about and table is not None:
        rows = table[table["milestone"] == ob.about]
        context["counts"] = state_counts(rows)
        context["owing"] = [r.unit_name for r in rows.itertuples() if r.missing]
    subject, text, html = render("obligation", context)
    to = _contact_addresses(plan, {"head", "deputy"})
    return Mail(Key(plan.id, obligation_id, "area", stage), "obligation", to, (), (), subject, text, html)


def alert_mail(
    plan: Plan,
    target: str,
    stage: str,
    run_id: str,
    run_name: str,
    state: str,
    error: str,
    run_url: str,
    instant: dt.datetime,
) -> Mail:
    """Tells the active coordinators that a scheduled run failed, with where to look. `target`: the
    milestone, obligation or report kind of the run; one alert per flow run."""
    context = {
        "area_short_name": plan.area_short_name,
        "what": f"{target} {stage}".strip(),
        "run_name": run_name,
        "state": state,
        "error": error[:1500],
        "run_url": run_url,
        "as_of": vn_datetime(instant.astimezone(plan.tz)),
    }
    subject, text, html = render("alert", context)
    to = _contact_addresses(plan, {"head", "deputy"})
    key = Key(plan.id, target, f"alert-{run_id}"[:50], stage or "run")
    return Mail(key, "alert", to, (), (), subject, text, html)


def report_mail(plan: Plan, data, docx_path, xlsx_path, instant: dt.datetime) -> Mail:
    """The compiled draft, as attachments, to the active Head and Deputy contacts."""
    ob = next(o for o in plan.area_obligations if o.id == data.report.obligation)
    flagged = [f"{c['name']}: {c['dossier']}" for c in data.flag_candidates if c["dossier"] != "Đủ"]
    context = {
        **_base_context(plan, data.report.milestone, instant),
        "report_name": data.report.name,
        "year": plan.year,
        "deadline": vn_date_weekday(obligation_deadline(plan, ob)),
        "docx_name": docx_path.name,
        "xlsx_name": xlsx_path.name,
        "blocks": data.discipline_blocks,
        "flagged": flagged + data.page_problems,
    }
    subject, text, html = render("report", context)
    attachments = (
        (
            docx_path.name,
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            docx_path.read_bytes(),
        ),
        (
            xlsx_path.name,
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            xlsx_path.read_bytes(),
        ),
    )
    to = _contact_addresses(plan, {"head", "deputy"})
    return Mail(
        Key(plan.id, data.report.kind, "report", "compile"),
        "report",
        to,
        (),
        (),
        subject,
        text,
        html,
        attachments,
    )
