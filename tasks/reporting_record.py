"""How each unit kept its reporting duties (the plan's "chế độ thông tin, báo cáo"): every
document it owed in the report's period — on time, late by how many days, not sent, sent by
e-mail — and its totals. The evidence the conference weighs in bình xét, annexed to the mid-year
report (for its half) and the year-end one (for the year).

Read from the completeness table, the same one `status` prints: a document counted late here is
one `status` says "nộp muộn", a missing one is in its "còn thiếu"."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from tasks.dates import due_instant, last_day, vn_date
from tasks.normalise import MAIL
from tasks.plan import Milestone, Plan, Report

ON_TIME, LATE, MISSING, NOT_YET = "Đúng hạn", "Muộn", "Chưa gửi", "Chưa đến hạn"


@dataclass(frozen=True)
class DocumentRecord:
    block: str
    unit: str  # the unit's name
    milestone: str  # the milestone's name
    document: str
    last_day: dt.date  # the last day on time, as `status` counts it
    sent: dt.date | None  # the day of its first submission, by which timeliness is judged
    state: str  # ON_TIME, LATE, MISSING or NOT_YET
    days_late: int  # 0 unless LATE
    by_mail: bool

    @property
    def words(self) -> str:
        """'muộn 2 ngày', 'chưa gửi', …: how the note column says it."""
        if self.state == LATE:
            return f"muộn {self.days_late} ngày"
        return self.state[:1].lower() + self.state[1:]


@dataclass
class UnitRecord:
    block: str
    unit: str
    documents: list[DocumentRecord] = field(default_factory=list)  # those whose deadline has come

    def add(self, doc: DocumentRecord) -> None:
        if doc.state != NOT_YET:
            self.documents.append(doc)

    def count(self, state: str) -> int:
        return sum(d.state == state for d in self.documents)

    @property
    def notes(self) -> list[str]:
        """What was not on time, a milestone at a time: "Sơ kết 6 tháng: chưa gửi" when every
        document of it is so, else each document with its own words."""
        out = []
        for milestone in dict.fromkeys(d.milestone for d in self.documents):
            docs = [d for d in self.documents if d.milestone == milestone]
            words = {d.words for d in docs}
            if len(docs) > 1 and len(words) == 1 and ON_TIME not in {d.state for d in docs}:
                out.append(f"{milestone}: {words.pop()} (cả {len(docs)} văn bản)")
            else:
                out += [f"{milestone} – {d.document}: {d.words}" for d in docs if d.state != ON_TIME]
        return out

    def row(self) -> dict[str, Any]:
        return {
            "block": self.block,
            "unit": self.unit,
            "owed": len(self.documents),
            "on_time": self.count(ON_TIME),
            "late": self.count(LATE),
            "days_late": sum(d.days_late for d in self.documents),
            "missing": self.count(MISSING),
            "by_mail": sum(d.by_mail for d in self.documents),
            "notes": "; ".join(self.notes),
        }


@dataclass
class ReportingRecord:
    milestones: list[str]  # the names of the milestones counted, in the plan's order
    documents: list[DocumentRecord]
    units: list[UnitRecord]

    @property
    def total(self) -> UnitRecord:
        return UnitRecord(block="", unit="Cộng", documents=[d for u in self.units for d in u.documents])


def period_milestones(plan: Plan, report: Report) -> list[Milestone]:
    """The units' milestones with a deadline up to the report's own: the first half of the year
    for the mid-year report, the year for the year-end one."""
    until = plan.milestone(report.milestone).deadline
    return [
        m
        for m in plan.milestones
        if m.units_owe and m.deadline is not None and (until is None or m.deadline <= until)
    ]


def reporting_record(
    plan: Plan, report: Report, table: pd.DataFrame, instant: dt.datetime, unit_order: list[str]
) -> ReportingRecord:
    """`table`: the completeness table at `instant`; `unit_order`: unit codes as the report
    lists them."""
    milestones = period_milestones(plan, report)
    rows = {(r.unit, r.milestone): r for r in table.itertuples() if r.milestone in {m.id for m in milestones}}
    documents: list[DocumentRecord] = []
    units: list[UnitRecord] = []
    for code in unit_order:
        unit = plan.unit(code)
        record = UnitRecord(block=plan.block_name(unit.block), unit=unit.name)
        for m in milestones:
            row = rows.get((code, m.id))
            if row is None or m.deadline is None:
                continue
            for kind in row.required:
                doc = _document(plan, m, m.deadline, row, kind, instant, record.block)
                documents.append(doc)
                record.add(doc)
        units.append(record)
    return ReportingRecord([m.name for m in milestones], documents, units)


def _document(
    plan: Plan, m: Milestone, deadline: dt.date, row: Any, kind: str, instant: dt.datetime, block: str
) -> DocumentRecord:
    first = row.first_sent.get(kind) if isinstance(row.first_sent, dict) else None
    due, last = due_instant(plan, deadline), last_day(plan, deadline)
    sent = first.astimezone(plan.tz).date() if first is not None else None
    if first is None or sent is None:
        state, days = (MISSING if instant >= due else NOT_YET), 0
    elif first >= due:
        state, days = LATE, (sent - last).days
    else:
        state, days = ON_TIME, 0
    return DocumentRecord(
        block=block,
        unit=row.unit_name,
        milestone=m.name,
        document=kind,
        last_day=last,
        sent=sent,
        state=state,
        days_late=days,
        by_mail=kind in (row.mailed if isinstance(row.mailed, list) else []),
    )


def document_rows(record: ReportingRecord) -> list[dict[str, Any]]:
    """One line per document, for the spreadsheet annex."""
    return [
        {
            "block": d.block,
            "unit": d.unit,
            "milestone": d.milestone,
            "document": d.document,
            "last_day": vn_date(d.last_day),
            "sent": vn_date(d.sent) if d.sent else "",
            "state": d.state,
            "days_late": d.days_late or None,
            "by_mail": MAIL if d.by_mail else "",
        }
        for d in record.documents
    ]
