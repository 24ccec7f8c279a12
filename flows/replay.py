"""The year replay: every trigger of the plan in time order, as the schedule would run them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from flows.milestone import milestone_round
from flows.obligation import obligation_round
from flows.report import area_report
from tasks.inputs import round_summary
from tasks.plan import Plan
from tasks.schedule import Trigger, triggers


def due_triggers(plan: Plan, until: dt.date | None) -> list[Trigger]:
    return [t for t in triggers(plan) if until is None or t.at.date() <= until]


def run_rounds(
    trigger_list: list[Trigger],
    dry_run: bool,
    on_done: Callable[[Trigger, dict], None] | None = None,
    at: str | None = None,
) -> list[dict]:
    """Run each round as a flow run; a failed round is reported and the others carry on."""
    results = []
    for t in trigger_list:
        when = at or t.at.isoformat()
        if t.action == "report":
            state = area_report(t.milestone, at=when, dry_run=dry_run, return_state=True)
        elif t.action == "obligation":
            state = obligation_round(t.milestone, t.stage, at=when, dry_run=dry_run, return_state=True)
        else:
            state = milestone_round(t.milestone, t.stage, at=when, dry_run=dry_run, return_state=True)
        if state.is_completed():
            result = {**state.result(), "ok": True}
        else:
            instant = dt.datetime.fromisoformat(when)
            result = round_summary(
                t.milestone, t.stage, instant, ok=False, error=state.message or str(state.type)
            )
        results.append(result)
        if on_done:
            on_done(t, result)
    return results


def replay_year(
    plan: Plan,
    until: dt.date | None = None,
    dry_run: bool = False,
    on_done: Callable[[Trigger, dict], None] | None = None,
) -> list[dict]:
    """Replays the plan year up to `until` in one process: the demo of a whole year. Each round
    is its own flow run, so the Prefect UI shows the year as the schedule would have run it."""
    return run_rounds(due_triggers(plan, until), dry_run, on_done)
