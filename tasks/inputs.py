"""One round of a milestone (a reminder or overdue stage at an instant), as plain steps."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd

from tasks.completeness import STATE_LABELS, State, completeness
from tasks.normalise import Normalised, normalise
from tasks.plan import Plan, load_plan
from tasks.settings import Settings
from tasks.source import open_source


@dataclass
class Inputs:
    plan: Plan
    data: Normalised
    source: str
    tabs: dict[str, list[str]]  # tab -> its header row, as read


def load_inputs(settings: Settings) -> Inputs:
    plan = load_plan(settings.plan)
    source = open_source(settings, plan)
    raw = source.read_tabs()
    headers = {tab: (rows[0] if rows else []) for tab, rows in raw.items()}
    return Inputs(plan, normalise(plan, raw), source.description, headers)


def assess(inputs: Inputs, instant: dt.datetime, milestones: list[str] | None = None):
    return completeness(inputs.plan, inputs.data.submissions, inputs.data.registrations, instant, milestones)


def parse_instant(text: str | None, plan: Plan) -> dt.datetime:
    """ISO date or datetime; naive means local time in the plan's zone; None means now."""
    if not text:
        return dt.datetime.now(plan.tz)
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"'{text}' không phải là thời điểm ISO 8601 (ví dụ 2021-06-18T08:00)") from None
    return moment.replace(tzinfo=plan.tz) if moment.tzinfo is None else moment


def round_summary(milestone: str, stage: str, instant: dt.datetime, **values) -> dict:
    """What a round (or report, or area reminder) did, in the shape replay and the CLI print."""
    return {
        "milestone": milestone,
        "stage": stage,
        "at": instant.isoformat(),
        "sent": [],
        "skipped": [],
        "failed": [],
        "digest_sent": False,
        "previews": 0,
        "owing": 0,
        **values,
    }


def table_for_humans(table: pd.DataFrame) -> list[dict]:
    """The completeness table with Vietnamese headers, as the Prefect UI and reports show it."""
    return [
        {
            "Đơn vị": r.unit_name,
            "Mã": r.unit,
            "Mốc": r.milestone_name,
            "Tình trạng": STATE_LABELS[State(r.state)],
            "Quá hạn": "Có" if r.overdue else "",
            "Còn thiếu": "; ".join(r.missing),
            "Vấn đề": "; ".join(r.problems),
        }
        for r in table.itertuples()
    ]


def status_records(table: pd.DataFrame) -> list[dict]:
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
                "last_submitted_at": r.last_submitted_at.isoformat()
                if r.last_submitted_at is not None and pd.notna(r.last_submitted_at)
                else None,
            }
        )
    return out
