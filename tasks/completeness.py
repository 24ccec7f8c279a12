"""The heart of every run: one row per (unit, milestone) saying what is in, late or owed."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

import pandas as pd

from tasks.dates import due_instant, vn_datetime
from tasks.normalise import MAIL, MAIL_ROW
from tasks.plan import Document, Milestone, Plan, Requirement, Unit
from tasks.text import match_key


class State(StrEnum):
    ON_TIME = "on_time"
    LATE = "late"
    INCOMPLETE = "incomplete"
    MISSING = "missing"


PAGES_OVER = "vượt giới hạn"  # how a page-limit problem reads: "Báo cáo tóm tắt: 5 trang, vượt giới hạn 3 …"

STATE_LABELS = {
    State.ON_TIME: "Đúng hạn",
    State.LATE: "Nộp muộn",
    State.INCOMPLETE: "Chưa đủ",
    State.MISSING: "Chưa nộp",
}

COLUMNS = [
    "unit",
    "unit_name",
    "block",
    "milestone",
    "milestone_name",
    "deadline",
    "state",
    "overdue",
    "missing",
    "problems",
    "submitted",
    "last_submitted_at",
    "required",  # what this unit owes: the required documents, and its dossier if it needs one
    "via_mail",  # documents the intake found in a mail: "<kind>: thư điện tử của <sender>, <id>"
    "received",  # each document in: "<kind>: <latest time> (bảng tính | thư điện tử)", for units to read
    "first_sent",  # {kind: its first submission's instant}: what its timeliness is judged by
    "mailed",  # the kinds the intake found in a mail
]


def state_counts(rows: pd.DataFrame) -> dict[str, int]:
    """How many rows of a completeness table are in each state; every state present, 0 if none."""
    counts = rows["state"].value_counts()
    return {s.value: int(counts.get(s.value, 0)) for s in State}


def dossier_units(plan: Plan, registrations: pd.DataFrame) -> set[str]:
    """Units that registered for a title whose nomination needs a dossier."""
    needing = plan.titles_needing_dossier()
    if registrations.empty:
        return set()
    mask = registrations["title"].map(match_key).isin(needing)
    return set(registrations.loc[mask, "unit"])


def required_documents(m: Milestone, needs_dossier: bool) -> list[Document]:
    return [
        d
        for d in m.documents
        if d.requirement == Requirement.REQUIRED or (d.requirement == Requirement.DOSSIER and needs_dossier)
    ]


def completeness(
    plan: Plan,
    submissions: pd.DataFrame,
    registrations: pd.DataFrame,
    instant: dt.datetime,
    milestones: list[str] | None = None,
) -> pd.DataFrame:
    """The completeness table at `instant`: rows timestamped after it do not exist yet.

    Timeliness of a document kind is judged by its first submission; its content (page count)
    by the latest, which replaces earlier ones.
    """
    visible = submissions[submissions["submitted_at"] <= instant]
    if milestones:
        visible = visible[visible["milestone"].isin(milestones)]
    # one row per (unit, milestone, kind): first and latest submission, how many, latest pages
    keys = ["unit", "milestone", "kind"]
    ordered = visible.sort_values(["submitted_at", "row"]).assign(by_mail=visible["row"] == MAIL_ROW)
    per_kind = ordered.groupby(keys, sort=False).agg(
        first_at=("submitted_at", "first"),
        last_at=("submitted_at", "last"),
        sent=("row", "size"),
        by_mail=("by_mail", "sum"),
        pages=("pages", "last"),
        origin=("origin", "first"),
    )
    # a document both e-mailed and typed into the sheet (often by a coordinator, after the mail)
    # is one submission: the count is the larger of the two ways, not their sum
    per_kind["count"] = per_kind["by_mail"].where(
        per_kind["by_mail"] > per_kind["sent"] - per_kind["by_mail"], per_kind["sent"] - per_kind["by_mail"]
    )
    # the sheet rows of a document sent more than once, for the "nộp N lần (dòng …)" problem;
    # built only for those, as a Python list per group is what made a large sheet slow
    repeated = ordered[ordered.duplicated(keys, keep=False)]
    rows = repeated.groupby(keys, sort=False)["row"].agg(list).to_dict()
    by_unit: dict[tuple[str, str], dict[str, dict[str, Any]]] = {}
    columns = [per_kind[c].tolist() for c in ("first_at", "last_at", "count", "pages", "origin")]
    for key, first_at, last_at, count, pages, origin in zip(per_kind.index, *columns, strict=True):
        record = {"first_at": first_at, "last_at": last_at, "count": count, "pages": pages, "origin": origin}
        record["rows"] = rows.get(key, [])
        by_unit.setdefault(key[:2], {})[key[2]] = record
    with_dossier = dossier_units(plan, registrations)
    records = []
    for m in plan.milestones:
        if not m.units_owe or (milestones and m.id not in milestones):
            continue
        due = due_instant(plan, m.deadline) if m.deadline else None
        required = {needs: required_documents(m, needs) for needs in (False, True)}
        for unit in plan.units:
            mine = by_unit.get((unit.code, m.id), {})
            records.append(_unit_row(m, unit, mine, due, instant, required[unit.code in with_dossier]))
    return pd.DataFrame(records, columns=COLUMNS)


def _unit_row(
    m: Milestone,
    unit: Unit,
    mine: dict[str, dict[str, Any]],
    due: dt.datetime | None,
    instant: dt.datetime,
    required: list[Document],
) -> dict[str, Any]:
    missing = [d.kind for d in required if d.kind not in mine]
    problems: list[str] = []
    late_kinds = []
    for doc in m.documents:
        got = mine.get(doc.kind)
        if got is None:
            continue
        if due is not None and got["first_at"] >= due:
            late_kinds.append(doc.kind)
            problems.append(f"{doc.kind}: nộp muộn lúc {vn_datetime(got['first_at'])}")
        if got["count"] > 1:
            sheet_rows = ", ".join(str(r) for r in got["rows"] if r != MAIL_ROW)
            mails = sum(r == MAIL_ROW for r in got["rows"])
            where = "; ".join([f"dòng {sheet_rows}"] * bool(sheet_rows) + [f"{mails} {MAIL}"] * bool(mails))
            problems.append(
                f"{doc.kind}: nộp {got['count']} lần ({where}); tính bản mới nhất lúc "
                f"{vn_datetime(got['last_at'])}"
            )
        pages = got["pages"]
        if doc.max_pages and pd.notna(pages) and int(pages) > doc.max_pages:
            problems.append(f"{doc.kind}: {int(pages)} trang, {PAGES_OVER} {doc.max_pages} trang A4")
    if not mine:
        state = State.MISSING
    elif missing:
        state = State.INCOMPLETE
    elif any(d.kind in late_kinds for d in required):
        state = State.LATE
    else:
        state = State.ON_TIME
    overdue = bool(due is not None and instant >= due and missing)
    return {
        "unit": unit.code,
        "unit_name": unit.name,
        "block": unit.block,
        "milestone": m.id,
        "milestone_name": m.name,
        "deadline": m.deadline,
        "state": state.value,
        "overdue": overdue,
        "missing": missing,
        "problems": problems,
        "submitted": [d.kind for d in m.documents if d.kind in mine],
        "last_submitted_at": max((g["last_at"] for g in mine.values()), default=None),
        "required": [d.kind for d in required],
        "via_mail": [f"{kind}: {got['origin']}" for kind, got in mine.items() if got["origin"]],
        "received": [
            f"{kind}: {vn_datetime(got['last_at'])} ({MAIL if got['origin'] else 'bảng tính'})"
            for kind, got in mine.items()
        ],
        "first_sent": {kind: got["first_at"] for kind, got in mine.items()},
        "mailed": [kind for kind, got in mine.items() if got["origin"]],
    }


def mail_lines(rows: pd.DataFrame) -> list[str]:
    """'<unit>: <kind>: thư điện tử của <sender>, <Message-ID>' for every document of `rows`
    the intake found in a mail: what the digest, the artifact and the reports list."""
    return [f"{r.unit_name}: {v}" for r in rows.itertuples() for v in r.via_mail]


def table_for_humans(table: pd.DataFrame) -> list[dict[str, Any]]:
    """The completeness table as the Prefect UI shows it: three columns, so that it fits the
    UI's table on a 1280-px screen (the problems are listed in the round's Markdown artifact)."""
    return [
        {
            "Đơn vị": r.unit_name,
            "Tình trạng": STATE_LABELS[State(r.state)] + (", quá hạn" if r.overdue else ""),
            "Còn thiếu": "; ".join(r.missing),
        }
        for r in table.itertuples()
    ]


def status_records(table: pd.DataFrame) -> list[dict[str, Any]]:
    """The JSON contract of `thidua status --json`."""
    out = []
    for r in table.itertuples():
        out.append(
            {
                "unit": r.unit,
                "unit_name": r.unit_name,
                "block": r.block,
                "milestone": r.milestone,
                "deadline": r.deadline.isoformat() if r.deadline else None,
                "state": r.state,
                "overdue": bool(r.overdue),
                "missing": list(r.missing),
                "problems": list(r.problems),
                "submitted": list(r.submitted),
                "via_mail": list(r.via_mail) if isinstance(r.via_mail, list) else [],
                "last_submitted_at": r.last_submitted_at.isoformat()
                if r.last_submitted_at is not None and pd.notna(r.last_submitted_at)
                else None,
            }
        )
        if "team" in table.columns:  # an inspection team's row: the team, led by `unit`
            out[-1]["team"] = r.team
    return out
