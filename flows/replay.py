"""Running the plan's actions as flow runs: a day's rounds (`thidua run`) or the whole year."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from flows.actions import ACTIONS
from flows.common import cause
from tasks.plan import Plan
from tasks.round import Action, RoundResult
from tasks.schedule import Trigger, triggers


def due_triggers(plan: Plan, until: dt.date | None) -> list[Trigger]:
    return [t for t in triggers(plan) if until is None or t.at.date() <= until]


def run_rounds(
    trigger_list: list[Trigger],
    dry_run: bool,
    on_done: Callable[[Trigger, RoundResult], None] | None = None,
    at: str | None = None,
) -> list[RoundResult]:
    """Run each action as a flow run; a failed one is reported and the others carry on."""
    results = []
    for t in trigger_list:
        when = at or t.at.isoformat()
        spec = ACTIONS[t.action]
        state = spec.flow()(**spec.parameters(t), at=when, dry_run=dry_run, return_state=True)
        if state.is_completed():
            result = state.result()
        else:
            result = RoundResult(
                Action(t.action),
                t.target,
                t.stage,
                dt.datetime.fromisoformat(when),
                error=cause(state.message or str(state.type)),
            )
        results.append(result)
        if on_done:
            on_done(t, result)
    return results


def replay_year(
    plan: Plan,
    until: dt.date | None = None,
    dry_run: bool = False,
    on_done: Callable[[Trigger, RoundResult], None] | None = None,
) -> list[RoundResult]:
    """Replays the plan year up to `until` in one process: the demo of a whole year. Each round
    is its own flow run, so the Prefect UI shows the year as the schedule would have run it."""
    return run_rounds(due_triggers(plan, until), dry_run, on_done)
