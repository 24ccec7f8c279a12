"""Failure alerts: a failed or crashed round e-mails the active coordinators (Prefect hooks)."""

from __future__ import annotations

import datetime as dt
import logging

from flows.common import RoundTooEarly, cause, settings_for
from tasks.compose import alert_mail
from tasks.delivery import send, send_unrecorded
from tasks.ledger import LedgerError
from tasks.plan import load_plan
from tasks.round import COMPILE

log = logging.getLogger("thidua.alerts")

STATE_WORDS = {"Failed": "không thành công", "Crashed": "bị dừng đột ngột", "TimedOut": "quá thời gian"}


def alert_coordinators(flow, flow_run, state) -> None:
    """on_failure / on_crashed hook. It must never raise: a failing hook would hide the failure."""
    if RoundTooEarly.__name__ in (state.message or ""):
        return  # refused before doing anything: whoever started it reads why on the run's page
    try:
        params = flow_run.parameters or {}
        settings = settings_for(params.get("plan"))
        plan = load_plan(settings.plan)
        target = params.get("milestone") or params.get("obligation") or params.get("kind") or flow.name
        stage = params.get("stage") or (COMPILE if params.get("kind") else "")
        now = dt.datetime.now(dt.UTC)
        at = dt.datetime.fromisoformat(params["at"]) if params.get("at") else now
        link = f"{settings.ui_url.rstrip('/')}/runs/flow-run/{flow_run.id}" if settings.ui_url else None
        mail = alert_mail(
            plan,
            target,
            stage,
            str(flow_run.id),
            flow_run.name,
            STATE_WORDS.get(state.name, state.name),
            cause(state.message or ""),
            link,
            at if at.tzinfo else at.replace(tzinfo=plan.tz),
            now,
        )
        try:
            outcome = send([mail], settings, now)
        except LedgerError:  # the ledger is what failed: the coordinators must hear of it anyway
            outcome = send_unrecorded([mail], settings, now)
        if outcome.failed:
            log.error("Không gửi được thư cảnh báo: %s", "; ".join(outcome.failed))
    except Exception:  # noqa: BLE001 - see docstring
        log.exception("Không gửi được thư cảnh báo lỗi cho đầu mối")
