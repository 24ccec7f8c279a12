"""A round: one dated action of the plan carried out at an instant, and what it did.

Flows, the CLI and the mail builders pass a `Round` instead of loose (milestone, stage,
instant, dry_run) parameters, and get a `RoundResult` back instead of a dict.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

import pandas as pd

from tasks.dates import vn_datetime, vn_weekday_datetime
from tasks.outcomes import Key, Orphan, Outcome, Recovery
from tasks.plan import Milestone, Plan, PlanLookupError
from tasks.schedule import Trigger, describe, stage_words, stale_reason, triggers
from tasks.teams import DAILY, Team

DIGEST = "digest"  # the ledger's recipient for the coordinators' digest
COMPILE = "compile"  # the stage of a report's compilation
TEAM_STAGE = re.compile(r"^(daily|[a-z0-9]+(?:-[a-z0-9]+)*\.(?:(?:before|overdue)-\d+|notice))$")
FINAL = "final"  # the year-end report's second compilation, after the conference's vote
# How long before its scheduled instant a round may start and still count as on time: a Prefect
# runner picks a scheduled run up a few seconds early, and two workers' clocks differ a little.
EARLY_GRACE = dt.timedelta(minutes=10)


class Action(StrEnum):
    REMINDER = "reminder"  # before-N: units that owe something, then the coordinators' digest
    OVERDUE = "overdue"  # overdue-N: the same, Head and Deputies copied
    OBLIGATION = "obligation"  # before-N: the coordinators, of a deadline the area itself owes
    REPORT = "report"  # compile: the area's report drafted and mailed to Head and Deputies
    TEAMS = "teams"  # <team>.before-N / <team>.overdue-N, or daily: inspection teams' leading units


def plan_stages(plan: Plan, action: Action) -> list[str]:
    """The stages the plan schedules for an action, exactly as the ledger and the CLI write them."""
    before = [f"before-{d}" for d in plan.reminders.before_days]
    if action == Action.REPORT:
        return [COMPILE, FINAL]
    if action == Action.OBLIGATION:
        return before + ["daily"]  # daily: the obligation's rounds due that day, if any
    return before + [f"overdue-{d}" for d in plan.reminders.overdue_days]


def parse_instant(text: str | None, plan: Plan) -> dt.datetime:
    """ISO date or datetime; naive means local time in the plan's zone; None means now."""
    try:
        moment = dt.datetime.fromisoformat(text) if text else None
    except ValueError:
        raise ValueError(f"'{text}' không phải là thời điểm ISO 8601 (ví dụ 2021-06-18T08:00)") from None
    return in_plan_zone(moment, plan)


def in_plan_zone(at: dt.datetime | None, plan: Plan) -> dt.datetime:
    """A flow's typed instant: naive (a date picker, `--at`) is the plan's zone; None is now."""
    if at is None:
        return dt.datetime.now(plan.tz)
    return at if at.tzinfo else at.replace(tzinfo=plan.tz)


@dataclass(frozen=True)
class Round:
    plan: Plan
    action: Action
    target: str  # a milestone id, an area obligation id or a report kind
    stage: str
    instant: dt.datetime
    dry_run: bool = False
    early: bool = False  # sent before its scheduled instant on an operator's explicit request

    @classmethod
    def of(
        cls,
        plan: Plan,
        target: str,
        stage: str,
        at: str | dt.datetime | None,
        dry_run: bool = False,
        early: bool = False,
    ) -> Round:
        """The round of a milestone, obligation or report (found in that order), validated:
        the stage must be one the plan schedules for it, spelt exactly."""
        action, target = resolve(plan, target, stage)
        if action == Action.TEAMS:  # a team's stages depend on the sheet: their shape is checked
            if not TEAM_STAGE.match(stage):
                raise PlanLookupError(
                    f"đợt '{stage}' không phải đợt của đoàn kiểm tra "
                    "(daily, hoặc <mã đoàn>.before-N / <mã đoàn>.overdue-N)"
                )
        else:
            stages = plan_stages(plan, action)
            if stage not in stages:
                raise PlanLookupError(
                    f"đợt '{stage}' không có trong kế hoạch cho '{target}' (có: {', '.join(stages)})"
                )
        instant = in_plan_zone(at, plan) if isinstance(at, dt.datetime) else parse_instant(at, plan)
        return cls(plan, action, target, stage, instant, dry_run, early)

    def scheduled(self, teams: dict[str, list[Team]] | None = None) -> Trigger | None:
        """When the plan schedules this round (None for a daily look, or a round it does not list)."""
        if self.stage == DAILY:
            return None
        return next(
            (t for t in triggers(self.plan, teams) if (t.target, t.stage) == (self.target, self.stage)), None
        )

    def too_early(self, teams: dict[str, list[Team]] | None = None) -> str | None:
        """Why this round may not act yet, or None. A round run before its time would be spent:
        its letters are in the ledger and the real round, when it comes, sends nothing. A dry
        run only previews, and `early` is the operator's explicit, recorded override."""
        trigger = self.scheduled(teams)
        if self.dry_run or self.early or trigger is None or self.instant >= trigger.at - EARLY_GRACE:
            return None
        what = describe(self.plan, trigger, teams)
        return (
            f"Chưa đến giờ: đợt {stage_words(self.stage)} ({self.stage}: {what}) theo lịch chạy lúc "
            f"{vn_weekday_datetime(trigger.at)}, bây giờ mới {vn_datetime(self.local)}. Không gửi thư, "
            "không ghi sổ. Xem trước: --dry-run; nếu thật sự cần gửi sớm: --early (trên giao diện "
            "Prefect: tham số early)."
        )

    @property
    def ledger_note(self) -> str | None:
        """What the ledger keeps beside a letter sent early, for whoever reads it later."""
        if not self.early:
            return None
        return f"gửi sớm theo yêu cầu (--early) lúc {vn_datetime(self.local)}"

    @property
    def milestone(self) -> Milestone:
        """The milestone whose submissions this round is about."""
        if self.action == Action.REPORT:
            return self.plan.milestone(self.plan.report(self.target).milestone)
        if self.action == Action.OBLIGATION:
            about = self.plan.obligation(self.target).about
            return self.plan.milestone(about) if about else self.plan.milestones[0]
        return self.plan.milestone(self.target)

    @property
    def local(self) -> dt.datetime:
        return self.instant.astimezone(self.plan.tz)

    def key(self, recipient: str) -> Key:
        return Key(self.plan.id, self.target, recipient, self.stage)

    def rows(self, table: pd.DataFrame) -> pd.DataFrame:
        """This round's milestone in the completeness table."""
        return table[table["milestone"] == self.milestone.id]


def resolve(plan: Plan, target: str, stage: str) -> tuple[Action, str]:
    """What a (target, stage) pair is: a report's compilation, an area obligation's reminder, or
    a milestone's round (by id or Vietnamese name); PlanLookupError if the plan has no such target."""
    milestone = next((m for m in plan.milestones if m.id == target or m.name == target), None)
    if milestone is not None and milestone.teams_owe:
        return Action.TEAMS, milestone.id
    if stage in (COMPILE, FINAL):
        report = plan.report(target)
        if stage == FINAL and report.kind != "yearend":
            raise PlanLookupError(f"chỉ báo cáo tổng kết năm có đợt '{FINAL}' (sau Hội nghị)")
        return Action.REPORT, report.kind
    if any(o.id == target for o in plan.area_obligations):
        return Action.OBLIGATION, target
    milestone = plan.milestone(target)
    return (Action.OVERDUE if stage.startswith("overdue") else Action.REMINDER), milestone.id


def owing(table: pd.DataFrame, rnd: Round) -> pd.DataFrame:
    """Units that still owe something for the round's milestone: they, and only they, get it."""
    rows = rnd.rows(table)
    rows = rows[rows["missing"].map(len) > 0]
    if rnd.action == Action.OVERDUE:
        rows = rows[rows["overdue"]]
    return rows


def why_not_due(plan: Plan, table: pd.DataFrame, now: dt.datetime, orphan: Orphan) -> str | None:
    """Whether a dead run's unconfirmed message is still worth sending at `now`: None if so,
    else why not (its round went stale, or the unit has sent everything since)."""
    key = orphan.key
    if orphan.kind in ("alert", "report"):
        return None  # a failure alert or a report draft is worth having late
    reason = stale_reason(plan, key.milestone, key.stage, now)
    if reason:
        return reason
    if orphan.kind in (Action.REMINDER, Action.OVERDUE):
        rows = table[(table["milestone"] == key.milestone) & (table["unit"] == key.recipient)]
        if rows.empty or not rows.iloc[0]["missing"]:
            return "đơn vị đã gửi đủ hồ sơ"
    return None


@dataclass
class RoundResult:
    """What a round did: the shape replay, run and the artifacts read."""

    action: Action
    target: str
    stage: str
    at: dt.datetime
    owing: int = 0
    units: Outcome = field(default_factory=Outcome)
    digest: Outcome = field(default_factory=Outcome)
    recovery: Recovery = field(default_factory=Recovery)
    stale: str | None = None  # why a late round did nothing
    files: list[Path] = field(default_factory=list)  # a report's DOCX and XLSX
    error: str | None = None  # the round failed

    @classmethod
    def of(cls, rnd: Round, **values: Any) -> RoundResult:
        return cls(rnd.action, rnd.target, rnd.stage, rnd.instant, **values)

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def failed(self) -> list[str]:
        return self.units.failed + self.digest.failed + self.recovery.failed

    @property
    def digest_sent(self) -> bool:
        return DIGEST in self.digest.sent

    @property
    def previews(self) -> int:
        return len(self.units.previews) + len(self.digest.previews)
