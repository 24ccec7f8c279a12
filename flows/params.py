"""The flows' parameters as the Prefect UI's Run dialog shows them, and the runs' names.

Prefect builds the Run form from each flow's signature: a parameter's type decides its widget (a
date-time picker for a datetime, a switch for a bool, a choice for a Literal) and its label is
the parameter's name unless the field's JSON schema says otherwise. `json_schema_extra` carries
the Vietnamese title and description a coordinator reads (Prefect's own `title` is always the
name, and a docstring's description would be the developers' English)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import Field, WithJsonSchema

from tasks.round import COMPILE, in_plan_zone

if TYPE_CHECKING:
    from tasks.plan import Plan


def ui(title: str, description: str) -> Any:
    return Field(json_schema_extra={"title": title, "description": description})


PlanFile = Annotated[
    str | None,
    ui("Tệp kế hoạch", "Đường dẫn tệp kế hoạch trên máy chạy. Để trống: THIDUA_PLAN."),
]
At = Annotated[
    dt.datetime | None,
    # one date-time picker, empty by default (an optional type would add a "None" type switch)
    WithJsonSchema({"type": "string", "format": "date-time"}),
    ui(
        "Thời điểm",
        "Để trống: như lịch, tức là bây giờ. Một đợt chưa đến giờ theo lịch sẽ bị từ chối, không gửi "
        "gì, trừ khi bật Gửi sớm.",
    ),
]
DryRun = Annotated[bool, ui("Chạy thử", "Soạn thư và bảng tình trạng, không gửi, không ghi sổ gửi thư.")]
Early = Annotated[
    bool,
    ui(
        "Gửi sớm",
        "Gửi đợt này trước giờ theo lịch. Sổ gửi thư ghi rõ là gửi sớm; đến giờ theo lịch đợt này sẽ "
        "không gửi lại.",
    ),
]
Stage = Annotated[
    str,
    ui(
        "Đợt",
        "before-N: nhắc trước hạn N ngày; overdue-N: thông báo quá hạn N ngày (N theo kế hoạch, ví dụ "
        "before-7, before-3, before-1, overdue-1, overdue-3).",
    ),
]
MilestoneId = Annotated[str, ui("Mốc", "Mã mốc trong kế hoạch, ví dụ dang-ky, so-ket, tong-ket.")]
ObligationId = Annotated[
    str,
    ui(
        "Việc chung",
        "Mã việc của Khu vực, Cụm (area_obligations trong kế hoạch), ví dụ bao-cao-so-ket-khu-vuc.",
    ),
]
TeamsStage = Annotated[
    str,
    ui(
        "Đợt",
        "daily: xem trang tính Kiểm tra, gửi các thư của đoàn có đợt trong ngày; hoặc <mã đoàn>.before-N, "
        "<mã đoàn>.overdue-N, <mã đoàn>.notice (báo đơn vị được kiểm tra chuẩn bị).",
    ),
]
ReportKind = Annotated[
    Literal["midyear", "yearend"], ui("Loại báo cáo", "midyear: sơ kết 6 tháng; yearend: tổng kết năm.")
]
ReportStage = Annotated[
    Literal["compile", "final"],
    ui("Lần lập", "compile: dự thảo theo lịch; final: báo cáo tổng kết sau Hội nghị (sau khi bỏ phiếu)."),
]
SendMail = Annotated[bool, ui("Gửi thư", "Gửi dự thảo cho Trưởng, Phó trưởng (đầu mối trong kế hoạch).")]
OutDir = Annotated[str | None, ui("Thư mục ghi", "Để trống: var/reports/<mã kế hoạch>.")]


def run_instant(params: Mapping[str, Any], scheduled: dt.datetime | None, plan: Plan) -> dt.datetime:
    """The instant a run acts for, from its parameters as the server stores them (JSON: an ISO
    string), else the time it was scheduled for, else now; naive is the plan's zone."""
    at = params.get("at") or scheduled
    return in_plan_zone(dt.datetime.fromisoformat(at) if isinstance(at, str) else at, plan)


def target_and_stage(params: Mapping[str, Any]) -> tuple[str | None, str]:
    """What a round flow's run is about, from its parameters whichever flow it is: the milestone,
    the area's obligation or the report kind, and the stage (a report's compilation unless said)."""
    target = params.get("milestone") or params.get("obligation") or params.get("kind")
    return target, params.get("stage") or (COMPILE if params.get("kind") else "")


def run_name() -> str:
    """The flow run's name, from its own parameters: what it does, about what, which day
    ("Nhắc trước hạn 3 ngày · Đăng ký thi đua · 17/02/2027"). A scheduled run has no `at`: its
    day is the one it was scheduled for. Never raises: a run must start even if its plan is broken
    (it then fails with the plan's own message)."""
    from prefect.runtime import flow_run

    params = flow_run.parameters or {}
    target, stage = target_and_stage(params)
    target = target or flow_run.flow_name
    try:
        from tasks.plan import load_plan
        from tasks.schedule import run_title
        from tasks.settings import Settings

        plan = load_plan(params.get("plan") or Settings().plan)
        at = run_instant(params, flow_run.scheduled_start_time, plan)
        return run_title(plan, str(target), str(stage), at)
    except Exception:  # noqa: BLE001 - a name is not worth a run
        return f"{target} · {stage}"
