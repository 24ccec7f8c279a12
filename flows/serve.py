"""Deployments of the plan: one per milestone (and one for the area's obligations), whose
schedules are the plan's triggers, served against a Prefect server."""

from __future__ import annotations

from prefect.schedules import RRule

from flows.milestone import milestone_round
from flows.obligation import obligation_round
from flows.report import area_report
from tasks.calendar import Trigger, triggers
from tasks.plan import Plan


def _schedule(plan: Plan, t: Trigger, parameter: str) -> RRule:
    # RDATE wall-clock times are read in `timezone`; one schedule per trigger so each run has its
    # own parameters and a slug a coordinator can read
    return RRule(
        f"RDATE:{t.at:%Y%m%dT%H%M%S}",
        timezone=plan.timezone,
        slug=f"{t.milestone}-{t.stage}",
        parameters={parameter: t.milestone, "stage": t.stage},
    )


def deployments(plan: Plan) -> list:
    """RunnerDeployments named `<milestone>-<year>` and `nghia-vu-khu-vuc-<year>`."""
    out = []
    all_triggers = triggers(plan)
    for m in plan.milestones:
        mine = [t for t in all_triggers if t.milestone == m.id and t.action != "obligation"]
        if not mine:
            continue
        out.append(
            milestone_round.to_deployment(
                name=f"{m.id}-{plan.year}",
                description=f"{m.name} {plan.year}: nhắc hạn và thông báo quá hạn theo Kế hoạch số "
                f"{plan.document_number}",
                schedules=[_schedule(plan, t, "milestone") for t in mine],
                tags=[f"nam-{plan.year}", m.id, plan.id],
                parameters={"milestone": m.id, "stage": mine[0].stage},
            )
        )
    area = [t for t in all_triggers if t.action == "obligation"]
    if area:
        out.append(
            obligation_round.to_deployment(
                name=f"nghia-vu-khu-vuc-{plan.year}",
                description=f"Nhắc Trưởng, Phó trưởng Khu vực các hạn báo cáo Vụ TĐKT năm {plan.year}",
                schedules=[_schedule(plan, t, "obligation") for t in area],
                tags=[f"nam-{plan.year}", "nghia-vu-khu-vuc", plan.id],
                parameters={"obligation": area[0].milestone, "stage": area[0].stage},
            )
        )
    reports = [t for t in all_triggers if t.action == "report"]
    if reports:
        out.append(
            area_report.to_deployment(
                name=f"bao-cao-{plan.year}",
                description=f"Lập dự thảo báo cáo sơ kết, tổng kết năm {plan.year}, gửi Trưởng, Phó trưởng",
                schedules=[
                    RRule(
                        f"RDATE:{t.at:%Y%m%dT%H%M%S}",
                        timezone=plan.timezone,
                        slug=f"bao-cao-{t.milestone}",
                        parameters={"kind": t.milestone},
                    )
                    for t in reports
                ],
                tags=[f"nam-{plan.year}", "bao-cao", plan.id],
                parameters={"kind": reports[0].milestone},
            )
        )
    return out


def serve_plan(plan: Plan) -> None:
    """Blocks, running scheduled rounds. pause_on_shutdown=False: a restart must not pause the
    deployments and delete their pending runs (Prefect's default), or missed rounds are lost."""
    from prefect import serve

    serve(*deployments(plan), pause_on_shutdown=False, print_starting_message=False)
