"""The completeness table as units read it: one row per unit and open (or just closed) milestone,
in Vietnamese, with what is still missing, the deadline and the time left, what the area received
and when (sheet or e-mail), and what is wrong with what was sent. Published where units already
look (a tab of the shared sheet, or a page beside the workbook) by tasks/publish.py."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import pandas as pd

from tasks.completeness import STATE_LABELS, State
from tasks.dates import deadline_words, last_day, time_left_words, vn_date, vn_datetime
from tasks.plan import Milestone, Plan

OPEN_BEFORE = dt.timedelta(days=30)  # a milestone shows from a month before its deadline
JUST_CLOSED = dt.timedelta(days=30)  # and for a month after it, so a late unit sees where it stands
HEADER = [
    "Đơn vị",
    "Mốc",
    "Hạn",
    "Thời gian còn lại",
    "Tình trạng",
    "Còn thiếu",
    "Đã nhận",
    "Vấn đề với hồ sơ đã gửi",
    "Cập nhật lúc",
]


@dataclass(frozen=True)
class StatusRow:
    unit: str  # the unit's code: the anchor of its section, the key of its link
    unit_name: str
    milestone_name: str
    deadline: str
    time_left: str
    state: str  # State's value: on_time, late, incomplete, missing
    missing: list[str]
    received: list[str]
    problems: list[str]

    @property
    def state_label(self) -> str:
        return STATE_LABELS[State(self.state)]

    def cells(self, computed: str) -> list[str]:
        return [
            self.unit_name,
            self.milestone_name,
            self.deadline,
            self.time_left,
            self.state_label,
            "; ".join(self.missing),
            "; ".join(self.received),
            "; ".join(self.problems),
            computed,
        ]


@dataclass
class StatusTable:
    plan_title: str
    computed_at: dt.datetime
    rows: list[StatusRow] = field(default_factory=list)
    next_milestone: str = ""  # when nothing is open: what comes next, and when

    @property
    def computed(self) -> str:
        return vn_datetime(self.computed_at)

    def grid(self) -> list[list[str]]:
        """The header and one line per row: what the sheet's tab and the .xlsx hold."""
        return [HEADER, *(r.cells(self.computed) for r in self.rows)]

    def first_line(self, unit: str) -> int | None:
        """The unit's first line in the grid, counted from 1 as a spreadsheet counts (header = 1)."""
        return next((i + 2 for i, r in enumerate(self.rows) if r.unit == unit), None)

    def by_unit(self) -> list[tuple[str, str, list[StatusRow]]]:
        """(code, name, rows) per unit, in the plan's order (the rows' order)."""
        out: dict[str, tuple[str, str, list[StatusRow]]] = {}
        for r in self.rows:
            out.setdefault(r.unit, (r.unit, r.unit_name, []))[2].append(r)
        return list(out.values())


def is_shown(m: Milestone, today: dt.date) -> bool:
    return bool(m.units_owe and m.deadline and m.deadline - OPEN_BEFORE <= today <= m.deadline + JUST_CLOSED)


def unit_status(plan: Plan, table: pd.DataFrame, instant: dt.datetime) -> StatusTable:
    """The rows of `table` (the completeness table at `instant`) for the milestones open or just
    closed that day, in the plan's order of units, then by deadline."""
    today = instant.astimezone(plan.tz).date()
    shown = [
        m for m in sorted(plan.milestones, key=lambda m: m.deadline or dt.date.max) if is_shown(m, today)
    ]
    out = StatusTable(plan.title, instant)
    rows = {(r.unit, r.milestone): r for r in table.itertuples()}
    for unit in plan.units:
        for m in shown:
            r = rows.get((unit.code, m.id))
            if r is None:
                continue
            assert m.deadline is not None  # is_shown
            out.rows.append(
                StatusRow(
                    unit=unit.code,
                    unit_name=unit.name,
                    milestone_name=m.name,
                    deadline=deadline_words(plan, m.deadline).removeprefix("hạn "),
                    time_left=_time_left(plan, m.deadline, today, list(r.missing)),
                    state=str(r.state),
                    missing=list(r.missing),
                    received=list(r.received),
                    problems=list(r.problems),
                )
            )
    if not shown:
        later = [m for m in plan.milestones if m.units_owe and m.deadline and m.deadline > today]
        if later:
            m = min(later, key=lambda m: m.deadline or dt.date.max)
            assert m.deadline is not None
            out.next_milestone = f"{m.name}, hạn {vn_date(m.deadline)}"
    return out


def _time_left(plan: Plan, deadline: dt.date, today: dt.date, missing: list[str]) -> str:
    if not missing:
        return ""  # nothing owed: no clock runs
    days_over = (today - last_day(plan, deadline)).days
    if days_over > 0:
        return f"quá hạn {days_over} ngày"
    return time_left_words(plan, deadline, today)
