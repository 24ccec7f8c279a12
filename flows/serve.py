"""Deployments of the plans: one per milestone (and one for the area's obligations, one for the
reports), whose schedules are the plan's triggers; served by this process (`thidua serve`), or
registered on a work pool whose workers run them on other machines (`thidua deploy`)."""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from prefect.deployments.runner import RunnerDeployment
from prefect.schedules import RRule

from flows.actions import ACTIONS, ActionSpec, Deployment, load_flow
from flows.params import target_and_stage
from tasks.dates import vn_weekday_datetime
from tasks.plan import Plan
from tasks.round import Action
from tasks.schedule import ACTION_TAGS, Trigger, describe, run_title, triggers
from tasks.settings import REPO

log = logging.getLogger("prefect.thidua.serve")  # shown by Prefect's console handler


@dataclass
class DeploymentSpec:
    flow_path: str
    name: str
    description: str
    schedules: list[Any]  # prefect Schedule objects (RRule RDATEs)
    tags: list[str]
    parameters: dict[str, Any]
    # the values the Run dialog offers for a parameter: those the deployment's schedules use
    choices: dict[str, list[str]] = field(default_factory=dict)


def deployment_specs(plan: Plan, path: Path) -> list[DeploymentSpec]:
    """One deployment per group of the action table (`<plan id>-<milestone>`,
    `<plan id>-nghia-vu-khu-vuc`, `<plan id>-bao-cao`: several plans can run at once), with an
    RRule RDATE schedule per trigger so each run has its own parameters (the plan file among
    them) and a slug a coordinator can read. RDATE wall-clock times are in the plan's zone."""
    plan_file = {"plan": str(path.resolve())}
    groups: dict[Deployment, list[Trigger]] = {}
    order = [
        Action.REMINDER,
        Action.OVERDUE,
        Action.TEAMS,
        Action.OBLIGATION,
        Action.REPORT,
    ]  # milestones first
    for t in sorted(triggers(plan), key=lambda t: order.index(Action(t.action))):
        groups.setdefault(ACTIONS[t.action].deployment(plan, t), []).append(t)
    out = []
    for group, scheduled in groups.items():
        spec = ACTIONS[scheduled[0].action]
        schedules = [
            RRule(
                f"RDATE:{t.at:%Y%m%dT%H%M%S}",
                timezone=plan.timezone,
                slug=ACTIONS[t.action].slug(t),
                parameters=ACTIONS[t.action].parameters(t) | plan_file,
            )
            for t in scheduled
        ]
        dates = "\n".join(f"- {vn_weekday_datetime(t.at)}: {describe(plan, t)}" for t in sorted(scheduled))
        out.append(
            DeploymentSpec(
                spec.flow_path,
                group.name,
                f"{group.description}\n\nLịch chạy:\n{dates}",
                schedules,
                sorted({f"nam-{plan.year}", group.tag, plan.id, *(ACTION_TAGS[t.action] for t in scheduled)}),
                spec.parameters(scheduled[0]) | plan_file,
                _choices(spec, scheduled),
            )
        )
    return out


def _choices(spec: ActionSpec, scheduled: list[Trigger]) -> dict[str, list[str]]:
    """Milestone (or obligation) and stage as a choice of what this deployment schedules, so the
    Run dialog offers "before-3" rather than a blank line. A team's stages by hand depend on the
    sheet: left free."""
    if scheduled[0].action == Action.TEAMS:
        return {}
    values: dict[str, list[str]] = {}
    for t in sorted(scheduled):
        for key, value in spec.parameters(t).items():
            if value not in values.setdefault(key, []):
                values[key].append(value)
    return values


def deployments(plan: Plan, path: Path) -> list[Any]:
    """The plan's deployments for `serve` (this process runs them)."""
    out = []
    for d in deployment_specs(plan, path):
        deployment: RunnerDeployment = load_flow(d.flow_path).to_deployment(  # type: ignore[assignment]  # sync here
            name=d.name,
            description=d.description,
            schedules=d.schedules,
            tags=d.tags,
            parameters=d.parameters,
        )
        form = deployment._parameter_openapi_schema.properties  # Prefect's own hook for frozen values
        for key, values in d.choices.items():
            form[key]["enum"] = values
        out.append(deployment)
    return out


RUNNER_POLL_SECONDS = 2


def serve_plans(plans: list[tuple[Plan, Path]]) -> None:
    """Blocks, running the scheduled rounds of every plan. pause_on_shutdown=False: a restart must
    not pause the deployments and delete their pending runs (Prefect's default), or missed rounds
    are lost. Beside it, the runs the scheduler creates are named as a person reads them."""
    from prefect import serve
    from prefect.settings import PREFECT_RUNNER_POLL_FREQUENCY, temporary_settings

    every = [d for plan, path in plans for d in deployments(plan, path)]
    threading.Thread(target=_keep_naming, args=(plans,), name="dat-ten-lan-chay", daemon=True).start()
    # the runner looks for runs to start every 10 s by default: a coordinator's Run button in the
    # UI waited up to that long before anything happened. One small query every 2 s instead.
    with temporary_settings(updates={PREFECT_RUNNER_POLL_FREQUENCY: RUNNER_POLL_SECONDS}):
        serve(*every, pause_on_shutdown=False, print_starting_message=False)


def _keep_naming(plans: list[tuple[Plan, Path]], every: float = 30.0) -> None:
    while True:
        time.sleep(every)  # the deployments are registered first; the scheduler loops each minute
        try:
            name_scheduled_runs(plans)
        except Exception:  # noqa: BLE001 - names are a courtesy: never stop serving for them
            log.warning("Không đặt được tên cho các lần chạy theo lịch", exc_info=True)


def name_scheduled_runs(plans: list[tuple[Plan, Path]]) -> int:
    """Prefect's scheduler creates each run with a random name ("likable-tanuki") and the run gets
    its own name (`flows.params.run_name`) only when it starts; the upcoming runs a coordinator
    reads are renamed now to what they will do and when ("Nhắc trước hạn 3 ngày · Đăng ký thi đua
    · 17/02/2027"). Returns how many were renamed."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import (
        DeploymentFilter,
        DeploymentFilterName,
        FlowRunFilter,
        FlowRunFilterDeploymentId,
        FlowRunFilterState,
        FlowRunFilterStateType,
    )
    from prefect.client.schemas.objects import StateType

    by_file = {str(path.resolve()): plan for plan, path in plans}
    names = [d.name for plan, path in plans for d in deployment_specs(plan, path)]
    renamed = 0
    with get_client(sync_client=True) as client:
        ids = [
            d.id
            for d in client.read_deployments(
                deployment_filter=DeploymentFilter(name=DeploymentFilterName(any_=names))
            )
        ]
        if not ids:
            return 0
        scheduled = FlowRunFilter(
            deployment_id=FlowRunFilterDeploymentId(any_=ids),
            state=FlowRunFilterState(type=FlowRunFilterStateType(any_=[StateType.SCHEDULED])),
        )
        offset = 0
        while runs := client.read_flow_runs(flow_run_filter=scheduled, limit=PAGE, offset=offset):
            offset += len(runs)
            for run in runs:
                params = run.parameters or {}
                plan = by_file.get(str(params.get("plan")))
                target, stage = target_and_stage(params)
                if plan is None or not target or run.expected_start_time is None:
                    continue
                title = run_title(plan, target, stage, run.expected_start_time)
                tags = sorted({*run.tags, stage})  # the stage too, as the run will tag itself
                if run.name != title or sorted(run.tags) != tags:
                    client.update_flow_run(run.id, name=title, tags=tags)
                    renamed += 1
    return renamed


PAGE = 200  # the most runs the API returns at once


def deploy_plans(plans: list[tuple[Plan, Path]], pool: str, source: Path = REPO) -> list[str]:
    """Registers every plan's deployments on the process work pool `pool` (created if missing):
    a worker (`prefect worker start --pool …`) on any machine with this checkout at `source`
    runs them. Returns the deployment names."""
    from prefect import flow
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import WorkPoolCreate
    from prefect.exceptions import ObjectAlreadyExists

    with get_client(sync_client=True) as client, contextlib.suppress(ObjectAlreadyExists):
        client.create_work_pool(WorkPoolCreate(name=pool, type="process"))
    names = []
    for plan, path in plans:
        for d in deployment_specs(plan, path):
            module, function = d.flow_path.split(":")
            entrypoint = f"{module.replace('.', '/')}.py:{function}"
            remote = flow.from_source(source=str(source), entrypoint=entrypoint)
            remote.deploy(  # type: ignore[union-attr]  # sync from a sync caller
                name=d.name,
                work_pool_name=pool,
                description=d.description,
                schedules=d.schedules,
                tags=d.tags,
                parameters=d.parameters,
                build=False,
                push=False,
                print_next_steps=False,
            )
            names.append(d.name)
    return names
