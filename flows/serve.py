"""Deployments of the plan: one per milestone (and one for the area's obligations, one for the
reports), whose schedules are the plan's triggers, served against a Prefect server."""

from __future__ import annotations

from pathlib import Path

from prefect.schedules import RRule

from flows.actions import ACTIONS, Deployment
from tasks.dates import vn_weekday_datetime
from tasks.plan import Plan
from tasks.round import Action
from tasks.schedule import Trigger, describe, triggers


def deployments(plan: Plan, path: Path) -> list:
    """One deployment per group of the action table (`<plan id>-<milestone>`,
    `<plan id>-nghia-vu-khu-vuc`, `<plan id>-bao-cao`: several plans can be served at once), with
    an RRule RDATE schedule per trigger so each run has its own parameters (the plan file among
    them) and a slug a coordinator can read. RDATE wall-clock times are in the plan's zone."""
    plan_file = {"plan": str(path.resolve())}
    groups: dict[Deployment, list[Trigger]] = {}
    order = [Action.REMINDER, Action.OVERDUE, Action.OBLIGATION, Action.REPORT]  # milestones first
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
            spec.flow().to_deployment(
                name=group.name,
                description=f"{group.description}\n\nLịch chạy:\n{dates}",
                schedules=schedules,
                tags=[f"nam-{plan.year}", group.tag, plan.id],
                parameters=spec.parameters(scheduled[0]) | plan_file,
            )
        )
    return out


def serve_plans(plans: list[tuple[Plan, Path]]) -> None:
    """Blocks, running the scheduled rounds of every plan. pause_on_shutdown=False: a restart must
    not pause the deployments and delete their pending runs (Prefect's default), or missed rounds
    are lost."""
    from prefect import serve

    every = [d for plan, path in plans for d in deployments(plan, path)]
    serve(*every, pause_on_shutdown=False, print_starting_message=False)
