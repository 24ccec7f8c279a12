"""The milestone flow: one reminder or overdue round of one milestone, at an instant."""

from __future__ import annotations

import datetime as dt

from prefect import flow, get_run_logger, task
from prefect.artifacts import (
    create_markdown_artifact,
    create_progress_artifact,
    create_table_artifact,
    update_progress_artifact,
)

from flows.alerts import alert_coordinators
from tasks.compose import DIGEST, digest_mail, owing, unit_mails
from tasks.contract import SourceUnavailable
from tasks.delivery import Outcome, deliver
from tasks.inputs import Inputs, assess, load_inputs, parse_instant, round_summary, table_for_humans
from tasks.ledger import Ledger
from tasks.round_artifacts import round_markdown, skipped_markdown, year_overview
from tasks.schedule import stale_reason
from tasks.settings import Settings
from tasks.transport import open_transport


class RoundFailed(RuntimeError):
    """Some mail of the round was not accepted; the ledger knows which, a rerun sends the rest."""


def _transient(task, task_run, state) -> bool:
    """Retry only a source that did not answer; a wrong key or a missing tab will not heal."""
    try:
        state.result()
    except SourceUnavailable:
        return True
    except Exception:  # noqa: BLE001 - any other failure is final
        return False
    return False


@task(
    name="đọc kế hoạch và bảng tính", retries=2, retry_delay_seconds=[60, 300], retry_condition_fn=_transient
)
def load(settings: Settings) -> Inputs:
    return load_inputs(settings)


@task(name="tính tình trạng hồ sơ")
def assess_task(inputs: Inputs, instant: dt.datetime):
    return assess(inputs, instant)


@task(name="gửi thư cho đơn vị")
def send_unit_mail(inputs, table, milestone, stage, instant, settings, dry_run) -> Outcome:
    mails = unit_mails(inputs.plan, table, milestone, stage, instant)
    ledger = None if dry_run else Ledger(settings.ledger)
    progress = None
    if mails and not dry_run:
        progress = create_progress_artifact(0.0, description=f"Đang gửi {len(mails)} thư {milestone} {stage}")

    def on_progress(done: int, total: int) -> None:
        if progress:
            update_progress_artifact(progress, 100.0 * done / total)

    return deliver(mails, settings, ledger, open_transport(settings), instant, dry_run, on_progress)


@task(name="gửi bản tổng hợp cho đầu mối")
def send_digest(inputs, table, milestone, stage, instant, settings, dry_run, units) -> Outcome:
    findings = [f.__dict__ for f in inputs.data.findings]
    mail = digest_mail(inputs.plan, table, milestone, stage, instant, units.as_dict(), findings)
    ledger = None if dry_run else Ledger(settings.ledger)
    return deliver([mail], settings, ledger, open_transport(settings), instant, dry_run)


@task(name="đăng kết quả lên Prefect")
def publish(inputs, table, milestone, stage, instant, units, digest, dry_run, skipped=None) -> None:
    plan = inputs.plan
    rows = table[table["milestone"] == milestone]
    create_table_artifact(
        key=f"{milestone}-{plan.year}-completeness",
        table=table_for_humans(rows),
        description=f"Tình trạng hồ sơ {plan.milestone(milestone).name} đến {instant:%d/%m/%Y %H:%M}",
    )
    if skipped:
        markdown = skipped_markdown(plan, milestone, stage, instant, skipped)
    else:
        markdown = round_markdown(inputs, rows, milestone, stage, instant, units, digest, dry_run)
    create_markdown_artifact(
        key=f"{milestone}-{plan.year}-round", markdown=markdown, description=f"Đợt {stage}"
    )
    create_markdown_artifact(
        key=f"{plan.id}-tong-quan",
        markdown=year_overview(plan, table, instant),
        description=f"Tổng quan năm {plan.year}",
    )


@flow(
    name="milestone-round",
    flow_run_name="{milestone}-{stage}",
    on_failure=[alert_coordinators],
    on_crashed=[alert_coordinators],
)
def milestone_round(milestone: str, stage: str, at: str | None = None, dry_run: bool = False) -> dict:
    """Send one round of a milestone: reminders (before-N) or overdue notices (overdue-N) to the
    units that still owe something, then the coordinators' digest; publish the table. A round
    that runs late (after a restart) does nothing once the next round is due; it says so."""
    logger = get_run_logger()
    settings = Settings()
    inputs = load(settings)
    plan = inputs.plan
    milestone = plan.milestone(milestone).id
    instant = parse_instant(at, plan)
    table = assess_task(inputs, instant)
    summary = round_summary(
        milestone,
        stage,
        instant,
        owing=int(len(owing(table, milestone, stage))),
        findings=len(inputs.data.findings),
    )
    reason = stale_reason(plan, milestone, stage, instant)
    if reason:
        logger.warning("Bỏ qua đợt %s %s: %s", milestone, stage, reason)
        publish(inputs, table, milestone, stage, instant, None, None, dry_run, skipped=reason)
        return {**summary, "stale": reason}
    units = send_unit_mail(inputs, table, milestone, stage, instant, settings, dry_run)
    digest = send_digest(inputs, table, milestone, stage, instant, settings, dry_run, units)
    publish(inputs, table, milestone, stage, instant, units, digest, dry_run)
    for failure in units.failed + digest.failed:
        logger.error("Gửi không thành công: %s", failure)
    summary.update(
        sent=units.sent,
        skipped=units.skipped,
        failed=units.failed + digest.failed,
        digest_sent=DIGEST in digest.sent,
        previews=len(units.previews) + len(digest.previews),
    )
    logger.info(
        "%s %s: %d đơn vị còn thiếu, gửi %d thư, bỏ qua %d (đã gửi trước), lỗi %d",
        milestone,
        stage,
        summary["owing"],
        len(units.sent),
        len(units.skipped),
        len(summary["failed"]),
    )
    if summary["failed"]:
        raise RoundFailed(
            f"{len(summary['failed'])} thư gửi không thành công (xem nhật ký và artifact "
            f"{milestone}-{plan.year}-round); chạy lại đợt này sẽ chỉ gửi những thư còn thiếu."
        )
    return summary
