"""Failure alerts: a failed or crashed round e-mails the active coordinators (Prefect hooks)."""

from __future__ import annotations

import datetime as dt
import logging

from tasks.compose import alert_mail
from tasks.delivery import send
from tasks.plan import load_plan
from tasks.settings import Settings

log = logging.getLogger("thidua.alerts")


def run_url(flow_run_id) -> str:
    from prefect.settings import PREFECT_UI_URL

    base = PREFECT_UI_URL.value()
    if not base:
        return "(không có giao diện Prefect: lần chạy cục bộ, xem nhật ký dòng lệnh)"
    return f"{base.rstrip('/')}/runs/flow-run/{flow_run_id}"


def alert_coordinators(flow, flow_run, state) -> None:
    """on_failure / on_crashed hook. It must never raise: a failing hook would hide the failure."""
    try:
        settings = Settings()
        plan = load_plan(settings.plan)
        params = flow_run.parameters or {}
        target = params.get("milestone") or params.get("obligation") or params.get("kind") or flow.name
        now = dt.datetime.now(dt.UTC)
        mail = alert_mail(
            plan,
            target,
            params.get("stage", ""),
            str(flow_run.id),
            flow_run.name,
            state.name,
            state.message or "",
            run_url(flow_run.id),
            now,
        )
        outcome = send([mail], settings, now)
        if outcome.failed:
            log.error("Không gửi được thư cảnh báo: %s", "; ".join(outcome.failed))
    except Exception:  # noqa: BLE001 - see docstring
        log.exception("Không gửi được thư cảnh báo lỗi cho đầu mối")
