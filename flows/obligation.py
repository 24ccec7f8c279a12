"""The obligation flow: reminds the coordinators of what the area itself owes the Ministry."""

from prefect import flow, get_run_logger
from prefect.artifacts import create_markdown_artifact
from prefect.client.schemas.objects import State

from flows.alerts import alert_coordinators
from flows.common import assess_task, early_banner, finish, in_words, open_round, recover_task, refused_early
from flows.params import At, DryRun, Early, ObligationId, PlanFile, Stage, run_name
from tasks.compose import obligation_mail
from tasks.delivery import send
from tasks.markdown import md
from tasks.round import Round, RoundResult
from tasks.schedule import stage_words, stale_reason, triggers_on_day
from tasks.teams import DAILY, teams_by_milestone


@flow(
    name="Nhắc hạn chung",
    flow_run_name=run_name,
    on_failure=[alert_coordinators],
    on_crashed=[alert_coordinators],
)
@in_words
def obligation_round(
    obligation: ObligationId,
    stage: Stage,
    at: At = None,
    dry_run: DryRun = False,
    plan: PlanFile = None,
    early: Early = False,
) -> RoundResult | State:
    """E-mail the active Head and Deputy contacts before the area's own deadline towards Vụ TĐKT,
    with the units' state of the milestone that the area's report compiles."""
    logger = get_run_logger()
    resources, inputs, rnd = open_round(plan, obligation, stage, at, dry_run, early)
    if refusal := refused_early(rnd):
        return refusal
    result = RoundResult.of(rnd, stale=stale_reason(rnd.plan, rnd.target, rnd.stage, rnd.instant))
    if result.stale:
        logger.warning("Bỏ qua nhắc hạn %s %s: %s", rnd.target, rnd.stage, result.stale)
        return result
    teams = teams_by_milestone(rnd.plan, inputs.data.inspections)
    if rnd.stage == DAILY:  # the served daily look: the rounds of this day, now that teams are known
        due = [t.stage for t in triggers_on_day(rnd.plan, rnd.instant, teams) if t.target == rnd.target]
        if not due:
            return result
        rnd = Round.of(rnd.plan, rnd.target, due[-1], rnd.instant, rnd.dry_run, rnd.early)
        result = RoundResult.of(rnd, stale=stale_reason(rnd.plan, rnd.target, rnd.stage, rnd.instant))
        if result.stale:
            return result
    table = assess_task(inputs, rnd.instant)
    mail = obligation_mail(rnd, table, teams)
    result.recovery = recover_task(rnd, table, resources, {mail.key})
    result.units = send([mail], resources, rnd.instant, dry_run=rnd.dry_run, note=rnd.ledger_note)
    create_markdown_artifact(
        key=f"{rnd.plan.id}-{rnd.target}",
        markdown=early_banner(rnd)
        + f"# {md(mail.subject)}\n\n"
        + "\n".join(md(line) + "  " for line in mail.text.splitlines())
        + "\n",
        description=f"Nhắc hạn của {rnd.plan.identity.self_word}, đợt {stage_words(rnd.stage)}",
    )
    return finish(result, "nhật ký của lần chạy")
