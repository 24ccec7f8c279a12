"""The milestone flow: one reminder or overdue round of one milestone, at an instant."""

import dataclasses
import time

import pandas as pd
from prefect import flow, get_run_logger
from prefect.artifacts import (
    create_markdown_artifact,
    create_progress_artifact,
    create_table_artifact,
    update_progress_artifact,
)
from prefect.client.schemas.objects import State

from flows.alerts import alert_coordinators
from flows.common import (
    assess_task,
    early_banner,
    finish,
    in_words,
    open_round,
    publish_status_task,
    recover_task,
    refused_early,
    round_task,
)
from flows.params import At, DryRun, Early, MilestoneId, PlanFile, Stage, run_name
from tasks.completeness import table_for_humans
from tasks.compose import PROBLEMS, digest_mail, problem_notices, round_words, unit_mails
from tasks.delivery import send
from tasks.inputs import Inputs
from tasks.ledger import Ledger
from tasks.mime import Mail
from tasks.outcomes import Outcome
from tasks.resources import Resources
from tasks.round import DIGEST, Round, RoundResult, owing
from tasks.round_artifacts import round_markdown, skipped_markdown, year_overview
from tasks.schedule import stage_words, stale_reason
from tasks.text import as_sentence

PROGRESS_STEP = 5.0  # percent between two updates of a round's progress bar in the UI
PROGRESS_FROM = 20  # letters in a round from which its progress is worth a bar
PROGRESS_EVERY = 1.0  # seconds at least between two updates


def round_letters(rnd: Round, table: pd.DataFrame, links: dict[str, str]) -> list[Mail]:
    """The round's letters to units: a reminder (or overdue notice) to each that owes something,
    and a notice to each that owes nothing but sent something wrong (once per what it says)."""
    return unit_mails(rnd, table, links) + problem_notices(rnd, table)


@round_task(name="gui-thu-don-vi", description="Gửi thư nhắc hoặc thông báo quá hạn cho đơn vị")
def send_unit_mail(rnd: Round, mails: list[Mail], resources: Resources) -> Outcome:
    progress = None
    if len(mails) >= PROGRESS_FROM and not rnd.dry_run:  # a bar for three letters only costs API calls
        progress = create_progress_artifact(
            0.0, description=f"Đang gửi {len(mails)} thư {rnd.target} {rnd.stage}"
        )

    shown, last = [0.0], [time.monotonic()]

    def on_progress(done: int, total: int) -> None:
        # every 5 % and a second at most, not every message: one API call per message was a third
        # of a 5,000-unit round; a round written to files in a blink gets only its last update
        percent = 100.0 * done / total
        moved = percent - shown[0] >= PROGRESS_STEP and time.monotonic() - last[0] >= PROGRESS_EVERY
        if progress and (moved or done == total):
            update_progress_artifact(progress, percent)  # type: ignore[arg-type]  # the id Prefect returned
            shown[0], last[0] = percent, time.monotonic()

    return send(
        mails, resources, rnd.instant, dry_run=rnd.dry_run, on_progress=on_progress, note=rnd.ledger_note
    )


@round_task(name="gui-tong-hop-dau-moi", description="Gửi bản tổng hợp cho đầu mối")
def send_digest(
    rnd: Round, table: pd.DataFrame, resources: Resources, units: Outcome, inputs: Inputs, noticed: list[str]
) -> Outcome:
    """After the round's mail: it lists only confirmed deliveries. While other live runs still
    send some of this round's mail (two workers on the same trigger), it waits for them, so the
    digest comes once, after all the sending, from whichever run claims it first; mail a run that
    died was holding is reported as not confirmed (the next run sends it)."""
    pending: list[str] = []
    ledger = None
    if rnd.dry_run:
        confirmed = {p.key.recipient for p in units.previews}
    else:
        ledger = resources.ledger
        if units.in_progress and not wait_for_other_runs(ledger, rnd, resources.settings.round_deadline):
            get_run_logger().warning("Không gửi bản tổng hợp: lần chạy khác vẫn đang gửi thư của đợt này")
            return Outcome()
        confirmed = set(ledger.confirmed(rnd.plan.id, rnd.target, rnd.stage)) - {DIGEST}
        pending = [c for c in units.in_progress if c not in confirmed]
    reminded = [c for c in rnd.rows(table)["unit"] if c in confirmed]
    earlier = [c for c in reminded if c in units.already_sent]
    unconfirmed = [
        f"{c}: lần chạy khác bị dừng trước khi xác nhận đã gửi; lần chạy sau sẽ gửi lại" for c in pending
    ]
    shown = dataclasses.replace(units, failed=units.failed + unconfirmed)
    findings = [f.__dict__ for f in inputs.data.findings]
    delivered = set(units.sent) | {p.key.recipient for p in units.previews}
    told = [c for c in noticed if c in delivered]
    mail = digest_mail(rnd, table, reminded, earlier, shown, findings, inputs.intake, told)
    return send([mail], resources, rnd.instant, dry_run=rnd.dry_run, note=rnd.ledger_note)


def wait_for_other_runs(ledger: Ledger, rnd: Round, limit: float) -> bool:
    """Wait until no other live run holds a claim of this round (they confirmed, or died and
    their lease lapsed); False if they still hold some after `limit` seconds."""
    deadline = time.monotonic() + limit
    while [r for r in ledger.held(rnd.plan.id, rnd.target, rnd.stage) if r != DIGEST]:
        if time.monotonic() > deadline:
            return False
        time.sleep(0.5)
    return True


@round_task(name="dang-ket-qua", description="Đăng bảng tình trạng và tóm tắt đợt lên Prefect")
def publish(rnd: Round, inputs: Inputs, table: pd.DataFrame, result: RoundResult) -> None:
    plan = rnd.plan
    create_table_artifact(
        key=f"{plan.id}-{rnd.target}-completeness",
        table=table_for_humans(rnd.rows(table)),
        description=f"Tình trạng hồ sơ {rnd.milestone.name} đến {rnd.local:%d/%m/%Y %H:%M}",
    )
    markdown = (
        skipped_markdown(rnd, result.stale) if result.stale else round_markdown(inputs, table, rnd, result)
    )
    create_markdown_artifact(
        key=f"{plan.id}-{rnd.target}-round",
        markdown=early_banner(rnd) + markdown,
        description=f"Đợt {stage_words(rnd.stage)}",
    )
    create_markdown_artifact(
        key=f"{plan.id}-tong-quan",
        markdown=year_overview(plan, table, rnd.instant),
        description=f"Tổng quan năm {plan.year}",
    )


@flow(
    name="Nhắc hạn đơn vị",
    flow_run_name=run_name,
    on_failure=[alert_coordinators],
    on_crashed=[alert_coordinators],
)
@in_words
def milestone_round(
    milestone: MilestoneId,
    stage: Stage,
    at: At = None,
    dry_run: DryRun = False,
    plan: PlanFile = None,
    early: Early = False,
) -> RoundResult | State:
    """Send one round of a milestone: reminders (before-N) or overdue notices (overdue-N) to the
    units that still owe something, then the coordinators' digest; publish the table. A round
    that runs late (after a restart) does nothing once the next round is due; it says so. One
    started before its time is refused unless `early`."""
    logger = get_run_logger()
    resources, inputs, rnd = open_round(plan, milestone, stage, at, dry_run, early)
    if refusal := refused_early(rnd):
        return refusal
    table = assess_task(inputs, rnd.instant)
    published = publish_status_task(resources.settings, rnd.plan, table, rnd.instant, rnd.dry_run)
    owed = owing(table, rnd)
    result = RoundResult.of(rnd, owing=len(owed))
    result.stale = stale_reason(rnd.plan, rnd.target, rnd.stage, rnd.instant)
    if result.stale:
        logger.warning("Bỏ qua đợt %s %s: %s", rnd.target, rnd.stage, result.stale)
        publish(rnd, inputs, table, result)
        return result
    letters = round_letters(rnd, table, published.links)
    mine = {m.key for m in letters} | {rnd.key(DIGEST)}
    result.recovery = recover_task(rnd, table, resources, mine)
    result.units = send_unit_mail(rnd, letters, resources)
    noticed = [m.key.recipient for m in letters if m.kind == PROBLEMS]
    result.digest = send_digest(rnd, table, resources, result.units, inputs, noticed)
    publish(rnd, inputs, table, result)
    for failure in result.failed:
        logger.error("Gửi không thành công: %s", failure)
    logger.info(
        "%s: %d đơn vị còn thiếu; đã gửi %d thư, %d thư gửi ở lần chạy trước, %d thư đang do lần chạy "
        "khác gửi, %d thư lỗi",
        as_sentence(round_words(rnd.plan, rnd.target, rnd.stage)),
        result.owing,
        len(result.units.sent),
        len(result.units.already_sent),
        len(result.units.in_progress),
        len(result.failed),
    )
    return finish(result, f"nhật ký và artifact {rnd.plan.id}-{rnd.target}-round")
