"""Deployments of the plans: one per milestone (and one for the area's obligations, one for the
reports), whose schedules are the plan's triggers; served by this process (`thidua serve`), or
registered on a work pool whose workers run them on other machines (`thidua deploy`)."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from pathlib import Path

from prefect.schedules import RRule

from flows.actions import ACTIONS, Deployment, load_flow
from tasks.dates import vn_weekday_datetime
from tasks.plan import Plan
from tasks.round import Action
from tasks.schedule import Trigger, describe, triggers
from tasks.settings import REPO


@dataclass
class DeploymentSpec:
    flow_path: str
    name: str
    description: str
    schedules: list  # prefect Schedule objects (RRule RDATEs)
    tags: list[str]
    parameters: dict


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
                [f"nam-{plan.year}", group.tag, plan.id],
                spec.parameters(scheduled[0]) | plan_file,
            )
        )
    return out


def deployments(plan: Plan, path: Path) -> list:
    """The plan's deployments for `serve` (this process runs them)."""
    return [
        load_flow(d.flow_path).to_deployment(
            name=d.name,
            description=d.description,
            schedules=d.schedules,
            tags=d.tags,
            parameters=d.parameters,
        )
        for d in deployment_specs(plan, path)
    ]


def serve_plans(plans: list[tuple[Plan, Path]]) -> None:
    """Blocks, running the scheduled rounds of every plan. pause_on_shutdown=False: a restart must
    not pause the deployments and delete their pending runs (Prefect's default), or missed rounds
    are lost."""
    from prefect import serve

    every = [d for plan, path in plans for d in deployments(plan, path)]
    serve(*every, pause_on_shutdown=False, print_starting_message=False)


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
