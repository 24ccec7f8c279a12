"""Inspection teams (II.4 of the plan): each team's documents are due N days after its own
last day, and its leading unit receives the reminders. The teams come from the sheet's Kiểm tra
tab (one row per team and inspected unit), so their rounds are known only once it is read."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass
from typing import Any

import pandas as pd

from tasks.completeness import COLUMNS, STATE_LABELS, State
from tasks.dates import deadline_after, due_instant, vn_date, vn_datetime
from tasks.markdown import md, md_row
from tasks.plan import Milestone, Plan, Requirement
from tasks.text import clean, match_key

DAILY = "daily"  # the served schedule's stage: look each working day for the teams' rounds due
NOTICE = "notice"  # a team's notice to the units it inspects, before its first visit


@dataclass(frozen=True)
class Team:
    name: str  # as written in the Kiểm tra tab
    slug: str  # in ledger keys and stages: "doan-1"
    lead: str  # the leading unit's code
    visits: tuple[Visit, ...]  # each inspected unit's days, in the tab's order
    last_day: dt.date
    deadline: dt.date  # a deadline of the plan's rule

    @property
    def inspected(self) -> tuple[str, ...]:
        """The inspected units' codes, in the tab's order."""
        return tuple(v.unit for v in self.visits)

    @property
    def first_day(self) -> dt.date:
        return min((v.start for v in self.visits), default=self.last_day)


@dataclass(frozen=True)
class Visit:
    unit: str  # the inspected unit's code
    start: dt.date
    end: dt.date


def slug(text: str) -> str:
    """'Đoàn 1' -> 'doan-1': Vietnamese letters without marks, anything else a hyphen."""
    plain = unicodedata.normalize("NFD", clean(text).replace("đ", "d").replace("Đ", "D"))
    plain = "".join(c for c in plain if not unicodedata.combining(c)).lower()
    return re.sub(r"[^a-z0-9]+", "-", plain).strip("-") or "doan"


def teams(plan: Plan, milestone: Milestone, inspections: pd.DataFrame) -> list[Team]:
    """The teams of the Kiểm tra tab, grouped by name as people type it; a team's leading unit is
    the one on its first row, its last day the latest end among its rows."""
    out: list[Team] = []
    days = plan.team_days(milestone)
    taken: set[str] = set()
    for _, rows in inspections.groupby(inspections["team"].map(match_key), sort=False):
        first = rows.iloc[0]
        last = max(rows["end"])
        key = slug(str(first["team"]))
        if key in taken:  # "Đoàn 1" and "Doan 1" are two teams: their letters two ledger entries
            key = f"{key}-{len(out) + 1}"
        taken.add(key)
        out.append(
            Team(
                name=str(first["team"]),
                slug=key,
                lead=str(first["lead_unit"]),
                visits=tuple(_visits(rows)),
                last_day=last,
                deadline=deadline_after(plan, last, days),
            )
        )
    return out


def _visits(rows: pd.DataFrame) -> list[Visit]:
    """One visit per inspected unit: from its first row's start to its last row's end."""
    out = []
    for unit, mine in rows.groupby("inspected_unit", sort=False):
        out.append(Visit(str(unit), min(mine["start"]), max(mine["end"])))
    return out


def team_table(
    plan: Plan, milestone: Milestone, all_teams: list[Team], submissions: pd.DataFrame, instant: dt.datetime
) -> pd.DataFrame:
    """The completeness table of the teams at `instant`: one row per team, its leading unit as
    the unit, its own deadline, the documents it still owes (a Biên bản per inspected unit)."""
    mine = submissions[(submissions["milestone"] == milestone.id) & (submissions["submitted_at"] <= instant)]
    mine = mine.sort_values(["submitted_at", "row"])
    records = []
    for team in all_teams:
        sent = mine[mine["unit"] == team.lead]
        due = due_instant(plan, team.deadline)
        missing: list[str] = []
        submitted: list[str] = []
        problems: list[str] = []
        late = False
        for doc in milestone.documents:
            if doc.requirement != Requirement.REQUIRED:
                continue
            of_kind = sent[sent["kind"] == doc.kind]
            if doc.per_inspected_unit:
                unnamed = list(of_kind[of_kind["inspected"] == ""].itertuples())
                for unit in team.inspected:
                    named = of_kind[of_kind["inspected"] == unit]
                    first = named.iloc[0] if len(named) else (unnamed.pop(0) if unnamed else None)
                    label = f"{doc.kind} ({plan.unit_names[unit]})"
                    late |= _account(first, label, due, missing, submitted, problems)
            else:
                first = of_kind.iloc[0] if len(of_kind) else None
                late |= _account(first, doc.kind, due, missing, submitted, problems)
        state = (
            State.MISSING
            if not submitted
            else State.INCOMPLETE
            if missing
            else State.LATE
            if late
            else State.ON_TIME
        )
        lead = plan.unit(team.lead)
        records.append(
            {
                "unit": lead.code,
                "unit_name": lead.name,
                "block": lead.block,
                "milestone": milestone.id,
                "milestone_name": milestone.name,
                "deadline": team.deadline,
                "state": state.value,
                "overdue": bool(instant >= due and missing),
                "missing": missing,
                "problems": problems,
                "submitted": submitted,
                "last_submitted_at": sent["submitted_at"].max() if len(sent) else None,
                "required": missing + submitted,  # every document of the team, by its label
                "via_mail": [],
                "team": team.name,
                "inspected": [plan.unit_names[u] for u in team.inspected],
            }
        )
    return pd.DataFrame(records, columns=[*COLUMNS, "team", "inspected"])


def _account(
    first: Any,  # the first submission (a row of the submissions frame), or None
    label: str,
    due: dt.datetime,
    missing: list[str],
    submitted: list[str],
    problems: list[str],
) -> bool:
    """Records one owed document; True when it came late."""
    if first is None:
        missing.append(label)
        return False
    submitted.append(label)
    if first.submitted_at < due:
        return False
    problems.append(f"{label}: nộp lúc {vn_datetime(first.submitted_at)} (nộp muộn)")
    return True


def team_markdown(plan: Plan, all_teams: list[Team], table: pd.DataFrame, instant: dt.datetime) -> str:
    """The teams' state as the Prefect UI shows it: three columns, which fit its table on a
    1280-px screen (a fourth, what is missing, was cut off in a screenshot: it is listed below)."""
    lines = [f"# Đoàn kiểm tra — tại {vn_datetime(instant.astimezone(plan.tz))}", ""]
    if not all_teams:
        return "\n".join([*lines, "Trang tính Kiểm tra chưa có đoàn nào.", ""])
    lines += ["| Đoàn (đơn vị trưởng đoàn) | Hạn, trước ngày | Tình trạng |", "|---|---|---|"]
    owing = []
    for team, row in zip(all_teams, table.itertuples(), strict=True):
        label = STATE_LABELS[State(row.state)] + (", quá hạn" if row.overdue else "")
        lines.append(md_row(f"{team.name} ({row.unit_name})", vn_date(team.deadline), label))
        owing += [f"- {md(team.name)}: {md(doc)}" for doc in row.missing]
    if owing:
        lines += ["", "## Còn thiếu", "", *owing]
    return "\n".join(lines) + "\n"


def teams_by_milestone(plan: Plan, inspections: pd.DataFrame) -> dict[str, list[Team]]:
    """The teams of every milestone inspection teams owe (the schedule's `teams`)."""
    return {m.id: teams(plan, m, inspections) for m in plan.milestones if m.teams_owe}


def last_team_day(teams: dict[str, list[Team]] | None, milestone_id: str) -> dt.date | None:
    """The day the last team of a milestone ended its visits, if the Kiểm tra tab was read."""
    return max((t.last_day for t in (teams or {}).get(milestone_id, [])), default=None)
