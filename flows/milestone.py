"""The milestone flow: one reminder or overdue round of one milestone, at an instant."""

from __future__ import annotations

import datetime as dt

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact

from tasks.compose import DIGEST, digest_mail, owing, unit_mails
from tasks.delivery import Outcome, deliver
from tasks.ledger import Ledger
from tasks.report_md import round_markdown
from tasks.rounds import Inputs, assess, load_inputs, parse_instant, table_for_humans
from tasks.settings import Settings
from tasks.transport import open_transport


@task(name="đọc kế hoạch và bảng tính", retries=2, retry_delay_seconds=[10, 60])
def load(settings: Settings) -> Inputs:
    return load_inputs(settings)


@task(name="tính tình trạng hồ sơ")
def assess_task(inputs: Inputs, instant: dt.datetime, milestone: str):
    return assess(inputs, instant, [milestone])


@task(name="gửi thư cho đơn vị")
def send_unit_mail(inputs, table, milestone, stage, instant, settings, dry_run) -> Outcome:
    mails = unit_mails(inputs.plan, table, milestone, stage, instant)
    ledger = None if dry_run else Ledger(settings.ledger)
    return deliver(mails, settings, ledger, open_transport(settings), instant, dry_run)


@task(name="gửi bản tổng hợp cho đầu mối")
def send_digest(inputs, table, milestone, stage, instant, settings, dry_run, units) -> Outcome:
    findings = [f.__dict__ for f in inputs.data.findings]
    mail = digest_mail(inputs.plan, table, milestone, stage, instant, units.as_dict(), findings)
    ledger = None if dry_run else Ledger(settings.ledger)
    return deliver([mail], settings, ledger, open_transport(settings), instant, dry_run)


@task(name="đăng kết quả lên Prefect")
def publish(inputs, table, milestone, stage, instant, units, digest, dry_run) -> str:
    year = inputs.plan.year
    create_table_artifact(
        key=f"{milestone}-{year}-completeness",
        table=table_for_humans(table),
        description=f"Tình trạng hồ sơ {inputs.plan.milestone(milestone).name} đến {instant:%d/%m/%Y %H:%M}",
    )
    markdown = round_markdown(inputs, table, milestone, stage, instant, units, digest, dry_run)
    create_markdown_artifact(key=f"{milestone}-{year}-round", markdown=markdown, description=f"Đợt {stage}")
    return markdown


@flow(name="milestone-round", log_prints=True)
def milestone_round(milestone: str, stage: str, at: str | None = None, dry_run: bool = False) -> dict:
    """Send one round of a milestone: reminders (before-N) or overdue notices (overdue-N) to the
    units that still owe something, then the coordinators' digest; publish the table."""
    logger = get_run_logger()
    settings = Settings()
    inputs = load(settings)
    plan = inputs.plan
    milestone = plan.milestone(milestone).id
    instant = parse_instant(at, plan)
    table = assess_task(inputs, instant, milestone)
    units = send_unit_mail(inputs, table, milestone, stage, instant, settings, dry_run)
    digest = send_digest(inputs, table, milestone, stage, instant, settings, dry_run, units)
    publish(inputs, table, milestone, stage, instant, units, digest, dry_run)
    for failure in units.failed + digest.failed:
        logger.error("Gửi không thành công: %s", failure)
    summary = {
        "milestone": milestone,
        "stage": stage,
        "at": instant.isoformat(),
        "owing": int(len(owing(table, milestone, stage))),
        "sent": units.sent,
        "skipped": units.skipped,
        "failed": units.failed + digest.failed,
        "digest_sent": DIGEST in digest.sent,
        "previews": len(units.previews) + len(digest.previews),
        "findings": len(inputs.data.findings),
    }
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


class RoundFailed(RuntimeError):
    """Some mail of the round was not accepted; the ledger knows which, a rerun sends the rest."""
