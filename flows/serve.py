"""Deployments of the plan: one per milestone (and one for the area's obligations), whose
schedules are the plan's triggers, served against a Prefect server."""

from __future__ import annotations

from collections.abc import Callable

from prefect.schedules import RRule

from flows.milestone import milestone_round
from flows.obligation import obligation_round
from flows.report import area_report
from tasks.plan import Plan
from tasks.schedule import Trigger, triggers


def _deployment(
    flow,
    plan: Plan,
    name: str,
    description: str,
    tag: str,
    scheduled: list[Trigger],
    parameters: Callable[[Trigger], dict],
    slug: Callable[[Trigger], str],
):
    """One deployment whose schedules are `scheduled`: an RRule RDATE per trigger, so each run has
    its own parameters and a slug a coordinator can read. RDATE wall-clock times are read in the
    plan's time zone."""
    schedules = [
        RRule(f"RDATE:{t.at:%Y%m%dT%H%M%S}", timezone=plan.timezone, slug=slug(t), parameters=parameters(t))
        for t in scheduled
    ]
    return flow.to_deployment(
        name=name,
        description=description,
        schedules=schedules,
        tags=[f"nam-{plan.year}", tag, plan.id],
        parameters=parameters(scheduled[0]),
    )


def deployments(plan: Plan) -> list:
    """`<milestone>-<year>` per milestone units owe, `nghia-vu-khu-vuc-<year>` for the area's own
    deadlines, `bao-cao-<year>` for the compiled reports."""
    out = []
    all_triggers = triggers(plan)
    for m in plan.milestones:
        mine = [t for t in all_triggers if t.milestone == m.id and t.action in ("reminder", "overdue")]
        if mine:
            out.append(
                _deployment(
                    milestone_round,
                    plan,
                    f"{m.id}-{plan.year}",
                    f"{m.name} {plan.year}: nhắc hạn, thông báo quá hạn ({plan.document_number})",
                    m.id,
                    mine,
                    lambda t: {"milestone": t.milestone, "stage": t.stage},
                    lambda t: f"{t.milestone}-{t.stage}",
                )
            )
    area = [t for t in all_triggers if t.action == "obligation"]
    if area:
        out.append(
            _deployment(
                obligation_round,
                plan,
                f"nghia-vu-khu-vuc-{plan.year}",
                f"Nhắc Trưởng, Phó trưởng Khu vực các hạn báo cáo Vụ TĐKT năm {plan.year}",
                "nghia-vu-khu-vuc",
                area,
                lambda t: {"obligation": t.milestone, "stage": t.stage},
                lambda t: f"{t.milestone}-{t.stage}",
            )
        )
    reports = [t for t in all_triggers if t.action == "report"]
    if reports:
        out.append(
            _deployment(
                area_report,
                plan,
                f"bao-cao-{plan.year}",
                f"Lập dự thảo báo cáo sơ kết, tổng kết năm {plan.year}, gửi Trưởng, Phó trưởng",
                "bao-cao",
                reports,
                lambda t: {"kind": t.milestone},
                lambda t: f"bao-cao-{t.milestone}",
            )
        )
    return out


def serve_plan(plan: Plan) -> None:
    """Blocks, running scheduled rounds. pause_on_shutdown=False: a restart must not pause the
    deployments and delete their pending runs (Prefect's default), or missed rounds are lost."""
    from prefect import serve

    serve(*deployments(plan), pause_on_shutdown=False, print_starting_message=False)
