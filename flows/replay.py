"""Running the plan's actions as flow runs: a day's rounds (`thidua run`) or the whole year."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

from prefect import Flow
from prefect.client.schemas.objects import FlowRun, State
from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings
from prefect.utilities.annotations import quote

from flows.actions import ACTIONS
from flows.common import cause, rounds_in_one_run, run_tags
from flows.prefect_env import on_temporary_server
from tasks.plan import Plan
from tasks.round import Action, RoundResult
from tasks.schedule import Trigger, run_title, triggers


def due_triggers(plan: Plan, until: dt.date | None, teams: dict[str, Any] | None = None) -> list[Trigger]:
    return [t for t in triggers(plan, teams) if until is None or t.at.date() <= until]


def run_rounds(
    plan: Plan,
    trigger_list: list[Trigger],
    dry_run: bool,
    on_done: Callable[[Trigger, RoundResult], None] | None = None,
    at: dt.datetime | None = None,
    early: bool = False,
    filed_under: Path | None = None,
) -> list[RoundResult]:
    """Run each action as a flow run; a failed one is reported and the others carry on. `early`:
    the operator sends a round before its scheduled instant on purpose. `filed_under`: the plan's file,
    whose deployments, on the Prefect server this process talks to, the runs are
    filed under, as if started from the UI (`thidua run` beside a `thidua serve`)."""
    with on_temporary_server(), temporary_settings(updates={PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
        return [_run_one(plan, t, dry_run, on_done, at, early, filed_under) for t in trigger_list]


def _run_one(
    plan: Plan,
    t: Trigger,
    dry_run: bool,
    on_done: Callable[[Trigger, RoundResult], None] | None,
    at: dt.datetime | None,
    early: bool = False,
    filed_under: Path | None = None,
) -> RoundResult:
    """One action in this process. Without Prefect's flow heartbeat: its thread is joined at the
    end of every run and sleeps in 1-second steps, so each run waited up to a second for it (15 s
    of a year's replay of 38 s). A run here dies with the terminal that shows it; scheduled runs
    keep their heartbeats (they run in the runner's own processes), and mail has its own leases."""
    when = at or t.at  # one instant, taken at the edge (the CLI's --at, or the schedule's)
    spec = ACTIONS[t.action]
    flow = spec.flow()
    params = {**spec.parameters(t), "at": when, "dry_run": dry_run, **({"early": True} if early else {})}
    run = _run_of_deployment(flow, t, params, plan, filed_under) if filed_under else None
    if run is not None:
        from prefect.flow_engine import run_flow

        # return_type="state": a State, whatever the union Prefect declares for every mode
        state = cast(State, run_flow(flow, flow_run=run, parameters=run.parameters, return_type="state"))
    else:
        from prefect import tags

        with tags(*run_tags(plan, t.target, t.stage, t.action)):  # at creation: no call to add them
            state = cast(State, flow(**params, return_state=True))
    if state.is_completed():
        result = cast(RoundResult, state.result())
    else:
        result = _not_done(t, when, state.message or str(state.type))
    if on_done:
        on_done(t, result)
    return result


def _run_of_deployment(
    flow: Flow[..., Any], t: Trigger, params: dict[str, Any], plan: Plan, path: Path
) -> FlowRun | None:
    """A run of the action's deployment for this process to carry out, or None when the server
    has no such deployment (no serve, another plan). Created Pending, not Scheduled, so that the
    serve's runner leaves it to us."""
    from prefect.client.orchestration import get_client
    from prefect.exceptions import ObjectNotFound
    from prefect.states import Pending

    name = f"{flow.name}/{ACTIONS[t.action].deployment(plan, t).name}"
    with get_client(sync_client=True) as client:
        try:
            deployment = client.read_deployment_by_name(name)
        except ObjectNotFound:
            return None
        return client.create_flow_run_from_deployment(
            deployment.id, parameters={**params, "plan": str(path.resolve())}, state=Pending()
        )


def replay_year(
    plan: Plan,
    until: dt.date | None = None,
    dry_run: bool = False,
    on_done: Callable[[Trigger, RoundResult], None] | None = None,
    teams: dict[str, Any] | None = None,
) -> list[RoundResult]:
    """Replays the plan year up to `until` in one process and one flow run, "Chạy lại năm 2021",
    each round one task run of it with its logs and artifacts (the inspection teams' rounds as
    `teams`, read from the sheet, make them). The schedule itself runs a flow run per round, each
    step a task run (`serve`, `run`); a replay made 49 flow runs and then 230 task runs, and
    Prefect's bookkeeping of them was most of its time (docs/performance.md). A round that fails
    is reported and the others carry on; no alert is mailed for it (the run and the summary say
    it)."""
    from prefect import flow, tags
    from prefect.context import TagsContext

    chosen = due_triggers(plan, until, teams)

    @flow(name="Chạy lại năm", flow_run_name=f"Chạy lại năm {plan.year} · {plan.label}")
    def replay() -> list[RoundResult]:
        results = []
        # the tags are the run's; on a task run each costs an API call (Prefect looks for a
        # concurrency limit of that name) and says nothing the run does not
        with rounds_in_one_run(), TagsContext(current_tags=set()):
            for t in chosen:
                result = _round_in_replay(plan, t, dry_run)
                if on_done:
                    on_done(t, result)
                results.append(result)
        return results

    with (
        on_temporary_server(),
        temporary_settings(updates={PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}),
        tags(plan.id, f"nam-{plan.year}", "chay-lai"),
    ):
        return replay()


def _round_in_replay(plan: Plan, t: Trigger, dry_run: bool) -> RoundResult:
    """One round of a replay: a task run that runs its flow's body. It is named by the round's
    slug and day ("dang-ky-before-7 · 09/02/2021": the run's graph cannot draw Vietnamese
    letters, docs/architecture.md), and its log begins with the title the round's own run would
    carry ("Nhắc trước hạn 7 ngày · Đăng ký thi đua · 09/02/2021"). A round that raises or ends
    in a Failed state fails that task run, with its traceback or its words in the log."""
    from prefect import task
    from prefect.cache_policies import NO_CACHE

    name = f"{ACTIONS[t.action].slug(t)} · {t.at.astimezone(plan.tz):%d/%m/%Y}"
    one_round = task(
        name="dot-chay-lai",
        description="Một đợt của năm chạy lại",
        task_run_name=lambda: name,
        cache_policy=NO_CACHE,
    )(_round_body)
    title = run_title(plan, t.target, t.stage, t.at)
    state = cast(State, one_round(quote(t), dry_run, title, return_state=True))
    if state.is_completed():
        return cast(RoundResult, state.result())
    return _not_done(t, t.at, state.message or str(state.type))


def _round_body(t: Trigger, dry_run: bool, title: str) -> RoundResult | State:
    from prefect import get_run_logger

    get_run_logger().info("%s", title)
    spec = ACTIONS[t.action]
    return cast(
        "RoundResult | State", spec.flow().fn(**{**spec.parameters(t), "at": t.at, "dry_run": dry_run})
    )


def _not_done(t: Trigger, at: dt.datetime, message: str) -> RoundResult:
    """A round that did not run through, as the summary reports it."""
    return RoundResult(Action(t.action), t.target, t.stage, at, error=cause(message))
