"""The one table of the plan's actions: for each, the flow that carries it out, its parameters
and slug on a schedule, and the deployment it belongs to (the Vietnamese words that describe an
action are `tasks.schedule.describe`). serve, replay and run read it. Flows are imported only
when a run needs them, so `thidua calendar` does not pay for importing Prefect."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from tasks.plan import Plan
from tasks.round import Action
from tasks.schedule import Trigger

if TYPE_CHECKING:
    from prefect import Flow


@dataclass(frozen=True)
class Deployment:
    name: str
    description: str
    tag: str


@dataclass(frozen=True)
class ActionSpec:
    flow_path: str  # "module:function"
    parameters: Callable[[Trigger], dict[str, Any]]
    slug: Callable[[Trigger], str]
    deployment: Callable[[Plan, Trigger], Deployment]

    def flow(self) -> Flow[..., Any]:
        return load_flow(self.flow_path)


def load_flow(flow_path: str) -> Flow[..., Any]:
    """The flow named "module:function", imported now (not when the table is read)."""
    module, name = flow_path.split(":")
    return cast("Flow[..., Any]", getattr(importlib.import_module(module), name))


def deployment_name(label: str, plan: Plan) -> str:
    """What the deployments list shows first (about 15 characters at 1280 px): what it does,
    then the plan, so that two plans' deployments of one milestone still differ."""
    return f"{label} · {plan.id}"


def _milestone_deployment(plan: Plan, t: Trigger) -> Deployment:
    m = plan.milestone(t.target)
    return Deployment(
        deployment_name(m.name, plan),
        f"{m.name} {plan.year}: nhắc hạn, thông báo quá hạn ({plan.label})",
        m.id,
    )


def _milestone_parameters(t: Trigger) -> dict[str, Any]:
    return {"milestone": t.target, "stage": t.stage}


def _slug(t: Trigger) -> str:
    if t.stage == "daily":  # one look a day: the day tells them apart
        return f"{t.target}-ngay-{t.nominal_day:%d-%m}"
    return f"{t.target}-{t.stage}"


_ROUND = ActionSpec("flows.milestone:milestone_round", _milestone_parameters, _slug, _milestone_deployment)

ACTIONS: dict[str, ActionSpec] = {
    Action.REMINDER: _ROUND,
    Action.OVERDUE: _ROUND,
    Action.OBLIGATION: ActionSpec(
        "flows.obligation:obligation_round",
        lambda t: {"obligation": t.target, "stage": t.stage},
        _slug,
        lambda plan, t: Deployment(
            deployment_name(f"Hạn chung của {plan.identity.self_word}", plan),
            f"Nhắc {plan.identity.leaders} các hạn báo cáo {plan.identity.superior_brief} năm {plan.year}",
            "nghia-vu-khu-vuc",
        ),
    ),
    Action.TEAMS: ActionSpec(
        "flows.inspection:inspection_round",
        _milestone_parameters,
        _slug,
        lambda plan, t: Deployment(
            deployment_name(plan.milestone(t.target).name, plan),
            f"{plan.milestone(t.target).name} {plan.year}: báo đơn vị sắp được kiểm tra chuẩn bị; nhắc "
            f"đơn vị trưởng đoàn gửi báo cáo và biên bản kiểm tra ({plan.label})",
            t.target,
        ),
    ),
    Action.REPORT: ActionSpec(
        "flows.report:area_report",
        lambda t: {"kind": t.target, "stage": t.stage},
        lambda t: f"bao-cao-{t.target}" + ("" if t.stage == "compile" else f"-{t.stage}"),
        lambda plan, t: Deployment(
            deployment_name("Báo cáo sơ kết, tổng kết", plan),
            f"Lập dự thảo báo cáo sơ kết, tổng kết năm {plan.year}, gửi {plan.identity.leaders}",
            "bao-cao",
        ),
    ),
}
