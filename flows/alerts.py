"""Failure alerts: a failed or crashed round e-mails the active coordinators (Prefect hooks)."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from prefect import Flow
from prefect.client.schemas.objects import FlowRun, State

from flows.common import EARLY, cause, for_people, settings_for
from flows.params import run_instant, target_and_stage
from tasks.compose import alert_mail
from tasks.delivery import send, send_unrecorded
from tasks.ledger import LedgerError
from tasks.plan import load_plan
from tasks.resources import Resources
from tasks.round import DIGEST

log = logging.getLogger("thidua.alerts")

STATE_WORDS = {"Failed": "không thành công", "Crashed": "bị dừng đột ngột", "TimedOut": "quá thời gian"}


def _sent_before(resources: Resources, plan_id: str, target: str, stage: str) -> int | None:
    """How many of the round's letters the ledger confirms (None if it cannot tell)."""
    try:
        return len([r for r in resources.ledger.confirmed(plan_id, target, stage) if r != DIGEST])
    except Exception:  # noqa: BLE001 - the ledger may be what failed
        return None


def alert_coordinators(flow: Flow[..., Any], flow_run: FlowRun, state: State) -> None:
    """on_failure / on_crashed hook. It must never raise: a failing hook would hide the failure."""
    if state.name == EARLY:
        return  # refused before doing anything: whoever started it reads why on the run's page
    try:
        params = flow_run.parameters or {}
        settings = settings_for(params.get("plan"))
        resources = Resources(settings)  # the alert's own: the round's may be what broke
        plan = load_plan(settings.plan)
        target, stage = target_and_stage(params)
        target = target or flow.name
        now = dt.datetime.now(plan.tz)  # the letter's Date, like every other letter: +0700
        at = run_instant(params, flow_run.expected_start_time or now, plan)
        link = f"{settings.ui_url.rstrip('/')}/runs/flow-run/{flow_run.id}" if settings.ui_url else None
        mail = alert_mail(
            plan,
            target,
            stage,
            str(flow_run.id),
            flow_run.name,
            STATE_WORDS.get(state.name or "", state.name or "không thành công"),
            for_people(cause(state.message or "")),
            link,
            at,
            now,
            _sent_before(resources, plan.id, target, stage),
        )
        try:
            outcome = send([mail], resources, now)
        except LedgerError:  # the ledger is what failed: the coordinators must hear of it anyway
            outcome = send_unrecorded([mail], resources, now)
        if outcome.failed:
            log.error("Không gửi được thư cảnh báo: %s", "; ".join(outcome.failed))
    except Exception:  # noqa: BLE001 - see docstring
        log.exception("Không gửi được thư cảnh báo lỗi cho đầu mối")
