"""The obligation flow: reminds the coordinators of what the area itself owes the Ministry."""

from __future__ import annotations

from prefect import flow, get_run_logger
from prefect.artifacts import create_markdown_artifact

from flows.alerts import alert_coordinators
from flows.milestone import RoundFailed, assess_task, load
from tasks.compose import obligation_mail
from tasks.delivery import deliver
from tasks.inputs import parse_instant, round_summary
from tasks.ledger import Ledger
from tasks.schedule import stale_reason
from tasks.settings import Settings
from tasks.transport import open_transport


@flow(
    name="area-obligation",
    flow_run_name="{obligation}-{stage}",
    on_failure=[alert_coordinators],
    on_crashed=[alert_coordinators],
)
def obligation_round(obligation: str, stage: str, at: str | None = None, dry_run: bool = False) -> dict:
    """E-mail the active Head and Deputy contacts before the area's own deadline towards Vụ TĐKT,
    with the units' state of the milestone that the area's report compiles."""
    logger = get_run_logger()
    settings = Settings()
    inputs = load(settings)
    plan = inputs.plan
    instant = parse_instant(at, plan)
    summary = round_summary(obligation, stage, instant)
    reason = stale_reason(plan, obligation, stage, instant)
    if reason:
        logger.warning("Bỏ qua nhắc hạn %s %s: %s", obligation, stage, reason)
        return {**summary, "stale": reason}
    mail = obligation_mail(plan, obligation, stage, instant, assess_task(inputs, instant))
    ledger = None if dry_run else Ledger(settings.ledger)
    outcome = deliver([mail], settings, ledger, open_transport(settings), instant, dry_run)
    create_markdown_artifact(
        key=f"{obligation}-{plan.year}",
        markdown=f"# {mail.subject}\n\n```\n{mail.text}\n```\n",
        description=f"Nhắc hạn của Khu vực, đợt {stage}",
    )
    summary.update(
        sent=outcome.sent, skipped=outcome.skipped, failed=outcome.failed, previews=len(outcome.previews)
    )
    if outcome.failed:
        raise RoundFailed("; ".join(outcome.failed))
    return summary
